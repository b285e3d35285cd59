"""Each example runs as a script (cwd = repo root) and prints what it promises."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_example(name: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, f"examples/{name}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


@pytest.mark.parametrize("name", ["basic_file_streaming.py", "live_streaming.py",
                                  "custom_codec.py", "stream_events.py"])
def test_example_has_a_docstring_and_uses_only_public_names(name):
    text = (EXAMPLES / name).read_text()
    assert text.lstrip().startswith('"""'), f"{name} needs a module docstring"
    private = re.findall(r"(?:from|import)\s+rs2fast\.?(\w*)", text)
    assert private, f"{name} does not import rs2fast"
    assert all(not module.startswith("_") for module in private)
    assert not re.search(r"\b\w+\._[a-z]\w*", text.replace("__name__", "").replace("__main__", "")), \
        f"{name} reaches into a private attribute"


def test_basic_file_streaming():
    out = run_example("basic_file_streaming.py")
    assert "Streaming test_media.bin (2,654,208 bytes) in 64 KiB chunks" in out
    assert re.search(r"chunk\s+0\s+VIDEO_I_FRAME\s+HIGH\s+65,536 bytes\s+crc32c:[0-9a-f]{8}\n", out)
    assert re.search(r"chunk\s+3\s+VIDEO_B_FRAME\s+LOW\s+65,536 bytes", out)
    assert re.search(r"chunk\s+40\s+\w+\s+\w+\s+32,768 bytes\s+crc32c:[0-9a-f]{8}\s+<- final chunk", out)
    assert out.count("<- final chunk") == 1
    assert "Received 2,654,208 bytes, 41 checksums verified" in out
    assert re.search(r"chunks processed\s+41\n", out)
    assert re.search(r"bytes processed\s+2,654,208\n", out)
    assert re.search(r"dropped chunks\s+0\n", out)


def test_live_streaming():
    out = run_example("live_streaming.py")
    assert "Live stream 'camera-1': 60 frames/s, 32 KiB chunks, leaving after 90 chunks" in out
    snapshots = re.findall(r"\[metrics\]\s+(\d+) chunks", out)
    assert snapshots, "no metrics snapshot was printed while the stream ran"
    assert [int(n) for n in snapshots] == sorted(int(n) for n in snapshots)
    keyframes = re.findall(r"keyframe\s+seq\s+(\d+) at (\d+\.\d+) s", out)
    assert [int(seq) for seq, _ in keyframes] == [0, 30, 60]
    assert [float(t) for _, t in keyframes] == [0.0, 0.5, 1.0]     # stream time, not wall time
    assert "Consumer left after 90 chunks (3 keyframes); producer stopped: yes" in out
    final = re.search(r"Final metrics: (\d+) chunks, ([\d,]+) bytes, (\d+) dropped", out)
    assert final and int(final[1]) >= 90
    assert 0 < int(final[2].replace(",", "")) <= int(final[1]) * 32 * 1024


def test_custom_codec():
    out = run_example("custom_codec.py")
    assert ("Custom config: HIGH 4000 kbps video, 192 kbps audio, keyframe every 4 frames, "
            "sha256 checksums") in out
    types = re.findall(r"seq (\d)\s+(VIDEO_\w+)\s+(\w+)\s+t=\s*(\d+) ms\s+checksum ([0-9a-f]{16})\.\.\.", out)
    assert [t for _, t, _, _, _ in types] == [
        "VIDEO_I_FRAME", "VIDEO_P_FRAME", "VIDEO_P_FRAME", "VIDEO_P_FRAME", "VIDEO_I_FRAME",
        "VIDEO_I_FRAME",  # the caller's hint on frame 5 wins over the GOP rule
        "VIDEO_P_FRAME", "VIDEO_P_FRAME", "VIDEO_I_FRAME", "VIDEO_P_FRAME"]
    assert [int(ms) for _, _, _, ms, _ in types] == [16 * i for i in range(10)]
    assert "Round trip: 10/10 frames decoded to identical bytes" in out
    assert "-> 10,000 bytes, identical: True, video part 6000 bytes" in out
    assert "Damaged chunk refused: Invalid data: Checksum mismatch" in out
    assert "H.264 preset (5000 kbps, keyframe every 30)" in out
    assert re.search(r"frames encoded\s+11\n", out)
    assert re.search(r"frames decoded\s+11\n", out)
    assert re.search(r"errors\s+1\n", out)


def test_stream_events():
    out = run_example("stream_events.py")
    assert "kept sequence numbers [0, 1, 2, 4, 5, 7, 8, 30]" in out
    paced = int(re.search(r"Paced audio stream: (\d+) chunks read as they were produced", out)[1])
    dropped = re.search(r"Dropped chunks: burst (\d+), paced (\d+)", out)
    assert int(dropped[1]) == 42
    assert paced + int(dropped[2]) == 20      # a live stream sheds chunks only if its reader lags
    counts = dict((name, int(n)) for name, n in re.findall(r"^\s+(media_\w+)\s+(\d+)$", out, re.M))
    assert counts["media_stream_started"] == 2
    assert counts["media_stream_stopped"] == 2
    assert counts["media_chunk_dropped"] == 42 + int(dropped[2])
    assert counts["media_quality_changed"] == 1
    total = int(re.search(r"(\d+) events as UserActivity records", out)[1])
    assert total == sum(counts.values())
    assert "user 1001: 45" in out
    assert "Quality changed on 'burst': High -> Medium" in out
    assert "Round trip equal: True" in out
    assert re.search(r'As JSON: \{"id":"[0-9a-f-]{36}","user_id":1001,"activity_type":"media_stream_started"',
                     out)
    assert ('{"QualityChanged":{"stream_id":"demo","user_id":7,"old_quality":"High",'
            '"new_quality":"Medium"') in out
