"""Side-by-side benchmark table: rs2fast against plain-Python baselines, in one run, on the same data.

`python benchmarks/compare.py [--quick] [--rows T1,T5] [--json PATH]` (or `python -m rs2fast bench`)
prints one row per comparison: name, ours, baseline, unit, ratio, target, met. Both sides of a row do
the same work on the same input, are warmed up once, run alternately, and are reported as medians of
several repetitions; their outputs are compared and a mismatch fails the row. The machine's memcpy and
page-cache read bandwidth are printed first as the ceiling.

Row ids: K1..K8 kernels (heap, reorder, split, checksums), T1..T8 the performance targets, P1..P3
extra pipeline rows. `--rows` takes ids or prefixes (T5 selects T5a and T5b; K selects every kernel).
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import heapq
from collections import deque
import json
import os
import platform
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
FRAME_NS = 33_000_000        # split_buffer's default frame duration
WINDOW = 4 * MIB             # bytes read from a file at once (as the streaming service does)
T1_BATCH = 256               # chunks handed to process_batch at once in T1
REORDER_WINDOW = 32          # ChunkProcessorConfig.max_reorder_window default
AUDIO_LIMIT = 65_536         # RS2's validation caps
VIDEO_LIMIT = 1_048_576
_TYPE_PRIORITY = (3, 2, 1, 3, 3, 1)   # ChunkType code -> default MediaPriority (RS2)


# --- the table -----------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the table. `ratio` = ours / baseline for rates (higher is better)."""

    id: str
    name: str
    ours: Optional[float]
    baseline: Optional[float]
    unit: str
    ratio: Optional[float]
    target: str
    met: Optional[bool]
    note: str = ""


def _rate_row(row_id: str, name: str, ours: float, base: float, unit: str,
              min_ratio: Optional[float] = None, strict: bool = False, ok: bool = True,
              note: str = "") -> Row:
    """A row of two rates; the target is a minimum ratio (strict: must exceed it)."""
    ratio = ours / base if base else None
    if min_ratio is None:
        target, met = "-", None
    else:
        target = f"> {min_ratio:g}x" if strict else f">= {min_ratio:g}x"
        met = ratio is not None and (ratio > min_ratio if strict else ratio >= min_ratio)
    if not ok:
        met = False
        note = ("RESULT MISMATCH; " + note).rstrip("; ")
    return Row(row_id, name, ours, base, unit, ratio, target, met, note)


def _fmt(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table, notes below it."""
    head = ("id", "name", "ours", "baseline", "unit", "ratio", "target", "met")
    lines = [head]
    for r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "no")
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        lines.append((r.id, r.name, _fmt(r.ours), _fmt(r.baseline), r.unit, ratio, r.target, met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    right = {2, 3, 5}
    out = []
    for n, line in enumerate(lines):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = [f"  {r.id}: {r.note}" for r in rows if r.note]
    if notes:
        out.append("")
        out.append("notes:")
        out.extend(notes)
    return "\n".join(out)


# --- timing --------------------------------------------------------------------------------------

def measure(makers: Mapping[str, Callable[..., Callable[[], Any]]], reps: int) -> Tuple[Dict[str, float], Dict[str, Any]]:
    """Time each variant: `maker()` does the untimed setup and returns the timed callable. One
    warm-up run each, then `reps` rounds in which the variants run alternately. Returns the median
    seconds and the last result of every variant."""
    times: Dict[str, List[float]] = {name: [] for name in makers}
    results: Dict[str, Any] = {}
    for rnd in range(reps + 1):
        for name, maker in makers.items():
            fn = maker()
            gc.collect()
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
            if rnd:
                times[name].append(elapsed)
            results[name] = result
            del fn
    return {name: statistics.median(t) for name, t in times.items()}, results


# --- shared data ---------------------------------------------------------------------------------

@dataclass
class NaiveChunk:
    """The pure-Python baseline's chunk: a plain dataclass with RS2's eight fields."""

    stream_id: str
    sequence_number: int
    data: bytes
    chunk_type: int
    priority: int
    timestamp_ns: int
    is_final: bool
    checksum: Optional[str]


def _gop_type(seq: int) -> int:
    # RS2's GOP rule: every 30th an I-frame (0), else every 3rd a B-frame (2), else a P-frame (1).
    if seq % 30 == 0:
        return 0
    if seq % 3 == 0:
        return 2
    return 1


def naive_split(data: bytes, stream_id: str, size: int, start: int = 0,
                checksum: Optional[Callable[[bytes], str]] = None, mark_final: bool = True) -> List[NaiveChunk]:
    """Bytes slicing into dataclass chunks (types, priorities, timestamps and checksums as ours)."""
    out = []
    total = len(data)
    seq = start
    for offset in range(0, total, size):
        piece = data[offset:offset + size]
        ctype = _gop_type(seq)
        out.append(NaiveChunk(stream_id, seq, piece, ctype, _TYPE_PRIORITY[ctype], seq * FRAME_NS,
                              mark_final and offset + size >= total,
                              checksum(piece) if checksum is not None else None))
        seq += 1
    return out


def _naive_crc32(data: bytes) -> str:
    return "crc32:%08x" % zlib.crc32(data)


def _naive_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _xxh3():
    try:
        import xxhash
    except ImportError:
        return None
    return xxhash.xxh3_64_hexdigest


_NAIVE_LIMITS = {0: VIDEO_LIMIT, 1: VIDEO_LIMIT, 2: VIDEO_LIMIT, 3: AUDIO_LIMIT, 4: None, 5: None}


class NaiveReorder:
    """A dict-based reorder buffer: the baseline for rs2fast's ring ReorderBuffer."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.next = 0
        self.pending: Dict[int, Any] = {}
        self.rejected = 0

    def insert(self, seq: int, item: Any, ready: list) -> int:
        """Buffer `item`; append what became deliverable to `ready`. 0 accepted, else rejected."""
        if seq < self.next or seq in self.pending:
            self.rejected += 1
            return 1
        if seq >= self.next + self.window:
            self.rejected += 1
            return 3
        pending = self.pending
        pending[seq] = item
        nxt = self.next
        while nxt in pending:
            ready.append(pending.pop(nxt))
            nxt += 1
        self.next = nxt
        return 0

    def flush(self, ready: list) -> None:
        """Release everything buffered, in order."""
        for seq in sorted(self.pending):
            ready.append(self.pending.pop(seq))
            self.next = seq + 1


class NaiveProcessor:
    """Validation (RS2's rules) + per-stream dict reorder, in plain Python."""

    def __init__(self, window: int = REORDER_WINDOW, checksum: Optional[Callable[[bytes], str]] = None) -> None:
        self.window = window
        self.checksum = checksum
        self.streams: Dict[str, NaiveReorder] = {}
        self.received = self.invalid = self.delivered = 0

    def valid(self, c: NaiveChunk) -> bool:
        """RS2's validation rules for one chunk."""
        if not c.stream_id or not c.data:
            return False
        limit = _NAIVE_LIMITS[c.chunk_type]
        if limit is not None and len(c.data) > limit:
            return False
        if c.checksum is not None and (self.checksum is None or self.checksum(c.data) != c.checksum):
            return False
        return True

    def process_batch(self, chunks: Sequence[NaiveChunk]) -> list:
        """Validate and reorder a batch; return the ready chunks in order."""
        ready: list = []
        for c in chunks:
            self.received += 1
            if not self.valid(c):
                self.invalid += 1
                continue
            stream = self.streams.get(c.stream_id)
            if stream is None:
                stream = self.streams[c.stream_id] = NaiveReorder(self.window)
            stream.insert(c.sequence_number, c, ready)
        self.delivered += len(ready)
        return ready

    def flush(self) -> list:
        """Release everything buffered."""
        ready: list = []
        for stream in self.streams.values():
            stream.flush(ready)
        self.delivered += len(ready)
        return ready


def local_shuffle(n: int, fraction: float = 0.05, distance: int = 4, seed: int = 5) -> List[int]:
    """0..n-1 with `fraction` of the positions swapped with a neighbour at most `distance` ahead."""
    order = list(range(n))
    if n <= distance + 1:
        return order
    rng = random.Random(seed)
    for i in rng.sample(range(n - distance), int(n * fraction)):
        j = i + rng.randint(1, distance)
        order[i], order[j] = order[j], order[i]
    return order


def _payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def _our_chunks(data: bytes, size: int, checksum: Any = None) -> list:
    from rs2fast._chunk import split_buffer
    return split_buffer(data, "bench", size, checksum=checksum)


# --- reference ceilings --------------------------------------------------------------------------

def ceilings(nbytes: int, reps: int, tmpdir: str) -> Dict[str, float]:
    """memcpy (numpy copy) and page-cache read bandwidth in GB/s: the machine's own ceilings."""
    import numpy as np

    src = np.frombuffer(_payload(min(nbytes, 16 * MIB)), dtype=np.uint8)
    src = np.resize(src, nbytes)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    copies = []
    for _ in range(reps + 1):
        started = time.perf_counter()
        np.copyto(dst, src)
        copies.append(time.perf_counter() - started)
    if not np.array_equal(src[:: 4096], dst[:: 4096]):
        raise AssertionError("numpy copy differs")
    path = os.path.join(tmpdir, "pagecache.bin")
    with open(path, "wb") as f:
        src.tofile(f)
        f.flush()
        os.fsync(f.fileno())
    del src, dst
    buf = bytearray(WINDOW)
    reads = []
    for _ in range(reps + 2):          # the first read fills the page cache; time the later ones
        started = time.perf_counter()
        got = 0
        with open(path, "rb", buffering=0) as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                got += n
        reads.append(time.perf_counter() - started)
        if got != nbytes:
            raise AssertionError("short read")
    os.unlink(path)
    return {"memcpy_GBps": nbytes / statistics.median(copies[1:]) / 1e9,
            "page_cache_read_GBps": nbytes / statistics.median(reads[1:]) / 1e9,
            "bytes": nbytes}


# --- kernels: heap, priority queue -----------------------------------------------------------------

def _ordered_chunks(n: int, seed: int = 11):
    """n one-byte MediaChunks and their NaiveChunk twins, sequence numbers in the same random
    arrival order; both are allocated in arrival order (as a receiver would)."""
    from rs2fast._chunk import MediaChunk, gop_chunk_type

    order = list(range(n))
    random.Random(seed).shuffle(order)
    data = b"x"
    ours = [MediaChunk("bench", seq, data, gop_chunk_type(seq)) for seq in order]
    naive = []
    for seq in order:
        ctype = _gop_type(seq)
        naive.append(NaiveChunk("bench", seq, data, ctype, _TYPE_PRIORITY[ctype], 0, False, None))
    return ours, naive


def bench_heap(n: int, reps: int, want: set) -> List[Row]:
    """K1/K2/T5/T6a: push n chunks then pop them all, per item and in batches."""
    from rs2fast._heap import PriorityHeap
    from rs2fast.priority_queue import MediaPriorityQueue

    ours, naive = _ordered_chunks(n)

    def heap_items():
        heap = PriorityHeap(n)
        push, pop = heap.push_chunk, heap.pop

        def run():
            for c in ours:
                push(c)
            return [pop() for _ in range(n)]
        return run

    batch = 4096
    phases: Dict[str, List[float]] = {"push": [], "pop": []}

    def heap_batch():
        heap = PriorityHeap(batch)

        def run():
            out: list = []
            push = pop = 0.0
            clock = time.perf_counter
            for start in range(0, n, batch):
                t0 = clock()
                heap.push_chunks(ours, start)
                t1 = clock()
                out.extend(heap.pop_batch(batch))
                push += t1 - t0
                pop += clock() - t1
            phases["push"].append(push)
            phases["pop"].append(pop)
            return out
        return run

    def heapq_rounds():
        h: list = []

        def run():
            out: list = []
            push, pop = heapq.heappush, heapq.heappop
            for start in range(0, n, batch):
                for i in range(start, min(start + batch, n)):
                    c = naive[i]
                    push(h, (-c.priority, c.sequence_number, i, c))
                while h:
                    out.append(pop(h)[3])
            return out
        return run

    def heapq_items():
        h: list = []

        def run():
            push, pop = heapq.heappush, heapq.heappop
            for i, c in enumerate(naive):
                push(h, (-c.priority, c.sequence_number, i, c))
            return [pop(h)[3] for _ in range(n)]
        return run

    def pq_items():
        q: queue.PriorityQueue = queue.PriorityQueue()

        def run():
            put, get = q.put, q.get_nowait
            for i, c in enumerate(naive):
                put((-c.priority, c.sequence_number, i, c))
            return [get()[3] for _ in range(n)]
        return run

    def mpq_items():
        q = MediaPriorityQueue(n)

        def run():
            put, get = q.enqueue, q.get_nowait
            for c in ours:
                put(c)
            return [get() for _ in range(n)]
        return run

    makers = {"heapq": heapq_items}
    if want & {"K1", "K2", "T5a", "T5b", "T6a"}:
        makers["pq"] = pq_items
    if want & {"K1", "K2"}:
        makers["heap"] = heap_items
    if want & {"T5a", "T5b"}:
        makers["mpq"] = mpq_items
    if "T6a" in want:
        makers["heap_batch"] = heap_batch
        makers["heapq_rounds"] = heapq_rounds
    secs, res = measure(makers, reps)
    res = {k: [c.sequence_number for c in v] for k, v in res.items()}   # outside the timing
    ref = res["heapq"]
    rate = {k: n / v / 1e6 for k, v in secs.items()}
    rows = []
    unit = "M items/s"
    if "K1" in want:
        rows.append(_rate_row("K1", "PriorityHeap push+pop vs heapq", rate["heap"], rate["heapq"], unit,
                              1, True, res["heap"] == ref, f"{n:,} chunks, random arrival"))
    if "K2" in want:
        rows.append(_rate_row("K2", "PriorityHeap push+pop vs queue.PriorityQueue", rate["heap"], rate["pq"],
                              unit, 1, True, res["heap"] == res["pq"] == ref))
    if "T5a" in want:
        rows.append(_rate_row("T5a", "MediaPriorityQueue enqueue+get_nowait vs heapq", rate["mpq"],
                              rate["heapq"], unit, 2, False, res["mpq"] == ref))
    if "T5b" in want:
        rows.append(_rate_row("T5b", "MediaPriorityQueue vs queue.PriorityQueue", rate["mpq"], rate["pq"],
                              unit, 8, False, res["mpq"] == res["pq"] == ref))
    if "T6a" in want:
        push = n / statistics.median(phases["push"][1:] or phases["push"]) / 1e6
        pop = n / statistics.median(phases["pop"][1:] or phases["pop"]) / 1e6
        row = _rate_row("T6a", "PriorityHeap push_chunks+pop_batch vs heapq", rate["heap_batch"],
                        rate["heapq_rounds"], unit, None, False,
                        res["heap_batch"] == res["heapq_rounds"] and sorted(res["heap_batch"]) == sorted(ref),
                        f"rounds of {batch} in, {batch} out; push {push:.1f} M/s, pop {pop:.1f} M/s; "
                        "target is absolute: >= 20 M items/s")
        row.target, row.met = ">= 20 M/s", row.met is not False and rate["heap_batch"] >= 20
        rows.append(row)
    return rows


# --- kernels: reorder --------------------------------------------------------------------------

def bench_reorder(n: int, reps: int, want: set) -> List[Row]:
    """K3/T6b: a 5 % locally shuffled stream through ReorderBuffer (per item and insert_batch)
    against the dict-based reorder buffer."""
    import numpy as np
    from rs2fast._reorder import ReorderBuffer

    order = local_shuffle(n)
    items = [object() for _ in range(n)]
    arrivals = [(s, items[s]) for s in order]
    seqs = np.array(order, dtype=np.uint64)
    arr_items = [items[s] for s in order]
    batch = 16384

    def ours_items():
        rb = ReorderBuffer(REORDER_WINDOW)

        def run():
            ready: list = []
            ins = rb.insert
            for s, it in arrivals:
                ins(s, it, 0, ready)
            return ready
        return run

    def ours_batch():
        rb = ReorderBuffer(REORDER_WINDOW)
        statuses = np.zeros(n, dtype=np.uint8)

        def run():
            ready: list = []
            for i in range(0, n, batch):
                rb.insert_batch(seqs[i:i + batch], arr_items[i:i + batch], 0, statuses[i:i + batch], ready)
            return ready
        return run

    def naive_items():
        rb = NaiveReorder(REORDER_WINDOW)

        def run():
            ready: list = []
            ins = rb.insert
            for s, it in arrivals:
                ins(s, it, ready)
            return ready
        return run

    makers = {"naive": naive_items}
    if "K3" in want:
        makers["items"] = ours_items
    if "T6b" in want:
        makers["batch"] = ours_batch
    secs, res = measure(makers, reps)
    ok_ref = len(res["naive"]) == n and all(a is b for a, b in zip(res["naive"], items))
    rate = {k: n / v / 1e6 for k, v in secs.items()}
    rows = []
    if "K3" in want:
        ok = ok_ref and len(res["items"]) == n and all(a is b for a, b in zip(res["items"], items))
        rows.append(_rate_row("K3", "ReorderBuffer.insert vs dict reorder", rate["items"], rate["naive"],
                              "M items/s", None, False, ok, "5 % locally shuffled, window 32"))
    if "T6b" in want:
        ok = ok_ref and len(res["batch"]) == n and all(a is b for a, b in zip(res["batch"], items))
        row = _rate_row("T6b", "ReorderBuffer.insert_batch vs dict reorder", rate["batch"], rate["naive"],
                        "M items/s", None, False, ok, f"batches of {batch}; target is absolute: >= 20 M items/s")
        row.target, row.met = ">= 20 M/s", ok and rate["batch"] >= 20
        rows.append(row)
    return rows


# --- kernels: splitting and checksums -------------------------------------------------------------

def bench_split(nbytes: int, reps: int, want: set) -> List[Row]:
    """K4: zero-copy split_buffer (full MediaChunk records) against bytes slicing and the naive
    dataclass split."""
    from rs2fast._chunk import split_buffer

    data = _payload(nbytes)
    size = KIB
    makers = {
        "ours": lambda: (lambda: split_buffer(data, "bench", size)),
        "slices": lambda: (lambda: [data[i:i + size] for i in range(0, nbytes, size)]),
        "naive": lambda: (lambda: naive_split(data, "bench", size)),
    }
    secs, res = measure(makers, reps)
    for key in ("ours", "naive"):          # outside the timing
        res[key] = [c.sequence_number for c in res[key]]
    count = -(-nbytes // size)
    ok = res["ours"] == res["naive"] == list(range(count)) and len(res["slices"]) == count
    ours = count / secs["ours"] / 1e6
    rows = []
    if "K4" in want:
        rows.append(_rate_row("K4", "split_buffer 1 KiB vs bytes slicing", ours, count / secs["slices"] / 1e6,
                              "M chunks/s", None, False, ok,
                              "baseline only slices; ours builds full MediaChunk records (zero-copy)"))
    if "K4b" in want:
        rows.append(_rate_row("K4b", "split_buffer 1 KiB vs naive dataclass split", ours,
                              count / secs["naive"] / 1e6, "M chunks/s", None, False, ok))
    return rows


def bench_checksums(nbytes: int, reps: int, want: set) -> List[Row]:
    """K5..K8: CRC-32C on 64 KiB (and 1 KiB) blocks against zlib.crc32, hashlib.sha256 and xxh3."""
    from rs2fast import _chunk

    data = _payload(nbytes)
    rows = []
    xxh = _xxh3()
    for size, ids in ((64 * KIB, ("K5", "K6", "K7")), (KIB, ("K8",))):
        if not want & set(ids):
            continue
        blocks = [data[i:i + size] for i in range(0, nbytes, size)]
        fns: Dict[str, Callable[[bytes], Any]] = {"ours": _chunk.crc32c, "zlib": zlib.crc32}
        if "K6" in ids and "K6" in want:
            fns["sha256"] = lambda b: hashlib.sha256(b).digest()
        if "K7" in ids and "K7" in want and xxh is not None:
            import xxhash
            fns["xxh3"] = xxhash.xxh3_64_intdigest
        makers = {name: (lambda f=f: (lambda: [f(b) for b in blocks])) for name, f in fns.items()}
        secs, res = measure(makers, reps)
        # Equality: the CRC-32C values against the portable table implementation.
        ok = all(res["ours"][i] == _chunk._crc32c_portable(blocks[i]) for i in range(0, len(blocks), 97))
        ok = ok and len(res["ours"]) == len(res["zlib"])
        gbps = {k: nbytes / v / 1e9 for k, v in secs.items()}
        label = f"{size // KIB} KiB"
        impl = _chunk.CRC32C_IMPLEMENTATION
        if "K5" in ids and "K5" in want:
            rows.append(_rate_row("K5", f"crc32c {label} blocks vs zlib.crc32", gbps["ours"], gbps["zlib"],
                                  "GB/s", 1, True, ok, f"CRC-32C path: {impl}"))
        if "K6" in ids and "K6" in want:
            rows.append(_rate_row("K6", f"crc32c {label} blocks vs hashlib.sha256", gbps["ours"],
                                  gbps["sha256"], "GB/s", None, False, ok))
        if "K7" in ids and "K7" in want:
            if xxh is None:
                rows.append(Row("K7", f"crc32c {label} blocks vs xxh3_64", gbps["ours"], None, "GB/s", None,
                                "-", None, "skipped: xxhash is not importable"))
            else:
                rows.append(_rate_row("K7", f"crc32c {label} blocks vs xxh3_64", gbps["ours"], gbps["xxh3"],
                                      "GB/s", None, False, ok))
        if "K8" in ids and "K8" in want:
            rows.append(_rate_row("K8", f"crc32c {label} blocks vs zlib.crc32", gbps["ours"], gbps["zlib"],
                                  "GB/s", None, False, ok, "per-call overhead dominates at 1 KiB"))
    return rows


# --- T1: 1 KiB chunks through processor and queue ---------------------------------------------------

def _drain_ours(q, sink: list, batch: int) -> int:
    nbytes = 0
    while len(q):
        for c in q.get_batch(batch):
            sink.append(c.sequence_number)
            nbytes += len(c)
    return nbytes


def _drain_naive(h: list, sink: list) -> int:
    nbytes = 0
    pop = heapq.heappop
    while h:
        c = pop(h)[3]
        sink.append(c.sequence_number)
        nbytes += len(c.data)
    return nbytes


def t1_makers(n: int) -> Dict[str, Callable[[], Callable[[], Any]]]:
    """Makers of the T1 pipelines over n 1 KiB chunks, validation on, no checksum, 5 % locally
    shuffled: "ours" (processor -> MediaPriorityQueue -> Python consumer, batches of 256) and
    "naive" (NaiveProcessor -> heapq -> the same consumer); "ours_stream" / "naive_stream" feed
    process_chunk_stream (no queue) and the naive processor one chunk at a time."""
    from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
    from rs2fast.priority_queue import MediaPriorityQueue

    size, batch = KIB, T1_BATCH
    data = _payload(n * size)
    order = local_shuffle(n)
    ours_all = _our_chunks(data, size)
    naive_all = naive_split(data, "bench", size)
    ours = [ours_all[i] for i in order]
    naive = [naive_all[i] for i in order]
    config = ChunkProcessorConfig(parallel_processing=1)

    def ours_t1():
        proc = ChunkProcessor(config)
        q = MediaPriorityQueue(4096)

        def run():
            sink: list = []
            nbytes = 0
            for i in range(0, n, batch):
                q.enqueue_batch(proc.process_batch(ours[i:i + batch]))
                nbytes += _drain_ours(q, sink, batch)
            q.enqueue_batch(proc.flush())
            nbytes += _drain_ours(q, sink, batch)
            stats = proc.get_stats()
            return sink, nbytes, stats.chunks_delivered, stats.chunks_dropped
        return run

    def naive_t1():
        proc = NaiveProcessor()

        def run():
            sink: list = []
            nbytes = 0
            h: list = []
            arrival = 0
            push = heapq.heappush
            for i in range(0, n, batch):
                for c in proc.process_batch(naive[i:i + batch]):
                    push(h, (-c.priority, c.sequence_number, arrival, c))
                    arrival += 1
                nbytes += _drain_naive(h, sink)
            for c in proc.flush():
                push(h, (-c.priority, c.sequence_number, arrival, c))
                arrival += 1
            nbytes += _drain_naive(h, sink)
            return sink, nbytes, proc.delivered, proc.received - proc.delivered
        return run

    def ours_stream():
        proc = ChunkProcessor(config)

        def run():
            sink: list = []
            nbytes = 0
            for c in proc.process_chunk_stream(ours):
                sink.append(c.sequence_number)
                nbytes += len(c)
            return sink, nbytes
        return run

    def naive_stream():
        proc = NaiveProcessor()

        def run():
            sink: list = []
            nbytes = 0
            for c in naive:
                for r in proc.process_batch((c,)):
                    sink.append(r.sequence_number)
                    nbytes += len(r.data)
            for r in proc.flush():
                sink.append(r.sequence_number)
                nbytes += len(r.data)
            return sink, nbytes
        return run

    def ours_kernels():
        # The T1 work built straight from the batch kernels (one stream, so no grouping by
        # stream id): what process_batch + enqueue_batch could reach if they used them.
        import numpy as np
        from rs2fast._chunk import validate_batch
        from rs2fast._heap import PriorityHeap
        from rs2fast._reorder import ReorderBuffer

        rb = ReorderBuffer(REORDER_WINDOW)
        heap = PriorityHeap(4096)
        statuses = np.zeros(batch, dtype=np.uint8)

        def deliver(ready, sink):
            heap.push_chunks(ready)
            nbytes = 0
            for c in heap.pop_batch(len(ready)):
                sink.append(c.sequence_number)
                nbytes += len(c)
            return nbytes

        def run():
            sink: list = []
            nbytes = dropped = 0
            for i in range(0, n, batch):
                part = ours[i:i + batch]
                codes = validate_batch(part)
                if codes.count(0) != len(part):
                    dropped += len(part) - codes.count(0)
                    part = [c for c, code in zip(part, codes) if not code]
                seqs = np.fromiter((c.sequence_number for c in part), dtype=np.uint64, count=len(part))
                ready: list = []
                rb.insert_batch(seqs, part, 0, statuses[:len(part)], ready)
                nbytes += deliver(ready, sink)
            ready = []
            rb.flush(ready)
            nbytes += deliver(ready, sink)
            return sink, nbytes, len(sink), dropped
        return run

    return {"ours": ours_t1, "naive": naive_t1, "ours_stream": ours_stream, "naive_stream": naive_stream,
            "ours_kernels": ours_kernels}


def bench_t1(n: int, reps: int, want: set) -> List[Row]:
    """T1 (processor -> queue -> consumer vs naive) and P3 (process_chunk_stream vs naive)."""
    batch = T1_BATCH
    every = t1_makers(n)
    makers: Dict[str, Callable] = {}
    if "T1" in want:
        makers.update(ours=every["ours"], naive=every["naive"])
    if "P3" in want:
        makers.update(ours_stream=every["ours_stream"], naive_stream=every["naive_stream"])
    if "P5" in want:
        makers.update(ours_kernels=every["ours_kernels"], naive=every["naive"])
    secs, res = measure(makers, reps)
    rows = []
    if "T1" in want:
        ok = res["ours"] == res["naive"] and res["ours"][2] == n and res["ours"][3] == 0
        rows.append(_rate_row("T1", "1 KiB: processor+queue+consumer vs naive", n / secs["ours"] / 1e3,
                              n / secs["naive"] / 1e3, "k chunks/s", 10, False, ok,
                              f"{n:,} chunks, validation on, no checksum, 5 % shuffled, batches of {batch}"))
    if "P3" in want:
        ok = res["ours_stream"] == res["naive_stream"] and sorted(res["ours_stream"][0]) == list(range(n))
        rows.append(_rate_row("P3", "1 KiB: process_chunk_stream (1 worker) vs naive", n / secs["ours_stream"] / 1e3,
                              n / secs["naive_stream"] / 1e3, "k chunks/s", None, False, ok,
                              "no queue; batches of the processor's batch_size (64)"))
    if "P5" in want:
        ok = res["ours_kernels"] == res["naive"] and res["ours_kernels"][2] == n
        rows.append(_rate_row("P5", "1 KiB: T1 from the batch kernels vs naive", n / secs["ours_kernels"] / 1e3,
                              n / secs["naive"] / 1e3, "k chunks/s", None, False, ok,
                              "validate_batch + insert_batch + push_chunks/pop_batch + the same consumer: "
                              "the headroom T1 leaves"))
    return rows


# --- T2..T4: 64 KiB chunks from a page-cached file ---------------------------------------------------

def file_pipeline_ours(path: str, chunk_size: int, checksum: Optional[str], workers: int):
    """Maker: MediaStreamingService.start_file_stream (windows read, split and checksummed by the
    codec's rule on `workers` threads; the processor verifies and reorders; the stream's bounded
    buffer is the queue) and a Python consumer."""
    from rs2fast.chunk_processor import ChunkProcessorConfig
    from rs2fast.codec import EncodingConfig, MediaCodec
    from rs2fast.streaming import MediaStreamingService
    from rs2fast.types import MediaStream, MediaType, QualityLevel

    def make():
        def run():
            sink: list = []
            nbytes = 0
            service = MediaStreamingService(
                1024, codec=MediaCodec(EncodingConfig(checksum=checksum)),
                processor_config=ChunkProcessorConfig(parallel_processing=workers))
            stream = MediaStream("file", 0, MediaType.VIDEO, QualityLevel.HIGH, chunk_size)
            for chunk in service.start_file_stream(path, stream):
                sink.append(chunk.sequence_number)
                nbytes += len(chunk)
            stats = service.processor.get_stats()
            service.shutdown()
            return sink, nbytes, stats.validation_failures + stats.chunks_dropped
        return run
    return make


def file_pipeline_naive(path: str, chunk_size: int, checksum: Callable[[bytes], str]):
    """Maker: the same pipeline in plain Python: bytes slicing into dataclass chunks with
    `checksum`, validation recomputing it, dict reorder, a FIFO queue (as the stream's own buffer
    on our side), the same consumer."""
    window = chunk_size * max(1, WINDOW // chunk_size)

    def make():
        proc = NaiveProcessor(checksum=checksum)

        def run():
            sink: list = []
            fifo: deque = deque()
            nbytes = offset = seq = 0
            with open(path, "rb", buffering=0) as f:
                total = os.fstat(f.fileno()).st_size
                while True:
                    data = f.read(window)
                    if not data:
                        break
                    offset += len(data)
                    chunks = naive_split(data, "file", chunk_size, seq, checksum, offset >= total)
                    seq += len(chunks)
                    fifo.extend(proc.process_batch(chunks))
                    while fifo:
                        c = fifo.popleft()
                        sink.append(c.sequence_number)
                        nbytes += len(c.data)
            for c in proc.flush():
                sink.append(c.sequence_number)
                nbytes += len(c.data)
            return sink, nbytes, proc.invalid
        return run
    return make


def _write_file(path: str, nbytes: int) -> None:
    block = _payload(min(nbytes, 16 * MIB), seed=3)
    with open(path, "wb") as f:
        left = nbytes
        while left > 0:
            piece = block[:left]
            f.write(piece)
            left -= len(piece)
        f.flush()
        os.fsync(f.fileno())
    with open(path, "rb", buffering=0) as f:      # into the page cache
        while f.read(WINDOW):
            pass


def bench_file(nbytes: int, reps: int, want: set, tmpdir: str) -> List[Row]:
    """T2a/T2b/T3/T4/P1/P2: 64 KiB chunks from a page-cached file."""
    size = 64 * KIB
    path = os.path.join(tmpdir, "pipeline.bin")
    _write_file(path, nbytes)
    xxh = _xxh3()
    makers: Dict[str, Callable] = {"naive_zlib": file_pipeline_naive(path, size, _naive_crc32)}
    if want & {"T2a", "T2b", "T3"}:
        makers["crc_1"] = file_pipeline_ours(path, size, "crc32c", 1)
    if "T3" in want:
        makers["crc_2"] = file_pipeline_ours(path, size, "crc32c", 2)
    if "T2a" in want and xxh is not None:
        makers["naive_xxh3"] = file_pipeline_naive(path, size, xxh)
    if want & {"T4", "P1", "P2"}:
        makers["naive_sha"] = file_pipeline_naive(path, size, _naive_sha256)
        makers["sha_2"] = file_pipeline_ours(path, size, "sha256", 2)
    if want & {"P1", "P2"}:
        makers["sha_1"] = file_pipeline_ours(path, size, "sha256", 1)
    try:
        secs, res = measure(makers, reps)
    finally:
        os.unlink(path)
    count = -(-nbytes // size)
    ref = res["naive_zlib"]
    ref_ok = len(ref[0]) == count and sorted(ref[0]) == list(range(count))

    def ok(name: str) -> bool:
        got = res[name]
        return ref_ok and got[0] == ref[0] and got[1] == nbytes and got[2] == 0 and len(got[0]) == count

    gbps = {k: nbytes / v / 1e9 for k, v in secs.items()}
    mib = f"{nbytes // MIB} MiB file"
    rows = []
    if "T2a" in want:
        if xxh is None:
            rows.append(Row("T2a", "64 KiB crc32c 1 worker vs naive xxh3", gbps["crc_1"], None, "GB/s", None,
                            ">= 1x", None, "skipped: xxhash is not importable"))
        else:
            rows.append(_rate_row("T2a", "64 KiB crc32c 1 worker vs naive xxh3", gbps["crc_1"],
                                  gbps["naive_xxh3"], "GB/s", 1, False, ok("crc_1") and ok("naive_xxh3"),
                                  f"{mib}; checksum computed at split and verified by validation"))
    if "T2b" in want:
        rows.append(_rate_row("T2b", "64 KiB crc32c 1 worker vs naive zlib.crc32", gbps["crc_1"],
                              gbps["naive_zlib"], "GB/s", 2.5, False, ok("crc_1")))
    if "T3" in want:
        rows.append(_rate_row("T3", "64 KiB crc32c 2 workers vs 1 worker (T2)", gbps["crc_2"], gbps["crc_1"],
                              "GB/s", 1.6, False, ok("crc_2") and ok("crc_1")))
    if "T4" in want:
        rows.append(_rate_row("T4", "64 KiB sha256 2 workers vs naive sha256", gbps["sha_2"], gbps["naive_sha"],
                              "GB/s", 1.7, False, ok("sha_2") and ok("naive_sha")))
    if "P1" in want:
        rows.append(_rate_row("P1", "64 KiB sha256 1 worker vs naive sha256", gbps["sha_1"], gbps["naive_sha"],
                              "GB/s", None, False, ok("sha_1") and ok("naive_sha")))
    if "P2" in want:
        rows.append(_rate_row("P2", "64 KiB sha256 2 workers vs 1 worker", gbps["sha_2"], gbps["sha_1"],
                              "GB/s", None, False, ok("sha_2") and ok("sha_1")))
    return rows


def pipeline_point(chunk_size: int, nbytes: int, reps: int, tmpdir: str) -> Dict[str, float]:
    """GB/s of the rs2fast (crc32c, 1 worker) and naive (zlib.crc32) file pipelines at one chunk
    size (used by benchmarks/plot.py)."""
    path = os.path.join(tmpdir, f"point-{chunk_size}.bin")
    _write_file(path, nbytes)
    try:
        secs, res = measure({"rs2fast": file_pipeline_ours(path, chunk_size, "crc32c", 1),
                             "naive": file_pipeline_naive(path, chunk_size, _naive_crc32)}, reps)
    finally:
        os.unlink(path)
    if res["rs2fast"][0] != res["naive"][0] or res["rs2fast"][1] != nbytes:
        raise AssertionError(f"pipelines disagree at chunk size {chunk_size}")
    return {k: nbytes / v / 1e9 for k, v in secs.items()}


# --- T7: streaming a big file, peak RSS ---------------------------------------------------------

def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _stream_child(path: str, chunk_size: int) -> None:
    """Subprocess body for T7: stream `path` through MediaStreamingService (default settings) into a
    counting consumer; print JSON with bytes, seconds and the peak RSS growth."""
    from rs2fast.streaming import MediaStreamingService
    from rs2fast.types import MediaStream, MediaType, QualityLevel

    service = MediaStreamingService()
    stream = MediaStream("t7", 1, MediaType.VIDEO, QualityLevel.HIGH, chunk_size)
    gc.collect()
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as f:   # resets VmHWM to the current RSS
            f.write("5")
    except OSError:
        reset = False
    rss_before = _proc_status_kib("VmRSS")
    hwm_before = _proc_status_kib("VmHWM")
    started = time.perf_counter()
    nbytes = count = 0
    last = None
    for chunk in service.start_file_stream(path, stream):
        nbytes += len(chunk)
        count += 1
        last = chunk
    elapsed = time.perf_counter() - started
    hwm_after = _proc_status_kib("VmHWM")
    final_ok = last is not None and last.is_final and last.sequence_number == count - 1
    service.shutdown()
    base = rss_before if reset else max(rss_before, hwm_before)
    print(json.dumps({"bytes": nbytes, "seconds": elapsed, "chunks": count, "final_ok": final_ok,
                      "rss_growth_kib": hwm_after - base, "hwm_reset": reset,
                      "buffer_capacity": service.buffer_capacity}))


def _run_stream_child(path: str, chunk_size: int) -> dict:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from rs2fast._bench import _stream_child; "
            "_stream_child(sys.argv[2], int(sys.argv[3]))")
    done = subprocess.run([sys.executable, "-c", code, _package_parent(), path, str(chunk_size)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"T7 child failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _package_parent() -> str:
    import rs2fast
    return os.path.dirname(os.path.dirname(os.path.abspath(rs2fast.__file__)))


def bench_t7(big: int, reps: int, want: set, tmpdir: str) -> List[Row]:
    """T7a/T7b: peak RSS growth while streaming a `big` file, and its throughput against a 64 MiB
    file (each run in a fresh subprocess, 64 KiB chunks, default service settings)."""
    size = 64 * KIB
    small = 64 * MIB
    small_path = os.path.join(tmpdir, "t7-small.bin")
    big_path = os.path.join(tmpdir, "t7-big.bin")
    _write_file(small_path, small)
    try:
        runs_small = [_run_stream_child(small_path, size) for _ in range(max(reps, 3))]
        if big == small:
            big_path = small_path
        else:
            _write_file(big_path, big)
        runs_big = [_run_stream_child(big_path, size) for _ in range(max(1, min(reps, 3)))]
    finally:
        for p in (small_path, big_path):
            if os.path.exists(p):
                os.unlink(p)
    ok = (all(r["bytes"] == small and r["final_ok"] for r in runs_small)
          and all(r["bytes"] == big and r["final_ok"] for r in runs_big))
    growth = max(r["rss_growth_kib"] for r in runs_big) / KIB
    thr_small = statistics.median(small / r["seconds"] / 1e9 for r in runs_small)
    thr_big = statistics.median(big / r["seconds"] / 1e9 for r in runs_big)
    label = f"{big / GIB:g} GiB" if big >= GIB else f"{big // MIB} MiB"
    rows = []
    if "T7a" in want:
        note = (f"{len(runs_big)} run(s); buffer_capacity {runs_big[0]['buffer_capacity']} chunks; "
                + ("VmHWM reset via clear_refs" if runs_big[0]["hwm_reset"] else "VmHWM not resettable"))
        rows.append(Row("T7a", f"stream {label} file: peak RSS growth", growth, None, "MiB", None,
                        "<= 64 MiB", ok and growth <= 64, note if ok else "RESULT MISMATCH; " + note))
    if "T7b" in want:
        rows.append(_rate_row("T7b", f"stream {label} vs 64 MiB file throughput", thr_big, thr_small, "GB/s",
                              0.9, False, ok, "MediaStreamingService.start_file_stream, 64 KiB chunks"))
    return rows


# --- T8: import time ---------------------------------------------------------------------------

def bench_import(reps: int, want: set) -> List[Row]:
    """T8: `import rs2fast` in a fresh interpreter (median); P4 for the streaming service module."""
    rows = []

    def timed(stmt: str) -> float:
        code = (f"import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); {stmt}; "
                "print(time.perf_counter() - t)")
        samples = []
        for _ in range(max(reps, 5)):
            out = subprocess.run([sys.executable, "-c", code, _package_parent()], capture_output=True,
                                 text=True, check=True).stdout
            samples.append(float(out.strip()) * 1e3)
        return statistics.median(samples)

    if "T8" in want:
        ms = timed("import rs2fast")
        rows.append(Row("T8", "import rs2fast (fresh interpreter)", ms, None, "ms", None, "<= 50 ms", ms <= 50))
    if "P4" in want:
        ms = timed("import rs2fast.streaming")
        rows.append(Row("P4", "import rs2fast.streaming (fresh interpreter)", ms, None, "ms", None, "-", None,
                        "the whole library (codec, processor, queue, events, numpy)"))
    return rows


# --- T9: container ingest against bare PyAV demux --------------------------------------------------

def bench_container(reps: int, want: set, work: str, seconds: float) -> List[Row]:
    """T9: container ingest (bitstream typing, CRC-32C, queue, consumer) against a bare PyAV demux
    loop over the same generated 640x360 H.264+AAC clip, in packets per second."""
    from rs2fast.av_codec import av_available, generate_clip
    if not av_available():
        return [Row("T9", "container ingest vs bare PyAV demux", None, None, "k packets/s", None,
                    "<= 15 % overhead", None, "skipped: the av extra is not installed")]
    import av

    from rs2fast.container import ContainerReader
    from rs2fast.priority_queue import MediaPriorityQueue

    path = os.path.join(work, "clip.mp4")
    with open(path, "wb") as f:
        f.write(generate_clip(seconds, 640, 360, video_bitrate=1_500_000))

    def bare():
        def run():
            with av.open(path) as container:
                sizes = [packet.size for packet in container.demux() if packet.size]
            return len(sizes), sum(sizes)
        return run

    def ours():
        def run():
            queue = MediaPriorityQueue(4096)
            count = total = 0
            with ContainerReader(path, "clip", 1 << 20, checksum="crc32c") as reader:
                for batch in reader:
                    queue.enqueue_batch(batch)
                    for chunk in queue.get_batch(len(batch)):
                        count += 1
                        total += len(chunk)
            return count, total
        return run

    secs, res = measure({"ours": ours, "bare": bare}, reps)
    packets = res["bare"][0]
    overhead = secs["ours"] / secs["bare"] - 1
    return [_rate_row("T9", "container ingest vs bare PyAV demux", packets / secs["ours"] / 1e3,
                      packets / secs["bare"] / 1e3, "k packets/s", 0.87, False,
                      res["ours"] == res["bare"],
                      f"{seconds:g} s 640x360 H.264+AAC clip, {packets:,} packets; overhead "
                      f"{overhead:+.0%} (target <= 15 %, i.e. ratio >= 0.87)")]


# --- driver ------------------------------------------------------------------------------------

ALL_ROWS = ("K1", "K2", "K3", "K4", "K4b", "K5", "K6", "K7", "K8", "T1", "T2a", "T2b", "T3", "T4",
            "T5a", "T5b", "T6a", "T6b", "T7a", "T7b", "T8", "T9", "P1", "P2", "P3", "P4", "P5")


def select_rows(spec: Optional[str]) -> set:
    """Row ids chosen by a comma-separated list of ids or prefixes (None: all)."""
    if not spec:
        return set(ALL_ROWS)
    chosen = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        hits = {r for r in ALL_ROWS if r == part or r.startswith(part)}
        if not hits:
            raise SystemExit(f"unknown row {part!r}; rows are {', '.join(ALL_ROWS)}")
        chosen |= hits
    return chosen


def _parse_size(text: str) -> int:
    text = text.strip().upper().rstrip("B").rstrip("I")
    scale = {"K": KIB, "M": MIB, "G": GIB}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "KMG" else text
    return int(float(number) * scale)


def machine_info() -> Dict[str, Any]:
    """What ran the table: CPU, cores, Python, rs2fast version and CRC-32C code path."""
    import rs2fast
    from rs2fast import _chunk
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "rs2fast": rs2fast.__version__, "crc32c_path": _chunk.CRC32C_IMPLEMENTATION,
            "xxhash": _xxh3() is not None, "load_average_1min": load}


def run(quick: bool = False, rows_spec: Optional[str] = None, reps: Optional[int] = None,
        t7_size: Optional[int] = None, tmpdir: Optional[str] = None, out=sys.stdout) -> dict:
    """Run the selected benchmarks, print the table to `out`, return it as a dict."""
    want = select_rows(rows_spec)
    reps = reps if reps is not None else (2 if quick else 5)
    big = t7_size if t7_size is not None else (64 * MIB if quick else GIB)
    sizes = {
        "items": 20_000 if quick else 200_000,
        "t1": 20_000 if quick else 200_000,
        "split": 4 * MIB if quick else 32 * MIB,
        "crc": 16 * MIB if quick else 128 * MIB,
        "file": 16 * MIB if quick else 256 * MIB,
        "ceiling": 64 * MIB if quick else 256 * MIB,
    }
    work = tempfile.mkdtemp(prefix="rs2fast-bench-", dir=tmpdir)
    info = machine_info()
    started = time.perf_counter()
    rows: List[Row] = []
    try:
        ceil = ceilings(sizes["ceiling"], reps, work)
        print(f"rs2fast {info['rs2fast']} on {info['cpu']} ({info['cores']} cores), Python {info['python']}, "
              f"CRC-32C path {info['crc32c_path']}, {'quick' if quick else 'full'} run, "
              f"median of {reps} after 1 warm-up, load average {info['load_average_1min']} at start",
              file=out)
        print(f"ceilings: memcpy {ceil['memcpy_GBps']:.1f} GB/s (numpy copy of {ceil['bytes'] // MIB} MiB), "
              f"page-cache read {ceil['page_cache_read_GBps']:.1f} GB/s", file=out)
        print("", file=out, flush=True)
        groups = (
            ({"K1", "K2", "T5a", "T5b", "T6a"}, lambda w: bench_heap(sizes["items"], reps, w)),
            ({"K3", "T6b"}, lambda w: bench_reorder(sizes["items"] * 5, reps, w)),
            ({"K4", "K4b"}, lambda w: bench_split(sizes["split"], reps, w)),
            ({"K5", "K6", "K7", "K8"}, lambda w: bench_checksums(sizes["crc"], reps, w)),
            ({"T1", "P3", "P5"}, lambda w: bench_t1(sizes["t1"], reps, w)),
            ({"T2a", "T2b", "T3", "T4", "P1", "P2"}, lambda w: bench_file(sizes["file"], reps, w, work)),
            ({"T7a", "T7b"}, lambda w: bench_t7(big, reps, w, work)),
            ({"T8", "P4"}, lambda w: bench_import(reps, w)),
            ({"T9"}, lambda w: bench_container(reps, w, work, 4 if quick else 20)),
        )
        for ids, fn in groups:
            chosen = want & ids
            if chosen:
                rows.extend(fn(chosen))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rank = {r: i for i, r in enumerate(ALL_ROWS)}
    rows.sort(key=lambda r: rank[r.id])
    print(format_table(rows), file=out)
    elapsed = time.perf_counter() - started
    print(f"\n{sum(r.met is True for r in rows)} of {sum(r.met is not None for r in rows)} targets met "
          f"in {elapsed:.0f} s", file=out)
    return {"machine": info, "ceilings": ceil, "quick": quick, "repetitions": reps, "sizes": sizes,
            "t7_bytes": big, "seconds": elapsed, "rows": [asdict(r) for r in rows]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line of compare.py / `python -m rs2fast bench`."""
    parser = argparse.ArgumentParser(description="rs2fast against plain-Python baselines, side by side")
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 repetitions (< 60 s)")
    parser.add_argument("--rows", help=f"comma-separated row ids or prefixes, from {','.join(ALL_ROWS)}")
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON to PATH")
    parser.add_argument("--reps", type=int, help="repetitions per measurement (default 5, quick 2)")
    parser.add_argument("--t7-size", type=_parse_size, metavar="SIZE",
                        help="file size for T7, e.g. 1G or 256M (default 1G, quick 64M)")
    parser.add_argument("--tmpdir", help="where the temporary files go (default: the system's)")
    args = parser.parse_args(argv)
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    table = run(args.quick, args.rows, args.reps, args.t7_size, args.tmpdir)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=2)
            f.write("\n")
    return 0
