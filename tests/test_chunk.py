"""MediaChunk (construction, fields, equality, pickling, replace, RS2 JSON) and zero-copy splitting."""
import array
import copy
import ctypes
import datetime
import gc
import hashlib
import json
import mmap
import pickle
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rs2fast import _chunk
from rs2fast._chunk import MediaChunk, checksum_hex, gop_chunk_type, split_buffer
from rs2fast._enums import ChunkType, MediaPriority

td = datetime.timedelta
RS2_EXAMPLE = ('{"stream_id":"s","sequence_number":3,"data":[1,2],"chunk_type":"VideoIFrame",'
               '"priority":"High","timestamp":{"secs":1,"nanos":500000000},"is_final":true,'
               '"checksum":null}')


def make(**overrides):
    fields = dict(stream_id="cam", sequence_number=7, data=b"abcdef", chunk_type=ChunkType.VIDEO_P_FRAME,
                  priority=MediaPriority.NORMAL, timestamp=td(milliseconds=40), is_final=False,
                  checksum=None)
    fields.update(overrides)
    return MediaChunk(**fields)


def rs2_dumps(mapping):
    return json.dumps(mapping, separators=(",", ":"), ensure_ascii=False)


# --- construction -----------------------------------------------------------------------------------

def test_fields_and_defaults():
    chunk = MediaChunk("s", 3, b"\x01\x02", ChunkType.AUDIO)
    assert chunk.stream_id == "s"
    assert chunk.sequence_number == 3
    assert chunk.data == b"\x01\x02"
    assert chunk.chunk_type is ChunkType.AUDIO
    assert chunk.priority is MediaPriority.HIGH
    assert chunk.timestamp == td(0)
    assert chunk.timestamp_ns == 0
    assert chunk.is_final is False
    assert chunk.checksum is None
    assert len(chunk) == 2


@pytest.mark.parametrize("chunk_type", list(ChunkType))
def test_priority_defaults_to_the_type_default(chunk_type):
    assert MediaChunk("s", 0, b"x", chunk_type).priority is chunk_type.default_priority
    assert MediaChunk("s", 0, b"x", chunk_type, None).priority is chunk_type.default_priority
    assert MediaChunk("s", 0, b"x", chunk_type, MediaPriority.LOW).priority is MediaPriority.LOW


def test_plain_ints_become_enum_members():
    chunk = MediaChunk("s", 0, b"x", 3, 1)
    assert chunk.chunk_type is ChunkType.AUDIO
    assert chunk.priority is MediaPriority.LOW


def test_bytes_are_kept_and_other_buffers_copied():
    payload = b"0123456789"
    assert MediaChunk("s", 0, payload, 0).data is payload
    source = bytearray(b"abcdef")
    chunk = MediaChunk("s", 0, source, 0)
    source[0:3] = b"XYZ"
    assert chunk.data == b"abcdef"                     # never aliases a mutable buffer
    assert type(chunk.data) is bytes
    array_source = np.arange(6, dtype=np.uint8)
    chunk = MediaChunk("s", 0, array_source, 0)
    array_source[:] = 0
    assert chunk.data == bytes(range(6))
    assert MediaChunk("s", 0, memoryview(b"xyz"), 0).data == b"xyz"
    assert MediaChunk("s", 0, array.array("H", [1, 2]), 0).data == array.array("H", [1, 2]).tobytes()

    class Sub(bytes):
        pass

    assert type(MediaChunk("s", 0, Sub(b"ab"), 0).data) is bytes


def test_non_contiguous_buffers_are_copied_in_c_order():
    grid = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert MediaChunk("s", 0, grid[:, ::2], 0).data == bytes([0, 2, 4, 6, 8, 10])
    assert MediaChunk("s", 0, grid.T, 0).data == grid.T.tobytes()
    assert MediaChunk("s", 0, memoryview(b"abcdef")[::2], 0).data == b"ace"


@pytest.mark.parametrize("bad", ["text", None, 5, [1, 2], 1.5, object(), True])
def test_bad_data_is_a_type_error_naming_data(bad):
    with pytest.raises(TypeError, match="data"):
        MediaChunk("s", 0, bad, 0)


@pytest.mark.parametrize("bad,error", [(6, ValueError), (-1, ValueError), ("VideoIFrame", TypeError),
                                       (True, TypeError), (1.0, TypeError), (None, TypeError)])
def test_bad_chunk_type(bad, error):
    with pytest.raises(error, match="chunk_type"):
        MediaChunk("s", 0, b"x", bad)


@pytest.mark.parametrize("bad,error", [(0, ValueError), (4, ValueError), ("High", TypeError),
                                       (False, TypeError), (2.0, TypeError)])
def test_bad_priority(bad, error):
    with pytest.raises(error, match="priority"):
        MediaChunk("s", 0, b"x", 0, bad)


@pytest.mark.parametrize("bad,error", [(-1, ValueError), (2**64, ValueError), (True, TypeError),
                                       (1.0, TypeError), ("1", TypeError), (None, TypeError)])
def test_bad_sequence_number(bad, error):
    with pytest.raises(error, match="sequence_number"):
        MediaChunk("s", bad, b"x", 0)


def test_sequence_number_range_and_index_types():
    assert MediaChunk("s", 2**64 - 1, b"x", 0).sequence_number == 2**64 - 1
    assert MediaChunk("s", np.uint64(2**64 - 1), b"x", 0).sequence_number == 2**64 - 1
    assert MediaChunk("s", np.int32(5), b"x", 0).sequence_number == 5


def test_timestamps():
    assert make(timestamp=td(seconds=-3)).timestamp == td(seconds=-3)        # negative pts allowed
    assert make(timestamp=td(seconds=-3)).timestamp_ns == -3_000_000_000
    assert make(timestamp=td(days=1, microseconds=5)).timestamp_ns == 86_400_000_005_000
    biggest = td(microseconds=(2**63 - 1) // 1000)
    assert make(timestamp=biggest).timestamp == biggest
    smallest = td(microseconds=-(2**63 // 1000))
    assert make(timestamp=smallest).timestamp == smallest
    assert make(timestamp=smallest).timestamp_ns == -(2**63 // 1000) * 1000
    for bad in (td(days=106752), td(days=-106752), td.max, td.min, biggest + td(microseconds=1),
                smallest - td(microseconds=1)):
        with pytest.raises(ValueError, match="timestamp"):
            make(timestamp=bad)
    for bad in (5, 1.5, "1s"):
        with pytest.raises(TypeError, match="timestamp"):
            make(timestamp=bad)
    assert make(timestamp=None).timestamp == td(0)


def test_timestamp_ns_keyword_and_rounding_of_the_timedelta_view():
    chunk = MediaChunk("s", 0, b"x", 0, timestamp_ns=1_500_000_999)
    assert chunk.timestamp_ns == 1_500_000_999
    assert chunk.timestamp == td(seconds=1, microseconds=500_000)           # whole microseconds
    assert MediaChunk("s", 0, b"x", 0, timestamp_ns=-1500).timestamp == td(microseconds=-2)  # floor
    assert MediaChunk("s", 0, b"x", 0, timestamp_ns=-(2**63)).timestamp_ns == -(2**63)
    with pytest.raises(TypeError, match="not both"):
        MediaChunk("s", 0, b"x", 0, timestamp=td(1), timestamp_ns=5)
    with pytest.raises(ValueError, match="timestamp_ns"):
        MediaChunk("s", 0, b"x", 0, timestamp_ns=2**63)
    with pytest.raises(TypeError, match="timestamp_ns"):
        MediaChunk("s", 0, b"x", 0, timestamp_ns=1.0)


def test_other_field_types():
    with pytest.raises(TypeError, match="is_final"):
        make(is_final="yes")
    with pytest.raises(TypeError, match="is_final"):
        make(is_final=None)
    assert make(is_final=1).is_final is True
    with pytest.raises(TypeError, match="checksum"):
        make(checksum=5)
    with pytest.raises(TypeError, match="checksum"):
        make(checksum=b"0" * 64)
    for bad in (5, None, b"s"):
        with pytest.raises(TypeError, match="stream_id"):
            make(stream_id=bad)

    class Name(str):
        pass

    assert type(make(stream_id=Name("cam")).stream_id) is str
    signed = make(checksum=Name(checksum_hex(b"abcdef", "crc32c")))
    assert type(signed.checksum) is str and signed.checksum_matches()
    assert make(stream_id="").stream_id == ""               # allowed; validation reports it


def test_chunks_are_immutable():
    chunk = make()
    for name in ("stream_id", "sequence_number", "data", "chunk_type", "priority", "timestamp",
                 "timestamp_ns", "is_final", "checksum"):
        with pytest.raises(AttributeError):
            setattr(chunk, name, getattr(chunk, name))
    with pytest.raises(TypeError, match="immutable"):
        chunk.__init__("other", 1, b"zz", 0)
    assert chunk.stream_id == "cam" and chunk.data == b"abcdef"
    with pytest.raises(TypeError):
        class Sub(MediaChunk):      # final class
            pass


def test_uninitialised_chunk_is_harmless():
    blank = MediaChunk.__new__(MediaChunk)
    assert len(blank) == 0
    assert bytes(blank) == b""
    assert "MediaChunk(" in repr(blank)
    assert list(_chunk.validate_batch([blank])) == [_chunk.VALIDATION_EMPTY_STREAM_ID]


# --- buffer protocol, equality, repr ---------------------------------------------------------------

def test_read_only_buffer_protocol():
    chunk = make(data=b"hello")
    assert bytes(chunk) == b"hello"
    assert hashlib.sha256(chunk).hexdigest() == hashlib.sha256(b"hello").hexdigest()
    view = memoryview(chunk)
    assert view.readonly and view.format == "B" and view.nbytes == 5
    with pytest.raises(TypeError):
        view[0] = 0
    with pytest.raises((TypeError, BufferError)):
        ctypes.c_char.from_buffer(chunk)           # asks for a writable buffer
    assert np.frombuffer(chunk, dtype=np.uint8).flags.writeable is False


def test_a_chunk_is_a_buffer_for_common_consumers(tmp_path):
    (_, chunk) = split_buffer(b"0123456789", "s", 5)       # a view into a larger owner
    assert len(chunk) == 5
    assert bytes(chunk) == b"56789"
    assert memoryview(chunk).tobytes() == b"56789"
    assert hashlib.sha256(chunk).digest() == hashlib.sha256(b"56789").digest()
    path = tmp_path / "out.bin"
    with open(path, "wb") as f:
        assert f.write(chunk) == 5
    assert path.read_bytes() == b"56789"


def test_data_is_the_owner_bytes_a_small_copy_or_one_cached_view():
    whole = make(data=b"hello")
    assert whole.data is whole.data and type(whole.data) is bytes
    small = split_buffer(b"hello world", "s", 5)[0]
    assert type(small.data) is bytes and small.data == b"hello"
    assert small.data is small.data                        # copied once, then reused
    payload = bytes(range(256)) * 40                       # 10 KiB: chunks over 4 KiB are views
    part = split_buffer(payload, "s", 5000)[1]
    view = part.data
    assert type(view) is memoryview and view.readonly and bytes(view) == payload[5000:10000]
    assert part.data is view                               # made once, then reused
    view.release()
    assert bytes(part.data) == payload[5000:10000]         # a released view is replaced
    boundary = split_buffer(payload, "s", 4096)
    assert type(boundary[0].data) is bytes and type(split_buffer(payload, "s", 4097)[0].data) \
        is memoryview


def test_bool_is_true_even_for_empty_data():
    assert bool(make(data=b""))


def test_equality_over_all_fields():
    base = make(checksum="crc32c:00000000")
    same = make(checksum="crc32c:00000000", data=bytearray(b"abcdef"))
    assert base == same and not (base != same)
    changes = dict(stream_id="other", sequence_number=8, data=b"abcdeg", chunk_type=ChunkType.AUDIO,
                   priority=MediaPriority.HIGH, timestamp=td(milliseconds=41), is_final=True,
                   checksum="crc32c:00000001")
    for name, value in changes.items():
        other = base.replace(**{name: value})
        assert other != base, name
        assert not (other == base), name
    assert base != base.replace(timestamp_ns=base.timestamp_ns + 1)        # nanosecond precision
    assert base != base.replace(data=b"abcdefg")                            # length differs
    assert base != b"abcdef" and base != None  # noqa: E711
    with pytest.raises(TypeError):
        hash(base)


def test_split_chunks_equal_constructed_chunks():
    parts = split_buffer(bytearray(b"abcdefg"), "s", 4, frame_duration_ns=1000)
    built = [MediaChunk("s", 0, b"abcd", ChunkType.VIDEO_I_FRAME),
             MediaChunk("s", 1, b"efg", ChunkType.VIDEO_P_FRAME, timestamp_ns=1000, is_final=True)]
    assert parts == built


def test_repr_is_readable():
    text = repr(make(checksum="crc32c:0000abcd"))
    for part in ("stream_id='cam'", "sequence_number=7", "data=<6 bytes>", "VIDEO_P_FRAME", "NORMAL",
                 "timestamp_ns=40000000", "is_final=False", "crc32c:0000abcd"):
        assert part in text


# --- pickling, copying, replace ---------------------------------------------------------------------

@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol):
    chunks = [make(), make(timestamp=td(seconds=-1), is_final=True, checksum="x"),
              MediaChunk("é", 2**64 - 1, b"", ChunkType.THUMBNAIL, timestamp_ns=-(2**63) + 7)]
    chunks += split_buffer(np.arange(10, dtype=np.uint8), "s", 3, checksum="crc32c")
    for chunk in chunks:
        clone = pickle.loads(pickle.dumps(chunk, protocol))
        assert clone == chunk
        assert clone.timestamp_ns == chunk.timestamp_ns
        assert type(clone.data) is bytes


def test_copy_returns_the_same_immutable_object():
    chunk = make()
    assert copy.copy(chunk) is chunk
    assert copy.deepcopy(chunk) is chunk


def test_replace():
    chunk = make(checksum="c")
    assert chunk.replace() == chunk and chunk.replace() is not chunk
    moved = chunk.replace(sequence_number=99, is_final=True)
    assert (moved.sequence_number, moved.is_final, moved.stream_id) == (99, True, "cam")
    assert moved.data is chunk.data                                      # data shared, not copied
    retyped = chunk.replace(chunk_type=ChunkType.AUDIO)
    assert retyped.priority is MediaPriority.NORMAL                      # kept
    assert chunk.replace(chunk_type=ChunkType.AUDIO, priority=None).priority is MediaPriority.HIGH
    assert chunk.replace(data=bytearray(b"zz")).data == b"zz"
    assert chunk.replace(timestamp=td(seconds=2)).timestamp_ns == 2_000_000_000
    assert chunk.replace(timestamp_ns=5).timestamp_ns == 5
    assert chunk.replace(checksum=None).checksum is None
    assert chunk.checksum == "c" and chunk.sequence_number == 7          # original unchanged
    view_chunk = split_buffer(b"abcdef", "s", 4)[0]
    assert bytes(view_chunk.replace(sequence_number=5)) == b"abcd"


def test_replace_validates_like_the_constructor():
    chunk = make()
    with pytest.raises(TypeError, match="colour"):
        chunk.replace(colour=1)
    with pytest.raises(ValueError, match="sequence_number"):
        chunk.replace(sequence_number=-1)
    with pytest.raises(TypeError, match="data"):
        chunk.replace(data="text")
    with pytest.raises(ValueError, match="chunk_type"):
        chunk.replace(chunk_type=17)
    with pytest.raises(ValueError, match="priority"):
        chunk.replace(priority=9)
    with pytest.raises(TypeError, match="timestamp"):
        chunk.replace(timestamp=3)
    with pytest.raises(TypeError, match="not both"):
        chunk.replace(timestamp=td(0), timestamp_ns=0)
    with pytest.raises(TypeError, match="is_final"):
        chunk.replace(is_final="no")
    with pytest.raises(TypeError, match="checksum"):
        chunk.replace(checksum=1)
    with pytest.raises(TypeError, match="stream_id"):
        chunk.replace(stream_id=None)


# --- RS2 JSON -----------------------------------------------------------------------------------------

def test_loads_rs2_example_json_and_writes_it_back_identically():
    chunk = MediaChunk.from_json(RS2_EXAMPLE)
    assert chunk == MediaChunk("s", 3, b"\x01\x02", ChunkType.VIDEO_I_FRAME, MediaPriority.HIGH,
                               td(seconds=1.5), True, None)
    assert chunk.to_json() == RS2_EXAMPLE
    assert rs2_dumps(chunk.to_dict()) == RS2_EXAMPLE
    assert MediaChunk.from_json(RS2_EXAMPLE.encode()) == chunk
    assert MediaChunk.from_json(bytearray(RS2_EXAMPLE.encode())) == chunk


def test_to_dict_shape():
    chunk = make(checksum="crc32c:01234567", is_final=True).replace(timestamp_ns=2_000_000_123)
    assert chunk.to_dict() == {
        "stream_id": "cam", "sequence_number": 7, "data": list(b"abcdef"), "chunk_type": "VideoPFrame",
        "priority": "Normal", "timestamp": {"secs": 2, "nanos": 123}, "is_final": True,
        "checksum": "crc32c:01234567"}


def test_negative_timestamp_cannot_go_to_rs2_json():
    chunk = make(timestamp=td(seconds=-1))
    with pytest.raises(ValueError, match="negative"):
        chunk.to_dict()
    with pytest.raises(ValueError, match="negative"):
        chunk.to_json()


def test_big_data_json_round_trip():
    payload = np.random.default_rng(5).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    chunk = make(data=payload)
    text = chunk.to_json()
    assert text == rs2_dumps(chunk.to_dict())
    assert MediaChunk.from_json(text) == chunk
    assert MediaChunk.from_dict(chunk.to_dict()) == chunk


def test_json_escapes_and_unicode_stream_ids():
    for name in ('quote"back\\slash', "tab\tnew\nline\x01", "снег ❄", ""):
        chunk = make(stream_id=name, checksum='odd "checksum"')
        assert chunk.to_json() == rs2_dumps(chunk.to_dict())
        assert MediaChunk.from_json(chunk.to_json()) == chunk


FIELDS = ("stream_id", "sequence_number", "data", "chunk_type", "priority", "timestamp", "is_final",
          "checksum")


@pytest.mark.parametrize("field", FIELDS)
def test_from_dict_missing_field_names_it(field):
    mapping = json.loads(RS2_EXAMPLE)
    del mapping[field]
    with pytest.raises(ValueError, match=field):
        MediaChunk.from_dict(mapping)


def test_from_dict_ignores_extra_fields():
    mapping = json.loads(RS2_EXAMPLE)
    mapping["extra"] = {"anything": [1]}
    assert MediaChunk.from_dict(mapping) == MediaChunk.from_json(RS2_EXAMPLE)


@pytest.mark.parametrize("field,value,error,words", [
    ("stream_id", 5, TypeError, "stream_id"),
    ("sequence_number", -1, ValueError, "sequence_number"),
    ("sequence_number", 2**64, ValueError, "sequence_number"),
    ("sequence_number", "3", TypeError, "sequence_number"),
    ("sequence_number", True, TypeError, "sequence_number"),
    ("sequence_number", 3.0, TypeError, "sequence_number"),
    ("data", "AQI=", TypeError, "data"),
    ("data", [1, 256], ValueError, r"data\[1\]"),
    ("data", [-1], ValueError, r"data\[0\]"),
    ("data", [2**70], ValueError, r"data\[0\]"),
    ("data", [True], TypeError, r"data\[0\]"),
    ("data", [1.0], TypeError, r"data\[0\]"),
    ("data", None, TypeError, "data"),
    ("chunk_type", "Video", ValueError, "chunk_type"),
    ("chunk_type", 0, TypeError, "chunk_type"),
    ("priority", "Urgent", ValueError, "priority"),
    ("priority", None, TypeError, "priority"),
    ("timestamp", 1.5, TypeError, "timestamp"),
    ("timestamp", {"secs": 1}, ValueError, "timestamp.nanos"),
    ("timestamp", {"nanos": 1}, ValueError, "timestamp.secs"),
    ("timestamp", {"secs": 1, "nanos": 1_000_000_000}, ValueError, "nanos"),
    ("timestamp", {"secs": 1, "nanos": -1}, ValueError, "nanos"),
    ("timestamp", {"secs": -1, "nanos": 0}, ValueError, "secs"),
    ("timestamp", {"secs": 10**12, "nanos": 0}, ValueError, "timestamp"),
    ("timestamp", {"secs": "1", "nanos": 0}, TypeError, "timestamp.secs"),
    ("is_final", "true", TypeError, "is_final"),
    ("is_final", 1, TypeError, "is_final"),
    ("checksum", 5, TypeError, "checksum"),
])
def test_from_dict_mistyped_fields(field, value, error, words):
    mapping = json.loads(RS2_EXAMPLE)
    mapping[field] = value
    with pytest.raises(error, match=words):
        MediaChunk.from_dict(mapping)


def test_from_dict_and_from_json_need_the_right_container():
    with pytest.raises(TypeError, match="mapping"):
        MediaChunk.from_dict([("stream_id", "s")])
    with pytest.raises(TypeError, match="str or bytes"):
        MediaChunk.from_json(5)
    with pytest.raises(json.JSONDecodeError):
        MediaChunk.from_json("{not json")
    assert MediaChunk.from_dict({**json.loads(RS2_EXAMPLE), "data": (1, 2)}).data == b"\x01\x02"


def test_largest_rs2_timestamp_round_trips():
    mapping = json.loads(RS2_EXAMPLE)
    mapping["timestamp"] = {"secs": (2**63 - 1) // 10**9, "nanos": (2**63 - 1) % 10**9}
    chunk = MediaChunk.from_dict(mapping)
    assert chunk.timestamp_ns == 2**63 - 1
    assert chunk.to_dict()["timestamp"] == mapping["timestamp"]


# --- checksum methods ---------------------------------------------------------------------------------

def test_checksum_methods():
    chunk = make(data=b"payload")
    assert chunk.compute_checksum("sha256") == hashlib.sha256(b"payload").hexdigest()
    assert chunk.compute_checksum() == hashlib.sha256(b"payload").hexdigest()
    assert chunk.compute_checksum("crc32c") == checksum_hex(b"payload", "crc32c")
    for algorithm in ("sha256", "crc32c"):
        signed = chunk.with_checksum(algorithm)
        assert signed.checksum == chunk.compute_checksum(algorithm)
        assert signed.checksum_matches()
        assert signed.replace(checksum=None) == chunk
        assert not signed.replace(data=b"payloaD").checksum_matches()
    assert chunk.checksum is None and chunk.checksum_matches()
    with pytest.raises(ValueError, match="algorithm"):
        chunk.compute_checksum("md5")
    with pytest.raises(TypeError, match="algorithm"):
        chunk.with_checksum(None)


def test_checksum_of_a_large_view_chunk():
    source = np.random.default_rng(9).integers(0, 256, 300_000, dtype=np.uint8)
    first = split_buffer(source, "s", 200_000, checksum="crc32c")[0]
    assert first.checksum == checksum_hex(source[:200_000].tobytes(), "crc32c")
    assert first.checksum_matches()


# --- GOP rule ----------------------------------------------------------------------------------------

def test_gop_rule():
    expected = {0: ChunkType.VIDEO_I_FRAME, 1: ChunkType.VIDEO_P_FRAME, 2: ChunkType.VIDEO_P_FRAME,
                3: ChunkType.VIDEO_B_FRAME, 6: ChunkType.VIDEO_B_FRAME, 29: ChunkType.VIDEO_P_FRAME,
                30: ChunkType.VIDEO_I_FRAME, 33: ChunkType.VIDEO_B_FRAME, 60: ChunkType.VIDEO_I_FRAME,
                2**64 - 1: ChunkType.VIDEO_B_FRAME}        # 2**64-1 is divisible by 3 but not by 30
    for seq, kind in expected.items():
        assert gop_chunk_type(seq) is kind
    with pytest.raises(ValueError, match="sequence_number"):
        gop_chunk_type(-1)
    with pytest.raises(TypeError, match="sequence_number"):
        gop_chunk_type("3")


# --- split_buffer ------------------------------------------------------------------------------------

def test_split_basics():
    chunks = split_buffer(b"abcdefghij", "cam", 4, start_sequence=10, frame_duration_ns=1000,
                          timestamp_offset_ns=-500)
    assert [bytes(c) for c in chunks] == [b"abcd", b"efgh", b"ij"]
    assert [c.sequence_number for c in chunks] == [10, 11, 12]
    assert [c.timestamp_ns for c in chunks] == [9500, 10500, 11500]
    assert [c.is_final for c in chunks] == [False, False, True]
    assert [c.stream_id for c in chunks] == ["cam"] * 3
    assert [c.chunk_type for c in chunks] == [gop_chunk_type(s) for s in (10, 11, 12)]
    assert all(c.priority is c.chunk_type.default_priority for c in chunks)
    assert all(c.checksum is None for c in chunks)
    assert all(type(c.data) is bytes for c in chunks)           # small payloads: copied on access


def test_split_exact_multiple_marks_the_true_last_chunk():
    chunks = split_buffer(bytes(12), "s", 4)
    assert [len(c) for c in chunks] == [4, 4, 4]
    assert [c.is_final for c in chunks] == [False, False, True]
    assert not any(c.is_final for c in split_buffer(bytes(12), "s", 4, mark_final=False))


def test_split_single_and_empty():
    payload = b"abc"
    (only,) = split_buffer(payload, "s", 100)
    assert only.data is payload and only.is_final
    assert split_buffer(b"", "s", 4) == []
    assert split_buffer(bytearray(), "s", 4) == []
    assert split_buffer(np.zeros(0), "s", 4) == []


def test_split_gop_types_and_fixed_type():
    chunks = split_buffer(bytes(91), "s", 1)
    assert [c.chunk_type for c in chunks] == [gop_chunk_type(i) for i in range(91)]
    assert chunks[0].priority is MediaPriority.HIGH and chunks[3].priority is MediaPriority.LOW
    audio = split_buffer(bytes(10), "s", 3, chunk_type=ChunkType.AUDIO)
    assert {c.chunk_type for c in audio} == {ChunkType.AUDIO}
    assert {c.priority for c in audio} == {MediaPriority.HIGH}


@pytest.mark.parametrize("algorithm", ["crc32c", "sha256"])
def test_split_with_checksums(algorithm):
    source = np.random.default_rng(1).integers(0, 256, 70_001, dtype=np.uint8).tobytes()
    chunks = split_buffer(source, "s", 4096, checksum=algorithm)
    assert all(c.checksum == checksum_hex(bytes(c), algorithm) for c in chunks)
    assert all(c.checksum_matches() for c in chunks)
    small = split_buffer(b"abcdefg", "s", 3, checksum=algorithm)        # below the no-GIL threshold
    assert [c.checksum for c in small] == [checksum_hex(p, algorithm) for p in (b"abc", b"def", b"g")]


def test_split_accepts_every_buffer_kind():
    payload = bytes(range(256)) * 3
    sources = [payload, bytearray(payload), memoryview(payload), np.frombuffer(payload, dtype=np.uint16),
               array.array("B", payload), memoryview(bytearray(payload))[:]]
    for source in sources:
        chunks = split_buffer(source, "s", 100)
        assert b"".join(bytes(c) for c in chunks) == payload, type(source)
        assert len(chunks) == 8
    with mmap.mmap(-1, len(payload)) as mm:
        mm.write(payload)
        chunks = split_buffer(mm, "s", 100)
        assert b"".join(bytes(c) for c in chunks) == payload
        del chunks


def test_split_rejects_non_contiguous_and_non_buffers():
    with pytest.raises(ValueError, match="data.*contiguous"):
        split_buffer(np.arange(10, dtype=np.uint8)[::2], "s", 2)
    with pytest.raises(ValueError, match="contiguous"):
        split_buffer(np.zeros((4, 4), dtype=np.uint8).T, "s", 2)
    for bad in ("text", None, 7, [1, 2]):
        with pytest.raises(TypeError, match="data"):
            split_buffer(bad, "s", 2)


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(chunk_size=0), ValueError, "chunk_size"),
    (dict(chunk_size=-3), ValueError, "chunk_size"),
    (dict(chunk_size="4"), TypeError, "chunk_size"),
    (dict(chunk_size=True), TypeError, "chunk_size"),
    (dict(chunk_size=2**70), ValueError, "chunk_size"),
    (dict(start_sequence=-1), ValueError, "start_sequence"),
    (dict(start_sequence=2**64 - 1), ValueError, "2\\*\\*64"),        # 3 chunks would overflow
    (dict(chunk_type=9), ValueError, "chunk_type"),
    (dict(chunk_type="Audio"), TypeError, "chunk_type"),
    (dict(frame_duration_ns=-1), ValueError, "frame_duration_ns"),
    (dict(frame_duration_ns=2.5), TypeError, "frame_duration_ns"),
    (dict(frame_duration_ns=2**62), ValueError, "overflow"),
    (dict(timestamp_offset_ns=2**63), ValueError, "timestamp_offset_ns"),
    (dict(timestamp_offset_ns=2**63 - 1, frame_duration_ns=1), ValueError, "overflow"),
    (dict(checksum="md5"), ValueError, "algorithm"),
    (dict(mark_final="no"), TypeError, "mark_final"),
    (dict(stream_id=5), TypeError, "stream_id"),
])
def test_split_bad_arguments(kwargs, error, words):
    arguments = dict(data=bytes(10), stream_id="s", chunk_size=4)
    arguments.update(kwargs)
    with pytest.raises(error, match=words):
        split_buffer(**arguments)


def test_split_sequence_and_timestamp_edges():
    (last,) = split_buffer(b"x", "s", 4, start_sequence=2**64 - 1, frame_duration_ns=0)
    assert last.sequence_number == 2**64 - 1
    # large sequence numbers times a duration that still lands inside int64 thanks to the offset
    start = 2**62
    chunks = split_buffer(bytes(2), "s", 1, start_sequence=start, frame_duration_ns=2,
                          timestamp_offset_ns=-(2**63))
    assert [c.timestamp_ns for c in chunks] == [-(2**63) + 2 * start, -(2**63) + 2 * (start + 1)]


# --- zero-copy: aliasing and ownership -----------------------------------------------------------------

def test_split_views_alias_a_read_only_source():
    source = np.arange(16, dtype=np.uint8)
    source.flags.writeable = False
    chunks = split_buffer(source, "s", 8)
    assert np.shares_memory(np.frombuffer(chunks[1], dtype=np.uint8), source)
    assert bytes(chunks[1]) == bytes(range(8, 16))


def test_split_copies_a_writable_array_once():
    source = np.arange(16, dtype=np.uint8)
    chunks = split_buffer(source, "s", 8)
    views = [np.frombuffer(c, dtype=np.uint8) for c in chunks]
    assert not np.shares_memory(views[1], source)
    address = [v.__array_interface__["data"][0] for v in views]
    assert address[1] == address[0] + 8                   # one copy of the whole input, then views
    source[8] = 200                                       # the chunks hold their own copy
    assert chunks[1].data[0] == 8


def test_split_refilled_bytearray_keeps_the_old_bytes():
    # A capture loop reusing one buffer: chunks of every frame keep that frame's bytes.
    frame = bytearray(b"A" * 8)
    first = split_buffer(frame, "s", 4)
    frame[:] = b"B" * 8                                    # refill in place (same size)
    second = split_buffer(frame, "s", 4, start_sequence=2)
    frame.extend(b"C")                                     # the source is not pinned either
    assert [bytes(c) for c in first] == [b"AAAA", b"AAAA"]
    assert [bytes(c) for c in second] == [b"BBBB", b"BBBB"]


def test_split_copies_a_writable_memoryview_but_not_a_read_only_one():
    source = bytearray(b"abcdefgh")
    copied = split_buffer(memoryview(source), "s", 4)
    pinned = split_buffer(memoryview(source).toreadonly(), "s", 4)
    with pytest.raises(BufferError):                       # the read-only view is zero-copy
        source.extend(b"more")
    source[0:1] = b"X"
    assert bytes(copied[0]) == b"abcd"
    assert bytes(pinned[0]) == b"Xbcd"
    del pinned
    gc.collect()
    source.extend(b"more")                                 # released with the last view chunk
    assert source == b"Xbcdefghmore"


def test_owner_outlives_the_source_variable():
    def build():
        source = bytearray(b"0123456789" * 1000)
        return split_buffer(source, "s", 3000)

    chunks = build()
    gc.collect()
    assert b"".join(bytes(c) for c in chunks) == b"0123456789" * 1000
    view = chunks[0].data
    del chunks
    gc.collect()
    assert bytes(view[:10]) == b"0123456789"               # a memoryview keeps its chunk alive


def test_bytes_source_is_the_owner_without_copy():
    payload = bytes(100_000)
    before = sys.getrefcount(payload)
    chunks = split_buffer(payload, "s", 10_000)
    assert sys.getrefcount(payload) == before + 10          # each chunk holds the bytes itself
    assert all(type(c.data) is memoryview and c.data.readonly for c in chunks)
    del chunks                                             # cached views form no cycle: no gc needed
    assert sys.getrefcount(payload) == before


def test_read_only_mmap_cannot_close_while_chunks_hold_it(tmp_path):
    path = tmp_path / "media.bin"
    path.write_bytes(b"z" * 32768)
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    chunks = split_buffer(mm, "s", 8192)                    # over 4 KiB: `data` is a view
    with pytest.raises(BufferError):
        mm.close()
    view = chunks[2].data
    del chunks
    gc.collect()
    with pytest.raises(BufferError):                       # the view still holds the mapping
        mm.close()
    assert bytes(view[:3]) == b"zzz"
    del view
    gc.collect()
    mm.close()
    assert mm.closed


def test_writable_mmap_is_copied_and_can_close():
    mm = mmap.mmap(-1, 4096)
    mm.write(b"z" * 4096)
    chunks = split_buffer(mm, "s", 1024)
    mm.close()
    assert bytes(chunks[2]) == b"z" * 1024


def test_debug_counters():
    counters = _chunk.debug_counters()
    assert isinstance(counters, dict) and isinstance(counters["enabled"], bool)
    if counters["enabled"]:
        before = counters["live_buffer_owners"]
        chunks = split_buffer(memoryview(bytearray(10)).toreadonly(), "s", 3)
        assert _chunk.debug_counters()["live_buffer_owners"] == before + 1
        split_buffer(b"bytes need no owner", "s", 3)
        kept = split_buffer(bytearray(10), "s", 3)          # copied: the export ends at once
        assert _chunk.debug_counters()["live_buffer_owners"] == before + 1 and len(kept) == 4
        del chunks
        gc.collect()
        assert _chunk.debug_counters()["live_buffer_owners"] == before
    else:
        assert counters == {"enabled": False}


# --- hypothesis round-trips -----------------------------------------------------------------------------

chunks_strategy = st.builds(
    MediaChunk,
    stream_id=st.text(max_size=12),
    sequence_number=st.integers(0, 2**64 - 1),
    data=st.binary(max_size=300),
    chunk_type=st.sampled_from(list(ChunkType)),
    priority=st.one_of(st.none(), st.sampled_from(list(MediaPriority))),
    timestamp_ns=st.integers(0, 2**63 - 1),
    is_final=st.booleans(),
    checksum=st.one_of(st.none(), st.text(max_size=70)),
)


@given(chunks_strategy)
def test_hypothesis_json_dict_pickle_round_trips(chunk):
    assert MediaChunk.from_json(chunk.to_json()) == chunk
    assert MediaChunk.from_dict(chunk.to_dict()) == chunk
    assert chunk.to_json() == rs2_dumps(chunk.to_dict())
    assert pickle.loads(pickle.dumps(chunk)) == chunk
    assert json.loads(chunk.to_json())["data"] == list(bytes(chunk))


@given(st.binary(max_size=2000), st.integers(1, 300), st.integers(0, 2**60), st.booleans())
def test_hypothesis_split_reassembles(data, size, start, mark_final):
    chunks = split_buffer(bytearray(data), "s", size, start_sequence=start, mark_final=mark_final,
                          frame_duration_ns=7)
    assert b"".join(bytes(c) for c in chunks) == data
    assert len(chunks) == -(-len(data) // size)
    assert all(len(c) == size for c in chunks[:-1])
    assert [c.sequence_number for c in chunks] == list(range(start, start + len(chunks)))
    assert [c.is_final for c in chunks] == [mark_final and i == len(chunks) - 1 for i in range(len(chunks))]
    assert all(c.timestamp_ns == 7 * c.sequence_number for c in chunks)
    assert all(c.chunk_type is gop_chunk_type(c.sequence_number) for c in chunks)
    for c in chunks:
        assert pickle.loads(pickle.dumps(c)) == c


# --- from_json's C fast path must agree with json.loads + from_dict ------------------------------------

def slow_from_json(text):
    return MediaChunk.from_dict(json.loads(text))


def outcome(function, text):
    try:
        return function(text)
    except Exception as error:              # compare the error kind and message
        return (type(error), str(error))


TRICKY = [
    RS2_EXAMPLE,
    ' \n{ "data" : [ 1 , 2 ,3 ] ,"stream_id":"s","sequence_number":3,"chunk_type":"VideoIFrame",'
    '"priority":"High","timestamp":{"secs":1,"nanos":5},"is_final":true,"checksum":null } \t',
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[0,255,10,100]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[01]'),                  # leading zero: invalid
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1.0]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1e2]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[-0]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[256]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1,]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1 2]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[[1]]'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":"AQI="'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1,2],"data":[3]'),      # json keeps the last
    RS2_EXAMPLE.replace('"data":[1,2]', '"d\\u0061ta":[7]'),             # escaped key
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1,2],"x":{"data":[9],"s":"\\"data\\":[8]"}'),
    RS2_EXAMPLE.replace('"data":[1,2]', '"x":"]}\\\\","data":[1,2],"y":[{"a":[1,{}]}]'),
    RS2_EXAMPLE.replace('"stream_id":"s"', '"stream_id":"caf\u00e9"'),   # Latin-1 text
    RS2_EXAMPLE.replace('"stream_id":"s"', '"stream_id":"\u2603"'),      # wider text: slow path
    RS2_EXAMPLE.replace('"stream_id":"s"', '"stream_id":"tab\\t\\u2603"'),
    RS2_EXAMPLE + "x",
    RS2_EXAMPLE[:-1],
    RS2_EXAMPLE.replace('"data":[1,2]', '"data":[1,2'),
    RS2_EXAMPLE.replace('"data":[1,2],', ''),                            # missing field
    "[1,2]",
    "{}",
    "",
]


PADDING = '"padding":"' + "p" * 600 + '",'          # long enough for the C fast path


@pytest.mark.parametrize("text", TRICKY + [t.replace("{", "{" + PADDING, 1) for t in TRICKY])
def test_from_json_fast_path_agrees_with_the_slow_path(text):
    assert outcome(MediaChunk.from_json, text) == outcome(slow_from_json, text)
    raw = text.encode("utf-8")
    assert outcome(MediaChunk.from_json, raw) == outcome(slow_from_json, raw)
    assert outcome(MediaChunk.from_json, bytearray(raw)) == outcome(slow_from_json, raw)


@given(chunks_strategy, st.sampled_from([None, 0, 2]), st.booleans(),
       st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :")]), st.booleans())
def test_hypothesis_from_json_any_layout(chunk, indent, sort_keys, separators, ascii_only):
    mapping = chunk.to_dict()
    mapping["extra"] = {"data": [300, "x"], "note": "\"data\":[1]" + "n" * 500}
    text = json.dumps(mapping, indent=indent, sort_keys=sort_keys, separators=separators,
                      ensure_ascii=ascii_only)
    assert MediaChunk.from_json(text) == chunk
    assert MediaChunk.from_json(text.encode()) == chunk
