"""Hypothesis stateful tests: the ChunkProcessor and the MediaPriorityQueue against the models in
tests/reference.py, including the conservation law (nothing accepted is lost without a counter).

ProcessorMachine drives one processor through random single chunks, batches (serial and on the
worker pool), chunk streams, flushes, expiries and clock steps, with duplicates, late and wild
sequence numbers, empty and oversized data and good, bad and malformed checksums. After every step
the statuses, the delivered chunks (by identity, per stream, in order), the events and every
counter must equal the model's; at the end a flush must leave nothing behind.

QueueMachine does the same for the priority queue under each overflow policy, with close().
"""
import copy
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rs2fast._reorder import ReorderBuffer
from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.errors import ChunkProcessingError, QueueClosed, QueueEmpty, QueueFull
from rs2fast.events import ChunkDropped
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.types import ChunkType, MediaChunk, MediaPriority
from tests.reference import ReferenceProcessor, ReferenceQueue
from tests.test_leaks import check_debug_counters

TOP = 2**64 - 1
try:
    ReorderBuffer(1, next_expected=2**64)
    RESTORES_EXHAUSTED = True
except ValueError:
    RESTORES_EXHAUSTED = False
STREAMS = ("a", "b", "")                  # "" fails validation (or is a stream when it is off)
KINDS = ("plain", "plain", "plain", "crc", "sha", "empty", "oversize", "bad_crc", "malformed")
TYPES = (ChunkType.AUDIO, ChunkType.VIDEO_P_FRAME, ChunkType.METADATA)


class Clock:
    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now


class ProcessorMachine(RuleBasedStateMachine):
    """The processor and its model, step by step."""

    @initialize(window=st.sampled_from([1, 2, 4, 8, 8]),
                max_buffer_size=st.sampled_from([2, 5, 1000, 1000]),
                max_buffered_bytes=st.sampled_from([60, 10**6]),
                resync_after=st.sampled_from([2, 3, 4]),
                timeout_us=st.sampled_from([0, 1, 1, 5]),
                validation=st.booleans(), reordering=st.sampled_from([True, True, True, False]),
                workers=st.sampled_from([1, 2]), batch_size=st.sampled_from([1, 3]),
                other_limit=st.sampled_from([None, 24]),
                # 2 of 3 streams: forgetting and resuming; 1 would trim positions (a known bug)
                max_streams=st.sampled_from([2, 3]))
    def setup(self, window, max_buffer_size, max_buffered_bytes, resync_after, timeout_us,
              validation, reordering, workers, batch_size, other_limit, max_streams):
        self.config = ChunkProcessorConfig(
            max_buffer_size=max_buffer_size, sequence_timeout=timedelta(microseconds=timeout_us),
            enable_reordering=reordering, max_reorder_window=window, enable_validation=validation,
            parallel_processing=workers, max_buffered_bytes=max_buffered_bytes,
            max_streams=max_streams, resync_after=resync_after, audio_size_limit=16,
            video_size_limit=32, other_size_limit=other_limit, batch_size=batch_size,
            parallel_min_bytes=0)
        self.clock = Clock()
        self.events = []
        self.real = ChunkProcessor(self.config, on_event=self.events.append, clock=self.clock)
        self.model = ReferenceProcessor(self.config)
        self.uid = 0
        self.delivered_real = []
        self.delivered_model = []

    def teardown(self):
        real = getattr(self, "real", None)
        if real is not None:
            real.close()

    # -- building chunks ----------------------------------------------------------------------
    def _chunk(self, stream, offset, absolute, kind, type_index):
        model_stream = self.model.streams.get(stream)
        base = (model_stream.next_expected if model_stream is not None
                else self.model.positions.get(stream, 0))
        seq = absolute if absolute is not None else base + offset
        seq = min(max(seq, 0), TOP)
        self.uid += 1
        chunk_type = TYPES[type_index]
        data = f"{stream}:{seq}:{self.uid}".encode()
        checksum = None
        if kind == "empty":
            data = b""
        elif kind == "oversize":
            data = data.ljust(40, b"#")
        elif kind == "crc":
            checksum = MediaChunk(stream, seq, data, chunk_type).compute_checksum("crc32c")
        elif kind == "sha":
            checksum = MediaChunk(stream, seq, data, chunk_type).compute_checksum("sha256")
        elif kind == "bad_crc":
            checksum = "crc32c:00000000"
        elif kind == "malformed":
            checksum = "CRC32C:0000000"
        return MediaChunk(stream, seq, data, chunk_type, checksum=checksum)

    # -- stepping around the known bugs (see the xfail tests in tests/adversarial) -----------
    def _step(self, run):
        """Run `run(model)` for this step and return its result, or None to skip the step (an
        exhausted stream forgotten and coming back needs ReorderBuffer(next_expected=2**64), which
        older builds of the kernel refuse)."""
        if not RESTORES_EXHAUSTED:
            trial = copy.deepcopy(self.model)
            run(trial)
            if trial.exhausted_forgotten > self.model.exhausted_forgotten:
                return None
        return run(self.model)

    def _record(self, real_out, model_out):
        # Order is promised per stream (a batch is reordered stream by stream).
        for name in STREAMS:
            assert ([id(c) for c in real_out if c.stream_id == name]
                    == [id(c) for c in model_out if c.stream_id == name]), (name, real_out, model_out)
        assert len(real_out) == len(model_out)
        self.delivered_real += real_out
        self.delivered_model += model_out

    # -- rules --------------------------------------------------------------------------------
    chunk_args = dict(stream=st.sampled_from(STREAMS), offset=st.integers(-6, 12),
                      absolute=st.one_of(st.none(), st.none(), st.none(),
                                         st.sampled_from([0, 1, TOP, TOP - 1, 2**32, 10**9])),
                      kind=st.sampled_from(KINDS), type_index=st.integers(0, 2))

    @rule(single=st.booleans(), **chunk_args)
    def process_one(self, single, stream, offset, absolute, kind, type_index):
        chunk = self._chunk(stream, offset, absolute, kind, type_index)
        now = self.clock.now
        if single:
            result = self._step(lambda model: model.process(chunk, now))
        else:
            result = self._step(lambda model: model.process_batch([chunk], now, True))
        if result is None:
            return
        expected, rejection = result
        if not single:
            rejection = rejection[0] if rejection else None
        if single:
            try:
                got = self.real.process_single_chunk(chunk)
            except ChunkProcessingError as error:
                assert type(error).__name__ == rejection, (error, rejection)
                assert error.stream_id == chunk.stream_id
                got = []
            else:
                assert rejection is None, rejection
        else:
            out = self.real.process_batch([chunk], return_exceptions=True)
            errors = [x for x in out if isinstance(x, Exception)]
            got = [x for x in out if not isinstance(x, Exception)]
            assert [type(e).__name__ for e in errors] == ([rejection] if rejection else [])
        self._record(got, expected)

    @rule(which=st.integers(0, 2), pick=st.integers(0, 10**6), single=st.booleans(),
          after_timeout=st.booleans())
    def fill_a_hole(self, which, pick, single, after_timeout):
        """A chunk for a missing sequence number below the lowest buffered one of a stream that
        waits (a late arrival or a retransmission, possibly after the stream timed out): the
        reorder paths' hardest case."""
        waiting = [name for name, s in self.model.streams.items() if s.items]
        if not waiting:
            return
        stream = waiting[which % len(waiting)]
        model_stream = self.model.streams[stream]
        if after_timeout:
            self.clock.now += self.model.timeout_ns
        low, high = model_stream.next_expected, min(model_stream.items)
        self.process_one(single, stream, pick % (high - low), None, "plain", 1)

    @rule(items=st.lists(st.tuples(st.sampled_from(STREAMS), st.integers(-4, 10),
                                   st.sampled_from(KINDS), st.integers(0, 2)), max_size=8),
          return_exceptions=st.booleans())
    def process_batch(self, items, return_exceptions):
        chunks = [self._chunk(s, o, None, k, t) for s, o, k, t in items]
        now = self.clock.now
        result = self._step(lambda model: model.process_batch(chunks, now, return_exceptions))
        if result is None:
            return
        expected, errors = result
        out = self.real.process_batch(chunks, return_exceptions=return_exceptions)
        got = [x for x in out if not isinstance(x, Exception)]
        got_errors = [type(x).__name__ for x in out if isinstance(x, Exception)]
        assert got_errors == (errors if return_exceptions else [])
        self._record(got, expected)

    @rule(items=st.lists(st.tuples(st.sampled_from(STREAMS), st.integers(-2, 6)), max_size=7))
    def process_chunk_stream(self, items):
        chunks = [self._chunk(s, o, None, "plain", 1) for s, o in items]
        now = self.clock.now
        size = self.config.batch_size

        def run(model):
            out = []
            for lo in range(0, len(chunks), size):
                part = chunks[lo:lo + size]
                out += model.process_batch(part, now)[0]
                if len(part) == size:
                    out += model.expire_stale(now)
            return out + model.flush()

        expected = self._step(run)
        if expected is not None:
            self._record(list(self.real.process_chunk_stream(iter(chunks))), expected)

    @rule(stream=st.one_of(st.none(), st.sampled_from(STREAMS)))
    def flush(self, stream):
        self._record(self.real.flush(stream), self.model.flush(stream))

    @rule()
    def expire_stale(self):
        self._record(self.real.expire_stale(), self.model.expire_stale(self.clock.now))

    @rule(ns=st.sampled_from([1, 500, 1000, 4000, 6000]))
    def advance(self, ns):
        self.clock.now += ns

    # -- invariants ---------------------------------------------------------------------------
    @invariant()
    def same_counters_and_conservation(self):
        if not hasattr(self, "real"):
            return
        stats = self.real.get_stats()
        for name, value in self.model.stats.items():
            assert getattr(stats, name) == value, (name, getattr(stats, name), value)
        buffered = sum(self.real.get_stream_stats(s).buffered for s in self.real.stream_ids())
        assert buffered == self.model.buffered
        assert stats.buffer_utilization == self.model.buffered / self.config.max_buffer_size
        assert stats.chunks_received == stats.chunks_processed + stats.chunks_dropped
        assert stats.chunks_processed == stats.chunks_delivered + buffered
        assert stats.chunks_dropped == (stats.duplicates + stats.late_chunks + stats.sequence_gaps
                                        + stats.validation_failures + stats.buffer_overflows)
        assert (Counter((e.stream_id, e.sequence_number) for e in self.events)
                == Counter(self.model.events))
        assert all(isinstance(e, ChunkDropped) for e in self.events)
        assert stats.chunks_delivered == len(self.delivered_real) + len(self.model.pending)

    @invariant()
    def delivered_in_order_per_stream(self):
        if not hasattr(self, "real") or not self.config.enable_reordering:
            return
        for name in STREAMS:
            seqs = [c.sequence_number for c in self.delivered_real if c.stream_id == name]
            backward = sum(1 for a, b in zip(seqs, seqs[1:]) if b <= a)
            model_stream = self.model.streams.get(name)
            allowed = self.model.backward_resyncs_forgotten.get(name, 0)
            allowed += model_stream.backward_resyncs if model_stream is not None else 0
            assert backward <= allowed, (name, seqs)     # only a producer restart goes back

    @precondition(lambda self: hasattr(self, "real"))
    @rule()
    def flush_everything_leaves_nothing(self):
        self._record(self.real.flush(), self.model.flush())
        stats = self.real.get_stats()
        assert stats.chunks_processed == stats.chunks_delivered
        assert stats.buffer_utilization == 0.0


TestProcessorMachine = ProcessorMachine.TestCase


# --- MediaPriorityQueue --------------------------------------------------------------------------------

PRIORITIES = st.sampled_from(list(MediaPriority))
SEQS = st.one_of(st.integers(0, 6), st.sampled_from([TOP, TOP - 1, 2**32]))


class QueueMachine(RuleBasedStateMachine):
    """The queue and its model under random puts, gets, batches and close()."""

    @initialize(capacity=st.integers(1, 6), overflow=st.sampled_from(["block", "drop_newest",
                                                                       "drop_lowest"]))
    def setup(self, capacity, overflow):
        self.events = []
        self.real = MediaPriorityQueue(capacity, overflow, on_event=self.events.append)
        self.model = ReferenceQueue(capacity, overflow)
        self.uid = 0

    def _chunk(self, priority, seq):
        self.uid += 1
        return MediaChunk(f"s{self.uid % 3}", seq, b"q", ChunkType.METADATA, priority)

    def _put(self, call, chunk):
        expected = self.model.put(chunk)
        if isinstance(expected, str):
            with pytest.raises({"QueueFull": QueueFull, "QueueClosed": QueueClosed}[expected]):
                call(chunk)
        else:
            assert call(chunk) is expected

    @precondition(lambda self: hasattr(self, "real"))
    @rule(priority=PRIORITIES, seq=SEQS, how=st.sampled_from(["enqueue", "try_enqueue"]))
    def put(self, priority, seq, how):
        chunk = self._chunk(priority, seq)
        if how == "enqueue":
            self._put(lambda c: self.real.enqueue(c, timeout=0), chunk)
        else:
            self._put(self.real.try_enqueue, chunk)

    @precondition(lambda self: hasattr(self, "real"))
    @rule(keys=st.lists(st.tuples(PRIORITIES, SEQS), max_size=5))
    def put_batch(self, keys):
        chunks = [self._chunk(p, s) for p, s in keys]
        queued = 0
        for chunk in chunks:
            expected = self.model.put(chunk)
            if isinstance(expected, str):             # the batch stops at this chunk
                with pytest.raises({"QueueFull": QueueFull, "QueueClosed": QueueClosed}[expected]):
                    self.real.enqueue_batch(chunks, timeout=0)
                return
            queued += expected
        assert self.real.enqueue_batch(chunks, timeout=0) == queued

    @precondition(lambda self: hasattr(self, "real"))
    @rule(how=st.sampled_from(["get_nowait", "get"]))
    def get(self, how):
        expected = self.model.get()
        call = self.real.get_nowait if how == "get_nowait" else (lambda: self.real.get(timeout=0))
        if isinstance(expected, str):
            errors = {"QueueEmpty": QueueEmpty, "QueueClosed": QueueClosed}
            with pytest.raises(errors[expected]):
                call()
        else:
            assert call() is expected

    @precondition(lambda self: hasattr(self, "real"))
    @rule(n=st.integers(1, 8))
    def get_batch(self, n):
        expected = self.model.get_batch(n)
        assert [id(c) for c in self.real.get_batch(n, timeout=0)] == [id(c) for c in expected]

    @precondition(lambda self: hasattr(self, "real"))
    @rule()
    def close(self):
        self.model.close()
        self.real.close()
        assert self.real.closed

    @precondition(lambda self: hasattr(self, "real") and self.model.closed)
    @rule()
    def drain_by_iteration(self):
        expected = self.model.get_batch(len(self.model))
        assert [id(c) for c in self.real] == [id(c) for c in expected]

    @invariant()
    def same_state(self):
        if not hasattr(self, "real"):
            return
        stats = self.real.get_stats()
        assert len(self.real) == self.real.len() == len(self.model) == stats.length
        for name, value in self.model.stats.items():
            assert getattr(stats, name) == value, name
        assert stats.enqueued == stats.dequeued + stats.dropped_lowest + stats.length
        assert stats.dropped == len(self.events)
        assert [(e.stream_id, e.sequence_number) for e in self.events] == self.model.events
        assert self.real.heap.live_slots == len(self.model)


TestQueueMachine = QueueMachine.TestCase


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
