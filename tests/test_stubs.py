"""The hand-written .pyi stubs of the C extensions agree with the compiled modules (mypy.stubtest)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import rs2fast

# The package's own directory: the source tree here, or site-packages when testing an installed wheel.
EXTENSIONS = sorted(p.stem for p in Path(rs2fast.__file__).parent.glob("_*.pyx"))


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy is not installed (it comes with the test extra: pip install -e '.[test]')")
def test_stubs_match_the_compiled_extensions(tmp_path):
    allowlist = Path(__file__).with_name("stubtest_allowlist.txt")
    config = tmp_path / "mypy.ini"   # the package's Python modules are read, not checked, here
    config.write_text("[mypy]\nfollow_imports = silent\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", *(f"rs2fast.{name}" for name in EXTENSIONS),
         "--allowlist", str(allowlist), "--mypy-config-file", str(config)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(EXTENSIONS) >= 4
