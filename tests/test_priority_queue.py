"""MediaPriorityQueue: order, bounds, overflow policies, blocking rules, iteration, asyncio."""
import asyncio
import threading
import time

import pytest

from rs2fast.errors import QueueClosed, QueueEmpty, QueueFull
from rs2fast.events import ChunkDropped
from rs2fast.priority_queue import MediaPriorityQueue, OverflowPolicy
from rs2fast.types import ChunkType, MediaChunk, MediaPriority

I, P, B = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME


def chunk(seq, chunk_type=P, priority=None, stream="s"):
    return MediaChunk(stream, seq, b"x", chunk_type, priority)


def drain(queue):
    out = []
    while len(queue):
        out.append(queue.get_nowait())
    return out


def test_rs2_basic_order_i_p_b():
    queue = MediaPriorityQueue(100)
    for c in (chunk(1, B), chunk(2, I), chunk(3, P)):
        queue.enqueue(c)
    assert queue.len() == 3
    assert [c.chunk_type for c in drain(queue)] == [I, P, B]


def test_rs2_tie_break_by_sequence():
    H, N, L = MediaPriority.HIGH, MediaPriority.NORMAL, MediaPriority.LOW
    queue = MediaPriorityQueue(10)
    for seq, prio in [(5, N), (9, H), (2, N), (7, L), (1, H), (3, L)]:
        queue.enqueue(chunk(seq, priority=prio))
    assert [(c.sequence_number, c.priority) for c in drain(queue)] == [
        (1, H), (9, H), (2, N), (5, N), (3, L), (7, L)]


def test_equal_keys_come_out_in_arrival_order():
    queue = MediaPriorityQueue(10)
    for stream in "abcd":
        queue.enqueue(chunk(0, stream=stream))
    assert [c.stream_id for c in drain(queue)] == list("abcd")


def test_no_priority_inversion_past_64_items():
    # RS2 kept priority only in a 64-item heap and delivered everything behind it FIFO.
    queue = MediaPriorityQueue(1000)
    for seq in range(500):
        queue.enqueue(chunk(seq, B))
    queue.enqueue(chunk(999, I))
    assert queue.get_nowait().chunk_type == I


def test_rs2_quirk_fixed_high_after_overflow_still_first():
    queue = MediaPriorityQueue(10)
    for seq, prio in [(1, MediaPriority.LOW), (2, MediaPriority.LOW), (3, MediaPriority.HIGH),
                      (4, MediaPriority.NORMAL), (0, MediaPriority.HIGH)]:
        queue.enqueue(chunk(seq, priority=prio))
    assert [c.sequence_number for c in drain(queue)] == [0, 3, 4, 1, 2]


def test_try_enqueue_on_full_queue_raises_queue_full():
    queue = MediaPriorityQueue(2)
    assert queue.try_enqueue(chunk(1)) and queue.try_enqueue(chunk(2))
    with pytest.raises(QueueFull):
        queue.try_enqueue(chunk(3))
    assert len(queue) == 2


def test_enqueue_blocks_until_timeout_on_full_queue():
    queue = MediaPriorityQueue(1)
    queue.enqueue(chunk(1))
    with pytest.raises(QueueFull):
        queue.enqueue(chunk(2), timeout=0.05)


def test_try_enqueue_len_and_close_never_block_behind_a_blocked_enqueue():
    queue = MediaPriorityQueue(1)
    queue.enqueue(chunk(1))
    blocked_result = []
    producer = threading.Thread(target=lambda: _capture(blocked_result, queue.enqueue, chunk(2)))
    producer.start()
    time.sleep(0.05)
    done = threading.Event()

    def others():
        with pytest.raises(QueueFull):
            queue.try_enqueue(chunk(3))
        assert queue.len() == 1
        queue.close()
        done.set()

    worker = threading.Thread(target=others)
    worker.start()
    assert done.wait(2), "try_enqueue/len/close waited behind a blocked enqueue"
    producer.join(2)
    assert not producer.is_alive()
    assert isinstance(blocked_result[0], QueueClosed)   # the blocked producer is woken by close()
    worker.join()


def _capture(sink, fn, *args):
    try:
        sink.append(fn(*args))
    except Exception as error:
        sink.append(error)


def test_len_does_not_block_while_a_consumer_waits():
    queue = MediaPriorityQueue(4)
    consumer = threading.Thread(target=lambda: _capture([], queue.get, 1.0))
    consumer.start()
    time.sleep(0.05)
    assert queue.len() == 0
    queue.enqueue(chunk(1))
    consumer.join(2)
    assert not consumer.is_alive() and len(queue) == 0


def test_close_rejects_new_items_and_consumers_drain():
    queue = MediaPriorityQueue(2)
    queue.enqueue(chunk(1, priority=MediaPriority.LOW))
    queue.close()
    with pytest.raises(QueueClosed):
        queue.enqueue(chunk(2, priority=MediaPriority.HIGH))    # RS2 accepted this
    with pytest.raises(QueueClosed):
        queue.try_enqueue(chunk(3))
    assert [c.sequence_number for c in queue] == [1]            # iteration ends after draining
    with pytest.raises(QueueClosed):
        queue.get_nowait()


def test_get_timeout_and_get_nowait_on_empty():
    queue = MediaPriorityQueue(2)
    with pytest.raises(QueueEmpty):
        queue.get_nowait()
    with pytest.raises(QueueEmpty):
        queue.get(timeout=0.02)


def test_get_batch():
    queue = MediaPriorityQueue(10)
    queue.enqueue_batch([chunk(s) for s in (5, 3, 4, 1)])
    assert [c.sequence_number for c in queue.get_batch(3)] == [1, 3, 4]
    assert [c.sequence_number for c in queue.get_batch(3)] == [5]
    assert queue.get_batch(3, timeout=0.01) == []
    queue.close()
    assert queue.get_batch(3) == []
    with pytest.raises(ValueError):
        queue.get_batch(0)


def test_drop_newest_counts_and_announces():
    events = []
    queue = MediaPriorityQueue(2, "drop_newest", on_event=events.append)
    assert queue.enqueue(chunk(1)) and queue.enqueue(chunk(2))
    assert queue.enqueue(chunk(3, I)) is False
    assert queue.get_stats().dropped_newest == 1
    assert len(events) == 1 and isinstance(events[0], ChunkDropped)
    assert events[0].sequence_number == 3 and "queue full" in events[0].reason


def test_drop_lowest_sheds_b_frames_first():
    events = []
    queue = MediaPriorityQueue(3, OverflowPolicy.DROP_LOWEST, on_event=events.append)
    queue.enqueue(chunk(1, I))
    queue.enqueue(chunk(2, B))
    queue.enqueue(chunk(3, P))
    assert queue.enqueue(chunk(4, I)) is True                  # evicts the B-frame
    assert queue.enqueue(chunk(5, B)) is False                 # does not outrank the worst (P)
    assert [c.sequence_number for c in drain(queue)] == [1, 4, 3]
    assert [e.sequence_number for e in events] == [2, 5]
    stats = queue.get_stats()
    assert (stats.dropped_lowest, stats.dropped_newest, stats.dropped) == (1, 1, 2)


def test_raising_event_callback_does_not_break_the_queue():
    def boom(event):
        raise RuntimeError("user bug")

    queue = MediaPriorityQueue(1, "drop_newest", on_event=boom)
    queue.enqueue(chunk(1))
    assert queue.enqueue(chunk(2)) is False
    assert queue.get_nowait().sequence_number == 1


def test_bad_arguments():
    with pytest.raises(ValueError):
        MediaPriorityQueue(0)
    with pytest.raises(TypeError):
        MediaPriorityQueue("10")
    with pytest.raises(ValueError):
        MediaPriorityQueue(4, "fifo")
    with pytest.raises(TypeError):
        MediaPriorityQueue(4).enqueue(b"not a chunk")


def test_threads_move_every_chunk_exactly_once():
    queue = MediaPriorityQueue(64)
    per_producer, producers = 2000, 4
    received = []
    lock = threading.Lock()

    def produce(p):
        for seq in range(per_producer):
            queue.enqueue(chunk(seq, stream=f"p{p}"))

    def consume():
        for c in queue:
            with lock:
                received.append((c.stream_id, c.sequence_number))

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    for t in consumers + threads:
        t.start()
    for t in threads:
        t.join()
    queue.close()
    for t in consumers:
        t.join(10)
    assert sorted(received) == sorted((f"p{p}", s) for p in range(producers) for s in range(per_producer))
    stats = queue.get_stats()
    assert stats.enqueued == stats.dequeued == producers * per_producer


def test_async_iteration_while_threads_enqueue():
    queue = MediaPriorityQueue(8)

    def produce():
        for seq in range(200):
            queue.enqueue(chunk(seq))
        queue.close()

    async def consume():
        threading.Thread(target=produce).start()
        return [c.sequence_number async for c in queue]

    assert sorted(asyncio.run(consume())) == list(range(200))


def test_async_get_timeout():
    async def run():
        with pytest.raises(QueueEmpty):
            await MediaPriorityQueue(2).aget(timeout=0.02)

    asyncio.run(run())


def test_repr_shows_capacity_length_policy_and_state():
    queue = MediaPriorityQueue(8, "drop_newest")
    queue.enqueue(MediaChunk("s", 0, b"x", ChunkType.AUDIO))
    assert repr(queue) == "MediaPriorityQueue(capacity=8, length=1, overflow='drop_newest', closed=False)"
    queue.close()
    assert repr(queue).endswith("closed=True)")


def test_aenqueue_waits_for_room_and_async_for_drains():
    async def main():
        queue = MediaPriorityQueue(1)
        await queue.aenqueue(MediaChunk("s", 0, b"x", ChunkType.AUDIO))
        waiting = asyncio.ensure_future(queue.aenqueue(MediaChunk("s", 1, b"y", ChunkType.AUDIO)))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        first = await queue.aget()
        assert await waiting is True
        queue.close()
        return [first] + [c async for c in queue]

    assert [c.sequence_number for c in asyncio.run(main())] == [0, 1]
