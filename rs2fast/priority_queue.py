"""MediaPriorityQueue: one bounded, thread-safe priority queue of chunks on the C heap.

Order: highest priority first, then lowest sequence number, then arrival. Capacity is the whole
queue (RS2 kept priority only in a 64-item heap and fell back to FIFO behind it). Blocking waits use
conditions that release the lock, so `try_enqueue`, `len()` and `close()` never wait behind a blocked
`enqueue` or a parked consumer.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import AsyncIterator, Callable, Iterable, Iterator, List, Optional, Union

from rs2fast._chunk import MediaChunk
from rs2fast._queue import QueueCore
from rs2fast._notify import EventEmitter
from rs2fast.errors import QueueClosed, QueueEmpty, QueueFull
from rs2fast.events import ChunkDropped


class OverflowPolicy(str, Enum):
    """What a full queue does with a newcomer."""

    BLOCK = "block"              # wait for room (files: nothing may be lost)
    DROP_NEWEST = "drop_newest"  # drop the newcomer
    DROP_LOWEST = "drop_lowest"  # evict the worst item if the newcomer outranks it (live media)


@dataclass
class QueueStats:
    """Counters of a MediaPriorityQueue."""

    enqueued: int = 0
    dequeued: int = 0
    dropped_newest: int = 0
    dropped_lowest: int = 0
    length: int = 0
    capacity: int = 0

    @property
    def dropped(self) -> int:
        """All chunks the overflow policy dropped."""
        return self.dropped_newest + self.dropped_lowest


class MediaPriorityQueue(QueueCore):
    """Bounded priority queue of MediaChunks for producers and consumers in threads or asyncio.

    `overflow` is "block", "drop_newest" or "drop_lowest"; every drop is counted and announced as a
    ChunkDropped event to `on_event` (events carry user_id 0; the streaming service fills it in).
    Enqueueing into a queue with room and taking from a non-empty one run in C (QueueCore); only
    waiting, overflow and close are handled here.
    """

    def __init__(self, capacity: int = 1024, overflow: Union[str, OverflowPolicy] = "block", *,
                 on_event: Optional[Callable[[object], None]] = None) -> None:
        self._policy = OverflowPolicy(overflow)
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._async_waiters: list = []
        self._dropped_newest = 0
        self._dropped_lowest = 0
        self._events = EventEmitter(on_event)

    # --- state -----------------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Most chunks the queue holds."""
        return self.heap.capacity

    @property
    def overflow(self) -> OverflowPolicy:
        """The overflow policy."""
        return self._policy

    def get_stats(self) -> QueueStats:
        """A snapshot of the counters."""
        return QueueStats(enqueued=self.enqueued, dequeued=self.dequeued,
                          dropped_newest=self._dropped_newest, dropped_lowest=self._dropped_lowest,
                          length=len(self.heap), capacity=self.heap.capacity)

    def close(self) -> None:
        """Reject new chunks from now on; consumers drain what is queued, then stop."""
        with self._lock:
            self.closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()
            self._wake_async()

    # --- producers -------------------------------------------------------------------------------

    def enqueue_batch(self, chunks: Iterable[MediaChunk], timeout: Optional[float] = None) -> int:
        """Queue many chunks in order (each as `enqueue`; all at once while there is room);
        returns how many were queued."""
        chunks = chunks if isinstance(chunks, list) else list(chunks)
        pushed = 0
        if not self.closed:
            pushed = self.heap.push_chunks(chunks)
            if pushed:
                self.enqueued += pushed
                if self.get_waiters:
                    self._wake_getters()
        return pushed + sum(self.enqueue(chunk, timeout) for chunk in chunks[pushed:])

    def _put_slow(self, chunk, block: bool, timeout: Optional[float]) -> bool:
        if not isinstance(chunk, MediaChunk):
            raise TypeError(f"expected a MediaChunk, got {type(chunk).__name__}")
        dropped = None
        with self._lock:
            if self.closed:
                raise QueueClosed(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
            if self._try_push(chunk):
                self._notify_getters()
                return True
            if self._policy is OverflowPolicy.BLOCK:
                if not block:
                    raise QueueFull(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
                self._wait_for_room(chunk, timeout)
                self._notify_getters()
                return True
            if self._policy is OverflowPolicy.DROP_LOWEST and self._outranks_worst(chunk):
                dropped = (self.heap.pop_lowest(), "evicted by a higher-priority chunk (drop_lowest)")
                self._dropped_lowest += 1
                self._try_push(chunk)
                self._notify_getters()
            else:
                dropped = (chunk, f"queue full ({self._policy.value})")
                self._dropped_newest += 1
        victim, reason = dropped
        self._events.emit(ChunkDropped(stream_id=victim.stream_id, user_id=0,
                                       sequence_number=victim.sequence_number, reason=reason))
        return victim is not chunk

    def _wait_for_room(self, chunk, timeout) -> None:
        # Called with the lock held.
        deadline = _deadline(timeout)
        self.put_waiters += 1
        try:
            while not self._try_push(chunk):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise QueueFull(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
                self._not_full.wait(remaining)
                if self.closed:
                    raise QueueClosed(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
        finally:
            self.put_waiters -= 1

    def _outranks_worst(self, chunk) -> bool:
        worst = self.heap.peek_lowest_key()
        key = (int(chunk.priority), -chunk.sequence_number)
        return worst is not None and key > (worst[0], -worst[1])

    def _wake_getters(self) -> None:
        with self._lock:
            self._notify_getters()

    def _wake_putters(self) -> None:
        with self._lock:
            self._not_full.notify()

    def _notify_getters(self) -> None:
        # Called with the lock held.
        if self.get_waiters:
            self._not_empty.notify()
            self._wake_async()

    # --- consumers -------------------------------------------------------------------------------

    def _get_slow(self, timeout: Optional[float]) -> MediaChunk:
        deadline = _deadline(timeout)
        with self._lock:
            self.get_waiters += 1
            try:
                while True:
                    item = self._try_pop()
                    if item is not None:
                        if self.put_waiters:
                            self._not_full.notify()
                        return item
                    if self.closed:
                        raise QueueClosed()
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise QueueEmpty()
                    self._not_empty.wait(remaining)
            finally:
                self.get_waiters -= 1

    def _get_nowait_slow(self) -> MediaChunk:
        raise QueueClosed() if self.closed else QueueEmpty()

    def get_batch(self, max_items: int, timeout: Optional[float] = None) -> List[MediaChunk]:
        """Up to `max_items` chunks in priority order, waiting for the first one; [] once the queue is
        closed and drained or when `timeout` passes with nothing queued."""
        if isinstance(max_items, bool) or not isinstance(max_items, int):
            raise TypeError(f"max_items must be an int, not {type(max_items).__name__}")
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        _deadline(timeout)            # a bad timeout is refused before anything is taken
        try:
            first = self.get(timeout)
        except (QueueClosed, QueueEmpty):
            return []
        rest = self.heap.pop_batch(max_items - 1) if max_items > 1 else []
        if rest:
            self.dequeued += len(rest)
            if self.put_waiters:
                with self._lock:
                    self._not_full.notify(len(rest))
        return [first, *rest]

    def dequeue(self) -> Iterator[MediaChunk]:
        """RS2's dequeue stream, as a blocking iterator that ends when the queue is closed and drained."""
        return iter(self)

    # --- asyncio ---------------------------------------------------------------------------------

    async def aget(self, timeout: Optional[float] = None) -> MediaChunk:
        """`get` for asyncio: waits without blocking the event loop, while threads enqueue."""
        loop = asyncio.get_running_loop()
        deadline = _deadline(timeout, loop.time)
        while True:
            try:
                return self.get_nowait()
            except QueueEmpty:
                pass
            with self._lock:
                self.get_waiters += 1
                item = self._try_pop()
                if item is not None and self.put_waiters:
                    self._not_full.notify()
                if item is None and not self.closed:
                    waiter = loop.create_future()
                    self._async_waiters.append((loop, waiter))
            if item is not None or self.closed:
                with self._lock:
                    self.get_waiters -= 1
                if item is not None:
                    return item
                raise QueueClosed()
            try:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    raise QueueEmpty()
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                raise QueueEmpty() from None
            finally:
                with self._lock:
                    self.get_waiters -= 1
                    if (loop, waiter) in self._async_waiters:
                        self._async_waiters.remove((loop, waiter))

    async def __aiter__(self) -> AsyncIterator[MediaChunk]:
        while True:
            try:
                yield await self.aget()
            except QueueClosed:
                return

    def adequeue(self) -> AsyncIterator[MediaChunk]:
        """RS2's dequeue stream as an async iterator."""
        return self.__aiter__()

    def _wake_async(self) -> None:
        # Called with the lock held; every parked coroutine re-checks the heap when it wakes.
        waiters, self._async_waiters = self._async_waiters, []
        for loop, waiter in waiters:
            try:
                loop.call_soon_threadsafe(_set_done, waiter)
            except RuntimeError:  # that loop is closed: nobody is waiting there any more
                pass


def _deadline(timeout: Optional[float], clock: Callable[[], float] = time.monotonic) -> Optional[float]:
    """When a wait of `timeout` seconds ends: None (never) for None or infinity; TypeError for a
    non-number, ValueError for NaN or a negative timeout."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds, got {timeout}")
    return None if timeout == math.inf else clock() + timeout


def _set_done(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)
