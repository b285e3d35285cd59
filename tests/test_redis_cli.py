"""`rs2fast stream FILE --to redis://...` and `rs2fast consume` against a real redis-server."""
from __future__ import annotations

import json
import time

import pytest

import redis_servers
from rs2fast.__main__ import main

pytestmark = redis_servers.skip_without_redis()
server = redis_servers.server_fixture()


@pytest.fixture
def url(server):
    server.cli("FLUSHALL")
    return server.url


def write(path, size: int):
    path.write_bytes(bytes((i * 13 + 5) % 251 for i in range(size)))
    return path


def test_stream_to_redis_then_consume(url, tmp_path, capsys):
    for name, size in (("a.bin", 300_000), ("b.bin", 70_000)):
        assert main(["stream", str(write(tmp_path / name, size)), "--chunk-size", "16K", "--to", url]) == 0
        out = capsys.readouterr().out
        assert f"  redis           wrote {-(-size // 16384):,} chunks to rs2fast:{{{name}}} at {url}" in out
    assert main(["consume", url, "--group", "g", "--consumer", "me", "--idle", "0.5", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 1 and records[0]["record"] == "summary"
    summary = records[0]
    assert summary["streams"] == {"a.bin": 19, "b.bin": 5} and summary["bytes"] == 370_000
    assert summary["checksum_failures"] == summary["lost"] == summary["duplicates"] == 0
    assert summary["acknowledged"] == 24 and summary["consumer"] == "me" and summary["complete"]
    # the group has read everything: a second run of the same group gets nothing
    assert main(["consume", url, "--group", "g", "--idle", "0.3"]) == 0
    assert capsys.readouterr().out.startswith("consumed 0 chunks")


def test_consume_named_streams_and_count(url, tmp_path, capsys):
    for name in ("x.bin", "y.bin"):
        main(["stream", str(write(tmp_path / name, 40_000)), "--chunk-size", "4K", "--to", url])
    capsys.readouterr()
    started = time.monotonic()
    assert main(["consume", url, "--group", "g", "--streams", "y.bin", "--count", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("consumed 4 chunks, 16,384 bytes") and "stream          y.bin: 4 chunks" in out
    assert "x.bin" not in out and "4 checksums verified; 0 failed, 0 lost" in out
    assert time.monotonic() - started < 10


def test_redis_not_there_is_one_line_and_exit_1(tmp_path, capsys):
    port = redis_servers.free_port()
    path = write(tmp_path / "a.bin", 1000)
    assert main(["stream", str(path), "--to", f"redis://127.0.0.1:{port}"]) == 1
    assert main(["consume", f"redis://127.0.0.1:{port}", "--group", "g"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith(f"rs2fast: error: cannot reach Redis at redis://127.0.0.1:"
                                                 f"{port}") for line in err)


def test_bad_options_are_usage_errors(url, tmp_path, capsys):
    assert main(["consume", url, "--group", "g", "--lease", "0"]) == 2
    assert "lease must be a positive number" in capsys.readouterr().err
    assert main(["stream", str(write(tmp_path / "a.bin", 10)), "--to", url, "--prefix", "a{b"]) == 2
    assert "prefix must be a non-empty string without" in capsys.readouterr().err
