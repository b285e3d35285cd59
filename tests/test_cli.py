"""The `rs2fast` command line: demo, stream, consume (without a server), and its errors."""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from rs2fast import __main__ as cli
from rs2fast.__main__ import main, parse_size, render_progress

ROOT = Path(__file__).resolve().parent.parent


def subprocess_env() -> dict:
    """The environment for `python -m rs2fast` runs: this checkout first on the import path."""
    paths = [str(ROOT), os.environ.get("PYTHONPATH")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, paths)))


def write(path: Path, size: int, seed: int = 1) -> Path:
    path.write_bytes(bytes((i * 7 + seed) % 251 for i in range(size)))
    return path


def run_json(capsys, *argv) -> tuple[int, dict, dict]:
    code = main(["stream", *argv, "--json"])
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines()]
    by_kind = {record.pop("record"): record for record in records}
    assert set(by_kind) == {"metrics", "summary"}
    return code, by_kind["metrics"], by_kind["summary"]


# --- argument parsing -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, size", [("1", 1), ("65536", 65536), ("64K", 65536), ("64k", 65536),
                                        ("64KiB", 65536), ("1M", 1 << 20), ("2MiB", 2 << 20),
                                        ("64M", 64 << 20), ("4096B", 4096), ("1_024", 1024)])
def test_parse_size_accepts_bytes_and_binary_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0", "-1", "abc", "12Q", "1.5M", "", "K", "65M", str((64 << 20) + 1),
                                  "1G"])
def test_parse_size_rejects_bad_sizes(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)


@given(st.integers(min_value=1, max_value=64 << 20))
def test_parse_size_round_trips_plain_numbers(size):
    assert parse_size(str(size)) == size
    if size % 1024 == 0:
        assert parse_size(f"{size // 1024}K") == size


# --- progress bar --------------------------------------------------------------------------------

@given(done=st.integers(min_value=0, max_value=1 << 40), extra=st.integers(min_value=0, max_value=1 << 40),
       elapsed=st.floats(min_value=0, max_value=1e6), width=st.integers(min_value=2, max_value=300))
def test_progress_line_fits_the_terminal(done, extra, elapsed, width):
    line = render_progress(done, done + extra, elapsed, width)
    assert len(line) == width - 1
    assert "\n" not in line and "\r" not in line


def test_progress_line_shows_percentage_bytes_rate_and_eta():
    line = render_progress(16 << 20, 64 << 20, 2.0, 100)
    assert line.startswith(" 25.0% |")
    assert "16.0 MiB/64.0 MiB" in line
    assert "8.0 MiB/s" in line
    assert "ETA 0:00:06" in line
    assert line.count("#") == int(line.index("|", 8) - line.index("|") - 1) // 4
    assert "ETA 0:00:00" in render_progress(10, 10, 1.0, 100)
    assert "100.0%" in render_progress(0, 0, 0.0, 100)
    assert "ETA --:--:--" in render_progress(0, 10, 0.0, 100)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_only_on_a_terminal():
    quiet = io.StringIO()
    bar = cli.ProgressBar(100, quiet, interval=0.0)
    bar.update(50)
    bar.close()
    assert quiet.getvalue() == ""

    terminal = FakeTerminal()
    bar = cli.ProgressBar(100, terminal, interval=0.0)
    bar.update(50)
    bar.update(100)
    bar.close()
    bar.close()                           # closing twice writes nothing more
    text = terminal.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert " 50.0%" in text and "100.0%" in text


# --- stream --------------------------------------------------------------------------------------

def test_stream_prints_a_summary(tmp_path, capsys):
    path = write(tmp_path / "clip.bin", 300_000)
    assert main(["stream", str(path), "--chunk-size", "64K"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""             # not a terminal: no progress bar
    lines = captured.out.splitlines()
    assert lines[0].startswith(f"streamed {path}: 5 chunks, 300,000 bytes (293.0 KiB) in ")
    assert lines[0].endswith(" MiB/s")
    assert "  chunk size      65,536 bytes" in captured.out
    assert "  integrity       5/5 crc32c checksums verified" in captured.out
    assert "  chunks by type  VIDEO_B_FRAME 1, VIDEO_I_FRAME 1, VIDEO_P_FRAME 3" in captured.out
    assert re.search(r"metrics\s+processed 5 chunks, 300,000 bytes, average 60,000 bytes, dropped 0",
                     captured.out)
    assert re.search(r"events\s+.*StreamStarted 1, StreamStopped 1", captured.out)


def test_stream_json_lines(tmp_path, capsys):
    path = write(tmp_path / "clip.bin", 1_000_000)
    code, metrics, summary = run_json(capsys, str(path), "--chunk-size", "100000", "--checksum",
                                      "sha256", "--workers", "3")
    assert code == 0
    assert metrics["stream_id"] == "clip.bin"
    assert metrics["chunks_processed"] == 10 and metrics["bytes_processed"] == 1_000_000
    assert metrics["dropped_chunks"] == 0
    assert summary["chunks"] == 10 and summary["bytes"] == summary["size"] == 1_000_000
    assert summary["checksum"] == "sha256" and summary["workers"] == 3
    assert summary["chunk_size"] == 100_000
    assert summary["complete"] is True and summary["validation_failures"] == 0
    assert summary["chunks_by_type"] == {"VIDEO_B_FRAME": 3, "VIDEO_I_FRAME": 1, "VIDEO_P_FRAME": 6}
    assert summary["events"]["StreamStarted"] == 1 and summary["events"]["StreamStopped"] == 1


@given(size=st.integers(min_value=0, max_value=120_000), chunk=st.integers(min_value=300, max_value=70_000),
       checksum=st.sampled_from(["crc32c", "sha256", "none"]))
def test_stream_delivers_every_byte_in_ceil_size_over_chunk_chunks(size, chunk, checksum):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "data", size)
        out = io.StringIO()
        from contextlib import redirect_stdout
        with redirect_stdout(out):
            code = main(["stream", str(path), "--chunk-size", str(chunk), "--checksum", checksum,
                         "--json"])
    assert code == 0
    summary = json.loads(out.getvalue().splitlines()[-1])
    assert summary["bytes"] == size
    assert summary["chunks"] == math.ceil(size / chunk)
    assert sum(summary["chunks_by_type"].values()) == summary["chunks"]


def test_stream_chunks_larger_than_the_video_limit(tmp_path, capsys):
    path = write(tmp_path / "big.bin", (5 << 20) + 3)
    code, metrics, summary = run_json(capsys, str(path), "--chunk-size", "2M")
    assert code == 0
    assert summary["chunks"] == 3 and summary["bytes"] == (5 << 20) + 3
    assert summary["validation_failures"] == 0 and metrics["dropped_chunks"] == 0


def test_stream_empty_file(tmp_path, capsys):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert main(["stream", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0 chunks, 0 bytes" in out
    assert "none (empty file)" in out


def test_stream_without_checksums(tmp_path, capsys):
    path = write(tmp_path / "clip.bin", 10_000)
    assert main(["stream", str(path), "--checksum", "none", "--chunk-size", "4K"]) == 0
    assert "integrity       not checksummed" in capsys.readouterr().out


def test_stream_error_while_reading_exits_1(tmp_path, capsys, monkeypatch):
    from rs2fast.errors import StreamTruncated
    from rs2fast.streaming import MediaStreamingService

    class Truncated:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def __iter__(self):
            raise StreamTruncated("file shrank below 100 bytes while being read", stream_id="x")

    monkeypatch.setattr(MediaStreamingService, "start_file_stream", lambda self, path, stream: Truncated())
    path = write(tmp_path / "clip.bin", 100)
    assert main(["stream", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"rs2fast: error: {path}: file shrank below 100 bytes")


# --- bad input: exit 2 and one line ----------------------------------------------------------------

def bad_inputs(tmp_path, real):
    return {
        "missing": (["stream", str(tmp_path / "nope.bin")], "no such file: "),
        "directory": (["stream", str(tmp_path)], "is a directory"),
        "not regular": (["stream", os.devnull], "is not a regular file"),
        "zero chunk size": (["stream", str(real), "--chunk-size", "0"], "argument --chunk-size: size '0'"),
        "negative chunk size": (["stream", str(real), "--chunk-size", "-5"], "argument --chunk-size"),
        "junk chunk size": (["stream", str(real), "--chunk-size", "lots"], "invalid size 'lots'"),
        "huge chunk size": (["stream", str(real), "--chunk-size", "65M"], "out of range"),
        "unknown checksum": (["stream", str(real), "--checksum", "md5"],
                             "argument --checksum: invalid choice: 'md5'"),
        "zero workers": (["stream", str(real), "--workers", "0"], "argument --workers: 0 is out of range"),
        "no file": (["stream"], "the following arguments are required: FILE"),
        "no command": ([], "the following arguments are required"),
        "unknown command": (["frobnicate"], "invalid choice: 'frobnicate'"),
        "unknown option": (["stream", str(real), "--fast"], "unrecognized arguments: --fast"),
        "bad demo size": (["demo", "--size-mib", "0"], "argument --size-mib"),
        "bench is gone": (["bench"], "invalid choice: 'bench'"),
        "consume without group": (["consume", "redis://127.0.0.1:1"], "required: --group"),
        "consume bad url": (["consume", "nonsense", "--group", "g"], "url 'nonsense' is not a Redis URL"),
        "stream to bad url": (["stream", str(real), "--to", "http://x"], "is not a Redis URL"),
    }


@pytest.mark.parametrize("case", list(bad_inputs(Path("dir"), Path("file"))))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, capsys):
    argv, message = bad_inputs(tmp_path, write(tmp_path / "ok.bin", 10))[case]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("rs2fast: error: ")
    assert message in lines[0]


def test_missing_file_exits_2_from_a_subprocess(tmp_path):
    env = subprocess_env()
    done = subprocess.run([sys.executable, "-m", "rs2fast", "stream", str(tmp_path / "missing.mp4")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"rs2fast: error: no such file: {str(tmp_path / 'missing.mp4')!r}\n"


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "{demo,stream,consume}" in out and "stream a file" in out and "bench" not in out
    assert "--json writes JSON Lines: one JSON object per line" in out
    assert main(["stream", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--chunk-size SIZE" in out and "--json" in out and "{crc32c,sha256,none}" in out
    assert "--to URL" in out and "JSON Lines" in out
    assert main(["consume", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--group GROUP" in out and "--streams A,B" in out and "JSON Lines" in out
    assert main(["--version"]) == 0
    from rs2fast import __version__
    assert capsys.readouterr().out.strip() == f"rs2fast {__version__}"


# --- demo ----------------------------------------------------------------------------------------

def test_demo_small_run(capsys):
    assert main(["demo", "--size-mib", "2", "--chunk-size", "16K", "--live-chunks", "25"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("rs2fast demo: 2.0 MiB sample file + live camera + live microphone")
    assert "[" in out and "metrics:" in out        # at least the first snapshot, printed at once
    rows = {m[0]: m[1:] for m in re.findall(
        r"^  (sample\.media|camera|microphone|total)\s+(?:[a-z, ]+?\s+)?([\d,]+)\s+([\d,]+)\s+[\d,.]*\s*"
        r"([\d,]+)\s+([\d,]+)/([\d,]+)$", out, re.M)}
    assert set(rows) == {"sample.media", "camera", "microphone", "total"}
    num = lambda text: int(text.replace(",", ""))     # noqa: E731
    assert num(rows["sample.media"][0]) == 128 and num(rows["sample.media"][1]) == 2 << 20
    assert num(rows["camera"][0]) == 25 and num(rows["microphone"][0]) == 25
    assert num(rows["total"][0]) == 178
    assert num(rows["total"][3]) == num(rows["total"][4]) == 178      # every checksum verified
    assert "chunks by type: AUDIO 25, " in out
    assert "StreamStarted 3" in out and "StreamStopped 3" in out
    assert "file integrity: intact - 2,097,152 of 2,097,152 bytes" in out
    assert "checksums verified: 178 of 178" in out


def test_demo_without_checksums(capsys):
    assert main(["demo", "--size-mib", "1", "--live-chunks", "5", "--checksum", "none"]) == 0
    out = capsys.readouterr().out
    assert "checksums verified: 0 of 0 (checksums off)" in out
    assert "file integrity: intact" in out


def test_sample_file_is_deterministic(tmp_path):
    from rs2fast import crc32c
    first, second = tmp_path / "a", tmp_path / "b"
    crc = cli.write_sample_file(str(first), 3_000_001)
    assert cli.write_sample_file(str(second), 3_000_001) == crc
    assert first.read_bytes() == second.read_bytes()
    data = first.read_bytes()
    assert len(data) == 3_000_001 and crc32c(data) == crc
    assert data[:1 << 20] != data[1 << 20:2 << 20]                 # every MiB differs


def test_python_m_rs2fast_demo_subprocess():
    env = subprocess_env()
    done = subprocess.run([sys.executable, "-m", "rs2fast", "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert "rs2fast demo: 32.0 MiB sample file" in done.stdout
    assert re.search(r"^Summary \(\d+\.\d+ s\)$", done.stdout, re.M)
    assert re.search(r"^  stream\s+kind\s+chunks\s+bytes\s+MiB/s\s+drops\s+checksums ok$", done.stdout, re.M)
    assert re.search(r"^  sample\.media\s+file\s+512\s+33,554,432\s", done.stdout, re.M)
    assert "file integrity: intact - 33,554,432 of 33,554,432 bytes" in done.stdout
    assert "checksums verified: 1,312 of 1,312" in done.stdout


# --- issue 11: pipes, summaries, narrow terminals ------------------------------------------------------

@pytest.mark.parametrize("json_output", [True, False])
def test_a_closed_pipe_ends_quietly(tmp_path, json_output):
    path = write(tmp_path / "clip.bin", 200_000)
    argv = [sys.executable, "-m", "rs2fast", "stream", str(path)] + (["--json"] if json_output else [])
    process = subprocess.Popen(argv, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()                   # the reader is gone before anything was written
    err = process.stderr.read().decode()
    assert process.wait(60) in (0, 141)
    assert err == ""                         # no BrokenPipeError traceback


def test_head_1_gets_the_first_line(tmp_path):
    path = write(tmp_path / "clip.bin", 100_000)
    done = subprocess.run(f'"{sys.executable}" -m rs2fast stream "{path}" --json | head -1',
                          shell=True, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True,
                          timeout=60)
    assert json.loads(done.stdout)["record"] == "metrics"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_raw_summary_names_the_gop_rule_and_the_average(tmp_path, capsys):
    path = write(tmp_path / "clip.bin", 150_000)
    assert main(["stream", str(path), "--chunk-size", "64K"]) == 0
    out = capsys.readouterr().out
    assert "(types from RS2's GOP rule, not from the data)" in out
    code, _metrics, summary = run_json(capsys, str(path), "--chunk-size", "64K")
    assert summary["average_chunk_size"] == 50_000.0
    assert summary["chunk_types_from"].startswith("RS2's GOP rule") and "packets" not in summary


def test_container_summary_shows_packets_and_the_average_chunk(tmp_path, capsys):
    pytest.importorskip("av", reason="needs the optional av extra: pip install 'rs2fast[av]'")
    from media_fixtures import demuxed_packets, write_clip

    clip = write_clip(tmp_path, "clip.mkv", seconds=1.0)
    packets = demuxed_packets(clip)
    assert main(["stream", clip, "--chunk-size", "1K"]) == 0
    out = capsys.readouterr().out
    assert f"chunks          {len(packets):,} packets, average chunk " in out
    assert "chunk size      1,024" not in out and "GOP rule" not in out
    code, _metrics, summary = run_json(capsys, clip, "--chunk-size", "1K")
    assert summary["packets"] == len(packets) < summary["chunks"]   # large keyframes were split
    assert summary["average_chunk_size"] == round(summary["bytes"] / summary["chunks"], 1)


@pytest.mark.parametrize("width", range(26, 61))
def test_narrow_progress_keeps_rate_and_eta_whole(width):
    line = render_progress(16 << 20, 64 << 20, 2.0, width)
    assert len(line) == width - 1
    assert "8.0 MiB/s" in line and "ETA 0:00:06" in line and "25" in line


def test_tiny_progress_keeps_the_eta_first():
    assert render_progress(16 << 20, 64 << 20, 2.0, 17).startswith("25% ETA 0:00:06")
