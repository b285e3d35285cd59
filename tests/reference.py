"""Pure-Python models of rs2fast's components: the oracles of the property and stateful tests.

Each model restates the written rules with plain Python data (sorted lists, dicts, sets, Python
ints), with no ring buffers, bit tricks or locks, so that a compiled component and its model only
agree when both follow the rules:

- ReferenceHeap:      rs2fast._heap.PriorityHeap (best = highest priority, lowest sequence, arrival)
- ReferenceReorder:   rs2fast._reorder.ReorderBuffer (one stream's reorder window)
- ReferenceProcessor: rs2fast.chunk_processor.ChunkProcessor (validation + per-stream reordering
                      + the processor-wide bounds), built on ReferenceReorder
- ReferenceQueue:     rs2fast.priority_queue.MediaPriorityQueue, single-threaded (capacity,
                      overflow policies, close), built on ReferenceHeap
"""
from __future__ import annotations

import bisect
import hashlib
from collections import OrderedDict
from datetime import timedelta
from typing import Any


# --- PriorityHeap ---------------------------------------------------------------------------------
#
# Items are kept in a list sorted by (-priority, sequence, arrival), so the best item is first and
# the worst last. Arrival numbers follow the same rule as the C heap: they restart at 0 when they
# would pass 2**62 while the heap is empty, and OverflowError is raised if the heap is not empty.

ORDER_LIMIT = 2**62


class ReferenceHeap:
    """Sorted-list model with the same public behaviour as PriorityHeap (single-threaded)."""

    def __init__(self, capacity: int, next_order: int = 0) -> None:
        self.capacity = capacity
        self.next_order = next_order
        self._entries: list[tuple[tuple[int, int, int], Any]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def _orders(self, k: int) -> int:
        if self.next_order + k > ORDER_LIMIT:
            if self._entries:
                raise OverflowError("arrival counter exhausted")
            self.next_order = 0
        base = self.next_order
        self.next_order += k
        return base

    def push(self, item: Any, priority: int, sequence: int) -> bool:
        """Add an item; False when full."""
        if len(self._entries) >= self.capacity:
            return False
        order = self._orders(1)
        bisect.insort(self._entries, ((-int(priority), sequence, order), item),
                      key=lambda entry: entry[0])
        return True

    def push_chunks(self, chunks: list, start: int = 0) -> int:
        """Push chunks[start:] until full; the number pushed."""
        room = self.capacity - len(self._entries)
        todo = chunks[start:start + room] if room > 0 else []
        if not todo:
            return 0
        base = self._orders(len(todo))
        for j, chunk in enumerate(todo):
            key = (-int(chunk.priority), chunk.sequence_number, base + j)
            bisect.insort(self._entries, (key, chunk), key=lambda entry: entry[0])
        return len(todo)

    def pop(self) -> Any:
        """Remove and return the best item."""
        if not self._entries:
            raise IndexError("pop from an empty heap")
        return self._entries.pop(0)[1]

    def pop_lowest(self) -> Any:
        """Remove and return the worst item."""
        if not self._entries:
            raise IndexError("pop_lowest from an empty heap")
        return self._entries.pop()[1]

    def pop_batch(self, max_items: int) -> list:
        """Remove and return up to max_items best items, best first."""
        taken = self._entries[:max_items]
        del self._entries[:max_items]
        return [item for _, item in taken]

    def clear(self) -> list:
        """Remove and return everything, best first."""
        return self.pop_batch(len(self._entries))

    def peek(self) -> Any:
        """The best item."""
        if not self._entries:
            raise IndexError("peek at an empty heap")
        return self._entries[0][1]

    def peek_key(self) -> tuple[int, int] | None:
        """(priority, sequence) of the best item."""
        if not self._entries:
            return None
        (neg_priority, sequence, _), _item = self._entries[0]
        return (-neg_priority, sequence)

    def peek_lowest_key(self) -> tuple[int, int] | None:
        """(priority, sequence) of the worst item."""
        if not self._entries:
            return None
        (neg_priority, sequence, _), _item = self._entries[-1]
        return (-neg_priority, sequence)

    def keys(self) -> list[tuple[int, int]]:
        """All keys, best first."""
        return [(-p, s) for (p, s, _), _item in self._entries]


# --- ReorderBuffer --------------------------------------------------------------------------------
#
# A plain-Python model of rs2fast._reorder.ReorderBuffer, used as the test oracle.
#
# It restates the rules with dicts and sets and Python ints (no ring, no modular arithmetic), so
# that the compiled kernel and this model only agree when both follow the written rules:
#
#     seq below the watermark  -> DUPLICATE if remembered as delivered, else LATE
#     seq buffered already     -> DUPLICATE
#     seq == next expected     -> ACCEPTED, itself and every consecutive buffered item released
#     timed out                -> expire first, then judge again (beyond the window = resync)
#     buffer full              -> OVERFLOW
#     beyond the window        -> GAP
#     otherwise                -> stored, ACCEPTED
# A run of `resync_after` consecutive sequence numbers rejected far from the watermark (above the
# window; or more than a window below it and either older than the history or after the timeout)
# moves the stream to the run's last chunk.

ACCEPTED, DUPLICATE, LATE, GAP, OVERFLOW = range(5)
SEQ_LIMIT = 2**64          # one past the largest sequence number


class ReferenceReorder:
    """Dict/set model of one stream's reorder buffer (same constructor and methods)."""

    def __init__(self, window, *, next_expected=0, timeout_ns=0, resync_after=4, history=1024):
        self.window = window
        self.next_expected = next_expected     # may reach SEQ_LIMIT: the stream is exhausted
        self.timeout_ns = timeout_ns
        self.resync_after = resync_after
        self.history = -(-history // 64) * 64
        self.items = {}                        # seq -> item, buffered
        self.delivered_seqs = set()            # delivered since the epoch began (pruned lazily)
        self.epoch_start = next_expected       # lowest seq the history may speak about
        self.lost = 0
        self.delivered = 0
        self.resyncs = 0
        self.stored = 0                        # items that waited in the buffer, ever
        self.backward_resyncs = 0              # test bookkeeping: restarts below the watermark
        self.last_progress_ns = 0
        self.started = False
        self.run = []                          # consecutive rejected seqs far from the watermark

    # --- helpers ---------------------------------------------------------------------------
    @property
    def buffered(self):
        return len(self.items)

    def buffered_sequences(self):
        return sorted(self.items)

    def buffered_items(self):
        return [self.items[s] for s in sorted(self.items)]

    def _timed_out(self, now_ns):
        return self.timeout_ns > 0 and now_ns - self.last_progress_ns >= self.timeout_ns

    def _remembered_delivered(self, seq):
        ne = self.next_expected
        return seq >= self.epoch_start and ne - seq <= self.history and seq in self.delivered_seqs

    def _release(self, seq, item, ready):
        ready.append(item)
        self.delivered += 1
        self.delivered_seqs.add(seq)
        self.next_expected = seq + 1

    def _drain(self, ready):
        while self.next_expected in self.items:
            seq = self.next_expected
            self._release(seq, self.items.pop(seq), ready)

    def _release_all(self, ready):
        """Release everything buffered in order; holes count as lost."""
        for seq in sorted(self.items):
            self.lost += seq - self.next_expected
            self._release(seq, self.items.pop(seq), ready)

    def _expire(self, now_ns, ready):
        if not self.items or not self._timed_out(now_ns):
            return 0
        lowest = min(self.items)
        skipped = lowest - self.next_expected
        self.lost += skipped
        self.next_expected = lowest
        self._drain(ready)
        self.last_progress_ns = now_ns
        return skipped

    def _jump(self, seq, item, now_ns, ready, *, backward):
        self._release_all(ready)
        if backward:
            self.backward_resyncs += 1
            self.delivered_seqs = set()
            self.epoch_start = seq
        else:
            self.lost += seq - self.next_expected
        self.next_expected = seq
        self._release(seq, item, ready)
        self.resyncs += 1
        self.run = []
        self.last_progress_ns = now_ns
        return ACCEPTED

    def _store(self, seq, item, now_ns):
        if not self.items:
            self.last_progress_ns = now_ns
        self.items[seq] = item
        self.stored += 1
        self.run = []
        return ACCEPTED

    def _reject(self, seq, item, status, now_ns, ready, far):
        if far is None or self.resync_after == 0:
            return status
        if self.run and self.run[-1] + 1 == seq:
            self.run.append(seq)
        else:
            self.run = [seq]
        if len(self.run) >= self.resync_after:
            return self._jump(seq, item, now_ns, ready, backward=(far == "behind"))
        return status

    def _below(self, seq, item, now_ns, ready):
        status = DUPLICATE if self._remembered_delivered(seq) else LATE
        distance = self.next_expected - seq
        beyond_history = seq < self.epoch_start or distance > self.history
        far = ("behind" if distance > self.window and (beyond_history or self._timed_out(now_ns))
               else None)
        return self._reject(seq, item, status, now_ns, ready, far)

    # --- public operations -----------------------------------------------------------------
    def insert(self, seq, item, now_ns, ready):
        """One chunk in; returns its status, appends released items to `ready`."""
        if not self.started:
            self.started = True
            self.last_progress_ns = now_ns
        if seq < self.next_expected:
            return self._below(seq, item, now_ns, ready)
        if seq in self.items:
            return self._reject(seq, item, DUPLICATE, now_ns, ready, None)
        if seq == self.next_expected:
            self._release(seq, item, ready)
            self._drain(ready)
            self.run = []
            self.last_progress_ns = now_ns
            return ACCEPTED
        if self._timed_out(now_ns):
            self._expire(now_ns, ready)
            if seq < self.next_expected:
                return self._below(seq, item, now_ns, ready)
            if seq == self.next_expected:
                self._release(seq, item, ready)
                self._drain(ready)
                self.run = []
                self.last_progress_ns = now_ns
                return ACCEPTED
            if seq > self.next_expected + self.window:
                return self._jump(seq, item, now_ns, ready, backward=False)
            return self._store(seq, item, now_ns)
        if len(self.items) == self.window:
            return self._reject(seq, item, OVERFLOW, now_ns, ready, "ahead")
        if seq > self.next_expected + self.window:
            return self._reject(seq, item, GAP, now_ns, ready, "ahead")
        return self._store(seq, item, now_ns)

    def insert_batch(self, seqs, items, now_ns, statuses, ready):
        """Per-item insert over a batch; returns how many items were appended to `ready`."""
        before = len(ready)
        for i, (seq, item) in enumerate(zip(seqs, items)):
            statuses[i] = self.insert(int(seq), item, now_ns, ready)
        return len(ready) - before

    def expire(self, now_ns, ready):
        """Release through the lowest buffered run if the stream timed out; returns lost."""
        return self._expire(now_ns, ready)

    def flush(self, ready):
        """Release everything buffered in order; returns the number of holes declared lost."""
        before = self.lost
        self._release_all(ready)
        return self.lost - before


# --- checksums and validation ---------------------------------------------------------------------
#
# RS2's validation rules, checked in this order: non-empty stream id, non-empty data, the size cap
# of the chunk's type (audio / video / other; None = no cap), then the checksum string: 64
# lowercase hex digits = SHA-256, "crc32c:" + 8 lowercase hex digits = CRC-32C, anything else is
# malformed (upper-case hex included).

VALID, EMPTY_STREAM_ID, EMPTY_DATA, TOO_LARGE, MALFORMED_CHECKSUM, CHECKSUM_MISMATCH = range(6)
_HEX = frozenset("0123456789abcdef")


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def reference_crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), one byte at a time from a 256-entry table."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def reference_validation(chunk, audio_limit=65_536, video_limit=1_048_576, other_limit=None,
                         verify_checksums=True) -> int:
    """The validation code of one chunk (VALID .. CHECKSUM_MISMATCH)."""
    data = bytes(chunk.data)
    if chunk.stream_id == "":
        return EMPTY_STREAM_ID
    if not data:
        return EMPTY_DATA
    kind = int(chunk.chunk_type)
    limit = video_limit if kind <= 2 else audio_limit if kind == 3 else other_limit
    if limit is not None and len(data) > limit:
        return TOO_LARGE
    checksum = chunk.checksum
    if not verify_checksums or checksum is None:
        return VALID
    if len(checksum) == 64 and set(checksum) <= _HEX:
        return VALID if hashlib.sha256(data).hexdigest() == checksum else CHECKSUM_MISMATCH
    if len(checksum) == 15 and checksum.startswith("crc32c:") and set(checksum[7:]) <= _HEX:
        return VALID if int(checksum[7:], 16) == reference_crc32c(data) else CHECKSUM_MISMATCH
    return MALFORMED_CHECKSUM


# --- ChunkProcessor ---------------------------------------------------------------------------------
#
# Per chunk: validation (when enabled) -> a rejection counted in validation_failures; else the
# stream's reorder model (created on first sight, at the position it had when it was last
# forgotten). A chunk ahead of its stream's watermark that finds the processor at its bound
# (max_buffer_size chunks, or max_buffered_bytes) first makes timed-out streams release what they
# hold (those chunks wait in `pending`), and is refused (OVERFLOW) if that did not make room.
# Chunks a timeout released while the arriving chunk was then refused wait in `pending` too.
# Every rejection is counted once, by reason, and announced; every accepted chunk is delivered,
# in order per stream, by the time its stream is flushed. `pending` chunks lead the output of the
# next chunk accepted one by one, and come out at the end of a batch handled chunk by chunk, of
# flush() and of expire_stale().
#
# process_batch takes one of two paths, as the processor does: chunk by chunk (with
# return_exceptions, with reordering off, or when the batch might not fit the bounds), or grouped
# by stream (pending chunks first, invalid chunks counted, then each stream's chunks in one go;
# no bound is at risk).
#
# When the stream bound (max_streams) is reached, the least recently active stream holding
# nothing is forgotten; its position is remembered (for up to max_streams streams; 2**64 for an
# exhausted stream) and a stream that comes back resumes there. With no idle stream, a new
# stream's chunk is refused (OVERFLOW).

REJECTION_NAMES = {DUPLICATE: "DuplicateChunk", LATE: "LateChunk", GAP: "SequenceGap",
                   OVERFLOW: "BufferOverflow"}
_STAT_OF = {DUPLICATE: "duplicates", LATE: "late_chunks", GAP: "sequence_gaps",
            OVERFLOW: "buffer_overflows"}


class ReferenceProcessor:
    """Model of ChunkProcessor: same config object, same clock (integer nanoseconds)."""

    STATS = ("chunks_received", "chunks_processed", "chunks_delivered", "chunks_dropped",
             "chunks_reordered", "duplicates", "late_chunks", "sequence_gaps",
             "validation_failures", "buffer_overflows", "chunks_lost", "streams_evicted")

    def __init__(self, config) -> None:
        self.config = config
        self.timeout_ns = config.sequence_timeout // timedelta(microseconds=1) * 1000
        self.streams: "OrderedDict[str, ReferenceReorder]" = OrderedDict()
        self.positions: "OrderedDict[str, int]" = OrderedDict()
        self.stats = dict.fromkeys(self.STATS, 0)
        self.buffered = 0
        self.buffered_bytes = 0
        self.pending: list = []
        self.events: list[tuple[str, int]] = []     # (stream_id, sequence_number) per drop
        self.backward_resyncs_forgotten: dict[str, int] = {}   # test bookkeeping, per stream
        self.exhausted_forgotten = 0                # test bookkeeping (see the stateful test)

    # -- validation, counting ------------------------------------------------------------------
    def code(self, chunk) -> int:
        config = self.config
        if not config.enable_validation:
            return VALID
        return reference_validation(chunk, config.audio_size_limit, config.video_size_limit,
                                    config.other_size_limit, config.verify_checksums)

    @staticmethod
    def invalid_name(code: int) -> str:
        return "ChecksumMismatch" if code >= MALFORMED_CHECKSUM else "ValidationFailed"

    def _drop(self, chunk, stat: str) -> None:
        self.stats[stat] += 1
        self.stats["chunks_dropped"] += 1
        self.events.append((chunk.stream_id, chunk.sequence_number))

    def _release(self, ready: list) -> None:
        self.buffered -= len(ready)
        self.buffered_bytes -= sum(len(c) for c in ready)
        self.stats["chunks_delivered"] += len(ready)

    def under_pressure(self, size: int) -> bool:
        return (self.buffered >= self.config.max_buffer_size
                or self.buffered_bytes + size > self.config.max_buffered_bytes)

    def room_for(self, chunks: list) -> bool:
        return (self.buffered + len(chunks) <= self.config.max_buffer_size
                and self.buffered_bytes + sum(len(c) for c in chunks) <= self.config.max_buffered_bytes)

    # -- streams -------------------------------------------------------------------------------
    def _stream(self, name: str):
        stream = self.streams.get(name)
        if stream is None:
            position = self.positions.pop(name, None)   # not trimmed while room is made for it
            if len(self.streams) >= self.config.max_streams and not self._forget_idle():
                if position is not None:
                    self.positions[name] = position
                return None
            stream = ReferenceReorder(self.config.max_reorder_window,
                                      next_expected=position or 0, timeout_ns=self.timeout_ns,
                                      resync_after=self.config.resync_after)
            self.streams[name] = stream
        return stream

    def _forget_idle(self) -> bool:
        for name, stream in self.streams.items():
            if not stream.buffered:
                del self.streams[name]
                self.stats["streams_evicted"] += 1
                self.backward_resyncs_forgotten[name] = (self.backward_resyncs_forgotten.get(name, 0)
                                                         + stream.backward_resyncs)
                if stream.next_expected == SEQ_LIMIT:
                    self.exhausted_forgotten += 1   # (the processor forgets it is exhausted)
                self.positions[name] = stream.next_expected
                self.positions.move_to_end(name)
                if len(self.positions) > self.config.max_streams:
                    self.positions.popitem(last=False)
                return True
        return False

    def _insert(self, stream, chunk, now_ns: int):
        """One chunk into its stream's model; (status, released chunks), counters updated."""
        ready: list = []
        lost_before, stored_before = stream.lost, stream.stored
        status = stream.insert(chunk.sequence_number, chunk, now_ns, ready)
        self.stats["chunks_lost"] += stream.lost - lost_before
        self.stats["chunks_reordered"] += stream.stored - stored_before   # held for a hole
        if status == ACCEPTED:
            self.stats["chunks_processed"] += 1
            self.buffered += 1
            self.buffered_bytes += len(chunk)
        else:
            self._drop(chunk, _STAT_OF[status])
        self._release(ready)
        return status, ready

    # -- one chunk at a time: (output, rejection name or None) ---------------------------------
    def process(self, chunk, now_ns: int):
        code = self.code(chunk)
        if code != VALID:
            self.stats["chunks_received"] += 1
            self._drop(chunk, "validation_failures")
            return [], self.invalid_name(code)
        return self._one(chunk, now_ns)

    def _one(self, chunk, now_ns: int):
        self.stats["chunks_received"] += 1
        if not self.config.enable_reordering:
            self.stats["chunks_processed"] += 1
            self.stats["chunks_delivered"] += 1
            return [chunk], None
        stream = self._stream(chunk.stream_id)
        if stream is None:
            self._drop(chunk, "buffer_overflows")
            return [], REJECTION_NAMES[OVERFLOW]
        if chunk.sequence_number > stream.next_expected and self.under_pressure(len(chunk)):
            self.pending += self._expire_all(now_ns)
            if self.under_pressure(len(chunk)):
                self._drop(chunk, "buffer_overflows")
                return [], REJECTION_NAMES[OVERFLOW]
        status, ready = self._insert(stream, chunk, now_ns)
        if status != ACCEPTED:
            self.pending += ready                   # chunks a timeout released are never lost
            return [], REJECTION_NAMES[status]
        self.streams.move_to_end(chunk.stream_id)
        out, self.pending = self.pending + ready, []
        return out, None

    # -- a batch: (output, rejection names in input order when chunk by chunk) --------------------
    def grouped(self, chunks: list, return_exceptions: bool) -> bool:
        """Whether process_batch takes the grouped path for this batch now."""
        return not return_exceptions and self.config.enable_reordering and self.room_for(chunks)

    def process_batch(self, chunks: list, now_ns: int, return_exceptions: bool = False):
        codes = [self.code(c) for c in chunks]
        out: list = []
        errors: list = []
        if not self.grouped(chunks, return_exceptions):
            for chunk, code in zip(chunks, codes):
                if code != VALID:
                    self.stats["chunks_received"] += 1
                    self._drop(chunk, "validation_failures")
                    errors.append(self.invalid_name(code))
                    continue
                ready, rejection = self._one(chunk, now_ns)
                out += ready
                if rejection:
                    errors.append(rejection)
            out, self.pending = out + self.pending, []
            return out, errors
        out, self.pending = self.pending, []        # pending chunks come first
        groups: "OrderedDict[str, list]" = OrderedDict()
        for chunk, code in zip(chunks, codes):
            if code != VALID:
                self.stats["chunks_received"] += 1
                self._drop(chunk, "validation_failures")
            else:
                groups.setdefault(chunk.stream_id, []).append(chunk)
        for name, group in groups.items():
            stream = self._stream(name)
            if stream is None:
                for chunk in group:
                    self.stats["chunks_received"] += 1
                    self._drop(chunk, "buffer_overflows")
                continue
            for chunk in group:
                self.stats["chunks_received"] += 1
                out += self._insert(stream, chunk, now_ns)[1]
            self.streams.move_to_end(name)
        return out, []

    # -- whole-processor operations -------------------------------------------------------------
    def _expire_all(self, now_ns: int) -> list:
        out: list = []
        if not self.timeout_ns or not self.buffered:
            return out
        for stream in self.streams.values():
            if stream.buffered and now_ns - stream.last_progress_ns >= self.timeout_ns:
                ready: list = []
                lost_before = stream.lost
                stream.expire(now_ns, ready)
                self._release(ready)
                self.stats["chunks_lost"] += stream.lost - lost_before
                out += ready
        return out

    def flush(self, stream_id=None) -> list:
        out, self.pending = self.pending, []
        names = [stream_id] if stream_id is not None else list(self.streams)
        for name in names:
            stream = self.streams.get(name)
            if stream is not None and stream.buffered:
                ready: list = []
                lost_before = stream.lost
                stream.flush(ready)
                self._release(ready)
                self.stats["chunks_lost"] += stream.lost - lost_before
                out += ready
        return out

    def expire_stale(self, now_ns: int) -> list:
        out, self.pending = self.pending, []
        return out + self._expire_all(now_ns)


# --- MediaPriorityQueue -----------------------------------------------------------------------------
#
# Single-threaded model of the bounded queue: best = highest priority, then lowest sequence, then
# arrival. A full queue under "block" refuses (QueueFull) when the caller may not wait; under
# "drop_newest" it drops the newcomer; under "drop_lowest" it evicts the worst queued chunk if the
# newcomer's (priority, -sequence) is strictly greater, else drops the newcomer. After close() every
# enqueue is refused (QueueClosed) and consumers drain what is queued, then get QueueClosed.

class ReferenceQueue:
    """Model of MediaPriorityQueue (no threads: a waiting call is modelled as timing out at once)."""

    def __init__(self, capacity: int, overflow: str = "block") -> None:
        self.heap = ReferenceHeap(capacity)
        self.capacity = capacity
        self.overflow = overflow
        self.closed = False
        self.stats = {"enqueued": 0, "dequeued": 0, "dropped_newest": 0, "dropped_lowest": 0}
        self.events: list[tuple[str, int]] = []

    def __len__(self) -> int:
        return len(self.heap)

    def put(self, chunk) -> Any:
        """True (queued), False (the policy dropped it) or the name of the error raised."""
        if self.closed:
            return "QueueClosed"
        if len(self.heap) < self.capacity:
            self.heap.push(chunk, int(chunk.priority), chunk.sequence_number)
            self.stats["enqueued"] += 1
            return True
        if self.overflow == "block":
            return "QueueFull"
        if self.overflow == "drop_lowest":
            worst = self.heap.peek_lowest_key()
            if (int(chunk.priority), -chunk.sequence_number) > (worst[0], -worst[1]):
                victim = self.heap.pop_lowest()
                self.heap.push(chunk, int(chunk.priority), chunk.sequence_number)
                self.stats["dropped_lowest"] += 1
                self.stats["enqueued"] += 1
                self.events.append((victim.stream_id, victim.sequence_number))
                return True
        self.stats["dropped_newest"] += 1
        self.events.append((chunk.stream_id, chunk.sequence_number))
        return False

    def get(self) -> Any:
        """The best chunk, or the name of the error: QueueEmpty (open) / QueueClosed (closed)."""
        if not len(self.heap):
            return "QueueClosed" if self.closed else "QueueEmpty"
        self.stats["dequeued"] += 1
        return self.heap.pop()

    def get_batch(self, max_items: int) -> list:
        """Up to max_items best chunks ([] when empty, open or closed)."""
        taken = self.heap.pop_batch(max_items)
        self.stats["dequeued"] += len(taken)
        return taken

    def close(self) -> None:
        self.closed = True
