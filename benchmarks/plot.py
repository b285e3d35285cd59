"""Plot file-pipeline throughput against chunk size (1 KiB ... 1 MiB) for rs2fast and the naive
pure-Python pipeline, to a PNG.

    python benchmarks/plot.py [--out throughput.png] [--mib 64] [--reps 3] [--quick]

Both pipelines read a page-cached file in 4 MiB windows, split it into chunks with a checksum
(rs2fast: CRC-32C, naive: zlib.crc32), verify it, reorder, queue and consume (see rows_pipelines.py,
row T2b). matplotlib is needed for the picture (it is not a dependency of rs2fast).
"""
import argparse
import os
import shutil
import sys
import tempfile

SIZES = [1 << k for k in range(10, 21)]  # 1 KiB ... 1 MiB


def _label(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"


def main(argv=None) -> int:
    """Measure every chunk size, print the figures, write the PNG."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="throughput.png", help="PNG to write (default throughput.png)")
    parser.add_argument("--mib", type=int, default=64, help="file size per point in MiB (default 64)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per point, median (default 3)")
    parser.add_argument("--quick", action="store_true", help="8 MiB per point, 1 repetition")
    args = parser.parse_args(argv)
    try:
        import matplotlib
    except ImportError:
        print("plot.py needs matplotlib, which is not installed (it is not an rs2fast dependency): "
              "pip install matplotlib", file=sys.stderr)
        return 2
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rs2fast import __version__
    from benchmarks.baselines import MIB
    from benchmarks.rows_pipelines import pipeline_point
    from benchmarks.table import machine_info

    nbytes = (8 if args.quick else args.mib) * MIB
    reps = 1 if args.quick else args.reps
    work = tempfile.mkdtemp(prefix="rs2fast-plot-")
    points = []
    try:
        for size in SIZES:
            gbps = pipeline_point(size, nbytes, reps, work)
            points.append((size, gbps["rs2fast"], gbps["naive"]))
            print(f"{_label(size):>8}  rs2fast {gbps['rs2fast']:6.2f} GB/s  naive {gbps['naive']:6.2f} GB/s  "
                  f"{gbps['rs2fast'] / gbps['naive']:5.1f}x", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    info = machine_info()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label="rs2fast (CRC-32C, 1 worker)")
    ax.plot([p[0] for p in points], [p[2] for p in points], "s--", label="naive Python (zlib.crc32)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(SIZES)
    ax.set_xticklabels([_label(s) for s in SIZES], rotation=45)
    ax.set_xlabel("chunk size")
    ax.set_ylabel("throughput (GB/s)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"File -> chunks -> verify -> reorder -> queue -> consumer ({nbytes >> 20} MiB, page-cached)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.text(0.01, 0.01, f"rs2fast {__version__}, {info['cpu']}, {info['cores']} cores, Python {info['python']}",
             fontsize=7, alpha=0.7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    # Run as a script from a checkout: the checkout (and its in-place build) comes first.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
