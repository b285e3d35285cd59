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


def run(test_one_input, argv=None) -> None:
    """Fuzz `test_one_input` with atheris; libFuzzer options come from argv (default sys.argv)."""
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed (pip install atheris); nothing fuzzed")
    # Python-level coverage only: our Cython extensions are built by gcc without libFuzzer's
    # coverage instrumentation, so feedback comes from the Python code they call and are
    # checked by (json, the reference models, the target's own oracles).
    atheris.instrument_all()
    atheris.Setup(list(sys.argv if argv is None else argv), test_one_input)
    atheris.Fuzz()
