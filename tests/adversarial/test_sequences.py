"""Adversarial sequence numbers through the ChunkProcessor (and the queue where order matters).

Every case writes the expected behaviour down: a delivered chunk, or a typed error that is also
counted in the stats and announced as a ChunkDropped event, never a crash, a hang, a stuck
stream, a silent loss, or a neighbour stream that is disturbed. `Harness.check()` asserts the
conservation law after each case: received = delivered + buffered + dropped, the drop reasons add
up, one event per drop, and per stream every delivered chunk came out in order exactly once.
"""
import random
from datetime import timedelta

import pytest

from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.errors import (BufferOverflow, ChunkProcessingError, DuplicateChunk, LateChunk,
                            SequenceGap, ValidationFailed)
from rs2fast.events import ChunkDropped
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.types import ChunkType, MediaChunk, MediaPriority
from rs2fast._heap import PriorityHeap
from rs2fast._reorder import ReorderBuffer
from tests.test_leaks import check_debug_counters

P = ChunkType.VIDEO_P_FRAME
TOP = 2**64 - 1
SECOND = 1_000_000_000


def chunk(seq, stream="s", data=None, chunk_type=P):
    """A chunk whose bytes name its stream and sequence number (so mix-ups are visible)."""
    if data is None:
        data = f"{stream}:{seq}".encode()
    return MediaChunk(stream, seq, data, chunk_type)


class Clock:
    """A hand-driven monotonic clock in nanoseconds."""

    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += int(seconds * SECOND)


class Harness:
    """A processor on a fake clock that records every output, error and event."""

    def __init__(self, **config):
        config.setdefault("parallel_processing", 1)
        config.setdefault("sequence_timeout", timedelta(seconds=5))
        self.clock = Clock()
        self.events = []
        self.proc = ChunkProcessor(ChunkProcessorConfig(**config), on_event=self.events.append,
                                   clock=self.clock)
        self.out = []             # every delivered chunk, in delivery order
        self.errors = []
        self.sent = 0

    def feed(self, item):
        """Process one chunk; returns the seqs it released, or the error it raised."""
        self.sent += 1
        try:
            ready = self.proc.process_single_chunk(item)
        except ChunkProcessingError as error:
            self.errors.append(error)
            return error
        self.out += ready
        return [c.sequence_number for c in ready]

    def feed_all(self, items):
        return [self.feed(item) for item in items]

    def flush(self):
        ready = self.proc.flush()
        self.out += ready
        return [c.sequence_number for c in ready]

    def delivered(self, stream="s"):
        return [c.sequence_number for c in self.out if c.stream_id == stream]

    def check(self):
        """The conservation law and the event contract."""
        stats = self.proc.get_stats()
        buffered = sum(self.proc.get_stream_stats(s).buffered for s in self.proc.stream_ids())
        assert stats.chunks_received == self.sent, stats
        assert stats.chunks_processed == stats.chunks_delivered + buffered, stats
        assert stats.chunks_received == stats.chunks_processed + stats.chunks_dropped, stats
        assert stats.chunks_dropped == (stats.duplicates + stats.late_chunks + stats.sequence_gaps
                                        + stats.validation_failures + stats.buffer_overflows), stats
        assert stats.chunks_delivered == len(self.out), stats
        assert stats.chunks_dropped == len(self.errors) == len(self.events), stats
        assert all(isinstance(e, ChunkDropped) for e in self.events)
        assert ([(e.stream_id, e.sequence_number) for e in self.events]
                == [(x.stream_id, x.sequence_number) for x in self.errors])
        for c in self.out:                                   # no chunk crossed into another stream
            assert bytes(c.data) == f"{c.stream_id}:{c.sequence_number}".encode(), c
        seen = set()
        for c in self.out:
            assert id(c) not in seen, "a chunk was delivered twice"
            seen.add(id(c))
        return stats


def in_order(seqs):
    return all(a < b for a, b in zip(seqs, seqs[1:]))


# --- duplicates ------------------------------------------------------------------------------------

def test_duplicate_of_a_buffered_chunk_same_bytes_is_dropped_and_counted():
    h = Harness()
    assert h.feed(chunk(2)) == []
    error = h.feed(chunk(2))
    assert isinstance(error, DuplicateChunk) and error.sequence_number == 2 and error.stream_id == "s"
    assert h.feed_all([chunk(0), chunk(1)]) == [[0], [1, 2]]
    assert h.delivered() == [0, 1, 2]
    stats = h.check()
    assert stats.duplicates == 1 and stats.chunks_lost == 0
    assert h.events[0].reason.startswith("duplicate")


def test_duplicate_of_a_buffered_chunk_with_different_bytes_keeps_the_first_copy():
    h = Harness()
    first = chunk(1, data=b"s:1")
    h.feed(first)
    assert isinstance(h.feed(chunk(1, data=b"other bytes")), DuplicateChunk)
    h.feed(chunk(0))
    assert h.out[1] is first                        # the copy that was buffered first wins
    assert h.check().duplicates == 1


@pytest.mark.parametrize("same_bytes", [True, False])
def test_duplicate_of_an_already_delivered_chunk(same_bytes):
    h = Harness()
    h.feed_all([chunk(i) for i in range(10)])
    again = chunk(3) if same_bytes else chunk(3, data=b"replayed with new bytes")
    error = h.feed(again)
    assert isinstance(error, DuplicateChunk)
    assert h.delivered() == list(range(10))
    assert h.check().duplicates == 1


def test_a_burst_of_duplicates_in_one_batch_is_counted_once_each():
    h = Harness()
    batch = [chunk(0), chunk(0), chunk(1), chunk(1), chunk(1), chunk(2)]
    out = h.proc.process_batch(batch, return_exceptions=True)
    h.sent += len(batch)
    delivered = [x for x in out if isinstance(x, MediaChunk)]
    errors = [x for x in out if isinstance(x, Exception)]
    h.out += delivered
    h.errors += errors
    assert [c.sequence_number for c in delivered] == [0, 1, 2]
    assert all(c is batch[i] for c, i in zip(delivered, (0, 2, 5)))
    assert [type(e) for e in errors] == [DuplicateChunk] * 3
    assert h.check().duplicates == 3


def test_a_retransmission_burst_of_recent_chunks_does_not_move_the_stream_back():
    h = Harness()
    h.feed_all([chunk(i) for i in range(200)])
    errors = h.feed_all([chunk(i) for i in range(100, 140)])   # 40 consecutive replays
    assert all(isinstance(e, DuplicateChunk) for e in errors)
    assert h.feed(chunk(200)) == [200]                           # the stream stayed where it was
    stats = h.check()
    assert stats.duplicates == 40 and stats.chunks_lost == 0


# --- late chunks -------------------------------------------------------------------------------

def test_late_chunk_below_the_watermark_is_dropped_and_never_inserted():
    h = Harness()
    h.feed_all([chunk(0), chunk(2), chunk(3)])
    h.clock.advance(6)                                  # past sequence_timeout: 1 is declared lost
    h.out += h.proc.expire_stale()
    assert h.delivered() == [0, 2, 3]
    error = h.feed(chunk(1))                            # 1 finally arrives: too late
    assert isinstance(error, LateChunk) and error.watermark == 4
    assert h.feed(chunk(4)) == [4]
    assert h.proc.get_stream_stats("s").buffered == 0
    stats = h.check()
    assert stats.late_chunks == 1 and stats.chunks_lost == 1


def test_late_chunks_after_a_forward_resync_are_counted_late():
    h = Harness(max_reorder_window=8, resync_after=3)
    h.feed_all([chunk(0), chunk(1)])
    h.feed_all([chunk(100), chunk(101), chunk(102)])    # agreement on a new position
    assert h.delivered() == [0, 1, 102]
    errors = h.feed_all([chunk(50), chunk(2)])          # skipped numbers arriving afterwards
    assert all(isinstance(e, LateChunk) for e in errors)
    stats = h.check()
    assert stats.late_chunks == 2 and stats.sequence_gaps == 2 and stats.chunks_lost == 100


@pytest.mark.parametrize("api", ["process_single_chunk", "process_batch"])
def test_chunks_released_by_a_timeout_survive_the_rejection_that_released_them(api):
    h = Harness()
    h.feed_all([chunk(5), chunk(6)])                     # 0..4 missing
    h.clock.advance(6)                                   # the stream timed out
    late = chunk(3)                                      # this arrival expires the hole first
    if api == "process_single_chunk":
        h.feed(late)
    else:
        out = h.proc.process_batch([late], return_exceptions=True)
        h.sent += 1
        h.out += [x for x in out if isinstance(x, MediaChunk)]
        h.errors += [x for x in out if isinstance(x, Exception)]
    assert [type(e) for e in h.errors] == [LateChunk]
    h.flush()
    assert h.delivered() == [5, 6]                       # released now, or at the latest by flush
    stats = h.check()
    assert stats.chunks_lost == 5 and stats.buffer_utilization == 0.0


def test_chunks_released_by_a_pressure_sweep_keep_their_stream_order():
    h = Harness(max_buffer_size=4, sequence_timeout=timedelta(seconds=1))
    h.feed_all([chunk(1, "x"), chunk(2, "x"), chunk(1, "y"), chunk(2, "y")])   # 0s missing: full
    h.clock.advance(2)                                   # both streams timed out
    assert isinstance(h.feed(chunk(1000, "z")), SequenceGap)   # sweeps x and y, then is refused
    out = h.proc.process_batch([chunk(3, "x"), chunk(4, "x")])
    h.sent += 2
    h.out += out
    h.flush()
    assert h.delivered("x") == [1, 2, 3, 4]
    assert h.delivered("y") == [1, 2]
    h.check()


# --- gaps ----------------------------------------------------------------------------------------

def test_gap_larger_than_the_window_is_rejected_and_the_stream_keeps_going():
    h = Harness(max_reorder_window=8)
    h.feed(chunk(0))
    error = h.feed(chunk(1000))
    assert isinstance(error, SequenceGap) and (error.expected, error.received) == (1, 1000)
    assert h.feed_all([chunk(1), chunk(2)]) == [[1], [2]]
    assert h.check().sequence_gaps == 1


def test_a_gap_never_stalls_the_stream_agreement_moves_it():
    h = Harness(max_reorder_window=8, resync_after=4)
    h.feed(chunk(0))
    results = h.feed_all([chunk(s) for s in range(500, 510)])
    assert [type(r) for r in results[:3]] == [SequenceGap] * 3
    assert h.delivered() == [0] + list(range(503, 510))
    stats = h.check()
    assert stats.chunks_lost == 502 and stats.sequence_gaps == 3


def test_a_gap_never_stalls_the_stream_the_timeout_moves_it():
    h = Harness(max_reorder_window=8, resync_after=1000)   # agreement practically off
    h.feed_all([chunk(0), chunk(3)])                          # 1 and 2 never come
    assert isinstance(h.feed(chunk(50)), SequenceGap)
    h.clock.advance(5)
    assert h.feed(chunk(51)) == [3, 51]                       # timeout: holes lost, jump
    assert h.feed(chunk(52)) == [52]
    stats = h.check()
    assert stats.chunks_lost == 2 + 47 and stats.sequence_gaps == 1


def test_an_endless_hole_with_a_full_window_still_drains_after_the_timeout():
    h = Harness(max_reorder_window=4, resync_after=1000)
    h.feed_all([chunk(s) for s in range(1, 5)])               # 0 missing, window full
    assert isinstance(h.feed(chunk(5)), BufferOverflow)
    h.clock.advance(5)
    assert h.feed(chunk(5)) == [1, 2, 3, 4, 5]
    stats = h.check()
    assert stats.chunks_lost == 1 and stats.buffer_overflows == 1


# --- one wild sequence number --------------------------------------------------------------------

@pytest.mark.parametrize("wild", [10**12, 2**32, 2**63, TOP])
def test_one_wild_sequence_number_between_normal_ones(wild):
    h = Harness()
    h.feed_all([chunk(i) for i in range(10)])
    assert isinstance(h.feed(chunk(wild)), SequenceGap)
    h.feed_all([chunk(i) for i in range(10, 20)])
    assert h.delivered() == list(range(20))
    stats = h.check()
    assert stats.sequence_gaps == 1 and stats.chunks_lost == 0


def test_scattered_wild_numbers_that_do_not_agree_never_move_the_stream():
    h = Harness(resync_after=3)
    rng = random.Random(7)
    normal = iter(range(1000))
    for _ in range(300):
        if rng.random() < 0.3:
            h.feed(chunk(rng.randrange(10**6, 10**15)))
        else:
            h.feed(chunk(next(normal)))
    assert in_order(h.delivered()) and h.delivered() == list(range(len(h.delivered())))
    assert h.check().chunks_lost == 0


# --- a producer that restarts at 0 -----------------------------------------------------------------

def test_producer_restart_beyond_the_history_resyncs_after_agreement():
    h = Harness(resync_after=4)
    h.feed_all([chunk(i) for i in range(3000)])                 # well past the 1024-seq history
    results = h.feed_all([chunk(i) for i in range(10)])         # the producer restarted at 0
    assert [type(r) for r in results[:3]] == [LateChunk] * 3
    assert results[3] == [3] and results[4] == [4]
    assert h.delivered()[3000:] == list(range(3, 10))
    assert h.proc.get_stream_stats("s").buffered == 0
    assert h.check().late_chunks == 3


def test_producer_restart_inside_the_history_is_counted_then_followed_after_the_timeout():
    h = Harness(resync_after=4)
    h.feed_all([chunk(i) for i in range(100)])
    first = h.feed_all([chunk(i) for i in range(20)])           # quick restart: looks like replays
    assert all(isinstance(e, DuplicateChunk) for e in first)
    h.clock.advance(5)                                          # no progress for sequence_timeout
    second = h.feed_all([chunk(i) for i in range(20, 30)])
    assert [type(r) for r in second[:3]] == [DuplicateChunk] * 3
    assert h.delivered()[100:] == list(range(23, 30))           # the stream follows the producer
    stats = h.check()
    assert stats.duplicates == 23


# --- sequence numbers at the integer boundaries -----------------------------------------------------

@pytest.mark.parametrize("boundary", [2**16 - 1, 2**32 - 1, 2**63 - 1])
def test_streams_cross_integer_boundaries_in_order_and_out_of_order(boundary):
    h = Harness(max_reorder_window=16, resync_after=2)
    start = boundary - 20
    h.feed_all([chunk(start), chunk(start + 1)])                # agreement: the stream moves there
    seqs = list(range(start + 2, boundary + 20))
    rng = random.Random(boundary)
    for lo in range(0, len(seqs), 6):                           # shuffled in windows of 6
        part = seqs[lo:lo + 6]
        rng.shuffle(part)
        h.feed_all([chunk(s) for s in part])
    assert h.delivered() == list(range(start + 1, boundary + 20))   # start itself: a gap
    stats = h.check()
    assert stats.chunks_lost == start + 1 and stats.sequence_gaps == 1


def test_the_last_sequence_numbers_of_u64_and_what_comes_after():
    h = Harness(max_reorder_window=8, resync_after=2)
    h.feed_all([chunk(TOP - 5), chunk(TOP - 4)])
    h.feed_all([chunk(TOP), chunk(TOP - 2), chunk(TOP - 1), chunk(TOP - 3)])
    assert h.delivered() == [TOP - 4, TOP - 3, TOP - 2, TOP - 1, TOP]
    assert h.proc.get_stream_stats("s").buffered == 0
    assert isinstance(h.feed(chunk(TOP)), DuplicateChunk)       # the stream is exhausted
    results = h.feed_all([chunk(i) for i in range(6)])          # a restart at 0 is followed
    assert isinstance(results[0], LateChunk) and results[1:] == [[1], [2], [3], [4], [5]]
    stats = h.check()
    assert stats.late_chunks == 1 and stats.duplicates == 1


@pytest.mark.parametrize("bad", [2**64, 2**64 + 1, 2**80, -1])
def test_sequence_numbers_past_u64_are_a_value_error_everywhere(bad):
    with pytest.raises(ValueError, match="sequence_number"):
        chunk(bad)
    with pytest.raises(ValueError, match="sequence_number"):
        chunk(5).replace(sequence_number=bad)
    with pytest.raises(ValueError, match="seq"):
        ReorderBuffer(4).insert(bad, object(), 0, [])
    with pytest.raises((ValueError, OverflowError)):
        PriorityHeap(4).push(object(), 2, bad)


def test_queue_orders_by_sequence_across_the_u64_range():
    queue = MediaPriorityQueue(16)
    seqs = [TOP, 0, 2**32, 2**16 - 1, 2**63, TOP - 1, 2**16, 2**32 - 1]
    for s in seqs:
        queue.try_enqueue(MediaChunk("s", s, b"x", P, MediaPriority.NORMAL))
    queue.close()
    assert [c.sequence_number for c in queue] == sorted(seqs)


def test_drop_lowest_sheds_the_highest_sequence_number_among_equals():
    queue = MediaPriorityQueue(3, "drop_lowest")
    for s in (TOP, 5, 7):
        queue.try_enqueue(MediaChunk("s", s, b"x", P, MediaPriority.NORMAL))
    assert queue.try_enqueue(MediaChunk("s", 6, b"x", P, MediaPriority.NORMAL))
    queue.close()
    assert [c.sequence_number for c in queue] == [5, 6, 7]
    assert queue.get_stats().dropped_lowest == 1


# --- many streams ----------------------------------------------------------------------------------

def test_thousands_of_interleaved_streams_each_come_out_whole_and_in_order():
    h = Harness(max_reorder_window=8, max_buffer_size=1 << 16)
    names = [f"stream-{i}" for i in range(2000)] + ["x" * 100_000, "é☃\U0001F600", " ", "\x00"]
    rng = random.Random(1)
    queues = {}
    for name in names:
        seqs = list(range(6))
        rng.shuffle(seqs)
        queues[name] = [chunk(s, name) for s in seqs]
    pending = [name for name in names for _ in range(6)]
    rng.shuffle(pending)
    for name in pending:
        h.feed(queues[name].pop())
    for name in names:
        assert h.delivered(name) == list(range(6)), name
    stats = h.check()
    assert stats.streams == len(names) and stats.chunks_lost == 0 and stats.chunks_dropped == 0


def test_empty_stream_id_is_a_validation_failure_and_harms_no_neighbour():
    h = Harness()
    h.feed(chunk(0, "a"))
    error = h.feed(MediaChunk("", 0, b"x", P))
    assert isinstance(error, ValidationFailed) and "Empty stream ID" in str(error)
    h.feed(chunk(1, "a"))
    assert h.delivered("a") == [0, 1]
    assert h.check().validation_failures == 1


def test_empty_stream_id_with_validation_off_is_just_another_stream():
    h = Harness(enable_validation=False)
    h.feed_all([MediaChunk("", 1, b":1", P), chunk(0, "a"), MediaChunk("", 0, b":0", P)])
    assert h.delivered("") == [0, 1] and h.delivered("a") == [0]
    h.check()


def test_the_number_of_streams_stays_bounded():
    h = Harness(max_streams=50)
    for round_ in range(3):
        for i in range(1000):
            h.feed_all([chunk(s, f"burst-{round_}-{i}") for s in range(3)])   # whole bursts
        assert h.proc.get_stats().streams <= 50
    stats = h.check()
    assert stats.streams_evicted == 3000 - 50 and stats.chunks_delivered == 9000


def test_stream_bound_with_every_stream_holding_chunks_rejects_newcomers_only():
    h = Harness(max_streams=3)
    for name in "abc":
        h.feed(chunk(1, name))                               # each holds a buffered chunk
    error = h.feed(chunk(0, "d"))
    assert isinstance(error, BufferOverflow) and error.stream_id == "d"
    for name in "abc":
        assert h.feed(chunk(0, name)) == [0, 1]
    assert h.feed(chunk(0, "d")) == [0]                      # room again once they are idle
    stats = h.check()
    assert stats.buffer_overflows == 1 and stats.streams_evicted == 1


def test_a_paused_stream_evicted_by_the_stream_bound_keeps_its_position():
    h = Harness(max_streams=2)
    h.feed_all([chunk(i, "a") for i in range(20)])
    h.feed_all([chunk(0, "b"), chunk(0, "c")])           # "a" is idle: forgotten to make room
    results = h.feed_all([chunk(i, "a") for i in range(20, 40)])
    assert results == [[i] for i in range(20, 40)]       # a paused stream keeps its position
    stats = h.check()
    assert stats.chunks_lost == 0 and stats.chunks_dropped == 0


def test_streams_cycling_through_the_stream_bound_deliver_each_chunk_once_in_order():
    h = Harness(max_streams=2)
    for name in "abcd":
        h.feed(chunk(0, name))
    assert isinstance(h.feed(chunk(0, "a")), (DuplicateChunk, LateChunk))    # not delivered again
    h = Harness(max_streams=4)
    names = [f"cam{i}" for i in range(8)]                # twice the bound, round robin
    for seq in range(10):
        for name in names:
            assert h.feed(chunk(seq, name)) == [seq], (name, seq)
    stats = h.check()
    assert stats.chunks_dropped == 0 and stats.chunks_lost == 0


def test_streams_cycling_at_three_times_the_stream_bound_keep_flowing():
    h = Harness(max_streams=4)
    names = [f"cam{i}" for i in range(12)]
    for seq in range(10):
        for name in names:
            assert h.feed(chunk(seq, name)) == [seq], (name, seq)
    stats = h.check()
    assert stats.chunks_dropped == 0 and stats.chunks_lost == 0


def test_an_exhausted_stream_forgotten_by_the_stream_bound_stays_exhausted():
    h = Harness(max_streams=2, resync_after=2)
    h.feed_all([chunk(0, "a"), chunk(TOP - 1, "a"), chunk(TOP, "a")])   # agreement, then 2**64-1
    assert h.delivered("a") == [0, TOP]
    h.feed_all([chunk(0, "b"), chunk(0, "c")])             # "a" is idle: forgotten for "c"
    assert isinstance(h.feed(chunk(0, "a")), LateChunk)     # as if it had never been forgotten
    assert h.delivered("a") == [0, TOP]
    h.check()


# --- memory bounds under a flood -------------------------------------------------------------------

def test_a_flood_behind_a_missing_first_chunk_stays_within_the_chunk_bound():
    h = Harness(max_buffer_size=64, max_reorder_window=32)
    for name in ("a", "b", "c", "d"):
        h.feed_all([chunk(s, name) for s in range(1, 33)])   # 0 never comes
        assert h.proc.get_stats().buffer_utilization <= 1.0
    stats = h.check()
    assert stats.buffer_utilization == 1.0 and stats.buffer_overflows == 64
    assert sum(h.proc.get_stream_stats(s).buffered for s in "abcd") == 64
    assert all(isinstance(e, BufferOverflow) for e in h.errors)
    for name in "abcd":                                      # the missing chunk still gets through
        h.feed(chunk(0, name))
    assert h.flush() == []
    assert [len(h.delivered(name)) for name in "abcd"] == [33, 33, 1, 1]
    assert h.check().chunks_lost == 0


def test_a_flood_of_large_chunks_stays_within_the_byte_bound():
    h = Harness(max_buffered_bytes=1 << 20, max_reorder_window=64)
    big = b"z" * (100 << 10)
    for s in range(1, 40):
        h.feed(MediaChunk("s", s, big, ChunkType.METADATA))
        buffered = h.proc.get_stream_stats("s").buffered
        assert buffered * len(big) <= 1 << 20
    stats = h.proc.get_stats()
    assert stats.buffer_overflows == 39 - 10
    h.proc.flush()
    assert h.proc.get_stats().chunks_delivered == 10


def test_a_timed_out_stream_at_the_chunk_bound_resumes_on_the_next_arrival():
    h = Harness(max_buffer_size=4)
    h.feed_all([chunk(s) for s in range(1, 5)])             # 0 is lost; the bound is reached
    h.clock.advance(6)                                      # past sequence_timeout
    assert h.feed(chunk(5)) == [1, 2, 3, 4, 5]              # as without the bound
    assert h.check().chunks_lost == 1


def test_a_timed_out_stream_at_the_chunk_bound_resumes_after_expire_stale():
    h = Harness(max_buffer_size=4)
    h.feed_all([chunk(s) for s in range(1, 5)])
    h.clock.advance(6)
    h.out += h.proc.expire_stale()
    assert h.feed(chunk(5)) == [5]
    assert h.delivered() == [1, 2, 3, 4, 5]
    assert h.check().chunks_lost == 1


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
