"""ChunkProcessor: validate, de-duplicate and reorder chunks per stream, delivering the real chunks.

Rules: sequence 0 is an ordinary number; duplicates (buffered or
already delivered) and late chunks (below the delivered watermark) are dropped and counted, never
inserted; a chunk beyond the reorder window is rejected with SequenceGap, but a stream never gets stuck:
after `sequence_timeout` without progress, or `resync_after` consecutive chunks that agree on a new
position, the missing range is declared lost (counted in `chunks_lost`) and delivery resumes. Memory is
bounded in buffered chunks, bytes and streams. Every rejected chunk is counted and announced as a
ChunkDropped event; everything accepted is delivered, in order, by the time the stream is flushed.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import (AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, List, Optional,
                    Tuple, Union)

from rs2fast import _chunk, _reorder
from rs2fast._params import count_arg, flag_arg, seconds_arg
from rs2fast._batch import ChunkBatch
from rs2fast._chunk import MediaChunk
from rs2fast._notify import EventEmitter, PeriodicSnapshots
from rs2fast._pool import WorkerPool
from rs2fast.errors import (BufferOverflow, ChecksumMismatch, ChunkProcessingError, DuplicateChunk,
                            LateChunk, SequenceGap, ValidationFailed)
from rs2fast.events import ChunkDropped

_MAX_TIMEOUT_S = (1 << 62) / 1e9   # the longest sequence_timeout (kept as int64 nanoseconds)


@dataclass(frozen=True)
class ChunkProcessorConfig:
    """Processor settings: RS2's six fields and defaults, plus memory bounds and resync rules.

    `max_buffer_size` bounds the chunks held for reordering over all streams (RS2 used it only for an
    output channel), `max_buffered_bytes` their bytes, `max_streams` the streams tracked at once (the
    least recently active idle stream is forgotten first). `batch_size` is how many chunks
    process_chunk_stream takes from its input before handling them (throughput against latency:
    use 1 for a live source that must not wait for company). A batch goes to the worker threads only
    when it carries at least `parallel_min_bytes` of checksum work per worker; below that, handing
    slices to threads costs more than it saves.
    """

    max_buffer_size: int = 1024
    sequence_timeout: timedelta = timedelta(seconds=5)
    enable_reordering: bool = True
    max_reorder_window: int = 32
    enable_validation: bool = True
    parallel_processing: int = 4
    max_buffered_bytes: int = 256 * 1024 * 1024
    max_streams: int = 10_000
    resync_after: int = 4
    verify_checksums: bool = True
    audio_size_limit: int = 65_536
    video_size_limit: int = 1_048_576
    other_size_limit: Optional[int] = None
    batch_size: int = 64
    parallel_min_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        # Every field is checked here, naming it: a bad value fails now, not at the first chunk.
        timeout = self.sequence_timeout
        if isinstance(timeout, timedelta):
            seconds_arg(timeout.total_seconds(), "sequence_timeout", _MAX_TIMEOUT_S)
        else:
            try:
                seconds = seconds_arg(timeout, "sequence_timeout", _MAX_TIMEOUT_S)
            except TypeError:
                raise TypeError("sequence_timeout must be a timedelta or seconds, "
                                f"not {type(timeout).__name__}") from None
            object.__setattr__(self, "sequence_timeout", timedelta(seconds=seconds))
        for name in ("enable_reordering", "enable_validation", "verify_checksums"):
            flag_arg(getattr(self, name), name)
        for name, minimum in (("max_buffer_size", 1), ("max_reorder_window", 1),
                              ("parallel_processing", 1), ("max_buffered_bytes", 1),
                              ("max_streams", 1), ("resync_after", 2), ("audio_size_limit", 1),
                              ("video_size_limit", 1), ("batch_size", 1), ("parallel_min_bytes", 0)):
            object.__setattr__(self, name, count_arg(getattr(self, name), name, minimum))
        if self.max_reorder_window > 1 << 20:
            raise ValueError(f"max_reorder_window must be at most {1 << 20}")
        if self.other_size_limit is not None:
            object.__setattr__(self, "other_size_limit",
                               count_arg(self.other_size_limit, "other_size_limit", 1))


@dataclass
class ChunkProcessorStats:
    """Processor counters: RS2's seven fields plus the drop reasons and losses.

    chunks_processed counts accepted chunks; chunks_dropped counts every rejected chunk
    (duplicates + late_chunks + validation_failures + buffer_overflows + sequence_gaps);
    chunks_lost counts sequence numbers declared missing from the delivered output.
    """

    chunks_processed: int = 0
    chunks_reordered: int = 0
    chunks_dropped: int = 0
    sequence_gaps: int = 0
    validation_failures: int = 0
    average_processing_time_ms: float = 0.0
    buffer_utilization: float = 0.0
    duplicates: int = 0
    late_chunks: int = 0
    buffer_overflows: int = 0
    chunks_lost: int = 0
    chunks_received: int = 0
    chunks_delivered: int = 0
    streams: int = 0
    streams_evicted: int = 0


@dataclass
class StreamCounters:
    """Per-stream accounting: received = delivered + buffered + duplicates + late + invalid +
    overflowed + gap_rejected, always."""

    received: int = 0
    delivered: int = 0
    buffered: int = 0
    duplicates: int = 0
    late: int = 0
    invalid: int = 0
    overflowed: int = 0
    gap_rejected: int = 0
    lost: int = 0


_POSITIONS_PER_STREAM = 16   # forgotten streams whose position is kept, per tracked stream


class _Stream:
    __slots__ = ("reorder", "counters", "lost_seen", "stored_seen", "buffered", "buffered_bytes")

    def __init__(self, reorder) -> None:
        self.reorder = reorder
        self.counters = StreamCounters()
        self.lost_seen = 0          # the kernel's counters as last accounted for
        self.stored_seen = 0
        self.buffered = 0
        self.buffered_bytes = 0


_STATUS_FIELD = {
    _reorder.DUPLICATE: ("duplicates", "duplicates"),
    _reorder.LATE: ("late", "late_chunks"),
    _reorder.GAP: ("gap_rejected", "sequence_gaps"),
    _reorder.OVERFLOW: ("overflowed", "buffer_overflows"),
}


class ChunkProcessor:
    """Validates and reorders chunks per stream and returns the real chunks, in order.

    Thread-safe: several producers may call it at once. `on_event` receives a ChunkDropped event for
    every rejected chunk (user_id 0; the streaming service fills in the stream's user). `clock` gives
    monotonic nanoseconds for the sequence timeout (replaceable in tests).
    """

    def __init__(self, config: Optional[ChunkProcessorConfig] = None, *,
                 on_event: Optional[Callable[[object], None]] = None,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._config = config if config is not None else ChunkProcessorConfig()
        if not isinstance(self._config, ChunkProcessorConfig):
            raise TypeError(f"config must be a ChunkProcessorConfig, not {type(config).__name__}")
        self._timeout_ns = self._config.sequence_timeout // timedelta(microseconds=1) * 1000
        self._streams: "OrderedDict[str, _Stream]" = OrderedDict()
        self._stats = ChunkProcessorStats()
        self._busy_ns = 0
        self._buffered = 0
        self._buffered_bytes = 0
        self._lock = threading.RLock()
        self._events = EventEmitter(on_event)
        self._pool = WorkerPool(self._config.parallel_processing)
        self._clock = clock
        self._pending: list = []
        self._positions: "OrderedDict[str, int]" = OrderedDict()

    @property
    def config(self) -> ChunkProcessorConfig:
        """The processor's settings."""
        return self._config

    def __repr__(self) -> str:
        with self._lock:
            streams, buffered = len(self._streams), self._buffered
        config = self._config
        return (f"ChunkProcessor(streams={streams}, buffered={buffered}/{config.max_buffer_size}, "
                f"reordering={config.enable_reordering}, validation={config.enable_validation}, "
                f"parallel_processing={config.parallel_processing})")

    # --- RS2's public steps ----------------------------------------------------------------------

    def validate_chunk(self, chunk: MediaChunk) -> None:
        """Check RS2's rules (stream id, data, size cap for the type, checksum); raise
        ValidationFailed / ChecksumMismatch naming the rule. Does not count anything."""
        _require_chunk(chunk)
        code = self._validation_codes([chunk], len(chunk), False, self._config.verify_checksums)[0]
        if code:
            raise self._validation_error(chunk, code)

    def handle_reordering(self, chunk: MediaChunk) -> List[MediaChunk]:
        """Pass one (already validated) chunk through its stream's reorder buffer; return the chunks
        now ready, in order, or raise DuplicateChunk / LateChunk / SequenceGap / BufferOverflow."""
        _require_chunk(chunk)
        started = time.perf_counter_ns()
        with self._lock:
            try:
                return self._reorder_one(chunk, self._clock())
            finally:
                self._busy_ns += time.perf_counter_ns() - started

    def process_single_chunk(self, chunk: MediaChunk) -> List[MediaChunk]:
        """Validate and reorder one chunk; return the chunks now ready (in order). A rejected chunk
        raises its typed error (and is counted and announced); chunks that a timeout released
        meanwhile come out with the next call (or flush / expire_stale)."""
        _require_chunk(chunk)
        started = time.perf_counter_ns()
        code = self._codes([chunk], len(chunk), parallel=False, checksums=True)[0]
        with self._lock:
            try:
                if code:
                    raise self._reject_invalid(chunk, code)
                return self._reorder_one(chunk, self._clock())
            finally:
                self._busy_ns += time.perf_counter_ns() - started

    def validate(self, chunks: Iterable[MediaChunk], *, checksums: bool = True) -> bytes:
        """RS2's validation rules for many chunks at once, counting nothing: one code per chunk, 0
        for a valid one (all 0 when validation is off). Hand the codes to `process_batch`.

        `checksums=False` skips checksum verification, for chunks whose checksum was computed in
        the same pass that made them (the streaming service's own splits); bytes that come from
        outside should be verified (the default). Big batches are verified on the worker pool."""
        chunks, size = _chunk_list(chunks)
        return self._codes(chunks, size, parallel=True, checksums=flag_arg(checksums, "checksums"))

    def process_batch(self, chunks: Iterable[MediaChunk], codes: Optional[bytes] = None, *,
                      return_exceptions: bool = False) -> list:
        """Process many chunks at once (validation on the worker pool, reordering in C per stream);
        return the ready chunks, in order per stream (a ChunkBatch for a ChunkBatch, else a list).
        `codes` are `validate`'s codes for exactly
        these chunks, when the caller validated them already (else they are validated here,
        checksums verified). Rejected chunks are counted and announced; with
        `return_exceptions=True` their errors also appear in the output at the point where the
        chunk was handled (and the output keeps the input's order across streams too)."""
        given_batch = isinstance(chunks, ChunkBatch)
        chunks, size = _chunk_list(chunks)
        if codes is None:
            codes = self._codes(chunks, size, parallel=True, checksums=True)
        elif not isinstance(codes, (bytes, bytearray)) or len(codes) != len(chunks):
            raise ValueError("codes must be the bytes validate() gave for exactly these chunks")
        started = time.perf_counter_ns()
        out: list = []
        with self._lock:
            now_ns = self._clock()
            if (return_exceptions or not self._config.enable_reordering
                    or not self._room_for(len(chunks), size)):
                for chunk, code in zip(chunks, codes):
                    try:
                        if code:
                            raise self._reject_invalid(chunk, code)
                        out.extend(self._reorder_one(chunk, now_ns))
                    except ChunkProcessingError as error:
                        if return_exceptions:
                            out.append(error)
                out += self._take_pending()
            else:
                out += self._take_pending()
                self._reorder_grouped(chunks, bytes(codes), now_ns, out)
            self._busy_ns += time.perf_counter_ns() - started
        return ChunkBatch._from_list(out) if given_batch and not return_exceptions else out

    def _codes(self, chunks: list, size: int, parallel: bool, checksums: bool) -> bytes:
        """Validation codes for `chunks` of `size` bytes in all (all 0 when validation is off);
        `parallel` lets big batches with checksums to verify go to the worker pool. Safe to call
        from any thread."""
        if not self._config.enable_validation:
            return bytes(len(chunks))
        return self._validation_codes(chunks, size, parallel,
                                      checksums and self._config.verify_checksums)

    def process_chunk_stream(self, chunks: Iterable[MediaChunk], *,
                             return_exceptions: bool = False) -> Iterator:
        """Process a stream of chunks (any iterable, a service's ChunkStream included) and yield the
        ready chunks in per-stream order, flushing what is buffered when the input ends. With
        `return_exceptions=True` rejected chunks come out as exception objects in place; otherwise
        they are counted, announced and skipped. For asyncio code: `aprocess_chunk_stream`."""
        if not hasattr(chunks, "__iter__"):
            raise TypeError(f"chunks must be an iterable, not {type(chunks).__name__} (use "
                            "aprocess_chunk_stream for an async iterable)")
        return self._process(iter(chunks), return_exceptions)

    def aprocess_chunk_stream(self, chunks: Union[Iterable[MediaChunk], AsyncIterable[MediaChunk]],
                              *, return_exceptions: bool = False) -> AsyncIterator:
        """`process_chunk_stream` as an async iterator, over an async or a sync iterable. Batches
        are processed in the loop's thread (no executor thread); a cancelled `anext` loses
        nothing: chunks already taken from the input stay in the iterator."""
        if not hasattr(chunks, "__aiter__") and not hasattr(chunks, "__iter__"):
            raise TypeError(f"chunks must be an iterable or an async iterable, not "
                            f"{type(chunks).__name__}")
        return _ProcessedChunks(self, chunks, return_exceptions)

    def _process(self, chunks, return_exceptions):
        batch_size = self._config.batch_size
        batch = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= batch_size:
                yield from self.process_batch(batch, return_exceptions=return_exceptions)
                batch = []
                yield from self.expire_stale()
        if batch:
            yield from self.process_batch(batch, return_exceptions=return_exceptions)
        yield from self.flush()

    def flush(self, stream_id: Optional[str] = None) -> List[MediaChunk]:
        """Deliver everything buffered (for one stream, or all), declaring the holes lost."""
        with self._lock:
            names = [stream_id] if stream_id is not None else list(self._streams)
            ready = self._take_pending()
            for name in names:
                stream = self._streams.get(name)
                if stream is not None and stream.reorder.buffered:
                    part: list = []
                    stream.reorder.flush(part)
                    self._settle(stream, len(part))
                    ready.extend(part)
            return ready

    def forget_stream(self, stream_id: str) -> List[MediaChunk]:
        """Stop tracking a stream and drop its remembered position (its next chunk starts it afresh
        at sequence 0); returns what it still had buffered, holes declared lost. The streaming
        service calls it when one of its streams finishes."""
        with self._lock:
            released = self.flush(stream_id)
            self._streams.pop(stream_id, None)
            self._positions.pop(stream_id, None)
            return released

    def buffered_in(self, stream_id: str) -> int:
        """How many chunks of the stream wait behind a hole (0 for an unknown stream)."""
        with self._lock:
            stream = self._streams.get(stream_id)
            return stream.reorder.buffered if stream is not None else 0

    def expire_stale(self, now_ns: Optional[int] = None) -> List[MediaChunk]:
        """Release chunks of streams that made no progress for `sequence_timeout` (holes declared
        lost). Called by process_chunk_stream; call it yourself when you drive process_single_chunk."""
        with self._lock:
            ready = self._take_pending()
            ready += self._expire_all(self._clock() if now_ns is None else now_ns)
            return ready

    def _expire_all(self, now_ns: int) -> list:
        # Called with the lock held.
        ready: list = []
        if not self._timeout_ns or not self._buffered:
            return ready
        for stream in self._streams.values():
            reorder = stream.reorder
            if reorder.buffered and now_ns - reorder.last_progress_ns >= self._timeout_ns:
                part: list = []
                reorder.expire(now_ns, part)
                self._settle(stream, len(part))
                ready.extend(part)
        return ready

    def _take_pending(self) -> list:
        # Chunks released by a sweep while a chunk was being refused; they lead the next output.
        pending, self._pending = self._pending, []
        return pending

    # --- statistics ------------------------------------------------------------------------------

    def get_stats(self) -> ChunkProcessorStats:
        """A snapshot of the counters; buffer_utilization = buffered chunks / max_buffer_size."""
        with self._lock:
            stats = replace(self._stats)
            received = stats.chunks_received
            stats.average_processing_time_ms = self._busy_ns / received / 1e6 if received else 0.0
            stats.buffer_utilization = self._buffered / self._config.max_buffer_size
            stats.streams = len(self._streams)
            return stats

    def get_stream_stats(self, stream_id: str) -> StreamCounters:
        """Per-stream accounting (KeyError for a stream the processor does not track)."""
        with self._lock:
            stream = self._streams[stream_id]
            counters = replace(stream.counters)
            counters.buffered = stream.reorder.buffered
            counters.lost = stream.reorder.lost
            return counters

    def stream_ids(self) -> List[str]:
        """The streams currently tracked."""
        with self._lock:
            return list(self._streams)

    def monitoring_stream(self, interval: float = 1.0) -> PeriodicSnapshots[ChunkProcessorStats]:
        """Stats snapshots: the first at once, then every `interval` seconds, forever (RS2's
        create_monitoring_stream), with `for` or `async for` (async readers hold no thread)."""
        return PeriodicSnapshots(self.get_stats, interval)

    @property
    def pool(self) -> WorkerPool:
        """The processor's worker pool (`parallel_processing` threads), shared with its callers."""
        return self._pool

    def close(self) -> None:
        """Stop the worker threads (the processor stays usable; they restart on demand)."""
        self._pool.shutdown()

    # --- internals -------------------------------------------------------------------------------

    def _validation_codes(self, chunks: list, size: int, parallel: bool, verify: bool) -> bytes:
        config = self._config

        def kernel(part):
            return _chunk.validate_batch(part, config.audio_size_limit, config.video_size_limit,
                                         config.other_size_limit, verify)

        parallel = (parallel and self._pool.workers > 1 and verify and
                    size >= config.parallel_min_bytes * self._pool.workers)
        try:
            return bytes(self._pool.map_slices(kernel, chunks)) if parallel else kernel(chunks)
        except Exception as error:
            for chunk in chunks:  # name the chunk that made the kernel fail
                try:
                    kernel([chunk])
                except Exception as culprit:
                    raise ChunkProcessingError(
                        f"validation failed unexpectedly: {culprit!r}", stream_id=chunk.stream_id,
                        sequence_number=chunk.sequence_number) from culprit
            raise ChunkProcessingError(f"validation failed unexpectedly: {error!r}") from error

    def _validation_error(self, chunk, code) -> ValidationFailed:
        message = _chunk.validation_message(code, chunk.chunk_type)
        where = {"stream_id": chunk.stream_id, "sequence_number": chunk.sequence_number}
        if code in (_chunk.VALIDATION_MALFORMED_CHECKSUM, _chunk.VALIDATION_CHECKSUM_MISMATCH):
            return ChecksumMismatch(message, **where)
        return ValidationFailed(message, **where)

    def _reject_invalid(self, chunk, code) -> ValidationFailed:
        # Called with the lock held.
        error = self._validation_error(chunk, code)
        self._stats.chunks_received += 1
        self._stats.validation_failures += 1
        self._stats.chunks_dropped += 1
        stream = self._streams.get(chunk.stream_id)
        if stream is not None:
            stream.counters.received += 1
            stream.counters.invalid += 1
        self._drop_event(chunk, f"validation failed: {error.reason}")
        return error

    def _reorder_one(self, chunk: MediaChunk, now_ns: int) -> List[MediaChunk]:
        # Called with the lock held. Returns the ready chunks or raises the rejection.
        stats = self._stats
        stats.chunks_received += 1
        if not self._config.enable_reordering:
            stats.chunks_processed += 1
            stats.chunks_delivered += 1
            return [chunk]
        stream = self._stream(chunk.stream_id)
        if stream is None:
            raise self._too_many_streams(chunk)
        stream.counters.received += 1
        reorder = stream.reorder
        if chunk.sequence_number > reorder.next_expected and self._under_pressure(len(chunk)):
            self._pending += self._expire_all(now_ns)     # timed-out streams make room first
            if self._under_pressure(len(chunk)):
                raise self._reject(stream, chunk, _reorder.OVERFLOW,
                                   "the processor's buffered chunks or bytes are at their bound")
        ready: list = []
        status = reorder.insert(chunk.sequence_number, chunk, now_ns, ready)
        if status != _reorder.ACCEPTED:
            if ready:                       # a timeout inside insert released chunks: keep them
                self._settle(stream, len(ready))
                self._pending += ready
            raise self._reject(stream, chunk, status)
        stats.chunks_processed += 1
        self._settle(stream, len(ready))
        self._streams.move_to_end(chunk.stream_id)
        return self._take_pending() + ready if self._pending else ready

    def _reorder_grouped(self, chunks: list, codes: bytes, now_ns: int, out: list) -> None:
        # Called with the lock held, when the batch cannot break the memory bounds: one C
        # insert_chunks per stream; only rejected chunks are looked at one by one.
        if codes.count(0) != len(codes):
            for chunk, code in zip(chunks, codes):
                if code:
                    self._reject_invalid(chunk, code)
        for stream_id, group in _chunk.group_by_stream(chunks, codes).items():
            stream = self._stream(stream_id)
            if stream is None:
                for chunk in group:
                    self._stats.chunks_received += 1
                    self._too_many_streams(chunk)
                continue
            statuses = bytearray(len(group))
            start = len(out)
            stream.reorder.insert_chunks(group, now_ns, statuses, out)
            accepted = statuses.count(0)
            self._stats.chunks_received += len(group)
            self._stats.chunks_processed += accepted
            stream.counters.received += len(group)
            if accepted != len(group):
                for chunk, status in zip(group, statuses):
                    if status:
                        self._reject(stream, chunk, status)
            self._settle(stream, len(out) - start)
            self._streams.move_to_end(stream_id)

    def _room_for(self, count: int, size: int) -> bool:
        """Whether buffering `count` more chunks of `size` bytes in all would stay within the memory
        bounds."""
        config = self._config
        return (self._buffered + count <= config.max_buffer_size
                and self._buffered_bytes + size <= config.max_buffered_bytes)

    def _settle(self, stream: _Stream, released: int) -> None:
        # Bring the counters up to date after chunks went into and out of a stream's buffer.
        reorder = stream.reorder
        buffered = reorder.buffered
        buffered_bytes = reorder.buffered_bytes
        self._buffered += buffered - stream.buffered
        self._buffered_bytes += buffered_bytes - stream.buffered_bytes
        stream.buffered, stream.buffered_bytes = buffered, buffered_bytes
        stream.counters.delivered += released
        self._stats.chunks_delivered += released
        self._sync_kernel_counters(stream)

    def _sync_kernel_counters(self, stream: _Stream) -> None:
        reorder = stream.reorder
        lost, stored = reorder.lost, reorder.stored
        self._stats.chunks_lost += lost - stream.lost_seen
        self._stats.chunks_reordered += stored - stream.stored_seen
        stream.lost_seen, stream.stored_seen = lost, stored

    def _reject(self, stream: _Stream, chunk: MediaChunk, status: int,
                detail: str = "") -> ChunkProcessingError:
        """Count and announce a chunk the reorder step refused; return its error."""
        counter, stat = _STATUS_FIELD[status]
        setattr(stream.counters, counter, getattr(stream.counters, counter) + 1)
        setattr(self._stats, stat, getattr(self._stats, stat) + 1)
        self._stats.chunks_dropped += 1
        reorder = stream.reorder
        where = {"stream_id": chunk.stream_id}
        seq = chunk.sequence_number
        if status == _reorder.DUPLICATE:
            error, reason = DuplicateChunk(seq, **where), "duplicate"
        elif status == _reorder.LATE:
            error = LateChunk(seq, reorder.next_expected, **where)
            reason = "late (below the delivered watermark)"
        elif status == _reorder.GAP:
            error = SequenceGap(reorder.next_expected, seq, **where)
            reason = f"sequence gap (expected {reorder.next_expected})"
        else:
            error, reason = BufferOverflow(detail, sequence_number=seq, **where), "buffer overflow"
        self._sync_kernel_counters(stream)
        self._drop_event(chunk, reason)
        return error

    def _too_many_streams(self, chunk: MediaChunk) -> BufferOverflow:
        self._stats.buffer_overflows += 1
        self._stats.chunks_dropped += 1
        self._drop_event(chunk, "buffer overflow (too many streams)")
        return BufferOverflow(f"{self._config.max_streams} streams are tracked and all hold "
                              "buffered chunks", stream_id=chunk.stream_id,
                              sequence_number=chunk.sequence_number)

    def _under_pressure(self, size: int) -> bool:
        return (self._buffered >= self._config.max_buffer_size
                or self._buffered_bytes + size > self._config.max_buffered_bytes)

    def _stream(self, stream_id: str) -> Optional[_Stream]:
        """The stream's state, created on first sight; None when the stream bound is reached and
        no tracked stream is idle (nothing buffered) so that it could be forgotten."""
        stream = self._streams.get(stream_id)
        if stream is None:
            position = self._positions.pop(stream_id, 0)
            if len(self._streams) >= self._config.max_streams and not self._forget_idle_stream():
                if position:
                    self._positions[stream_id] = position
                return None
            config = self._config
            stream = _Stream(_reorder.ReorderBuffer(
                config.max_reorder_window, next_expected=position,
                timeout_ns=self._timeout_ns, resync_after=config.resync_after))
            self._streams[stream_id] = stream
        return stream

    def _forget_idle_stream(self) -> bool:
        # Least recently active first, and only streams with nothing buffered; the position is
        # remembered (an int each, for 16 x max_streams streams) so that the stream resumes there.
        for name, stream in self._streams.items():
            if not stream.reorder.buffered:
                del self._streams[name]
                self._stats.streams_evicted += 1
                self._positions[name] = stream.reorder.next_expected
                self._positions.move_to_end(name)
                if len(self._positions) > _POSITIONS_PER_STREAM * self._config.max_streams:
                    self._positions.popitem(last=False)
                return True
        return False

    def _drop_event(self, chunk, reason: str) -> None:
        self._events.emit(ChunkDropped(stream_id=chunk.stream_id, user_id=0,
                                       sequence_number=chunk.sequence_number, reason=reason))


def _require_chunk(chunk) -> None:
    if not isinstance(chunk, MediaChunk):
        raise TypeError(f"expected a MediaChunk, got {type(chunk).__name__}")


def _chunk_list(chunks: Iterable[MediaChunk]) -> Tuple[list, int]:
    """`chunks` as a list of MediaChunks and their total bytes (one C pass); TypeError naming the
    first item that is not a MediaChunk."""
    chunks = chunks if isinstance(chunks, list) else list(chunks)
    return chunks, _chunk.chunk_bytes(chunks)


class _ProcessedChunks:
    """The async iterator of `aprocess_chunk_stream`: input taken one chunk at a time into a
    batch, processed in the loop's thread, output buffered here (so a cancelled `anext` loses
    nothing)."""

    def __init__(self, processor: ChunkProcessor, chunks, return_exceptions: bool) -> None:
        self._processor = processor
        self._async = hasattr(chunks, "__aiter__")
        self._input = chunks.__aiter__() if self._async else iter(chunks)
        self._return_exceptions = return_exceptions
        self._batch: list = []
        self._ready: deque = deque()
        self._ended = False

    def __aiter__(self) -> "_ProcessedChunks":
        return self

    async def __anext__(self):
        processor = self._processor
        while not self._ready:
            if self._ended:
                raise StopAsyncIteration
            try:
                chunk = await self._input.__anext__() if self._async else next(self._input)
            except (StopAsyncIteration, StopIteration):
                self._ended = True
                self._run_batch()
                self._ready.extend(processor.flush())
                continue
            self._batch.append(chunk)
            if len(self._batch) >= processor.config.batch_size:
                self._run_batch()
                self._ready.extend(processor.expire_stale())
        return self._ready.popleft()

    def _run_batch(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            self._ready.extend(self._processor.process_batch(
                batch, return_exceptions=self._return_exceptions))
