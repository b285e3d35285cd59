"""Adversarial load and failure: consumers far slower than producers under each overflow policy,
shutdown while producers and consumers are blocked, and exceptions raised inside workers, sources
and user callbacks.

Expected: under "block" nothing is lost (producers wait); under "drop_newest"/"drop_lowest" every
drop is counted and announced (received + dropped = produced, exactly); shutdown and close wake
every blocked party and end every thread; a failing worker or source surfaces as an exception to
the caller or consumer, a failing callback is logged and counted, and nothing else is disturbed.
"""
import asyncio
import logging
import threading
import time

import pytest

from rs2fast import _chunk
from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.errors import ChunkProcessingError, QueueClosed, QueueFull
from rs2fast.events import ChunkDropped, StreamStarted, StreamStopped
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.streaming import MediaStreamingService
from rs2fast.types import ChunkType, MediaChunk, MediaStream, MediaType, QualityLevel
from tests.test_leaks import check_debug_counters

I, P, B = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME
TYPES = [I, P, P, B, P, P]


def chunk(seq, stream="s", chunk_type=None):
    return MediaChunk(stream, seq, b"x" * 8, chunk_type if chunk_type is not None else TYPES[seq % 6])


def media(stream_id="s", chunk_size=8, content=MediaType.VIDEO, **metadata):
    return MediaStream(stream_id, 7, content, QualityLevel.HIGH, chunk_size,
                       metadata={k: str(v) for k, v in metadata.items()})


def run_thread(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def joined(*threads, timeout=10.0):
    """True when every thread ended within `timeout` seconds (a hang detector, not a timing test)."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in threads)


def drops(events, stream_id=None):
    return [e for e in events if isinstance(e, ChunkDropped)
            and (stream_id is None or e.stream_id == stream_id)]


# --- a slow consumer on the priority queue, each policy ---------------------------------------------

def slow_consume(queue, sink, pause=0.0005):
    for item in queue:
        sink.append(item)
        time.sleep(pause)


def test_slow_consumer_block_policy_loses_nothing():
    queue = MediaPriorityQueue(8, "block")
    received = []
    consumer = run_thread(slow_consume, queue, received)
    sent = [chunk(s) for s in range(400)]
    for c in sent:
        assert queue.enqueue(c, timeout=10) is True
    queue.close()
    assert joined(consumer)
    assert sorted(c.sequence_number for c in received) == list(range(400))
    stats = queue.get_stats()
    assert stats.enqueued == stats.dequeued == 400 and stats.dropped == 0


def test_slow_consumer_drop_newest_counts_and_announces_every_drop():
    events = []
    queue = MediaPriorityQueue(8, "drop_newest", on_event=events.append)
    received = []
    consumer = run_thread(slow_consume, queue, received, 0.002)
    accepted = sum(queue.enqueue(chunk(s)) for s in range(400))
    queue.close()
    assert joined(consumer)
    stats = queue.get_stats()
    assert len(received) == accepted == stats.enqueued == stats.dequeued
    assert stats.dropped_newest == len(events) == 400 - accepted > 0
    assert {e.sequence_number for e in events} | {c.sequence_number for c in received} == set(range(400))


def test_slow_consumer_drop_lowest_keeps_keyframes_and_counts_every_drop():
    events = []
    queue = MediaPriorityQueue(8, "drop_lowest", on_event=events.append)
    received = []
    consumer = run_thread(slow_consume, queue, received, 0.002)
    for s in range(600):
        queue.enqueue(chunk(s))
    queue.close()
    assert joined(consumer)
    stats = queue.get_stats()
    dropped = {e.sequence_number for e in events}
    assert len(events) == stats.dropped_lowest + stats.dropped_newest > 0
    assert len(received) + len(events) == 600
    assert dropped | {c.sequence_number for c in received} == set(range(600))
    kept_types = [c.chunk_type for c in received]
    assert kept_types.count(I) / len(kept_types) > 1 / 6     # keyframes are shed last
    assert kept_types.count(B) / len(kept_types) < 2 / 6     # B-frames first
    assert stats.enqueued - stats.dropped_lowest == stats.dequeued == len(received)


def test_try_enqueue_never_blocks_and_a_timed_enqueue_gives_up():
    queue = MediaPriorityQueue(1, "block")
    queue.enqueue(chunk(0))
    blocked = run_thread(lambda: pytest.raises(QueueFull, queue.enqueue, chunk(1), timeout=0.3))
    with pytest.raises(QueueFull):
        queue.try_enqueue(chunk(2))                          # at once, behind a blocked enqueue
    assert joined(blocked)
    assert len(queue) == 1 and queue.get_stats().enqueued == 1


# --- a slow consumer on the streaming service ------------------------------------------------------

def test_slow_consumer_of_a_live_stream_every_chunk_delivered_or_announced():
    events = []
    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        stream = svc.start_live_stream(media(), [b"y" * 8] * 300)
        received = []
        for c in stream:
            received.append(c)
            time.sleep(0.001)
        metrics = svc.get_metrics("s")
    dropped = drops(events, "s")
    assert len(received) + len(dropped) == 300
    assert metrics.dropped_chunks == len(dropped) > 0
    assert {c.sequence_number for c in received} | {e.sequence_number for e in dropped} == set(range(300))
    assert all(c.chunk_type == I for c in received if c.sequence_number % 30 == 0)


def test_slow_consumer_of_a_file_stream_loses_nothing(tmp_path):
    path = tmp_path / "f.bin"
    payload = bytes(i % 253 for i in range(8 * 500))
    path.write_bytes(payload)
    events = []
    with MediaStreamingService(4, batch=8) as svc:
        svc.subscribe(events.append)
        received = []
        for c in svc.start_file_stream(path, media()):
            received.append(c)
            time.sleep(0.0005)
    assert b"".join(bytes(c.data) for c in received) == payload
    assert [c.sequence_number for c in received] == list(range(500)) and received[-1].is_final
    assert drops(events) == []


@pytest.mark.parametrize("policy", ["block", "drop_newest", "drop_lowest"])
def test_slow_shared_consumer_of_a_live_stream_under_each_policy(policy):
    events = []
    svc = MediaStreamingService(8, overflow=policy)
    svc.subscribe(events.append)
    shared = svc.get_chunk_stream()
    received = []
    consumer = run_thread(slow_consume, shared, received, 0.001)
    go = threading.Event()

    def source():
        go.wait(10)
        yield from [b"z" * 8] * 300

    own = svc.start_live_stream(media(), source())
    own.close()                                  # only the shared consumer reads this stream
    go.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(isinstance(e, StreamStopped) for e in events):
        time.sleep(0.01)
    svc.shutdown()
    assert joined(consumer)
    dropped = drops(events, "s")
    assert svc.get_metrics("s").chunks_processed == 300
    assert len(received) + len(dropped) == 300, (len(received), len(dropped))
    assert ({c.sequence_number for c in received} | {e.sequence_number for e in dropped}
            == set(range(300)))
    assert svc.get_metrics("s").dropped_chunks == len(dropped)


def test_slow_shared_consumer_of_a_file_stream_block_policy_loses_nothing(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(8 * 300))
    events = []
    svc = MediaStreamingService(8, overflow="block")
    svc.subscribe(events.append)
    shared = svc.get_chunk_stream()
    received = []
    consumer = run_thread(slow_consume, shared, received, 0.0005)
    own = svc.start_file_stream(path, media())
    assert len(list(own)) == 300
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(received) < 300:
        time.sleep(0.01)
    svc.shutdown()
    assert joined(consumer)
    assert sorted(c.sequence_number for c in received) == list(range(300))
    assert drops(events) == []


# --- shutdown and close while everybody is blocked ----------------------------------------------------

def test_close_wakes_blocked_producers_and_consumers():
    full = MediaPriorityQueue(1)
    full.enqueue(chunk(0))
    empty = MediaPriorityQueue(1)
    outcomes = []

    def produce():
        try:
            full.enqueue(chunk(1))
        except QueueClosed as error:
            outcomes.append(error)

    def consume():
        try:
            empty.get()
        except QueueClosed as error:
            outcomes.append(error)

    def consume_batch():
        outcomes.append(empty.get_batch(4))

    async def aconsume():
        try:
            await empty.aget()
        except QueueClosed as error:
            outcomes.append(error)

    threads = [run_thread(produce), run_thread(consume), run_thread(consume_batch),
               run_thread(asyncio.run, aconsume())]
    time.sleep(0.1)                                      # let them block
    full.close()
    empty.close()
    assert joined(*threads)
    assert sorted(type(o).__name__ for o in outcomes) == ["ChunkBatch"] + ["QueueClosed"] * 3
    assert full.get_nowait().sequence_number == 0        # what was queued can still be drained
    with pytest.raises(QueueClosed):
        full.get_nowait()


def test_shutdown_while_producers_and_consumers_are_blocked(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(8 * 2000))
    release = threading.Event()
    events = []

    def stuck_source():
        release.wait(20)                                   # a camera that never answers
        return None

    async def agen():
        while True:
            await asyncio.sleep(0.01)
            yield b"a" * 8

    svc = MediaStreamingService(4)
    svc.subscribe(events.append)
    outcomes = {}

    def consume(name, iterable):
        try:
            outcomes[name] = sum(1 for _ in iterable)
        except Exception as error:                         # pragma: no cover - reported below
            outcomes[name] = error

    file_stream = svc.start_file_stream(path, media("file"))     # producer blocks: nobody reads
    stuck = svc.start_live_stream(media("stuck"), stuck_source)
    shared = svc.get_chunk_stream()
    feed = svc.events()
    metrics = svc.get_metrics_stream(interval=0.05)

    async def async_side():
        live = svc.start_live_stream(media("async"), agen())
        count = 0
        async for _ in live:
            count += 1
        outcomes["async"] = count

    threads = [run_thread(consume, "stuck", stuck), run_thread(consume, "shared", shared),
               run_thread(consume, "events", feed), run_thread(consume, "metrics", metrics),
               run_thread(asyncio.run, async_side())]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "async" not in [e.stream_id for e in events
                                                            if isinstance(e, StreamStarted)]:
        time.sleep(0.01)
    time.sleep(0.2)                                        # let everybody block
    svc.shutdown(timeout=2)
    assert joined(*threads), outcomes
    assert sum(1 for _ in file_stream) <= 2000             # ends (drains what was buffered)
    svc.shutdown()                                         # idempotent
    release.set()
    assert all(isinstance(v, int) for v in outcomes.values()), outcomes
    stopped = [e.stream_id for e in events if isinstance(e, StreamStopped)]
    started = [e.stream_id for e in events if isinstance(e, StreamStarted)]
    assert sorted(stopped) == sorted(started) == ["async", "file", "stuck"]
    with pytest.raises(RuntimeError):
        svc.start_live_stream(media("late"), [b"x"])
    with pytest.raises(RuntimeError):
        svc.get_chunk_stream()


def test_shutdown_from_inside_an_event_callback_does_not_deadlock():
    svc = MediaStreamingService(4)
    seen = []

    def on_event(event):
        seen.append(event)
        if isinstance(event, StreamStarted):
            svc.shutdown(timeout=1)                      # runs on the caller's thread

    svc.subscribe(on_event)
    worker = run_thread(lambda: list(svc.start_live_stream(media(frame_rate=1000, max_chunks=5000))))
    assert joined(worker)
    assert any(isinstance(e, StreamStopped) for e in seen)


# --- exceptions in workers, sources and callbacks -----------------------------------------------------

def test_an_exception_in_a_worker_thread_reaches_the_caller_and_the_processor_recovers(monkeypatch):
    real = _chunk.validate_batch
    main = threading.get_ident()

    raised_in = []

    def flaky(chunks, *args):
        if any(c.stream_id == "poison" for c in chunks):
            raised_in.append(threading.get_ident())
            raise MemoryError("worker ran out of memory")
        return real(chunks, *args)

    monkeypatch.setattr(_chunk, "validate_batch", flaky)
    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=4, parallel_min_bytes=0))
    batch = [MediaChunk("a", s, b"q" * 64, P) for s in range(12)]
    batch[-1] = MediaChunk("poison", 0, b"q" * 64, P)
    with pytest.raises(ChunkProcessingError) as caught:
        proc.process_batch(batch)
    assert isinstance(caught.value.__cause__, MemoryError)
    assert caught.value.stream_id == "poison" and caught.value.sequence_number == 0
    assert raised_in[0] != main                            # it first failed in a worker thread
    assert proc.get_stats().chunks_received == 0           # the batch was refused as a whole
    out = proc.process_batch(batch[:-1])
    assert [c.sequence_number for c in out] == list(range(11))
    proc.close()


def test_an_exception_in_a_live_source_reaches_the_consumer_after_the_good_chunks():
    events = []

    def source():
        yield b"a" * 8
        yield b"b" * 8
        raise OSError("camera unplugged")

    with MediaStreamingService(8) as svc:
        svc.subscribe(events.append)
        received = []
        with pytest.raises(OSError, match="camera unplugged"):
            for c in svc.start_live_stream(media(), source()):
                received.append(c)
        assert [c.sequence_number for c in received] == [0, 1]
        assert len(list(svc.start_live_stream(media("next"), [b"c" * 8] * 3))) == 3
    assert [type(e).__name__ for e in events if e.stream_id == "s"] == ["StreamStarted",
                                                                         "StreamStopped"]


@pytest.mark.parametrize("piece", ["text", 5, [1, 2], object()], ids=lambda v: type(v).__name__)
def test_a_live_source_yielding_non_bytes_is_a_type_error_for_the_consumer(piece):
    with MediaStreamingService(8) as svc:
        with pytest.raises(TypeError, match="bytes-like"):
            list(svc.start_live_stream(media(), [b"a" * 8, piece]))


def test_an_exception_in_an_async_source_reaches_the_async_consumer():
    async def source():
        yield b"a" * 8
        raise ValueError("bad frame")

    async def main():
        async with MediaStreamingService(8) as svc:
            received = []
            with pytest.raises(ValueError, match="bad frame"):
                async for c in svc.start_live_stream(media(), source()):
                    received.append(c)
            return received

    assert [c.sequence_number for c in asyncio.run(main())] == [0]


def test_a_raising_processor_callback_is_logged_counted_and_harmless(caplog):
    calls = []

    def boom(event):
        calls.append(event)
        raise RuntimeError("user bug")

    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=1), on_event=boom)
    with caplog.at_level(logging.ERROR, logger="rs2fast"):
        assert proc.process_single_chunk(MediaChunk("s", 0, b"x", P))
        with pytest.raises(ChunkProcessingError):
            proc.process_single_chunk(MediaChunk("s", 0, b"x", P))       # duplicate
        assert [c.sequence_number for c in proc.process_single_chunk(MediaChunk("s", 1, b"x", P))] == [1]
    assert len(calls) == 1 and proc.get_stats().duplicates == 1
    assert any("callback raised" in r.getMessage() for r in caplog.records)


def test_a_raising_queue_callback_is_logged_and_harmless(caplog):
    def boom(event):
        raise KeyError("user bug")

    queue = MediaPriorityQueue(1, "drop_newest", on_event=boom)
    with caplog.at_level(logging.ERROR, logger="rs2fast"):
        assert queue.enqueue(chunk(0)) is True
        assert queue.enqueue(chunk(1)) is False
    assert queue.get_stats().dropped_newest == 1 and queue.get_nowait().sequence_number == 0
    assert caplog.records


def test_a_raising_subscriber_does_not_starve_the_others_or_the_stream():
    good = []

    def bad(event):
        raise RuntimeError("subscriber bug")

    with MediaStreamingService(8) as svc:
        svc.subscribe(bad)
        svc.subscribe(good.append)
        received = list(svc.start_live_stream(media(), [b"a" * 8] * 20))
    assert len(received) + len(drops(good)) == 20              # live: drops are announced
    kinds = [type(e).__name__ for e in good if not isinstance(e, ChunkDropped)]
    assert kinds == ["StreamStarted", "StreamStopped"]


def test_a_callback_that_reenters_the_processor_keeps_the_accounting_exact():
    proc = None
    nested = []

    def reenter(event):
        seen = proc.get_stats().chunks_dropped               # the lock is re-entrant
        if event.stream_id == "a":
            nested.extend(proc.process_single_chunk(MediaChunk("b", len(nested), b"x", P)))
        assert seen >= 1

    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=1), on_event=reenter)
    proc.process_single_chunk(MediaChunk("a", 0, b"x", P))
    for _ in range(3):
        with pytest.raises(ChunkProcessingError):
            proc.process_single_chunk(MediaChunk("a", 0, b"x", P))
    stats = proc.get_stats()
    assert stats.chunks_received == 1 + 3 + 3 and stats.duplicates == 3
    assert stats.chunks_received == stats.chunks_processed + stats.chunks_dropped
    assert proc.get_stream_stats("b").delivered == 3 and len(nested) == 3


@pytest.mark.parametrize("timeout", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_nan_and_inf_timeouts_are_rejected_or_mean_forever(timeout):
    empty, full = MediaPriorityQueue(1), MediaPriorityQueue(1)
    full.enqueue(chunk(0))
    outcomes = []

    def attempt(call):
        try:
            outcomes.append(call())
        except Exception as error:
            outcomes.append(error)

    threads = [run_thread(attempt, lambda: empty.get(timeout=timeout)),
               run_thread(attempt, lambda: full.enqueue(chunk(1), timeout=timeout))]
    time.sleep(0.3)
    empty.close()                                        # also releases a spinning thread
    full.close()
    assert joined(*threads)
    # Either a clear ValueError naming the timeout, or "wait forever" (woken by close()).
    for outcome in outcomes:
        assert (isinstance(outcome, ValueError) and "timeout" in str(outcome)
                or isinstance(outcome, QueueClosed)), outcomes
    if timeout != timeout:                               # nan: must not have spun until close()
        assert all(isinstance(o, ValueError) for o in outcomes), outcomes


def test_get_batch_with_a_bad_max_items_loses_nothing():
    queue = MediaPriorityQueue(4)
    for s in range(3):
        queue.enqueue(chunk(s))
    with pytest.raises(TypeError):
        queue.get_batch(2.5)
    assert len(queue) == 3 and queue.get_stats().dequeued == 0


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
