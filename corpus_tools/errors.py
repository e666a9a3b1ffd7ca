"""The few exceptions the library raises; the CLI turns each into a one-line message and an exit code."""

from __future__ import annotations


class CorpusError(Exception):
    """Base class: anything the CLI reports as ``error: ...`` without a traceback."""

    exit_code = 1


class InputError(CorpusError):
    """Unusable input (missing file, invalid JSON, a record without text, ...): exit code 2.

    ``path`` and ``line`` say where; ``line`` is ``None`` for whole-file problems.
    """

    exit_code = 2

    def __init__(self, reason: str, path: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or ""
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.reason}" if where else self.reason


class OutputError(CorpusError):
    """An output that cannot be written (a directory, a missing folder, no permission, a full disk): exit code 2.

    One line, ``PATH: reason``, like :class:`InputError`; ``path`` is the output path as the user gave it.
    """

    exit_code = 2

    def __init__(self, reason: str, path: str | None = None) -> None:
        self.reason = reason
        self.path = path
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class RecordError(ValueError):
    """One record cannot be processed; the reason is a short, stable string (also the rejects' reason)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ConfigError(CorpusError):
    """Bad options or config file: exit code 2."""

    exit_code = 2


def below_bounds(options: object, bounds: tuple[tuple[str, int], ...]) -> list[str]:
    """One message per integer field of ``options`` outside its range: at least its lower bound in ``bounds``, and
    below 2**63 (manifests and reports are JSON written with 64-bit integers). For an options class's validation."""
    problems = []
    for name, low in bounds:
        value = getattr(options, name)
        if value < low:
            problems.append(f"{name} must be >= {low} (got {value!r})")
        elif value >= 2**63:
            problems.append(f"{name} must be a 64-bit integer (got {value!r})")
    return problems
