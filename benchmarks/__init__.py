"""asv benchmarks of rs2fast: kernels against heapq, queue.PriorityQueue, a dict reorder buffer,
bytes slicing, zlib and hashlib, and small end-to-end pipelines against a naive pure-Python one.

Under `asv run -E existing:same` nothing is installed: if rs2fast is not importable, the checkout
two levels up (an in-place build) is put on sys.path.
"""
import os
import sys

try:
    import rs2fast  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
