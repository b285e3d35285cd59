"""Real redis-server processes for the tests: one server, or a 3-master cluster, on free loopback ports.

Persistence is off unless asked for; every process is stopped by `stop()` (the fixtures do it).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Optional

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def missing() -> Optional[str]:
    """Why the Redis tests cannot run here, or None when they can."""
    try:
        import redis  # noqa: F401
    except ModuleNotFoundError:
        return 'redis-py is not installed (pip install "rs2fast[redis]")'
    if REDIS_SERVER is None or REDIS_CLI is None:
        return "redis-server / redis-cli are not installed (Debian package redis-server)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """One redis-server on 127.0.0.1; `persistent=True` turns on the append-only file (fsync always)."""

    def __init__(self, *, persistent: bool = False, cluster: bool = False,
                 port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.folder = tempfile.mkdtemp(prefix="rs2fast-redis-")
        self.persistent = persistent
        self.cluster = cluster
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> "RedisServer":
        """Start the server and wait until it answers PING (at most 10 s)."""
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.folder,
                "--save", "", "--protected-mode", "no", "--loglevel", "warning"]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file",
                     os.path.join(self.folder, "nodes.conf"), "--cluster-node-timeout", "2000",
                     "--cluster-port", str(free_port())]           # the bus, not port + 10000
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while self.cli("PING") != "PONG":
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def cli(self, *command: str) -> str:
        """Run one command through redis-cli; its output stripped ("" when it cannot connect)."""
        done = subprocess.run([REDIS_CLI, "-p", str(self.port), *command], capture_output=True,
                              text=True, timeout=10)
        return done.stdout.strip()

    def kill(self) -> None:
        """SIGKILL the server (what a crash looks like) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        self.kill()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisCluster:
    """Three cluster-enabled servers joined by `redis-cli --cluster create` (three masters)."""

    def __init__(self) -> None:
        self.nodes = [RedisServer(cluster=True) for _ in range(3)]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> "RedisCluster":
        """Start the nodes, create the cluster, wait until every node says cluster_state:ok."""
        try:
            for node in self.nodes:
                node.start()
            subprocess.run([REDIS_CLI, "--cluster", "create",
                            *(f"127.0.0.1:{node.port}" for node in self.nodes),
                            "--cluster-replicas", "0", "--cluster-yes"],
                           check=True, capture_output=True, timeout=60)
            deadline = time.monotonic() + 20
            while not all("cluster_state:ok" in node.cli("CLUSTER", "INFO") for node in self.nodes):
                if time.monotonic() > deadline:
                    raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()


# --- worker processes (started with the "spawn" method by the tests) -------------------------------

def produce(url: str, stream_ids: list, count: int, size: int) -> None:
    """Write `count` chunks of `size` bytes to each stream, interleaved."""
    from rs2fast import MediaChunk
    from rs2fast.redis import RedisStreamSink, connect

    sink = RedisStreamSink(connect(url))
    for seq in range(count):
        sink.write(MediaChunk(sid, seq, (f"{sid}:{seq}:".encode() * size)[:size], 0) for sid in stream_ids)


def consume(url: str, group: str, consumer: str, lease: float, out_path: str,
            pause_after: Optional[int] = None, stop_path: Optional[str] = None) -> None:
    """Read chunks of the group, appending "consumer stream seq monotonic_ns" lines to `out_path`.

    With `pause_after`, stop taking chunks after that many (and wait to be killed); with `stop_path`,
    close the source once that file exists and write the stats as JSON to `out_path + ".stats"`.
    """
    import json
    import threading

    from rs2fast.redis import RedisStreamSource, connect

    source = RedisStreamSource(connect(url), group=group, consumer=consumer, lease=lease)
    if stop_path is not None:
        def watch() -> None:
            while not os.path.exists(stop_path):
                time.sleep(0.05)
            source.close()
        threading.Thread(target=watch, daemon=True).start()
    out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    for taken, chunk in enumerate(source, 1):
        os.write(out, f"{consumer} {chunk.stream_id} {chunk.sequence_number} "
                      f"{time.monotonic_ns()}\n".encode())
        if taken == pause_after:
            time.sleep(3600)
    with open(out_path + ".stats", "w") as stats:
        json.dump(vars(source.get_stats()), stats)


def server_fixture():
    """A module-scoped pytest fixture: one RedisServer for the tests of a module, stopped after them."""
    import pytest

    @pytest.fixture(scope="module")
    def server():
        started = RedisServer().start()
        yield started
        started.stop()
    return server


def skip_without_redis():
    """The pytest mark that skips a test module when redis-py or redis-server is missing."""
    import pytest

    return pytest.mark.skipif(missing() is not None, reason=missing() or "")
