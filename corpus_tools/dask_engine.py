"""Running ``clean`` on a Dask cluster (an optional extra: ``pip install 'corpus-tools[dask]'``).

The same batches and the same :func:`corpus_tools.engine.process_batch` as the local engine, submitted to Dask
workers through ``distributed``'s executor with a bounded window, so the output is the same records in the same
order, and memory on the client stays flat. The client reads the inputs and ships batches of raw bytes, so the
workers need no access to the input files (only the same corpus-tools version installed).

With no scheduler address, a ``LocalCluster`` of process workers on loopback is started for the run.

stderr carries corpus-tools' own lines: ``distributed``'s log lines below ERROR (the local cluster's workers, and this
process's client) are not shown while the engine runs. Without that, a run stopped by a signal prints a WARNING per
cancelled task (``... ended with CancelledError``), which says nothing the exit code does not.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from corpus_tools.engine import Batch, default_jobs, ordered
from corpus_tools.errors import ConfigError

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

    def map(self, fn: Callable[[Any, Batch], Any], shared: Any, items: Iterable[Batch]) -> Iterator[Any]:
        # Scattered once to every worker, so the steps (and a corpus index) are not shipped with each batch.
        [shared_future] = self.client.scatter([shared], broadcast=True)
        return ordered(lambda item: self.client.submit(fn, shared_future, item, pure=False), items, self.window)

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


#: distributed's log lines at this level and above still reach stderr (a worker's crash, say).
QUIET_LEVEL = logging.ERROR


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
