"""Kernel rows: K1..K8 (heap, reorder, split, checksums) and the kernel targets T5 and T6."""
from __future__ import annotations

import hashlib
import heapq
import queue
import statistics
import time
import zlib
from typing import Any, Callable, Dict, List

from benchmarks.baselines import (KIB, REORDER_WINDOW, NaiveReorder, local_shuffle, naive_split,
                                  ordered_chunks, payload, xxh3_hexdigest)
from benchmarks.table import Row, measure, rate_row


def bench_heap(n: int, reps: int, want: set) -> List[Row]:
    """K1/K2/T5/T6a: push n chunks then pop them all, per item and in batches."""
    from rs2fast._heap import PriorityHeap
    from rs2fast.priority_queue import MediaPriorityQueue

    ours, naive = ordered_chunks(n)

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
        rows.append(rate_row("K1", "PriorityHeap push+pop vs heapq", rate["heap"], rate["heapq"], unit,
                              1, True, res["heap"] == ref, f"{n:,} chunks, random arrival"))
    if "K2" in want:
        rows.append(rate_row("K2", "PriorityHeap push+pop vs queue.PriorityQueue", rate["heap"], rate["pq"],
                              unit, 1, True, res["heap"] == res["pq"] == ref))
    if "T5a" in want:
        rows.append(rate_row("T5a", "MediaPriorityQueue enqueue+get_nowait vs heapq", rate["mpq"],
                              rate["heapq"], unit, 2, False, res["mpq"] == ref))
    if "T5b" in want:
        rows.append(rate_row("T5b", "MediaPriorityQueue vs queue.PriorityQueue", rate["mpq"], rate["pq"],
                              unit, 8, False, res["mpq"] == res["pq"] == ref))
    if "T6a" in want:
        push = n / statistics.median(phases["push"][1:] or phases["push"]) / 1e6
        pop = n / statistics.median(phases["pop"][1:] or phases["pop"]) / 1e6
        row = rate_row("T6a", "PriorityHeap push_chunks+pop_batch vs heapq", rate["heap_batch"],
                        rate["heapq_rounds"], unit, None, False,
                        res["heap_batch"] == res["heapq_rounds"] and sorted(res["heap_batch"]) == sorted(ref),
                        f"rounds of {batch} in, {batch} out; push {push:.1f} M/s, pop {pop:.1f} M/s; "
                        "target is absolute: >= 20 M items/s")
        row.target, row.met = ">= 20 M/s", row.met is not False and rate["heap_batch"] >= 20
        rows.append(row)
    return rows


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
        rows.append(rate_row("K3", "ReorderBuffer.insert vs dict reorder", rate["items"], rate["naive"],
                              "M items/s", None, False, ok, "5 % locally shuffled, window 32"))
    if "T6b" in want:
        ok = ok_ref and len(res["batch"]) == n and all(a is b for a, b in zip(res["batch"], items))
        row = rate_row("T6b", "ReorderBuffer.insert_batch vs dict reorder", rate["batch"], rate["naive"],
                        "M items/s", None, False, ok, f"batches of {batch}; target is absolute: >= 20 M items/s")
        row.target, row.met = ">= 20 M/s", ok and rate["batch"] >= 20
        rows.append(row)
    return rows


def bench_split(nbytes: int, reps: int, want: set) -> List[Row]:
    """K4: zero-copy split_buffer (full MediaChunk records) against bytes slicing and the naive
    dataclass split."""
    from rs2fast._chunk import split_buffer

    data = payload(nbytes)
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
        rows.append(rate_row("K4", "split_buffer 1 KiB vs bytes slicing", ours, count / secs["slices"] / 1e6,
                              "M chunks/s", None, False, ok,
                              "baseline only slices; ours builds full MediaChunk records (zero-copy)"))
    if "K4b" in want:
        rows.append(rate_row("K4b", "split_buffer 1 KiB vs naive dataclass split", ours,
                              count / secs["naive"] / 1e6, "M chunks/s", None, False, ok))
    return rows


def bench_checksums(nbytes: int, reps: int, want: set) -> List[Row]:
    """K5..K8: CRC-32C on 64 KiB (and 1 KiB) blocks against zlib.crc32, hashlib.sha256 and xxh3."""
    from rs2fast import _chunk

    data = payload(nbytes)
    rows = []
    xxh = xxh3_hexdigest()
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
            rows.append(rate_row("K5", f"crc32c {label} blocks vs zlib.crc32", gbps["ours"], gbps["zlib"],
                                  "GB/s", 1, True, ok, f"CRC-32C path: {impl}"))
        if "K6" in ids and "K6" in want:
            rows.append(rate_row("K6", f"crc32c {label} blocks vs hashlib.sha256", gbps["ours"],
                                  gbps["sha256"], "GB/s", None, False, ok))
        if "K7" in ids and "K7" in want:
            if xxh is None:
                rows.append(Row("K7", f"crc32c {label} blocks vs xxh3_64", gbps["ours"], None, "GB/s", None,
                                "-", None, "skipped: xxhash is not importable"))
            else:
                rows.append(rate_row("K7", f"crc32c {label} blocks vs xxh3_64", gbps["ours"], gbps["xxh3"],
                                      "GB/s", None, False, ok))
        if "K8" in ids and "K8" in want:
            rows.append(rate_row("K8", f"crc32c {label} blocks vs zlib.crc32", gbps["ours"], gbps["zlib"],
                                  "GB/s", None, False, ok, "per-call overhead dominates at 1 KiB"))
    return rows
