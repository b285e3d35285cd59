"""Side-by-side table: rs2fast against heapq, queue.PriorityQueue, a dict reorder buffer, bytes
slicing, zlib.crc32, hashlib and a naive pure-Python pipeline, in one run, on the same data.

    python benchmarks/compare.py [--quick] [--rows T1,T5] [--json PATH] [--t7-size 1G]

The benchmark logic lives in rs2fast/_bench.py (so `python -m rs2fast bench` runs the same table).
"""
import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.exists(os.path.join(_REPO, "rs2fast", "__init__.py")):
    sys.path.insert(0, _REPO)  # an in-place build of this checkout wins over an installed copy

from rs2fast._bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
