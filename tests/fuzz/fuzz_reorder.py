"""Fuzz target: the reorder kernel (rs2fast._reorder.ReorderBuffer) fed arbitrary operation streams.

The bytes choose the buffer's settings (window, start position near 0 / near 2**64 / anywhere,
timeout, resync rule, history) and then a stream of operations: insert, insert_batch, runs of
consecutive sequence numbers, clock steps (forwards, backwards, to the ends of int64), expire and
flush. Every step is compared with the plain-Python model (tests.reference, or the older
tests.reference_reorder): statuses, released items and all counters. Invariants on top: released
sequence numbers strictly increase except at a backward resync; every hole counts as lost; an item
is released at most once, only if it was accepted, and every accepted item comes out by the end.

Run: python tests/fuzz/fuzz_reorder.py tests/fuzz/corpus/reorder -max_total_time=60
"""
from __future__ import annotations

import sys
from array import array
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import fuzz_support  # noqa: E402

from rs2fast._reorder import ACCEPTED, MAX_HISTORY, ReorderBuffer  # noqa: E402

ReferenceReorder = fuzz_support.load_reference_reorder()

TOP = 2**64 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_STEPS = 400
_COUNTERS = ("next_expected", "buffered", "lost", "delivered", "resyncs", "last_progress_ns")


class _Run:
    """One buffer and its model, driven in step, with the conservation bookkeeping."""

    def __init__(self, r: fuzz_support.Reader) -> None:
        self.r = r
        self.window = r.pick([1, 2, 3, 4, 5, 7, 8, 16, 64, 1000, 4096])
        self.start = r.pick([0, r.int_in(0, 100), TOP - r.int_in(0, 40), r.int_in(0, TOP)])
        settings = dict(next_expected=self.start,
                        timeout_ns=r.pick([0, 0, 1, 10, 100, r.int_in(0, INT64_MAX)]),
                        resync_after=r.pick([0, 2, 3, 4, 6]),
                        history=r.pick([1, 63, 64, 65, 130, 1024, MAX_HISTORY]))
        self.real = ReorderBuffer(self.window, **settings)
        self.model = ReferenceReorder(self.window, **settings)
        self.now = r.pick([0, 0, r.int_in(INT64_MIN, INT64_MAX), INT64_MAX - 500, INT64_MIN])
        self.uid = 0
        self.accepted: set[int] = set()
        self.rejected: set[int] = set()
        self.released: set[int] = set()
        self.previous = None        # last released sequence number
        self.skipped = 0            # holes between released sequence numbers
        self.drops = 0              # places where the released sequence went down

    # --- choices ---------------------------------------------------------------------------
    def seq(self) -> int:
        r, base = self.r, min(self.model.next_expected, TOP)
        kind = r.byte() % 6
        if kind <= 1:
            offset = r.int_in(-20, 20)
        elif kind == 2:
            return r.int_in(0, 40)
        elif kind == 3:
            return TOP - r.int_in(0, 40)
        elif kind == 4:
            return r.int_in(0, TOP)
        else:
            offset = self.window + r.int_in(-3, 3)
        return min(max(base + offset, 0), TOP)

    def item(self, seq: int):
        self.uid += 1
        return (seq, self.uid)

    # --- bookkeeping -----------------------------------------------------------------------
    def record(self, item, status) -> None:
        (self.accepted if status == ACCEPTED else self.rejected).add(item[1])

    def released_in_order(self, ready_real, ready_model) -> None:
        assert ready_real == ready_model, (ready_real, ready_model)
        for seq, uid in ready_real:
            if self.previous is None:
                self.skipped += max(seq - self.start, 0)
                self.drops += seq < self.start
            else:
                assert seq != self.previous, f"sequence {seq} released twice in a row"
                if seq > self.previous:
                    self.skipped += seq - self.previous - 1
                else:
                    self.drops += 1
            self.previous = seq
            assert uid not in self.released, f"item {uid} released twice"
            assert uid not in self.rejected, f"rejected item {uid} released"
            self.released.add(uid)

    def check(self) -> None:
        for name in _COUNTERS:
            assert getattr(self.real, name) == getattr(self.model, name), name
        assert self.real.buffered_sequences() == self.model.buffered_sequences()
        assert self.real.buffered_items() == self.model.buffered_items()
        assert self.drops == self.model.backward_resyncs, "released sequence went down"
        assert self.real.lost == self.skipped, (self.real.lost, self.skipped)
        assert self.real.delivered == len(self.released)
        assert self.released <= self.accepted

    # --- operations ------------------------------------------------------------------------
    def insert(self, seq: int) -> None:
        item = self.item(seq)
        ready_real, ready_model = [], []
        status = self.real.insert(seq, item, self.now, ready_real)
        assert status == self.model.insert(seq, item, self.now, ready_model), (seq, status)
        self.record(item, status)
        self.released_in_order(ready_real, ready_model)

    def insert_batch(self) -> None:
        seqs = [self.seq() for _ in range(self.r.int_in(0, 12))]
        items = [self.item(s) for s in seqs]
        statuses = bytearray(b"\xff" * len(seqs))
        model_statuses = [None] * len(seqs)
        ready_real, ready_model = [], []
        n = self.real.insert_batch(array("Q", seqs), items, self.now, statuses, ready_real)
        self.model.insert_batch(seqs, items, self.now, model_statuses, ready_model)
        assert list(statuses) == model_statuses, (seqs, list(statuses), model_statuses)
        assert n == len(ready_real)
        for item, status in zip(items, model_statuses):
            self.record(item, status)
        self.released_in_order(ready_real, ready_model)

    def tick(self) -> None:
        r = self.r
        kind = r.byte() % 4
        step = (r.int_in(0, 200) if kind <= 1 else -r.int_in(0, 50) if kind == 2
                else r.int_in(INT64_MIN, INT64_MAX))
        self.now = min(max(self.now + step, INT64_MIN), INT64_MAX)

    def expire(self) -> None:
        ready_real, ready_model = [], []
        assert self.real.expire(self.now, ready_real) == self.model.expire(self.now, ready_model)
        self.released_in_order(ready_real, ready_model)

    def flush(self) -> None:
        ready_real, ready_model = [], []
        assert self.real.flush(ready_real) == self.model.flush(ready_model)
        self.released_in_order(ready_real, ready_model)
        assert self.real.buffered == 0

    def step(self) -> None:
        op = self.r.byte() % 9
        if op <= 2:
            self.insert(self.seq())
        elif op == 3:
            self.insert_batch()
        elif op <= 5:
            self.tick()
        elif op == 6:
            self.expire()
        elif op == 7:
            self.flush()
        else:
            first = self.seq()
            for k in range(self.r.int_in(1, 7)):
                self.insert(min(first + k, TOP))


def test_one_input(data: bytes) -> None:
    """One fuzz input: a buffer and an operation stream, checked against the model at every step."""
    run = _Run(fuzz_support.Reader(data))
    steps = 0
    while run.r.remaining() and steps < MAX_STEPS:
        run.step()
        run.check()
        steps += 1
    run.flush()
    run.check()
    assert run.released == run.accepted, "an accepted item never came out"


def main() -> None:
    """Run this target under atheris (libFuzzer flags from the command line)."""
    fuzz_support.run(test_one_input)


if __name__ == "__main__":
    main()
