"""A plain-Python model of rs2fast._reorder.ReorderBuffer, used as the test oracle.

It restates the rules with dicts and sets and Python ints (no ring, no modular arithmetic), so
that the compiled kernel and this model only agree when both follow the written rules:

    seq below the watermark  -> DUPLICATE if remembered as delivered, else LATE
    seq buffered already     -> DUPLICATE
    seq == next expected     -> ACCEPTED, itself and every consecutive buffered item released
    timed out                -> expire first, then judge again (beyond the window = resync)
    buffer full              -> OVERFLOW
    beyond the window        -> GAP
    otherwise                -> stored, ACCEPTED
A run of `resync_after` consecutive sequence numbers rejected far from the watermark (above the
window; or more than a window below it and either older than the history or after the timeout)
moves the stream to the run's last chunk.
"""
from __future__ import annotations

ACCEPTED, DUPLICATE, LATE, GAP, OVERFLOW = range(5)
SEQ_LIMIT = 2**64          # one past the largest sequence number


class ReferenceReorder:
    """Dict/set model of one stream's reorder buffer (same constructor and methods)."""

    def __init__(self, window, *, next_expected=0, timeout_ns=0, resync_after=4, history=1024):
        self.window = window
        self.next_expected = next_expected     # may reach SEQ_LIMIT: the stream is exhausted
        self.timeout_ns = timeout_ns
        self.resync_after = resync_after
        self.history = -(-history // 64) * 64
        self.items = {}                        # seq -> item, buffered
        self.delivered_seqs = set()            # delivered since the epoch began (pruned lazily)
        self.epoch_start = next_expected       # lowest seq the history may speak about
        self.lost = 0
        self.delivered = 0
        self.resyncs = 0
        self.backward_resyncs = 0              # test bookkeeping: restarts below the watermark
        self.last_progress_ns = 0
        self.started = False
        self.run = []                          # consecutive rejected seqs far from the watermark

    # --- helpers ---------------------------------------------------------------------------
    @property
    def buffered(self):
        return len(self.items)

    def buffered_sequences(self):
        return sorted(self.items)

    def buffered_items(self):
        return [self.items[s] for s in sorted(self.items)]

    def _timed_out(self, now_ns):
        return self.timeout_ns > 0 and now_ns - self.last_progress_ns >= self.timeout_ns

    def _remembered_delivered(self, seq):
        ne = self.next_expected
        return seq >= self.epoch_start and ne - seq <= self.history and seq in self.delivered_seqs

    def _release(self, seq, item, ready):
        ready.append(item)
        self.delivered += 1
        self.delivered_seqs.add(seq)
        self.next_expected = seq + 1

    def _drain(self, ready):
        while self.next_expected in self.items:
            seq = self.next_expected
            self._release(seq, self.items.pop(seq), ready)

    def _release_all(self, ready):
        """Release everything buffered in order; holes count as lost."""
        for seq in sorted(self.items):
            self.lost += seq - self.next_expected
            self._release(seq, self.items.pop(seq), ready)

    def _expire(self, now_ns, ready):
        if not self.items or not self._timed_out(now_ns):
            return 0
        lowest = min(self.items)
        skipped = lowest - self.next_expected
        self.lost += skipped
        self.next_expected = lowest
        self._drain(ready)
        self.last_progress_ns = now_ns
        return skipped

    def _jump(self, seq, item, now_ns, ready, *, backward):
        self._release_all(ready)
        if backward:
            self.backward_resyncs += 1
            self.delivered_seqs = set()
            self.epoch_start = seq
        else:
            self.lost += seq - self.next_expected
        self.next_expected = seq
        self._release(seq, item, ready)
        self.resyncs += 1
        self.run = []
        self.last_progress_ns = now_ns
        return ACCEPTED

    def _store(self, seq, item, now_ns):
        if not self.items:
            self.last_progress_ns = now_ns
        self.items[seq] = item
        self.run = []
        return ACCEPTED

    def _reject(self, seq, item, status, now_ns, ready, far):
        if far is None or self.resync_after == 0:
            return status
        if self.run and self.run[-1] + 1 == seq:
            self.run.append(seq)
        else:
            self.run = [seq]
        if len(self.run) >= self.resync_after:
            return self._jump(seq, item, now_ns, ready, backward=(far == "behind"))
        return status

    def _below(self, seq, item, now_ns, ready):
        status = DUPLICATE if self._remembered_delivered(seq) else LATE
        distance = self.next_expected - seq
        beyond_history = seq < self.epoch_start or distance > self.history
        far = ("behind" if distance > self.window and (beyond_history or self._timed_out(now_ns))
               else None)
        return self._reject(seq, item, status, now_ns, ready, far)

    # --- public operations -----------------------------------------------------------------
    def insert(self, seq, item, now_ns, ready):
        """One chunk in; returns its status, appends released items to `ready`."""
        if not self.started:
            self.started = True
            self.last_progress_ns = now_ns
        if seq < self.next_expected:
            return self._below(seq, item, now_ns, ready)
        if seq in self.items:
            return self._reject(seq, item, DUPLICATE, now_ns, ready, None)
        if seq == self.next_expected:
            self._release(seq, item, ready)
            self._drain(ready)
            self.run = []
            self.last_progress_ns = now_ns
            return ACCEPTED
        if self._timed_out(now_ns):
            self._expire(now_ns, ready)
            if seq < self.next_expected:
                return self._below(seq, item, now_ns, ready)
            if seq == self.next_expected:
                self._release(seq, item, ready)
                self._drain(ready)
                self.run = []
                self.last_progress_ns = now_ns
                return ACCEPTED
            if seq > self.next_expected + self.window:
                return self._jump(seq, item, now_ns, ready, backward=False)
            return self._store(seq, item, now_ns)
        if len(self.items) == self.window:
            return self._reject(seq, item, OVERFLOW, now_ns, ready, "ahead")
        if seq > self.next_expected + self.window:
            return self._reject(seq, item, GAP, now_ns, ready, "ahead")
        return self._store(seq, item, now_ns)

    def insert_batch(self, seqs, items, now_ns, statuses, ready):
        """Per-item insert over a batch; returns how many items were appended to `ready`."""
        before = len(ready)
        for i, (seq, item) in enumerate(zip(seqs, items)):
            statuses[i] = self.insert(int(seq), item, now_ns, ready)
        return len(ready) - before

    def expire(self, now_ns, ready):
        """Release through the lowest buffered run if the stream timed out; returns lost."""
        return self._expire(now_ns, ready)

    def flush(self, ready):
        """Release everything buffered in order; returns the number of holes declared lost."""
        before = self.lost
        self._release_all(ready)
        return self.lost - before
