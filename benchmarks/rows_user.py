"""User-path rows U1..U8: the per-item loops a user writes over rs2fast's public API, against the same
loop over a plain-Python pipeline, on the same page-cached file.

The plain-Python side reads with `f.read(size)` into a dataclass chunk, computes the checksum once
(where the row checksums), reorders with a dict and, where the row uses the queue, keeps a heapq of
depth 64 (see baselines.naive_file_chunks). rs2fast's side goes only through public names:
`MediaStreamingService.start_file_stream`, `MediaPriorityQueue`, `ChunkStream.batches()`.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import os
from typing import Any, Callable, Dict, Iterable, List, Optional

from benchmarks.baselines import (KIB, MIB, naive_crc32, naive_file_chunks, naive_sha256, write_file,
                                  xxh3_hexdigest)
from benchmarks.table import Row, measure, rate_row

QUEUE_DEPTH = 64
BATCHES_MISSING = "n/a (ChunkStream.batches missing)"
_stream_ids = itertools.count()


# --- the loops, written once for both sides ------------------------------------------------------

def count_bytes(chunks: Iterable[Any]) -> int:
    """U1, U4..U7: `for c in chunks: n += len(c.data)`."""
    n = 0
    for c in chunks:
        n += len(c.data)
    return n


async def count_bytes_async(chunks: Any) -> int:
    """U3: the same loop with `async for`."""
    n = 0
    async for c in chunks:
        n += len(c.data)
    return n


def count_bytes_through_queue(chunks: Iterable[Any], queue: Any) -> tuple:
    """U2: the U1 loop plus `queue.enqueue(c); if len(queue) > 64: queue.get_nowait()`."""
    n = 0
    for c in chunks:
        n += len(c.data)
        queue.enqueue(c)
        if len(queue) > QUEUE_DEPTH:
            queue.get_nowait()
    return n, len(queue)


def count_bytes_through_heapq(chunks: Iterable[Any]) -> tuple:
    """U2's baseline: the U1 loop plus a heapq of depth 64 keyed like the queue (priority first,
    then sequence number)."""
    n = 0
    heap: list = []
    push, pop = heapq.heappush, heapq.heappop
    for c in chunks:
        n += len(c.data)
        push(heap, (-c.priority, c.sequence_number, c))
        if len(heap) > QUEUE_DEPTH:
            pop(heap)
    return n, len(heap)


def sum_batches(stream: Any) -> tuple:
    """U8: `for b in stream.batches()`: total bytes from the `sizes` column and a sequence check
    with numpy (consecutive within each batch and across batches)."""
    import numpy as np

    total = expected = 0
    in_order = True
    for b in stream.batches():
        total += int(b.sizes.sum())
        seqs = b.sequence_numbers
        if len(seqs):
            in_order = in_order and int(seqs[0]) == expected and bool(np.all(np.diff(seqs) == 1))
            expected += len(seqs)
    return total, expected, in_order


def sum_items(chunks: Iterable[Any]) -> tuple:
    """U8's baseline: the same totals and sequence check, one chunk at a time."""
    total = expected = 0
    in_order = True
    for c in chunks:
        total += len(c.data)
        if c.sequence_number != expected:
            in_order = False
        expected += 1
    return total, expected, in_order


# --- makers ------------------------------------------------------------------------------------------

def _service(checksum: Optional[str], workers: Optional[int], map_files: bool) -> Any:
    from rs2fast import ChunkProcessorConfig, EncodingConfig, MediaCodec, MediaStreamingService

    config = ChunkProcessorConfig() if workers is None else ChunkProcessorConfig(parallel_processing=workers)
    return MediaStreamingService(codec=MediaCodec(EncodingConfig(checksum=checksum)), processor_config=config,
                                 map_files=map_files)


def _stream(size: int) -> Any:
    from rs2fast import MediaStream, MediaType, QualityLevel

    return MediaStream(f"user-{next(_stream_ids)}", 1, MediaType.VIDEO, QualityLevel.HIGH, size)


def _ours(service: Any, path: str, size: int, loop: Callable[..., Any]) -> Callable[[], Callable[[], Any]]:
    return lambda: (lambda: loop(service.start_file_stream(path, _stream(size))))


def _ours_async(service: Any, path: str, size: int) -> Callable[[], Callable[[], Any]]:
    async def consume() -> int:
        return await count_bytes_async(service.start_file_stream(path, _stream(size)))
    return lambda: (lambda: asyncio.run(consume()))


def _ours_queue(service: Any, path: str, size: int) -> Callable[[], Callable[[], Any]]:
    from rs2fast import MediaPriorityQueue

    def make() -> Callable[[], Any]:
        queue = MediaPriorityQueue(4 * QUEUE_DEPTH)
        return lambda: count_bytes_through_queue(service.start_file_stream(path, _stream(size)), queue)
    return make


def _naive(path: str, size: int, loop: Callable[..., Any],
           checksum: Optional[Callable[[bytes], str]] = None) -> Callable[[], Callable[[], Any]]:
    return lambda: (lambda: loop(naive_file_chunks(path, size, checksum)))


def batches_available() -> bool:
    """Whether this rs2fast has ChunkStream.batches() (U8 needs it)."""
    from rs2fast import ChunkStream

    return hasattr(ChunkStream, "batches")


# --- rows ----------------------------------------------------------------------------------------------

def bench_user(nbytes: int, reps: int, want: set, tmpdir: str, page_cache_gbps: float) -> List[Row]:
    """U1..U8 over one page-cached file of `nbytes`."""
    path = os.path.join(tmpdir, "user.bin")
    write_file(path, nbytes)
    services: list = []

    def service(checksum: Optional[str] = None, workers: Optional[int] = None,
                map_files: bool = False) -> Any:
        services.append(_service(checksum, workers, map_files))
        return services[-1]

    try:
        rows = _rows_1k(path, nbytes, reps, want, service)
        rows += _rows_64k(path, nbytes, reps, want, service, page_cache_gbps)
    finally:
        for s in services:
            s.shutdown()
        os.unlink(path)
    return rows


def _rows_1k(path: str, nbytes: int, reps: int, want: set, service: Callable[..., Any]) -> List[Row]:
    """U1, U2, U3 and U8a: 1 KiB chunks, no checksum, the library's default workers."""
    size = KIB
    if not want & {"U1", "U2", "U3", "U8a"}:
        return []
    makers: Dict[str, Callable[[], Callable[[], Any]]] = {}
    if want & {"U1", "U3"}:
        makers["naive"] = _naive(path, size, count_bytes)
    if "U1" in want:
        makers["u1"] = _ours(service(), path, size, count_bytes)
    if "U2" in want:
        makers["u2"] = _ours_queue(service(), path, size)
        makers["naive_heapq"] = _naive(path, size, count_bytes_through_heapq)
    if "U3" in want:
        makers["u3"] = _ours_async(service(), path, size)
    batches = batches_available()
    if "U8a" in want:
        makers["naive_u8"] = _naive(path, size, sum_items)
        if batches:
            makers["u8"] = _ours(service(), path, size, sum_batches)
    secs, res = measure(makers, reps)
    count = -(-nbytes // size)
    rate = {k: count / v / 1e6 for k, v in secs.items()}
    unit = "M chunks/s"
    file = f"{nbytes // MIB} MiB file, 1 KiB chunks, no checksum"
    rows = []
    if "U1" in want:
        rows.append(rate_row("U1", "for c in stream: n += len(c.data)", rate["u1"], rate["naive"], unit, 5,
                             False, res["u1"] == res["naive"] == nbytes, file))
    if "U2" in want:
        ok = res["u2"] == res["naive_heapq"] == (nbytes, min(count, QUEUE_DEPTH))
        rows.append(rate_row("U2", "U1 + queue.enqueue / len / get_nowait", rate["u2"], rate["naive_heapq"],
                             unit, 4, False, ok, f"queue depth {QUEUE_DEPTH}; baseline heapq"))
    if "U3" in want:
        rows.append(rate_row("U3", "U1 with async for", rate["u3"], rate["naive"], unit, 4, False,
                             res["u3"] == res["naive"] == nbytes, "baseline: the sync plain-Python loop"))
    if "U8a" in want:
        name = "for b in stream.batches(): sizes.sum(), seq check"
        if not batches:
            rows.append(Row("U8a", name, None, rate["naive_u8"], unit, None, ">= 10x", None, BATCHES_MISSING))
        else:
            rows.append(rate_row("U8a", name, rate["u8"], rate["naive_u8"], unit, 10, False,
                                 res["u8"] == res["naive_u8"] == (nbytes, count, True), file))
    return rows


def _rows_64k(path: str, nbytes: int, reps: int, want: set, service: Callable[..., Any],
              page_cache_gbps: float) -> List[Row]:
    """U4..U7 and U8b: 64 KiB chunks with a checksum, the file mapped (`map_files=True`: the
    documented fast way to checksum big chunks)."""
    size = 64 * KIB
    if not want & {"U4", "U5", "U6", "U7", "U8b"}:
        return []
    xxh3 = xxh3_hexdigest()
    makers: Dict[str, Callable[[], Callable[[], Any]]] = {}
    if want & {"U4", "U5", "U6"}:
        makers["crc_1"] = _ours(service("crc32c", 1, map_files=True), path, size, count_bytes)
    if "U4" in want:
        makers["naive_zlib"] = _naive(path, size, count_bytes, naive_crc32)
    if "U5" in want and xxh3 is not None:
        makers["naive_xxh3"] = _naive(path, size, count_bytes, xxh3)
    if "U6" in want:
        makers["crc_2"] = _ours(service("crc32c", 2, map_files=True), path, size, count_bytes)
    if "U7" in want:
        makers["sha_2"] = _ours(service("sha256", 2, map_files=True), path, size, count_bytes)
        makers["naive_sha"] = _naive(path, size, count_bytes, naive_sha256)
    batches = batches_available()
    if "U8b" in want and batches:
        makers["u8"] = _ours(service("crc32c", map_files=True), path, size, sum_batches)
    secs, res = measure(makers, reps) if makers else ({}, {})
    gbps = {k: nbytes / v / 1e9 for k, v in secs.items()}

    def ok(*names: str) -> bool:
        return all(res[n] == nbytes for n in names)

    file = f"{nbytes // MIB} MiB file, 64 KiB chunks, map_files=True"
    rows = []
    if "U4" in want:
        rows.append(rate_row("U4", "64 KiB crc32c 1 worker vs zlib.crc32", gbps["crc_1"], gbps["naive_zlib"],
                             "GB/s", 3, False, ok("crc_1", "naive_zlib"), f"{file}; parallel_processing=1"))
    if "U5" in want:
        name = "64 KiB crc32c 1 worker vs xxh3"
        if xxh3 is None:
            rows.append(Row("U5", name, gbps["crc_1"], None, "GB/s", None, ">= 1x", None,
                            "skipped: xxhash is not importable (pip install xxhash)"))
        else:
            rows.append(rate_row("U5", name, gbps["crc_1"], gbps["naive_xxh3"], "GB/s", 1, False,
                                 ok("crc_1", "naive_xxh3")))
    if "U6" in want:
        rows.append(rate_row("U6", "64 KiB crc32c 2 workers vs 1 worker", gbps["crc_2"], gbps["crc_1"], "GB/s",
                             1.6, False, ok("crc_2", "crc_1")))
    if "U7" in want:
        rows.append(rate_row("U7", "64 KiB sha256 2 workers vs hashlib", gbps["sha_2"], gbps["naive_sha"], "GB/s",
                             1.7, False, ok("sha_2", "naive_sha"), "baseline: one thread, hashes once"))
    if "U8b" in want:
        name = "64 KiB crc32c batches() vs page-cache read"
        if not batches:
            rows.append(Row("U8b", name, None, page_cache_gbps, "GB/s", None, ">= 0.7x", None, BATCHES_MISSING))
        else:
            rows.append(rate_row("U8b", name, gbps["u8"], page_cache_gbps, "GB/s", 0.7, False,
                                 res["u8"] == (nbytes, -(-nbytes // size), True),
                                 "baseline: the page-cache read rate in the header; default workers"))
    return rows
