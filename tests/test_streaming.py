"""MediaStreamingService: RS2's sound streaming cases, RS2's defects fixed, events, metrics, asyncio."""
import asyncio
import gc
import os
import threading
import time

import pytest

from rs2fast.errors import StreamTruncated
from rs2fast.events import (BufferUnderrun, ChunkDropped, QualityChanged, StreamStarted,
                            StreamStopped)
from rs2fast.streaming import (MediaStreamingService, StreamingServiceFactory, determine_chunk_type,
                               determine_priority)
from rs2fast.types import ChunkType, MediaPriority, MediaStream, MediaType, QualityLevel

I, P, B, A = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME, ChunkType.AUDIO


def media(stream_id="s", chunk_size=10, content=MediaType.VIDEO, **metadata):
    return MediaStream(id=stream_id, user_id=7, content_type=content, quality=QualityLevel.HIGH,
                       chunk_size=chunk_size, metadata={k: str(v) for k, v in metadata.items()})


def write(tmp_path, size, name="media.bin"):
    path = tmp_path / name
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return path


@pytest.fixture
def service():
    svc = MediaStreamingService(64)
    yield svc
    svc.shutdown()


def threads_named_rs2fast():
    return [t for t in threading.enumerate() if t.name.startswith("rs2fast-") and t.is_alive()]


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_rs2_gop_rule():
    expected = [(0, I), (1, P), (2, P), (3, B), (4, P), (5, P), (6, B), (30, I), (60, I)]
    for seq, chunk_type in expected:
        assert determine_chunk_type(seq) == chunk_type
        assert determine_priority(seq) == chunk_type.default_priority
    assert determine_priority(3) == MediaPriority.LOW


def test_rs2_25_byte_file_in_chunks_of_10(service, tmp_path):
    path = write(tmp_path, 25)
    chunks = list(service.start_file_stream(path, media()))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert [c.is_final for c in chunks] == [False, False, True]
    assert [c.sequence_number for c in chunks] == [0, 1, 2]
    assert [c.chunk_type for c in chunks] == [I, P, P]
    assert [c.timestamp_ns for c in chunks] == [0, 33_333_333, 66_666_666]
    assert b"".join(bytes(c.data) for c in chunks) == path.read_bytes()
    assert all(c.checksum_matches() and c.checksum.startswith("crc32c:") for c in chunks)


def test_exact_multiple_of_chunk_size_marks_the_last_chunk_final(service, tmp_path):
    chunks = list(service.start_file_stream(write(tmp_path, 20), media()))   # RS2: no final marker
    assert [c.is_final for c in chunks] == [False, True]


def test_empty_file_gives_no_chunks_but_start_and_stop_events(service, tmp_path):
    events = []
    service.subscribe(events.append)
    assert list(service.start_file_stream(write(tmp_path, 0), media())) == []
    assert wait_until(lambda: any(isinstance(e, StreamStopped) for e in events))
    assert isinstance(events[0], StreamStarted)


def test_audio_streams_get_audio_chunks(service, tmp_path):
    chunks = list(service.start_file_stream(write(tmp_path, 40), media(content=MediaType.AUDIO)))
    assert {c.chunk_type for c in chunks} == {A}


def test_missing_file_raises(service, tmp_path):
    with pytest.raises(FileNotFoundError):
        service.start_file_stream(tmp_path / "nope.bin", media())


def test_large_file_in_many_windows_is_exact(tmp_path):
    data_path = write(tmp_path, 3 * (1 << 20) + 123)
    with MediaStreamingService(8, batch=4) as svc:
        chunks = list(svc.start_file_stream(data_path, media(chunk_size=4096)))
    assert b"".join(bytes(c.data) for c in chunks) == data_path.read_bytes()
    assert [c.sequence_number for c in chunks] == list(range(len(chunks)))
    assert sum(c.is_final for c in chunks) == 1 and chunks[-1].is_final


@pytest.mark.parametrize("workers", [1, 2])
def test_truncation_while_reading_is_reported(tmp_path, workers):
    from rs2fast import streaming
    from rs2fast.chunk_processor import ChunkProcessorConfig
    path = write(tmp_path, 100_000)
    config = ChunkProcessorConfig(parallel_processing=workers)
    with MediaStreamingService(4, processor_config=config, batch=1) as svc:
        stream = svc.start_file_stream(path, media(chunk_size=1000))
        first = next(stream)
        os.truncate(path, 30_000)                       # another process cuts the file
        rest = []
        with pytest.raises(StreamTruncated):
            for chunk in stream:
                rest.append(chunk)
    got = 1 + len(rest)                                 # read-ahead may have read a little more
    assert got < 100 and not any(c.is_final for c in [first, *rest])


def test_no_stall_when_nobody_reads_the_shared_stream(tmp_path):
    # RS2 stalled after 64 + capacity + 1 chunks when get_chunk_stream() was not drained.
    svc = MediaStreamingService(1)
    chunks = list(svc.start_file_stream(write(tmp_path, 1000), media()))
    assert len(chunks) == 100
    svc.shutdown()


def test_shared_stream_gets_every_stream_in_priority_order(tmp_path):
    svc = MediaStreamingService(1024)
    shared = svc.get_chunk_stream()
    for name in ("a", "b"):
        list(svc.start_file_stream(write(tmp_path, 300, name), media(name)))
    got = []
    for chunk in shared:
        got.append(chunk)
        if len(got) == 60:
            break
    assert len(got) == 60 and {c.stream_id for c in got} == {"a", "b"}
    priorities = [int(c.priority) for c in got]
    assert priorities == sorted(priorities, reverse=True)
    shared.close()
    svc.shutdown()


def test_shared_only_consumer_with_discarded_stream_object(tmp_path):
    svc = MediaStreamingService(16)
    shared = svc.get_chunk_stream()
    svc.start_file_stream(write(tmp_path, 500), media())      # object dropped at once
    got = []
    for chunk in shared:
        got.append(chunk.sequence_number)
        if len(got) == 50:
            break
    assert sorted(got) == list(range(50))
    svc.shutdown()


def test_rs2_live_stream_with_max_chunks_5():
    with MediaStreamingService(64) as svc:
        stream = svc.start_live_stream(media(chunk_size=1024, max_chunks=5, frame_rate=200))
        chunks = list(stream)
        assert [c.sequence_number for c in chunks] == [0, 1, 2, 3, 4]
        assert all(len(c) == 1024 for c in chunks)
        assert [c.chunk_type for c in chunks] == [I, P, P, B, P]
        assert [c.is_final for c in chunks] == [False] * 4 + [True]
        metrics = svc.get_metrics("s")
        assert metrics.chunks_processed == 5 and metrics.bytes_processed == 5120
        assert metrics.average_chunk_size == 1024


def test_live_stream_from_iterable_callable_and_async_iterable():
    with MediaStreamingService(64) as svc:
        assert [bytes(c.data) for c in svc.start_live_stream(media("it"), [b"ab", b"cd"])] == [b"ab", b"cd"]
        pieces = iter([b"x" * 25, None])
        chunks = list(svc.start_live_stream(media("fn"), lambda: next(pieces)))
        assert [len(c) for c in chunks] == [10, 10, 5]          # longer data split at chunk_size

    async def run():
        async def source():
            for i in range(3):
                yield bytes([i]) * 4
                await asyncio.sleep(0)

        async with MediaStreamingService(64) as svc:
            return [bytes(c.data) async for c in svc.start_live_stream(media("async"), source())]

    assert asyncio.run(run()) == [b"\x00" * 4, b"\x01" * 4, b"\x02" * 4]


def test_live_producer_stops_after_the_consumer_leaves():
    svc = MediaStreamingService(8)
    stream = svc.start_live_stream(media(frame_rate=500))     # unbounded synthetic source
    next(iter(stream))
    stream.close()
    assert wait_until(lambda: not threads_named_rs2fast())
    produced = svc.get_metrics("s").chunks_processed
    time.sleep(0.1)
    assert svc.get_metrics("s").chunks_processed == produced  # RS2 kept producing for ever
    svc.shutdown()


def test_dropping_the_stream_object_stops_the_producer():
    svc = MediaStreamingService(8)
    svc.start_live_stream(media(frame_rate=500))
    gc.collect()
    assert wait_until(lambda: not threads_named_rs2fast())
    svc.shutdown()


def test_shutdown_stops_everything_wakes_consumers_and_is_idempotent(tmp_path):
    svc = MediaStreamingService(2)
    events = []
    svc.subscribe(events.append)
    live = svc.start_live_stream(media("live", frame_rate=1000))
    file_stream = svc.start_file_stream(write(tmp_path, 10_000), media("file"))  # producer blocks: full
    shared = svc.get_chunk_stream()
    results = []
    consumer = threading.Thread(target=lambda: results.append(sum(1 for _ in shared)))
    consumer.start()
    time.sleep(0.1)
    svc.shutdown()
    svc.shutdown()
    consumer.join(3)
    assert not consumer.is_alive() and results
    assert wait_until(lambda: not threads_named_rs2fast())
    stops = [e for e in events if isinstance(e, StreamStopped)]
    assert sorted(e.stream_id for e in stops) == ["file", "live"]
    list(live), list(file_stream)                                # both end instead of hanging
    with pytest.raises(RuntimeError):
        svc.start_live_stream(media("late"))


def test_metrics_totals_and_buffer_utilization(tmp_path):
    with MediaStreamingService(100) as svc:
        shared = svc.get_chunk_stream()
        list(svc.start_file_stream(write(tmp_path, 95), media()))
        totals = svc.get_metrics()
        assert totals.stream_id == "*" and totals.chunks_processed == 10 and totals.bytes_processed == 95
        assert totals.buffer_utilization == pytest.approx(10 / 100)      # the unread shared queue
        assert svc.get_metrics("s").buffer_utilization == 0.0             # the stream was read
        shared.close()
        with pytest.raises(KeyError):
            svc.get_metrics("unknown")


def test_metrics_stream_first_snapshot_at_once():
    with MediaStreamingService(10) as svc:
        started = time.monotonic()
        first = next(iter(svc.get_metrics_stream(interval=5)))
        assert time.monotonic() - started < 1
        assert first.chunks_processed == 0 and first.bytes_processed == 0

        async def two():
            out = []
            async for snapshot in svc.get_metrics_stream(interval=0.01):
                out.append(snapshot)
                if len(out) == 2:
                    return out

        assert len(asyncio.run(two())) == 2


def test_events_iterator_sees_start_and_stop(tmp_path):
    svc = MediaStreamingService(10)
    feed = svc.events()
    list(svc.start_file_stream(write(tmp_path, 30), media()))
    wait_until(lambda: svc.get_metrics("s").chunks_processed == 3)
    svc.shutdown()
    kinds = [type(e) for e in feed]                    # ends because the service shut down
    assert kinds[0] is StreamStarted and StreamStopped in kinds
    assert list(svc.events()) == []                    # a feed opened after shutdown is empty


def test_stream_stopped_carries_bytes_and_user(tmp_path):
    events = []
    with MediaStreamingService(10) as svc:
        svc.subscribe(events.append)
        list(svc.start_file_stream(write(tmp_path, 30), media()))
        assert wait_until(lambda: any(isinstance(e, StreamStopped) for e in events))
    stop = next(e for e in events if isinstance(e, StreamStopped))
    assert stop.bytes_transferred == 30 and stop.user_id == 7


def test_buffer_underrun_is_announced_once_per_starvation():
    events = []
    frames = iter([b"a", b"b", None])

    def slow_source():
        time.sleep(0.3)
        return next(frames)

    with MediaStreamingService(10, underrun_after=0.05) as svc:
        svc.subscribe(events.append)
        assert len(list(svc.start_live_stream(media(), slow_source))) == 2
        paced = svc.start_live_stream(media("paced", frame_rate=100, max_chunks=10))
        assert len(list(paced)) == 10
    under = [e for e in events if isinstance(e, BufferUnderrun)]
    assert {e.stream_id for e in under} == {"s"}               # a paced stream is not starving
    assert 1 <= len(under) <= 3 and all(0 <= e.buffer_level <= 1 for e in under)


def test_live_pressure_sheds_low_priority_chunks_and_steps_quality_down():
    events = []
    svc = MediaStreamingService(8, overflow="drop_lowest", adaptive=True)
    svc.subscribe(events.append)
    stream = svc.start_live_stream(media(frame_rate=2000, max_chunks=400))
    assert wait_until(lambda: svc.get_metrics("s").chunks_processed >= 400, timeout=10)
    kept = list(stream)
    drops = [e for e in events if isinstance(e, ChunkDropped)]
    assert len(kept) + len(drops) == 400                        # every chunk accounted for
    assert all(c.chunk_type == I for c in kept if c.sequence_number % 30 == 0)   # keyframes survive
    assert svc.get_metrics("s").dropped_chunks == len(drops)
    changes = [e for e in events if isinstance(e, QualityChanged)]
    assert changes and changes[0].old_quality == QualityLevel.HIGH
    assert changes[0].new_quality == QualityLevel.MEDIUM
    svc.shutdown()


def test_factories():
    live = StreamingServiceFactory.create_live_streaming_service()
    files = StreamingServiceFactory.create_file_streaming_service()
    low = StreamingServiceFactory.create_low_latency_service()
    try:
        assert (live.buffer_capacity, files.buffer_capacity, low.buffer_capacity) == (2048, 512, 128)
        assert live.adaptive and low.adaptive and not files.adaptive
        assert low.batch == 4
    finally:
        for svc in (live, files, low):
            svc.shutdown()


def test_asyncio_consumer_of_a_file_stream(tmp_path):
    path = write(tmp_path, 1000)

    async def run():
        async with MediaStreamingService(4) as svc:
            async with svc.start_file_stream(path, media()) as stream:
                return [c.sequence_number async for c in stream]

    assert asyncio.run(run()) == list(range(100))


def test_duplicate_active_stream_id_is_refused(service):
    stream = service.start_live_stream(media(frame_rate=100))
    with pytest.raises(ValueError, match="already active"):
        service.start_live_stream(media(frame_rate=100))
    stream.close()


def test_reprs_show_the_state_at_a_glance(tmp_path):
    with MediaStreamingService(16, overflow="drop_lowest", batch=4) as svc:
        stream = svc.start_file_stream(write(tmp_path, 100), media("movie"))
        shared = svc.get_chunk_stream()
        text = repr(svc)
        assert "buffer_capacity=16" in text and "'drop_lowest'" in text and "batch=4" in text
        assert "active_streams=" in text and "closed=False" in text
        assert "stream_id='movie'" in repr(stream) and "capacity=16" in repr(stream)
        assert "capacity=16" in repr(shared) and "open=True" in repr(shared)
        list(stream)
        shared.close()
        assert "open=False" in repr(shared)
    assert "closed=True" in repr(svc)


def test_a_service_stream_feeds_the_processor_in_plain_sync_code(tmp_path):
    from rs2fast.chunk_processor import ChunkProcessor
    processor = ChunkProcessor()
    with MediaStreamingService(8) as svc:
        chunks = list(processor.process_chunk_stream(svc.start_file_stream(write(tmp_path, 95), media())))
    assert [c.sequence_number for c in chunks] == list(range(10))


def test_metrics_stream_works_with_for_and_async_for():
    with MediaStreamingService(8) as svc:
        metrics = svc.get_metrics_stream(interval=0.01)
        first, second = next(metrics), next(metrics)
        assert first.stream_id == second.stream_id == "*"

        async def read_two():
            stream = svc.get_metrics_stream(interval=0.01)
            return [await anext(stream), await anext(stream)]

        assert len(asyncio.run(read_two())) == 2
    assert list(metrics) == []                          # ends at shutdown



@pytest.mark.parametrize("live", [False, True])
def test_the_service_checksums_its_own_chunks_once(tmp_path, live):
    # The split computes each checksum; validation then checks sizes and ids, not the bytes again.
    calls = []
    with MediaStreamingService(64) as svc:
        validate = svc.processor.validate

        def spy(chunks, **kwargs):
            calls.append(kwargs)
            return validate(chunks, **kwargs)

        svc.processor.validate = spy
        if live:
            chunks = list(svc.start_live_stream(media(), [b"x" * 95]))
        else:
            chunks = list(svc.start_file_stream(write(tmp_path, 95), media()))
    assert len(chunks) == 10 and all(c.checksum_matches() for c in chunks)
    assert calls and all(kwargs == {"checksums": False} for kwargs in calls)
