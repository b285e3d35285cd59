"""Fuzz target: MediaChunk.from_dict on Python structures built from the fuzz bytes.

The bytes choose, field by field, a valid value, a missing field, an edge value (integers at and
around 0, 2**63 and 2**64, bools, subclasses of int/str/list/dict, nested junk) or a wrong type.
The rules of from_dict are restated in fuzz_support.expected_from_dict: from_dict must accept
exactly what they accept (with exactly those values, and every round trip intact) and reject the
rest with TypeError or ValueError. JSON-representable structures also go through from_json.

Run: python tests/fuzz/fuzz_chunk_dict.py tests/fuzz/corpus/chunk_dict -max_total_time=60
"""
from __future__ import annotations

import json
import math
import sys
import types
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import fuzz_chunk_json  # noqa: E402
import fuzz_support  # noqa: E402

from rs2fast._chunk import MediaChunk  # noqa: E402
from rs2fast._enums import ChunkType, MediaPriority  # noqa: E402

_ABSENT = object()
_TYPE_NAMES = [t.rs2_name for t in ChunkType]
_PRIORITY_NAMES = [p.rs2_name for p in MediaPriority]
_NEAR_MISSES = ["", "videoiframe", "VIDEO_I_FRAME", "Video", "Audio ", "High\x00", "Normal\u0301",
                "Medium", "Metadata\n", "Thumbnail" * 3]


class _Int(int):
    """An int subclass: not an exact int, so not a JSON integer for from_dict."""


class _Str(str):
    """A str subclass: accepted wherever a str is."""


class _List(list):
    """A list subclass: accepted as the data array."""


class _Mapping(Mapping):
    """A read-only mapping that is not a dict."""

    def __init__(self, items):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)


def _edge_int(r: fuzz_support.Reader) -> int:
    kind = r.byte() % 9
    if kind == 0:
        return r.int_in(0, 255)
    if kind == 1:
        return r.int_in(0, 2**64 - 1)
    if kind == 2:
        return 2**64 - 1 - r.int_in(0, 3)
    if kind == 3:
        return 2**64 + r.int_in(0, 3)
    if kind == 4:
        return -r.int_in(1, 2**64)
    if kind == 5:
        return 2**63 - 1 + r.int_in(-2, 2)
    if kind == 6:
        return r.int_in(0, 2**200)
    if kind == 7:
        return 10**9 + r.int_in(-2, 1)
    return 9223372036 + r.int_in(-1, 1)        # seconds at the int64-nanosecond edge


def _junk(r: fuzz_support.Reader, depth: int = 0):
    kind = r.byte() % 16
    if kind == 0:
        return None
    if kind == 1:
        return r.flag()
    if kind == 2:
        return _edge_int(r)
    if kind == 3:
        return r.pick([0.0, -0.0, 1.5, 255.0, math.inf, -math.inf, math.nan, 1e300])
    if kind == 4:
        return r.text(8)
    if kind == 5:
        return r.take(8)
    if kind == 6:
        return bytearray(r.take(8))
    if kind == 7:
        return _Int(_edge_int(r))
    if kind == 8:
        return _Str(r.text(8))
    if kind == 9:
        return object()
    if depth >= 3:
        return None
    n = r.int_in(0, 4)
    if kind == 10:
        return [_junk(r, depth + 1) for _ in range(n)]
    if kind == 11:
        return tuple(_junk(r, depth + 1) for _ in range(n))
    if kind == 12:
        return {r.text(6): _junk(r, depth + 1) for _ in range(n)}
    if kind == 13:
        return {"secs": _junk(r, depth + 1), "nanos": _junk(r, depth + 1)}
    if kind == 14:
        return r.pick(_TYPE_NAMES + _PRIORITY_NAMES + _NEAR_MISSES)
    return types.SimpleNamespace(keys=lambda: [], secs=0)


def _data(r: fuzz_support.Reader):
    payload = list(r.take(r.pick([4, 40, 300])))
    if r.chance(40) and payload:                     # one bad element
        payload[r.int_in(0, len(payload) - 1)] = r.pick(
            [256, -1, True, False, 1.0, _Int(7), 2**70, None, "1", -2**63])
    shape = r.byte() % 8
    if shape == 0:
        return tuple(payload)
    if shape == 1:
        return _List(payload)
    return payload


def _timestamp(r: fuzz_support.Reader):
    parts = {"secs": r.int_in(0, 10**6) if r.chance(160) else _edge_int(r),
             "nanos": r.int_in(0, 10**9 - 1) if r.chance(160) else _edge_int(r)}
    if r.chance(24):
        del parts[r.pick(["secs", "nanos"])]
    if r.chance(24):
        parts[r.pick(["secs", "nanos"])] = _junk(r)
    if r.chance(16):
        parts["extra"] = _junk(r)
    shape = r.byte() % 8
    if shape == 0:
        return OrderedDict(parts)
    if shape == 1:
        return _Mapping(parts)
    return parts


def _checksum(r: fuzz_support.Reader, data):
    kind = r.byte() % 6
    if kind <= 1:
        return None
    if kind == 2:
        return r.text(70)
    clean = isinstance(data, (list, tuple)) and all(type(b) is int and 0 <= b <= 255 for b in data)
    raw = bytes(data) if clean else b""
    from rs2fast._chunk import checksum_hex
    text = checksum_hex(raw, r.pick(["crc32c", "sha256"]))
    return text.upper() if kind == 5 else _Str(text) if kind == 4 else text


_VALID = {
    "stream_id": lambda r: r.text(12) if r.chance(220) else _Str(r.text(4)),
    "sequence_number": lambda r: r.int_in(0, 1000) if r.chance(128) else _edge_int(r),
    "data": _data,
    "chunk_type": lambda r: r.pick(_TYPE_NAMES) if r.chance(230) else _Str(r.pick(_TYPE_NAMES)),
    "priority": lambda r: r.pick(_PRIORITY_NAMES),
    "timestamp": _timestamp,
    "is_final": lambda r: r.flag(),
}


def build_mapping(r: fuzz_support.Reader):
    """A from_dict argument chosen by the bytes (mostly valid, every field sometimes broken)."""
    fields = {}
    for name, valid in _VALID.items():
        choice = r.byte()
        if choice < 200:
            fields[name] = valid(r)
        elif choice < 216:
            fields[name] = _ABSENT
        else:
            fields[name] = _junk(r)
    fields["checksum"] = _checksum(r, fields.get("data")) if r.chance(232) else _junk(r)
    if r.chance(48):
        fields[r.pick(["timestamp_ns", "extra", "Data", "checksum2"])] = _junk(r)
    items = [(k, v) for k, v in fields.items() if v is not _ABSENT]
    shape = r.byte() % 16
    if shape == 0:
        return OrderedDict(items)
    if shape == 1:
        return types.MappingProxyType(dict(items))
    if shape == 2:
        return _Mapping(items)
    if shape == 3:
        return r.pick([items, None, "{}", 5, b"{}", [dict(items)]])
    return dict(items)


def test_one_input(data: bytes) -> None:
    """One fuzz input: from_dict must agree with the restated rules on the built structure."""
    mapping = build_mapping(fuzz_support.Reader(data))
    expected = fuzz_support.expected_from_dict(mapping)
    try:
        chunk = MediaChunk.from_dict(mapping)
    except (TypeError, ValueError) as error:
        assert expected is None, f"from_dict rejected a valid mapping ({error!r}): {mapping!r:.300}"
    else:
        assert expected is not None, f"from_dict accepted an invalid mapping: {mapping!r:.300}"
        fuzz_support.check_chunk(chunk, expected)
    if type(mapping) is dict:
        try:
            text = json.dumps(mapping)                    # tuples become lists, subclasses plain
        except (TypeError, ValueError, RecursionError):
            return
        fuzz_chunk_json.test_one_input(text.encode("utf-8", "surrogatepass"))


def main() -> None:
    """Run this target under atheris (libFuzzer flags from the command line)."""
    fuzz_support.run(test_one_input)


if __name__ == "__main__":
    main()
