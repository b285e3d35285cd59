"""What the consumers of a streaming service read: a stream's own buffer and the reader objects.

`_Channel` is a stream's bounded buffer (a ChunkRing in C, used once per batch under a condition);
`ChunkStream` (one stream), `SharedChunkStream` (all streams, by priority), the events feed and
`MetricsStream` are the objects a consumer iterates, each with `for` and `async for`. Async readers
wait on event-loop futures that producers complete thread-safely: no executor thread is held per
waiting reader, and a cancelled wait takes nothing.
"""
from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

from rs2fast._chunk import MediaChunk
from rs2fast._cursor import BatchCursor
from rs2fast._notify import LoopWaiters, PeriodicSnapshots
from rs2fast._ring import ChunkRing
from rs2fast.errors import QueueClosed, QueueEmpty
from rs2fast.events import MediaStreamEvent
from rs2fast.types import MediaStream, QualityLevel, StreamMetrics

if TYPE_CHECKING:
    from rs2fast.streaming import MediaStreamingService, _ActiveStream

POLL = 0.05            # seconds between checks for stop / consumer changes while a thread waits
_EVENT_BUFFER = 10_000  # events kept for a slow `events()` reader before the oldest are discarded


class Stop(Exception):
    """Raised inside a producer when it has to stop (shutdown, or nobody consumes the stream)."""


class Channel:
    """A stream's own bounded buffer (a ChunkRing, in C), delivered in sequence order.

    Files: the producer waits for room, nothing is lost. Live streams never wait: when full, the
    worst queued chunk (lowest priority, then highest sequence) is evicted if the newcomer outranks
    it, else the newcomer is dropped. The ring is used once per batch under `cond`; storage
    (`take`, `put_many`, `clear`, `close`, `fill`) and waiting (`_wake`, `async_waiter`,
    `forget_waiter`) are kept apart: threads wait on `cond`, coroutines on loop futures.
    """

    def __init__(self, capacity: int, live: bool) -> None:
        self.capacity = capacity
        self.ring = ChunkRing(capacity, live)
        self.cond = threading.Condition()
        self.closed = False
        self.error: Optional[BaseException] = None
        self._async_waiters = LoopWaiters()

    @property
    def size(self) -> int:
        """Chunks queued."""
        return len(self.ring)

    def take(self, max_items: int, timeout: Optional[float]) -> Optional[list]:
        """Up to `max_items` chunks in sequence order, waiting up to `timeout` seconds (0: not at
        all) for the first; [] on timeout; None when closed and drained."""
        with self.cond:
            ring = self.ring
            if not ring and not self.closed and timeout != 0:
                self.cond.wait(timeout)
            if not ring:
                return None if self.closed else []
            batch = ring.take(max_items)
            self.cond.notify_all()             # a file producer may wait for room
            return batch

    def put_many(self, chunks: list, keep_going: Callable[[], bool]) -> list:
        """Queue all `chunks` (files: waiting for room); returns the dropped ones (live only)."""
        with self.cond:
            if self.ring.live:
                dropped = self.ring.push_shedding(chunks)
                self._wake()
                return dropped
            done = 0
            while done < len(chunks):
                pushed = self.ring.push(chunks, done)
                if pushed:
                    done += pushed
                    self._wake()
                    continue
                if self.closed:               # its consumer left: the shared stream may still read
                    return []
                if not keep_going():
                    raise Stop()
                self.cond.wait(POLL)
        return []

    def fill(self) -> float:
        """Fraction of the capacity in use."""
        return len(self.ring) / self.capacity

    def clear(self) -> None:
        """Forget everything queued (the consumer is gone)."""
        with self.cond:
            self.ring.clear()
            self.cond.notify_all()

    def close(self, error: Optional[BaseException] = None) -> None:
        """No more chunks; consumers drain, then get `error` (if any) or the end."""
        with self.cond:
            if error is not None and self.error is None:
                self.error = error
            self.closed = True
            self._wake()

    # --- waiting and waking ----------------------------------------------------------------------

    def _wake(self) -> None:
        # Called with `cond` held, after chunks arrived or the channel closed.
        self.cond.notify_all()
        if self._async_waiters:
            self._async_waiters.wake_all()

    def async_waiter(self) -> Optional[asyncio.Future]:
        """A future of the running loop, completed when chunks arrive or the channel closes; None
        when there is something to take (or the end to see) right now."""
        with self.cond:
            if self.ring or self.closed:
                return None
            return self._async_waiters.add()

    def forget_waiter(self, waiter: asyncio.Future) -> None:
        """The coroutine stopped waiting on `waiter` (woken, timed out or cancelled)."""
        with self.cond:
            self._async_waiters.discard(waiter)


class ChunkStream(BatchCursor):
    """The chunks of one stream: an iterator, an async iterator and a (async) context manager.

    Closing it (or dropping the last reference) tells the producer that this consumer is gone.
    A file that shrinks while it is read ends the iteration with StreamTruncated. `for` and
    `async for` take chunks from the batch in hand in C and wait only when it is used up; `async
    for` waits on the event loop (no thread), and a cancelled `anext` takes no chunk. `batches()`
    gives the same chunks as ChunkBatch objects (numpy columns for whole windows).
    """

    def __init__(self, active: _ActiveStream, batch: int, stream: MediaStream) -> None:
        self._active = active
        self.fetch_size = batch
        self._stream = stream
        self._finalizer = weakref.finalize(self, _detach, active)

    @property
    def stream(self) -> MediaStream:
        """The MediaStream this chunk stream was started with (changing it changes nothing here)."""
        return self._stream

    @property
    def stream_id(self) -> str:
        """The stream's id."""
        return self._active.stream.id

    @property
    def quality(self) -> QualityLevel:
        """Current quality (live streams of an adaptive service step it with pressure)."""
        return self._active.quality

    def close(self) -> None:
        """Stop consuming; the producer stops too unless the shared stream still reads it."""
        self._finalizer()

    def __repr__(self) -> str:
        active = self._active
        state = "finished" if active.finished else "closed" if not self._finalizer.alive else "running"
        return (f"ChunkStream(stream_id={active.stream.id!r}, live={active.live}, state={state!r}, "
                f"buffered={active.channel.size + self.in_hand}, "
                f"capacity={active.channel.capacity})")

    def _fetch(self, max_items: int) -> Optional[list]:
        # Blocks this thread until chunks come; a wait of `underrun_after` announces BufferUnderrun.
        batch = self._take(max_items, 0)
        waiting_since = time.monotonic()
        announced = False
        while batch == []:
            batch = self._take(max_items, POLL)
            if (batch == [] and not announced and
                    time.monotonic() - waiting_since >= self._active.service.underrun_after):
                self._active.service._underrun(self._active)
                announced = True
        return batch

    async def _afetch(self, max_items: int) -> Optional[list]:
        # Nothing is taken while this coroutine is parked, so a cancelled wait takes nothing.
        while True:
            batch = self._take(max_items, 0)
            if batch != []:
                return batch
            await self._wait_async()

    def _take(self, max_items: int, timeout: Optional[float]) -> Optional[list]:
        channel = self._active.channel
        batch = channel.take(max_items, timeout)
        if batch is None and channel.error is not None:
            error, channel.error = channel.error, None
            raise error
        return batch

    async def _wait_async(self) -> None:
        # Parks this coroutine on the loop until chunks come; a loop timer announces BufferUnderrun.
        active = self._active
        waiter = active.channel.async_waiter()
        if waiter is None:
            return
        timer = asyncio.get_running_loop().call_later(active.service.underrun_after,
                                                      active.service._underrun, active)
        try:
            await waiter
        finally:
            timer.cancel()
            active.channel.forget_waiter(waiter)

    def __enter__(self) -> "ChunkStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    async def __aenter__(self) -> "ChunkStream":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()


def _detach(active: _ActiveStream) -> None:
    active.attached = False
    active.channel.close()
    active.channel.clear()


class SharedChunkStream:
    """`get_chunk_stream()`: chunks of every active stream in priority order (sync and async).

    While one is open the producers copy their chunks into the shared queue; close it (or drop it)
    when done so that they stop. Async reads wait on the event loop; a cancelled one takes nothing.
    """

    def __init__(self, service: "MediaStreamingService") -> None:
        self._queue = service._queue
        self._finalizer = weakref.finalize(self, service._release_shared)
        service._attach_shared()

    def close(self) -> None:
        """Stop consuming the shared stream."""
        self._finalizer()

    def __repr__(self) -> str:
        return (f"SharedChunkStream(queued={len(self._queue)}, capacity={self._queue.capacity}, "
                f"overflow={self._queue.overflow.value!r}, open={self._finalizer.alive})")

    def __iter__(self) -> "SharedChunkStream":
        return self

    def __next__(self) -> MediaChunk:
        while self._finalizer.alive:
            try:
                return self._queue.get(timeout=POLL)
            except QueueEmpty:
                continue
            except QueueClosed:
                break
        raise StopIteration

    def __aiter__(self) -> "SharedChunkStream":
        return self

    async def __anext__(self) -> MediaChunk:
        while self._finalizer.alive:
            try:
                return await self._queue.aget(timeout=POLL)
            except QueueEmpty:
                continue
            except QueueClosed:
                break
        raise StopAsyncIteration

    def __enter__(self) -> "SharedChunkStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EventFeed:
    """A bounded buffer of events for one `events()` reader (sync and async iterator).

    The service holds it weakly: a reader that is dropped stops receiving (and buffering) events.
    """

    def __init__(self, service: "MediaStreamingService") -> None:
        self._service = service
        self._items: deque = deque(maxlen=_EVENT_BUFFER)
        self._cond = threading.Condition()
        self._async_waiters = LoopWaiters()
        self.closed = False

    def push(self, event: MediaStreamEvent) -> None:
        """Buffer `event` and wake the reader."""
        with self._cond:
            self._items.append(event)
            self._wake()

    def close(self) -> None:
        """Stop receiving events; iteration ends once the buffer is drained."""
        with self._cond:
            self.closed = True
            self._wake()
        self._service._drop_feed(self)

    def _wake(self) -> None:
        # Called with the lock held.
        self._cond.notify_all()
        if self._async_waiters:
            self._async_waiters.wake_all()

    def __iter__(self) -> "EventFeed":
        return self

    def __next__(self) -> MediaStreamEvent:
        with self._cond:
            while not self._items and not self.closed:
                self._cond.wait()
            if self._items:
                return self._items.popleft()
        raise StopIteration

    def __aiter__(self) -> "EventFeed":
        return self

    async def __anext__(self) -> MediaStreamEvent:
        while True:
            with self._cond:
                if self._items:
                    return self._items.popleft()
                if self.closed:
                    raise StopAsyncIteration
                waiter = self._async_waiters.add()
            try:
                await waiter
            finally:
                with self._cond:
                    self._async_waiters.discard(waiter)


class MetricsStream(PeriodicSnapshots[StreamMetrics]):
    """Metrics snapshots: the first at once, then every `interval` seconds until the service shuts
    down (a sync and an async iterator; async readers hold no thread)."""

    def __init__(self, service: "MediaStreamingService", interval: float, stream_id: Optional[str]):
        super().__init__(lambda: service.get_metrics(stream_id), interval, service._closed,
                         service._close_waiters, service._lock)
