"""rs2fast's benchmarks, run from a checkout.

- `compare.py`: the side-by-side table against plain-Python baselines (`python benchmarks/compare.py
  --quick`); its rows live in rows_kernels.py, rows_pipelines.py and rows_user.py, the plain-Python
  side in baselines.py, the table layout, timing and ceilings in table.py.
- `bench_*.py`: the asv suite (`asv run` from the repository root, configured by asv.conf.json there).
- `plot.py`: throughput against chunk size, as a PNG.

Under `asv run -E existing:same` nothing is installed: if rs2fast is not importable, the checkout one
level up (an in-place build) is put on sys.path.
"""
import os
import sys

try:
    import rs2fast  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
