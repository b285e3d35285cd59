"""Reference-count and memory checks: long loops over every public operation show no growth.

Each case warms an operation up, then runs it in rounds and measures what is left behind after
each round: Python allocations (tracemalloc, which also sees PyMem_RawMalloc), the process's
resident set (RSS, for plain malloc), and the reference counts of the objects the operation was
given. A leak of one reference or a few bytes per call shows up as steady growth over the rounds.

A debug build (`RS2FAST_DEBUG=1 python setup.py build_ext --inplace`) also keeps live-object
counters in the extensions; `check_debug_counters()` asserts they are all zero once nothing
refers to rs2fast objects any more. Every module of the reliability suite ends with it; in a
normal build it skips, saying that it needs RS2FAST_DEBUG=1.
"""
from __future__ import annotations

import asyncio
import gc
import importlib
import os
import pickle
import sys
import threading
import tracemalloc
from array import array
from datetime import timedelta

import numpy as np
import pytest

from rs2fast import _chunk
from rs2fast._heap import PriorityHeap
from rs2fast._reorder import ReorderBuffer
from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
from rs2fast.codec import MediaCodec
from rs2fast.errors import ChunkProcessingError, QueueEmpty, QueueFull
from rs2fast.events import BufferUnderrun, ChunkDropped, MediaStreamEvent, StreamStarted
from rs2fast.priority_queue import MediaPriorityQueue
from rs2fast.streaming import MediaStreamingService
from rs2fast.types import (ChunkType, MediaChunk, MediaPriority, MediaStream, MediaType,
                           QualityLevel, RawMediaData)

_EXTENSIONS = ("rs2fast._chunk", "rs2fast._heap", "rs2fast._reorder", "rs2fast._queue")


def debug_counters() -> dict:
    """{module: counters} of every extension built with debug counters (empty in a normal build)."""
    found = {}
    for name in _EXTENSIONS:
        module = importlib.import_module(name)
        read = getattr(module, "debug_counters", None)
        if read is None:
            continue
        counters = read()
        if counters.get("enabled"):
            found[name] = counters
    return found


def check_debug_counters() -> None:
    """Assert that a debug build reports no live slots, views or buffer owners; skip otherwise."""
    for _ in range(3):
        gc.collect()
    found = debug_counters()
    if not found:
        pytest.skip("needs a debug build: RS2FAST_DEBUG=1 python setup.py build_ext --inplace")
    live = {f"{module}.{key}": value for module, counters in found.items()
            for key, value in counters.items()
            if key.startswith("live") and isinstance(value, int) and value != 0}
    assert not live, f"objects still alive at the end of the module: {live}"
    # Heaps that are still alive (inside queues someone keeps) hold exactly their items.
    from rs2fast._queue import QueueCore
    for obj in gc.get_objects():
        if isinstance(obj, QueueCore):
            assert obj.heap.live_slots == len(obj.heap), f"slots leaked in {obj!r}"


# --- measuring ------------------------------------------------------------------------------------

ROUNDS = 3
CALLS = 250 if not os.environ.get("CI") else 700
PAYLOAD = bytes(range(256)) * 4                       # shared by the chunks of every operation
SID = "leak-check-stream"
P = ChunkType.VIDEO_P_FRAME


# RSS is only meaningful with the normal allocator: AddressSanitizer quarantines freed memory.
RSS_MEANINGFUL = (sys.platform.startswith("linux") and "ASAN_OPTIONS" not in os.environ
                  and "asan" not in os.environ.get("LD_PRELOAD", ""))


def rss_bytes() -> int:
    """Resident set size of this process (0 where it cannot be measured meaningfully)."""
    if not RSS_MEANINGFUL:
        return 0
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def growth(operation, calls=CALLS, rounds=ROUNDS):
    """Python memory (tracemalloc) and RSS left behind per round, after a warm-up round."""
    for _ in range(calls):
        operation()
    gc.collect()
    traced, resident = [], []
    tracemalloc.start()
    try:
        for _ in range(rounds):
            for _ in range(calls):
                operation()
            gc.collect()
            traced.append(tracemalloc.get_traced_memory()[0])
            resident.append(rss_bytes())
    finally:
        tracemalloc.stop()
    return traced[-1] - traced[0], resident[-1] - resident[0]


def refcounts():
    """Reference counts of objects every operation touches; a leaked reference shows up here."""
    return (sys.getrefcount(PAYLOAD), sys.getrefcount(SID), sys.getrefcount(ChunkType.AUDIO),
            sys.getrefcount(P), sys.getrefcount(MediaPriority.NORMAL),
            sys.getrefcount(MediaPriority.HIGH), sys.getrefcount(QualityLevel.HIGH))


def chunk(seq=0, data=PAYLOAD, chunk_type=P, checksum=None):
    return MediaChunk(SID, seq, data, chunk_type, checksum=checksum)


# --- the operations --------------------------------------------------------------------------------

def op_construct_variants():
    chunk()
    MediaChunk(SID, 1, bytearray(PAYLOAD[:100]), ChunkType.AUDIO)
    MediaChunk(SID, 2, memoryview(PAYLOAD)[::2], P, MediaPriority.NORMAL, timedelta(seconds=1))
    MediaChunk(SID, 3, np.frombuffer(PAYLOAD, np.uint8)[:64], P, timestamp_ns=-5, is_final=True)


def op_fields_and_compare():
    c = chunk(7)
    (c.stream_id, c.sequence_number, c.data, c.chunk_type, c.priority, c.timestamp,
     c.timestamp_ns, c.is_final, c.checksum, len(c), bool(c), repr(c), c == chunk(7), c != 5)


def op_json_and_pickle():
    c = chunk(9).with_checksum("crc32c")
    MediaChunk.from_dict(c.to_dict())
    MediaChunk.from_json(c.to_json())                 # >= 512 chars: the C fast path
    MediaChunk.from_json(c.to_json().encode())
    MediaChunk.from_json(chunk(1, b"ab").to_json())    # short: json.loads only
    pickle.loads(pickle.dumps(c))


def op_replace_and_checksums():
    c = chunk(3)
    c.replace(sequence_number=4, data=b"xy", priority=None, chunk_type=ChunkType.AUDIO)
    c.with_checksum("sha256").checksum_matches()
    c.compute_checksum("crc32c")
    _chunk.crc32c(PAYLOAD, 5)
    _chunk.crc32c_combine(1, 2, 3)
    _chunk.checksum_hex(PAYLOAD, "sha256")
    _chunk.checksum_algorithm("crc32c:00000000")


def op_split_views():
    owner = bytearray(PAYLOAD)
    views = _chunk.split_buffer(owner, SID, 100, checksum="crc32c")
    [bytes(v.data) for v in views]
    _chunk.split_buffer(PAYLOAD, SID, 64, start_sequence=10, chunk_type=3)
    _chunk.split_buffer(array("I", range(64)), SID, 50)
    del views
    owner.extend(b"!")                                 # the views released their export


def op_batch_kernels():
    batch = [chunk(i).with_checksum("crc32c") for i in range(8)]
    batch.append(chunk(9, checksum="crc32c:00000000"))
    batch.append(chunk(10, b""))
    _chunk.validate_batch(batch)
    _chunk.compute_checksums(batch, "crc32c")
    _chunk.compute_checksums(batch[:2], "sha256")
    _chunk.group_by_stream(batch, _chunk.validate_batch(batch))


def op_error_paths():
    for call in (lambda: MediaChunk(SID, -1, PAYLOAD, P), lambda: MediaChunk(SID, 0, "x", P),
                 lambda: MediaChunk(SID, 0, PAYLOAD, 9), lambda: MediaChunk(SID, 0, PAYLOAD, P, 0),
                 lambda: MediaChunk.from_json('{"stream_id": 1}'),
                 lambda: MediaChunk.from_json(chunk().to_json()[:-40]),
                 lambda: MediaChunk.from_dict({**chunk().to_dict(), "data": [1, 999]}),
                 lambda: _chunk.split_buffer(memoryview(PAYLOAD)[::2], SID, 4),
                 lambda: chunk().replace(bogus=1)):
        try:
            call()
        except (TypeError, ValueError):
            pass


def op_heap():
    heap = PriorityHeap(16)
    for i in range(12):
        heap.push(chunk(i), 1 + i % 3, i)
    heap.push_chunks([chunk(i) for i in range(8)])
    heap.pop(), heap.pop_lowest(), heap.peek(), heap.peek_key(), heap.keys()
    heap.pop_batch(5)
    heap.clear()
    heap.push_chunk(chunk(1))                          # left in the heap: freed with it


def op_reorder():
    buf = ReorderBuffer(8, timeout_ns=10)
    ready = []
    for s in (3, 1, 2, 2, 50, 0, 4, 9):
        buf.insert(s, chunk(s), 0, ready)
    buf.insert_batch(np.array([6, 5, 5, 100], np.uint64), [chunk(6), chunk(5), chunk(5), chunk(7)],
                     0, bytearray(4), ready)
    buf.insert_chunks([chunk(8), chunk(12), chunk(7)], 1, bytearray(3), ready)
    buf.buffered_items(), buf.buffered_sequences()
    buf.expire(100, ready)
    buf.insert(20, chunk(20), 100, ready)              # left buffered: freed with the buffer
    ready.clear()


def op_processor():
    events = []
    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=1), on_event=events.append)
    for s in (1, 0, 0, 2, 99, 3):
        try:
            proc.process_single_chunk(chunk(s))
        except ChunkProcessingError:
            pass
    proc.process_batch([chunk(s) for s in (5, 4, 4, 7)], return_exceptions=True)
    proc.process_batch([chunk(s) for s in (8, 6)])
    list(proc.process_chunk_stream([chunk(s) for s in (10, 9, 12)]))
    proc.get_stats(), proc.get_stream_stats(SID), proc.expire_stale(10**12), proc.flush()
    proc.process_single_chunk(chunk(13))               # left buffered: freed with the processor


def op_processor_pool():
    proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=2, parallel_min_bytes=0))
    proc.process_batch([chunk(s).with_checksum("crc32c") for s in range(6)])
    proc.close()


def op_queue():
    events = []
    queue = MediaPriorityQueue(4, "drop_lowest", on_event=events.append)
    for s in range(7):
        queue.enqueue(chunk(s, chunk_type=(P, ChunkType.VIDEO_B_FRAME, ChunkType.AUDIO)[s % 3]))
    queue.get(), queue.get_nowait(), queue.get_batch(2), queue.get_stats(), len(queue)
    blocking = MediaPriorityQueue(1)
    blocking.try_enqueue(chunk(1))
    for call in (lambda: blocking.try_enqueue(chunk(2)), lambda: blocking.enqueue(chunk(3), timeout=0)):
        try:
            call()
        except QueueFull:
            pass
    blocking.close()
    list(blocking)
    try:
        MediaPriorityQueue(1).get(timeout=0)
    except QueueEmpty:
        pass


def op_queue_async():
    queue = MediaPriorityQueue(8)
    queue.enqueue_batch([chunk(s) for s in range(3)])
    queue.close()

    async def drain():
        return [c async for c in queue]

    asyncio.run(drain())


def op_events():
    for event in (StreamStarted(SID, 1, QualityLevel.HIGH), BufferUnderrun(SID, 2, 0.5),
                  ChunkDropped(SID, 3, 4, "why")):
        MediaStreamEvent.from_json(event.to_json())
        event.to_user_activity()
        pickle.loads(pickle.dumps(event))


def op_codec():
    codec = MediaCodec()
    raw = RawMediaData(PAYLOAD, MediaType.VIDEO)
    encoded = codec.encode_single_frame(raw, SID)
    codec.decode_chunk(encoded)
    list(codec.encode_stream([raw, RawMediaData(b"", MediaType.VIDEO)], SID, return_exceptions=True))


OPERATIONS = {name[3:]: fn for name, fn in sorted(globals().items()) if name.startswith("op_")}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_long_loops_leave_nothing_behind(name):
    operation = OPERATIONS[name]
    operation()                                       # first use fills caches (enum name maps...)
    gc.collect()
    before = refcounts()
    traced, resident = growth(operation)
    gc.collect()
    after = refcounts()
    assert after == before, f"{name}: reference counts moved {before} -> {after}"
    calls = CALLS * (ROUNDS - 1)
    assert traced < 64 << 10, f"{name}: {traced} bytes of Python memory kept over {calls} calls"
    assert resident < 8 << 20, f"{name}: RSS grew by {resident >> 10} KiB over {calls} calls"


def test_large_payloads_are_released():
    big = os.urandom(4 << 20)
    before = sys.getrefcount(big)

    def operation():
        views = _chunk.split_buffer(big, SID, 1 << 20, checksum="crc32c")
        proc = ChunkProcessor(ChunkProcessorConfig(parallel_processing=2, parallel_min_bytes=0,
                                                   video_size_limit=2 << 20))
        proc.process_batch(views)
        queue = MediaPriorityQueue(8)
        queue.enqueue_batch(views)
        queue.get_batch(8)
        MediaChunk(SID, 0, bytearray(big[: 1 << 20]), ChunkType.METADATA).compute_checksum()
        proc.close()

    traced, resident = growth(operation, calls=8, rounds=4)
    assert sys.getrefcount(big) == before
    assert traced < 1 << 20 and resident < 24 << 20, (traced, resident)


def test_service_streams_leave_no_threads_or_memory():
    def operation():
        with MediaStreamingService(8) as svc:
            stream = MediaStream(SID, 1, MediaType.VIDEO, QualityLevel.LOW, 64)
            for _ in svc.start_live_stream(stream, [PAYLOAD[:64]] * 20):
                pass
            shared = svc.get_chunk_stream()
            shared.close()
            svc.events().close()

    before = refcounts()
    threads = threading.active_count()
    traced, resident = growth(operation, calls=30, rounds=3)
    assert threading.active_count() <= threads + 1
    assert refcounts() == before
    assert traced < 256 << 10 and resident < 16 << 20, (traced, resident)


def test_a_long_running_service_stays_bounded_as_streams_come_and_go(monkeypatch):
    from rs2fast import streaming
    if hasattr(streaming, "_FINISHED_KEPT"):          # finished streams kept one by one: fewer
        monkeypatch.setattr(streaming, "_FINISHED_KEPT", 64)     # so that the test passes it fast
    svc = MediaStreamingService(8, processor_config=ChunkProcessorConfig(max_streams=64,
                                                                         parallel_processing=1))
    counter = iter(range(10**9))

    def operation():
        stream = MediaStream(f"file-{next(counter)}", 1, MediaType.VIDEO, QualityLevel.LOW, 8)
        for _ in svc.start_live_stream(stream, [b"x" * 8] * 2):
            pass

    try:
        traced, _ = growth(operation, calls=300, rounds=3)
    finally:
        svc.shutdown()
    assert traced < 256 << 10, f"{traced} bytes kept for 600 finished streams"


def test_debug_counters_follow_views_in_a_debug_build():
    if not debug_counters():
        pytest.skip("needs a debug build: RS2FAST_DEBUG=1 python setup.py build_ext --inplace")
    gc.collect()
    start = _chunk.debug_counters()["live_buffer_owners"]
    views = _chunk.split_buffer(memoryview(bytearray(100)).toreadonly(), SID, 10)
    assert _chunk.debug_counters()["live_buffer_owners"] == start + 1
    copies = _chunk.split_buffer(bytearray(100), SID, 10)    # a mutable source is copied
    assert _chunk.debug_counters()["live_buffer_owners"] == start + 1 and len(copies) == 10
    del views
    gc.collect()
    assert _chunk.debug_counters()["live_buffer_owners"] == start


def test_zz_debug_build_leaves_no_live_objects():
    check_debug_counters()
