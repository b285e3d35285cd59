"""Worker pool: threads that run GIL-free kernels over slices of a batch, results in input order."""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, List, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class WorkerPool:
    """Up to `workers` threads, created on first use; `map_slices` keeps the input order."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._executor = None
        self._lock = threading.Lock()

    def map_slices(self, kernel: Callable[[Sequence[T]], List[R]], items: Sequence[T]) -> List[R]:
        """Split `items` into one contiguous slice per worker, run `kernel` on each slice in the
        pool, and return the concatenated results in input order. A kernel exception propagates
        to the caller; the pool stays usable."""
        if self.workers == 1 or len(items) < 2:
            return list(kernel(items))
        step = -(-len(items) // self.workers)
        slices = [items[i:i + step] for i in range(0, len(items), step)]
        futures = [self._pool().submit(kernel, part) for part in slices[1:]]
        results = list(kernel(slices[0]))  # the calling thread takes the first slice itself
        for future in futures:
            results.extend(future.result())
        return results

    def submit(self, fn: Callable[..., R], *args) -> "Future[R]":
        """Run `fn(*args)` on a worker thread (for work that overlaps with the caller's)."""
        return self._pool().submit(fn, *args)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="rs2fast-worker")
            return self._executor

    def shutdown(self) -> None:
        """Stop the threads (they are restarted on next use)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
