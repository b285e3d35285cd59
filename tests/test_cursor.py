"""BatchCursor (the per-item path of chunk streams) and the queue's C iterator."""
import asyncio
import sys
import threading

import pytest

from rs2fast import ChunkType, MediaChunk, MediaPriorityQueue
from rs2fast._cursor import BatchCursor


def _chunks(n, start=0, stream="s"):
    return [MediaChunk(stream, start + i, bytes([i % 256]) * 8, ChunkType.VIDEO_P_FRAME)
            for i in range(n)]


class Scripted(BatchCursor):
    """A cursor fed from a list of batches; None ends it."""

    def __init__(self, batches):
        self.batches = list(batches)
        self.fetches = 0

    def _fetch(self):
        self.fetches += 1
        return self.batches.pop(0) if self.batches else None

    async def _afetch(self):
        await asyncio.sleep(0)
        return self._fetch()


def test_for_loop_gives_every_chunk_in_order_across_batches():
    batches = [_chunks(3), _chunks(1, 3), _chunks(5, 4)]
    cursor = Scripted(batches)
    got = [c.sequence_number for c in cursor]
    assert got == list(range(9))
    assert cursor.fetches == 4          # three batches, then the end
    with pytest.raises(StopIteration):
        next(cursor)


def test_async_for_gives_every_chunk_in_order():
    async def main():
        return [c.sequence_number async for c in Scripted([_chunks(2), _chunks(3, 2)])]
    assert asyncio.run(main()) == [0, 1, 2, 3, 4]


def test_in_hand_counts_what_was_fetched_but_not_handed_out():
    cursor = Scripted([_chunks(4)])
    assert cursor.in_hand == 0
    next(cursor)
    assert cursor.in_hand == 3
    assert [c.sequence_number for c in cursor._take_all_in_hand()] == [1, 2, 3]
    assert cursor.in_hand == 0


def test_handed_out_chunks_are_not_kept_alive_by_the_cursor():
    batch = _chunks(2)
    kept = batch[0]
    cursor = Scripted([batch])
    del batch
    first = next(cursor)
    assert first is kept
    # References: `kept`, `first` and getrefcount's argument; none from the cursor's batch.
    assert sys.getrefcount(kept) == 3


def test_a_batch_that_is_not_a_list_is_accepted():
    cursor = Scripted([tuple(_chunks(3))])
    assert [c.sequence_number for c in cursor] == [0, 1, 2]


def test_cancelled_async_step_loses_nothing():
    release = None

    class Slow(Scripted):
        async def _afetch(self):
            await release.wait()
            return self._fetch()

    async def main():
        nonlocal release
        release = asyncio.Event()
        cursor = Slow([_chunks(3)])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(cursor.__anext__(), 0.01)
        release.set()
        return [c.sequence_number async for c in cursor]

    assert asyncio.run(main()) == [0, 1, 2]


def test_fetch_errors_propagate_and_the_cursor_stays_usable():
    class Failing(Scripted):
        def _fetch(self):
            if not self.fetches:
                self.fetches += 1
                raise OSError("disk gone")
            return super()._fetch()

    cursor = Failing([_chunks(2)])
    with pytest.raises(OSError, match="disk gone"):
        next(cursor)
    assert [c.sequence_number for c in cursor] == [0, 1]


def test_queue_iteration_drains_in_priority_order_then_stops_when_closed():
    queue = MediaPriorityQueue(16)
    items = [MediaChunk("s", 5, b"b", ChunkType.VIDEO_B_FRAME),
             MediaChunk("s", 7, b"i", ChunkType.VIDEO_I_FRAME),
             MediaChunk("s", 6, b"p", ChunkType.VIDEO_P_FRAME)]
    for item in items:
        queue.enqueue(item)
    queue.close()
    assert [c.sequence_number for c in queue] == [7, 6, 5]
    assert len(queue) == 0 and queue.len() == 0


def test_queue_iteration_waits_for_producers_and_ends_at_close():
    queue = MediaPriorityQueue(4)
    got = []

    def consume():
        got.extend(c.sequence_number for c in queue)

    consumer = threading.Thread(target=consume)
    consumer.start()
    for chunk in _chunks(10):
        queue.enqueue(chunk, timeout=5)
    queue.close()
    consumer.join(5)
    assert not consumer.is_alive()
    assert sorted(got) == list(range(10))


def test_len_is_the_c_slot_not_a_python_method():
    # len() must not run Python code per call: the subclass must not override __len__.
    from rs2fast._queue import QueueCore
    assert "__len__" not in MediaPriorityQueue.__dict__
    assert MediaPriorityQueue.__len__ is QueueCore.__len__
    queue = MediaPriorityQueue(8)
    queue.enqueue(_chunks(1)[0])
    assert len(queue) == 1
