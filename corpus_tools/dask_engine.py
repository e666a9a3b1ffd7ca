"""Running ``clean`` on a Dask cluster (an optional extra: ``pip install 'corpus-tools[dask]'``).

The same batches and the same :func:`corpus_tools.engine.process_batch` as the local engine, submitted to Dask
workers through ``distributed``'s executor with a bounded window, so the output is the same records in the same
order, and memory on the client stays flat. The client reads the inputs and ships batches of raw bytes, so the
workers need no access to the input files (only the same corpus-tools version installed).

With no scheduler address, a ``LocalCluster`` of process workers on loopback is started for the run.

stderr carries corpus-tools' own lines: ``distributed``'s log lines below CRITICAL (the local cluster's workers, and
this process's client) are not shown while the engine runs. Without that, a run stopped by a signal prints a WARNING per
cancelled task (``... ended with CancelledError``), which says nothing the exit code does not.
"""

from __future__ import annotations

import collections
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from corpus_tools.engine import (
    Batch,
    BatchResult,
    apply_verdicts,
    default_jobs,
    group_entries,
    group_links,
    ordered,
)
from corpus_tools.errors import ConfigError
from corpus_tools.pipeline import Dropped, Verdicts
from corpus_tools.step import EARLIER_RUN, Ordinal, keep_first

INSTALL_HINT = "--engine dask needs Dask: pip install 'corpus-tools[dask]'"


def _distributed() -> Any:
    """Import ``distributed`` only when asked for, with an install hint when it is missing."""
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None


class DaskEngine:
    """Runs batches on a Dask cluster: ``scheduler`` is an address (``tcp://host:8786``) or ``None`` for a local one.

    ``jobs`` sizes the local cluster (default: the machine's cores) and, for a remote one, nothing: the window of
    batches in flight follows the cluster's threads.
    """

    def __init__(self, scheduler: str | None = None, *, jobs: int | None = None, window_per_worker: int = 3) -> None:
        distributed = _distributed()
        self._cluster = None
        self._log_levels = _quiet_logs()
        try:
            if scheduler is None:
                self._cluster = distributed.LocalCluster(
                    n_workers=min(jobs or default_jobs(), default_jobs()),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # only the HTTP health routes, on a free port
                    scheduler_kwargs={"dashboard": False},
                    silence_logs=QUIET_LEVEL,  # the scheduler's and the workers' (their own processes) log lines
                )
                self.client = distributed.Client(self._cluster)
            else:
                self.client = _connect(distributed, scheduler)
        except BaseException:
            if self._cluster is not None:
                self._cluster.close()
            _restore_logs(self._log_levels)
            raise
        threads = sum(self.client.nthreads().values()) or 1
        self.window = threads * window_per_worker

    #: The workers read the inputs themselves (byte ranges of plain files, whole compressed files, documents by
    #: path): they must see them at the same paths (one machine, a shared file system) or as URLs.
    reads_files = True
    reads_whole_files = True
    #: and write the shards of a sharded output (``clean -o DIR/``), each its own (see ``shards.WorkerShards``)
    writes_shards = True
    #: Input bytes per task (and per shard the workers write, unless ``--shard-bytes`` says): a task costs the
    #: client a few milliseconds of CPU, so a cluster's tasks are much larger than the local engine's.
    batch_bytes = 32 << 20

    def map_reduce(
        self, fn: Callable[[Any, Batch], Any], shared: Any, items: Iterable[Batch], combine: Callable[[Any, Any], Any]
    ) -> Any:
        """``combine`` of ``fn`` over the batches, in input order (``combine(left, right)``), merged on the workers
        as the parts come: a part waits only for its neighbour of the same size, so O(log n) parts are held at
        once, and one merged value comes back (``None`` for no batch)."""
        client = self.client
        shared_future = _shared(client, shared)
        fn = _with_storage(fn)
        levels: list[tuple[int, Any]] = []  # (how many batches it merges, as a power of two; its future), in order
        in_flight: collections.deque[Any] = collections.deque()
        for item in items:
            future = client.submit(fn, shared_future, item, pure=False)
            in_flight.append(future)
            if len(in_flight) >= self.window:
                _distributed().wait(in_flight.popleft())
            level = 0
            while levels and levels[-1][0] == level:
                future = client.submit(combine, levels.pop()[1], future, pure=False)
                level += 1
            levels.append((level, future))
        if not levels:
            return None
        merged = levels.pop()[1]
        while levels:
            merged = client.submit(combine, levels.pop()[1], merged, pure=False)
        return merged.result()

    def map(
        self,
        fn: Callable[[Any, Batch], Any],
        shared: Any,
        items: Iterable[Batch],
        after: Callable[[int, Any], Any] | None = None,
    ) -> Iterator[Any]:
        """``fn(shared, batch)`` on the workers, results in input order; ``after(index, result)`` runs on the worker
        that holds the result (writing it as a shard, say), and what it returns comes back instead."""
        client = self.client
        # Shipped once to each worker, so the steps (and a corpus index) are not sent with each batch.
        shared_future = _shared(client, shared)
        fn = _with_storage(fn)
        numbered = enumerate(items)

        if after is None:
            return ordered(
                lambda numbered_item: client.submit(fn, shared_future, numbered_item[1], pure=False),
                numbered,
                self.window,
            )
        held: collections.deque[Any] = collections.deque()  # wanted until the result after it is in (see below)

        def submit(numbered_item: tuple[int, Batch]) -> Any:
            index, item = numbered_item
            future = client.submit(fn, shared_future, item, pure=False)
            held.append(future)
            return client.submit(_with_storage(after), index, future, pure=False)

        def results() -> Iterator[Any]:
            # A result lost with a worker is recomputed only while a future of this client wants it.
            for result in ordered(submit, numbered, self.window, settle=_settle):
                held.popleft()
                yield result

        return results()

    def map_and_decide(
        self,
        fn: Callable[[Any, Batch], BatchResult],
        shared: Any,
        items: Iterable[Batch],
        verdicts: Verdicts,
        after: Callable[[int, BatchResult], BatchResult] | None = None,
    ) -> Iterator[BatchResult]:
        """:meth:`map`, with the ordered passes' verdicts (dedup) taken on the cluster before any result comes back.

        The processed batches stay on the workers (distributed spills them to disk under memory pressure). For each
        pass: a map gives each record's groups (exact: digest, near: LSH bands), a task shuffle brings each group's
        members together, each group yields its links, and the client takes the keep-first verdicts over the links
        alone (a few dozen bytes per duplicate pair: no process holds every key). The verdicts go back to the
        batches, which then come to the client in input order with the dropped records already out.
        """
        import dask
        import dask.bag
        from dask.bag.core import groupby_tasks

        distributed = _distributed()
        client = self.client
        shared_future = _shared(client, shared)
        fn = _with_storage(fn)
        done: list[Any] = []
        in_flight: collections.deque[Any] = collections.deque()
        for item in items:  # a bounded window of raw input in flight; the results stay where they were computed
            future = client.submit(fn, shared_future, item, pure=False)
            done.append(future)
            in_flight.append(future)
            if len(in_flight) >= self.window:
                distributed.wait(in_flight.popleft())
        dropped: dict[Ordinal, Dropped] = {}
        for key_index, (step, state) in enumerate(zip(verdicts.steps, verdicts.states, strict=True)):
            corpus_pass = step.corpus_pass
            before = frozenset(dropped)
            parts = [
                dask.delayed(group_entries, pure=True)(future, batch, step, key_index, before)
                for batch, future in enumerate(done)
            ]
            earlier = [
                (group, ((EARLIER_RUN, n), record_id, key))
                for n, (record_id, key) in enumerate(corpus_pass.earlier(state))
                for group in corpus_pass.groups(key, step.options)
            ]
            if earlier:
                parts.append(dask.delayed(earlier))
            if not done:
                break
            entries = dask.bag.from_delayed(parts)
            # The groups are uniform 64-bit ints: they partition as they are (dask would tokenize each one).
            groups = groupby_tasks(entries, _group_of, hash=_as_is, max_branch=32)
            links = groups.map(partial(group_links, step)).flatten()
            # a future's result, not .compute(): a run stopped meanwhile then leaves no gather behind to complain
            for later, (kept, kept_id, detail) in keep_first(client.compute(links).result()).items():
                drop = corpus_pass.verdict(detail, kept_id, kept[0] == EARLIER_RUN)  # type: ignore[union-attr]
                dropped[later] = Dropped(step.name, drop, None)
        by_batch: dict[int, dict[int, Dropped]] = {}
        for (batch, position), verdict in dropped.items():
            by_batch.setdefault(batch, {})[position] = verdict

        held: dict[int, Any] = {}  # a batch's futures stay wanted until its result is in (a lost one is recomputed)

        def submit(batch: int) -> Any:
            decided = client.submit(apply_verdicts, done[batch], by_batch.get(batch, {}), pure=False)
            held[batch] = decided
            return decided if after is None else client.submit(_with_storage(after), batch, decided, pure=False)

        def results() -> Iterator[BatchResult]:
            # The shared steps too stay wanted till the end: a batch lost with a worker is computed again.
            wanted = [shared_future]
            settle = _settle if after is not None else None
            for batch, result in enumerate(ordered(submit, range(len(done)), self.window, settle=settle)):
                del held[batch]
                done[batch] = None  # the batch leaves the workers once it is written
                yield result
            wanted.clear()

        return results()

    def close(self) -> None:
        try:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            _restore_logs(self._log_levels)


def _connect(distributed: Any, scheduler: str) -> Any:
    """A client of the scheduler at ``scheduler``; a :class:`ConfigError` when the address is malformed or nothing
    answers there.

    The wait for a scheduler that does not answer is distributed's connect timeout (the ``distributed.comm.timeouts
    .connect`` setting, 30 s unless changed, e.g. ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``): distributed
    retries a refused connection until then, as a scheduler that is still starting refuses it too, and the same
    timeout bounds the client's other calls (scattering a large corpus index to every worker among them), so it is
    not shortened here.
    """
    try:
        return distributed.Client(scheduler)
    except ValueError as exc:  # distributed's connectors raise it for a malformed address (no port, unknown scheme)
        raise ConfigError(f"bad Dask scheduler address {scheduler!r}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


#: distributed's log lines at this level and above still reach stderr. ERROR lines stay off too: a task's failure
#: comes back to the client as its exception, and is reported as one ``error:`` line, not a worker's traceback.
QUIET_LEVEL = logging.CRITICAL


def _quiet_logs() -> list[tuple[logging.Handler, int]]:
    """Raise the level of the stream handlers distributed installs in this process (on its ``distributed`` logger) to
    :data:`QUIET_LEVEL`; returns what to give back to :func:`_restore_logs`."""
    changed = []
    for handler in logging.getLogger("distributed").handlers:
        if isinstance(handler, logging.StreamHandler) and handler.level < QUIET_LEVEL:
            changed.append((handler, handler.level))
            handler.setLevel(QUIET_LEVEL)
    return changed


def _restore_logs(changed: list[tuple[logging.Handler, int]]) -> None:
    for handler, level in changed:
        handler.setLevel(level)


#: How long a run given up waits for the shards its workers are writing, so that none lands after the clean-up.
SETTLE_SECONDS = 60


def _settle(futures: list[Any]) -> None:
    """Wait (at most :data:`SETTLE_SECONDS`) for the tasks in flight, whose writes cannot be stopped once they run."""
    _distributed().wait(futures, timeout=SETTLE_SECONDS)


def _group_of(entry: tuple[int, Any]) -> int:
    return entry[0]


def _as_is(group: int) -> int:
    return group


def _with_storage(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run on a worker with this process's storage options (``--storage-option``) in force, so the URLs it
    opens are opened as here."""
    from corpus_tools.storage import storage_options

    options = storage_options()
    return partial(_call_with_options, options, fn) if options else fn


def _call_with_options(options: dict[str, Any], fn: Callable[..., Any], *args: Any) -> Any:
    from corpus_tools.storage import using_options

    with using_options(options):
        return fn(*args)


def _shared(client: Any, shared: Any) -> Any:
    """``shared`` (the steps, a corpus index) as a future every task takes: pickled once here, fetched once per
    worker. A task that returns it, not scattered data: scattered data lost with a worker (distributed keeps one
    copy of what no task waits for) cannot be computed again, and the run would fail."""
    return client.submit(_identity, shared, pure=False)


def _identity(value: Any) -> Any:
    return value
