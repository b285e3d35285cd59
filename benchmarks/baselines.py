"""The plain-Python side of the table and the inputs both sides share.

Baselines are what a sensible script would write with the standard library: dataclass chunks,
bytes slicing or `f.read`, zlib/hashlib checksums computed once, a dict reorder buffer, heapq.
"""
from __future__ import annotations

import hashlib
import os
import random
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
FRAME_NS = 33_000_000        # split_buffer's default frame duration
WINDOW = 4 * MIB             # bytes read from a file at once (as the streaming service does)
REORDER_WINDOW = 32          # ChunkProcessorConfig.max_reorder_window default
AUDIO_LIMIT = 65_536         # RS2's validation caps
VIDEO_LIMIT = 1_048_576
TYPE_PRIORITY = (3, 2, 1, 3, 3, 1)   # ChunkType code -> default MediaPriority (RS2)


@dataclass
class NaiveChunk:
    """The pure-Python baseline's chunk: a plain dataclass with RS2's eight fields."""

    stream_id: str
    sequence_number: int
    data: bytes
    chunk_type: int
    priority: int
    timestamp_ns: int
    is_final: bool
    checksum: Optional[str]


def gop_type(seq: int) -> int:
    """RS2's GOP rule: every 30th an I-frame (0), else every 3rd a B-frame (2), else a P-frame (1)."""
    if seq % 30 == 0:
        return 0
    if seq % 3 == 0:
        return 2
    return 1


def naive_split(data: bytes, stream_id: str, size: int, start: int = 0,
                checksum: Optional[Callable[[bytes], str]] = None, mark_final: bool = True) -> List[NaiveChunk]:
    """Bytes slicing into dataclass chunks (types, priorities, timestamps and checksums as ours)."""
    out = []
    total = len(data)
    seq = start
    for offset in range(0, total, size):
        piece = data[offset:offset + size]
        ctype = gop_type(seq)
        out.append(NaiveChunk(stream_id, seq, piece, ctype, TYPE_PRIORITY[ctype], seq * FRAME_NS,
                              mark_final and offset + size >= total,
                              checksum(piece) if checksum is not None else None))
        seq += 1
    return out


def naive_crc32(data: bytes) -> str:
    """The baseline's checksum string with zlib.crc32."""
    return "crc32:%08x" % zlib.crc32(data)


def naive_sha256(data: bytes) -> str:
    """The baseline's checksum string with hashlib.sha256."""
    return hashlib.sha256(data).hexdigest()


def xxh3_hexdigest() -> Optional[Callable[[bytes], str]]:
    """xxhash.xxh3_64_hexdigest, or None when xxhash is not installed."""
    try:
        import xxhash
    except ImportError:
        return None
    return xxhash.xxh3_64_hexdigest


_NAIVE_LIMITS = {0: VIDEO_LIMIT, 1: VIDEO_LIMIT, 2: VIDEO_LIMIT, 3: AUDIO_LIMIT, 4: None, 5: None}


class NaiveReorder:
    """A dict-based reorder buffer: the baseline for rs2fast's ring ReorderBuffer."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.next = 0
        self.pending: Dict[int, Any] = {}
        self.rejected = 0

    def insert(self, seq: int, item: Any, ready: list) -> int:
        """Buffer `item`; append what became deliverable to `ready`. 0 accepted, else rejected."""
        if seq < self.next or seq in self.pending:
            self.rejected += 1
            return 1
        if seq >= self.next + self.window:
            self.rejected += 1
            return 3
        pending = self.pending
        pending[seq] = item
        nxt = self.next
        while nxt in pending:
            ready.append(pending.pop(nxt))
            nxt += 1
        self.next = nxt
        return 0

    def flush(self, ready: list) -> None:
        """Release everything buffered, in order."""
        for seq in sorted(self.pending):
            ready.append(self.pending.pop(seq))
            self.next = seq + 1


class NaiveProcessor:
    """Validation (RS2's rules) + per-stream dict reorder, in plain Python."""

    def __init__(self, window: int = REORDER_WINDOW, checksum: Optional[Callable[[bytes], str]] = None) -> None:
        self.window = window
        self.checksum = checksum
        self.streams: Dict[str, NaiveReorder] = {}
        self.received = self.invalid = self.delivered = 0

    def valid(self, c: NaiveChunk) -> bool:
        """RS2's validation rules for one chunk."""
        if not c.stream_id or not c.data:
            return False
        limit = _NAIVE_LIMITS[c.chunk_type]
        if limit is not None and len(c.data) > limit:
            return False
        if c.checksum is not None and (self.checksum is None or self.checksum(c.data) != c.checksum):
            return False
        return True

    def process_batch(self, chunks: Sequence[NaiveChunk]) -> list:
        """Validate and reorder a batch; return the ready chunks in order."""
        ready: list = []
        for c in chunks:
            self.received += 1
            if not self.valid(c):
                self.invalid += 1
                continue
            stream = self.streams.get(c.stream_id)
            if stream is None:
                stream = self.streams[c.stream_id] = NaiveReorder(self.window)
            stream.insert(c.sequence_number, c, ready)
        self.delivered += len(ready)
        return ready

    def flush(self) -> list:
        """Release everything buffered."""
        ready: list = []
        for stream in self.streams.values():
            stream.flush(ready)
        self.delivered += len(ready)
        return ready


def local_shuffle(n: int, fraction: float = 0.05, distance: int = 4, seed: int = 5) -> List[int]:
    """0..n-1 with `fraction` of the positions swapped with a neighbour at most `distance` ahead."""
    order = list(range(n))
    if n <= distance + 1:
        return order
    rng = random.Random(seed)
    for i in rng.sample(range(n - distance), int(n * fraction)):
        j = i + rng.randint(1, distance)
        order[i], order[j] = order[j], order[i]
    return order


def payload(size: int, seed: int = 1) -> bytes:
    """`size` reproducible random bytes."""
    return random.Random(seed).randbytes(size)


def ordered_chunks(n: int, seed: int = 11) -> tuple:
    """n one-byte MediaChunks and their NaiveChunk twins, sequence numbers in the same random
    arrival order; both are allocated in arrival order (as a receiver would)."""
    from rs2fast._chunk import MediaChunk, gop_chunk_type

    order = list(range(n))
    random.Random(seed).shuffle(order)
    data = b"x"
    ours = [MediaChunk("bench", seq, data, gop_chunk_type(seq)) for seq in order]
    naive = []
    for seq in order:
        ctype = gop_type(seq)
        naive.append(NaiveChunk("bench", seq, data, ctype, TYPE_PRIORITY[ctype], 0, False, None))
    return ours, naive


def write_file(path: str, nbytes: int) -> None:
    """Write `nbytes` of random data to `path` and read it once, so it sits in the page cache."""
    block = payload(min(nbytes, 16 * MIB), seed=3)
    with open(path, "wb") as f:
        left = nbytes
        while left > 0:
            piece = block[:left]
            f.write(piece)
            left -= len(piece)
        f.flush()
        os.fsync(f.fileno())
    with open(path, "rb", buffering=0) as f:      # into the page cache
        while f.read(WINDOW):
            pass


def naive_file_chunks(path: str, size: int, checksum: Optional[Callable[[bytes], str]] = None,
                      stream_id: str = "file") -> Iterator[NaiveChunk]:
    """A file's chunks in order, as a plain script makes them: `f.read(size)` into a dataclass
    chunk (GOP type, priority, timestamp, `is_final`, the checksum computed once), then a dict
    reorder buffer."""
    pending: Dict[int, NaiveChunk] = {}
    deliver = seq = offset = 0
    with open(path, "rb") as f:
        total = os.fstat(f.fileno()).st_size
        while True:
            data = f.read(size)
            if not data:
                break
            offset += len(data)
            ctype = gop_type(seq)
            pending[seq] = NaiveChunk(stream_id, seq, data, ctype, TYPE_PRIORITY[ctype], seq * FRAME_NS,
                                      offset >= total, checksum(data) if checksum is not None else None)
            seq += 1
            while deliver in pending:
                yield pending.pop(deliver)
                deliver += 1
