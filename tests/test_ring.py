"""ChunkRing (a stream's own buffer in C) against a pure-Python model, plus its edge cases."""
import sys
from collections import deque

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rs2fast import ChunkType, MediaChunk, MediaPriority
from rs2fast._ring import ChunkRing


def _chunk(seq, priority=MediaPriority.NORMAL):
    return MediaChunk("s", seq, b"r", ChunkType.METADATA, priority)


class ModelRing:
    """The live channel's rule in plain Python: one FIFO per priority, evict the worst if outranked."""

    def __init__(self, capacity, live):
        self.capacity, self.live = capacity, live
        self.fifos = {p: deque() for p in MediaPriority} if live else {None: deque()}

    def __len__(self):
        return sum(map(len, self.fifos.values()))

    def push(self, chunks, start):
        part = chunks[start:start + self.capacity - len(self)]
        self.fifos[None].extend(part)
        return len(part)

    def push_shedding(self, chunks):
        dropped = []
        for chunk in chunks:
            if len(self) < self.capacity:
                self.fifos[chunk.priority].append(chunk)
                continue
            worst = next(q for _, q in sorted(self.fifos.items()) if q)
            rank = lambda c: (int(c.priority), -c.sequence_number)   # noqa: E731
            if rank(chunk) <= rank(worst[-1]):
                dropped.append(chunk)
            else:
                dropped.append(worst.pop())
                self.fifos[chunk.priority].append(chunk)
        return dropped

    def take(self, n):
        out = []
        queues = [q for q in self.fifos.values() if q]
        while len(out) < n and queues:
            head = min(queues, key=lambda q: q[0].sequence_number)
            out.append(head.popleft())
            if not head:
                queues.remove(head)
        return out


class RingMachine(RuleBasedStateMachine):
    @initialize(capacity=st.integers(1, 6), live=st.booleans())
    def setup(self, capacity, live):
        self.real = ChunkRing(capacity, live)
        self.model = ModelRing(capacity, live)
        self.next_seq = 0

    def _batch(self, priorities):
        chunks = []
        for priority in priorities:
            chunks.append(_chunk(self.next_seq, priority))
            self.next_seq += 1
        return chunks

    @precondition(lambda self: hasattr(self, "real"))
    @rule(priorities=st.lists(st.sampled_from(list(MediaPriority)), max_size=8),
          start=st.integers(0, 3))
    def push(self, priorities, start):
        chunks = self._batch(priorities)
        start = min(start, len(chunks))
        if self.real.live:
            assert [id(c) for c in self.real.push_shedding(chunks)] == \
                [id(c) for c in self.model.push_shedding(chunks)]
        else:
            assert self.real.push(chunks, start) == self.model.push(chunks, start)

    @precondition(lambda self: hasattr(self, "real"))
    @rule(n=st.integers(0, 7))
    def take(self, n):
        assert [id(c) for c in self.real.take(n)] == [id(c) for c in self.model.take(n)]

    @precondition(lambda self: hasattr(self, "real"))
    @rule()
    def clear(self):
        self.real.clear()
        self.model = ModelRing(self.model.capacity, self.model.live)

    @invariant()
    def same_length(self):
        if hasattr(self, "real"):
            assert len(self.real) == len(self.model) <= self.real.capacity


TestRingMachine = RingMachine.TestCase
TestRingMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


def test_fifo_push_takes_only_what_fits_and_keeps_order():
    ring = ChunkRing(3)
    chunks = [_chunk(i) for i in range(5)]
    assert ring.push(chunks) == 3
    assert ring.push(chunks, 3) == 0
    assert [c.sequence_number for c in ring.take(2)] == [0, 1]
    assert ring.push(chunks, 3) == 2
    assert [c.sequence_number for c in ring.take(10)] == [2, 3, 4]
    assert ring.take(5) == [] and len(ring) == 0


def test_live_ring_sheds_b_frames_before_keyframes():
    ring = ChunkRing(2, live=True)
    low, high = _chunk(1, MediaPriority.LOW), _chunk(2, MediaPriority.HIGH)
    assert ring.push_shedding([low, high]) == []
    newcomer = _chunk(3, MediaPriority.HIGH)
    assert ring.push_shedding([newcomer]) == [low]
    assert ring.take(5) == [high, newcomer]


def test_bad_items_are_refused_before_anything_is_taken():
    ring = ChunkRing(4)
    with pytest.raises(TypeError, match=r"chunks\[1\] must be a MediaChunk, not bytes"):
        ring.push([_chunk(0), b"x"])
    assert len(ring) == 0
    live = ChunkRing(4, live=True)
    with pytest.raises(TypeError, match=r"chunks\[0\] must be a MediaChunk"):
        live.push_shedding([None])
    with pytest.raises(TypeError, match="use push_shedding"):
        live.push([_chunk(0)])
    with pytest.raises(TypeError, match="use push"):
        ring.push_shedding([_chunk(0)])


@pytest.mark.parametrize("capacity, error", [(0, ValueError), (-1, ValueError), (True, TypeError),
                                             ("4", TypeError)])
def test_bad_capacity(capacity, error):
    with pytest.raises(error):
        ChunkRing(capacity)


def test_bad_arguments():
    ring = ChunkRing(2)
    with pytest.raises(IndexError):
        ring.push([_chunk(0)], 2)
    with pytest.raises(ValueError):
        ring.take(-1)


def test_references_are_released_by_take_clear_and_deallocation():
    chunk = _chunk(0)
    base = sys.getrefcount(chunk)
    ring = ChunkRing(4)
    ring.push([chunk, chunk])
    assert sys.getrefcount(chunk) == base + 2
    taken = ring.take(1)
    assert sys.getrefcount(chunk) == base + 2        # one in `taken`, one in the ring
    del taken
    ring.clear()
    assert sys.getrefcount(chunk) == base
    ring.push([chunk])
    del ring
    assert sys.getrefcount(chunk) == base
