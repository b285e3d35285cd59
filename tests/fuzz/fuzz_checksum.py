"""Fuzz target: checksum strings and the CRC-32C kernels.

From the fuzz bytes: a payload (sometimes tiled to tens of KiB so the three-stream and AVX-512
paths and the GIL-free batch paths run), an alignment offset, a start CRC, and a handful of chunks
whose checksum strings are right, slightly wrong (one character changed, upper-cased, cut or
lengthened) or arbitrary text of every string kind. Checked against plain-Python statements:
checksum_algorithm, MediaChunk.checksum_matches, validate_batch (and _validate_one), every CRC-32C
code path against the portable one and a bitwise CRC, crc32c continuation and crc32c_combine,
compute_checksums and split_buffer's checksums.

Run: python tests/fuzz/fuzz_checksum.py tests/fuzz/corpus/checksum -max_total_time=60
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
import fuzz_support  # noqa: E402

from rs2fast._chunk import (MediaChunk, _crc32c_available, _crc32c_impl, _validate_one,  # noqa: E402
                            checksum_algorithm, checksum_hex, compute_checksums, crc32c,
                            crc32c_combine, split_buffer, validate_batch)
from rs2fast._enums import ChunkType  # noqa: E402

_HEX = frozenset("0123456789abcdef")
_IMPLEMENTATIONS = _crc32c_available()
_SLOW_CRC_LIMIT = 1024          # bytes checked against the bitwise CRC (it is slow)
_INT64_MAX = 2**63 - 1


def slow_crc32c(data, crc: int = 0) -> int:
    """Bitwise CRC-32C (reflected polynomial 0x82F63B78), the independent oracle."""
    crc ^= 0xFFFFFFFF
    for byte in bytes(data):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def expected_algorithm(text):
    """'sha256', 'crc32c', None (for None), or ValueError's stand-in 'malformed'."""
    if text is None:
        return None
    if len(text) == 64 and set(text) <= _HEX:
        return "sha256"
    if len(text) == 15 and text.startswith("crc32c:") and set(text[7:]) <= _HEX:
        return "crc32c"
    return "malformed"


def expected_match(text, data: bytes) -> bool:
    kind = expected_algorithm(text)
    if kind is None:
        return True
    if kind == "sha256":
        return hashlib.sha256(data).hexdigest() == text
    if kind == "crc32c":
        return int(text[7:], 16) == _reference_crc(data)
    return False


def _reference_crc(data, crc: int = 0) -> int:
    if len(data) <= _SLOW_CRC_LIMIT:
        return slow_crc32c(data, crc)
    return _crc32c_impl(data, crc, "portable")


def _checksum_text(r: fuzz_support.Reader, data: bytes):
    kind = r.byte() % 10
    if kind == 0:
        return None
    if kind == 1:
        return r.text(80)
    if kind == 2:
        return "crc32c:" + r.text(8) if r.flag() else r.text(64)
    good = checksum_hex(data, "crc32c" if r.flag() else "sha256")
    if kind <= 5:
        return good
    if kind == 6:
        return good.upper()
    if kind == 7:
        return good[:r.int_in(0, len(good))] + r.text(2)
    at = r.int_in(0, len(good) - 1)
    return good[:at] + chr(r.pick([0x30, 0x39, 0x61, 0x66, 0x67, 0x41, 0x46, 0xE9, 0x3A, 0x100,
                                   0x663, 0x1F600, r.int_in(0, 0x10FFFF)])) + good[at + 1:]


def _limit(r: fuzz_support.Reader):
    return r.pick([None, None, 0, 1, 16, 100, 4096, 65536, 2**63 - 1, 2**63, 2**64 + 5])


def _expected_code(chunk, audio, video, other, verify) -> int:
    if chunk.stream_id == "":
        return 1
    size = len(chunk.data)
    if size == 0:
        return 2
    kind = int(chunk.chunk_type)
    limit = video if kind <= 2 else audio if kind == 3 else other
    if limit is not None and limit <= _INT64_MAX and size > limit:
        return 3
    if not verify or chunk.checksum is None:
        return 0
    if expected_algorithm(chunk.checksum) == "malformed":
        return 4
    return 0 if expected_match(chunk.checksum, bytes(chunk.data)) else 5


def _check_crc(r: fuzz_support.Reader, view: memoryview) -> None:
    start = r.pick([0, 0xFFFFFFFF, r.int_in(0, 2**32 - 1)])
    want = _reference_crc(view, start)
    for name in _IMPLEMENTATIONS:
        got = _crc32c_impl(view, start, name)
        assert got == want, (name, len(view), start, got, want)
    assert crc32c(view, start) == want
    cut = r.int_in(0, len(view))
    head, tail = view[:cut], view[cut:]
    assert crc32c(tail, crc32c(head, start)) == want
    if start == 0:
        assert crc32c_combine(crc32c(head), crc32c(tail), len(tail)) == want


def _check_strings_and_batch(r: fuzz_support.Reader, payload: bytes) -> None:
    chunks = []
    for _ in range(r.int_in(1, 6)):
        lo = r.int_in(0, len(payload))
        hi = lo + r.int_in(0, len(payload) - lo)
        data = payload[lo:hi]
        text = _checksum_text(r, data)
        kind = expected_algorithm(text)
        if kind == "malformed":
            try:
                checksum_algorithm(text)
            except ValueError:
                pass
            else:
                raise AssertionError(f"checksum_algorithm accepted {text!r}")
        else:
            assert checksum_algorithm(text) == kind, text
        chunk = MediaChunk(r.pick(["", "s", "stream-\u00e9", "\U0001f600"]), r.int_in(0, 2**64 - 1),
                           data, ChunkType(r.int_in(0, 5)), checksum=text)
        assert chunk.checksum_matches() == expected_match(text, data), text
        chunks.append(chunk)
    audio, video, other = _limit(r), _limit(r), _limit(r)
    verify = r.flag() or r.flag()
    codes = validate_batch(chunks, audio, video, other, verify)
    wanted = bytes(_expected_code(c, audio, video, other, verify) for c in chunks)
    assert codes == wanted, (codes, wanted, [c.checksum for c in chunks])
    for chunk, code in zip(chunks, wanted):
        assert _validate_one(chunk, audio, video, other, verify) == code
    algorithm = r.pick(["crc32c", "sha256"])
    for old, new in zip(chunks, compute_checksums(chunks, algorithm)):
        assert new.checksum == checksum_hex(bytes(old.data), algorithm) and new.checksum_matches()
        assert new.replace(checksum=old.checksum) == old


def _check_split(r: fuzz_support.Reader, payload: bytes) -> None:
    size = r.int_in(1, max(1, len(payload)))
    algorithm = r.pick([None, "crc32c", "sha256"])
    kind = r.pick(["bytes", "bytearray", "writable view", "read-only view"])
    backing = bytearray(payload)
    source = {"bytes": payload, "bytearray": backing, "writable view": memoryview(backing),
              "read-only view": memoryview(payload)}[kind]
    chunks = split_buffer(source, "s", size, start_sequence=r.int_in(0, 2**20), checksum=algorithm)
    if kind != "read-only view":
        backing[:] = bytes(len(backing))            # a mutable source was copied: refill it
    assert b"".join(bytes(c.data) for c in chunks) == payload
    assert all(len(c) == size for c in chunks[:-1])
    assert all(c.checksum_matches() for c in chunks)
    if algorithm is not None:
        assert all(checksum_algorithm(c.checksum) == algorithm for c in chunks)
    if chunks:
        assert validate_batch(chunks, None, None, None) == bytes(len(chunks))


def test_one_input(data: bytes) -> None:
    """One fuzz input: every checksum path must agree with its plain-Python statement."""
    r = fuzz_support.Reader(data)
    payload = r.take(r.pick([16, 300, 3000]))
    if r.chance(24):
        payload = payload * r.int_in(1, 48)          # long inputs: block paths, GIL released
    offset = r.int_in(0, 15)
    _check_crc(r, memoryview(payload)[min(offset, len(payload)):])
    _check_strings_and_batch(r, payload)
    _check_split(r, payload)


def main() -> None:
    """Run this target under atheris (libFuzzer flags from the command line)."""
    fuzz_support.run(test_one_input)


if __name__ == "__main__":
    main()
