"""Benchmark rows R1-R3: rs2fast.redis against a plain redis-py loop, on a loopback redis-server.

R1  sink + source (`next_batch`), 4 KiB chunks, 16 streams, chunks/s: rs2fast against one XADD per
    chunk with a JSON body and XREADGROUP + XACK per chunk.
R2  the same at 64 KiB in MB/s; the description adds the fraction of a bare pipelined XADD rate
    (no encoding, no reading: what redis-benchmark measures) that rs2fast reaches.
R3  2 consumer processes against 1 (each reading with `next_batch`), 16 streams of 4 KiB chunks,
    chunks/s: a backlog read once the consumers have shared the streams out 8/8 (the writer has
    finished before the timing starts, so it does not compete for the CPU).

`redis_rows(quick)` returns (row_id, description, rs2fast_value, baseline_value, unit, ratio) tuples,
measured on a redis-server it starts on a free loopback port (persistence off) and stops, or on the
server at `url` when one is given (its data is flushed). Run this file to print the rows.
"""
from __future__ import annotations

import base64
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

Row = Tuple[str, str, float, float, str, float]
STREAMS = 16
_LEASE = 10.0          # R3's consumers keep their leases while paused for the backlog to be written
_SETTLE = 0.3          # for the consumers to park after their first batch of the backlog


def _chunks(per_stream: int, size: int) -> list:
    from rs2fast import MediaChunk

    payload = os.urandom(size)
    return [MediaChunk(f"s{s}", seq, payload, seq % 3) for seq in range(per_stream)
            for s in range(STREAMS)]


def _client(url: str):
    client = _client_no_flush(url)
    client.flushall()
    return client


def _client_no_flush(url: str):
    from rs2fast.redis import connect

    return connect(url, timeout=30)


def _rs2fast_round_trip(url: str, chunks: list) -> float:
    """Seconds to write `chunks` with a RedisStreamSink and read them all with a RedisStreamSource
    (in batches: `next_batch`)."""
    from rs2fast.redis import RedisStreamSink, RedisStreamSource

    client = _client(url)
    started = time.perf_counter()
    RedisStreamSink(client).write(chunks)
    with RedisStreamSource(client, group="bench", consumer="one") as source:
        read = 0
        while read < len(chunks):
            read += len(source.next_batch(256))
    return time.perf_counter() - started


def _plain_round_trip(url: str, chunks: list) -> float:
    """The same with a plain redis-py loop: JSON bodies, one command per chunk each way."""
    client = _client(url)
    started = time.perf_counter()
    for chunk in chunks:
        body = json.dumps({"stream_id": chunk.stream_id, "sequence_number": chunk.sequence_number,
                           "chunk_type": int(chunk.chunk_type), "priority": int(chunk.priority),
                           "timestamp_ns": chunk.timestamp_ns, "is_final": chunk.is_final,
                           "data": base64.b64encode(chunk.data).decode()})
        client.xadd(f"plain:{chunk.stream_id}", {"body": body})
    keys = {f"plain:s{s}": ">" for s in range(STREAMS)}
    for key in keys:
        client.xgroup_create(key, "bench", "0")
    read = 0
    while read < len(chunks):
        for key, entries in client.xreadgroup("bench", "one", keys, count=1, block=100) or []:
            for entry_id, fields in entries:
                record = json.loads(fields[b"body"])
                base64.b64decode(record["data"])
                client.xack(key, "bench", entry_id)
                read += 1
    return time.perf_counter() - started


def _bare_xadd(url: str, chunks: list) -> float:
    """Seconds for pipelined XADDs of the raw data alone (what redis-benchmark measures)."""
    client = _client(url)
    started = time.perf_counter()
    for start in range(0, len(chunks), 256):
        pipe = client.pipeline(transaction=False)
        for chunk in chunks[start:start + 256]:
            pipe.xadd(f"bare:{chunk.stream_id}", {"d": chunk.data})
        pipe.execute()
    return time.perf_counter() - started


def _consumer(url: str, name: str, ready, go, hold, stop, counter) -> None:
    import threading

    from rs2fast.redis import RedisStreamSource, connect

    source = RedisStreamSource(connect(url, timeout=30), group="bench", consumer=name, lease=_LEASE)
    threading.Thread(target=lambda: stop.wait() and source.close(), daemon=True).start()
    ready.set()
    go.wait()
    while True:
        hold.wait()
        batch = source.next_batch(256)
        if not batch:
            break
        with counter.get_lock():
            counter.value += len(batch)


def _owners(url: str) -> dict:
    """{consumer: streams whose lease it holds} for the benchmark's group."""
    client = _client_no_flush(url)
    owners: dict = {}
    for s in range(STREAMS):
        holder = client.get(f"rs2fast:{{s{s}}}:lease:bench")
        if holder is not None:
            owners[holder] = owners.get(holder, 0) + 1
    return owners


def _consumers_rate(url: str, chunks: list, processes: int) -> float:
    """Chunks/s that `processes` consumer processes of one group read from a backlog.

    The first chunk of each stream is read first and the consumers are given time to share the
    streams out (even shares, checked in Redis); then they pause (holding their leases), the rest
    is written, and they are timed reading what they had not read yet: the writer does not compete
    with them for the CPU."""
    from rs2fast.redis import RedisStreamSink

    first = {c.stream_id: c for c in reversed(chunks)}
    warm_up = list(first.values())
    rest = [c for c in chunks if first[c.stream_id] is not c]
    sink = RedisStreamSink(_client(url))
    sink.write(warm_up)
    spawn = multiprocessing.get_context("spawn")
    go, hold, stop, counter = spawn.Event(), spawn.Event(), spawn.Event(), spawn.Value("q", 0)
    hold.set()
    readies = [spawn.Event() for _ in range(processes)]
    workers = [spawn.Process(target=_consumer, args=(url, f"c{n}", readies[n], go, hold, stop, counter))
               for n in range(processes)]
    for worker in workers:
        worker.start()
    for ready in readies:
        ready.wait(60)
    go.set()
    share = STREAMS // processes
    deadline = time.monotonic() + 30
    while counter.value < len(warm_up) or sorted(_owners(url).values()) != [share] * processes:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the consumers did not share the streams out: {_owners(url)}")
        time.sleep(0.01)
    hold.clear()                         # each consumer parks after the batch it is waiting for
    sink.write(rest)
    time.sleep(_SETTLE)
    started, before = time.perf_counter(), counter.value
    hold.set()
    while counter.value < len(chunks):
        time.sleep(0.001)
    seconds = time.perf_counter() - started
    stop.set()
    for worker in workers:
        worker.join(30)
    return (len(chunks) - before) / seconds


def redis_rows(quick: bool, url: Optional[str] = None) -> List[Row]:
    """Rows R1-R3 on a loopback redis-server of their own, or on the Redis at `url` (flushed)."""
    if url is None:
        with loopback_server() as address:
            return redis_rows(quick, address)
    per_stream = 60 if quick else 600
    rows: List[Row] = []
    small = _chunks(per_stream, 4096)
    ours, plain = len(small) / _rs2fast_round_trip(url, small), len(small) / _plain_round_trip(url, small)
    rows.append(("R1", "Redis sink + source (next_batch), 4 KiB chunks, 16 streams (vs XADD/XREADGROUP/"
                 "XACK per chunk, JSON body)", ours, plain, "chunks/s", ours / plain))
    large = _chunks(per_stream // 4, 65536)
    megabytes = len(large) * 65536 / 1e6
    ours = megabytes / _rs2fast_round_trip(url, large)
    plain = megabytes / _plain_round_trip(url, large)
    bare = megabytes / _bare_xadd(url, large)
    rows.append(("R2", f"Redis sink + source (next_batch), 64 KiB chunks, 16 streams (bare pipelined XADD "
                 f"{bare:,.0f} MB/s; rs2fast reaches {ours / bare:.0%} of it)", ours, plain, "MB/s",
                 ours / plain))
    many = _chunks(per_stream * 2, 4096)
    two, one = _consumers_rate(url, many, 2), _consumers_rate(url, many, 1)
    rows.append(("R3", "Redis source (next_batch), 2 consumer processes vs 1, 16 streams of 4 KiB chunks",
                 two, one, "chunks/s", two / one))
    return rows


@contextmanager
def loopback_server() -> Iterator[str]:
    """Start redis-server on a free loopback port (persistence off); yields its URL, then stops it."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (Debian package redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="rs2fast-bench-redis-")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
                               "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        from rs2fast.redis import connect

        client = connect(f"redis://127.0.0.1:{port}")
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    for row_id, text, ours, theirs, unit, ratio in redis_rows("--quick" in sys.argv):
        print(f"{row_id}  {text}\n    rs2fast {ours:,.1f} {unit}, baseline {theirs:,.1f} {unit}, "
              f"ratio {ratio:.2f}x")
