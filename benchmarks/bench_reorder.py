"""ReorderBuffer per item and insert_batch, against a dict-based reorder buffer."""
import numpy as np

from benchmarks.baselines import NaiveReorder, local_shuffle
from rs2fast._reorder import ReorderBuffer

N = 50_000
WINDOW = 32


class Reorder:
    """A stream of N sequence numbers, 5 % locally shuffled."""

    def setup(self):
        order = local_shuffle(N)
        items = [object() for _ in range(N)]
        self.arrivals = [(s, items[s]) for s in order]
        self.seqs = np.array(order, dtype=np.uint64)
        self.items = [items[s] for s in order]
        self.statuses = np.zeros(N, dtype=np.uint8)

    def time_insert(self):
        rb = ReorderBuffer(WINDOW)
        ready = []
        ins = rb.insert
        for s, item in self.arrivals:
            ins(s, item, 0, ready)

    def time_insert_batch(self):
        ReorderBuffer(WINDOW).insert_batch(self.seqs, self.items, 0, self.statuses, [])

    def time_dict_baseline(self):
        rb = NaiveReorder(WINDOW)
        ready = []
        ins = rb.insert
        for s, item in self.arrivals:
            ins(s, item, ready)
