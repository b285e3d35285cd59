"""The README's Python examples run as written."""
import re
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "movie.bin").write_bytes(bytes(range(256)) * 1000)
    received = []
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"handle": received.append})
    out = capsys.readouterr().out
    assert received or out       # each block either hands chunks to `handle` or prints
