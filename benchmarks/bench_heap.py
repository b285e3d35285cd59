"""PriorityHeap and MediaPriorityQueue per item and in batches, against heapq and queue.PriorityQueue."""
import heapq
import queue

from benchmarks.baselines import ordered_chunks
from rs2fast._heap import PriorityHeap
from rs2fast.priority_queue import MediaPriorityQueue

N = 10_000


class PushPop:
    """Push N chunks (random sequence order, GOP priorities), then pop them all."""

    def setup(self):
        self.ours, self.naive = ordered_chunks(N)
        self.heap = PriorityHeap(N)
        self.queue = MediaPriorityQueue(N)

    def time_priority_heap(self):
        push, pop = self.heap.push_chunk, self.heap.pop
        for c in self.ours:
            push(c)
        for _ in range(N):
            pop()

    def time_priority_heap_batch(self):
        self.heap.push_chunks(self.ours)
        while self.heap.pop_batch(4096):
            pass

    def time_media_priority_queue(self):
        put, get = self.queue.enqueue, self.queue.get_nowait
        for c in self.ours:
            put(c)
        for _ in range(N):
            get()

    def time_heapq_baseline(self):
        h = []
        push, pop = heapq.heappush, heapq.heappop
        for i, c in enumerate(self.naive):
            push(h, (-c.priority, c.sequence_number, i, c))
        for _ in range(N):
            pop(h)

    def time_priority_queue_baseline(self):
        q = queue.PriorityQueue()
        for i, c in enumerate(self.naive):
            q.put((-c.priority, c.sequence_number, i, c))
        for _ in range(N):
            q.get_nowait()
