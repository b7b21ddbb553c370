"""The worker process that evaluates for the playground, with a time and memory limit.

A mapping or an input that takes too long (or too much memory) must not take the server
with it: each call runs in a separate process and is abandoned after ``timeout`` seconds;
the process is then killed and a fresh one started for the next call.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.pool import Pool
from typing import Any

from fulfillmap.errors import FulfillmapError

__all__ = ["Worker", "WorkerTimeout"]

#: address space of the worker process: a runaway evaluation fails with MemoryError
MEMORY_LIMIT = 2 * 1024**3
#: seconds a new worker process may take to start (its imports), apart from the time limit
STARTUP_TIMEOUT = 60


class WorkerTimeout(FulfillmapError):
    """The worker did not answer in time (it has been restarted)."""


class Worker:
    """One evaluation at a time, in a child process, each bounded by ``timeout`` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pool: Pool | None = None

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in the worker; raises what it raises, or ``WorkerTimeout``.
        Starting a worker (after the last one was stopped) does not count against the time."""
        with self._lock:
            pending = self._started().apply_async(function, args)
            try:
                return pending.get(self.timeout)
            except multiprocessing.TimeoutError:
                self._stop()
                raise WorkerTimeout(
                    f"stopped after {self.timeout:g} seconds: the evaluation took too long "
                    f"(a huge input, or an expression that does too much?)"
                ) from None

    def start(self) -> None:
        """Start the worker now (its imports take a moment), so the first call is quick."""
        with self._lock:
            self._started()

    def _started(self) -> Pool:
        if self._pool is None:
            # spawn: a clean interpreter, not a fork of the threaded server
            pool = multiprocessing.get_context("spawn").Pool(1, initializer=_limit_memory)
            try:
                pool.apply_async(_ready).get(STARTUP_TIMEOUT)  # the imports
            except multiprocessing.TimeoutError:
                pool.terminate()
                raise WorkerTimeout(
                    f"the evaluation worker did not start in {STARTUP_TIMEOUT} seconds"
                ) from None
            self._pool = pool
        return self._pool

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on Windows; the time limit still holds
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > MEMORY_LIMIT:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))


def _ready() -> bool:
    from fulfillmap.tooling.playground import _engine  # noqa: F401  (imported: warm)

    return True
