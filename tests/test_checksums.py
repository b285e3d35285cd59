"""CRC-32C kernels, checksum strings and the batch validation/checksum kernels of rs2fast._chunk."""
import array
import hashlib
import mmap
import random
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rs2fast import _chunk
from rs2fast._chunk import (
    VALIDATION_CHECKSUM_MISMATCH,
    VALIDATION_EMPTY_DATA,
    VALIDATION_EMPTY_STREAM_ID,
    VALIDATION_MALFORMED_CHECKSUM,
    VALIDATION_MESSAGES,
    VALIDATION_OK,
    VALIDATION_TOO_LARGE,
    MediaChunk,
    checksum_algorithm,
    checksum_hex,
    compute_checksums,
    crc32c,
    crc32c_combine,
    validate_batch,
    validation_message,
)
from rs2fast._enums import ChunkType

IMPLEMENTATIONS = _chunk._crc32c_available()


def crc32c_bitwise(data: bytes, crc: int = 0) -> int:
    """Independent reference: one bit at a time, reflected polynomial 0x82F63B78."""
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


# --- published vectors ------------------------------------------------------------------------

VECTORS = [
    (b"123456789", 0xE3069283),
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (b"", 0),
]


@pytest.mark.parametrize("data,expected", VECTORS)
def test_published_vectors_every_path(data, expected):
    assert crc32c(data) == expected
    assert crc32c_bitwise(data) == expected
    for name in IMPLEMENTATIONS:
        assert _chunk._crc32c_impl(data, 0, name) == expected, name
    assert _chunk._crc32c_portable(data) == expected


def test_portable_path_is_always_available_and_active_path_is_listed():
    assert IMPLEMENTATIONS[0] == "portable"
    assert _chunk.CRC32C_IMPLEMENTATION in IMPLEMENTATIONS
    assert _chunk.CRC32C_IMPLEMENTATION == IMPLEMENTATIONS[-1]


def test_unknown_or_unsupported_implementation_is_rejected():
    with pytest.raises(ValueError, match="implementation"):
        _chunk._crc32c_impl(b"x", 0, "quantum")


# --- every path against the bitwise reference ------------------------------------------------------

def test_every_length_0_to_300_on_every_path_and_alignment():
    rng = random.Random(1234)
    blob = bytes(rng.getrandbits(8) for _ in range(300 + 16))
    for offset in (0, 1, 3, 7):
        for length in range(301):
            piece = blob[offset:offset + length]
            view = memoryview(blob)[offset:offset + length]     # unaligned start in the same buffer
            want = crc32c_bitwise(piece)
            for name in IMPLEMENTATIONS:
                assert _chunk._crc32c_impl(view, 0, name) == want, (name, offset, length)


@pytest.mark.parametrize("length", [511, 512, 767, 768, 769, 1023, 1024, 1025, 1279, 1300, 2048 + 63,
                                    3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 768 + 5,
                                    65536, 100_003])
def test_block_boundaries_agree_across_paths(length):
    rng = np.random.default_rng(length)
    blob = rng.integers(0, 256, length + 9, dtype=np.uint8).tobytes()
    for offset in (0, 5):
        view = memoryview(blob)[offset:offset + length]
        want = _chunk._crc32c_portable(view, 0x1234ABCD)
        for name in IMPLEMENTATIONS:
            assert _chunk._crc32c_impl(view, 0x1234ABCD, name) == want, (name, offset)
    if length <= 3000:
        assert want == crc32c_bitwise(blob[5:5 + length], 0x1234ABCD)


def test_large_buffer_matches_bitwise_reference():
    data = np.random.default_rng(7).integers(0, 256, 30_000, dtype=np.uint8).tobytes()
    assert crc32c(data) == crc32c_bitwise(data)


@given(st.binary(max_size=2000), st.integers(0, 2**32 - 1))
def test_hypothesis_paths_agree(data, start):
    want = _chunk._crc32c_portable(data, start)
    for name in IMPLEMENTATIONS:
        assert _chunk._crc32c_impl(data, start, name) == want


@given(st.binary(max_size=120), st.integers(0, 2**32 - 1))
def test_hypothesis_matches_bitwise(data, start):
    assert crc32c(data, start) == crc32c_bitwise(data, start)


@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_continuation_and_combine(a, b):
    whole = crc32c(a + b)
    assert crc32c(b, crc32c(a)) == whole
    assert crc32c_combine(crc32c(a), crc32c(b), len(b)) == whole


# --- input handling --------------------------------------------------------------------------------

def test_accepts_every_bytes_like_kind():
    payload = bytes(range(256)) * 4
    want = crc32c(payload)
    assert crc32c(bytearray(payload)) == want
    assert crc32c(memoryview(payload)) == want
    assert crc32c(array.array("B", payload)) == want
    assert crc32c(np.frombuffer(payload, dtype=np.uint32)) == want    # itemsize 4: read as raw bytes
    with mmap.mmap(-1, len(payload)) as mm:
        mm.write(payload)
        assert crc32c(mm) == want


def test_rejects_non_buffers_with_type_error_naming_data():
    for bad in ("text", None, 5, [1, 2], 3.5):
        with pytest.raises(TypeError, match="data"):
            crc32c(bad)


def test_rejects_non_contiguous_buffers_with_value_error():
    strided = np.arange(20, dtype=np.uint8)[::2]
    with pytest.raises(ValueError, match="contiguous"):
        crc32c(strided)
    with pytest.raises(ValueError, match="contiguous"):
        crc32c(memoryview(bytes(20))[::2])


def test_crc_start_value_is_checked():
    with pytest.raises(ValueError, match="crc"):
        crc32c(b"x", -1)
    with pytest.raises(ValueError, match="crc"):
        crc32c(b"x", 2**32)
    with pytest.raises(TypeError, match="crc"):
        crc32c(b"x", "0")
    assert crc32c(b"x", np.uint32(5)) == crc32c_bitwise(b"x", 5)


def test_gil_is_released_for_large_inputs_and_results_stay_right():
    data = np.random.default_rng(3).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    want = _chunk._crc32c_portable(data)
    results = []

    def work():
        for _ in range(5):
            results.append(crc32c(data))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [want] * 20


# --- checksum strings -------------------------------------------------------------------------------

def test_checksum_hex_formats():
    assert checksum_hex(b"123456789", "crc32c") == "crc32c:e3069283"
    assert checksum_hex(bytes(32), "crc32c") == "crc32c:8a9136aa"
    assert checksum_hex(b"abc", "sha256") == hashlib.sha256(b"abc").hexdigest()
    assert checksum_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert checksum_hex(b"", "crc32c") == "crc32c:00000000"
    assert checksum_hex(np.arange(4, dtype=np.uint16), "sha256") == \
        hashlib.sha256(np.arange(4, dtype=np.uint16).tobytes()).hexdigest()


def test_checksum_hex_bad_arguments():
    with pytest.raises(ValueError, match="algorithm"):
        checksum_hex(b"x", "md5")
    with pytest.raises(TypeError, match="algorithm"):
        checksum_hex(b"x", None)
    with pytest.raises(TypeError, match="data"):
        checksum_hex("x", "sha256")
    with pytest.raises(TypeError, match="data"):
        checksum_hex("x", "crc32c")


def test_checksum_algorithm():
    assert checksum_algorithm(None) is None
    assert checksum_algorithm("crc32c:0123abcd") == "crc32c"
    assert checksum_algorithm("0" * 64) == "sha256"
    for bad in ("crc32c:0123ABCD", "A" * 64, "0" * 63, "0" * 65, "crc32c:123", "crc32c:0123abcde",
                "crc32:01234567", "g" * 64, "", "é" * 64, "crc32c:0123abc\u0434"):
        with pytest.raises(ValueError, match="malformed"):
            checksum_algorithm(bad)
    with pytest.raises(TypeError, match="checksum"):
        checksum_algorithm(b"0" * 64)


@given(st.binary(max_size=500), st.sampled_from(["crc32c", "sha256"]))
def test_checksum_strings_name_their_algorithm(data, algorithm):
    text = checksum_hex(data, algorithm)
    assert checksum_algorithm(text) == algorithm
    assert MediaChunk("s", 0, data, ChunkType.AUDIO, checksum=text).checksum_matches()


def test_checksum_matches_rules():
    data = b"payload"
    sha = hashlib.sha256(data).hexdigest()
    crc = checksum_hex(data, "crc32c")
    make = lambda checksum, payload=data: MediaChunk("s", 0, payload, ChunkType.AUDIO, checksum=checksum)
    assert make(None).checksum_matches()
    assert make(sha).checksum_matches()
    assert make(crc).checksum_matches()
    assert not make(sha.upper()).checksum_matches()            # upper case is a mismatch, as in RS2
    assert not make(crc.upper()).checksum_matches()
    assert not make("crc32c:" + "0" * 8).checksum_matches()
    assert not make(sha, b"other").checksum_matches()
    assert not make("nonsense").checksum_matches()


# --- validate_batch --------------------------------------------------------------------------------

def chunk(data=b"x", chunk_type=ChunkType.AUDIO, stream_id="s", checksum=None, seq=0):
    return MediaChunk(stream_id, seq, data, chunk_type, checksum=checksum)


def test_validation_codes_and_messages():
    assert (VALIDATION_OK, VALIDATION_EMPTY_STREAM_ID, VALIDATION_EMPTY_DATA, VALIDATION_TOO_LARGE,
            VALIDATION_MALFORMED_CHECKSUM, VALIDATION_CHECKSUM_MISMATCH) == (0, 1, 2, 3, 4, 5)
    assert VALIDATION_MESSAGES[1] == "Empty stream ID"
    assert VALIDATION_MESSAGES[2] == "Empty chunk data"
    assert VALIDATION_MESSAGES[5] == "Checksum mismatch"
    assert validation_message(3, ChunkType.AUDIO) == "Audio chunk too large"
    for video in (ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME):
        assert validation_message(3, video) == "Video chunk too large"
    assert validation_message(3, ChunkType.THUMBNAIL) == "Chunk too large"
    assert validation_message(3) == "Chunk too large"
    assert validation_message(1, ChunkType.AUDIO) == "Empty stream ID"
    with pytest.raises(ValueError, match="code"):
        validation_message(6)
    with pytest.raises(TypeError, match="code"):
        validation_message("1")


def test_validate_batch_each_rule():
    good_sha = hashlib.sha256(b"abc").hexdigest()
    batch = [
        chunk(b"abc"),                                            # 0
        chunk(b"abc", stream_id=""),                               # 1
        chunk(b""),                                               # 2
        chunk(bytes(65537)),                                      # 3 audio
        chunk(bytes(65536)),                                      # 0: exactly the cap passes
        chunk(bytes(1048577), ChunkType.VIDEO_P_FRAME),           # 3 video
        chunk(bytes(1048576), ChunkType.VIDEO_I_FRAME),           # 0
        chunk(bytes(5_000_000), ChunkType.THUMBNAIL),             # 0: no cap by default
        chunk(b"abc", checksum=good_sha.upper()),                 # 4 (upper case is malformed)
        chunk(b"abc", checksum=good_sha),                         # 0
        chunk(b"abd", checksum=good_sha),                         # 5
        chunk(b"abc", checksum=checksum_hex(b"abc", "crc32c")),   # 0
        chunk(b"abd", checksum=checksum_hex(b"abc", "crc32c")),   # 5
        chunk(b"abc", checksum="crc32c:xyz"),                     # 4
    ]
    codes = validate_batch(batch)
    assert isinstance(codes, bytes)
    assert list(codes) == [0, 1, 2, 3, 0, 3, 0, 0, 4, 0, 5, 0, 5, 4]


def test_validate_batch_rule_order():
    # empty stream id wins over empty data; empty data wins over a bad checksum
    assert list(validate_batch([chunk(b"", stream_id="", checksum="bad")])) == [1]
    assert list(validate_batch([chunk(b"", checksum="bad")])) == [2]
    # size is checked before the checksum: an oversized chunk with a bad checksum reports 3
    assert list(validate_batch([chunk(bytes(70000), checksum="bad")])) == [3]
    assert list(validate_batch([chunk(bytes(70000), checksum="0" * 64)])) == [3]


def test_validate_batch_size_check_happens_before_hashing():
    # A hashed mismatch would report 5; an oversized chunk reports 3 without getting that far.
    huge = chunk(bytes(2_000_000), ChunkType.VIDEO_I_FRAME, checksum="0" * 64)
    assert list(validate_batch([huge])) == [VALIDATION_TOO_LARGE]
    assert list(validate_batch([huge], video_limit=None)) == [VALIDATION_CHECKSUM_MISMATCH]


def test_validate_batch_limits_and_switches():
    batch = [chunk(bytes(10), ChunkType.METADATA), chunk(bytes(10), ChunkType.AUDIO),
             chunk(bytes(10), ChunkType.VIDEO_B_FRAME, checksum="bad")]
    assert list(validate_batch(batch, other_limit=9)) == [3, 0, 4]
    assert list(validate_batch(batch, audio_limit=9, video_limit=9)) == [0, 3, 3]
    assert list(validate_batch(batch, verify_checksums=False)) == [0, 0, 0]
    assert list(validate_batch(batch, audio_limit=None, video_limit=None, other_limit=10)) == [0, 0, 4]
    assert validate_batch([]) == b""
    assert list(validate_batch(tuple(batch))) == [0, 0, 4]


def test_validate_batch_bad_arguments():
    with pytest.raises(TypeError, match=r"chunks\[1\]"):
        validate_batch([chunk(), b"not a chunk"])
    with pytest.raises(TypeError, match="chunks"):
        validate_batch(5)
    with pytest.raises(ValueError, match="audio_limit"):
        validate_batch([], audio_limit=-1)
    with pytest.raises(TypeError, match="video_limit"):
        validate_batch([], video_limit="big")
    with pytest.raises(TypeError, match="verify_checksums"):
        validate_batch([], verify_checksums="yes")


def test_validate_batch_large_crc_batch_without_gil():
    rng = np.random.default_rng(11)
    chunks = []
    for i in range(64):
        data = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
        text = checksum_hex(data, "crc32c")
        if i % 7 == 3:
            data = data[:-1] + bytes([data[-1] ^ 1])
        chunks.append(chunk(data, ChunkType.VIDEO_P_FRAME, checksum=text, seq=i))
    codes = validate_batch(chunks)
    assert [i for i, code in enumerate(codes) if code] == [i for i in range(64) if i % 7 == 3]
    assert set(codes) == {0, 5}


def test_validate_batch_tolerates_list_mutation_by_other_threads():
    chunks = [chunk(bytes(8192), ChunkType.VIDEO_P_FRAME, checksum=checksum_hex(bytes(8192), "crc32c"))
              for _ in range(50)]
    stop = threading.Event()

    def mutate():
        while not stop.is_set():
            if chunks:
                chunks.pop()
            else:
                break

    codes = validate_batch(chunks[:])   # a copy is still taken internally; the call must not crash
    thread = threading.Thread(target=mutate)
    thread.start()
    try:
        for _ in range(5):
            result = validate_batch(chunks)
            assert set(result) <= {0}
    finally:
        stop.set()
        thread.join()
    assert set(codes) == {0}


# --- compute_checksums -----------------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ["crc32c", "sha256"])
def test_compute_checksums(algorithm):
    source = bytes(range(256)) * 200
    chunks = _chunk.split_buffer(source, "s", 1000)
    done = compute_checksums(chunks, algorithm)
    assert len(done) == len(chunks)
    for old, new in zip(chunks, done):
        assert new.checksum == checksum_hex(bytes(old), algorithm)
        assert new.checksum_matches()
        assert new.replace(checksum=None) == old                 # only the checksum changed
        assert bytes(new) == bytes(old)
    assert old.checksum is None                                   # originals untouched
    assert compute_checksums([], algorithm) == []


def test_compute_checksums_bad_arguments():
    with pytest.raises(ValueError, match="algorithm"):
        compute_checksums([chunk()], "md5")
    with pytest.raises(TypeError, match=r"chunks\[0\]"):
        compute_checksums([None], "crc32c")


# --- the single-chunk C check agrees with the batch kernel --------------------------------------------

checksum_texts = st.one_of(
    st.none(), st.just("crc32c:00000000"), st.just("0" * 64), st.just("ABC"), st.text(max_size=16),
    st.from_regex(r"\Acrc32c:[0-9a-fA-F]{8}\Z"), st.from_regex(r"\A[0-9a-f]{64}\Z"))


@st.composite
def validation_cases(draw):
    data = draw(st.binary(max_size=40))
    checksum = draw(checksum_texts)
    if draw(st.booleans()) and checksum is None:
        checksum = checksum_hex(data, draw(st.sampled_from(["crc32c", "sha256"])))
    return MediaChunk(draw(st.sampled_from(["", "s"])), 0, data, draw(st.sampled_from(list(ChunkType))),
                      checksum=checksum)


@given(st.lists(validation_cases(), max_size=12), st.sampled_from([None, 0, 10, 30]),
       st.sampled_from([None, 5, 20]), st.sampled_from([None, 3, 25]), st.booleans())
def test_validate_batch_matches_single_chunk_check(chunks, audio, video, other, verify):
    codes = validate_batch(chunks, audio, video, other, verify)
    assert list(codes) == [_chunk._validate_one(c, audio, video, other, verify) for c in chunks]
    for c, code in zip(chunks, codes):          # and both agree with the rules written out here
        cap = audio if c.chunk_type is ChunkType.AUDIO else (video if c.chunk_type.is_video else other)
        if c.stream_id == "":
            assert code == 1
        elif len(c) == 0:
            assert code == 2
        elif cap is not None and len(c) > cap:
            assert code == 3
        elif not verify or c.checksum is None:
            assert code == 0
        else:
            try:
                checksum_algorithm(c.checksum)
            except ValueError:
                assert code == 4
            else:
                assert code == (0 if c.checksum_matches() else 5)
