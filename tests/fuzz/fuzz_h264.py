"""Fuzz target: the H.264 access-unit parser (rs2fast._h264), when that extension is built.

The bytes either are the access unit as they come, or describe one (NAL unit types, slice types,
first_mb_in_slice, tails, Annex B or AVCC framing with 1/2/4-byte lengths, sometimes repeated past
16 KiB so the GIL-free path runs, sometimes damaged by a few byte edits). Checked against a
plain-Python statement of the rules: NAL unit splitting for both framings (offsets, lengths, where
it fails), slice_type from the exp-Golomb slice header after removing emulation-prevention bytes,
and the access-unit kind (weakest slice wins; IDR must be intra; partitions B/C need an A). The
only exception allowed on any input is MediaFormatError; bytes, bytearray and memoryview agree.

Run: python tests/fuzz/fuzz_h264.py tests/fuzz/corpus/h264 -max_total_time=60
"""
from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import fuzz_support  # noqa: E402

from rs2fast.errors import MediaFormatError  # noqa: E402

try:
    from rs2fast._h264 import classify_access_unit, iter_nal_units, parse_slice_type
except ImportError as error:                     # the extension is not built (yet)
    AVAILABLE = False
    UNAVAILABLE_REASON = f"rs2fast._h264 is not importable ({error})"
else:
    AVAILABLE = True
    UNAVAILABLE_REASON = ""

I_FRAME, P_FRAME, B_FRAME, METADATA = 0, 1, 2, 4          # ChunkType values
KIND_OF_SLICE = {0: P_FRAME, 1: B_FRAME, 2: I_FRAME, 3: P_FRAME, 4: I_FRAME}
FRAMINGS = [("annexb", 4), ("avcc", 1), ("avcc", 2), ("avcc", 4)]
START = b"\x00\x00\x01"


class Bad(Exception):
    """The model's verdict: the input is malformed."""


# --- the model ----------------------------------------------------------------------------------

def model_nal_units(data: bytes, framing: str, length_size: int):
    """[(nal_type, offset, length)] up to the first damage, and whether damage was found."""
    units = []
    try:
        for offset, length in _spans(data, framing, length_size):
            if data[offset] & 0x80:
                raise Bad("forbidden bit")
            units.append((data[offset] & 0x1F, offset, length))
    except Bad:
        return units, True
    return units, False


def _spans(data: bytes, framing: str, length_size: int):
    n = len(data)
    if framing == "avcc":
        if n == 0:
            raise Bad("empty")
        pos = 0
        while pos < n:
            if n - pos < length_size:
                raise Bad("truncated prefix")
            length = int.from_bytes(data[pos:pos + length_size], "big")
            if length == 0 or length > n - pos - length_size:
                raise Bad("zero or too long")
            yield pos + length_size, length
            pos += length_size + length
        return
    first = data.find(START)
    if first < 0 or any(data[:first]):
        raise Bad("no start code, or garbage before it")
    pos = first + 3
    while True:
        nxt = data.find(START, pos)
        nxt = n if nxt < 0 else nxt
        end = nxt
        while end > pos and data[end - 1] == 0:
            end -= 1
        if end == pos:
            raise Bad("empty NAL unit")
        yield pos, end - pos
        if nxt == n:
            return
        pos = nxt + 3


def _unescape(payload: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in payload:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def model_slice_type(payload: bytes) -> int:
    """slice_type of a slice NAL unit's payload; Bad when damaged."""
    bits = "".join(f"{b:08b}" for b in _unescape(payload)[:16])
    pos = 0
    values = []
    for _ in range(2):
        zeros = 0
        while pos < len(bits) and bits[pos] == "0":
            zeros += 1
            pos += 1
        if zeros > 31 or pos >= len(bits):
            raise Bad("exp-Golomb code too long or cut off")
        pos += 1
        if len(bits) - pos < zeros:
            raise Bad("exp-Golomb code cut off")
        values.append((1 << zeros) - 1 + (int(bits[pos:pos + zeros], 2) if zeros else 0))
        pos += zeros
    if values[1] > 9:
        raise Bad("slice_type > 9")
    return values[1]


def model_kind(data: bytes, framing: str, length_size: int) -> int:
    """The ChunkType value of the access unit; Bad when damaged."""
    units, damaged = model_nal_units(data, framing, length_size)
    kinds, partition_a, partition_bc = [], False, False
    for nal_type, offset, length in units:
        if nal_type in (1, 2, 5):
            kind = model_slice_type(data[offset + 1:offset + length]) % 5
            if nal_type == 5 and kind not in (2, 4):
                raise Bad("IDR slice not intra")
            kinds.append(KIND_OF_SLICE[kind])
            partition_a |= nal_type == 2
        elif nal_type in (3, 4):
            partition_bc = True
    if damaged:
        raise Bad("framing")
    if partition_bc and not partition_a:
        raise Bad("orphan partition")
    if not kinds:
        return METADATA
    return B_FRAME if B_FRAME in kinds else P_FRAME if P_FRAME in kinds else I_FRAME


# --- building access units from the bytes -------------------------------------------------------

def _ue(value: int) -> str:
    code = value + 1
    return "0" * (code.bit_length() - 1) + format(code, "b")


def _escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _nal(r: fuzz_support.Reader) -> bytes:
    nal_type = r.pick([1, 1, 5, 5, 2, 3, 4, 6, 7, 8, 9, 10, 12, 0, 13, 19, 31, r.int_in(0, 31)])
    header = bytes([(r.int_in(0, 3) << 5) | nal_type])
    if nal_type in (1, 2, 5):
        first_mb = r.pick([0, 1, r.int_in(0, 5000), 2**32 - 2, r.int_in(0, 2**32 - 2)])
        slice_type = r.pick([2, 7, 4, 9] if nal_type == 5 and r.chance(200) else list(range(10)))
        bits = _ue(first_mb) + _ue(slice_type) + _ue(0) + "".join(f"{b:08b}" for b in r.take(6))
        bits += "1" + "0" * (-(len(bits) + 1) % 8)
        rbsp = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    else:
        rbsp = r.take(12) or b"\x80"
    return header + _escape(rbsp)


def _frame(nals, framing: str, length_size: int, r: fuzz_support.Reader) -> bytes:
    if framing == "avcc":
        limit = 1 << (8 * length_size)
        return b"".join(len(n).to_bytes(length_size, "big") + n for n in nals if len(n) < limit)
    out = b"\x00" * r.int_in(0, 2)
    for nal in nals:
        out += (b"\x00\x00\x00\x01" if r.flag() else START) + nal + b"\x00" * (r.byte() % 4 == 0)
    return out


def build(r: fuzz_support.Reader):
    """(data, framing, length_size) chosen by the bytes."""
    framing, length_size = r.pick(FRAMINGS)
    mode = r.byte() % 4
    if mode == 0:
        return r.rest(), framing, length_size
    nals = [_nal(r) for _ in range(r.int_in(1, 6))]
    if r.chance(12):
        nals = nals * r.int_in(2, 600)                  # long units: the GIL-free path
    data = bytearray(_frame(nals, framing, length_size, r))
    if mode == 3 and data:
        for _ in range(r.int_in(1, 3)):
            at = r.int_in(0, len(data) - 1)
            data[at] = r.pick([0, 1, 3, 0x80, 0xFF, r.byte()])
    return bytes(data), framing, length_size


# --- the check ----------------------------------------------------------------------------------

def _observe(data, framing: str, length_size: int):
    units = []
    try:
        for unit in iter_nal_units(data, framing, length_size):
            units.append(unit)
    except MediaFormatError as error:
        assert str(error).startswith("H.264: "), str(error)
        units.append("damaged")
    try:
        kind = classify_access_unit(data, framing, length_size)
    except MediaFormatError as error:
        assert str(error).startswith("H.264: "), str(error)
        kind = "damaged"
    return units, kind


def test_one_input(data: bytes) -> None:
    """One fuzz input: the parser agrees with the model, on every kind of buffer."""
    if not AVAILABLE:
        return
    r = fuzz_support.Reader(data)
    unit, framing, length_size = build(r)
    model_units, damaged = model_nal_units(unit, framing, length_size)
    try:
        want_kind = model_kind(unit, framing, length_size)
    except Bad:
        want_kind = "damaged"
    want = (model_units + ["damaged"] * damaged, want_kind)
    for buffer in (unit, bytearray(unit), memoryview(unit)):
        got = _observe(buffer, framing, length_size)
        assert (got[0], int(got[1]) if got[1] != "damaged" else got[1]) == want, (got, want)
    for payload in (unit[:40], unit[1:41]):
        try:
            want_type = model_slice_type(payload)
        except Bad:
            want_type = None
        try:
            got_type = parse_slice_type(payload)
        except MediaFormatError:
            got_type = None
        assert got_type == want_type, (payload, got_type, want_type)


def main() -> None:
    """Run this target under atheris (libFuzzer flags from the command line)."""
    if not AVAILABLE:
        print(f"fuzz_h264: skipped: {UNAVAILABLE_REASON}")
        return
    fuzz_support.run(test_one_input)


if __name__ == "__main__":
    main()
