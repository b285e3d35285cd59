"""Thread stress: 8 producer threads and 4 consumer threads on one ChunkProcessor and one
MediaPriorityQueue for a bounded time, then exact accounting of every chunk.

Producers own two streams each (shuffled within the reorder window, with duplicates, corrupt and
empty chunks and wild sequence numbers mixed in) and all share one more stream whose sequence
numbers they draw from one counter, so that it arrives out of order across threads. They push
batches (and single chunks) through the processor and enqueue what it releases; consumers take
with get(timeout), get_batch, the blocking iterator and the async iterator. At the end:

    submitted = consumed + dropped by the processor (by reason) + dropped by the queue policy

with zero unaccounted chunks, no chunk consumed twice, every owned stream released in order, and
one ChunkDropped event per drop. Run once with parallel_processing=1 and the "block" policy, and
once with parallel_processing=4 (CRC-32C checksums verified on the worker pool) and "drop_lowest".
The figures are printed (pytest -s) and kept in the assertion messages.

Each run lasts STRESS_SECONDS (1.5 s by default, 5 s with CI=1; ≤ 10 s either way).
"""
import asyncio
import itertools
import os
import random
import threading
import time
from collections import Counter

import pytest

from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.errors import ChunkProcessingError, QueueClosed, QueueEmpty, QueueFull
from rs2fast.events import ChunkDropped
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.types import ChunkType, MediaChunk
from tests.test_leaks import check_debug_counters

STRESS_SECONDS = min(10.0, float(os.environ.get("RS2FAST_STRESS_SECONDS",
                                                5.0 if os.environ.get("CI") else 1.5)))
PRODUCERS, CONSUMERS = 8, 4
GOP = [ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_P_FRAME,
       ChunkType.VIDEO_B_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.AUDIO]
REASONS = {"DuplicateChunk": "duplicates", "LateChunk": "late_chunks",
           "SequenceGap": "sequence_gaps", "BufferOverflow": "buffer_overflows",
           "ValidationFailed": "validation_failures", "ChecksumMismatch": "validation_failures"}


class Producer(threading.Thread):
    """Feeds the processor until the deadline and enqueues whatever it releases."""

    def __init__(self, index, run):
        super().__init__(name=f"stress-producer-{index}", daemon=True)
        self.index = index
        self.run_ = run
        self.rng = random.Random(index * 7919)
        self.submitted = 0
        self.errors = Counter()
        self.released = []                 # chunks the processor handed to this thread, in order
        self.offered = self.queued = self.refused = 0
        self.failure = None
        self.streams = {f"p{index}-{k}": 0 for k in range(2)}     # stream -> next fresh seq
        self.resend = []

    def make(self, stream, seq, damage=True):
        run = self.run_
        data = bytes([self.index]) * run.chunk_bytes
        chunk = MediaChunk(stream, seq, data, GOP[seq % len(GOP)])
        if run.checksums:
            chunk = chunk.with_checksum("crc32c")
        roll = self.rng.random() if damage else 1.0
        if roll < 0.015:
            return chunk.replace(checksum="crc32c:00000000")        # corrupt
        if roll < 0.02:
            return chunk.replace(data=b"")                          # empty
        return chunk

    def next_batch(self):
        batch = []
        for stream in self.streams:
            first = self.streams[stream]
            seqs = list(range(first, first + 8))
            self.streams[stream] = first + 8
            self.rng.shuffle(seqs)                                  # disorder within the window
            batch += [self.make(stream, s) for s in seqs]
            if self.rng.random() < 0.2:
                batch.append(self.make(stream, self.rng.randrange(max(1, first + 4))))  # repeat
            if self.rng.random() < 0.02:
                batch.append(self.make(stream, first + 10**9, damage=False))          # wild
        shared = [next(self.run_.shared_seq) for _ in range(4)]
        batch += [self.make("shared", s) for s in shared]
        batch += [self.make(stream, seq, damage=False) for stream, seq in self.resend]
        self.resend = []                                            # retransmissions of bad ones
        self.rng.shuffle(batch)
        return batch

    def rejected(self, error):
        self.errors[type(error).__name__] += 1
        if type(error).__name__ in ("ValidationFailed", "ChecksumMismatch"):
            self.resend.append((error.stream_id, error.sequence_number))

    def run(self):
        run = self.run_
        try:
            while time.monotonic() < run.deadline:
                batch = self.next_batch()
                self.submitted += len(batch)
                if self.rng.random() < 0.25:
                    ready = []
                    for chunk in batch:
                        try:
                            ready += run.processor.process_single_chunk(chunk)
                        except ChunkProcessingError as error:
                            self.rejected(error)
                else:
                    out = run.processor.process_batch(batch, return_exceptions=True)
                    ready = [x for x in out if isinstance(x, MediaChunk)]
                    for error in out:
                        if isinstance(error, Exception):
                            self.rejected(error)
                self.released += ready
                self.offer(ready)
        except BaseException as error:                              # reported by the test
            self.failure = error

    def offer(self, chunks):
        run = self.run_
        for chunk in chunks:
            self.offered += 1
            while True:
                try:
                    if run.queue.enqueue(chunk, timeout=0.5):
                        self.queued += 1
                    else:
                        self.refused += 1                           # dropped by the policy
                    break
                except QueueFull:
                    continue                                        # consumers are slow: wait on


class StressRun:
    """One timed run: the shared processor and queue, the threads, and the final accounting."""

    def __init__(self, workers, policy, checksums, chunk_bytes):
        self.events = []
        self.processor = ChunkProcessor(
            ChunkProcessorConfig(parallel_processing=workers, parallel_min_bytes=16 << 10,
                                 max_reorder_window=1024, max_buffer_size=8192),
            on_event=self.events.append)
        self.queue = MediaPriorityQueue(256, policy, on_event=self.events.append)
        self.checksums = checksums
        self.chunk_bytes = chunk_bytes
        self.shared_seq = itertools.count()
        self.deadline = 0.0
        self.consumed = [[] for _ in range(CONSUMERS)]
        self.consumer_failures = []

    # -- consumers, one per dequeue API --------------------------------------------------------
    def consume_get(self, sink):
        while True:
            try:
                sink.append(self.queue.get(timeout=0.05))
            except QueueEmpty:
                continue
            except QueueClosed:
                return

    def consume_batch(self, sink):
        while True:
            batch = self.queue.get_batch(32, timeout=0.05)
            if not batch and self.queue.closed and len(self.queue) == 0:
                return
            sink += batch

    def consume_iter(self, sink):
        for chunk in self.queue:
            sink.append(chunk)
            if len(sink) % 512 == 0:
                time.sleep(0.001)                                   # a slower consumer

    def consume_async(self, sink):
        async def main():
            async for chunk in self.queue:
                sink.append(chunk)
        asyncio.run(main())

    def guarded(self, target, sink):
        def body():
            try:
                target(sink)
            except BaseException as error:
                self.consumer_failures.append(error)
        return body

    def go(self):
        targets = [self.consume_get, self.consume_batch, self.consume_iter, self.consume_async]
        consumers = [threading.Thread(target=self.guarded(t, s), daemon=True, name=f"stress-consumer-{i}")
                     for i, (t, s) in enumerate(zip(targets, self.consumed))]
        producers = [Producer(i, self) for i in range(PRODUCERS)]
        started = time.monotonic()
        self.deadline = started + STRESS_SECONDS
        for thread in consumers + producers:
            thread.start()
        for thread in producers:
            thread.join(STRESS_SECONDS + 30)
        hung = [t.name for t in producers if t.is_alive()]
        tail = self.processor.flush()                               # what still waits for a hole
        closer = Producer(PRODUCERS, self)
        closer.offer(tail)
        self.queue.close()
        for thread in consumers:
            thread.join(30)
        hung += [t.name for t in consumers if t.is_alive()]
        self.processor.close()
        return producers, closer, tail, hung, time.monotonic() - started


def account(run, producers, closer, tail, elapsed):
    """The figures of one run and the list of broken promises (empty when all is accounted for)."""
    stats = run.processor.get_stats()
    qstats = run.queue.get_stats()
    submitted = sum(p.submitted for p in producers)
    errors = sum((p.errors for p in producers), Counter())
    consumed = [c for sink in run.consumed for c in sink]
    released = [c for p in producers for c in p.released] + tail
    offered = sum(p.offered for p in producers) + closer.offered
    refused = sum(p.refused for p in producers) + closer.refused
    proc_dropped = stats.chunks_dropped
    queue_dropped = qstats.dropped_newest + qstats.dropped_lowest
    unaccounted = submitted - len(consumed) - proc_dropped - queue_dropped
    figures = {
        "seconds": round(elapsed, 2), "submitted": submitted, "consumed": len(consumed),
        "chunks_per_second": int(submitted / elapsed),
        "processor_drops": {r: getattr(stats, r) for r in sorted(set(REASONS.values()))},
        "chunks_lost_in_holes": stats.chunks_lost, "processor_reordered": stats.chunks_reordered,
        "queue_drops": {"dropped_newest": qstats.dropped_newest,
                        "dropped_lowest": qstats.dropped_lowest},
        "events": len(run.events), "unaccounted": unaccounted,
    }
    broken = []

    def promise(ok, what):
        if not ok:
            broken.append(what)

    promise(unaccounted == 0, "submitted = consumed + processor drops + queue drops")
    promise(stats.chunks_received == submitted, "the processor counted every submission")
    promise(stats.chunks_received == stats.chunks_processed + stats.chunks_dropped,
            "received = processed + dropped")
    promise(stats.chunks_processed == stats.chunks_delivered == len(released),
            "after the final flush every accepted chunk was released exactly once")
    promise(stats.buffer_utilization == 0.0, "nothing is left buffered after the flush")
    by_reason = Counter()
    for name, count in errors.items():
        by_reason[REASONS[name]] += count
    promise(all(getattr(stats, r) == by_reason[r] for r in set(REASONS.values())),
            f"drops by reason match the errors returned: {dict(by_reason)}")
    promise(sum(errors.values()) == proc_dropped, "one error per processor drop")
    promise(offered == len(released), "every released chunk was offered to the queue")
    promise(qstats.enqueued + qstats.dropped_newest == offered and refused == qstats.dropped_newest,
            "every offered chunk was queued or refused by the policy")
    promise(qstats.enqueued == qstats.dequeued + qstats.dropped_lowest and len(run.queue) == 0,
            "queued = dequeued + evicted, and the queue is empty")
    promise(qstats.dequeued == len(consumed), "the consumers got every dequeued chunk")
    promise(len({id(c) for c in consumed}) == len(consumed), "no chunk was consumed twice")
    promise(len({id(c) for c in released}) == len(released), "no chunk was released twice")
    promise(len([e for e in run.events if isinstance(e, ChunkDropped)]) == proc_dropped + queue_dropped,
            "one ChunkDropped event per drop")
    for p in producers:
        for stream in p.streams:
            seqs = [c.sequence_number for c in p.released if c.stream_id == stream]
            promise(all(a < b for a, b in zip(seqs, seqs[1:])), f"{stream} released in order")
    shared = Counter(c.sequence_number for c in released if c.stream_id == "shared")
    promise(not shared or max(shared.values()) == 1, "the shared stream released each seq once")
    return figures, broken


@pytest.mark.parametrize("workers, policy, checksums, chunk_bytes", [
    (1, "block", False, 64),
    (4, "drop_lowest", True, 4096),
], ids=["serial-block", "parallel4-drop_lowest-crc32c"])
def test_threads_exact_accounting(workers, policy, checksums, chunk_bytes):
    run = StressRun(workers, policy, checksums, chunk_bytes)
    producers, closer, tail, hung, elapsed = run.go()
    assert not hung, f"threads still running: {hung}"
    failures = [p.failure for p in producers if p.failure] + run.consumer_failures
    assert not failures, failures
    figures, broken = account(run, producers, closer, tail, elapsed)
    print(f"\nstress {workers=} {policy=} {checksums=} {chunk_bytes=}B: {figures}")
    assert figures["submitted"] > 1000, figures
    assert figures["consumed"] > 0, figures
    assert not broken, f"{broken}\n{figures}"


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
