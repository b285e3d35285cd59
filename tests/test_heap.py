"""Tests for rs2fast._heap.PriorityHeap: ordering, capacity, both ends, batches, bad arguments,
reference counts, a stateful comparison with tests/reference_heap.py, and threads."""
import gc
import pickle
import random
import sys
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rs2fast._chunk import MediaChunk
from rs2fast._enums import ChunkType, MediaPriority
from rs2fast._heap import PriorityHeap
from tests.reference import ORDER_LIMIT, ReferenceHeap

H, N, L = MediaPriority.HIGH, MediaPriority.NORMAL, MediaPriority.LOW


def chunk(seq, priority=N, stream="s"):
    return MediaChunk(stream, seq, b"x", ChunkType.AUDIO, priority)


def label(c):
    return f"{c.sequence_number}{c.priority.name[0]}"


class Item:
    """A distinct object with a readable repr (for stateful failure reports)."""

    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return f"Item({self.n})"


# --- ordering -----------------------------------------------------------------------------------

def test_rs2_example_order():
    heap = PriorityHeap(16)
    for seq, prio in [(5, N), (9, H), (2, N), (7, L), (1, H), (3, L)]:
        assert heap.push_chunk(chunk(seq, prio)) is True
    assert [label(heap.pop()) for _ in range(6)] == ["1H", "9H", "2N", "5N", "3L", "7L"]
    assert len(heap) == 0 and heap.live_slots == 0


def test_rs2_example_with_plain_push_and_batch():
    heap = PriorityHeap(16)
    for seq, prio in [(5, 2), (9, 3), (2, 2), (7, 1), (1, 3), (3, 1)]:
        heap.push(f"{seq}{'?LNH'[prio]}", prio, seq)
    assert heap.pop_batch(10) == ["1H", "9H", "2N", "5N", "3L", "7L"]


def test_priority_beats_sequence():
    heap = PriorityHeap(4)
    heap.push("low0", 1, 0)
    heap.push("high-big", 3, 2**64 - 1)
    heap.push("normal5", 2, 5)
    assert heap.peek_key() == (3, 2**64 - 1)
    assert heap.peek_lowest_key() == (1, 0)
    assert heap.clear() == ["high-big", "normal5", "low0"]


def test_fifo_among_equal_keys():
    heap = PriorityHeap(64)
    items = [Item(i) for i in range(40)]
    for item in items:
        heap.push(item, 2, 7)
    heap.push("first", 2, 6)
    assert heap.pop() == "first"
    assert [heap.pop() for _ in range(20)] == items[:20]
    # The worst of equal keys is the latest arrival.
    assert [heap.pop_lowest() for _ in range(5)] == items[::-1][:5]
    assert heap.pop_batch(100) == items[20:35]


def test_fifo_ties_in_batches_and_drain_sort():
    heap = PriorityHeap(2000)
    chunks = [chunk(i % 3, H if i % 2 else L) for i in range(1500)]
    assert heap.push_chunks(chunks) == 1500
    expected = sorted(chunks, key=lambda c: (-c.priority, c.sequence_number))  # stable: FIFO
    out = heap.pop_batch(1500)
    assert [id(c) for c in out] == [id(c) for c in expected]


def test_pop_lowest_order():
    heap = PriorityHeap(8)
    for seq, prio in [(5, N), (9, H), (2, N), (7, L), (1, H), (3, L)]:
        heap.push_chunk(chunk(seq, prio))
    assert heap.peek_lowest_key() == (1, 7)
    assert [label(heap.pop_lowest()) for _ in range(6)] == ["7L", "3L", "5N", "2N", "9H", "1H"]
    with pytest.raises(IndexError):
        heap.pop_lowest()


def test_both_ends_interleaved():
    heap = PriorityHeap(100)
    keys = [(p, s) for p in (1, 2, 3) for s in range(10)]
    random.Random(5).shuffle(keys)
    for p, s in keys:
        heap.push((p, s), p, s)
    ordered = sorted(keys, key=lambda k: (-k[0], k[1]))
    got_best, got_worst = [], []
    while heap:
        got_best.append(heap.pop())
        if heap:
            got_worst.append(heap.pop_lowest())
    assert got_best + got_worst[::-1] == ordered


def test_enum_priorities_accepted():
    heap = PriorityHeap(3)
    heap.push("a", MediaPriority.LOW, 1)
    heap.push("b", MediaPriority.HIGH, 2)
    assert heap.peek_key() == (3, 2)
    assert type(heap.peek_key()[0]) is int


# --- capacity and empty behaviour ---------------------------------------------------------------

def test_capacity_and_full():
    heap = PriorityHeap(3)
    assert heap.capacity == 3
    assert not heap and len(heap) == 0
    assert [heap.push(i, 2, i) for i in range(3)] == [True, True, True]
    before = heap.keys()
    rejected = Item(99)
    refs = sys.getrefcount(rejected)
    assert heap.push(rejected, 3, 0) is False
    assert heap.push_chunk(chunk(0, H)) is False
    assert heap.push_chunks([chunk(1), chunk(2)]) == 0
    assert sys.getrefcount(rejected) == refs
    assert heap.keys() == before and len(heap) == 3 and heap.live_slots == 3
    assert heap.pop() == 0
    assert heap.push(rejected, 3, 0) is True
    assert heap.pop() is rejected


def test_capacity_one():
    heap = PriorityHeap(1)
    assert heap.push("a", 1, 1)
    assert not heap.push("b", 3, 0)
    assert heap.peek_key() == heap.peek_lowest_key() == (1, 1)
    assert heap.pop_lowest() == "a"
    assert heap.push("b", 3, 0)
    assert heap.pop() == "b"


def test_empty_heap():
    heap = PriorityHeap(5)
    for method in (heap.pop, heap.pop_lowest, heap.peek):
        with pytest.raises(IndexError):
            method()
    assert heap.peek_key() is None and heap.peek_lowest_key() is None
    assert heap.pop_batch(10) == [] and heap.clear() == [] and heap.keys() == []
    assert heap.live_slots == 0 and bool(heap) is False


def test_repr_len_bool_and_no_pickle():
    heap = PriorityHeap(7)
    heap.push("x", 2, 0)
    assert repr(heap) == "PriorityHeap(capacity=7, len=1)"
    assert len(heap) == 1 and bool(heap) is True
    with pytest.raises(TypeError):
        pickle.dumps(heap)


def test_peek_does_not_remove():
    heap = PriorityHeap(4)
    heap.push("b", 2, 2)
    heap.push("a", 2, 1)
    assert heap.peek() == "a" and heap.peek() == "a" and len(heap) == 2
    assert heap.keys() and sorted(heap.keys()) == [(2, 1), (2, 2)]


# --- bad arguments ------------------------------------------------------------------------------

@pytest.mark.parametrize("capacity, error", [
    (0, ValueError), (-1, ValueError), (2**31, ValueError), (2**80, ValueError),
    (True, TypeError), (1.0, TypeError), ("3", TypeError), (None, TypeError),
])
def test_bad_capacity(capacity, error):
    with pytest.raises(error, match="capacity"):
        PriorityHeap(capacity)


@pytest.mark.parametrize("priority, error", [
    (0, ValueError), (4, ValueError), (-1, ValueError), (2**100, ValueError),
    ("1", TypeError), (1.0, TypeError), (None, TypeError), (True, TypeError),
])
def test_bad_priority(priority, error):
    heap = PriorityHeap(2)
    with pytest.raises(error, match="priority"):
        heap.push("x", priority, 0)
    assert len(heap) == 0 and heap.live_slots == 0


@pytest.mark.parametrize("sequence, error", [
    (-1, ValueError), (2**64, ValueError), (-(2**70), ValueError),
    ("1", TypeError), (1.5, TypeError), (None, TypeError), (False, TypeError),
])
def test_bad_sequence(sequence, error):
    heap = PriorityHeap(2)
    with pytest.raises(error, match="sequence"):
        heap.push("x", 2, sequence)
    assert len(heap) == 0


def test_sequence_extremes():
    heap = PriorityHeap(4)
    for seq in (2**64 - 1, 0, 2**63, 2**62 + 3):
        assert heap.push(seq, 2, seq)
    assert heap.clear() == [0, 2**62 + 3, 2**63, 2**64 - 1]


def test_bad_chunk_arguments():
    heap = PriorityHeap(4)
    with pytest.raises(TypeError, match="chunk"):
        heap.push_chunk("not a chunk")
    with pytest.raises(TypeError, match="chunk"):
        heap.push_chunk(None)
    with pytest.raises(TypeError, match="chunks"):
        heap.push_chunks((chunk(1),))
    with pytest.raises(TypeError, match="start"):
        heap.push_chunks([chunk(1)], "0")
    with pytest.raises(ValueError, match="start"):
        heap.push_chunks([chunk(1)], -1)
    with pytest.raises(ValueError, match="start"):
        heap.push_chunks([chunk(1)], 2)
    with pytest.raises(TypeError, match="max_items"):
        heap.pop_batch(1.0)
    with pytest.raises(ValueError, match="max_items"):
        heap.pop_batch(-1)
    assert len(heap) == 0 and heap.live_slots == 0


def test_push_chunks_bad_element_pushes_nothing():
    heap = PriorityHeap(10)
    good = [chunk(i) for i in range(4)]
    refs = [sys.getrefcount(c) for c in good]
    with pytest.raises(TypeError, match=r"chunks\[5\]"):
        heap.push_chunks([chunk(9)] + good + ["bad"], 1)
    assert len(heap) == 0 and heap.live_slots == 0
    assert [sys.getrefcount(c) for c in good] == refs
    heap._check()
    assert heap.push_chunks(good) == 4


# --- batches ------------------------------------------------------------------------------------

def test_push_chunks_until_full_and_resume():
    heap = PriorityHeap(5)
    chunks = [chunk(i, (L, N, H)[i % 3]) for i in range(12)]
    assert heap.push_chunks(chunks, 0) == 5
    assert heap.push_chunks(chunks, 5) == 0
    first = heap.pop_batch(2)
    assert [c.sequence_number for c in first] == [2, 1]
    assert heap.push_chunks(chunks, 5) == 2
    assert heap.push_chunks(chunks, 12) == 0
    assert sorted(c.sequence_number for c in heap.clear()) == [0, 3, 4, 5, 6]


def test_pop_batch_limits():
    heap = PriorityHeap(10)
    for i in range(6):
        heap.push(i, 2, i)
    assert heap.pop_batch(0) == []
    assert heap.pop_batch(2) == [0, 1]
    assert heap.pop_batch(2**80) == [2, 3, 4, 5]
    assert heap.pop_batch(3) == []


@pytest.mark.parametrize("n, seq_range", [
    (63, 10), (64, 10), (700, 50), (1024, 2**20), (3000, 2**64), (2048, 4),
])
def test_large_batches_match_sorted(n, seq_range):
    # Covers the GIL-free sifting (>= 512 items), the drain sort (compact and full-width radix)
    # and partial pops from a large heap.
    rnd = random.Random(n)
    chunks = [chunk(rnd.randrange(seq_range), rnd.choice((L, N, H))) for _ in range(n)]
    heap = PriorityHeap(n)
    assert heap.push_chunks(chunks) == n
    heap._check()
    expected = sorted(chunks, key=lambda c: (-c.priority, c.sequence_number))
    part = heap.pop_batch(n // 3)
    heap._check()
    rest = heap.pop_batch(n)
    assert [id(c) for c in part + rest] == [id(c) for c in expected]
    assert heap.live_slots == 0


def test_clear_returns_priority_order():
    heap = PriorityHeap(600)
    rnd = random.Random(3)
    keys = [(rnd.randint(1, 3), rnd.randrange(100)) for _ in range(600)]
    for i, (p, s) in enumerate(keys):
        heap.push(i, p, s)
    out = heap.clear()
    assert out == sorted(range(600), key=lambda i: (-keys[i][0], keys[i][1], i))
    assert len(heap) == 0 and heap.live_slots == 0 and heap.clear() == []


def test_keys_are_the_pushed_keys():
    heap = PriorityHeap(50)
    keys = [(random.randint(1, 3), random.randrange(10**6)) for _ in range(50)]
    for p, s in keys:
        heap.push(None, p, s)
    assert sorted(heap.keys()) == sorted(keys)


# --- arrival counter ----------------------------------------------------------------------------

def test_arrival_counter_restarts_only_when_empty():
    heap = PriorityHeap(8)
    heap._set_next_order(ORDER_LIMIT - 2)
    assert heap.push("a", 2, 1) and heap.push("b", 2, 1)
    with pytest.raises(OverflowError):
        heap.push("c", 2, 1)
    with pytest.raises(OverflowError):
        heap.push_chunks([chunk(1)])
    assert len(heap) == 2 and heap.live_slots == 2
    assert heap.pop_batch(5) == ["a", "b"]
    # Empty: the counter restarts and FIFO still holds.
    assert heap.push("c", 2, 1) and heap.push("d", 2, 1)
    assert heap.clear() == ["c", "d"]
    heap._check()


# --- reference counts ---------------------------------------------------------------------------

def test_refcounts_push_pop_clear_dealloc():
    obj = Item(0)
    base = sys.getrefcount(obj)
    heap = PriorityHeap(10)
    heap.push(obj, 2, 0)
    heap.push(obj, 3, 0)
    assert sys.getrefcount(obj) == base + 2
    assert heap.peek() is obj
    assert sys.getrefcount(obj) == base + 2
    assert heap.pop() is obj
    assert sys.getrefcount(obj) == base + 1
    assert heap.pop_lowest() is obj
    assert sys.getrefcount(obj) == base
    for i in range(5):
        heap.push(obj, 1, i)
    assert heap.clear() == [obj] * 5
    gc.collect()
    assert sys.getrefcount(obj) == base
    for i in range(7):
        heap.push(obj, 1, i)
    del heap
    gc.collect()
    assert sys.getrefcount(obj) == base


def test_refcounts_batches():
    chunks = [chunk(i) for i in range(1200)]

    def refs():
        return [sys.getrefcount(c) for c in chunks]

    base = refs()
    heap = PriorityHeap(1000)
    assert heap.push_chunks(chunks) == 1000
    now = refs()
    assert now[:1000] == [b + 1 for b in base[:1000]] and now[1000:] == base[1000:]
    out = heap.pop_batch(400)
    del out
    assert heap.push_chunks(chunks, 1000) == 200
    out = heap.pop_batch(10**6)
    assert len(out) == 800
    del out
    assert refs() == base
    heap.push_chunks(chunks)
    del heap
    assert refs() == base


# --- stateful comparison with the model ---------------------------------------------------------

SEQUENCES = st.one_of(st.integers(0, 4), st.integers(0, 2**64 - 1))
PRIORITIES = st.one_of(st.integers(1, 3), st.sampled_from(list(MediaPriority)))


class HeapMachine(RuleBasedStateMachine):
    """Random push/pop/pop_lowest/batch/clear sequences against ReferenceHeap."""

    def __init__(self):
        super().__init__()
        self.heap = None
        self.model = None
        self.counter = 0

    @initialize(capacity=st.integers(1, 40),
                next_order=st.sampled_from([0, 0, ORDER_LIMIT - 30, ORDER_LIMIT - 3]))
    def setup(self, capacity, next_order):
        self.heap = PriorityHeap(capacity)
        self.heap._set_next_order(next_order)
        self.model = ReferenceHeap(capacity, next_order)

    def _call(self, name, *args):
        try:
            expected = getattr(self.model, name)(*args)
        except (IndexError, OverflowError) as error:
            with pytest.raises(type(error)):
                getattr(self.heap, name)(*args)
            return
        got = getattr(self.heap, name)(*args)
        if isinstance(expected, list):
            assert [id(x) for x in got] == [id(x) for x in expected]
        elif isinstance(expected, (bool, int, tuple)) or expected is None:
            assert got == expected
        else:
            assert got is expected

    @rule(priority=PRIORITIES, sequence=SEQUENCES)
    def push(self, priority, sequence):
        self.counter += 1
        self._call("push", Item(self.counter), priority, sequence)

    @rule(keys=st.lists(st.tuples(PRIORITIES, SEQUENCES), max_size=12), start=st.integers(0, 3))
    def push_chunks(self, keys, start):
        chunks = [chunk(s, p) for p, s in keys]
        if start > len(chunks):
            start = len(chunks)
        self._call("push_chunks", chunks, start)

    @rule()
    def pop(self):
        self._call("pop")

    @rule()
    def pop_lowest(self):
        self._call("pop_lowest")

    @rule(k=st.integers(0, 45))
    def pop_batch(self, k):
        self._call("pop_batch", k)

    @precondition(lambda self: self.heap is not None and len(self.model) > 0)
    @rule()
    def peeks(self):
        self._call("peek")
        self._call("peek_key")
        self._call("peek_lowest_key")

    @rule()
    def clear(self):
        self._call("clear")

    @invariant()
    def same_state(self):
        if self.heap is None:
            return
        assert len(self.heap) == len(self.model)
        assert bool(self.heap) == bool(len(self.model))
        assert self.heap.live_slots == len(self.model)
        assert sorted(self.heap.keys()) == sorted(self.model.keys())
        assert self.heap.peek_key() == self.model.peek_key()
        assert self.heap.peek_lowest_key() == self.model.peek_lowest_key()
        self.heap._check()


TestHeapMachine = HeapMachine.TestCase


@given(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 2**64 - 1)), max_size=300),
       st.integers(0, 300))
def test_batch_order_matches_model(keys, k):
    heap = PriorityHeap(max(1, len(keys)))
    model = ReferenceHeap(max(1, len(keys)))
    chunks = [chunk(s, p) for p, s in keys]
    assert heap.push_chunks(chunks) == model.push_chunks(chunks)
    assert [id(c) for c in heap.pop_batch(k)] == [id(c) for c in model.pop_batch(k)]
    assert [id(c) for c in heap.clear()] == [id(c) for c in model.clear()]


# --- threads ------------------------------------------------------------------------------------

def test_four_threads_account_for_every_item():
    heap = PriorityHeap(3000)
    per_thread = 6000
    popped = [[] for _ in range(4)]
    unsorted_batches = []
    errors = []
    start = threading.Barrier(4)

    def key(c):
        return (-c.priority, c.sequence_number)

    def worker(tid):
        try:
            rnd = random.Random(tid)
            mine = [MediaChunk(f"t{tid}", i, b"x", ChunkType.AUDIO, rnd.choice((L, N, H)))
                    for i in range(per_thread)]
            start.wait()
            pos = 0
            while pos < per_thread:
                mode = rnd.random()
                if mode < 0.4:
                    pos += heap.push_chunks(mine, pos)          # often >= 512: GIL released
                elif mode < 0.6:
                    if heap.push_chunk(mine[pos]):
                        pos += 1
                what = rnd.random()
                if what < 0.3:
                    batch = heap.pop_batch(rnd.choice((1, 50, 700, 5000)))
                    if [key(c) for c in batch] != sorted(key(c) for c in batch):
                        unsorted_batches.append(len(batch))
                    popped[tid].extend(batch)
                elif what < 0.6:
                    try:
                        popped[tid].append(heap.pop())
                    except IndexError:
                        pass
                elif what < 0.7:
                    try:
                        popped[tid].append(heap.pop_lowest())
                    except IndexError:
                        pass
                elif what < 0.72:
                    popped[tid].extend(heap.clear())
                len(heap), heap.live_slots, heap.peek_key()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert unsorted_batches == []
    leftovers = heap.clear()
    everything = [c for part in popped for c in part] + leftovers
    seen = {(c.stream_id, c.sequence_number) for c in everything}
    assert len(everything) == 4 * per_thread
    assert seen == {(f"t{t}", i) for t in range(4) for i in range(per_thread)}
    assert len(heap) == 0 and heap.live_slots == 0
    heap._check()


def test_threads_single_item_calls():
    heap = PriorityHeap(64)
    total = 20000
    got = []
    lock = threading.Lock()
    done = threading.Event()

    def producer(tid):
        for i in range(total // 2):
            item = (tid, i)
            while not heap.push(item, 1 + i % 3, i):
                time.sleep(0)

    def consumer():
        local = []
        while not (done.is_set() and not heap):
            try:
                local.append(heap.pop())
            except IndexError:
                time.sleep(0)
        with lock:
            got.extend(local)

    producers = [threading.Thread(target=producer, args=(t,)) for t in range(2)]
    consumers = [threading.Thread(target=consumer) for _ in range(2)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    done.set()
    for t in consumers:
        t.join()
    assert sorted(got) == sorted((t, i) for t in range(2) for i in range(total // 2))
    assert heap.live_slots == 0


def test_gil_free_batches_race_with_single_calls():
    # Large batches sift without the GIL for a long time; two other threads keep calling the
    # single-item methods meanwhile. Every item must come out exactly once, batches in order.
    heap = PriorityHeap(40000)
    bulk_items, single_items = 30000, 4000
    popped = [[] for _ in range(4)]
    problems = []
    start = threading.Barrier(4)

    def key(c):
        return (-c.priority, c.sequence_number)

    def bulk(tid):
        try:
            rnd = random.Random(tid)
            mine = [MediaChunk(f"t{tid}", i, b"x", ChunkType.AUDIO, rnd.choice((L, N, H)))
                    for i in range(bulk_items)]
            start.wait()
            pos = 0
            while pos < bulk_items:
                pos += heap.push_chunks(mine[:pos + rnd.randint(1000, 15000)], pos)
                batch = heap.pop_batch(rnd.randint(500, 12000))
                if [key(c) for c in batch] != sorted(key(c) for c in batch):
                    problems.append("unsorted batch")
                popped[tid].extend(batch)
        except BaseException as error:
            problems.append(error)

    def single(tid):
        try:
            mine = [MediaChunk(f"t{tid}", i, b"x", ChunkType.AUDIO, (L, N, H)[i % 3])
                    for i in range(single_items)]
            start.wait()
            pos = 0
            while pos < single_items:
                if heap.push_chunk(mine[pos]):
                    pos += 1
                try:
                    popped[tid].append(heap.pop() if pos % 2 else heap.pop_lowest())
                except IndexError:
                    pass
        except BaseException as error:
            problems.append(error)

    threads = [threading.Thread(target=bulk, args=(0,)), threading.Thread(target=bulk, args=(1,)),
               threading.Thread(target=single, args=(2,)), threading.Thread(target=single, args=(3,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    heap._check()
    everything = [c for part in popped for c in part] + heap.clear()
    assert len(everything) == 2 * bulk_items + 2 * single_items
    assert {(c.stream_id, c.sequence_number) for c in everything} == (
        {(f"t{t}", i) for t in (0, 1) for i in range(bulk_items)}
        | {(f"t{t}", i) for t in (2, 3) for i in range(single_items)})
    assert heap.live_slots == 0
