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
from typing import Callable, Iterable, Iterator, Optional, Union

from rs2fast._params import count_arg
from rs2fast._batch import ChunkBatch
from rs2fast._chunk import MediaChunk
from rs2fast._queue import QueueCore
from rs2fast._notify import EventEmitter, LoopWaiters, wait_woken
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

    enqueued: int = 0           # chunks accepted into the queue
    dequeued: int = 0           # chunks taken out by consumers
    dropped_newest: int = 0     # newcomers refused by the drop_newest policy
    dropped_lowest: int = 0     # queued chunks evicted by the drop_lowest policy
    length: int = 0             # chunks queued now
    capacity: int = 0           # the most chunks the queue holds

    @property
    def dropped(self) -> int:
        """All chunks the overflow policy dropped."""
        return self.dropped_newest + self.dropped_lowest


class MediaPriorityQueue(QueueCore):
    """Bounded priority queue of MediaChunks for producers and consumers in threads or asyncio.

    `overflow` is "block", "drop_newest" or "drop_lowest"; every drop is counted and announced as a
    ChunkDropped event to `on_event` (events carry user_id 0; the streaming service fills it in).
    Enqueueing into a queue with room and taking from a non-empty one run in C (QueueCore); only
    waiting, overflow and close are handled here. Async twins (`aget`, `aenqueue`, `async for`)
    wait on the event loop, never on a thread; a cancelled wait takes nothing. `len()` and
    `dequeue()` are RS2's names, kept for compatibility.
    """

    def __init__(self, capacity: int = 1024, overflow: Union[str, OverflowPolicy] = "block", *,
                 on_event: Optional[Callable[[object], None]] = None) -> None:
        self._policy = OverflowPolicy(overflow)
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._async_getters = LoopWaiters()
        self._async_putters = LoopWaiters()
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

    def __repr__(self) -> str:
        return (f"MediaPriorityQueue(capacity={self.heap.capacity}, length={len(self.heap)}, "
                f"overflow={self._policy.value!r}, closed={bool(self.closed)})")

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
            self._async_getters.wake_all()
            self._async_putters.wake_all()

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
                    with self._lock:
                        self._notify_getters(pushed)
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
            self._notify_putters()

    def _notify_getters(self, count: int = 1) -> None:
        # Called with the lock held: `count` chunks arrived.
        if self.get_waiters:
            self._not_empty.notify(count)
            self._async_getters.wake_all()

    def _notify_putters(self, count: int = 1) -> None:
        # Called with the lock held: room for `count` chunks appeared.
        if self.put_waiters:
            self._not_full.notify(count)
            self._async_putters.wake_all()

    # --- consumers -------------------------------------------------------------------------------

    def _get_slow(self, timeout: Optional[float]) -> MediaChunk:
        deadline = _deadline(timeout)
        with self._lock:
            self.get_waiters += 1
            try:
                while True:
                    item = self._try_pop()
                    if item is not None:
                        self._notify_putters()
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

    def get_batch(self, max_items: int, timeout: Optional[float] = None) -> ChunkBatch:
        """Up to `max_items` chunks in priority order as a ChunkBatch, waiting for the first one; an
        empty batch once the queue is closed and drained or when `timeout` passes with nothing
        queued."""
        max_items = count_arg(max_items, "max_items", 1)
        _deadline(timeout)            # a bad timeout is refused before anything is taken
        try:
            first = self.get(timeout)
        except (QueueClosed, QueueEmpty):
            return ChunkBatch()
        rest = self.heap.pop_batch(max_items - 1) if max_items > 1 else []
        if rest:
            self.dequeued += len(rest)
            if self.put_waiters:
                with self._lock:
                    self._notify_putters(len(rest))
        return ChunkBatch._from_list([first, *rest])

    def dequeue(self) -> Iterator[MediaChunk]:
        """RS2's dequeue stream, as a blocking iterator that ends when the queue is closed and drained."""
        return iter(self)

    # --- asyncio ---------------------------------------------------------------------------------

    async def aget(self, timeout: Optional[float] = None) -> MediaChunk:
        """`get` for asyncio: waits on the event loop (no thread) while others enqueue; a cancelled
        aget takes nothing."""
        loop = asyncio.get_running_loop()
        deadline = _deadline(timeout, loop.time)
        while True:
            item = self._pop_or_none()
            if item is not None:
                return item
            await self._park(True, deadline, loop, QueueEmpty)

    async def aenqueue(self, chunk: MediaChunk, timeout: Optional[float] = None) -> bool:
        """`enqueue` for asyncio: under "block" waits on the event loop (no thread) for room
        (QueueFull after `timeout` seconds); a cancelled aenqueue queues nothing."""
        loop = asyncio.get_running_loop()
        deadline = _deadline(timeout, loop.time)
        while True:
            try:
                return self.try_enqueue(chunk)    # only "block" raises QueueFull here
            except QueueFull:
                pass
            await self._park(False, deadline, loop,
                             lambda: QueueFull(stream_id=chunk.stream_id,
                                               sequence_number=chunk.sequence_number))

    def _pop_or_none(self) -> Optional[MediaChunk]:
        try:
            return self.get_nowait()
        except QueueEmpty:
            return None

    async def _park(self, getter: bool, deadline: Optional[float], loop: asyncio.AbstractEventLoop,
                    on_timeout: Callable[[], Exception]) -> None:
        """Wait on the loop until the other side (or close) wakes us, for a getter or a putter; the
        waiter counters announce it to the C fast paths. Returns to let the caller try again;
        raises on_timeout() past the deadline."""
        waiters = self._async_getters if getter else self._async_putters
        with self._lock:
            if getter:
                self.get_waiters += 1
            else:
                self.put_waiters += 1
            waiter = waiters.add()
        try:
            heap = self.heap
            if self.closed or (len(heap) > 0 if getter else len(heap) < heap.capacity):
                return                              # it changed while we announced ourselves
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0 or not await wait_woken(waiter, remaining):
                raise on_timeout()
        finally:
            with self._lock:
                if getter:
                    self.get_waiters -= 1
                else:
                    self.put_waiters -= 1
                waiters.discard(waiter)

    def __aiter__(self) -> "MediaPriorityQueue":
        return self

    async def __anext__(self) -> MediaChunk:
        try:
            return await self.aget()
        except QueueClosed:
            raise StopAsyncIteration from None


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

