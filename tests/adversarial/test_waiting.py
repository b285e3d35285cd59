"""Adversarial waiting: more async consumers than the loop's executor has threads, reads cancelled by
timeouts, a batch enqueued while several consumers wait, shutdown from asyncio while the executor
is busy.

Expected: async waits hold no executor thread (a loop whose default executor has one thread, kept
busy, still streams, shuts down and ends every reader); a cancelled wait
(`asyncio.wait_for(anext(...), t)`) takes nothing, so every chunk and every event arrives exactly
once however many waits time out; enqueueing n chunks wakes up to n waiting consumers;
BufferUnderrun is still announced to async consumers.
"""
import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rs2fast.errors import QueueClosed, QueueEmpty, QueueFull
from rs2fast.events import BufferUnderrun, StreamStarted, StreamStopped
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.streaming import MediaStreamingService
from rs2fast.types import ChunkType, MediaChunk, MediaStream, MediaType, QualityLevel
from tests.test_leaks import check_debug_counters

CONSUMERS = 6


def media(stream_id="s", chunk_size=8, **metadata):
    return MediaStream(stream_id, 7, MediaType.VIDEO, QualityLevel.HIGH, chunk_size,
                       metadata={k: str(v) for k, v in metadata.items()})


def chunk(seq, stream="s"):
    return MediaChunk(stream, seq, b"x" * 8, ChunkType.VIDEO_P_FRAME)


def run_with_one_executor_thread(main, timeout=20.0):
    """Run `main()` on a new loop whose default executor has a single thread, which is kept busy
    (blocked) for the whole run: anything that needs an executor thread to wait cannot finish."""
    async def wrapper():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
        release = threading.Event()
        blocker = loop.run_in_executor(None, release.wait)
        try:
            return await asyncio.wait_for(main(), timeout)
        finally:
            release.set()
            await blocker

    return asyncio.run(wrapper())


async def forever():
    """An async live source that never produces (its task is cancelled at shutdown)."""
    await asyncio.Event().wait()
    yield b"never"


# --- waits that hold no thread --------------------------------------------------------------------------

def test_async_consumers_metrics_and_event_readers_hold_no_executor_thread():
    async def main():
        svc = MediaStreamingService(8, underrun_after=60)
        streams = [svc.start_live_stream(media(f"s{i}"), forever()) for i in range(CONSUMERS)]
        readers = [svc.events() for _ in range(2)]

        async def drain(iterable):
            return [item async for item in iterable]

        tasks = [asyncio.ensure_future(drain(s)) for s in streams]
        tasks += [asyncio.ensure_future(drain(r)) for r in readers]
        tasks.append(asyncio.ensure_future(drain(svc.get_metrics_stream(interval=30))))
        tasks.append(asyncio.ensure_future(drain(svc.get_chunk_stream())))
        await asyncio.sleep(0.2)                       # everybody is parked now
        assert not any(t.done() for t in tasks)
        await svc.ashutdown()                          # needs no executor thread either
        results = await asyncio.gather(*tasks)
        return results

    results = run_with_one_executor_thread(main)
    assert all(chunks == [] for chunks in results[:CONSUMERS])          # nothing was produced
    events = results[CONSUMERS]
    assert [type(e) for e in events] == [StreamStopped] * CONSUMERS
    assert results[CONSUMERS] == results[CONSUMERS + 1]
    assert len(results[CONSUMERS + 2]) == 1                            # first snapshot, then the end


def test_async_consumers_still_get_their_chunks_with_a_busy_executor():
    async def main():
        async def source(n):
            for i in range(n):
                await asyncio.sleep(0.002)
                yield bytes([i]) * 8

        with MediaStreamingService(64) as svc:
            streams = [svc.start_live_stream(media(f"s{i}"), source(20)) for i in range(CONSUMERS)]

            async def drain(stream):
                return [c.sequence_number async for c in stream]

            return await asyncio.gather(*(drain(s) for s in streams))

    assert run_with_one_executor_thread(main) == [list(range(20))] * CONSUMERS


def test_async_consumers_of_a_file_stream_hold_no_executor_thread(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 400)

    async def main():
        async with MediaStreamingService(4, batch=2) as svc:   # small buffers: consumers wait often
            streams = [svc.start_file_stream(path, media(f"f{i}", chunk_size=100))
                       for i in range(CONSUMERS)]

            async def drain(stream):
                return b"".join([bytes(c.data) async for c in stream])

            return await asyncio.gather(*(drain(s) for s in streams))

    assert run_with_one_executor_thread(main) == [path.read_bytes()] * CONSUMERS


def test_buffer_underrun_is_announced_to_an_async_consumer():
    async def main():
        async def slow():
            yield b"a" * 8
            await asyncio.sleep(0.3)
            yield b"b" * 8

        svc = MediaStreamingService(8, underrun_after=0.05)
        events = []
        svc.subscribe(events.append)
        got = [c.sequence_number async for c in svc.start_live_stream(media(), slow())]
        await svc.ashutdown()
        return got, events

    got, events = run_with_one_executor_thread(main)
    assert got == [0, 1]
    underruns = [e for e in events if isinstance(e, BufferUnderrun)]
    assert len(underruns) >= 1 and underruns[0].stream_id == "s" and underruns[0].user_id == 7


def test_ashutdown_completes_while_the_default_executor_is_blocked():
    async def main():
        svc = MediaStreamingService(8)
        stream = svc.start_live_stream(media(), forever())
        reader = asyncio.ensure_future(anext(stream, None))
        await asyncio.sleep(0.05)
        await svc.ashutdown()
        return await reader

    assert run_with_one_executor_thread(main) is None


# --- cancelled waits take nothing ---------------------------------------------------------------------

async def read_with_timeouts(iterator, timeout=0.001):
    """Read `iterator` to its end through `wait_for(anext(...))`, counting the timed-out waits."""
    items, timeouts = [], 0
    while True:
        try:
            items.append(await asyncio.wait_for(anext(iterator), timeout))
        except asyncio.TimeoutError:
            timeouts += 1
        except StopAsyncIteration:
            return items, timeouts


def test_a_timed_out_read_of_a_chunk_stream_loses_no_chunk():
    async def main():
        async def source():
            for i in range(30):
                await asyncio.sleep(0.004)
                yield bytes([i]) * 8

        async with MediaStreamingService(64) as svc:
            got, timeouts = await read_with_timeouts(svc.start_live_stream(media(), source()))
            return got, timeouts, svc.get_metrics("s")

    got, timeouts, metrics = run_with_one_executor_thread(main)
    assert timeouts > 0                                 # the waits really were cancelled
    assert [c.sequence_number for c in got] == list(range(30))
    assert [bytes(c.data) for c in got] == [bytes([i]) * 8 for i in range(30)]
    assert metrics.chunks_processed == 30 and metrics.dropped_chunks == 0


def test_a_timed_out_read_of_events_loses_no_event():
    async def main():
        async def source():
            for i in range(3):
                await asyncio.sleep(0.01)
                yield bytes([i]) * 8

        svc = MediaStreamingService(64)
        feed = svc.events()
        reading = asyncio.ensure_future(read_with_timeouts(feed))
        for n in range(5):
            await asyncio.sleep(0.005)
            stream = svc.start_live_stream(media(f"s{n}"), source())
            assert len([c async for c in stream]) == 3
        await svc.ashutdown()
        return await reading

    events, timeouts = run_with_one_executor_thread(main)
    assert timeouts > 0
    assert [type(e) for e in events] == [StreamStarted, StreamStopped] * 5
    assert [e.stream_id for e in events[::2]] == [f"s{n}" for n in range(5)]


def test_timed_out_reads_of_the_shared_stream_and_the_queue_lose_nothing():
    async def main():
        queue = MediaPriorityQueue(64)

        async def produce():
            for seq in range(20):
                await asyncio.sleep(0.003)
                await queue.aenqueue(chunk(seq))
            queue.close()

        producer = asyncio.ensure_future(produce())
        got, timeouts = await read_with_timeouts(aiter(queue))
        await producer
        return got, timeouts

    got, timeouts = run_with_one_executor_thread(main)
    assert timeouts > 0 and [c.sequence_number for c in got] == list(range(20))


def test_a_cancelled_aenqueue_queues_nothing_and_a_timed_one_raises_queue_full():
    async def main():
        queue = MediaPriorityQueue(2)
        assert await queue.aenqueue(chunk(0)) and await queue.aenqueue(chunk(1))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(queue.aenqueue(chunk(2)), 0.02)
        with pytest.raises(QueueFull):
            await queue.aenqueue(chunk(3), timeout=0.02)
        assert len(queue) == 2 and queue.put_waiters == 0
        waiting = [asyncio.ensure_future(queue.aenqueue(chunk(seq))) for seq in (4, 5)]
        await asyncio.sleep(0.02)
        assert not any(w.done() for w in waiting)
        first = [queue.get_nowait(), queue.get_nowait()]       # room for both waiters, from here
        assert await asyncio.gather(*waiting) == [True, True]
        queue.close()
        with pytest.raises(QueueClosed):
            await queue.aenqueue(chunk(6))
        return first + [c async for c in queue]

    got = run_with_one_executor_thread(main)
    assert [c.sequence_number for c in got] == [0, 1, 4, 5]


def test_aenqueue_never_waits_under_a_drop_policy():
    async def main():
        queue = MediaPriorityQueue(1, "drop_newest")
        return [await queue.aenqueue(chunk(0)), await queue.aenqueue(chunk(1)), len(queue)]

    assert run_with_one_executor_thread(main) == [True, False, 1]


# --- a batch wakes as many consumers as it brings chunks -----------------------------------------------

def test_enqueue_batch_wakes_every_thread_waiting_for_one_of_its_chunks():
    queue = MediaPriorityQueue(16)
    got, errors = [], []

    def consume():
        try:
            got.append(queue.get(timeout=10))
        except QueueEmpty as error:
            errors.append(error)

    threads = [threading.Thread(target=consume, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while queue.get_waiters < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert queue.get_waiters == 3
    started = time.monotonic()
    assert queue.enqueue_batch([chunk(seq) for seq in range(3)]) == 3
    for thread in threads:
        thread.join(10)
    assert not errors and sorted(c.sequence_number for c in got) == [0, 1, 2]
    assert time.monotonic() - started < 9            # a hang detector: nobody slept to its timeout


def test_enqueue_batch_from_a_thread_wakes_every_waiting_coroutine():
    async def main():
        queue = MediaPriorityQueue(16)
        waiting = [asyncio.ensure_future(queue.aget(timeout=10)) for _ in range(3)]
        await asyncio.sleep(0.02)
        assert queue.get_waiters == 3
        await asyncio.get_running_loop().run_in_executor(
            None, queue.enqueue_batch, [chunk(seq) for seq in range(3)])
        return await asyncio.gather(*waiting)

    got = asyncio.run(main())
    assert sorted(c.sequence_number for c in got) == [0, 1, 2]


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
