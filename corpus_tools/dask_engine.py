"""Running ``clean`` on a Dask cluster (an optional extra: ``pip install 'corpus-tools[dask]'``).

The same batches and the same :func:`corpus_tools.engine.process_batch` as the local engine, submitted to Dask
workers through ``distributed``'s executor with a bounded window, so the output is the same records in the same
order, and memory on the client stays flat. The client reads the inputs and ships batches of raw bytes, so the
workers need no access to the input files (only the same corpus-tools version installed).

With no scheduler address, a ``LocalCluster`` of process workers on loopback is started for the run.
"""

from __future__ import annotations

import importlib
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
        if scheduler is None:
            self._cluster = distributed.LocalCluster(
                n_workers=jobs or default_jobs(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # only the HTTP health routes, on a free port
                scheduler_kwargs={"dashboard": False},
            )
            self.client = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(scheduler, timeout="30s")
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        threads = sum(self.client.nthreads().values()) or 1
        self.window = threads * window_per_worker

    def map(self, fn: Callable[[Any, Batch], Any], shared: Any, items: Iterable[Batch]) -> Iterator[Any]:
        # Scattered once to every worker, so the steps (and a corpus index) are not shipped with each batch.
        [shared_future] = self.client.scatter([shared], broadcast=True)
        return ordered(lambda item: self.client.submit(fn, shared_future, item, pure=False), items, self.window)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
