"""Shared pieces of the fuzz targets (not a target itself).

`Reader` turns fuzz bytes into choices. It is deterministic and needs no atheris, so one corpus
file means the same thing under the fuzzer and in tests/test_fuzz_targets.py. (atheris's
FuzzedDataProvider would tie the meaning of the corpus to atheris being installed.)

`run(test_one_input)` is every target's `main()`: it hands the target to atheris (libFuzzer),
instrumenting the Python code that is loaded for coverage feedback.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def load_reference_reorder():
    """The plain-Python reorder model: tests.reference if it has it, else tests.reference_reorder."""
    try:
        from tests.reference import ReferenceReorder
    except ImportError:
        from tests.reference_reorder import ReferenceReorder
    return ReferenceReorder


class Reader:
    """Reads choices from fuzz bytes, front to back; an exhausted reader yields zeros."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.pos = 0

    def remaining(self) -> int:
        """Bytes not consumed yet."""
        return len(self.data) - self.pos

    def byte(self) -> int:
        """The next byte (0 when exhausted)."""
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def int_in(self, lo: int, hi: int) -> int:
        """An int in lo..hi (inclusive), from as few little-endian bytes as the range needs."""
        span = hi - lo
        if span <= 0:
            return lo
        width = (span.bit_length() + 7) // 8
        raw = self.data[self.pos:self.pos + width]
        self.pos += len(raw)
        return lo + int.from_bytes(raw, "little") % (span + 1)

    def flag(self) -> bool:
        """A bool from one byte's low bit."""
        return bool(self.byte() & 1)

    def chance(self, per256: int) -> bool:
        """True with probability per256/256 (for random bytes)."""
        return self.byte() < per256

    def pick(self, options):
        """One element of a non-empty sequence."""
        return options[self.int_in(0, len(options) - 1)]

    def take(self, max_len: int) -> bytes:
        """A length-prefixed byte string of at most max_len bytes (shorter when exhausted)."""
        n = self.int_in(0, max_len)
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def rest(self) -> bytes:
        """Everything not consumed yet."""
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out

    def text(self, max_len: int) -> str:
        """A str of up to max_len characters: ASCII, Latin-1, BMP (lone surrogates included) or
        astral code points, so every internal string kind is produced."""
        kind = self.byte() & 3
        n = self.int_in(0, max_len)
        if kind == 0:
            return "".join(chr(self.byte() & 0x7F) for _ in range(n))
        if kind == 1:
            return "".join(chr(self.byte()) for _ in range(n))
        if kind == 2:
            return "".join(chr(self.int_in(0, 0xFFFF)) for _ in range(n))
        return "".join(chr(self.int_in(0, 0x10FFFF)) for _ in range(n))


def _instrument(atheris) -> None:
    """Add coverage instrumentation to the loaded Python functions of this repository and of the
    json package (atheris.instrument_all would take ~30 s over the whole standard library)."""
    import gc
    import json
    import os
    import types

    roots = (str(REPO) + os.sep, os.path.dirname(json.__file__) + os.sep)
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename.startswith(roots):
            atheris.instrument_func(obj)


def run(test_one_input, argv=None) -> None:
    """Fuzz `test_one_input` with atheris; libFuzzer options come from argv (default sys.argv)."""
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed (pip install atheris); nothing fuzzed")
    # Python-level coverage only: our Cython extensions are built by gcc without libFuzzer's
    # coverage instrumentation, so feedback comes from the Python code they call and are
    # checked by (json, the reference models, the target's own oracles).
    _instrument(atheris)
    atheris.Setup(list(sys.argv if argv is None else argv), test_one_input)
    atheris.Fuzz()


# --- a plain-Python statement of MediaChunk.from_dict's rules (the oracle of two targets) ---------

INT64_MAX = 2**63 - 1
SEQ_LIMIT = 2**64
_ABSENT = object()


def expected_from_dict(mapping):
    """The field values from_dict must produce, or None when it must raise TypeError/ValueError.

    Rules (RS2's serde shape): every one of the eight fields present (extra keys ignored);
    stream_id a str; sequence_number an exact int in 0..2**64-1; data a list or tuple of exact ints
    0..255; chunk_type and priority RS2 variant names; timestamp a mapping of exact ints secs >= 0
    and nanos in 0..999999999 within int64 nanoseconds; is_final an exact bool; checksum None or a
    str (any text: its format is judged by checksum_matches, not here).
    """
    from rs2fast._enums import ChunkType, MediaPriority

    def field(obj, key):
        try:
            return obj[key]
        except KeyError:
            return _ABSENT

    if not (hasattr(mapping, "keys") and hasattr(mapping, "__getitem__")):
        return None
    values = {k: field(mapping, k) for k in ("stream_id", "sequence_number", "data", "chunk_type",
                                              "priority", "timestamp", "is_final", "checksum")}
    if any(v is _ABSENT for v in values.values()):
        return None
    sid, seq, data = values["stream_id"], values["sequence_number"], values["data"]
    if not isinstance(sid, str):
        return None
    if type(seq) is not int or not 0 <= seq < SEQ_LIMIT:
        return None
    if not isinstance(data, (list, tuple)) or any(type(b) is not int or not 0 <= b <= 255
                                                   for b in data):
        return None
    types = {t.rs2_name: t for t in ChunkType}
    priorities = {p.rs2_name: p for p in MediaPriority}
    if not isinstance(values["chunk_type"], str) or values["chunk_type"] not in types:
        return None
    if not isinstance(values["priority"], str) or values["priority"] not in priorities:
        return None
    stamp = values["timestamp"]
    if not (hasattr(stamp, "keys") and hasattr(stamp, "__getitem__")):
        return None
    secs, nanos = field(stamp, "secs"), field(stamp, "nanos")
    if type(secs) is not int or type(nanos) is not int:
        return None
    if secs < 0 or not 0 <= nanos < 10**9 or secs * 10**9 + nanos > INT64_MAX:
        return None
    if type(values["is_final"]) is not bool:
        return None
    checksum = values["checksum"]
    if checksum is not None and not isinstance(checksum, str):
        return None
    return {
        "stream_id": str.__str__(sid),
        "sequence_number": seq,
        "data": bytes(data),
        "chunk_type": types[values["chunk_type"]],
        "priority": priorities[values["priority"]],
        "timestamp_ns": secs * 10**9 + nanos,
        "is_final": values["is_final"],
        "checksum": None if checksum is None else str.__str__(checksum),
    }


def check_chunk(chunk, expected) -> None:
    """`chunk` carries exactly the `expected` field values and survives every round trip."""
    import copy
    import json
    import pickle

    from rs2fast._chunk import MediaChunk

    got = {
        "stream_id": chunk.stream_id,
        "sequence_number": chunk.sequence_number,
        "data": bytes(chunk.data),
        "chunk_type": chunk.chunk_type,
        "priority": chunk.priority,
        "timestamp_ns": chunk.timestamp_ns,
        "is_final": chunk.is_final,
        "checksum": chunk.checksum,
    }
    assert got == expected, (got, expected)
    assert type(chunk.stream_id) is str and type(chunk.sequence_number) is int
    assert len(chunk) == len(expected["data"])
    ts = chunk.timestamp
    assert (ts.days * 86400 + ts.seconds) * 10**6 + ts.microseconds == expected["timestamp_ns"] // 1000
    as_dict = chunk.to_dict()
    assert MediaChunk.from_dict(as_dict) == chunk
    text = chunk.to_json()
    assert text == json.dumps(as_dict, separators=(",", ":"), ensure_ascii=False)
    assert json.loads(text) == as_dict
    again = MediaChunk.from_json(text)
    assert again == chunk and again.to_json() == text
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:          # lone surrogates: JSON text, but not UTF-8 bytes
        encoded = None
    if encoded is not None:
        assert MediaChunk.from_json(encoded) == chunk
        assert MediaChunk.from_json(bytearray(encoded)) == chunk
    assert pickle.loads(pickle.dumps(chunk)) == chunk
    assert copy.copy(chunk) == chunk and copy.deepcopy(chunk) == chunk
    assert chunk.replace() == chunk
