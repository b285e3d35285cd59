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


def test_py_typed_marker_and_top_level_stub_ship():
    assert (Path(rs2fast.__file__).parent / "py.typed").exists()
    assert (Path(rs2fast.__file__).parent / "__init__.pyi").exists()


# --- distribution metadata ------------------------------------------------------------------------

ROOT = Path(__file__).parent.parent


def pyproject():
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_spdx_with_the_apache_text_shipped():
    project = pyproject()["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in project["classifiers"])
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_classifiers_cover_the_python_versions_built():
    project = pyproject()["project"]
    versions = {c.rsplit(" ", 1)[-1] for c in project["classifiers"]
                if c.startswith("Programming Language :: Python :: 3.")}
    assert versions == {"3.10", "3.11", "3.12", "3.13"}
    assert project["requires-python"] == ">=3.10"
    assert any(c.startswith("Development Status ::") for c in project["classifiers"])
    assert any(c.startswith("Operating System ::") for c in project["classifiers"])
    assert project["urls"]["Source"].startswith("https://")
    build = pyproject()["tool"]["cibuildwheel"]["build"].split()
    assert build == [f"cp3{minor}-*" for minor in (10, 11, 12, 13)]


def test_extras_install_what_their_code_imports():
    extras = pyproject()["project"]["optional-dependencies"]
    names = {extra: {requirement.split(">")[0].split("=")[0] for requirement in requirements}
             for extra, requirements in extras.items()}
    assert {"asv", "xxhash"} <= names["bench"]
    assert {"redis", "hiredis"} <= names["redis"]
    assert {"pytest", "hypothesis", "mypy"} <= names["test"]


def test_the_sdist_manifest_carries_what_the_tests_need():
    lines = (ROOT / "MANIFEST.in").read_text().splitlines()
    assert {"graft tests", "graft examples"} <= set(lines)
    include = next(line for line in lines if line.startswith("recursive-include rs2fast"))
    assert all(pattern in include.split() for pattern in ("*.pyx", "*.pxd", "*.pxi", "*.pyi", "*.h"))
    package_data = pyproject()["tool"]["setuptools"]["package-data"]["rs2fast"]
    assert {"*.pyx", "*.pxd", "*.pxi", "*.pyi", "*.h", "py.typed"} <= set(package_data)
