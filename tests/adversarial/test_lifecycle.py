"""Adversarial stream lifecycles in the MediaStreamingService: starts that fail, a MediaStream changed
while it streams, the last chunk of finite live sources, shutdown after an async producer's loop is
gone, drops announced after a stream finished, and what the service keeps once streams finish or
readers are abandoned.

Expected: a failed start leaves nothing behind (no registered id, no event); the settings are read
once at start; `is_final` marks the true last chunk of every finite source; shutdown always
completes; every drop is counted where the events say; finished streams, finished producer tasks
and abandoned event readers cost nothing afterwards.
"""
import asyncio
import gc
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

from rs2fast.events import ChunkDropped, StreamStarted, StreamStopped
from rs2fast.streaming import MediaStreamingService
from rs2fast.types import MediaStream, MediaType, QualityLevel
from tests.test_leaks import check_debug_counters

REPO = Path(__file__).resolve().parents[2]


def media(stream_id="s", chunk_size=10, content=MediaType.VIDEO, **metadata):
    return MediaStream(stream_id, 7, content, QualityLevel.HIGH, chunk_size,
                       metadata={k: str(v) for k, v in metadata.items()})


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    return predicate()


# --- a failed start leaves nothing ---------------------------------------------------------------------

def test_an_async_source_without_a_running_loop_registers_nothing():
    async def source():
        yield b"x" * 10

    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        agen = source()
        with pytest.raises(RuntimeError, match="event loop"):
            svc.start_live_stream(media(), agen)
        assert events == [] and repr(svc).count("active_streams=0") == 1
        assert [c.sequence_number for c in svc.start_live_stream(media(), [b"y" * 10])] == [0]
    asyncio.run(agen.aclose())


@pytest.mark.parametrize("source", [5, object()])
def test_a_source_of_no_known_kind_is_a_type_error_at_start(source):
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        with pytest.raises(TypeError, match="source"):
            svc.start_live_stream(media(), source)
        assert events == []
        assert len(list(svc.start_live_stream(media(), [b"y" * 10]))) == 1


def test_a_start_refused_for_an_active_id_closes_what_it_opened(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"z" * 100)
    with MediaStreamingService(2) as svc:
        first = svc.start_file_stream(path, media())
        gc.collect()
        with _no_resource_warning():
            with pytest.raises(ValueError, match="already active"):
                svc.start_file_stream(path, media())
            gc.collect()
        assert len(b"".join(bytes(c.data) for c in first)) == 100


class _no_resource_warning:
    def __enter__(self):
        import warnings
        self._catcher = warnings.catch_warnings(record=True)
        self._seen = self._catcher.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self._catcher.__exit__(*exc)
        assert not [w for w in self._seen if issubclass(w.category, ResourceWarning)]


# --- settings are read once ------------------------------------------------------------------------

def test_changing_the_media_stream_while_it_streams_changes_nothing(tmp_path):
    data = bytes(i % 251 for i in range(50_000))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    stream = media(chunk_size=100, frame_rate=25)
    with MediaStreamingService(4, batch=1) as svc:
        chunks_stream = svc.start_file_stream(path, stream)
        got = [next(chunks_stream)]
        stream.chunk_size = 7                     # the caller's object changes mid-stream
        stream.content_type = MediaType.AUDIO
        stream.metadata = {"frame_rate": "1000"}
        got += list(chunks_stream)
    assert b"".join(bytes(c.data) for c in got) == data
    assert [c.sequence_number for c in got] == list(range(500))
    assert {len(c) for c in got} == {100}
    assert got[1].timestamp_ns == 40_000_000 and got[1].chunk_type.name.startswith("VIDEO")
    assert chunks_stream.stream is stream


def test_changing_a_live_media_stream_mid_stream_changes_nothing():
    stream = media(chunk_size=10)
    release = threading.Event()

    def source():
        yield b"a" * 25
        release.wait(5)
        yield b"b" * 25

    with MediaStreamingService(64) as svc:
        chunks_stream = svc.start_live_stream(stream, source())
        got = [next(chunks_stream)]
        stream.chunk_size = 3
        release.set()
        got += list(chunks_stream)
    assert [len(c) for c in got] == [10, 10, 5, 10, 10, 5]
    assert [c.sequence_number for c in got] == list(range(6))


@pytest.mark.parametrize("rate", ["0", "nan", "fast", "-5", "inf", "1e-300"])
def test_a_bad_frame_rate_is_a_value_error_naming_it_at_start(tmp_path, rate):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        for start in (lambda: svc.start_file_stream(path, media(frame_rate=rate)),
                      lambda: svc.start_live_stream(media(frame_rate=rate), [b"x"])):
            with pytest.raises(ValueError, match="frame_rate"):
                start()
        assert events == []


# --- the true last chunk of finite live sources -----------------------------------------------------------

def _pieces():
    return [b"a" * 25, b"b" * 10, b"c" * 3]


def _callable_source():
    pieces = iter(_pieces())
    return lambda: next(pieces, b"")


def _generator_source():
    yield from _pieces()


@pytest.mark.parametrize("make", [_pieces, _generator_source, _callable_source,
                                  lambda: iter(_pieces() + [None, b"never"])],
                         ids=["list", "generator", "callable", "None-ended"])
def test_finite_live_sources_mark_their_true_last_chunk_final(make):
    with MediaStreamingService(64) as svc:
        got = list(svc.start_live_stream(media(), make()))
    assert [len(c) for c in got] == [10, 10, 5, 10, 3]
    assert [c.is_final for c in got] == [False] * 4 + [True]


def test_an_async_generator_marks_its_true_last_chunk_final():
    async def source():
        for piece in _pieces():
            await asyncio.sleep(0)
            yield piece

    async def main():
        async with MediaStreamingService(64) as svc:
            return [c async for c in svc.start_live_stream(media(), source())]

    got = asyncio.run(main())
    assert [c.is_final for c in got] == [False] * 4 + [True]


def test_max_chunks_still_marks_the_last_and_a_failing_source_marks_none():
    with MediaStreamingService(64) as svc:
        got = list(svc.start_live_stream(media(), _pieces(), max_chunks=3))
        assert [c.is_final for c in got] == [False, False, True]

        def failing():
            yield b"a" * 10
            raise OSError("device lost")

        stream = svc.start_live_stream(media("f"), failing())
        first = next(stream)
        with pytest.raises(OSError):
            next(stream)
    assert first.sequence_number == 0 and not first.is_final


# --- shutdown when an async producer's loop is gone -----------------------------------------------------

def test_shutdown_completes_after_an_async_producers_loop_closed():
    svc = MediaStreamingService(8)
    events = []
    svc.subscribe(events.append)
    feed = svc.events()

    async def forever():
        await asyncio.Event().wait()
        yield b"never"

    loop = asyncio.new_event_loop()

    async def start():
        return svc.start_live_stream(media("a"), forever())

    stream = loop.run_until_complete(start())
    thread_stream = svc.start_live_stream(media("t"))        # a producer thread as well
    loop.close()                                             # its task will never run again
    svc.shutdown()
    assert not [t for t in threading.enumerate() if t.name.startswith("rs2fast-") and t.is_alive()]
    stopped = [e.stream_id for e in events if isinstance(e, StreamStopped)]
    assert sorted(stopped) == ["a", "t"]
    read = [type(e) for e in feed]                                     # the reader ends
    assert read.count(StreamStarted) == read.count(StreamStopped) == 2
    assert list(thread_stream) is not None
    svc.shutdown()                                           # and again: nothing left to do
    del stream


# --- drops after a stream finished --------------------------------------------------------------------

def test_shared_queue_drops_of_finished_streams_are_counted_and_name_the_user():
    svc = MediaStreamingService(4, overflow="drop_lowest")
    events = []
    svc.subscribe(events.append)
    shared = svc.get_chunk_stream()
    list(svc.start_live_stream(media("old"), [b"o" * 10] * 4))      # fills the shared queue, ends
    assert wait_until(lambda: svc.get_metrics("old").chunks_processed == 4)
    list(svc.start_live_stream(media("new"), [b"n" * 10] * 30))     # evicts old's B/P chunks
    drops = [e for e in events if isinstance(e, ChunkDropped)]
    assert drops and all(e.user_id == 7 for e in drops)
    total = svc.get_metrics()
    per_stream = svc.get_metrics("old").dropped_chunks + svc.get_metrics("new").dropped_chunks
    assert total.dropped_chunks == per_stream == len(drops)
    assert svc.get_metrics("old").dropped_chunks == len([e for e in drops if e.stream_id == "old"])
    shared.close()
    svc.shutdown()


# --- events ------------------------------------------------------------------------------------------------

def test_every_event_reader_sees_events_from_concurrent_streams_in_one_order():
    threads, rounds = 4, 60
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)            # threads switch often: emitters interleave
    try:
        seen = emit_from_threads(threads, rounds)
    finally:
        sys.setswitchinterval(interval)
    assert len(seen[0]) == 2 * threads * rounds
    assert seen[1] == seen[0] and seen[2] == seen[0]


def emit_from_threads(threads, rounds):
    with MediaStreamingService(8) as svc:
        readers = [svc.events() for _ in range(3)]
        gate = threading.Barrier(threads)

        def run(t):
            gate.wait()
            for k in range(rounds):
                list(svc.start_live_stream(media(f"t{t}-{k}"), [b"x" * 10]))

        workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return [list(reader) for reader in readers]


# --- what is kept after the end ---------------------------------------------------------------------------

def test_an_abandoned_event_reader_is_released_and_gets_nothing_more():
    with MediaStreamingService(8) as svc:
        reader = svc.events()
        list(svc.start_live_stream(media("a"), [b"x" * 10]))
        for event in reader:
            break
        assert isinstance(event, StreamStarted)
        ref = weakref.ref(reader)
        del reader
        gc.collect()
        assert ref() is None and len(svc._feeds) == 0
        list(svc.start_live_stream(media("b"), [b"x" * 10]))     # nobody buffers these


def test_the_processor_forgets_finished_streams(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 95)
    with MediaStreamingService(16) as svc:
        for n in range(40):
            list(svc.start_live_stream(media(f"live{n}"), [b"x" * 25]))
            list(svc.start_file_stream(path, media(f"file{n}")))
        assert wait_until(lambda: svc.processor.stream_ids() == [])
        stats = svc.processor.get_stats()
        assert stats.streams == 0 and stats.chunks_delivered == 40 * 3 + 40 * 10
        assert svc.get_metrics("file39").chunks_processed == 10       # the service's own metrics stay


def test_finished_async_producer_tasks_are_released():
    async def source():
        yield b"x" * 10

    async def main():
        async with MediaStreamingService(8) as svc:
            for n in range(20):
                assert len([c async for c in svc.start_live_stream(media(f"s{n}"), source())]) == 1
            await asyncio.sleep(0.01)
            return len(svc._tasks)

    assert asyncio.run(main()) == 0


def test_a_file_producer_keeps_feeding_the_shared_stream_after_its_consumer_left(tmp_path):
    # The stream's own buffer (2 chunks) is full when its consumer closes it; the producer must
    # keep going for the shared consumer instead of stopping.
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(200)))
    for _ in range(5):
        with MediaStreamingService(2, batch=1) as svc:
            shared = svc.get_chunk_stream()
            own = svc.start_file_stream(path, media())
            assert wait_until(lambda: svc.get_metrics("s").buffer_utilization == 1.0)
            own.close()
            got = [next(shared).sequence_number for _ in range(20)]
            assert sorted(got) == list(range(20))


def test_importing_the_service_does_not_import_the_av_half():
    code = ("import sys, rs2fast.streaming; "
            "print(sorted(m for m in sys.modules if m in ('rs2fast.container', 'rs2fast.av_codec', 'av')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
