"""Telling others: event callbacks that may fail, coroutines woken from threads, periodic snapshots."""
from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from typing import Callable, Generic, List, Optional, Tuple, TypeVar

log = logging.getLogger("rs2fast")

T = TypeVar("T")


class EventEmitter:
    """Calls `on_event(event)` for each event; a raising callback is logged and counted, never raised."""

    __slots__ = ("on_event", "callback_errors")

    def __init__(self, on_event: Optional[Callable[[object], None]] = None) -> None:
        if on_event is not None and not callable(on_event):
            raise TypeError(f"on_event must be callable, not {type(on_event).__name__}")
        self.on_event = on_event
        self.callback_errors = 0

    def emit(self, event: object) -> None:
        """Hand `event` to the callback, if there is one."""
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            self.callback_errors += 1
            log.exception("rs2fast event callback raised on %r", event)


class LoopWaiters:
    """Coroutines parked on futures of their own event loops, woken from any thread.

    The owner calls `add()` and `wake_all()` under its own lock, so a waker cannot slip between a
    coroutine's last look at the data and its parking. A woken coroutine only looks again: whatever
    it takes, it takes synchronously when it runs, so a cancelled wait consumes nothing. No thread
    is held while a coroutine waits.
    """

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: List[Tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    def __len__(self) -> int:
        return len(self._waiters)

    def add(self) -> asyncio.Future:
        """A new future of the running loop, completed by the next `wake_all()`."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append((loop, waiter))
        return waiter

    def discard(self, waiter: asyncio.Future) -> None:
        """Forget `waiter` (its coroutine stopped waiting)."""
        self._waiters = [entry for entry in self._waiters if entry[1] is not waiter]

    def wake_all(self) -> None:
        """Complete every parked future, each in its own loop; closed loops are skipped."""
        waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(_set_done, waiter)
            except RuntimeError:  # that loop is closed: nobody waits there any more
                pass


def _set_done(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def wait_woken(waiter: asyncio.Future, timeout: Optional[float]) -> bool:
    """Wait for `waiter` at most `timeout` seconds (None: no limit); True if it was woken.
    Cancelling the caller leaves `waiter` pending (the owner's `discard` forgets it)."""
    done, _ = await asyncio.wait((waiter,), timeout=timeout)
    return bool(done)


def positive_interval(interval: float) -> float:
    """`interval` as a float of seconds: TypeError for a non-number, ValueError unless finite and > 0."""
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise TypeError(f"interval must be a number of seconds, not {type(interval).__name__}")
    if not math.isfinite(interval) or interval <= 0:
        raise ValueError(f"interval must be a positive, finite number of seconds, got {interval!r}")
    return float(interval)


class PeriodicSnapshots(Generic[T]):
    """`snapshot()` at once, then every `interval` seconds: a sync and an async iterator in one.

    It ends when `stopped` is set (woken at once through `stopped_waiters` for async readers, which
    the owner wakes when it sets `stopped`); without `stopped` it never ends. An async reader waits
    on the event loop, holding no thread.
    """

    def __init__(self, snapshot: Callable[[], T], interval: float,
                 stopped: Optional[threading.Event] = None,
                 stopped_waiters: Optional[LoopWaiters] = None,
                 lock: Optional[threading.Lock] = None) -> None:
        self._snapshot = snapshot
        self._interval = positive_interval(interval)
        self._stopped = stopped
        self._waiters = stopped_waiters
        self._lock = lock if lock is not None else threading.Lock()
        self._started = False

    def __iter__(self) -> "PeriodicSnapshots[T]":
        return self

    def __next__(self) -> T:
        if self._started:
            if self._stopped is None:
                time.sleep(self._interval)
            elif self._stopped.wait(self._interval):
                raise StopIteration
        self._started = True
        return self._snapshot()

    def __aiter__(self) -> "PeriodicSnapshots[T]":
        return self

    async def __anext__(self) -> T:
        if self._started and await self._stopped_after_interval():
            raise StopAsyncIteration
        self._started = True
        return self._snapshot()

    async def _stopped_after_interval(self) -> bool:
        if self._stopped is None or self._waiters is None:
            await asyncio.sleep(self._interval)
            return False
        with self._lock:
            waiter = None if self._stopped.is_set() else self._waiters.add()
        if waiter is None:
            return True
        try:
            return await wait_woken(waiter, self._interval) or self._stopped.is_set()
        finally:
            with self._lock:
                self._waiters.discard(waiter)
