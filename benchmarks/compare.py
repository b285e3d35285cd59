"""Side-by-side benchmark table: rs2fast against plain-Python baselines, in one run, on the same data.

    python benchmarks/compare.py [--quick] [--rows U,T1] [--json PATH] [--t7-size 1G]

Run it from a checkout (an in-place build of the checkout is used when there is one). It prints one
row per comparison: id, name, ours, baseline, unit, ratio, target, met. Both sides of a row do the
same work on the same input, are warmed up once, run alternately, and are reported as medians of
several repetitions; their outputs are compared and a mismatch fails the row. The machine's memcpy and
page-cache read bandwidth are printed first as the ceilings.

Row ids: K1..K8 kernels (heap, reorder, split, checksums; rows_kernels.py), T1..T9 the library's
targets and P1..P5 extra pipeline rows (rows_pipelines.py), U1..U8 the per-item loops a user writes
over the public API (rows_user.py), R1..R3 Redis Streams on a loopback server (redis_rows.py).
`--rows` takes ids or prefixes (T5 selects T5a and T5b; U every user-path row).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from typing import List, Optional, Sequence

if __name__ == "__main__":
    # Run as a script from a checkout: the checkout (and its in-place build) comes first.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.baselines import GIB, KIB, MIB  # noqa: E402
from benchmarks.rows_kernels import bench_checksums, bench_heap, bench_reorder, bench_split  # noqa: E402
from benchmarks.rows_pipelines import (bench_container, bench_file, bench_import, bench_t1,  # noqa: E402
                                       bench_t7)
from benchmarks.rows_user import bench_user  # noqa: E402
from benchmarks.table import Row, ceilings, format_table, machine_info, rate_row  # noqa: E402


ALL_ROWS = ("K1", "K2", "K3", "K4", "K4b", "K5", "K6", "K7", "K8", "T1", "T2a", "T2b", "T3", "T4",
            "T5a", "T5b", "T6a", "T6b", "T7a", "T7b", "T8", "T9", "U1", "U2", "U3", "U4", "U5", "U6", "U7",
            "U8a", "U8b", "R1", "R2", "R3", "P1", "P2", "P3", "P4", "P5")


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


def bench_redis(quick: bool, want: set) -> List[Row]:
    """R1-R3 (benchmarks/redis_rows.py) on a loopback redis-server; skipped, with the reason, when
    redis-py or redis-server is missing."""
    try:
        from benchmarks.redis_rows import redis_rows
        measured = redis_rows(quick)
    except Exception as error:     # no redis-py, no redis-server, or it would not start
        return [Row(row_id, "Redis Streams (skipped)", None, None, "", None, "-", None,
                    f"skipped: {error}") for row_id in sorted(want)]
    return [rate_row(row_id, name, ours, base, unit, REDIS_TARGETS.get(row_id))
            for row_id, name, ours, base, unit, _ in measured if row_id in want]


REDIS_TARGETS = {"R1": 5.0}


def _parse_size(text: str) -> int:
    text = text.strip().upper().rstrip("B").rstrip("I")
    scale = {"K": KIB, "M": MIB, "G": GIB}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "KMG" else text
    return int(float(number) * scale)


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
        "user": 8 * MIB if quick else 64 * MIB,
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
            ({"U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8a", "U8b"},
             lambda w: bench_user(sizes["user"], reps, w, work, ceil["page_cache_read_GBps"])),
            ({"R1", "R2", "R3"}, lambda w: bench_redis(quick, w)),
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
    """The command line of compare.py."""
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


if __name__ == "__main__":
    sys.exit(main())
