"""ChunkProcessor: RS2's sound cases, RS2's defects fixed, bounds, events, conservation, parallelism."""
import asyncio
import random
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st

from rs2fast._chunk import checksum_hex
from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig, ChunkProcessorStats
from rs2fast.errors import (BufferOverflow, ChecksumMismatch, ChunkProcessingError, DuplicateChunk,
                            LateChunk, SequenceGap, ValidationFailed)
from rs2fast.events import ChunkDropped
from rs2fast.types import ChunkType, MediaChunk

A, I, P, M, T = (ChunkType.AUDIO, ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME,
                 ChunkType.METADATA, ChunkType.THUMBNAIL)


def chunk(seq, stream="s", data=b"x" * 1024, chunk_type=P, checksum=None):
    return MediaChunk(stream, seq, data, chunk_type, checksum=checksum)


def processor(**kwargs):
    kwargs.setdefault("parallel_processing", 1)
    return ChunkProcessor(ChunkProcessorConfig(**kwargs))


def seqs(chunks):
    return [c.sequence_number for c in chunks]


class FakeClock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now


def test_config_defaults_follow_the_seed():
    config = ChunkProcessorConfig()
    assert config.max_buffer_size == 1024 and config.sequence_timeout == timedelta(seconds=5)
    assert config.enable_reordering and config.max_reorder_window == 32
    assert config.enable_validation and config.parallel_processing == 4
    assert ChunkProcessorConfig(sequence_timeout=1.5).sequence_timeout == timedelta(seconds=1.5)
    for bad in ({"max_reorder_window": 0}, {"parallel_processing": 0}, {"resync_after": 1},
                {"sequence_timeout": -1}):
        with pytest.raises(ValueError):
            ChunkProcessorConfig(**bad)
    with pytest.raises(TypeError):
        ChunkProcessorConfig(sequence_timeout="5s")


def test_rs2_reordering_2_0_1_returns_the_real_chunks_in_order():
    proc = processor(max_reorder_window=5)
    inputs = [chunk(2), chunk(0, chunk_type=I), chunk(1)]
    out = [c for x in inputs for c in proc.process_single_chunk(x)]
    assert seqs(out) == [0, 1, 2]
    assert out[0] is inputs[1] and out[0].data == b"x" * 1024     # RS2 returned empty stubs
    assert [c.chunk_type for c in out] == [I, P, P]
    stats = proc.get_stats()
    assert stats.chunks_reordered == 1 and stats.chunks_processed == 3


def test_buffer_utilization_is_buffered_over_capacity():
    proc = processor(max_buffer_size=5)
    proc.process_single_chunk(chunk(2))
    proc.process_single_chunk(chunk(3))
    assert proc.get_stats().buffer_utilization == pytest.approx(0.4)


def test_rs2_duplicate_detection():
    proc = processor()
    assert proc.process_single_chunk(chunk(1)) == []
    with pytest.raises(DuplicateChunk, match="Duplicate chunk: 1"):
        proc.process_single_chunk(chunk(1))
    assert proc.process_single_chunk(chunk(2)) == []
    stats = proc.get_stats()
    assert stats.duplicates == 1 and stats.chunks_dropped == 1


def test_duplicate_of_an_already_delivered_chunk():
    proc = processor()
    proc.process_single_chunk(chunk(0))
    with pytest.raises(DuplicateChunk):
        proc.process_single_chunk(chunk(0, data=b"other bytes"))


def test_rs2_buffer_overflow_with_window_2():
    proc = processor(max_reorder_window=2)
    proc.process_single_chunk(chunk(1))
    proc.process_single_chunk(chunk(2))
    with pytest.raises(BufferOverflow):
        proc.process_single_chunk(chunk(3))
    stats = proc.get_stats()
    assert stats.buffer_overflows == 1 and stats.validation_failures == 0   # RS2 misfiled it


def test_rs2_sequence_gap_with_window_2():
    proc = processor(max_reorder_window=2)
    proc.process_single_chunk(chunk(0))
    with pytest.raises(SequenceGap) as info:
        proc.process_single_chunk(chunk(5))
    assert (info.value.expected, info.value.received) == (1, 5)
    assert str(info.value).startswith("Sequence gap: expected 1, received 5")
    proc2 = processor(max_reorder_window=2)
    proc2.process_single_chunk(chunk(0))
    proc2.process_single_chunk(chunk(3))                   # inclusive boundary
    with pytest.raises(SequenceGap):
        proc2.process_single_chunk(chunk(4))
    assert proc2.get_stats().sequence_gaps == 1


@pytest.mark.parametrize("make, message", [
    (lambda: MediaChunk("", 0, b"x", P), "Empty stream ID"),
    (lambda: MediaChunk("s", 0, b"", P), "Empty chunk data"),
    (lambda: MediaChunk("s", 0, bytes(65_537), A), "Audio chunk too large"),
    (lambda: MediaChunk("s", 0, bytes(1_048_577), I), "Video chunk too large"),
])
def test_rs2_validation_rules(make, message):
    proc = processor()
    with pytest.raises(ValidationFailed, match=message):
        proc.process_single_chunk(make())
    assert proc.get_stats().validation_failures == 1     # RS2 never counted these


def test_validation_limits_are_inclusive_and_other_types_uncapped():
    proc = processor(enable_reordering=False)
    for c in (MediaChunk("s", 0, bytes(65_536), A), MediaChunk("s", 1, bytes(1_048_576), I),
              MediaChunk("s", 2, bytes(3_000_000), M), MediaChunk("s", 3, bytes(3_000_000), T)):
        assert proc.process_single_chunk(c) == [c]
    capped = processor(other_size_limit=1000)
    with pytest.raises(ValidationFailed, match="too large"):
        capped.process_single_chunk(MediaChunk("s", 0, bytes(1001), M))


def test_checksum_rules():
    data = b"payload"
    proc = processor(enable_reordering=False)
    good = chunk(0, data=data, checksum=checksum_hex(data, "sha256"))
    assert proc.process_single_chunk(good) == [good]
    for bad in (checksum_hex(data, "sha256").upper(), checksum_hex(b"other", "sha256"),
                checksum_hex(b"other", "crc32c"), "crc32c:zz", "nonsense"):
        with pytest.raises(ChecksumMismatch):
            proc.process_single_chunk(chunk(1, data=data, checksum=bad))
    assert proc.get_stats().validation_failures == 5


def test_sequence_zero_is_an_ordinary_number():
    # RS2 renumbered seq-0 chunks as "unset"; here 0,0,0 is one chunk and two duplicates.
    proc = processor()
    assert seqs(proc.process_single_chunk(chunk(0, chunk_type=A))) == [0]
    for _ in range(2):
        with pytest.raises(DuplicateChunk):
            proc.process_single_chunk(chunk(0, chunk_type=A))


def test_stale_chunk_no_longer_jams_the_stream():
    # RS2, window 4: 0,1,2,3,2,4,5,6,7,8 delivered only 0..3, then overflowed for ever.
    proc = processor(max_reorder_window=4)
    out = proc.process_batch([chunk(s) for s in (0, 1, 2, 3, 2, 4, 5, 6, 7, 8)])
    assert seqs(out) == list(range(9))
    assert proc.get_stats().duplicates == 1


def test_paused_stream_keeps_its_position():
    clock = FakeClock()
    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=1, max_reorder_window=4,
                                               sequence_timeout=1), clock=clock)
    proc.process_batch([chunk(s) for s in range(11)])
    clock.now += 10 * 10**9                                # far longer than sequence_timeout
    assert proc.expire_stale() == []
    assert seqs(proc.process_batch([chunk(11), chunk(12)])) == [11, 12]   # RS2: SequenceGap{expected:0}


def test_timeout_declares_the_hole_lost_and_resumes():
    clock = FakeClock()
    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=1, sequence_timeout=1), clock=clock)
    proc.process_batch([chunk(0), chunk(2), chunk(3)])
    assert proc.get_stats().chunks_lost == 0
    clock.now += 2 * 10**9
    assert seqs(proc.expire_stale()) == [2, 3]
    stats = proc.get_stats()
    assert stats.chunks_lost == 1 and stats.chunks_delivered == 3
    with pytest.raises(LateChunk):
        proc.process_single_chunk(chunk(1))                 # the lost one arrives late
    assert proc.get_stats().late_chunks == 1


def test_consecutive_chunks_agreeing_on_a_new_position_resync_the_stream():
    proc = processor(max_reorder_window=8, resync_after=3)
    proc.process_batch([chunk(s) for s in range(5)])
    out = proc.process_batch([chunk(s) for s in range(1000, 1010)], return_exceptions=True)
    errors = [x for x in out if isinstance(x, Exception)]
    assert len(errors) == 2 and all(isinstance(e, SequenceGap) for e in errors)
    assert seqs([x for x in out if not isinstance(x, Exception)]) == list(range(1002, 1010))
    assert proc.get_stats().chunks_lost == 1002 - 5


def test_flush_delivers_buffered_chunks_declaring_holes_lost():
    proc = processor()
    proc.process_batch([chunk(1, "a"), chunk(3, "a"), chunk(2, "b")])
    assert seqs(proc.flush("a")) == [1, 3]
    assert proc.get_stream_stats("a").lost == 2
    assert seqs(proc.flush()) == [2]
    assert proc.get_stats().chunks_lost == 4


def test_process_chunk_stream_flushes_at_the_end_and_keeps_per_stream_order():
    proc = processor()
    inputs = [chunk(1, "a"), chunk(0, "b"), chunk(0, "a"), chunk(3, "a"), chunk(1, "b")]
    out = list(proc.process_chunk_stream(inputs))
    assert [(c.stream_id, c.sequence_number) for c in out if c.stream_id == "a"] == [
        ("a", 0), ("a", 1), ("a", 3)]
    assert seqs(c for c in out if c.stream_id == "b") == [0, 1]


def test_return_exceptions_puts_errors_in_place():
    proc = processor()
    out = list(proc.process_chunk_stream([chunk(0), chunk(0), chunk(1)], return_exceptions=True))
    assert isinstance(out[1], DuplicateChunk) and out[1].stream_id == "s"
    assert seqs([out[0], out[2]]) == [0, 1]


def test_aprocess_chunk_stream_takes_async_and_sync_iterables():
    proc = processor(parallel_processing=2)

    async def source():
        for s in (2, 0, 1, 3):
            yield chunk(s)

    async def collect(chunks):
        return [c async for c in proc.aprocess_chunk_stream(chunks)]

    assert seqs(asyncio.run(collect(source()))) == [0, 1, 2, 3]
    assert seqs(asyncio.run(collect([chunk(s, "t") for s in (1, 0)]))) == [0, 1]


def test_process_chunk_stream_is_sync_and_names_the_async_twin():
    proc = processor()

    async def source():
        yield chunk(0)

    agen = source()
    with pytest.raises(TypeError, match="aprocess_chunk_stream"):
        proc.process_chunk_stream(agen)
    asyncio.run(agen.aclose())
    with pytest.raises(TypeError, match="chunks"):
        proc.aprocess_chunk_stream(5)


def test_every_drop_is_announced():
    events = []
    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=1, max_reorder_window=2),
                          on_event=events.append)
    proc.process_batch([chunk(0), chunk(0), chunk(9), MediaChunk("s", 1, b"", P)])
    assert all(isinstance(e, ChunkDropped) for e in events)
    assert sorted(e.reason.split(" ")[0] for e in events) == ["duplicate", "sequence", "validation"]
    assert proc.get_stats().chunks_dropped == 3


def test_reordering_disabled_passes_chunks_through():
    proc = processor(enable_reordering=False)
    out = proc.process_batch([chunk(3), chunk(3), chunk(1000)])
    assert seqs(out) == [3, 3, 1000]


def test_memory_bounds_chunks_bytes_and_streams():
    proc = processor(max_buffer_size=3)
    proc.process_batch([chunk(1, "a"), chunk(2, "a"), chunk(1, "b")])
    with pytest.raises(BufferOverflow):
        proc.process_single_chunk(chunk(3, "a"))
    assert seqs(proc.process_single_chunk(chunk(0, "a"))) == [0, 1, 2]   # the hole filler still passes
    by_bytes = processor(max_buffered_bytes=3000)
    by_bytes.process_batch([chunk(1), chunk(2)])
    with pytest.raises(BufferOverflow):
        by_bytes.process_single_chunk(chunk(3))
    streams = processor(max_streams=2)
    streams.process_batch([chunk(0, "a"), chunk(1, "b"), chunk(1, "c")])  # "a" idle: forgotten for "c"
    assert sorted(streams.stream_ids()) == ["b", "c"]
    with pytest.raises(BufferOverflow, match="streams"):
        streams.process_single_chunk(chunk(0, "d"))     # both tracked streams hold buffered chunks
    assert streams.get_stats().streams_evicted == 1


def test_stats_snapshot_and_timing():
    proc = processor()
    proc.process_batch([chunk(s) for s in range(10)])
    stats = proc.get_stats()
    assert isinstance(stats, ChunkProcessorStats)
    assert stats.chunks_processed == stats.chunks_delivered == stats.chunks_received == 10
    assert 0 < stats.average_processing_time_ms < 1000


def test_bad_input_is_a_type_error():
    with pytest.raises(TypeError):
        processor().process_single_chunk(b"bytes")
    with pytest.raises(TypeError):
        ChunkProcessor("config")


def test_worker_failure_reaches_the_caller_with_the_chunk_identity(monkeypatch):
    from rs2fast import _chunk
    real = _chunk.validate_batch

    def flaky(chunks, *args):
        if any(c.sequence_number == 13 for c in chunks):
            raise MemoryError("simulated")
        return real(chunks, *args)

    monkeypatch.setattr(_chunk, "validate_batch", flaky)
    proc = processor(parallel_processing=2, parallel_min_bytes=0)
    big = [chunk(s, data=bytes(300_000), checksum=checksum_hex(bytes(300_000), "crc32c"))
           for s in range(20)]
    with pytest.raises(ChunkProcessingError) as info:
        proc.process_batch(big)
    assert (info.value.stream_id, info.value.sequence_number) == ("s", 13)
    monkeypatch.setattr(_chunk, "validate_batch", real)
    assert seqs(proc.process_batch(big)) == list(range(20))   # the pool is not poisoned


# --- conservation and order under random traffic -------------------------------------------------

def traffic(draw_seed, streams=3, per_stream=40):
    rng = random.Random(draw_seed)
    items = []
    for s in range(streams):
        sent = list(range(per_stream))
        for seq in list(sent):
            if rng.random() < 0.1:
                sent.remove(seq)                      # lost in transit
        sent += rng.sample(sent, k=min(len(sent), rng.randint(0, 5)))   # duplicates
        if rng.random() < 0.3:
            sent.append(rng.randint(per_stream + 50, per_stream + 200))  # one wild number
        items += [(f"st{s}", seq) for seq in sent]
    rng.shuffle(items)
    # keep the disorder local: sort by sequence with jitter
    items.sort(key=lambda item: item[1] + rng.uniform(0, 6))
    return items


@settings(max_examples=40)
@given(st.integers(0, 10**6), st.sampled_from([1, 4]), st.integers(2, 16))
def test_conservation_and_per_stream_order(seed, workers, window):
    items = traffic(seed)
    data = b"\x07" * 512
    crc = checksum_hex(data, "crc32c")
    chunks = [MediaChunk(sid, seq, data, P, checksum=crc) for sid, seq in items]
    proc = processor(parallel_processing=workers, max_reorder_window=window, parallel_min_bytes=0)
    out = list(proc.process_chunk_stream(chunks))
    for sid in {sid for sid, _ in items}:
        delivered = seqs(c for c in out if c.stream_id == sid)
        assert delivered == sorted(set(delivered))              # in order, no repeats
        counters = proc.get_stream_stats(sid)
        received = sum(1 for s, _ in items if s == sid)
        assert received == (counters.delivered + counters.buffered + counters.duplicates +
                            counters.late + counters.invalid + counters.overflowed +
                            counters.gap_rejected)
        assert counters.buffered == 0 and counters.delivered == len(delivered)
        holes = (delivered[-1] + 1 - len(delivered)) if delivered else 0
        assert counters.lost == holes                            # every missing number is counted
    stats = proc.get_stats()
    assert stats.chunks_received == len(chunks)
    assert stats.chunks_delivered == len(out)


@settings(max_examples=20)
@given(st.integers(0, 10**6))
def test_parallel_output_identical_to_serial(seed):
    items = traffic(seed, streams=4, per_stream=60)
    data = bytes(range(256)) * 2
    sha = checksum_hex(data, "sha256")
    chunks = [MediaChunk(sid, seq, data, P, checksum=sha) for sid, seq in items]
    serial = list(processor(parallel_processing=1).process_chunk_stream(chunks))
    parallel = list(processor(parallel_processing=4, batch_size=16,
                              parallel_min_bytes=0).process_chunk_stream(chunks))
    for sid in {sid for sid, _ in items}:                      # per-stream order is the promise
        assert seqs(c for c in serial if c.stream_id == sid) == seqs(
            c for c in parallel if c.stream_id == sid)
    assert len(serial) == len(parallel)


def test_monitoring_stream_works_with_for_and_async_for():
    proc = processor()
    proc.process_batch([chunk(0), chunk(1)])
    monitor = proc.monitoring_stream(interval=0.01)
    assert next(monitor).chunks_processed == 2 and next(monitor).chunks_processed == 2

    async def read_two():
        stream = proc.monitoring_stream(interval=0.01)
        return [await anext(stream), await anext(stream)]

    assert [s.chunks_processed for s in asyncio.run(read_two())] == [2, 2]


def test_validate_then_process_batch_with_codes_and_repr():
    proc = processor()
    bad = MediaChunk("s", 1, b"x", ChunkType.AUDIO, checksum="crc32c:00000000")
    chunks = [chunk(0), bad, chunk(2)]
    codes = proc.validate(chunks)
    assert codes[0] == codes[2] == 0 and codes[1] != 0
    assert proc.validate(chunks, checksums=False) == bytes(3)      # checksums not looked at
    assert proc.get_stats().chunks_received == 0                      # validate counts nothing
    with pytest.raises(ValueError, match="codes"):
        proc.process_batch(chunks, codes[:2])
    out = proc.process_batch(chunks, codes)
    assert seqs(out) == [0] and proc.get_stats().validation_failures == 1
    assert "streams=1" in repr(proc) and "buffered=1/" in repr(proc)
