"""MediaStreamingService: file and live streams through the processor to their consumers.

Each started stream has one producer (a thread; an asyncio task for async live sources) that reads,
chunks (zero-copy views), checksums and validates, then hands chunks to the stream's own bounded
channel, and a copy to the shared priority queue behind `get_chunk_stream()` only while that shared
stream has a consumer, so nothing stalls because nobody reads it (RS2's file streams did). A producer
stops when its stream is exhausted, when the service shuts down, or when nobody consumes it any more
(the stream object was closed or dropped and no shared consumer is attached).

Every object a consumer reads is both an iterator and an async iterator. Async readers wait on
event-loop futures that producers complete thread-safely: no executor thread is held per waiting
reader, and a cancelled wait (`asyncio.wait_for(anext(stream), t)`) takes nothing, because chunks
are only ever taken by the coroutine itself when it runs again.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, List, Optional, Tuple, Union

from rs2fast._params import count_arg, flag_arg, seconds_arg
from rs2fast._chunk import MediaChunk, chunk_bytes, gop_chunk_type, split_buffer
from rs2fast._file_windows import FileWindows
from rs2fast._media_paths import wants_demux
from rs2fast._notify import EventEmitter, LoopWaiters
from rs2fast._readers import (POLL, Channel, ChunkStream, EventFeed, MetricsStream, SharedChunkStream,
                              Stop)
from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.codec import CodecFactory, MediaCodec
from rs2fast.errors import QueueClosed, QueueFull
from rs2fast.events import (BufferUnderrun, ChunkDropped, MediaStreamEvent, QualityChanged,
                            StreamStarted, StreamStopped)
from rs2fast.priority_queue import MediaPriorityQueue, OverflowPolicy
from rs2fast.types import ChunkType, MediaPriority, MediaStream, MediaType, QualityLevel, StreamMetrics

__all__ = ["MediaStreamingService", "StreamingServiceFactory", "ChunkStream", "SharedChunkStream",
           "MetricsStream", "determine_chunk_type", "determine_priority"]

log = logging.getLogger("rs2fast")

_READ_WINDOW = 4 << 20  # bytes read from a file at once (chunks are views into the window)
_PARALLEL_MIN_CHUNK = 16 << 10  # chunk size from which file windows go to the worker pool
_FINISHED_KEPT = 1024   # finished streams whose own metrics stay available (totals keep them all)


def determine_chunk_type(sequence_number: int) -> ChunkType:
    """RS2's GOP rule for file and live video: every 30th chunk an I-frame, every 3rd a B-frame."""
    return gop_chunk_type(sequence_number)


def determine_priority(sequence_number: int) -> MediaPriority:
    """The default priority of `determine_chunk_type(sequence_number)`."""
    return gop_chunk_type(sequence_number).default_priority


@dataclass
class _Counters:
    bytes_processed: int = 0
    chunks_processed: int = 0
    dropped_chunks: int = 0
    last_updated: Optional[datetime] = None


class _ActiveStream:
    """Everything the service keeps about one running stream.

    `stream` is a copy of the caller's MediaStream taken at start (with the frame duration and
    chunk type derived from it), so changing the caller's object mid-stream changes nothing.
    """

    def __init__(self, service: "MediaStreamingService", stream: MediaStream, live: bool) -> None:
        self.service = service
        self.stream = stream
        self.frame_rate = stream.frame_rate or float(service.codec.config.frame_rate)
        self.frame_ns = round(1e9 / self.frame_rate)
        self.chunk_type = ChunkType.AUDIO if stream.content_type == MediaType.AUDIO else None
        self.live = live
        self.channel = Channel(service.buffer_capacity, live)
        self.stop = threading.Event()
        self.attached = True          # the user's stream object is alive and open
        self.counters = _Counters()
        self.started = time.monotonic()
        self.quality = stream.quality
        self.pressure = 0
        self.relief = 0
        self.finished = False

    def keep_going(self) -> bool:
        """Whether somebody still wants this stream's chunks."""
        return not self.stop.is_set() and (self.attached or self.service._shared_consumers > 0)


class MediaStreamingService:
    """Streams files and live sources as chunks; RS2's MediaStreamingService, without its stalls.

    `buffer_capacity` bounds the shared priority queue and each stream's own channel. `overflow` is
    the shared queue's policy ("block": producers wait for the shared consumer; "drop_lowest":
    B-frames and thumbnails go first). `batch` is how many chunks are read, checked and handed over
    at once. `adaptive` lets live streams step their quality down under sustained pressure (and back
    up), announced as QualityChanged. A consumer that waits `underrun_after` seconds on an empty
    stream buffer while its stream is active gets one BufferUnderrun event per wait.

    File chunks are views of windows read with `pread` (one copy). `map_files=True` maps regular
    files instead and hands out views of the mapping (no copy at all: the fastest way to checksum
    big chunks), for files nobody shrinks while their chunks are alive: the size is checked before
    each window (StreamTruncated), but a chunk already handed out faults (SIGBUS) when it is read
    after its part of the file was cut off.

    Chunks the service splits itself carry the checksum computed in the same pass as the split and
    are not verified again (their size and ids are still validated); checksums of bytes that come
    from outside are verified where they enter (the processor's own methods, decoding).
    """

    def __init__(self, buffer_capacity: int = 1024, *, codec: Optional[MediaCodec] = None,
                 processor_config: Optional[ChunkProcessorConfig] = None,
                 overflow: Union[str, OverflowPolicy] = "block", batch: int = 64,
                 adaptive: bool = False, underrun_after: float = 0.1,
                 map_files: bool = False) -> None:
        buffer_capacity = count_arg(buffer_capacity, "buffer_capacity", 1)
        if codec is not None and not isinstance(codec, MediaCodec):
            raise TypeError(f"codec must be a MediaCodec or None, not {type(codec).__name__}")
        self.buffer_capacity = buffer_capacity
        self.codec = codec if codec is not None else MediaCodec()
        self.batch = count_arg(batch, "batch", 1)
        self.adaptive = flag_arg(adaptive, "adaptive")
        self.underrun_after = seconds_arg(underrun_after, "underrun_after")
        self.map_files = flag_arg(map_files, "map_files")
        self._emitter = EventEmitter(self._dispatch)
        self._processor = ChunkProcessor(processor_config or ChunkProcessorConfig(),
                                         on_event=self._component_drop)
        self._queue = MediaPriorityQueue(buffer_capacity, overflow, on_event=self._component_drop)
        self._lock = threading.Lock()
        self._feed_order = threading.Lock()     # every events() reader sees one order
        self._streams: dict = {}
        self._finished: "OrderedDict[str, _ActiveStream]" = OrderedDict()
        self._retired = _Counters()     # finished streams no longer kept one by one
        self._threads: List[threading.Thread] = []
        self._tasks: set = set()
        self._shared_consumers = 0
        self._callbacks: list = []
        self._feeds: "weakref.WeakSet[EventFeed]" = weakref.WeakSet()
        self._closed = threading.Event()
        self._close_waiters = LoopWaiters()

    def __repr__(self) -> str:
        with self._lock:
            active, finished = len(self._streams), len(self._finished)
        return (f"MediaStreamingService(buffer_capacity={self.buffer_capacity}, "
                f"overflow={self._queue.overflow.value!r}, batch={self.batch}, "
                f"active_streams={active}, finished_streams={finished}, "
                f"shared_queued={len(self._queue)}, closed={self._closed.is_set()})")

    # --- starting streams ------------------------------------------------------------------------

    def start_file_stream(self, path: Union[str, os.PathLike], stream: MediaStream) -> ChunkStream:
        """Stream a file in `stream.chunk_size` chunks (FileNotFoundError if it does not exist).

        Sequence numbers from 0; VIDEO/MIXED chunks typed by RS2's GOP rule, AUDIO streams as AUDIO;
        timestamps from the frame rate (metadata "frame_rate", else the codec's); checksums as the
        codec config says; `is_final` on the true last chunk. An empty file gives no chunks. The
        stream's settings are read once, here: changing `stream` later changes nothing.

        Media containers (.mp4 .mov .mkv .webm .ts ...) are demuxed instead when the optional av
        extra is installed: one chunk per packet, typed from the bitstream, timestamps from pts
        (metadata "container": "auto" (default), "demux" or "raw"; see rs2fast.container).
        """
        self._check_open()
        settings = self._settings(stream)
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
        if wants_demux(path, settings.metadata):
            from rs2fast.container import ContainerReader
            reader = ContainerReader(path, settings.id, settings.chunk_size,
                                     checksum=self.codec.config.checksum, batch_size=self.batch,
                                     video_types=settings.metadata.get("video_types", "auto"))
            return self._start(stream, settings, False, self._container_producer, reader,
                               cleanup=reader.close)
        file = open(path, "rb", buffering=0)
        return self._start(stream, settings, False, self._file_producer, file, os.fspath(path),
                           cleanup=file.close)

    def start_live_stream(self, stream: MediaStream, source: Any = None, *,
                          max_chunks: Optional[int] = None) -> ChunkStream:
        """Stream live data: `source` is an iterable, an async iterable (call this from its event
        loop) or a callable returning bytes (None or b"" ends it); without one, a synthetic test
        pattern paced at the frame rate. `max_chunks` (or metadata "max_chunks") bounds the stream.
        Data longer than `chunk_size` is split into several chunks. A source is read one piece
        ahead (a piece is handed on once the next one has been read, or the source has ended),
        so that `is_final` marks the true last chunk of a finite source."""
        self._check_open()
        settings = self._settings(stream)
        if max_chunks is None:
            max_chunks = settings.max_chunks
        else:
            max_chunks = count_arg(max_chunks, "max_chunks")
        if hasattr(source, "__aiter__"):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError("start_live_stream with an async source must be called from "
                                   "the event loop that runs it") from None
            iterator = aiter(source)
            return self._start(stream, settings, True, self._async_live_producer, iterator,
                               max_chunks, loop=loop)
        return self._start(stream, settings, True, self._live_producer, _puller(source), max_chunks)

    def get_chunk_stream(self) -> SharedChunkStream:
        """The shared stream of all active streams' chunks, highest priority first."""
        self._check_open()
        return SharedChunkStream(self)

    def _settings(self, stream: MediaStream) -> MediaStream:
        """A private copy of `stream`, checked against the processor's limits."""
        if not isinstance(stream, MediaStream):
            raise TypeError(f"stream must be a MediaStream, not {type(stream).__name__}")
        settings = replace(stream, metadata=dict(stream.metadata))   # checks frame_rate and the rest
        config = self._processor.config
        if config.enable_validation:
            audio = settings.content_type == MediaType.AUDIO
            limit = config.audio_size_limit if audio else config.video_size_limit
            if settings.chunk_size > limit:
                name = "audio_size_limit" if audio else "video_size_limit"
                raise ValueError(f"chunk_size {settings.chunk_size} is over the {name} of "
                                 f"{limit} bytes for {settings.content_type.name} chunks "
                                 f"(ChunkProcessorConfig.{name}): every chunk would be refused")
        return settings

    def _start(self, stream: MediaStream, settings: MediaStream, live: bool, producer, *args,
               loop: Optional[asyncio.AbstractEventLoop] = None,
               cleanup: Optional[Callable[[], None]] = None) -> ChunkStream:
        """Register the stream, then start its producer; a failure leaves nothing behind."""
        try:
            active = self._register(settings, live)
        except BaseException:
            if cleanup is not None:
                cleanup()
            raise
        if loop is not None:
            task = loop.create_task(producer(active, *args))
            with self._lock:
                self._tasks.add(task)
            task.add_done_callback(self._forget_task)
        else:
            self._spawn(active, producer, *args)
        return ChunkStream(active, self.batch, stream)

    # --- metrics and events ----------------------------------------------------------------------

    def get_metrics(self, stream_id: Optional[str] = None) -> StreamMetrics:
        """Metrics of one stream (running, or among the last 1024 finished), or totals over all
        streams ever started with stream_id "*".
        buffer_utilization is fill / capacity of the stream's own buffer, or for the totals of the
        shared queue."""
        with self._lock:
            if stream_id is None:
                parts = [a.counters for a in list(self._streams.values()) + list(self._finished.values())]
                parts.append(self._retired)
                name = "*"
                utilization = len(self._queue) / self._queue.capacity
            else:
                active = self._streams.get(stream_id) or self._finished.get(stream_id)
                if active is None:
                    raise KeyError(f"no stream {stream_id!r} was started on this service")
                parts, name = [active.counters], stream_id
                utilization = active.channel.fill()
            chunks = sum(p.chunks_processed for p in parts)
            total = sum(p.bytes_processed for p in parts)
            updated = max((p.last_updated for p in parts if p.last_updated), default=None)
            return StreamMetrics(stream_id=name, bytes_processed=total, chunks_processed=chunks,
                                 dropped_chunks=sum(p.dropped_chunks for p in parts),
                                 average_chunk_size=total / chunks if chunks else 0.0,
                                 buffer_utilization=utilization,
                                 last_updated=updated or datetime.now(timezone.utc))

    def get_metrics_stream(self, interval: float = 1.0, stream_id: Optional[str] = None) -> MetricsStream:
        """Metrics snapshots every `interval` seconds, the first at once; ends at shutdown.
        Use it with `for` or `async for`."""
        return MetricsStream(self, interval, stream_id)

    def subscribe(self, callback: Callable[[MediaStreamEvent], None]) -> Callable[[], None]:
        """Call `callback(event)` for every event; returns a function that unsubscribes."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)
        return unsubscribe

    def events(self) -> EventFeed:
        """Events from now on, for `for` or `async for`; ends at shutdown (or its close()). The
        service holds the reader weakly: drop it (or close it) and it stops buffering events."""
        feed = EventFeed(self)
        with self._lock:
            self._feeds.add(feed)
        if self._closed.is_set():
            feed.close()
        return feed

    @property
    def processor(self) -> ChunkProcessor:
        """The service's chunk processor (its stats count every validation and drop)."""
        return self._processor

    # --- shutdown --------------------------------------------------------------------------------

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop producers, wake consumers, join threads, close files, emit StreamStopped once per
        active stream. Idempotent; completes even when an async producer's loop is gone."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            self._close_waiters.wake_all()
            actives = list(self._streams.values())
            tasks = list(self._tasks)
        for active in actives:
            active.stop.set()
            active.channel.close()
        self._queue.close()
        for task in tasks:
            try:
                task.get_loop().call_soon_threadsafe(task.cancel)
            except RuntimeError:     # its loop is closed: the task will never run again
                pass
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(timeout)
        for active in actives:
            self._finish(active)
        with self._lock:
            feeds = list(self._feeds)
        for feed in feeds:
            feed.close()
        self._processor.close()

    async def ashutdown(self, timeout: float = 10.0) -> None:
        """`shutdown` for asyncio code: runs in a thread of its own (not the loop's executor) while
        the loop keeps running."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def run() -> None:
            error: Optional[BaseException] = None
            try:
                self.shutdown(timeout)
            except BaseException as exc:   # handed to the awaiting coroutine
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, done, error)
            except RuntimeError:           # the loop closed meanwhile: nobody awaits
                pass

        threading.Thread(target=run, name="rs2fast-shutdown", daemon=True).start()
        await asyncio.shield(done)

    def __enter__(self) -> "MediaStreamingService":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    async def __aenter__(self) -> "MediaStreamingService":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ashutdown()

    # --- producers -------------------------------------------------------------------------------

    def _file_producer(self, active: _ActiveStream, file, path: str) -> None:
        # Windows of whole chunks (pread copies, or views of the mapped file with `map_files`) are
        # read ahead on the worker pool while this thread delivers. Windows of big chunks are also
        # split, checksummed and validated there, by up to `parallel_processing` workers at once
        # (one window more is in flight, so every worker has one while this thread delivers);
        # small chunks are mostly object creation, which holds the GIL, so this thread splits
        # them itself (more threads would only queue for the GIL).
        stream = active.stream
        fd = file.fileno()
        pool = self._processor.pool
        split_on_pool = stream.chunk_size >= _PARALLEL_MIN_CHUNK and pool.workers > 1
        task = self._read_window if split_on_pool else self._read_ahead
        depth = pool.workers + 1 if split_on_pool else 2
        with file:
            windows = FileWindows(fd, stream.id, use_mmap=self.map_files)
            size = windows.size
            window = stream.chunk_size * max(1, min(self.batch * 16, _READ_WINDOW // stream.chunk_size))
            pending: deque = deque()
            offset = sequence = 0
            while (offset < size or pending) and active.keep_going():
                while offset < size and len(pending) < depth:
                    length = min(window, size - offset)
                    pending.append(pool.submit(task, active, windows, offset, length, sequence,
                                               offset + length >= size))
                    offset += length
                    sequence += -(-length // stream.chunk_size)
                result = pending.popleft().result()
                self._deliver(active, *(result if split_on_pool else self._split_window(*result)))
            if offset >= size and not pending and _was_replaced(path, fd):
                log.warning("rs2fast: %s was replaced while being streamed; the file that was "
                            "open was streamed to its end", path)

    def _read_ahead(self, active: _ActiveStream, windows: FileWindows, offset: int, length: int,
                    sequence: int, last: bool) -> tuple:
        return active, windows.read(offset, length), sequence, last

    def _split_window(self, active: _ActiveStream, data, sequence: int, last: bool) -> tuple:
        chunks = self._split(active, data, sequence, mark_final=last)
        return chunks, self._processor.validate(chunks, checksums=False)

    def _read_window(self, active: _ActiveStream, windows: FileWindows, offset: int, length: int,
                     sequence: int, last: bool) -> tuple:
        return self._split_window(*self._read_ahead(active, windows, offset, length, sequence, last))

    def _container_producer(self, active: _ActiveStream, reader) -> None:
        with reader:
            for batch in reader:
                self._deliver(active, batch)

    def _live_producer(self, active: _ActiveStream, pull: Optional[Callable[[int], Any]],
                       max_chunks: Optional[int]) -> None:
        # A source's next piece is pulled before this one is delivered (look-ahead), so that the
        # last chunk of a finite source is known to be the last; the endless test pattern (no
        # source) is not read ahead.
        look_ahead = pull is not None
        if pull is None:
            pull = _paced_pattern(active)
        sequence = 0
        data = pull(sequence) if max_chunks != 0 else None
        while not _is_end(data) and active.keep_going():
            chunks, last = self._live_chunks(active, data, sequence, max_chunks)
            sequence += len(chunks)
            following = None
            if look_ahead and not last:
                try:
                    following = pull(sequence)
                except Exception:
                    self._deliver(active, chunks)     # the good chunks first, then the error
                    raise
                last = _is_end(following)
            self._deliver_live(active, chunks, last)
            if last:
                return
            data = following if look_ahead else pull(sequence)

    async def _async_live_producer(self, active: _ActiveStream, iterator: Any,
                                   max_chunks: Optional[int]) -> None:
        try:
            sequence = 0
            data = await anext(iterator, None) if max_chunks != 0 else None
            while not _is_end(data) and active.keep_going():
                chunks, last = self._live_chunks(active, data, sequence, max_chunks)
                sequence += len(chunks)
                following = None
                if not last:
                    try:
                        following = await anext(iterator, None)
                    except Exception:
                        self._deliver(active, chunks)
                        raise
                    last = _is_end(following)
                self._deliver_live(active, chunks, last)
                data = None if last else following
        except Stop:
            pass
        except Exception as error:
            active.channel.close(error)
        finally:
            self._finish(active)

    def _live_chunks(self, active: _ActiveStream, data: Any, sequence: int,
                     max_chunks: Optional[int]) -> Tuple[list, bool]:
        """The chunks of one piece of live data, and whether `max_chunks` ends the stream with them."""
        chunks = self._split(active, data, sequence, mark_final=False)
        if max_chunks is None:
            return chunks, False
        chunks = chunks[:max_chunks - sequence]
        return chunks, sequence + len(chunks) >= max_chunks

    def _deliver_live(self, active: _ActiveStream, chunks: list, last: bool) -> None:
        if last and chunks:
            chunks[-1] = chunks[-1].replace(is_final=True)
        self._deliver(active, chunks)

    def _split(self, active: _ActiveStream, data, sequence: int, mark_final: bool) -> list:
        stream = active.stream
        return split_buffer(data, stream.id, stream.chunk_size, start_sequence=sequence,
                            chunk_type=active.chunk_type, frame_duration_ns=active.frame_ns,
                            mark_final=mark_final, checksum=self.codec.config.checksum)

    def _deliver(self, active: _ActiveStream, chunks: list, codes: Optional[bytes] = None) -> None:
        # The service made these chunks (checksums computed in the split): validate without
        # verifying them again. `codes`: validation already done (by a reader thread).
        processor = self._processor
        if codes is None:
            codes = processor.validate(chunks, checksums=False)
        ready = processor.process_batch(chunks, codes)
        if processor.buffered_in(active.stream.id):
            # Our producers emit chunks in order, so a chunk held back waits for one the processor
            # refused (counted and announced): nothing will fill that hole, deliver past it.
            ready += processor.flush(active.stream.id)
        if not active.keep_going():
            raise Stop()
        if active.attached:
            for dropped in active.channel.put_many(ready, active.keep_going):
                self._dropped(active, dropped, "stream buffer full (live: lowest priority shed)")
            if active.live and self.adaptive:
                self._adapt(active, active.channel.fill(), len(ready))
        if self._shared_consumers > 0:
            for chunk in ready:
                self._offer_shared(active, chunk)
        counters = active.counters
        counters.chunks_processed += len(ready)
        counters.bytes_processed += chunk_bytes(ready)
        counters.last_updated = datetime.now(timezone.utc)

    def _offer_shared(self, active: _ActiveStream, chunk: MediaChunk) -> None:
        queue = self._queue
        try:
            if active.live or queue.overflow is not OverflowPolicy.BLOCK:
                queue.try_enqueue(chunk)   # drop policies count and announce their own drops
                return
            while True:
                try:
                    queue.enqueue(chunk, timeout=POLL)
                    return
                except QueueFull:
                    if not active.keep_going() or self._shared_consumers == 0:
                        return
        except QueueFull:
            self._dropped(active, chunk, "shared queue full")
        except QueueClosed:
            pass

    # --- bookkeeping -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise RuntimeError("the streaming service has been shut down")

    def _register(self, stream: MediaStream, live: bool) -> _ActiveStream:
        with self._lock:
            if stream.id in self._streams:
                raise ValueError(f"stream {stream.id!r} is already active on this service")
            active = _ActiveStream(self, stream, live)
            self._streams[stream.id] = active
            self._finished.pop(stream.id, None)
        self._processor.forget_stream(stream.id)   # a stream id used again starts afresh
        self._emit(StreamStarted(stream_id=stream.id, user_id=stream.user_id, quality=stream.quality))
        return active

    def _spawn(self, active: _ActiveStream, target, *args) -> None:
        def run() -> None:
            try:
                target(active, *args)
            except Stop:
                pass
            except Exception as error:
                log.debug("rs2fast: stream %r ended with %r", active.stream.id, error)
                active.channel.close(error)
            finally:
                self._finish(active)

        thread = threading.Thread(target=run, name=f"rs2fast-{active.stream.id}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _finish(self, active: _ActiveStream) -> None:
        with self._lock:
            if active.finished:
                return
            active.finished = True
            self._streams.pop(active.stream.id, None)
            self._finished[active.stream.id] = active
            if len(self._finished) > _FINISHED_KEPT:
                _, oldest = self._finished.popitem(last=False)
                retired, counters = self._retired, oldest.counters
                retired.bytes_processed += counters.bytes_processed
                retired.chunks_processed += counters.chunks_processed
                retired.dropped_chunks += counters.dropped_chunks
        active.channel.close()
        self._processor.forget_stream(active.stream.id)   # its reorder state is not needed again
        duration = time.monotonic() - active.started
        self._emit(StreamStopped(stream_id=active.stream.id, user_id=active.stream.user_id,
                                 duration_seconds=int(duration), duration=duration,
                                 bytes_transferred=active.counters.bytes_processed))

    def _attach_shared(self) -> None:
        with self._lock:
            self._shared_consumers += 1

    def _release_shared(self) -> None:
        with self._lock:
            self._shared_consumers -= 1

    def _forget_task(self, task: "asyncio.Task") -> None:
        with self._lock:
            self._tasks.discard(task)

    def _drop_feed(self, feed: EventFeed) -> None:
        with self._lock:
            self._feeds.discard(feed)

    def _dropped(self, active: _ActiveStream, chunk: MediaChunk, reason: str) -> None:
        active.counters.dropped_chunks += 1
        self._emit(ChunkDropped(stream_id=chunk.stream_id, user_id=active.stream.user_id,
                                sequence_number=chunk.sequence_number, reason=reason))

    def _component_drop(self, event: ChunkDropped) -> None:
        # A drop announced by the processor or the shared queue: count it, fill in the user. The
        # shared queue may still hold chunks of streams that have finished.
        with self._lock:
            active = self._streams.get(event.stream_id) or self._finished.get(event.stream_id)
            (active.counters if active is not None else self._retired).dropped_chunks += 1
        if active is not None:
            event = replace(event, user_id=active.stream.user_id)
        self._emit(event)

    def _underrun(self, active: _ActiveStream) -> None:
        if not active.finished and not active.channel.closed:
            self._emit(BufferUnderrun(stream_id=active.stream.id, user_id=active.stream.user_id,
                                      buffer_level=active.channel.fill()))

    def _adapt(self, active: _ActiveStream, fill: float, chunks: int) -> None:
        # Sustained pressure: the buffer stayed at least 3/4 full for a second's worth of chunks.
        frame_rate = self.codec.config.frame_rate
        if fill >= 0.75:
            active.pressure, active.relief = active.pressure + chunks, 0
        elif fill <= 0.25:
            active.pressure, active.relief = 0, active.relief + chunks
        new = active.quality
        if active.pressure >= frame_rate and active.quality > QualityLevel.LOW:
            new = active.quality.step_down()
        elif active.relief >= 2 * frame_rate and active.quality < active.stream.quality:
            new = active.quality.step_up()
        if new != active.quality:
            old, active.quality = active.quality, new
            active.pressure = active.relief = 0
            self._emit(QualityChanged(stream_id=active.stream.id, user_id=active.stream.user_id,
                                      old_quality=old, new_quality=new))

    def _emit(self, event: MediaStreamEvent) -> None:
        self._emitter.emit(event)

    def _dispatch(self, event: MediaStreamEvent) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
            feeds = list(self._feeds)
        with self._feed_order:
            for feed in feeds:
                feed.push(event)
        for callback in callbacks:
            EventEmitter(callback).emit(event)


def _puller(source: Any) -> Optional[Callable[[int], Any]]:
    """A function giving the next piece of live data (None at the end) for a sync source; None
    for no source (the test pattern). TypeError at once for a source of no known kind."""
    if source is None:
        return None
    if callable(source):
        return lambda _sequence: source()
    try:
        iterator = iter(source)
    except TypeError:
        raise TypeError("source must be an iterable, an async iterable, a callable or None, "
                        f"not {type(source).__name__}") from None
    return lambda _sequence: next(iterator, None)


def _is_end(piece: Any) -> bool:
    """None or an empty piece ends a live source (other objects go on to be refused by the split)."""
    if piece is None:
        return True
    try:
        return len(piece) == 0
    except TypeError:
        return False


def _paced_pattern(active: _ActiveStream) -> Callable[[int], Optional[bytes]]:
    """Synthetic frames paced at the frame rate; their size follows the stream's current quality."""
    stream = active.stream
    pattern = bytes(range(256)) * (stream.chunk_size // 256 + 2)
    start = time.monotonic()

    def next_frame(sequence: int) -> Optional[bytes]:
        if active.stop.wait(max(0.0, start + sequence / active.frame_rate - time.monotonic())):
            return None
        size = max(1, stream.chunk_size * active.quality.video_bitrate // stream.quality.video_bitrate)
        offset = sequence % 256
        return pattern[offset:offset + min(size, stream.chunk_size)]
    return next_frame


def _settle(future: asyncio.Future, error: Optional[BaseException]) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _was_replaced(path: str, fd: int) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return True
    mine = os.fstat(fd)
    return (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev)


class StreamingServiceFactory:
    """Ready-made services (capacities as RS2's presets; policies and batches as documented)."""

    @staticmethod
    def create_live_streaming_service() -> MediaStreamingService:
        """2048-chunk buffers, drop_lowest (keyframes and audio survive), adaptive quality."""
        return MediaStreamingService(2048, codec=CodecFactory.create_adaptive_codec(),
                                     overflow="drop_lowest", adaptive=True)

    @staticmethod
    def create_file_streaming_service() -> MediaStreamingService:
        """512-chunk buffers, block (nothing is dropped; producers wait for consumers)."""
        return MediaStreamingService(512, overflow="block")

    @staticmethod
    def create_low_latency_service() -> MediaStreamingService:
        """128-chunk buffers, drop_lowest, small batches of 4 chunks, adaptive quality."""
        return MediaStreamingService(128, codec=CodecFactory.create_adaptive_codec(),
                                     processor_config=ChunkProcessorConfig(batch_size=4,
                                                                           parallel_processing=1),
                                     overflow="drop_lowest", batch=4, adaptive=True)
