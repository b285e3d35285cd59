"""rs2fast.redis against real redis-server processes on loopback ports (skipped without them)."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections import defaultdict

import pytest

import redis_servers
from rs2fast import ChunkType, MediaChunk, MediaPriority
from rs2fast.events import ChunkDropped

pytestmark = redis_servers.skip_without_redis()
server = redis_servers.server_fixture()

if redis_servers.missing() is None:
    import redis
    import redis.asyncio

    from rs2fast.redis import (
        RedisSinkStats,
        RedisSourceStats,
        RedisStreamSink,
        RedisStreamSource,
        RedisUnavailable,
        connect,
    )

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def client(server):
    made = connect(server.url)
    made.flushall()
    yield made
    made.close()


def make_chunks(stream_id: str, count: int, size: int = 100, first: int = 0) -> list:
    """Chunks with every field varied; every third one without a checksum."""
    chunks = []
    for seq in range(first, first + count):
        data = bytes((seq * 31 + i) % 256 for i in range(size))
        chunk = MediaChunk(stream_id, seq, data, list(ChunkType)[seq % 6], list(MediaPriority)[seq % 3],
                           timestamp_ns=seq * 33_000_000 - 5, is_final=seq == first + count - 1)
        chunks.append(chunk if seq % 3 == 0 else chunk.with_checksum("sha256" if seq % 3 == 1
                                                                     else "crc32c"))
    return chunks


def read(source, count: int, timeout: float = 30.0) -> list:
    """`count` chunks from `source`; after `timeout` seconds the source is closed and the test fails."""
    got = []
    deadline = threading.Timer(timeout, source.close)
    deadline.start()
    try:
        for chunk in source:
            got.append(chunk)
            if len(got) == count:
                break
    finally:
        deadline.cancel()
    assert len(got) == count, f"only {len(got)} of {count} chunks in {timeout} s: {source.get_stats()}"
    return got


def by_stream(chunks) -> dict:
    grouped = defaultdict(list)
    for chunk in chunks:
        grouped[chunk.stream_id].append(chunk)
    return grouped


def with_crc(chunk):
    return chunk if chunk.checksum is not None else chunk.with_checksum("crc32c")


# --- round trip ----------------------------------------------------------------------------------

@pytest.mark.parametrize("streams, per_stream", [(1, 300), (10, 30), (1000, 3)])
def test_round_trip_keeps_every_field_and_the_order_per_stream(client, streams, per_stream):
    sent = [chunk for s in range(streams) for chunk in make_chunks(f"cam-{s}", per_stream, 40 + s % 7)]
    sink = RedisStreamSink(client)
    assert sink.write(iter(sent)) == len(sent)
    assert sink.get_stats() == RedisSinkStats(len(sent), sum(len(c) for c in sent))
    with RedisStreamSource(client, group="g", consumer="c1") as source:
        got = read(source, len(sent))
        stats = source.get_stats()
    assert stats.read == len(sent) and stats.bytes_read == sum(len(c) for c in sent)
    assert stats.streams_owned == streams
    assert stats.duplicates == stats.lost == stats.checksum_failures == stats.redelivered == 0
    expected = by_stream(with_crc(c) for c in sent)
    assert by_stream(got) == expected                     # every field, in order per stream
    assert source.get_stats().acknowledged == len(sent)   # the last one at close
    assert all(client.xpending(f"rs2fast:{{{sid}}}", "g")["pending"] == 0 for sid in expected)


def test_a_new_group_reads_from_the_beginning_and_acknowledged_chunks_stay_delivered(client):
    RedisStreamSink(client).write(make_chunks("s", 20))
    with RedisStreamSource(client, group="a", consumer="x", streams=["s"]) as first:
        assert [c.sequence_number for c in read(first, 12)] == list(range(12))
    with RedisStreamSource(client, group="b", consumer="x", streams=["s"]) as other_group:
        assert [c.sequence_number for c in read(other_group, 20)] == list(range(20))
    with RedisStreamSource(client, group="a", consumer="y", streams=["s"]) as again:
        assert [c.sequence_number for c in read(again, 8)] == list(range(12, 20))
        assert again.get_stats().duplicates == 0


def test_manual_ack_and_redelivery_to_the_next_owner(client):
    RedisStreamSink(client).write(make_chunks("s", 10))
    source = RedisStreamSource(client, group="g", consumer="one", streams=["s"], autoack=False)
    got = read(source, 6)
    for chunk in got[:4]:
        source.ack(chunk)
    with pytest.raises(ValueError, match="was not delivered"):
        source.ack(got[0])
    source.close()
    assert source.get_stats().acknowledged == 4
    with RedisStreamSource(client, group="g", consumer="two", streams=["s"]) as taker:
        rest = read(taker, 4)
        stats = taker.get_stats()
    # 4..9 were pending for "one" (4 and 5 delivered but not acknowledged, 6..9 fetched only):
    # all six come back; 4 and 5 are dropped as duplicates
    assert [c.sequence_number for c in rest] == [6, 7, 8, 9]
    assert stats.duplicates == 2 and stats.redelivered == 6


def test_batches_store_one_position_per_stream_before_the_hand_over(client):
    sent = [c for s in range(3) for c in make_chunks(f"s{s}", 40)]
    RedisStreamSink(client).write(sent)
    source = RedisStreamSource(client, group="g", consumer="one", autoack=False, lease=0.5)
    with pytest.raises(ValueError, match="max_chunks must be a positive int"):
        source.next_batch(0)
    batch = source.next_batch(50)
    assert 1 <= len(batch) <= 50
    taken = by_stream(batch)
    for stream_id, chunks in taken.items():                   # in order, and the position is stored
        assert [c.sequence_number for c in chunks] == list(range(len(chunks)))
        assert int(client.hget(f"rs2fast:{{{stream_id}}}:pos", "g")) == len(chunks)
    # "one" stops without acknowledging: its batch comes back to the next owner as duplicates
    with RedisStreamSource(client, group="g", consumer="two", lease=0.5) as taker:
        rest = []
        closer = threading.Timer(30, taker.close)
        closer.start()
        while len(rest) < len(sent) - len(batch):
            more = taker.next_batch(7)
            assert more, f"timed out: {taker.get_stats()}"
            rest += more
        closer.cancel()
        threading.Timer(0.5, taker.close).start()     # the duplicates left are dropped meanwhile
        assert taker.next_batch() == []
        stats = taker.get_stats()
    assert stats.duplicates == len(batch)
    everything = by_stream(batch + rest)
    assert everything == by_stream(with_crc(c) for c in sent)


def test_consumers_that_join_share_the_streams_one_owner_each(client):
    RedisStreamSink(client).write(c for s in range(8) for c in make_chunks(f"s{s}", 1000, 10))
    sources = [RedisStreamSource(client, group="g", consumer=name, lease=0.6) for name in ("one", "two")]
    delivered = []

    def work(source):
        for chunk in source:
            delivered.append((time.monotonic_ns(), chunk))
            time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(source,)) for source in sources]
    try:
        threads[0].start()
        time.sleep(0.3)
        threads[1].start()                                   # joins while the first one reads
        deadline = time.monotonic() + 20
        while [s.get_stats().streams_owned for s in sources] != [4, 4]:
            assert time.monotonic() < deadline, [s.get_stats() for s in sources]
            time.sleep(0.05)
        owners = {client.get(f"rs2fast:{{s{s}}}:lease:g") for s in range(8)}
        assert owners == {b"one", b"two"}
    finally:
        for source in sources:
            source.close()                                   # wakes the reading thread
        for thread in threads:
            thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    # per stream, in delivery order: every sequence number once, in order, across the hand-overs
    for chunks in by_stream(chunk for _, chunk in sorted(delivered, key=lambda d: d[0])).values():
        assert [c.sequence_number for c in chunks] == list(range(len(chunks)))
    assert sum(s.get_stats().read for s in sources) == len(delivered)
    assert all(s.get_stats().duplicates == 0 for s in sources)


def test_a_consumer_below_its_share_takes_the_streams_nobody_owns(client):
    # Another member of the group holds the leases of 8 of the 16 streams; the newcomer's fair
    # share is 8 and it takes exactly the 8 without an owner at once (guessing among all 16 would
    # leave given-back streams unread until a later guess found them).
    names = [f"s{s}" for s in range(16)]
    RedisStreamSink(client).write(c for name in names for c in make_chunks(name, 5, 10))
    held = set(names[::2])
    far = int(time.time() * 1000) + 60_000
    client.zadd("rs2fast:members:{g}", {"other": far})
    for name in held:
        client.set(f"rs2fast:{{{name}}}:lease:g", "other", px=60_000)
    with RedisStreamSource(client, group="g", consumer="new", streams=names, lease=30) as source:
        chunks = source.next_batch(1000)
        assert source.get_stats().streams_owned == 8
        assert {c.stream_id for c in chunks} <= set(names) - held
        owners = {name: client.get(f"rs2fast:{{{name}}}:lease:g") for name in names}
        assert {name for name, owner in owners.items() if owner == b"new"} == set(names) - held


def test_a_consumer_below_its_share_looks_again_soon_not_a_lease_later(client):
    # Every lease is held by another member for one more second; the newcomer (lease 30 s, so its
    # upkeep runs every 10 s) still gets its streams about a second later.
    names = [f"s{s}" for s in range(4)]
    RedisStreamSink(client).write(c for name in names for c in make_chunks(name, 5, 10))
    client.zadd("rs2fast:members:{g}", {"other": int(time.time() * 1000) + 60_000})
    for name in names:
        client.set(f"rs2fast:{{{name}}}:lease:g", "other", px=1000)
    with RedisStreamSource(client, group="g", consumer="new", streams=names, lease=30) as source:
        deadline = threading.Timer(8.0, source.close)
        deadline.start()
        started = time.monotonic()
        try:
            chunks = source.next_batch(1000)
        finally:
            deadline.cancel()
        assert chunks, "no stream was taken within 8 s"
        assert time.monotonic() - started < 5.0
        assert source.get_stats().streams_owned == 2


# --- processes: a consumer killed mid-stream, N producers x M consumers ------------------------------

def read_log(path) -> list:
    """[(consumer, stream, seq, monotonic_ns)] from a consume() log."""
    if not os.path.exists(path):
        return []
    with open(path) as log:
        return [(c, s, int(q), int(t)) for c, s, q, t in (line.split() for line in log if line.strip())]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_consumer_killed_mid_stream_is_taken_over(server, client, tmp_path):
    streams = [f"cam{i}" for i in range(4)]
    RedisStreamSink(client).write(c for s in streams for c in make_chunks(s, 150, 64))
    log_a = tmp_path / "a.log"
    worker = SPAWN.Process(target=redis_servers.consume,
                           args=(server.url, "g", "A", 1.0, str(log_a), 250))
    worker.start()
    try:
        wait_for(lambda: len(read_log(log_a)) == 250, 30, "consumer A")
    finally:
        worker.kill()                                         # SIGKILL, mid-stream
        worker.join(10)
    assert worker.exitcode == -9
    by_a = defaultdict(list)
    for _, stream, seq, _ in read_log(log_a):
        by_a[stream].append(seq)
    total = 4 * 150
    with RedisStreamSource(client, group="g", consumer="B", lease=1.0) as taker:
        started = time.monotonic()
        rest = read(taker, total - 250, timeout=30)
        stats = taker.get_stats()
    assert time.monotonic() - started > 0.5                   # it had to wait for A's leases
    by_b = defaultdict(list)
    for chunk in rest:
        by_b[chunk.stream_id].append(chunk.sequence_number)
    for stream in streams:                                    # in order across the hand-over
        assert by_a[stream] + by_b[stream] == list(range(150)), stream
    # A had taken one chunk after its last acknowledgement: only that one comes back twice
    assert stats.duplicates == 1 and stats.lost == 0 and stats.checksum_failures == 0
    assert stats.redelivered >= 1


def test_n_producers_by_m_consumers_account_for_every_chunk(server, client, tmp_path):
    producers, consumers, per_stream = 4, 2, 1500
    streams = {p: [f"p{p}-s{i}" for i in range(2)] for p in range(producers)}
    stop = tmp_path / "stop"
    logs = [tmp_path / f"c{m}.log" for m in range(consumers)]
    readers = [SPAWN.Process(target=redis_servers.consume,
                             args=(server.url, "g", f"c{m}", 1.0, str(logs[m]), None, str(stop)))
               for m in range(consumers)]
    writers = [SPAWN.Process(target=redis_servers.produce, args=(server.url, ids, per_stream, 32))
               for ids in streams.values()]
    for process in readers + writers:
        process.start()
    try:
        for writer in writers:
            writer.join(60)
            assert writer.exitcode == 0
        written = producers * 2 * per_stream
        wait_for(lambda: sum(len(read_log(log)) for log in logs) >= written, 60, "every chunk")
    finally:
        stop.write_text("stop")
        for process in readers + writers:
            process.join(10)
            if process.is_alive():
                process.kill()
    assert all(reader.exitcode == 0 for reader in readers)
    import json
    stats = [json.loads((tmp_path / f"c{m}.log.stats").read_text()) for m in range(consumers)]
    records = sorted((r for log in logs for r in read_log(log)), key=lambda r: r[3])
    delivered = sum(s["read"] for s in stats)
    drops = sum(s["checksum_failures"] + s["lost"] for s in stats)
    assert delivered == len(records) and delivered + drops == written and drops == 0
    assert sum(s["duplicates"] for s in stats) == 0
    assert {consumer for consumer, *_ in records} == {"c0", "c1"}   # both did work
    per_stream = defaultdict(list)
    for consumer, stream, seq, _ in records:
        per_stream[stream].append(seq)
    # in delivery-time order each stream is 0, 1, 2, ...: never two consumers on it at once
    assert all(seqs == list(range(1500)) for seqs in per_stream.values())
    assert len(per_stream) == 8


# --- failures: a Redis restart, trimming, corruption, bad input ------------------------------------

def test_a_redis_restart_while_writing_and_reading_loses_nothing_acknowledged(tmp_path):
    node = redis_servers.RedisServer(persistent=True).start()
    try:
        def connected():
            return redis.Redis(port=node.port, socket_timeout=2, socket_connect_timeout=1)

        total = 3000
        chunks = make_chunks("live", total, 32)
        sink = RedisStreamSink(connected(), retry_for=20)
        source = RedisStreamSource(connected(), group="g", consumer="c", streams=["live"], lease=2.0,
                                   retry_for=20)
        written = []

        def write():
            for start in range(0, total, 100):
                written.append(sink.write(chunks[start:start + 100]))
                time.sleep(0.01)

        writer = threading.Thread(target=write)
        writer.start()
        got = read(source, 500)
        node.kill()                                            # crash mid-stream
        time.sleep(0.5)
        node.start()                                           # same port, same append-only file
        seen = {c.sequence_number for c in got}
        closer = threading.Timer(40, source.close)
        closer.start()
        for chunk in source:
            seen.add(chunk.sequence_number)
            if len(seen) == total:
                break
        closer.cancel()
        writer.join(30)
        assert sum(written) == total == sink.get_stats().written
        assert seen == set(range(total))
        stats = source.get_stats()
        # a batch sent again after the crash may be appended twice: those are dropped and counted
        assert stats.read == total and stats.lost == 0 and stats.checksum_failures == 0
        source.close()
    finally:
        node.stop()


def test_trimming_before_a_lagging_group_reads_reports_the_hole(client):
    events = []
    sink = RedisStreamSink(client)
    sink.write(make_chunks("s", 10))
    with RedisStreamSource(client, group="slow", consumer="c", streams=["s"], on_event=events.append,
                           lease=1.0) as source:
        assert [c.sequence_number for c in read(source, 10)] == list(range(10))
        sink.write(make_chunks("s", 100, first=10))
        client.xtrim("rs2fast:{s}", maxlen=20, approximate=False)     # 10..89 are gone
        rest = read(source, 20)
        stats = source.get_stats()
    assert [c.sequence_number for c in rest] == list(range(90, 110))
    assert stats.lost == 80 and stats.read == 30
    holes = [e for e in events if isinstance(e, ChunkDropped)]
    assert len(holes) == 1 and holes[0].sequence_number == 10 and "lost 80 chunk(s)" in holes[0].reason


def test_maxlen_bounds_the_stream(client):
    RedisStreamSink(client, maxlen=100).write(make_chunks("s", 2000, 8))
    assert 100 <= client.xlen("rs2fast:{s}") < 400


def test_a_corrupted_entry_is_counted_and_the_stream_goes_on(client):
    RedisStreamSink(client).write(make_chunks("s", 6))
    key = "rs2fast:{s}"
    entries = client.xrange(key)
    client.delete(key)
    for index, (entry_id, fields) in enumerate(entries):       # write them back, one byte changed
        if index == 2:
            fields[b"d"] = bytes([fields[b"d"][0] ^ 0xFF]) + fields[b"d"][1:]
        if index == 4:
            fields = {b"note": b"not a chunk"}
        client.xadd(key, fields, id=entry_id)
    events = []
    with RedisStreamSource(client, group="g", consumer="c", on_event=events.append) as source:
        got = read(source, 4)
        stats = source.get_stats()
    assert [c.sequence_number for c in got] == [0, 1, 3, 5]
    assert stats.checksum_failures == 2 and stats.lost == 1   # the foreign entry hides sequence 4
    reasons = [e.reason for e in events]
    assert any("checksum mismatch" in r for r in reasons)
    assert any("is not an rs2fast chunk" in r for r in reasons)


def test_a_key_that_is_not_an_rs2fast_stream(client):
    client.set("rs2fast:{text}", b"hello")
    RedisStreamSink(client).write(make_chunks("real", 3))
    with RedisStreamSource(client, group="g", consumer="c", streams=["text"]) as named:
        with pytest.raises(ValueError, match=r"rs2fast:\{text\} holds a string, not an rs2fast stream"):
            next(named)
    with RedisStreamSource(client, group="g", consumer="c") as everything:   # "*" skips it
        assert [c.stream_id for c in read(everything, 3)] == ["real"] * 3
    assert client.get("rs2fast:{text}") == b"hello"


def test_an_absent_server_is_a_clear_error_within_a_bounded_time():
    port = redis_servers.free_port()
    started = time.monotonic()
    with pytest.raises(RedisUnavailable, match=f"127.0.0.1:{port} did not answer for 1 s"):
        next(RedisStreamSource(connect(f"redis://127.0.0.1:{port}", timeout=0.5), group="g",
                               consumer="c", retry_for=1.0))
    with pytest.raises(RedisUnavailable):
        RedisStreamSink(connect(f"redis://127.0.0.1:{port}"), retry_for=0.5).write(make_chunks("s", 1))
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("url", ["not a url", "http://example.com", "redis://host:notaport"])
def test_a_url_that_does_not_parse(url):
    with pytest.raises(ValueError, match="url"):
        connect(url)


@pytest.mark.parametrize("options, error, message", [
    ({"group": ""}, ValueError, "group must be a non-empty"),
    ({"group": "a{b}"}, ValueError, "group must be"),
    ({"consumer": 5}, TypeError, "consumer must be a str"),
    ({"streams": "cam"}, TypeError, "streams must be '\\*' or a list"),
    ({"streams": []}, ValueError, "at least one stream"),
    ({"lease": 0}, ValueError, "lease must be a positive"),
    ({"retry_for": float("nan")}, ValueError, "retry_for"),
    ({"on_event": "print"}, TypeError, "on_event must be callable"),
])
def test_bad_source_arguments(client, options, error, message):
    arguments = {"group": "g", "consumer": "c", **options}
    with pytest.raises(error, match=message):
        RedisStreamSource(client, **arguments)


def test_bad_sink_input(client):
    with pytest.raises(ValueError, match="maxlen"):
        RedisStreamSink(client, maxlen=0)
    with pytest.raises(TypeError, match="client must be a redis-py client"):
        RedisStreamSink(object())
    with pytest.raises(ValueError, match="decode_responses=False"):
        RedisStreamSink(redis.Redis(decode_responses=True))
    sink = RedisStreamSink(client)
    with pytest.raises(TypeError, match="MediaChunk objects, not bytes"):
        sink.write([b"raw"])
    with pytest.raises(ValueError, match="stream_id must be a non-empty string without"):
        sink.write([MediaChunk("a}b", 0, b"x", 0)])
    assert sink.get_stats().written == 0


# --- close, async, cluster -----------------------------------------------------------------------

def test_close_from_another_thread_wakes_a_waiting_iteration(client):
    source = RedisStreamSource(client, group="g", consumer="c", streams=["quiet"])
    ended = []
    reader = threading.Thread(target=lambda: ended.append(list(source)))
    reader.start()
    time.sleep(0.5)
    assert reader.is_alive()                                 # waiting for entries
    started = time.monotonic()
    source.close()
    reader.join(5)
    assert not reader.is_alive() and ended == [[]]
    assert time.monotonic() - started < 2
    assert client.get("rs2fast:{quiet}:lease:g") is None     # the lease was given back


def test_async_iteration_and_a_cancelled_read_consumes_nothing(server):
    async def main():
        client = redis.asyncio.Redis.from_url(server.url)
        await client.flushall()
        source = RedisStreamSource(client, group="g", consumer="c", streams=["s"])
        for _ in range(3):                                      # cancelled while waiting
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(source.__anext__(), 0.15)
        sink = RedisStreamSink(client)
        assert await sink.awrite(make_chunks("s", 50)) == 50
        got = []
        cancelled = 0
        for step in range(400):                                 # reads cancelled at many points
            if len(got) == 50:
                break
            try:
                chunk = await asyncio.wait_for(source.__anext__(), 0.0002 * (step % 7))
            except asyncio.TimeoutError:
                cancelled += 1
                continue
            got.append(chunk.sequence_number)
        assert cancelled > 0
        await source.aclose()
        await client.aclose()
        return got, source.get_stats()

    got, stats = asyncio.run(asyncio.wait_for(main(), 60))
    assert got == list(range(50))
    assert stats.read == 50 and stats.acknowledged == 50 and stats.duplicates == 0


@pytest.mark.parametrize("delay", [step * 0.0005 for step in range(14)])
def test_a_call_cancelled_before_close_loses_nothing(server, delay):
    async def main():
        client = redis.asyncio.Redis.from_url(server.url)
        await client.flushall()
        await RedisStreamSink(client).awrite(make_chunks("s", 10))
        first = RedisStreamSource(client, group="g", consumer="one", streams=["s"])
        call = asyncio.ensure_future(first.anext_batch(5))
        await asyncio.sleep(delay)
        call.cancel()
        delivered = []
        try:
            delivered = [c.sequence_number for c in await call]   # it may have finished first
        except asyncio.CancelledError:
            pass
        await first.aclose()
        second = RedisStreamSource(client, group="g", consumer="two", streams=["s"])
        rest = []
        while len(delivered) + len(rest) < 10:
            rest += [c.sequence_number for c in await second.anext_batch(10)]
        await second.aclose()
        await client.aclose()
        return delivered, rest, first.get_stats(), second.get_stats()

    delivered, rest, first, second = asyncio.run(asyncio.wait_for(main(), 30))
    assert delivered + rest == list(range(10))
    assert first.read == len(delivered) and second.duplicates == 0 and second.lost == 0


def test_async_batches(server):
    async def main():
        client = redis.asyncio.Redis.from_url(server.url)
        await client.flushall()
        await RedisStreamSink(client).awrite(make_chunks("s", 30))
        source = RedisStreamSource(client, group="g", consumer="c", streams=["s"])
        got = []
        while len(got) < 30:
            got += [c.sequence_number for c in await source.anext_batch(8)]
        await source.aclose()
        assert await source.anext_batch() == []                 # closed
        await client.aclose()
        return got, source.get_stats()

    got, stats = asyncio.run(asyncio.wait_for(main(), 60))
    assert got == list(range(30)) and stats.read == stats.acknowledged == 30


def test_each_source_iterates_both_ways(server, client):
    RedisStreamSink(client).write(make_chunks("s", 6))
    sync_made = RedisStreamSource(client, group="g", consumer="c", streams=["s"])

    async def take_three(source):
        got = []
        async for chunk in source:
            got.append(chunk.sequence_number)
            if len(got) == 3:
                break
        await source.aclose()
        return got

    assert asyncio.run(take_three(sync_made)) == [0, 1, 2]       # async for on a sync client
    async_made = RedisStreamSource(redis.asyncio.Redis.from_url(server.url), group="g", consumer="d",
                                   streams=["s"])
    assert [c.sequence_number for c in read(async_made, 3)] == [3, 4, 5]   # for on an asyncio client
    async_made.close()
    assert async_made.get_stats().acknowledged == 3


def test_a_three_master_cluster_carries_the_streams():
    nodes = redis_servers.RedisCluster().start()
    try:
        from redis.cluster import RedisCluster
        client = RedisCluster(host="127.0.0.1", port=nodes.nodes[0].port, socket_timeout=5)
        sent = [c for s in range(12) for c in make_chunks(f"cam{s}", 20, 50)]
        assert RedisStreamSink(client).write(sent) == len(sent)
        slots = {client.keyslot(f"rs2fast:{{cam{s}}}") for s in range(12)}
        owners = {client.get_node_from_key(f"rs2fast:{{cam{s}}}").port for s in range(12)}
        assert len(owners) == 3 and len(slots) == 12              # spread over every master
        assert client.keyslot("rs2fast:{cam0}") == client.keyslot("rs2fast:{cam0}:lease:g")
        with RedisStreamSource(client, group="g", consumer="c") as source:
            got = read(source, len(sent))
            stats = source.get_stats()
        assert by_stream(got) == by_stream(with_crc(c) for c in sent)
        assert stats.streams_owned == 12 and stats.duplicates == stats.lost == 0
        client.close()
    finally:
        nodes.stop()


def test_stats_are_copies(client):
    sink = RedisStreamSink(client)
    stats = sink.get_stats()
    stats.written = 99
    assert sink.get_stats().written == 0
    assert isinstance(RedisStreamSource(client, group="g", consumer="c").get_stats(), RedisSourceStats)
