"""The table itself: rows, their text layout, the timing loop and the machine's ceilings."""
from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from benchmarks.baselines import MIB, WINDOW, payload, xxh3_hexdigest


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


def rate_row(row_id: str, name: str, ours: float, base: float, unit: str,
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


def ceilings(nbytes: int, reps: int, tmpdir: str) -> Dict[str, float]:
    """memcpy (numpy copy) and page-cache read bandwidth in GB/s: the machine's own ceilings."""
    import numpy as np

    src = np.frombuffer(payload(min(nbytes, 16 * MIB)), dtype=np.uint8)
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
            "xxhash": xxh3_hexdigest() is not None, "load_average_1min": load}
