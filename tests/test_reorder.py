"""Tests of rs2fast._reorder.ReorderBuffer: RS2's cases, RS2's defects fixed, edges, and a
stateful comparison with the plain-Python model in tests/reference_reorder.py."""
import gc
import sys
import threading
from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from rs2fast._chunk import MediaChunk
from rs2fast._reorder import (ACCEPTED, DUPLICATE, GAP, LATE, OVERFLOW, STATUS_NAMES,
                              ReorderBuffer)
from tests.reference import ReferenceReorder

A, D, L, G, O = ACCEPTED, DUPLICATE, LATE, GAP, OVERFLOW
TOP = 2**64 - 1


def feed(buf, seqs, now=0):
    """Insert each seq (the item is the seq itself); returns (statuses, ready)."""
    ready = []
    return [buf.insert(s, s, now, ready) for s in seqs], ready


def test_status_constants():
    assert (A, D, L, G, O) == (0, 1, 2, 3, 4)
    assert [STATUS_NAMES[c] for c in (A, D, L, G, O)] == [
        "ACCEPTED", "DUPLICATE", "LATE", "GAP", "OVERFLOW"]


# --- RS2's own cases --------------------------------------------------------------------------

def test_rs2_reorders_within_window():
    buf = ReorderBuffer(5)
    statuses, ready = feed(buf, [2, 0, 1])
    assert statuses == [A, A, A]
    assert ready == [0, 1, 2]
    assert buf.next_expected == 3 and buf.buffered == 0 and buf.delivered == 3


def test_rs2_duplicate_of_buffered_chunk():
    buf = ReorderBuffer(5)
    statuses, ready = feed(buf, [1, 1, 2])
    assert statuses == [A, D, A]
    assert ready == [] and buf.buffered_sequences() == [1, 2]


def test_rs2_overflow_when_ring_full():
    buf = ReorderBuffer(2)
    statuses, ready = feed(buf, [1, 2, 3])
    assert statuses == [A, A, O]
    assert ready == [] and buf.buffered == 2


def test_rs2_gap_beyond_window():
    buf = ReorderBuffer(2)
    statuses, ready = feed(buf, [0, 5])
    assert statuses == [A, G]
    assert ready == [0] and buf.next_expected == 1


def test_rs2_inclusive_window_boundary():
    buf = ReorderBuffer(2)
    statuses, ready = feed(buf, [0, 3, 4])
    assert statuses == [A, A, G]
    assert buf.buffered_sequences() == [3]


# --- RS2's defects, fixed ---------------------------------------------------------------------

def test_stale_chunk_does_not_poison_the_stream():
    buf = ReorderBuffer(4)
    statuses, ready = feed(buf, [0, 1, 2, 3, 2, 4, 5, 6, 7, 8])
    assert ready == list(range(9))
    assert statuses.count(D) == 1 and statuses[4] == D
    assert statuses.count(A) == 9 and buf.buffered == 0


def test_paused_stream_keeps_its_position():
    buf = ReorderBuffer(4, timeout_ns=10)
    feed(buf, range(11), now=0)
    ready = []
    assert buf.insert(12, 12, 1_000, ready) == A          # after a long pause, out of order
    assert buf.insert(11, 11, 1_001, ready) == A
    assert ready == [11, 12]
    assert buf.next_expected == 13 and buf.lost == 0


def test_paused_stream_resumes_in_order():
    buf = ReorderBuffer(4, timeout_ns=10)
    feed(buf, range(11), now=0)
    statuses, ready = feed(buf, [11, 12], now=5_000)
    assert statuses == [A, A] and ready == [11, 12] and buf.lost == 0


def test_late_chunk_after_loss_is_late():
    buf = ReorderBuffer(4, timeout_ns=10)
    ready = []
    assert buf.insert(0, 0, 0, ready) == A
    assert buf.insert(2, 2, 1, ready) == A
    assert buf.expire(20, ready) == 1
    assert ready == [0, 2] and buf.lost == 1
    assert buf.insert(1, 1, 21, ready) == L            # declared lost: late, never inserted
    assert buf.insert(0, 0, 21, ready) == D            # delivered: duplicate
    assert buf.insert(2, 2, 21, ready) == D
    assert buf.buffered == 0 and ready == [0, 2]


def test_history_limit_turns_duplicates_into_late():
    buf = ReorderBuffer(4, history=64)
    feed(buf, range(200))
    ready = []
    assert buf.history == 64
    assert buf.insert(150, 150, 0, ready) == D        # 50 below the watermark: remembered
    assert buf.insert(136, 136, 0, ready) == D        # exactly 64 below
    assert buf.insert(135, 135, 0, ready) == L        # 65 below: forgotten
    assert ReorderBuffer(4, history=65).history == 128
    assert ReorderBuffer(4, history=1).history == 64


def test_below_the_initial_watermark_is_late():
    buf = ReorderBuffer(4, next_expected=100)
    statuses, ready = feed(buf, [99, 0, 100])
    assert statuses == [L, L, A] and ready == [100]


# --- resync -----------------------------------------------------------------------------------

def test_resync_forward_after_agreeing_chunks():
    buf = ReorderBuffer(8, resync_after=4)
    feed(buf, range(10))
    statuses, ready = feed(buf, [1010, 1011, 1012, 1013, 1014, 1015])
    assert statuses == [G, G, G, A, A, A]
    assert ready == [1013, 1014, 1015]
    assert buf.next_expected == 1016 and buf.resyncs == 1
    assert buf.lost == 1013 - 10                      # 10..1012, the run's rejected ones too
    assert feed(buf, [1010])[0] == [L]


def test_resync_forward_releases_buffered_first():
    buf = ReorderBuffer(8, resync_after=3)
    statuses, ready = feed(buf, [0, 2, 5, 500, 501, 502])
    assert statuses == [A, A, A, G, G, A]
    assert ready == [0, 2, 5, 502]
    assert buf.lost == 1 + 2 + (502 - 6)
    assert buf.buffered == 0


def test_resync_run_must_be_consecutive_and_is_reset_by_acceptance():
    buf = ReorderBuffer(4, resync_after=3)
    feed(buf, [0])
    assert feed(buf, [100, 101, 103, 104])[0] == [G, G, G, G]
    assert feed(buf, [200, 201, 1, 202])[0] == [G, G, A, G]   # 1 accepted: run restarts
    assert buf.resyncs == 0 and buf.next_expected == 2
    assert feed(buf, [203, 204])[0] == [G, A] and buf.resyncs == 1


def test_overflow_counts_towards_forward_resync():
    buf = ReorderBuffer(2, resync_after=3)
    statuses, ready = feed(buf, [1, 2, 3, 4, 5])
    assert statuses == [A, A, O, O, A]
    assert ready == [1, 2, 5] and buf.lost == 1 + 2     # 0 and 3, 4
    assert buf.next_expected == 6


def test_retransmission_burst_does_not_move_the_stream_back():
    buf = ReorderBuffer(8, resync_after=4, timeout_ns=100)
    feed(buf, range(100))
    statuses, ready = feed(buf, [0, 1, 2, 3, 4, 5], now=50)    # remembered, stream not stalled
    assert statuses == [D] * 6 and ready == []
    assert buf.next_expected == 100 and buf.resyncs == 0


def test_resync_backward_when_producer_restarts():
    # Within the history a restart is believed only once the stream has stalled for the timeout.
    buf = ReorderBuffer(8, resync_after=4, timeout_ns=100)
    feed(buf, range(100))
    statuses, ready = feed(buf, [0, 1, 2, 3, 4, 5], now=200)
    assert statuses == [D, D, D, A, A, A]
    assert ready == [3, 4, 5]
    assert buf.next_expected == 6 and buf.resyncs == 1 and buf.lost == 0
    # the history was reset: 0..2 of the new epoch are unknown, 3..5 delivered
    assert feed(buf, [2, 3], now=200)[0] == [L, D]


def test_resync_backward_beyond_history_and_with_buffered_chunks():
    buf = ReorderBuffer(8, resync_after=2, history=64)
    feed(buf, range(500))
    statuses, ready = feed(buf, [502, 504, 0, 1])
    assert statuses == [A, A, L, A]
    assert ready == [502, 504, 1]                       # buffered ones released first
    assert buf.lost == 3 and buf.next_expected == 2     # 500, 501, 503


def test_near_rejections_do_not_start_a_resync():
    buf = ReorderBuffer(8, resync_after=2)
    feed(buf, range(20))
    assert feed(buf, [14, 15, 16, 17])[0] == [D, D, D, D]   # within a window below
    assert buf.resyncs == 0 and buf.next_expected == 20


def test_resync_can_be_disabled():
    buf = ReorderBuffer(2, resync_after=0)
    assert feed(buf, [0, 10, 11, 12, 13, 14, 15])[0] == [A] + [G] * 6
    assert buf.resyncs == 0


# --- timeout ----------------------------------------------------------------------------------

def test_expire_with_fake_clock():
    buf = ReorderBuffer(8, timeout_ns=100)
    ready = []
    buf.insert(0, 0, 0, ready)
    buf.insert(3, 3, 10, ready)
    buf.insert(4, 4, 11, ready)
    assert buf.last_progress_ns == 10                   # a hole started blocking at 10
    assert buf.expire(50, ready) == 0 and ready == [0]
    assert buf.expire(110, ready) == 2
    assert ready == [0, 3, 4] and buf.next_expected == 5 and buf.last_progress_ns == 110
    buf.insert(6, 6, 111, ready)                        # into an empty ring: clock restarts
    buf.insert(8, 8, 112, ready)
    assert buf.last_progress_ns == 111
    assert buf.expire(210, ready) == 0
    assert buf.expire(211, ready) == 1                  # one run per call: 5 lost, 6 out
    assert ready[-1] == 6 and buf.buffered_sequences() == [8]
    assert buf.expire(211, ready) == 0
    assert buf.expire(311, ready) == 1 and ready[-1] == 8
    assert buf.lost == 4 and buf.buffered == 0
    assert buf.expire(10_000, ready) == 0               # nothing buffered: nothing to expire


def test_timeout_inside_insert_expires_then_judges_again():
    buf = ReorderBuffer(4, timeout_ns=100)
    ready = []
    buf.insert(0, 0, 0, ready)
    buf.insert(3, 3, 0, ready)
    buf.insert(5, 5, 0, ready)
    assert buf.insert(4, 4, 200, ready) == A            # 1, 2 lost; 3, then 4, 5 follow
    assert ready == [0, 3, 4, 5] and buf.lost == 2


def test_timeout_lets_a_jump_through():
    buf = ReorderBuffer(4, timeout_ns=100, resync_after=0)
    ready = []
    buf.insert(0, 0, 0, ready)
    buf.insert(2, 2, 0, ready)
    buf.insert(5, 5, 0, ready)
    assert buf.insert(50, 50, 50, ready) == G           # not timed out yet
    assert buf.insert(50, 50, 100, ready) == A          # timed out: everything released
    assert ready == [0, 2, 5, 50]
    assert buf.lost == 1 + 2 + 44 and buf.resyncs == 1 and buf.next_expected == 51


def test_clock_going_backwards_never_times_out():
    buf = ReorderBuffer(4, timeout_ns=10)
    ready = []
    buf.insert(2, 2, 1_000, ready)
    assert buf.expire(-5, ready) == 0 and buf.buffered == 1


# --- flush ------------------------------------------------------------------------------------

def test_flush_releases_everything_in_order():
    buf = ReorderBuffer(8)
    statuses, ready = feed(buf, [0, 5, 2])
    assert buf.flush(ready) == 3                        # 1, 3, 4
    assert ready == [0, 2, 5]
    assert buf.next_expected == 6 and buf.buffered == 0 and buf.lost == 3
    assert buf.flush(ready) == 0 and buf.next_expected == 6
    assert feed(buf, [3, 6])[0] == [L, A]


# --- uint64 edges -----------------------------------------------------------------------------

def test_top_of_sequence_space():
    buf = ReorderBuffer(4, next_expected=TOP - 2)
    statuses, ready = feed(buf, [TOP, TOP - 1, TOP - 2])
    assert statuses == [A, A, A] and ready == [TOP - 2, TOP - 1, TOP]
    assert buf.next_expected == 2**64                   # exhausted
    assert feed(buf, [TOP, TOP - 5, 0, 5])[0] == [D, L, L, L]


def test_top_gap_and_flush_do_not_overflow():
    buf = ReorderBuffer(2, next_expected=TOP - 10, resync_after=0)
    assert feed(buf, [TOP])[0] == [G]
    buf = ReorderBuffer(4, next_expected=TOP - 3)
    ready = []
    buf.insert(TOP, "top", 0, ready)
    assert buf.flush(ready) == 3 and ready == ["top"] and buf.next_expected == 2**64


def test_top_resync_forward_and_restart_after_exhaustion():
    buf = ReorderBuffer(2, next_expected=0, resync_after=2)
    statuses, ready = feed(buf, [TOP - 1, TOP])
    assert statuses == [G, A] and ready == [TOP] and buf.next_expected == 2**64
    assert buf.lost == TOP
    statuses, ready = feed(buf, [TOP, 0, 1, 2])
    assert statuses == [D, L, A, A] and ready == [1, 2]
    assert buf.next_expected == 3 and buf.resyncs == 2


def test_resync_run_does_not_wrap_past_the_top():
    buf = ReorderBuffer(2, next_expected=10, resync_after=2)
    statuses, ready = feed(buf, [TOP, 0, 1])            # TOP, 0 are not consecutive
    assert statuses == [G, L, A] and ready == [1] and buf.resyncs == 1


def test_timeout_near_top():
    buf = ReorderBuffer(2, next_expected=TOP - 5, timeout_ns=1, resync_after=0)
    statuses, ready = feed(buf, [TOP - 4, TOP], now=0)
    assert statuses == [A, G]
    assert buf.insert(TOP, TOP, 10, ready) == A          # expire, then jump
    assert ready == [TOP - 4, TOP]
    assert buf.next_expected == 2**64 and buf.lost == 4


# --- argument checking ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(window=0), ValueError, "window"),
    (dict(window=2**20 + 1), ValueError, "window"),
    (dict(window=2.0), TypeError, "window"),
    (dict(window=True), TypeError, "window"),
    (dict(window=4, next_expected=-1), ValueError, "next_expected"),
    (dict(window=4, next_expected=2**64 + 1), ValueError, "next_expected"),
    (dict(window=4, timeout_ns=-1), ValueError, "timeout_ns"),
    (dict(window=4, resync_after=1), ValueError, "resync_after"),
    (dict(window=4, history=0), ValueError, "history"),
    (dict(window=4, history="8"), TypeError, "history"),
])
def test_constructor_validates(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        ReorderBuffer(**kwargs)


def test_insert_validates():
    buf = ReorderBuffer(4)
    with pytest.raises(ValueError, match="seq"):
        buf.insert(-1, None, 0, [])
    with pytest.raises(ValueError, match="seq"):
        buf.insert(2**64, None, 0, [])
    with pytest.raises(TypeError, match="seq"):
        buf.insert(1.0, None, 0, [])
    with pytest.raises(TypeError, match="seq"):
        buf.insert(True, None, 0, [])
    with pytest.raises(ValueError, match="now_ns"):
        buf.insert(0, None, 2**63, [])
    with pytest.raises(TypeError, match="now_ns"):
        buf.insert(0, None, "0", [])
    with pytest.raises(TypeError, match="ready"):
        buf.insert(0, None, 0, ())
    with pytest.raises(TypeError, match="ready"):
        buf.insert(0, None, 0, None)
    assert buf.delivered == 0 and buf.next_expected == 0   # nothing happened
    assert buf.insert(np.uint64(0), "x", np.int64(5), []) == A   # numpy ints are ints


def test_insert_batch_validates():
    buf = ReorderBuffer(4)
    seqs = np.arange(3, dtype=np.uint64)
    with pytest.raises(TypeError, match="seqs"):
        buf.insert_batch(np.arange(3, dtype=np.int32), [1, 2, 3], 0, bytearray(3), [])
    with pytest.raises(TypeError, match="seqs"):
        buf.insert_batch([0, 1, 2], [1, 2, 3], 0, bytearray(3), [])
    with pytest.raises(TypeError, match="statuses"):
        buf.insert_batch(seqs, [1, 2, 3], 0, bytes(3), [])
    with pytest.raises(ValueError, match="items"):
        buf.insert_batch(seqs, [1, 2], 0, bytearray(3), [])
    with pytest.raises(ValueError, match="statuses"):
        buf.insert_batch(seqs, [1, 2, 3], 0, bytearray(2), [])
    with pytest.raises(TypeError, match="items"):
        buf.insert_batch(seqs, (1, 2, 3), 0, bytearray(3), [])
    assert buf.delivered == 0
    statuses = array("B", bytes(3))
    ready = []
    assert buf.insert_batch(array("Q", [2, 0, 1]), ["c", "a", "b"], 0, statuses, ready) == 3
    assert list(statuses) == [A, A, A] and ready == ["a", "b", "c"]
    assert buf.insert_batch(np.zeros(0, np.uint64), [], 0, bytearray(), ready) == 0


# --- references -------------------------------------------------------------------------------

def test_refcounts_return_to_start():
    items = [object() for _ in range(8)]
    start = [sys.getrefcount(x) for x in items]
    buf = ReorderBuffer(4)
    ready = []
    statuses = [buf.insert(s, items[i], 0, ready) for i, s in enumerate([1, 2, 1, 9, 3])]
    assert statuses == [A, A, D, G, A]
    assert sys.getrefcount(items[0]) == start[0] + 1    # buffered: held once by the slot
    assert sys.getrefcount(items[2]) == start[2]        # duplicate: not held
    assert sys.getrefcount(items[3]) == start[3]        # gap: not held
    held = buf.buffered_items()
    assert held == [items[0], items[1], items[4]]
    del held
    buf.insert(0, items[5], 0, ready)
    assert ready == [items[5], items[0], items[1], items[4]]
    ready.clear()
    assert [sys.getrefcount(x) for x in items] == start
    buf.insert(7, items[6], 0, ready)
    batch_statuses = bytearray(3)
    buf.insert_batch(np.array([5, 5, 100], np.uint64), [items[7], items[7], items[7]], 0,
                     batch_statuses, ready)
    assert list(batch_statuses) == [A, D, G]
    assert sys.getrefcount(items[7]) == start[7] + 1
    del buf                                             # dealloc releases the slots
    gc.collect()
    assert [sys.getrefcount(x) for x in items] == start


# --- threads ----------------------------------------------------------------------------------

def test_threads_share_one_buffer_safely():
    buf = ReorderBuffer(64, resync_after=0)
    n_threads, per_thread = 4, 4000
    readies = [[] for _ in range(n_threads)]

    def work(k):
        seqs = np.arange(k, n_threads * per_thread, n_threads, dtype=np.uint64)
        items = [int(s) for s in seqs]
        for lo in range(0, len(seqs), 64):
            st_ = bytearray(len(seqs[lo:lo + 64]))
            buf.insert_batch(seqs[lo:lo + 64], items[lo:lo + 64], 0, st_, readies[k])
            for s in range(lo, min(lo + 4, len(seqs))):
                buf.insert(int(seqs[s]), int(seqs[s]), 0, readies[k])   # duplicates

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = []
    buf.flush(final)
    released = sorted(x for r in readies for x in r) + final
    assert len(released) == len(set(released))             # nothing released twice
    assert buf.delivered == len(released)
    assert buf.delivered + buf.lost == buf.next_expected    # every seq delivered or lost
    for r in readies:
        assert r == sorted(r)


# --- batch == per item ------------------------------------------------------------------------

seq_lists = st.lists(st.one_of(st.integers(0, 40), st.integers(0, 400),
                               st.sampled_from([TOP - 1, TOP])), max_size=60)


@given(seqs=seq_lists, cuts=st.lists(st.integers(0, 60), max_size=6),
       window=st.integers(1, 9), timeout=st.sampled_from([0, 3]),
       resync_after=st.sampled_from([0, 2, 4]), start=st.sampled_from([0, 10, TOP - 20]))
def test_batch_agrees_with_per_item(seqs, cuts, window, timeout, resync_after, start):
    kwargs = dict(next_expected=start, timeout_ns=timeout, resync_after=resync_after)
    one, many = ReorderBuffer(window, **kwargs), ReorderBuffer(window, **kwargs)
    bounds = sorted({0, len(seqs), *[c for c in cuts if c <= len(seqs)]})
    ready_one, ready_many, statuses_one, statuses_many = [], [], [], []
    for t, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        items = [(s, i) for i, s in enumerate(seqs[lo:hi], lo)]
        statuses_one += [one.insert(it[0], it, t * 2, ready_one) for it in items]
        out = np.full(hi - lo, 255, np.uint8)
        before = len(ready_many)
        n = many.insert_batch(np.array(seqs[lo:hi], np.uint64), items, t * 2, out, ready_many)
        assert n == len(ready_many) - before
        statuses_many += out.tolist()
    assert statuses_many == statuses_one
    assert ready_many == ready_one
    for name in ("next_expected", "buffered", "lost", "delivered", "resyncs", "last_progress_ns"):
        assert getattr(many, name) == getattr(one, name), name
    assert many.buffered_items() == one.buffered_items()


# --- the stateful comparison with the model ---------------------------------------------------

class ReorderMachine(RuleBasedStateMachine):
    """Random insert / insert_batch / expire / flush / clock steps, real kernel vs model."""

    @initialize(window=st.integers(1, 8),
                start=st.one_of(st.sampled_from([0, TOP - 30]), st.integers(0, 50)),
                timeout=st.sampled_from([0, 40, 150]), resync_after=st.sampled_from([0, 2, 3, 4]),
                history=st.sampled_from([1, 64, 130]))
    def setup(self, window, start, timeout, resync_after, history):
        kwargs = dict(next_expected=start, timeout_ns=timeout, resync_after=resync_after,
                      history=history)
        self.real = ReorderBuffer(window, **kwargs)
        self.model = ReferenceReorder(window, **kwargs)
        self.start = start
        self.now = 0
        self.uid = 0
        self.released = []                    # (seq, uid) items, in release order
        self.accepted = set()
        self.rejected = set()

    def _seq(self, offset):
        return min(max(self.model.next_expected + offset, 0), TOP)

    def _item(self, seq):
        self.uid += 1
        return (seq, self.uid)

    def _record(self, item, status):
        (self.accepted if status == ACCEPTED else self.rejected).add(item[1])

    def _one(self, seq):
        item = self._item(seq)
        ready_real, ready_model = [], []
        status = self.real.insert(seq, item, self.now, ready_real)
        assert status == self.model.insert(seq, item, self.now, ready_model)
        assert ready_real == ready_model
        self.released += ready_real
        self._record(item, status)

    @rule(offset=st.integers(-20, 20))
    def insert_near(self, offset):
        self._one(self._seq(offset))

    @rule(where=st.sampled_from(["ahead", "zero", "top"]), length=st.integers(1, 5))
    def insert_run(self, where, length):
        first = {"ahead": self._seq(30), "zero": 0, "top": TOP - 2}[where]
        for k in range(length):
            self._one(min(first + k, TOP))

    @rule(offsets=st.lists(st.integers(-12, 12), min_size=1, max_size=12))
    def insert_batch(self, offsets):
        seqs = [self._seq(o) for o in offsets]
        items = [self._item(s) for s in seqs]
        statuses = np.zeros(len(seqs), np.uint8)
        model_statuses = [None] * len(seqs)
        ready_real, ready_model = [], []
        n = self.real.insert_batch(np.array(seqs, np.uint64), items, self.now, statuses,
                                   ready_real)
        self.model.insert_batch(seqs, items, self.now, model_statuses, ready_model)
        assert statuses.tolist() == model_statuses
        assert n == len(ready_real) and ready_real == ready_model
        self.released += ready_real
        for item, status in zip(items, model_statuses):
            self._record(item, status)

    @rule(dt=st.integers(0, 160))
    def tick(self, dt):
        self.now += dt

    @rule()
    def expire(self):
        ready_real, ready_model = [], []
        assert self.real.expire(self.now, ready_real) == self.model.expire(self.now, ready_model)
        assert ready_real == ready_model
        self.released += ready_real

    @rule()
    def flush(self):
        ready_real, ready_model = [], []
        assert self.real.flush(ready_real) == self.model.flush(ready_model)
        assert ready_real == ready_model
        self.released += ready_real

    @invariant()
    def counters_agree(self):
        if not hasattr(self, "real"):
            return
        for name in ("next_expected", "buffered", "lost", "delivered", "resyncs",
                     "last_progress_ns"):
            assert getattr(self.real, name) == getattr(self.model, name), name
        assert self.real.buffered_sequences() == self.model.buffered_sequences()
        assert self.real.buffered_items() == self.model.buffered_items()

    @invariant()
    def conservation(self):
        if not hasattr(self, "real"):
            return
        seqs = [item[0] for item in self.released]
        skipped = max(seqs[0] - self.start, 0) if seqs else 0
        drops = 1 if seqs and seqs[0] < self.start else 0   # restarted before any release
        for a, b in zip(seqs, seqs[1:]):
            assert a != b
            if b > a:
                skipped += b - a - 1
            else:
                drops += 1                    # only a backward resync may go down
        assert drops == self.model.backward_resyncs
        assert self.real.lost == skipped
        assert self.real.delivered == len(self.released)
        uids = [item[1] for item in self.released]
        assert len(uids) == len(set(uids))    # released at most once
        assert not set(uids) & self.rejected  # rejected items are never released
        assert set(uids) <= self.accepted

    def teardown(self):
        if not hasattr(self, "real"):
            return
        self.flush()
        self.conservation()
        assert {item[1] for item in self.released} == self.accepted
        assert self.real.buffered == 0


TestReorderStateful = ReorderMachine.TestCase
TestReorderStateful.settings = settings(stateful_step_count=60)


def test_next_expected_two_to_the_64_makes_an_exhausted_stream():
    buf = ReorderBuffer(4, next_expected=2**64)
    assert buf.next_expected == 2**64
    assert feed(buf, [0, 2**64 - 1])[0] == [L, L]


# --- buffered bytes --------------------------------------------------------------------------------

def _chunk_of(seq, size):
    return MediaChunk("s", seq, bytes(size), 3)


def test_buffered_bytes_counts_the_waiting_chunks():
    rb = ReorderBuffer(8)
    ready = []
    assert rb.buffered_bytes == 0
    rb.insert(2, _chunk_of(2, 100), 0, ready)
    rb.insert(3, _chunk_of(3, 50), 0, ready)
    rb.insert(3, _chunk_of(3, 7), 0, ready)                 # a duplicate is not counted
    assert rb.buffered_bytes == 150 and ready == []
    rb.insert(0, _chunk_of(0, 1), 0, ready)                 # delivered at once: never buffered
    assert rb.buffered_bytes == 150
    rb.insert(1, _chunk_of(1, 1), 0, ready)                 # releases 1, 2, 3
    assert rb.buffered_bytes == 0 and len(ready) == 4
    rb.insert(6, "not a chunk", 0, ready)                   # other items count 0
    assert rb.buffered == 1 and rb.buffered_bytes == 0


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 300)), max_size=60),
       st.sampled_from(["insert", "insert_chunks"]), st.integers(1, 16), st.booleans())
def test_buffered_bytes_matches_the_buffered_items(steps, how, window, flush_at_end):
    rb = ReorderBuffer(window, timeout_ns=50, resync_after=3)
    ready = []
    for now, (seq, size) in enumerate(steps):
        chunk = _chunk_of(seq, size)
        if how == "insert":
            rb.insert(seq, chunk, now * 10, ready)
        else:
            rb.insert_chunks([chunk, chunk], now * 10, bytearray(2), ready)
        if now % 7 == 6:
            rb.expire(now * 10, ready)
        assert rb.buffered_bytes == sum(map(len, rb.buffered_items()))
    if flush_at_end:
        rb.flush(ready)
        assert rb.buffered_bytes == 0
