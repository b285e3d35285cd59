"""MediaPriorityQueue: one bounded, thread-safe priority queue of chunks on the C heap.

Order: highest priority first, then lowest sequence number, then arrival. Capacity is the whole
queue (RS2 kept priority only in a 64-item heap and fell back to FIFO behind it). Blocking waits use
conditions that release the lock, so `try_enqueue`, `len()` and `close()` never wait behind a blocked
`enqueue` or a parked consumer.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import AsyncIterator, Callable, Iterable, Iterator, List, Optional

from rs2fast._chunk import MediaChunk
from rs2fast._heap import PriorityHeap
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


class MediaPriorityQueue:
    """Bounded priority queue of MediaChunks for producers and consumers in threads or asyncio.

    `overflow` is "block", "drop_newest" or "drop_lowest"; every drop is counted and announced as a
    ChunkDropped event to `on_event` (events carry user_id 0; the streaming service fills it in).
    """

    def __init__(self, capacity: int = 1024, overflow: str = "block", *,
                 on_event: Optional[Callable[[object], None]] = None) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int, not {type(capacity).__name__}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._policy = OverflowPolicy(overflow)
        self._heap = PriorityHeap(capacity)
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._async_waiters: list = []
        self._closed = False
        self._stats = QueueStats(capacity=capacity)
        self._events = EventEmitter(on_event)

    # --- state -----------------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Most chunks the queue holds."""
        return self._heap.capacity

    @property
    def overflow(self) -> OverflowPolicy:
        """The overflow policy."""
        return self._policy

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._closed

    def __len__(self) -> int:
        return len(self._heap)

    def len(self) -> int:
        """Number of queued chunks (RS2's `len`); never blocks."""
        return len(self._heap)

    def get_stats(self) -> QueueStats:
        """A snapshot of the counters."""
        with self._lock:
            stats = QueueStats(**{k: getattr(self._stats, k) for k in QueueStats.__dataclass_fields__})
        stats.length = len(self._heap)
        return stats

    def close(self) -> None:
        """Reject new chunks from now on; consumers drain what is queued, then stop."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()
            self._wake_async()

    # --- producers -------------------------------------------------------------------------------

    def enqueue(self, chunk: MediaChunk, timeout: Optional[float] = None) -> bool:
        """Queue a chunk; True if it was queued, False if the overflow policy dropped it.

        Under "block" this waits for room (QueueFull when `timeout` seconds pass); QueueClosed after
        close().
        """
        return self._put(chunk, block=True, timeout=timeout)

    def try_enqueue(self, chunk: MediaChunk) -> bool:
        """Queue a chunk without ever waiting: under "block" a full queue raises QueueFull."""
        return self._put(chunk, block=False, timeout=None)

    def enqueue_batch(self, chunks: Iterable[MediaChunk], timeout: Optional[float] = None) -> int:
        """Queue many chunks in order (each as `enqueue`); returns how many were queued."""
        return sum(self._put(chunk, block=True, timeout=timeout) for chunk in chunks)

    def _put(self, chunk, block, timeout) -> bool:
        if not isinstance(chunk, MediaChunk):
            raise TypeError(f"expected a MediaChunk, got {type(chunk).__name__}")
        dropped = None
        with self._lock:
            if self._closed:
                raise QueueClosed(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
            if not self._heap.push_chunk(chunk):
                if self._policy is OverflowPolicy.BLOCK:
                    if not block:
                        raise QueueFull(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
                    self._wait_for_room(chunk, timeout)
                elif self._policy is OverflowPolicy.DROP_LOWEST and self._outranks_worst(chunk):
                    dropped = (self._heap.pop_lowest(), "evicted by a higher-priority chunk (drop_lowest)")
                    self._stats.dropped_lowest += 1
                    self._heap.push_chunk(chunk)
                else:
                    dropped = (chunk, f"queue full ({self._policy.value})")
                    self._stats.dropped_newest += 1
            if dropped is None or dropped[0] is not chunk:
                self._stats.enqueued += 1
                self._not_empty.notify()
                self._wake_async()
        if dropped is not None:
            victim, reason = dropped
            self._events.emit(ChunkDropped(stream_id=victim.stream_id, user_id=0,
                                           sequence_number=victim.sequence_number, reason=reason))
            return victim is not chunk
        return True

    def _wait_for_room(self, chunk, timeout) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise QueueFull(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
            self._not_full.wait(remaining)
            if self._closed:
                raise QueueClosed(stream_id=chunk.stream_id, sequence_number=chunk.sequence_number)
            if self._heap.push_chunk(chunk):
                return

    def _outranks_worst(self, chunk) -> bool:
        worst = self._heap.peek_lowest_key()
        key = (int(chunk.priority), -chunk.sequence_number)
        return worst is not None and key > (worst[0], -worst[1])

    # --- consumers -------------------------------------------------------------------------------

    def get(self, timeout: Optional[float] = None) -> MediaChunk:
        """Take the best chunk, waiting for one; QueueEmpty after `timeout` seconds, QueueClosed once
        the queue is closed and drained."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._heap:
                if self._closed:
                    raise QueueClosed()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise QueueEmpty()
                self._not_empty.wait(remaining)
            return self._take_one()

    def get_nowait(self) -> MediaChunk:
        """Take the best chunk now; QueueEmpty if there is none (QueueClosed if also closed)."""
        with self._lock:
            if not self._heap:
                raise QueueClosed() if self._closed else QueueEmpty()
            return self._take_one()

    def get_batch(self, max_items: int, timeout: Optional[float] = None) -> List[MediaChunk]:
        """Up to `max_items` chunks in priority order, waiting for the first one; [] once the queue is
        closed and drained or when `timeout` passes with nothing queued."""
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1, got {max_items}")
        try:
            first = self.get(timeout)
        except (QueueClosed, QueueEmpty):
            return []
        with self._lock:
            rest = self._heap.pop_batch(max_items - 1) if max_items > 1 else []
            self._stats.dequeued += len(rest)
            if rest:
                self._not_full.notify(len(rest))
        return [first, *rest]

    def _take_one(self):
        chunk = self._heap.pop()
        self._stats.dequeued += 1
        self._not_full.notify()
        return chunk

    def __iter__(self) -> Iterator[MediaChunk]:
        while True:
            try:
                yield self.get()
            except QueueClosed:
                return

    def dequeue(self) -> Iterator[MediaChunk]:
        """RS2's dequeue stream, as a blocking iterator that ends when the queue is closed and drained."""
        return iter(self)

    # --- asyncio ---------------------------------------------------------------------------------

    async def aget(self, timeout: Optional[float] = None) -> MediaChunk:
        """`get` for asyncio: waits without blocking the event loop, while threads enqueue."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            with self._lock:
                if self._heap:
                    return self._take_one()
                if self._closed:
                    raise QueueClosed()
                waiter = loop.create_future()
                self._async_waiters.append((loop, waiter))
            try:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    raise QueueEmpty()
                await asyncio.wait_for(waiter, remaining)
            except asyncio.TimeoutError:
                raise QueueEmpty() from None
            finally:
                with self._lock:
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


def _set_done(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)
