"""The fuzz targets in tests/fuzz/ as ordinary tests (no atheris needed), so they cannot rot:
each target's test_one_input runs over every file of its corpus and over a few hundred inputs
made here (random bytes and mutations of the corpus, from a fixed seed)."""
from __future__ import annotations

import importlib
import json
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parent / "fuzz"
CORPUS = FUZZ / "corpus"
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))

import fuzz_support  # noqa: E402

TARGETS = sorted(p.stem[len("fuzz_"):] for p in FUZZ.glob("fuzz_*.py") if p.stem != "fuzz_support")
CORPUS_BUDGET = 8 * 1024        # bytes of seeds per target: a few KiB


def target(name: str):
    """The target module fuzz_<name>; skips when it reports its extension missing."""
    module = importlib.import_module(f"fuzz_{name}")
    if not getattr(module, "AVAILABLE", True):
        pytest.skip(f"fuzz_{name}: {module.UNAVAILABLE_REASON}")
    return module


def corpus_files(name: str) -> list[Path]:
    return sorted(p for p in (CORPUS / name).iterdir() if p.is_file())


def test_the_expected_targets_exist():
    assert set(TARGETS) >= {"chunk_json", "chunk_dict", "reorder", "checksum", "h264"}


@pytest.mark.parametrize("name", TARGETS)
def test_target_shape_and_corpus_budget(name):
    module = importlib.import_module(f"fuzz_{name}")
    assert callable(module.test_one_input) and callable(module.main)
    files = corpus_files(name)
    assert files, f"tests/fuzz/corpus/{name} is empty"
    assert sum(p.stat().st_size for p in files) <= CORPUS_BUDGET


CASES = [(name, path.name) for name in TARGETS for path in corpus_files(name)]


@pytest.mark.parametrize("name, seed", CASES, ids=[f"{n}/{s}" for n, s in CASES])
def test_corpus_file(name, seed):
    target(name).test_one_input((CORPUS / name / seed).read_bytes())


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        at = rng.randint(0, len(data))
        if kind == 0 and data:                              # flip bits
            data[at % len(data)] ^= 1 << rng.randrange(8)
        elif kind == 1:                                     # insert random bytes
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        elif kind == 2:                                     # delete a span
            del data[at:at + rng.randint(1, 8)]
        elif kind == 3 and data:                            # set an interesting byte
            data[at % len(data)] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, ord("["), ord('"'), ord("9")])
        else:                                               # truncate
            del data[at:]
    return bytes(data)


@pytest.mark.parametrize("name", TARGETS)
def test_generated_inputs(name):
    module = target(name)
    rng = random.Random(f"rs2fast-fuzz-{name}")
    seeds = [p.read_bytes() for p in corpus_files(name)]
    for _ in range(100):
        module.test_one_input(rng.randbytes(rng.choice([0, 1, 8, 64, 300, 1500])))
    for _ in range(200):
        module.test_one_input(_mutate(rng, rng.choice(seeds)))


# --- the oracles themselves can fail --------------------------------------------------------------

def test_crc_oracle_matches_the_standard_check_value():
    checksum = target("checksum")
    assert checksum.slow_crc32c(b"123456789") == 0xE3069283
    assert checksum.expected_algorithm("crc32c:e3069283") == "crc32c"
    assert checksum.expected_algorithm("crc32c:E3069283") == "malformed"
    assert checksum.expected_algorithm("a" * 64) == "sha256"
    assert checksum.expected_algorithm("a" * 63 + "\u0660") == "malformed"
    assert checksum.expected_match("crc32c:e3069283", b"123456789")
    assert not checksum.expected_match("crc32c:e3069284", b"123456789")


def test_from_dict_oracle_rejects_what_rs2_rejects():
    from rs2fast._chunk import MediaChunk
    good = MediaChunk("s", 7, b"\x01\x02", 3, checksum="x").to_dict()
    assert fuzz_support.expected_from_dict(good)["data"] == b"\x01\x02"
    for key, bad in [("sequence_number", True), ("sequence_number", 2**64), ("data", [256]),
                     ("data", [True]), ("data", b"\x01"), ("is_final", 0), ("chunk_type", "Audio "),
                     ("timestamp", {"secs": -1, "nanos": 0}), ("checksum", b"x")]:
        assert fuzz_support.expected_from_dict({**good, key: bad}) is None, (key, bad)
    assert fuzz_support.expected_from_dict({k: v for k, v in good.items() if k != "checksum"}) is None


def test_check_chunk_notices_a_wrong_value():
    from rs2fast._chunk import MediaChunk
    chunk = MediaChunk("s", 7, b"\x01\x02", 3)
    expected = fuzz_support.expected_from_dict(chunk.to_dict())
    fuzz_support.check_chunk(chunk, expected)
    with pytest.raises(AssertionError):
        fuzz_support.check_chunk(chunk, {**expected, "sequence_number": 8})


def test_reorder_target_notices_a_broken_kernel(monkeypatch):
    reorder = target("reorder")

    class Lossy(reorder.ReferenceReorder):
        """A model that forgets to count one lost sequence number."""

        def flush(self, ready):
            lost = super().flush(ready)
            self.lost -= bool(lost)
            return lost - bool(lost)

    monkeypatch.setattr(reorder, "ReferenceReorder", Lossy)
    seed = max(corpus_files("reorder"), key=lambda p: p.stat().st_size).read_bytes()
    inputs = [seed] + [_mutate(random.Random(k), seed) for k in range(50)]
    with pytest.raises(AssertionError):
        for data in inputs:
            reorder.test_one_input(data)


@given(st.binary(max_size=64), st.integers(-2**70, 2**70), st.integers(0, 2**70))
def test_reader_stays_in_range(data, lo, span):
    reader = fuzz_support.Reader(data)
    for _ in range(6):
        assert lo <= reader.int_in(lo, lo + span) <= lo + span
    assert 0 <= reader.remaining() <= len(data)
    assert len(reader.take(10)) <= 10 and reader.byte() in range(256)


# --- findings, fixed (regression tests) -------------------------------------------------------------

@pytest.mark.parametrize("text", ["[" * 100_000, b"[" * 100_000, bytearray(b"[" * 100_000),
                                  '{"data":[1],"x":' + "[" * 5000])
def test_finding_deep_nesting_is_a_value_error(text):
    from rs2fast._chunk import MediaChunk
    with pytest.raises(ValueError):             # was RecursionError, found by fuzz_chunk_json
        MediaChunk.from_json(text)


def test_json_target_near_the_nesting_limit():
    # Where the interpreter's recursion limit strikes depends on the stack depth, so from_json and
    # the oracle's json.loads may disagree on a text nested just below it (a fuzz_chunk_json
    # false alarm once); the target must accept either verdict there and still check the rest.
    import sys

    from rs2fast._chunk import MediaChunk
    chunk_json = target("chunk_json")
    limit = sys.getrecursionlimit()

    def with_extra(depth):
        return '{"x":' + "[" * depth + "]" * depth + "," + VALID_CHUNK_JSON[1:]

    assert MediaChunk.from_json(with_extra(50)) == MediaChunk.from_json(VALID_CHUNK_JSON)
    with pytest.raises(ValueError):
        MediaChunk.from_json(with_extra(limit + 20))
    for depth in range(limit - 120, limit + 20, 3):
        chunk_json.test_one_input(('{"data":' + "[" * depth + "4999").encode())
        chunk_json.test_one_input(with_extra(depth).encode())


VALID_CHUNK_JSON = '{"stream_id":"s","sequence_number":1,"data":[1],"chunk_type":"VideoIFrame","priority":"High","timestamp":{"secs":0,"nanos":0},"is_final":false,"checksum":null}'


def test_corpus_json_seeds_are_what_they_claim():
    names = {p.name for p in corpus_files("chunk_json")}
    valid = [p for p in corpus_files("chunk_json") if p.name.startswith("valid")]
    assert valid and len(names) >= 6
    for path in valid:                      # valid seeds parse; long ones take the C fast path
        assert isinstance(json.loads(path.read_bytes()), dict)
    assert any(len(p.read_bytes()) >= 512 for p in valid)
