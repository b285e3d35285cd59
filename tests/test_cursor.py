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
        self.script = list(batches)
        self.fetches = 0
        self.asked = []

    def _fetch(self, max_items):
        self.fetches += 1
        self.asked.append(max_items)
        return self.script.pop(0) if self.script else None

    async def _afetch(self, max_items):
        await asyncio.sleep(0)
        return self._fetch(max_items)


def test_for_loop_gives_every_chunk_in_order_across_batches():
    batches = [_chunks(3), _chunks(1, 3), _chunks(5, 4)]
    cursor = Scripted(batches)
    got = [c.sequence_number for c in cursor]
    assert got == list(range(9))
    assert cursor.fetches == 4          # three batches, then the end
    assert cursor.asked == [64] * 4     # the default fetch size
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
    assert [c.sequence_number for c in next(cursor.batches())] == [1, 2, 3]
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
        async def _afetch(self, max_items):
            await release.wait()
            return self._fetch(max_items)

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
        def _fetch(self, max_items):
            if not self.fetches:
                self.fetches += 1
                raise OSError("disk gone")
            return super()._fetch(max_items)

    cursor = Failing([_chunks(2)])
    with pytest.raises(OSError, match="disk gone"):
        next(cursor)
    assert [c.sequence_number for c in cursor] == [0, 1]


def test_batches_start_with_the_chunks_in_hand_and_give_each_chunk_once():
    cursor = Scripted([_chunks(5), _chunks(3, 5)])
    first = next(cursor)
    batches = list(cursor.batches(max_chunks=3))
    assert [type(b).__name__ for b in batches] == ["ChunkBatch"] * 3
    assert [[c.sequence_number for c in b] for b in batches] == [[1, 2, 3], [4], [5, 6, 7]]
    assert first.sequence_number == 0
    assert cursor.asked == [64, 3, 3]
    assert list(batches[2].sequence_numbers) == [5, 6, 7]


def test_async_batches_and_fetch_size():
    async def main():
        cursor = Scripted([_chunks(2), _chunks(2, 2)])
        cursor.fetch_size = 7
        got = [list(b.sequence_numbers) async for b in cursor.batches()]
        return got, cursor.asked
    got, asked = asyncio.run(main())
    assert got == [[0, 1], [2, 3]]
    assert asked == [1024, 1024, 1024]


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), ("8", TypeError),
                                        (True, TypeError)])
def test_batches_refuses_a_bad_size(bad, error):
    with pytest.raises(error, match="max_chunks"):
        Scripted([]).batches(bad)


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
