"""The package surface: every public name resolves, and `import rs2fast` stays light."""
import subprocess
import sys
from pathlib import Path

import pytest

import rs2fast


def test_every_public_name_resolves_and_has_a_docstring():
    for name in rs2fast.__all__:
        value = getattr(rs2fast, name)
        assert getattr(value, "__doc__", None), f"{name} has no docstring"
    assert set(rs2fast.__all__) <= set(dir(rs2fast))
    with pytest.raises(AttributeError):
        rs2fast.no_such_name


def test_version_matches_pyproject():
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert f'version = "{rs2fast.__version__}"' in text


def test_import_loads_no_heavy_modules():
    code = ("import sys, rs2fast; heavy = {'numpy', 'av', 'asyncio', 'rs2fast.streaming'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_marker_ships():
    assert (Path(rs2fast.__file__).parent / "py.typed").exists()
