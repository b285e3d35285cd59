"""C entry points attacked with user code that runs in the middle of a call.

The family: a kernel takes a list's length, then runs user code (an argument's __index__, a
buffer exporter, __eq__/__hash__, a __del__ or weakref callback), then reads the list without
checks. Every C entry point converts its arguments before it measures a list, holds its own
references, and never runs user code between the measurement and the reads. Calls that could
crash run in a child interpreter, so a segfault fails the test instead of killing pytest.
"""
import gc
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import numpy as np
import pytest

from rs2fast._chunk import MediaChunk, group_by_stream, split_buffer, validate_batch
from rs2fast._heap import PriorityHeap
from rs2fast._reorder import ACCEPTED, ReorderBuffer

ROOT = Path(__file__).resolve().parents[2]


def run_child(code: str) -> str:
    """Run `code` in a fresh interpreter on this checkout; its stdout, or a failed test (with
    the signal) when it crashed."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (f"child exited with {result.returncode} "
                                    f"(negative: killed by signal)\n{result.stderr[-2000:]}")
    return result.stdout


# --- __index__ of an argument clears the list that was already measured ---------------------------

CLEARING_NOW = """
    import numpy as np
    from rs2fast._chunk import split_buffer
    from rs2fast._reorder import ReorderBuffer

    class ClearingNow:
        def __init__(self, victim):
            self.victim = victim
        def __index__(self):
            self.victim.clear()                       # drops the last references to the items
            return 0

    items = split_buffer(bytes(4096), "s", 16)        # 256 chunks, owned only by the list
"""


def test_insert_batch_with_an_index_that_clears_the_items_does_not_crash():
    out = run_child(CLEARING_NOW + """
    seqs = np.arange(len(items), dtype=np.uint64)
    statuses = bytearray(len(items))
    try:
        ReorderBuffer(512).insert_batch(seqs, items, ClearingNow(items), statuses, [])
    except ValueError as error:
        print("refused:", error)
    """)
    assert "refused: items has 0 entries but seqs has 256" in out


def test_insert_chunks_with_an_index_that_clears_the_chunks_does_not_crash():
    out = run_child(CLEARING_NOW + """
    statuses = bytearray(len(items))
    try:
        ReorderBuffer(512).insert_chunks(items, ClearingNow(items), statuses, [])
    except ValueError as error:
        print("refused:", error)
    """)
    assert "refused: statuses has 256 entries but chunks has 0" in out


def test_insert_chunks_measures_the_list_after_converting_now():
    chunks = split_buffer(bytes(64), "s", 16)
    extra = split_buffer(bytes(32), "s", 16, start_sequence=4)

    class GrowingNow:
        def __index__(self):
            chunks.extend(extra)                        # grows the list during conversion
            return 0

    ready = []
    statuses = bytearray(6)
    assert ReorderBuffer(16).insert_chunks(chunks, GrowingNow(), statuses, ready) == 6
    assert [c.sequence_number for c in ready] == list(range(6))
    assert bytes(statuses) == bytes([ACCEPTED] * 6)


def test_push_chunks_with_a_start_that_clears_the_list():
    chunks = split_buffer(bytes(64), "s", 16)

    class ClearingStart:
        def __index__(self):
            chunks.clear()
            return 0

    heap = PriorityHeap(8)
    assert heap.push_chunks(chunks, ClearingStart()) == 0
    assert len(heap) == 0 and heap.live_slots == 0
    heap._check()


def test_push_chunks_with_a_start_past_a_shrunken_list_is_a_value_error():
    chunks = split_buffer(bytes(64), "s", 16)

    class ShrinkingStart:
        def __index__(self):
            del chunks[1:]
            return 3

    with pytest.raises(ValueError, match="start"):
        PriorityHeap(8).push_chunks(chunks, ShrinkingStart())


def test_split_buffer_with_a_chunk_size_that_refills_the_source():
    source = bytearray(b"a" * 64)

    class RefillingSize:
        def __index__(self):
            source[:] = b"b" * 32                       # shrinks the source before it is read
            return 16

    chunks = split_buffer(source, "s", RefillingSize())
    assert [bytes(c) for c in chunks] == [b"b" * 16, b"b" * 16]


def test_numpy_integers_are_accepted_where_ints_are():
    chunk = MediaChunk("s", np.uint64(7), b"x", np.int8(3), np.int64(2))
    assert (chunk.sequence_number, int(chunk.chunk_type), int(chunk.priority)) == (7, 3, 2)
    heap = PriorityHeap(np.int32(4))
    assert heap.capacity == 4
    assert heap.push("item", np.uint8(3), np.uint64(1))
    assert heap.pop_batch(np.int64(5)) == ["item"]
    chunks = split_buffer(b"abcd", "s", np.int16(2), start_sequence=np.uint32(3),
                          chunk_type=np.uint8(4))
    assert [c.sequence_number for c in chunks] == [3, 4]
    ready = []
    buffer = ReorderBuffer(np.int64(8), next_expected=np.uint64(3))
    assert buffer.insert_chunks(chunks, np.int64(0), bytearray(2), ready) == 2


@pytest.mark.parametrize("bad", [True, False])
def test_bools_are_refused_where_ints_are_taken(bad):
    with pytest.raises(TypeError, match="chunk_type"):
        MediaChunk("s", 0, b"x", bad)
    with pytest.raises(TypeError, match="capacity"):
        PriorityHeap(bad)
    with pytest.raises(TypeError, match="max_items"):
        PriorityHeap(2).pop_batch(bad)
    with pytest.raises(TypeError, match="now_ns"):
        ReorderBuffer(4).insert_chunks([], bad, bytearray(0), [])


# --- __eq__ / __hash__ of a stream id -------------------------------------------------------------

def test_str_subclass_stream_ids_never_run_user_hash_or_eq_in_the_kernels():
    calls = []

    class LoudId(str):
        def __hash__(self):
            calls.append("hash")
            return str.__hash__(self)

        def __eq__(self, other):
            calls.append("eq")
            return str.__eq__(self, other)

    chunks = [MediaChunk(LoudId("s"), i, b"x", 3) for i in range(4)]
    chunks += split_buffer(b"yy", LoudId("t"), 1)
    assert set(group_by_stream(chunks)) == {"s", "t"}
    assert bytes(validate_batch(chunks)) == bytes(6)
    assert calls == []                                  # stream ids are exact str copies


# --- __del__ and weakref callbacks re-entering a kernel -------------------------------------------

class Reentrant:
    """An item whose last reference going away inserts into the same reorder buffer."""

    def __init__(self, buffer, log):
        self.buffer, self.log = buffer, log

    def __del__(self):
        ready = []
        self.log.append(self.buffer.insert(10**6, "late", 0, ready))


def test_rejected_items_are_released_outside_the_reorder_lock():
    out = run_child("""
    from rs2fast._reorder import DUPLICATE, ReorderBuffer
    from tests.adversarial.test_c_entry_points import Reentrant
    import numpy as np
    buffer, log = ReorderBuffer(4, resync_after=0), []
    buffer.insert(0, "first", 0, [])
    seqs = np.zeros(1, dtype=np.uint64)               # seq 0 again: a duplicate, rejected
    statuses = bytearray(1)
    buffer.insert_batch(seqs, [Reentrant(buffer, log)], 0, statuses, [])
    buffer.insert(0, Reentrant(buffer, log), 0, [])
    print(statuses[0] == DUPLICATE, len(log))
    """)
    assert out.split() == ["True", "2"]


def test_weakref_callbacks_on_popped_items_may_use_the_heap():
    heap = PriorityHeap(8)
    seen = []

    class Item:
        pass

    items = [Item() for _ in range(4)]
    refs = [weakref.ref(item, lambda _ref: seen.append(heap.push("again", 2, 0))) for item in items]
    for i, item in enumerate(items):
        heap.push(item, 2, i)
    del items, item
    popped = heap.pop_batch(4)
    del popped
    gc.collect()
    assert seen == [True] * 4 and len(heap) == 4
    assert all(ref() is None for ref in refs)
    heap._check()


# --- the chunk as a buffer, and data access -------------------------------------------------------

def test_chunk_data_view_survives_a_user_release():
    payload = bytes(range(256)) * 64                    # 16 KiB: `data` of 8 KiB chunks is a view
    (chunk, _) = split_buffer(payload, "s", 8192)
    with chunk.data as view:                            # a context manager releases the view
        assert bytes(view) == payload[:8192]
    assert bytes(chunk.data) == payload[:8192]          # a fresh view, not the released one
    assert chunk.data is chunk.data                     # and then cached again
