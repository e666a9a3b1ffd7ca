"""Shards written one by one into their target (a URL, or a folder with ``clean --resume``), and resuming.

:class:`DirectTarget` writes each shard under a hidden temporary name in the target and moves it into place once
it is closed, and the manifest last: a reader that sees ``manifest.json`` sees every shard it lists, and a partial
shard is never visible under its own name. It is how shards go to object storage (no folder can be renamed
there), and how ``clean --resume`` writes a local folder too.

Resume (``clean -o DIR/ --resume``): each time a shard is complete, ``DIR/.progress.json`` is rewritten (under a
temporary name, then moved) with the shards complete so far (their manifest entries), where the run must start
again to write the next one (the index of the input batch holding its first record, how many of that batch's
records are in complete shards already, the count of lines before that batch in its file) and the run's counts
before that batch. The corpus passes' results (the teasers index, the credits' recurrence) are saved once in
``DIR/.progress.states.pickle`` and loaded instead of being computed again. A run started again with the same
inputs, options and output skips the batches before that point (they are cut, not processed) and drops the records
already written, so its shards, counts and manifest are byte for byte those of a run that never stopped. Both files
are removed once the manifest is written. The inputs (names and sizes), the configuration, the shard options and
the format are fingerprinted: a progress file of another run is refused, never reused.

With ``--engine dask``, a resumable run's shards are written by the client, as locally (the workers write their
own shards otherwise), from batches of the local engine's size, so either engine can resume the other's run.

Dedup's in-order verdicts depend on every record kept before: each progress file comes with a journal segment
(``DIR/.progress.journal.N``) of the records kept since the last one, up to where the run starts again
(:meth:`corpus_tools.step.OrderedPass.journal`), and the resumed run replays the segments before it goes on.

Not resumable (refused with a one-line error): an ordered pass without a journal (a plugin's), ``--rejects`` /
``--dropped`` (they would hold the resumed part only), and stdin.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import itertools
import os
import pickle
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO

import orjson

from corpus_tools.errors import ConfigError, OutputError
from corpus_tools.io import MANIFEST_NAME
from corpus_tools.storage import filesystem, is_url, reason, safe, temporary_name

PROGRESS = ".progress.json"
STATES = ".progress.states.pickle"
PROGRESS_FORMAT = "corpus-tools.progress/1"
#: A test hook: the process kills itself (SIGKILL, no clean-up) once this many shards are complete.
STOP_AFTER_SHARDS = "CORPUS_TOOLS_TEST_STOP_AFTER_SHARDS"


#: The ordered passes' journal (dedup's kept records), one segment per progress file written: ``.progress.journal.3``.
JOURNAL = ".progress.journal."


def _progress_file(name: str) -> bool:
    return name in (PROGRESS, STATES) or (name.startswith(JOURNAL) and name[len(JOURNAL) :].isdigit())


def _ours(name: str) -> bool:
    """A name a sharded output (complete or in progress) may hold."""
    return (
        name == MANIFEST_NAME
        or _progress_file(name)
        or (name.startswith("part-") and name.endswith((".jsonl.zst", ".parquet")))
        or (
            name.startswith((".part-", f".{MANIFEST_NAME}.", f"{PROGRESS}.", f"{STATES}.", JOURNAL))
            and name.endswith(".tmp")
        )
    )


class DirectTarget:
    """A folder or URL prefix written file by file (see the module's doc)."""

    def __init__(self, target: str) -> None:
        if is_url(target):
            self.fs, root = filesystem(target)
            self.shown = safe(target)
        else:
            import fsspec

            self.fs = fsspec.filesystem("file")
            root = os.path.realpath(target.rstrip("/" + os.sep) or target)
            self.shown = target
        self.root = root.rstrip("/")
        self._tmp: str | None = None

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _fail(self, what: str, exc: BaseException) -> OutputError:
        return OutputError(f"{what}: {reason(exc)}", self.shown)

    def names(self) -> list[str]:
        try:
            if not self.fs.isdir(self.root):
                if self.fs.exists(self.root):
                    raise OutputError("not a directory", self.shown)
                return []
            return [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.root, detail=False)]
        except OutputError:
            raise
        except Exception as exc:
            raise self._fail("cannot list the output", exc) from None

    def prepare(self, *, keep_progress: bool = False) -> None:
        """Check the target holds nothing but a sharded output (or none), take away a previous manifest (the
        previous output is being replaced: no reader may trust it now) and any temporary files an interrupted run
        left, and create the folder."""
        names = self.names()
        foreign = [n for n in names if not _ours(n)]
        if foreign:
            raise OutputError(
                "output directory is not empty and is not a previous corpus-tools output; "
                "choose a new or empty directory",
                self.shown,
            )
        for name in names:
            if name == MANIFEST_NAME or name.endswith(".tmp") or (not keep_progress and _progress_file(name)):
                self.remove(name)
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except Exception as exc:
            raise self._fail("cannot create the output", exc) from None

    def open_shard(self, name: str) -> BinaryIO:
        self._tmp = temporary_name(self._path(name))
        try:
            return self.fs.open(self._tmp, "wb")  # type: ignore[no-any-return]
        except Exception as exc:
            raise self._fail("cannot write", exc) from None

    def commit_shard(self, name: str) -> None:
        assert self._tmp is not None
        try:
            self.fs.mv(self._tmp, self._path(name))
        except Exception as exc:
            raise self._fail(f"cannot move {name} into place", exc) from None
        self._tmp = None

    def write(self, name: str, data: bytes) -> None:
        """A whole small file, under a temporary name first."""
        tmp = temporary_name(self._path(name))
        try:
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, self._path(name))
        except Exception as exc:
            with contextlib.suppress(Exception):
                self.fs.rm(tmp)
            raise self._fail(f"cannot write {name}", exc) from None

    def read(self, name: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._path(name))  # type: ignore[no-any-return]
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail(f"cannot read {name}", exc) from None

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            try:
                self.fs.rm(self._path(name))
            except FileNotFoundError:
                raise
            except Exception as exc:
                raise self._fail(f"cannot remove {name}", exc) from None

    def finish(self, manifest: bytes, shards: Sequence[str]) -> None:
        """Remove the shards of a previous, longer output, then write the manifest: last."""
        keep = set(shards)
        for name in self.names():
            if name.startswith("part-") and name not in keep:
                self.remove(name)
        self.write(MANIFEST_NAME, manifest)

    def abort(self) -> None:
        if self._tmp is not None:
            with contextlib.suppress(Exception):
                self.fs.rm(self._tmp)
            self._tmp = None


# ------------------------------------------------------------------------------------------------ counts


def stats_data(stats: Any) -> dict[str, Any]:
    """A run's counts (:class:`corpus_tools.engine.RunCounts`) as JSON data; counters keep their order."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(stats):
        value = getattr(stats, f.name)
        if isinstance(value, Counter):
            data[f.name] = [[k, n] for k, n in value.items()]
        elif isinstance(value, frozenset):
            data[f.name] = sorted(value)
        else:
            data[f.name] = copy.copy(value)
    return data


def stats_from(data: dict[str, Any]) -> Any:
    from corpus_tools.engine import RunCounts

    stats = RunCounts()
    for f in dataclasses.fields(stats):
        if f.name not in data:
            continue
        current = getattr(stats, f.name)
        value = data[f.name]
        if isinstance(current, Counter):
            value = Counter({k: n for k, n in value})
        elif isinstance(current, frozenset):
            value = frozenset(value)
        setattr(stats, f.name, value)
    return stats


def added(base: Any, run: Any) -> Any:
    """The counts of a run that started from ``base`` (a resumed one): ``base`` then ``run``'s, in that order."""
    total = stats_from(stats_data(base))
    for f in dataclasses.fields(total):
        mine, theirs = getattr(total, f.name), getattr(run, f.name)
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, list):
            limit = max(len(mine), len(theirs), 10)
            setattr(total, f.name, (mine + theirs)[:limit])
        elif f.name == "seconds":
            setattr(total, f.name, theirs)
        elif isinstance(mine, frozenset):
            setattr(total, f.name, mine | theirs)
        else:
            setattr(total, f.name, mine + theirs)
    return total


# ------------------------------------------------------------------------------------------------ checkpoints


def fingerprint(paths: Sequence[str], material: dict[str, Any]) -> str:
    """What a progress file must match to be resumed: the input files (names, sizes) and ``material`` (config,
    shard options)."""
    from corpus_tools.io import STDIN, input_files

    files = []
    for path, _ in input_files(paths):
        if path == STDIN:
            raise ConfigError("--resume needs files or directories as inputs (stdin cannot be read again)")
        if is_url(path):
            from corpus_tools.storage import size

            files.append([path, size(path)])
        else:
            try:
                files.append([path, os.path.getsize(path)])
            except OSError:
                files.append([path, None])
    return hashlib.sha256(orjson.dumps({"files": files, **material}, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Checkpoint:
    """``clean --resume``'s progress: loaded from the output when a stopped run left one, saved as shards close."""

    def __init__(self, output: str, key: str) -> None:
        self.target = DirectTarget(output)
        self.key = key
        self.progress: dict[str, Any] | None = None
        data = self.target.read(PROGRESS) if PROGRESS in self.target.names() else None
        if data is not None:
            try:
                progress = orjson.loads(data)
            except orjson.JSONDecodeError:
                raise OutputError(
                    f"{PROGRESS} is not valid JSON: remove it to start afresh", self.target.shown
                ) from None
            if progress.get("format") != PROGRESS_FORMAT or progress.get("key") != key:
                raise ConfigError(
                    f"{self.target.shown}: its {PROGRESS} is from a run with other inputs or options; "
                    "resume with the same ones, or use a new output folder"
                )
            self.progress = progress
        self.target.prepare(keep_progress=self.progress is not None)
        at = (self.progress or {}).get("resume_at") or {"batch": 0, "skip": 0, "lines_before": 0, "stats": None}
        self.start = int(at["batch"])
        self.skip = int(at["skip"])
        self.lines_before = int(at["lines_before"])
        from corpus_tools.engine import RunCounts

        self.base = stats_from(at["stats"]) if at["stats"] else RunCounts()
        # Where the batch being processed started: what a shard closing inside it records.
        self._before = {"batch": self.start, "lines_before": self.lines_before, "stats": stats_data(self.base)}
        # Records written before the batch being processed: those of the complete shards, less the ones of the
        # first batch to run again that are in them already.
        self._written_before = sum(s["records"] for s in (self.progress or {}).get("shards", [])) - self.skip
        self._lines_after = self.lines_before
        self._index = self.start
        self._stop_after = int(os.environ.get(STOP_AFTER_SHARDS) or 0)
        self.verdicts: Any = None
        self._journal_saved = list((self.progress or {}).get("journal", {}).get("entries", []))
        self._segments = int((self.progress or {}).get("journal", {}).get("segments", 0))

    @property
    def resuming(self) -> bool:
        return self.progress is not None

    def restored(self) -> tuple[list[dict[str, Any]], int]:
        """The shards complete already and how many records of the first batch processed to drop."""
        return [dict(s) for s in (self.progress or {}).get("shards", [])], self.skip

    # -- corpus passes' results

    def states(self) -> dict[str, Any] | None:
        """The corpus passes' results a stopped run saved (checked against the digest in the progress file)."""
        if self.progress is None:
            return None
        data = self.target.read(STATES)
        if data is None or hashlib.sha256(data).hexdigest() != self.progress.get("states_sha256"):
            raise OutputError(f"{STATES} is missing or changed: remove {PROGRESS} to start afresh", self.target.shown)
        return pickle.loads(data)

    def save_states(self, states: dict[str, Any]) -> None:
        data = pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL)
        self._states_sha256 = hashlib.sha256(data).hexdigest()
        self.target.write(STATES, data)

    # -- the ordered passes' journal

    def attach(self, verdicts: Any) -> None:
        """Carry the ordered passes' state (dedup's kept records) over: ``verdicts`` (decided on the client, in input
        order) gets the journal a stopped run saved, replayed, and its journal is saved with each progress file."""
        self.verdicts = verdicts
        if not self._segments:
            return
        entries: list[list[Any]] = [[] for _ in verdicts.steps]
        for n in range(self._segments):
            data = self.target.read(f"{JOURNAL}{n}")
            if data is None:
                raise OutputError(f"{JOURNAL}{n} is missing: remove {PROGRESS} to start afresh", self.target.shown)
            for k, part in enumerate(pickle.loads(data)):
                entries[k].extend(part)
        saved = self._journal_saved
        for step, state, part, count in zip(verdicts.steps, verdicts.states, entries, saved, strict=True):
            if len(part) != count:
                message = f"the journal does not match {PROGRESS}: remove it to start afresh"
                raise OutputError(message, self.target.shown)
            step.corpus_pass.replay(state, part)

    def _journal_positions(self) -> list[int]:
        if self.verdicts is None:
            return []
        steps, states = self.verdicts.steps, self.verdicts.states
        return [step.corpus_pass.journal_length(state) for step, state in zip(steps, states, strict=True)]

    def _save_journal(self, upto: list[int]) -> None:
        """Write the journal's entries since the last segment, up to ``upto`` (where the resume batch starts)."""
        if self.verdicts is None or upto == self._journal_saved:
            return
        parts = [
            step.corpus_pass.journal(state, start, end)
            for step, state, start, end in zip(
                self.verdicts.steps, self.verdicts.states, self._journal_saved or [0] * len(upto), upto, strict=True
            )
        ]
        self.target.write(f"{JOURNAL}{self._segments}", pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL))
        self._segments += 1
        self._journal_saved = list(upto)

    # -- the run

    def engine(self, engine: Any) -> Any:
        return _ResumingEngine(engine, self)

    def result_seen(self, result: Any) -> None:
        """Mirror of run_pipeline's count of lines before a range batch (see corpus_tools.engine)."""
        lines = getattr(result, "lines", None)
        if lines is not None:
            self._lines_after = lines if result.starts_file else self._lines_after + lines

    def batch_done(self, stats: Any, sink_records: int) -> None:
        """Called after each batch's output went to the shards: the next batch starts here."""
        self._index += 1
        self._before = {
            "batch": self._index,
            "lines_before": self._lines_after,
            "stats": stats_data(added(self.base, stats)),
        }
        self._journal_at = self._journal_positions()  # the ordered passes' state where the next batch starts
        self._written_before = sink_records

    def shard_done(self, writer: Any) -> None:
        """A shard is in place: record it, and where the next one starts (with the journal up to there)."""
        self._save_journal(getattr(self, "_journal_at", None) or self._journal_saved)
        progress = {
            "format": PROGRESS_FORMAT,
            "key": self.key,
            "states_sha256": getattr(self, "_states_sha256", None) or (self.progress or {}).get("states_sha256"),
            "shards": writer.shards,
            "resume_at": {**self._before, "skip": writer.records - self._written_before},
            "journal": {"segments": self._segments, "entries": self._journal_saved},
        }
        self.target.write(PROGRESS, orjson.dumps(progress, option=orjson.OPT_INDENT_2) + b"\n")
        if self._stop_after and len(writer.shards) >= self._stop_after:
            os.kill(os.getpid(), signal.SIGKILL)  # the test hook: stop as a killed run stops, no clean-up

    def finished(self) -> None:
        self.target.remove(PROGRESS)
        self.target.remove(STATES)
        for n in range(self._segments):
            self.target.remove(f"{JOURNAL}{n}")


class _ResumingEngine:
    """An engine that skips the batches before the checkpoint (cut, not processed), counts the lines before the
    first one it runs into that batch's results, and tells the checkpoint of every result."""

    def __init__(self, inner: Any, checkpoint: Checkpoint) -> None:
        from corpus_tools.engine import BATCH_BYTES

        self.inner = inner
        self.checkpoint = checkpoint
        # The same batches whatever the engine: a batch's index must mean the same input in the resumed run.
        self.batch_bytes = BATCH_BYTES

    @property
    def reads_files(self) -> bool:
        # Always byte ranges, whatever --jobs: a batch's index must mean the same input in the resumed run.
        return True

    def __getattr__(self, name: str) -> Any:
        if name in ("map_and_decide", "writes_shards"):  # batches are cut here, and shards written by the client
            raise AttributeError(name)
        return getattr(self.inner, name)  # what else the engine does: reading whole files on a cluster, say

    def map(self, fn: Callable[[Any, Any], Any], shared: Any, items: Iterable[Any]) -> Iterator[Any]:
        from corpus_tools.engine import _renumber

        checkpoint = self.checkpoint
        first = True
        for result in self.inner.map(fn, shared, itertools.islice(items, checkpoint.start, None)):
            if first and result.lines is not None and not result.starts_file and checkpoint.lines_before:
                _renumber(result, checkpoint.lines_before)
                result.lines += checkpoint.lines_before
                result.starts_file = True
            first = False
            checkpoint.result_seen(result)
            yield result

    def close(self) -> None:
        self.inner.close()
