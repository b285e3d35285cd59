"""Chunk streams across processes and machines on Redis Streams (the optional `rs2fast[redis]` extra).

`RedisStreamSink` appends chunks to one Redis Stream per stream id (key `{prefix}:{{stream_id}}`, the
braces a Redis Cluster hash tag, so a stream's keys share one shard). `RedisStreamSource` reads them
through a consumer group: each stream is owned by one consumer of the group at a time (a lease key
set-if-absent with expiry, renewed while the consumer reads), every chunk's checksum is verified, and
the group's delivered position per stream is kept in Redis so that entries delivered again after a
consumer died are recognised as duplicates. Give a `redis.Redis` / `redis.cluster.RedisCluster` or their
`redis.asyncio` twins; `async for` uses redis.asyncio (no thread waits for a consumer), so a source
made with a synchronous single-server client makes an asyncio one for it (and the other way round).
"""
from __future__ import annotations

import itertools
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from rs2fast._chunk import (
    VALIDATION_CHECKSUM_MISMATCH,
    VALIDATION_MALFORMED_CHECKSUM,
    MediaChunk,
    validate_batch,
)
from rs2fast._notify import EventEmitter
from rs2fast._redis_client import (
    RedisUnavailable,
    arun_commands,
    connect,
    Retry,
    check_client,
    check_count,
    check_positive,
    io_errors,
    is_async,
    is_cluster,
    raise_errors,
    run_commands,
    twin,
    where,
)
from rs2fast._redis_wire import (
    check_name,
    decode,
    encode,
    lease_key,
    position_key,
    stream_id_of,
    stream_key,
)
from rs2fast.events import ChunkDropped

__all__ = ["RedisStreamSink", "RedisStreamSource", "RedisSinkStats", "RedisSourceStats",
           "RedisUnavailable", "connect"]

_WRITE_ENTRIES = 256            # entries per pipelined write
_WRITE_BYTES = 4 << 20          # ... or fewer when they are this large
_FETCH_ENTRIES = 256            # entries per read, shared by the owned streams
_BLOCK_MS = 100                 # longest wait inside Redis; close() is noticed within it
_DISCOVER_EVERY = 1.0           # seconds between scans for new streams (streams="*")
_BELOW_SHARE_EVERY = 0.25       # seconds between looks for streams given back, below the fair share

# Take a stream's lease for ARGV[1] if free (or already ours), make the group, claim every entry
# pending for another consumer of the group, and return {next expected sequence number}.
_TAKE = """
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'stream' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' holds a ' .. kind .. ', not an rs2fast stream')
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return false end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[2], '0', 'MKSTREAM')
local cursor = '0-0'
repeat
  cursor = redis.call('XAUTOCLAIM', KEYS[1], ARGV[2], ARGV[1], 0, cursor, 'COUNT', 1000, 'JUSTID')[1]
until cursor == '0-0'
return {redis.call('HGET', KEYS[3], ARGV[2]) or '0'}
"""

# While ARGV[1] holds the lease KEYS[1]: renew it for ARGV[3] ms (0: release it) and, with KEYS[2],
# store ARGV[4] as the group ARGV[2]'s next expected sequence number. 1 if held, 0 if not.
_HOLD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if #KEYS > 1 then redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end
return 1
"""


@dataclass
class RedisSinkStats:
    """What a RedisStreamSink wrote: chunks and their data bytes."""

    written: int = 0
    bytes_written: int = 0


@dataclass
class RedisSourceStats:
    """What a RedisStreamSource read, delivered, acknowledged and dropped (each drop is announced).

    `read`/`bytes_read`: chunks delivered to the caller; `acknowledged`: of those, acknowledged in
    Redis; `redelivered`: entries read again after a hand-over or a lost reply; `duplicates`: chunks
    dropped because the group had delivered their sequence number already; `checksum_failures`: entries
    dropped because they failed verification (or are not rs2fast chunks); `lost`: sequence numbers
    never seen because Redis trimmed them first; `streams_owned`: streams this consumer holds now.
    """

    read: int = 0
    bytes_read: int = 0
    acknowledged: int = 0
    redelivered: int = 0
    duplicates: int = 0
    checksum_failures: int = 0
    lost: int = 0
    streams_owned: int = 0


class RedisStreamSink:
    """Appends chunks to Redis Streams, one key per stream id, in pipelined batches.

    `maxlen` bounds each stream approximately (XADD MAXLEN ~). A slow Redis slows `write`: at most one
    batch is in flight. Lost connections are retried with backoff for `retry_for` seconds, then
    RedisUnavailable; a batch sent again after a lost reply may append duplicates, which a
    RedisStreamSource drops and counts.
    """

    def __init__(self, client: Any, *, prefix: str = "rs2fast", maxlen: Optional[int] = None,
                 retry_for: float = 10.0) -> None:
        self._client = check_client(client)
        self.prefix = check_name(prefix, "prefix")
        if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1):
            raise ValueError(f"maxlen must be None or a positive int, got {maxlen!r}")
        self.maxlen = maxlen
        self.retry_for = check_positive(retry_for, "retry_for")
        self._trim = () if maxlen is None else ("MAXLEN", "~", maxlen)
        self._stats = RedisSinkStats()

    def __repr__(self) -> str:
        return (f"RedisStreamSink(prefix={self.prefix!r}, maxlen={self.maxlen}, "
                f"written={self._stats.written})")

    def _batches(self, chunks: Iterable[MediaChunk]):
        batch: list = []
        size = 0
        for chunk in chunks:
            if not isinstance(chunk, MediaChunk):
                raise TypeError(f"chunks must hold MediaChunk objects, not {type(chunk).__name__}")
            key = stream_key(self.prefix, check_name(chunk.stream_id, "stream_id"))
            header, data = encode(chunk)
            batch.append(("XADD", key, *self._trim, "*", "h", header, "d", data))
            size += len(data)
            if len(batch) >= _WRITE_ENTRIES or size >= _WRITE_BYTES:
                yield batch, size
                batch, size = [], 0
        if batch:
            yield batch, size

    def _count(self, batch: list, size: int) -> int:
        self._stats.written += len(batch)
        self._stats.bytes_written += size
        return len(batch)

    def write(self, chunks: Iterable[MediaChunk]) -> int:
        """Append every chunk of `chunks` (any iterable of MediaChunk); return how many were written."""
        if is_async(self._client):
            raise TypeError("this sink has a redis.asyncio client: use `await sink.awrite(chunks)`")
        retry = Retry(self.retry_for, where(self._client))
        written = 0
        for batch, size in self._batches(chunks):
            while True:
                try:
                    raise_errors(run_commands(self._client, batch))
                    break
                except io_errors() as error:
                    time.sleep(retry.next_delay(error))
            retry.succeeded()
            written += self._count(batch, size)
        return written

    async def awrite(self, chunks: Iterable[MediaChunk]) -> int:
        """`write` for a sink made with a redis.asyncio client."""
        import asyncio

        if not is_async(self._client):
            raise TypeError("this sink has a synchronous client: use `sink.write(chunks)`")
        retry = Retry(self.retry_for, where(self._client))
        written = 0
        for batch, size in self._batches(chunks):
            while True:
                try:
                    raise_errors(await arun_commands(self._client, batch))
                    break
                except io_errors() as error:
                    await asyncio.sleep(retry.next_delay(error))
            retry.succeeded()
            written += self._count(batch, size)
        return written

    def get_stats(self) -> RedisSinkStats:
        """A copy of the counters."""
        return RedisSinkStats(**vars(self._stats))


# --- source: the state machine shared by the sync and async drivers -------------------------------

class _Owned:
    """A stream this consumer holds the lease of."""

    __slots__ = ("stream_id", "key", "lease", "position", "expected", "last_id", "history")

    def __init__(self, prefix: str, group: str, stream_id: str, expected: int) -> None:
        self.stream_id = stream_id
        self.key = stream_key(prefix, stream_id)
        self.lease = lease_key(prefix, stream_id, group)
        self.position = position_key(prefix, stream_id)
        self.expected = expected      # the group's next sequence number for this stream
        self.last_id = "0"            # id of the last entry fetched
        self.history = True           # read our own pending entries (after last_id) before new ones


class _Entry:
    __slots__ = ("owned", "entry_id", "chunk", "sequence", "problem", "again")

    def __init__(self, owned: _Owned, entry_id: Any, chunk: Optional[MediaChunk], problem: str,
                 again: bool) -> None:
        self.owned = owned
        self.entry_id = entry_id
        self.chunk = chunk
        self.sequence = -1 if chunk is None else chunk.sequence_number
        self.problem = problem        # why it cannot be delivered ("" when it can)
        self.again = again            # read from the pending list: delivered to the group before


class _Step:
    """Commands to send in one pipeline (or a SCAN, or a wait) and what to do with the replies."""

    __slots__ = ("commands", "apply", "scan", "wait", "acks")

    def __init__(self, commands: Sequence[tuple] = (), apply: Callable[[list], Any] = lambda results: None,
                 *, scan: Optional[str] = None, wait: float = 0.0, acks: Sequence = ()) -> None:
        self.commands = list(commands)
        self.apply = apply
        self.scan = scan
        self.wait = wait
        self.acks = acks


class _SourceCore:
    """Which commands to send next and what the replies mean; no I/O of its own."""

    def __init__(self, source: "RedisStreamSource", cluster: bool) -> None:
        self.s = source
        self.cluster = cluster
        self.lease_ms = str(max(1, int(source.lease * 1000)))
        self.members = f"{source.prefix}:members:{{{source.group}}}"
        self.owned: dict[str, _Owned] = {}
        self.candidates: set[str] = set() if source.streams == "*" else set(source.streams)
        self.buffer: deque[_Entry] = deque()
        self.to_ack: list = []                       # (key, entry id, delivered chunk?)
        self.previous: list[_Entry] = []             # delivered, acknowledged when the next are taken
        self.limit = 1                               # chunks the caller takes at once
        self.unacked: dict = {}                      # (stream_id, seq) -> _Entry, for ack()
        self.to_take: list[str] = []
        self.to_release: list[str] = []
        self.next_upkeep = 0.0
        self.next_discovery = 0.0
        self.quiet_until = 0.0                       # cluster: when to poll empty streams again

    # -- planning --
    def plan(self) -> _Step:
        """The next step; never None (the drivers stop on the closed flag)."""
        now = time.monotonic()
        if self.s.streams == "*" and now >= self.next_discovery:
            self.next_discovery = now + _DISCOVER_EVERY
            return _Step(apply=self._discovered, scan=self._pattern())
        if now >= self.next_upkeep:
            self.next_upkeep = now + self.s.lease / 3
            return self._with_acks(self._upkeep())
        if self.to_take:
            return self._with_acks(self._take())
        if self.to_release:
            return self._with_acks(self._release(self.to_release))
        while self.buffer:
            if self._deliverable(self.buffer[0]):
                return self._with_acks(self._deliver(self._run()))
            self.buffer.popleft()
        if self.owned and now >= self.quiet_until:
            return self._with_acks(self._fetch())
        if self.to_ack:
            return self._with_acks(_Step())
        wake = min(self.next_upkeep, self.quiet_until if self.owned else math.inf,
                   self.next_discovery if self.s.streams == "*" else math.inf)
        return _Step(wait=min(max(0.001, wake - now), _BLOCK_MS / 1000))

    def _pattern(self) -> str:
        escaped = "".join("\\" + c if c in "*?[]\\" else c for c in self.s.prefix)
        return escaped + ":{*}"

    def _with_acks(self, step: _Step) -> _Step:
        if self.to_ack:
            by_key: dict = {}
            for key, entry_id, _delivered in self.to_ack:
                by_key.setdefault(key, []).append(entry_id)
            step.commands[:0] = [("XACK", key, self.s.group, *ids) for key, ids in by_key.items()]
            step.acks, self.to_ack = self.to_ack, []
            inner = step.apply
            count = len(by_key)

            def apply(results: list) -> Optional[MediaChunk]:
                raise_errors(results[:count])
                self.s._stats.acknowledged += sum(1 for _k, _i, delivered in step.acks if delivered)
                return inner(results[count:])
            step.apply = apply
        return step

    def interrupted(self, step: _Step) -> None:
        """`step` may or may not have reached Redis (lost reply, cancelled await): make it safe to
        plan again. Fetched entries are in our pending list, so read it again from the last id."""
        self.to_ack[:0] = list(step.acks)
        step.acks = ()
        for owned in self.owned.values():
            owned.history = True
        self.next_upkeep = min(self.next_upkeep, time.monotonic() + 0.05)

    # -- discovery and leases --
    def _discovered(self, keys: list) -> None:
        found = (stream_id_of(self.s.prefix, key) for key in keys)
        self.candidates = {name for name in found if name is not None}   # a deleted one is not remade

    def _upkeep(self) -> _Step:
        """Renew our leases, count the group's live members, and see which other streams have no
        owner: a consumer below its share takes those (never one another consumer holds, so
        streams given back are found at once) and, short of a fair share, looks again soon; one
        above its share gives some back."""
        now_ms = int(time.time() * 1000)
        owned = list(self.owned.values())
        others = sorted(self.candidates - set(self.owned))
        s = self.s
        commands = [("ZADD", self.members, now_ms + int(self.lease_ms), s.consumer),
                    ("ZREMRANGEBYSCORE", self.members, "-inf", now_ms),
                    ("ZCARD", self.members)]
        commands += [("EVAL", _HOLD, 1, o.lease, s.consumer, s.group, self.lease_ms) for o in owned]
        commands += [("EXISTS", lease_key(s.prefix, name, s.group)) for name in others]

        def apply(results: list) -> None:
            raise_errors(results)
            for o, held in zip(owned, results[3:3 + len(owned)]):
                if not held:
                    self._drop(o)
            streams, members = len(self.candidates | set(self.owned)), max(1, int(results[2]))
            share = math.ceil(streams / members)
            unowned = [name for name, held in zip(others, results[3 + len(owned):])
                       if not held and name not in self.owned]
            if len(self.owned) < share:
                if unowned:
                    self.to_take = random.sample(unowned, min(len(unowned), share - len(self.owned)))
                if unowned or len(self.owned) < streams // members:     # short of a fair share
                    self.next_upkeep = min(self.next_upkeep, time.monotonic() + _BELOW_SHARE_EVERY)
            elif len(self.owned) > share:
                self.to_release = random.sample(sorted(self.owned), len(self.owned) - share)
        return _Step(commands, apply)

    def _take(self) -> _Step:
        names, self.to_take = self.to_take, []
        s = self.s
        commands = [("EVAL", _TAKE, 3, stream_key(s.prefix, n), lease_key(s.prefix, n, s.group),
                     position_key(s.prefix, n), s.consumer, s.group, self.lease_ms) for n in names]

        def apply(results: list) -> None:
            for name, result in zip(names, results):
                if isinstance(result, Exception):
                    if "WRONGTYPE" in str(result):
                        raise ValueError(f"streams: {result}".replace("WRONGTYPE ", ""))
                    raise result
                if result:
                    self.owned[name] = _Owned(s.prefix, s.group, name, int(result[0]))
            s._stats.streams_owned = len(self.owned)
        return _Step(commands, apply)

    def _release(self, names: Sequence[str]) -> _Step:
        held = [self.owned[n] for n in names if n in self.owned]
        self.to_release = []
        for o in held:
            self._settle_previous(o)
            self._drop(o)
        commands: list[tuple] = [("EVAL", _HOLD, 1, o.lease, self.s.consumer, self.s.group, "0")
                                 for o in held]
        if self.s._closed.is_set():
            commands.append(("ZREM", self.members, self.s.consumer))
        return _Step(commands)

    def _settle_previous(self, owned: Optional[_Owned] = None) -> None:
        """Queue the acknowledgement of the previous chunks (autoack), of `owned` only if given."""
        keep = []
        for entry in self.previous:
            if owned is None or entry.owned is owned:
                if self.s.autoack:
                    self._queue_ack(entry)
            else:
                keep.append(entry)
        self.previous = keep

    def _queue_ack(self, entry: _Entry) -> None:
        if entry.chunk is not None:
            self.unacked.pop((entry.chunk.stream_id, entry.chunk.sequence_number), None)
        self.to_ack.append((entry.owned.key, entry.entry_id, not entry.problem))

    def _drop(self, owned: _Owned) -> None:
        """Forget a stream whose lease is gone; its fetched entries stay pending for the next owner."""
        self.owned.pop(owned.stream_id, None)
        self.buffer = deque(e for e in self.buffer if e.owned is not owned)
        self.s._stats.streams_owned = len(self.owned)

    def closing(self, undelivered: Sequence[MediaChunk] = ()) -> _Step:
        """The last step: acknowledge, release every lease, leave the group's member list.

        `undelivered`: chunks whose positions were stored but that never reached the caller (a
        cancelled call, then close); their positions are put back, so the next owner delivers them."""
        rewind: dict = {}
        taken_back = {id(chunk) for chunk in undelivered}
        for entry in [e for e in self.previous if id(e.chunk) in taken_back]:
            self.previous.remove(entry)
            if entry.chunk is not None:
                self.unacked.pop((entry.chunk.stream_id, entry.sequence), None)
                self.s._stats.read -= 1
                self.s._stats.bytes_read -= len(entry.chunk)
            rewind.setdefault(entry.owned.stream_id, entry)
        self._settle_previous()
        step = self._release(list(self.owned))
        step.commands[:0] = [("EVAL", _HOLD, 2, e.owned.lease, e.owned.position, self.s.consumer,
                              self.s.group, self.lease_ms, e.sequence) for e in rewind.values()]
        return self._with_acks(step)

    # -- reading --
    def _fetch(self) -> _Step:
        owned = list(self.owned.values())
        count = max(1, _FETCH_ENTRIES // len(owned))
        group, me = self.s.group, self.s.consumer
        block = not self.cluster and not any(o.history for o in owned)
        if self.cluster:
            commands = [("XREADGROUP", "GROUP", group, me, "COUNT", count, "STREAMS", o.key,
                         o.last_id if o.history else ">") for o in owned]
        else:
            commands = [("XREADGROUP", "GROUP", group, me, "COUNT", count,
                         *(("BLOCK", _BLOCK_MS) if block else ()), "STREAMS",
                         *(o.key for o in owned), *(o.last_id if o.history else ">" for o in owned))]

        def apply(results: list) -> Optional[MediaChunk]:
            by_key = {o.key: o for o in owned}
            seen: set = set()
            batch: list[_Entry] = []
            for result in results:
                if isinstance(result, Exception) and str(result).startswith(("NOGROUP", "UNBLOCKED")):
                    for o in owned:                  # key or group deleted: take the stream anew
                        self._drop(o)
                    return None
                for key, entries in _stream_replies(raise_errors([result])[0]):
                    o = by_key[key.decode() if isinstance(key, bytes) else key]
                    if entries:
                        seen.add(o.key)
                    batch += self._decode(o, entries)
            for o in owned:
                if o.history and o.key not in seen:
                    o.history = False            # the pending list is read through
            self._verify(batch)
            self.buffer.extend(batch)
            if not batch and self.cluster:       # nothing new: poll again a little later
                self.quiet_until = time.monotonic() + _BLOCK_MS / 2000
            return None
        return _Step(commands, apply)

    def _decode(self, owned: _Owned, entries: list) -> list[_Entry]:
        made = []
        again = owned.history
        for entry_id, fields in entries:
            owned.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            if again:
                self.s._stats.redelivered += 1
            if fields is None:                    # deleted (trimmed) while pending: the gap shows it
                self.to_ack.append((owned.key, entry_id, False))
                continue
            try:
                chunk = decode(fields)
            except (ValueError, UnicodeDecodeError) as error:
                made.append(_Entry(owned, entry_id, None, f"entry {owned.last_id} is not an rs2fast "
                                   f"chunk: {error}", again))
                continue
            problem = "" if chunk.stream_id == owned.stream_id else (
                f"entry {owned.last_id} holds a chunk of stream {chunk.stream_id!r}")
            made.append(_Entry(owned, entry_id, chunk, problem, again))
        return made

    def _verify(self, batch: list[_Entry]) -> None:
        checked = [e for e in batch if e.chunk is not None and not e.problem]
        codes = validate_batch([e.chunk for e in checked if e.chunk is not None], None, None, None, True)
        for entry, code in zip(checked, codes):
            if code in (VALIDATION_CHECKSUM_MISMATCH, VALIDATION_MALFORMED_CHECKSUM):
                entry.problem = "checksum mismatch" if code == VALIDATION_CHECKSUM_MISMATCH else (
                    "malformed checksum")

    def _deliverable(self, entry: _Entry) -> bool:
        """True for a chunk to deliver; a bad entry or a duplicate is counted, announced, acked."""
        owned, chunk = entry.owned, entry.chunk
        if entry.problem:
            self.s._stats.checksum_failures += 1
            if chunk is not None and chunk.sequence_number >= owned.expected:
                owned.expected = chunk.sequence_number + 1     # dropped here, so not a hole later
            self.s._announce(owned.stream_id, chunk.sequence_number if chunk else owned.expected,
                             entry.problem)
        elif chunk is not None and chunk.sequence_number < owned.expected:
            self.s._stats.duplicates += 1
            self.s._announce(owned.stream_id, chunk.sequence_number,
                             f"duplicate: the group has delivered up to {owned.expected - 1}")
        else:
            return True
        self.to_ack.append((owned.key, entry.entry_id, False))
        return False

    def _run(self) -> list[_Entry]:
        """The deliverable entries at the head of the buffer, at most `limit` (the head is one)."""
        run = [self.buffer[0]]
        ahead = {id(run[0].owned): run[0].sequence}
        for entry in itertools.islice(self.buffer, 1, None):
            if len(run) >= self.limit or entry.problem or entry.chunk is None:
                break
            last = ahead.get(id(entry.owned), entry.owned.expected - 1)
            if entry.sequence <= last:
                break                        # a duplicate: dropped when it reaches the head
            ahead[id(entry.owned)] = entry.sequence
            run.append(entry)
        return run

    def _deliver(self, run: list[_Entry]) -> _Step:
        """Store the group's position of each stream in `run` (while the lease is ours), then hand
        the chunks over: the position is in Redis before the caller has a chunk."""
        self._settle_previous()
        last: dict = {}
        for entry in run:
            last[entry.owned.stream_id] = entry
        streams = [entry.owned for entry in last.values()]
        commands = [("EVAL", _HOLD, 2, o.lease, o.position, self.s.consumer, self.s.group,
                     self.lease_ms, last[o.stream_id].sequence + 1) for o in streams]

        def apply(results: list) -> Optional[list]:
            lost = {id(o) for o, held in zip(streams, raise_errors(results)) if not held}
            for o in streams:
                if id(o) in lost:            # the lease went to another consumer
                    self._drop(o)
            taken = {id(e) for e in run}
            self.buffer = deque(e for e in self.buffer if id(e) not in taken)
            chunks = [self._hand_over(e) for e in run if id(e.owned) not in lost]
            return chunks or None
        return _Step(commands, apply)

    def _hand_over(self, entry: _Entry) -> MediaChunk:
        owned, chunk, seq = entry.owned, entry.chunk, entry.sequence
        assert chunk is not None
        if seq > owned.expected:
            missing = seq - owned.expected
            self.s._stats.lost += missing
            self.s._announce(owned.stream_id, owned.expected,
                             f"lost {missing} chunk(s) ({owned.expected}..{seq - 1}): trimmed from "
                             f"Redis before this group read them")
        owned.expected = seq + 1
        stats = self.s._stats
        stats.read += 1
        stats.bytes_read += len(chunk)
        self.previous.append(entry)
        if not self.s.autoack:
            self.unacked[(chunk.stream_id, seq)] = entry
        return chunk


def _stream_replies(result: Any) -> list:
    """[(key, [(id, fields)])] from an XREADGROUP reply in RESP2 (list) or RESP3 (dict) shape."""
    if not result:
        return []
    if isinstance(result, dict):
        return [(key, value[0] if value and isinstance(value[0], list) else value)
                for key, value in result.items()]
    return [(key, entries) for key, entries in result]


# --- source -------------------------------------------------------------------------------------

class RedisStreamSource:
    """Reads chunk streams from Redis through a consumer group; an iterator and an async iterator.

    `streams` is a list of stream ids or "*" (every stream under `prefix`, new ones picked up while
    running). Each stream is owned by one consumer of the group at a time through a lease of `lease`
    seconds kept in Redis and renewed while this consumer reads; consumers share the streams, and the
    streams of a consumer that stopped renewing are taken over with its unacknowledged entries.
    Checksums are verified on arrival; drops (bad checksum, duplicate, trimmed before read) are counted
    in `get_stats()` and announced as ChunkDropped to `on_event`. With `autoack` a chunk is
    acknowledged when the next one is taken or the source closes; otherwise call `ack(chunk)`.
    Acknowledgements travel with the next command sent. Leases are renewed while the source is
    iterated: a consumer that spends longer than `lease` on one chunk may lose its streams, and then
    drops what it had fetched of them (the new owner delivers it). A lost connection is retried with
    backoff for `retry_for` seconds, then RedisUnavailable.
    """

    def __init__(self, client: Any, *, group: str, consumer: str,
                 streams: Union[str, Sequence[str]] = "*", prefix: str = "rs2fast", lease: float = 10.0,
                 autoack: bool = True, on_event: Optional[Callable[[object], None]] = None,
                 retry_for: float = 10.0) -> None:
        self._client = check_client(client)
        self.group = check_name(group, "group")
        self.consumer = check_name(consumer, "consumer")
        self.prefix = check_name(prefix, "prefix")
        if streams == "*":
            self.streams: Union[str, tuple] = "*"
        elif isinstance(streams, (str, bytes)) or not isinstance(streams, Iterable):
            raise TypeError(f"streams must be '*' or a list of stream ids, not {streams!r}")
        else:
            self.streams = tuple(check_name(s, "streams item") for s in streams)
            if not self.streams:
                raise ValueError("streams must name at least one stream (or be '*')")
        self.lease = check_positive(lease, "lease")
        self.retry_for = check_positive(retry_for, "retry_for")
        self.autoack = bool(autoack)
        self._events = EventEmitter(on_event)
        self._stats = RedisSourceStats()
        self._closed = threading.Event()
        self._finished = False
        self._lock = threading.Lock()
        self._core = _SourceCore(self, is_cluster(client))
        self._async = is_async(client)
        self._inflight: Optional[tuple] = None     # (step, task) of a round trip not yet applied

    def __repr__(self) -> str:
        return (f"RedisStreamSource(group={self.group!r}, consumer={self.consumer!r}, "
                f"streams={self.streams!r}, owned={self._stats.streams_owned}, read={self._stats.read})")

    def get_stats(self) -> RedisSourceStats:
        """A copy of the counters."""
        return RedisSourceStats(**vars(self._stats))

    def ack(self, chunk: MediaChunk) -> None:
        """Acknowledge a delivered chunk (sent with the next command, or at close)."""
        if not isinstance(chunk, MediaChunk):
            raise TypeError(f"chunk must be a MediaChunk, not {type(chunk).__name__}")
        core = self._core
        entry = core.unacked.pop((chunk.stream_id, chunk.sequence_number), None)
        if entry is None:
            if self.autoack:
                return                       # acknowledged by the iteration itself
            raise ValueError(f"chunk {chunk.stream_id!r}#{chunk.sequence_number} was not delivered "
                             f"by this source or is acknowledged already")
        core.previous = [e for e in core.previous if e is not entry]
        core._queue_ack(entry)

    def _announce(self, stream_id: str, sequence_number: int, reason: str) -> None:
        self._events.emit(ChunkDropped(stream_id, 0, max(0, sequence_number), reason))

    # -- sync --
    def __iter__(self) -> "RedisStreamSource":
        if self._async:
            self._client, self._async = twin(self._client, False), False
        return self

    def __next__(self) -> MediaChunk:
        chunks = self._collect(1)
        if not chunks:
            raise StopIteration
        return chunks[0]

    def next_batch(self, max_chunks: int = 256) -> list[MediaChunk]:
        """Up to `max_chunks` chunks at once, waiting for the first; [] once the source is closed.

        One round trip stores the group's positions for the whole batch (iteration needs one per
        chunk); with autoack the batch is acknowledged when the next chunks are taken."""
        return self._collect(check_count(max_chunks))

    def _collect(self, limit: int) -> list[MediaChunk]:
        if self._async:
            self.__iter__()
        with self._lock:
            self._core.limit = limit
            retry = Retry(self.retry_for, where(self._client))
            while not self._closed.is_set():
                step = self._core.plan()
                if step.wait:
                    self._closed.wait(step.wait)
                    continue
                try:
                    results = (list(self._client.scan_iter(match=step.scan, count=1000, _type="stream"))
                               if step.scan else run_commands(self._client, step.commands))
                except io_errors() as error:
                    self._core.interrupted(step)
                    self._closed.wait(retry.next_delay(error))
                    continue
                except BaseException:                # e.g. KeyboardInterrupt: nothing is skipped
                    self._core.interrupted(step)
                    raise
                retry.succeeded()
                chunks = step.apply(results)
                if chunks:
                    return chunks
            self._finish()
        return []

    def close(self) -> None:
        """End the source: wake a waiting iteration (from any thread), acknowledge (autoack) and give
        the leases back. With a redis.asyncio client the running `async for` does that; else `aclose`."""
        self._closed.set()
        if not self._async:
            with self._lock:
                self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        step = self._core.closing()
        try:
            step.apply(run_commands(self._client, step.commands))
        except io_errors():
            pass                                   # the leases expire by themselves

    def __enter__(self) -> "RedisStreamSource":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- async --
    def __aiter__(self) -> "RedisStreamSource":
        if not self._async:
            self._client, self._async = twin(self._client, True), True
        return self

    async def __anext__(self) -> MediaChunk:
        chunks = await self._acollect(1)
        if not chunks:
            raise StopAsyncIteration
        return chunks[0]

    async def anext_batch(self, max_chunks: int = 256) -> list[MediaChunk]:
        """`next_batch` for `async` code; a cancelled call takes nothing."""
        return await self._acollect(check_count(max_chunks))

    async def _acollect(self, limit: int) -> list[MediaChunk]:
        import asyncio

        if not self._async:
            self.__aiter__()
        self._core.limit = limit
        retry = Retry(self.retry_for, where(self._client))
        while not self._closed.is_set():
            if self._inflight is None:
                step = self._core.plan()
                if step.wait:
                    await asyncio.sleep(step.wait)
                    continue
                # The round trip runs in a task of its own that a cancelled caller does not cancel:
                # its replies are applied by the next call, so a cancelled await takes nothing and
                # no command is cut off halfway.
                self._inflight = (step, asyncio.ensure_future(self._around_trip(step)))
            step, trip = self._inflight
            try:
                results = await asyncio.shield(trip)
            except io_errors() as error:
                self._inflight = None
                self._core.interrupted(step)
                await asyncio.sleep(retry.next_delay(error))
                continue
            self._inflight = None
            retry.succeeded()
            chunks = step.apply(results)
            if chunks:
                return chunks
        await self.aclose()
        return []

    async def _around_trip(self, step: _Step) -> list:
        if step.scan:
            return [key async for key in self._client.scan_iter(match=step.scan, count=1000,
                                                                 _type="stream")]
        return await arun_commands(self._client, step.commands)

    async def aclose(self) -> None:
        """`close` for a source with a redis.asyncio client: acknowledge and give the leases back."""
        self._closed.set()
        if self._finished:
            return
        self._finished = True
        undelivered: list = []
        if self._inflight is not None:             # finish the round trip a cancelled call left
            step, trip = self._inflight
            self._inflight = None
            try:
                undelivered = step.apply(await trip) or []
            except io_errors():
                self._core.interrupted(step)
        step = self._core.closing(undelivered)
        try:
            step.apply(await arun_commands(self._client, step.commands))
        except io_errors():
            pass

    async def __aenter__(self) -> "RedisStreamSource":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
