"""TOML config files map onto the same frozen options dataclasses the CLI flags map onto: one source of truth.

A config file has one table per step, named as the step (``[normalize]``, ``[teasers]``, ``[check]`` ...); each
key is a field of that step's options dataclass. One project file may hold the tables of every command
(:func:`tables`): each command reads the tables it uses and ignores the other commands'. An unknown table, an
unknown key in a table a command reads, and a value of the wrong type are errors that name the file and the key,
so a typo never silently falls back to a default; values out of an option's range are the options dataclass's
own ``__post_init__`` errors, reported with the file and table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import types
import typing
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import orjson

from corpus_tools.errors import ConfigError
from corpus_tools.step import check_ranges

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

T = TypeVar("T")

#: The tables of the commands that are not steps, and the options dataclass each maps onto.
REPORT_TABLES: dict[str, str] = {
    "check": "corpus_tools.check.CheckOptions",
    "stats": "corpus_tools.stats.StatsOptions",
}


def tables() -> dict[str, type]:
    """Every table a config file may hold, with its options dataclass: one per registered step (its name), then
    ``check`` and ``stats``. The commands that take ``--config`` read their own tables and ignore the others, so
    one project file serves them all."""
    import importlib

    from corpus_tools.registry import steps

    found: dict[str, type] = {step.name: step.Options for step in steps()}
    for name, dotted in REPORT_TABLES.items():
        module, _, attribute = dotted.rpartition(".")
        found[name] = getattr(importlib.import_module(module), attribute)
    return found


#: Integers a config file may give: JSON writers (the manifest, ``--json`` reports) and the C code under the
#: steps take 64-bit integers, and TOML itself promises no more.
INT_RANGE = range(-(2**63), 2**63)


def load_config(path: str, known: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """The tables of the TOML file at ``path``; raises :class:`ConfigError` if it cannot be read, is not TOML,
    or holds a value at the top level or a table not in ``known`` (a typo: the error lists the known ones)."""
    try:
        with open(path, "rb") as fp:
            raw = fp.read()
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL byte
        raise ConfigError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # TOML is UTF-8 by definition; say where the first bad byte is
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: not valid TOML: byte 0x{raw[exc.start]:02x} on line {line} is not UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: '{name}' must be a table ([{name}]), not a value")
    check_tables(data, (), where=path, others=known if known is not None else _table_names())
    return data


def _table_names() -> tuple[str, ...]:
    from corpus_tools.registry import step_names

    return (*step_names(), *REPORT_TABLES)


def check_tables(
    config: Mapping[str, Any], used: Collection[str], *, where: str, others: Collection[str] | None = None
) -> None:
    """Raise :class:`ConfigError` for a table that is neither one a command ``used`` nor one of the ``others``
    the file may hold for other commands (by default every command's: :func:`tables`); usually a typo."""
    known = set(used) | set(others if others is not None else _table_names())
    for name in config:
        if name not in known:
            raise ConfigError(f"{where}: unknown table [{name}] (known: {', '.join(sorted(known))})")


def options_from(
    cls: type[T],
    table: Mapping[str, Any] | None,
    *,
    where: str,
    base: T | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> T:
    """An instance of the options dataclass ``cls`` from ``base`` (default: its defaults) with ``table`` applied,
    then ``overrides`` (field values already typed, e.g. the flags given on the command line).

    Values are checked against the fields' annotations; TOML arrays become tuples for tuple fields. The options
    are validated once, with the table and the overrides together: ``min_words = 120`` in the file and
    ``--max-words 130`` on the command line make valid options, though the file alone would not.
    """
    instance = base if base is not None else cls()
    if not table and not overrides:
        return instance
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    changes: dict[str, Any] = {}
    for key, value in (table or {}).items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown option '{key}' (known: {', '.join(sorted(fields))})")
        changes[key] = _coerce(value, hints[key], f"{where}: option '{key}'")
    try:
        options = dataclasses.replace(instance, **{**changes, **(overrides or {})})  # type: ignore[type-var]
        check_ranges(options, cls.__name__)  # the ranges its fields declare (step.option), for options without checks
        return options
    except ConfigError as exc:  # an options class's own validation: say which file and table it came from
        if overrides and _valid(instance, changes):
            raise  # the table alone is fine: the overrides (flags) are wrong, and the message is theirs
        message = str(exc)
        owner, colon, problems = message.partition(": ")  # "credits: max_bio_lines must be ..."
        if colon and f"[{owner}]" in where:  # where already names the table: no "[credits]: credits: ..."
            message = problems
        raise ConfigError(f"{where}: {message}") from None


def _valid(instance: Any, changes: dict[str, Any]) -> bool:
    try:
        dataclasses.replace(instance, **changes)
    except ConfigError:
        return False
    return True


def _toml(value: Any) -> str:
    """A value as a TOML file spells it (`true`, not Python's `True`), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return repr(value)


def _coerce(value: Any, hint: Any, what: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _coerce(value, arg, what)
            except ConfigError:
                continue
        raise ConfigError(f"{what} must be {_describe(hint)}, got {_toml(value)}")
    if origin is typing.Literal:
        # by type too: True == 1, so Literal[1] must not take `true`
        if any(value == arg and type(value) is type(arg) for arg in args):
            return value
        # a choice in any case, as its command-line flag takes it (`--form nfkc`): the canonical spelling
        same = [arg for arg in args if isinstance(arg, str) and isinstance(value, str) and arg.lower() == value.lower()]
        if len(same) == 1:
            return same[0]
        raise ConfigError(f"{what} must be one of {', '.join(map(repr, args))}, got {_toml(value)}")
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{what} must be an array, got {_toml(value)}")
        item = args[0] if args else Any
        return tuple(_coerce(v, item, what) for v in value)
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
        raise ConfigError(f"{what} must be empty, got {_toml(value)}")
    if hint is int and isinstance(value, bool):  # isinstance(True, int): TOML's true is not a number
        raise ConfigError(f"{what} must be an integer, got {_toml(value)}")
    if hint in (int, float) and isinstance(value, int) and not isinstance(value, bool) and value not in INT_RANGE:
        raise ConfigError(f"{what} must be a 64-bit integer, got {_toml(value)}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type) and issubclass(hint, str) and hint is not str and isinstance(value, str):
        try:  # str-valued enums, in any case as on the command line
            return hint(value)
        except ValueError:
            same = [member for member in hint if str(member.value).lower() == value.lower()]  # type: ignore[attr-defined]
            if len(same) == 1:
                return same[0]
            raise ConfigError(f"{what} must be one of {', '.join(map(str, hint))}, got {_toml(value)}") from None
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"{what} must be {_describe(hint)}, got {_toml(value)}")


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def options_dict(options: Any) -> dict[str, Any]:
    """A dataclass of options as plain JSON-able data (tuples as lists, enums as values)."""
    return orjson.loads(orjson.dumps(dataclasses.asdict(options), default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"not JSON serializable: {value!r}")


def config_hash(config: Mapping[str, Any]) -> str:
    """A short stable digest of a resolved configuration (sorted keys), to record which config made a corpus."""
    canonical = orjson.dumps(config, option=orjson.OPT_SORT_KEYS, default=_jsonable)
    return hashlib.sha256(canonical).hexdigest()[:16]
