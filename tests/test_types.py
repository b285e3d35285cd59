"""Tests for rs2fast.types: re-exported enums, MediaStream, StreamMetrics, RawMediaData, RFC 3339 times."""
from __future__ import annotations

import array
import json
import pickle
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rs2fast import _chunk, _enums
from rs2fast.types import (
    ChunkType,
    MediaChunk,
    MediaPriority,
    MediaStream,
    MediaType,
    QualityLevel,
    RawMediaData,
    StreamMetrics,
    format_rfc3339,
    parse_rfc3339,
)

UTC = timezone.utc
T0 = datetime(2025, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)


def make_stream(**changes):
    fields = dict(id="stream-1", user_id=42, content_type=MediaType.VIDEO, quality=QualityLevel.HIGH,
                  chunk_size=1024, created_at=T0, metadata={"codec": "h264"})
    fields.update(changes)
    return MediaStream(**fields)


# --- re-exports and enums (behaviour doc §8 items 1-3, §10 item 1) ----------------------------------

def test_reexports_are_the_same_objects():
    assert ChunkType is _enums.ChunkType
    assert MediaPriority is _enums.MediaPriority
    assert MediaType is _enums.MediaType
    assert QualityLevel is _enums.QualityLevel
    assert MediaChunk is _chunk.MediaChunk


def test_media_priority_ordering():            # RS2 test_media_priority_ordering
    assert MediaPriority.HIGH > MediaPriority.NORMAL > MediaPriority.LOW
    assert MediaPriority.HIGH == MediaPriority.HIGH
    assert MediaPriority.LOW != MediaPriority.NORMAL
    assert int(MediaPriority.HIGH) == 3 and int(MediaPriority.NORMAL) == 2 and int(MediaPriority.LOW) == 1


def test_media_priority_default():             # RS2 test_media_priority_default
    assert MediaPriority.default() is MediaPriority.NORMAL


@pytest.mark.parametrize("chunk_type, priority", [
    (ChunkType.VIDEO_I_FRAME, MediaPriority.HIGH),
    (ChunkType.VIDEO_P_FRAME, MediaPriority.NORMAL),
    (ChunkType.VIDEO_B_FRAME, MediaPriority.LOW),
    (ChunkType.AUDIO, MediaPriority.HIGH),
    (ChunkType.METADATA, MediaPriority.HIGH),
    (ChunkType.THUMBNAIL, MediaPriority.LOW),
])
def test_chunk_type_priority_mapping(chunk_type, priority):   # RS2 test_chunk_type_priority_mapping
    assert chunk_type.default_priority is priority


@pytest.mark.parametrize("member, name", [
    (ChunkType.VIDEO_I_FRAME, "VideoIFrame"), (ChunkType.VIDEO_P_FRAME, "VideoPFrame"),
    (ChunkType.VIDEO_B_FRAME, "VideoBFrame"), (ChunkType.AUDIO, "Audio"),
    (ChunkType.METADATA, "Metadata"), (ChunkType.THUMBNAIL, "Thumbnail"),
    (MediaPriority.HIGH, "High"), (MediaPriority.NORMAL, "Normal"), (MediaPriority.LOW, "Low"),
    (MediaType.VIDEO, "Video"), (MediaType.AUDIO, "Audio"), (MediaType.MIXED, "Mixed"),
    (QualityLevel.LOW, "Low"), (QualityLevel.MEDIUM, "Medium"), (QualityLevel.HIGH, "High"),
    (QualityLevel.ULTRA_HIGH, "UltraHigh"),
])
def test_rs2_variant_names(member, name):
    assert member.rs2_name == name
    assert type(member).from_rs2_name(name) is member


def test_enum_values_match_the_contract():
    assert [int(c) for c in ChunkType] == [0, 1, 2, 3, 4, 5]
    assert [int(m) for m in MediaType] == [0, 1, 2]
    assert [int(q) for q in QualityLevel] == [0, 1, 2, 3]
    assert QualityLevel.HIGH.resolution == (1280, 720)
    assert QualityLevel.LOW.audio_bitrate == 64_000
    assert QualityLevel.LOW.step_down() is QualityLevel.LOW
    assert QualityLevel.HIGH.step_up() is QualityLevel.ULTRA_HIGH


# --- MediaChunk (behaviour doc §8 item 5) ----------------------------------------------------------

def test_media_chunk_creation():               # RS2 test_media_chunk_creation
    chunk = MediaChunk("s", 3, b"\x01\x02", ChunkType.VIDEO_I_FRAME, MediaPriority.HIGH,
                       timedelta(seconds=1, milliseconds=500), True, None)
    assert chunk.stream_id == "s"
    assert chunk.sequence_number == 3
    assert bytes(chunk.data) == b"\x01\x02"
    assert chunk.chunk_type is ChunkType.VIDEO_I_FRAME
    assert chunk.priority is MediaPriority.HIGH
    assert chunk.timestamp == timedelta(seconds=1, milliseconds=500)
    assert chunk.is_final is True
    assert chunk.checksum is None


# --- MediaStream --------------------------------------------------------------------------------

def test_media_stream_creation():              # RS2 test_media_stream_creation
    stream = make_stream()
    assert stream.id == "stream-1"
    assert stream.user_id == 42
    assert stream.content_type is MediaType.VIDEO
    assert stream.quality is QualityLevel.HIGH
    assert stream.chunk_size == 1024
    assert stream.created_at == T0
    assert stream.metadata == {"codec": "h264"}


def test_media_stream_defaults():
    before = datetime.now(UTC)
    stream = MediaStream("s", 1, MediaType.AUDIO, QualityLevel.LOW, 10)
    after = datetime.now(UTC)
    assert stream.metadata == {}
    assert stream.created_at.tzinfo is UTC
    assert before <= stream.created_at <= after
    assert MediaStream("t", 1, 1, 0, 10).metadata is not stream.metadata


@pytest.mark.parametrize("value, expected", [
    (MediaType.MIXED, MediaType.MIXED), (2, MediaType.MIXED), ("Mixed", MediaType.MIXED),
    ("MIXED", MediaType.MIXED), ("Audio", MediaType.AUDIO),
])
def test_media_stream_content_type_accepts_members_ints_and_names(value, expected):
    assert make_stream(content_type=value).content_type is expected


@pytest.mark.parametrize("value, expected", [
    (3, QualityLevel.ULTRA_HIGH), ("UltraHigh", QualityLevel.ULTRA_HIGH), ("ULTRA_HIGH", QualityLevel.ULTRA_HIGH),
    (QualityLevel.LOW, QualityLevel.LOW),
])
def test_media_stream_quality_accepts_members_ints_and_names(value, expected):
    assert make_stream(quality=value).quality is expected


@pytest.mark.parametrize("changes, error, words", [
    ({"id": ""}, ValueError, "id must not be empty"),
    ({"id": 5}, TypeError, "id must be a str"),
    ({"id": None}, TypeError, "id must be a str"),
    ({"user_id": -1}, ValueError, "user_id"),
    ({"user_id": 2**64}, ValueError, "user_id"),
    ({"user_id": "1"}, TypeError, "user_id"),
    ({"user_id": 1.0}, TypeError, "user_id"),
    ({"user_id": True}, TypeError, "user_id"),
    ({"chunk_size": 0}, ValueError, "chunk_size"),
    ({"chunk_size": -5}, ValueError, "chunk_size"),
    ({"chunk_size": 2**64}, ValueError, "chunk_size"),
    ({"chunk_size": 10.0}, TypeError, "chunk_size"),
    ({"content_type": 3}, ValueError, "content_type"),
    ({"content_type": "Vid"}, ValueError, "content_type"),
    ({"content_type": 1.0}, TypeError, "content_type"),
    ({"content_type": None}, TypeError, "content_type"),
    ({"content_type": ChunkType.AUDIO}, TypeError, "content_type"),
    ({"content_type": True}, TypeError, "content_type"),
    ({"quality": 4}, ValueError, "quality"),
    ({"quality": "Ultra"}, ValueError, "quality"),
    ({"created_at": datetime(2025, 1, 1)}, ValueError, "created_at must be a timezone-aware"),
    ({"created_at": "yesterday"}, ValueError, "created_at"),
    ({"created_at": 1735689600}, TypeError, "created_at"),
    ({"metadata": [("a", "b")]}, TypeError, "metadata"),
    ({"metadata": {"a": 1.5}}, TypeError, r"metadata\['a'\] must be a str or an int"),
    ({"metadata": {"a": True}}, TypeError, r"metadata\['a'\]"),
    ({"metadata": {"a": b"1"}}, TypeError, r"metadata\['a'\]"),
    ({"metadata": {1: "a"}}, TypeError, "metadata"),
])
def test_media_stream_rejects_bad_fields(changes, error, words):
    with pytest.raises(error, match=words):
        make_stream(**changes)


def test_media_stream_checks_assignments_too():
    stream = make_stream()
    stream.quality = "Low"
    assert stream.quality is QualityLevel.LOW
    stream.chunk_size = 7
    assert stream.chunk_size == 7
    with pytest.raises(ValueError, match="chunk_size"):
        stream.chunk_size = 0
    with pytest.raises(ValueError, match="quality"):
        stream.quality = 9
    assert stream.chunk_size == 7 and stream.quality is QualityLevel.LOW
    with pytest.raises(AttributeError):
        stream.not_a_field = 1   # slots: no stray attributes


def test_media_stream_copies_metadata_and_normalises_time():
    source = {"max_chunks": "5"}
    plus_two = timezone(timedelta(hours=2))
    stream = make_stream(metadata=source, created_at=datetime(2025, 1, 2, 5, 4, 5, 123000, tzinfo=plus_two))
    source["max_chunks"] = "6"
    assert stream.metadata == {"max_chunks": "5"}
    assert stream.created_at == T0
    assert stream.created_at.tzinfo is UTC
    assert make_stream(created_at="2025-01-02T03:04:05.123Z").created_at == T0


@pytest.mark.parametrize("text, expected", [
    (None, None), ("5", 5), ("0", 0), ("+7", 7), ("0010", 10), ("18446744073709551615", 2**64 - 1),
    (30, 30), (0, 0), (np.int64(12), 12),
])
def test_max_chunks_reads_rust_usize_text_and_ints(text, expected):
    metadata = {} if text is None else {"max_chunks": text}
    assert make_stream(metadata=metadata).max_chunks == expected


@pytest.mark.parametrize("value", ["18446744073709551616", "-1", " 5", "5 ", "1_0", "abc", "", "5.0",
                                   "\u0663", -1, 2**64])
def test_bad_max_chunks_is_refused_at_construction_naming_the_key(value):
    with pytest.raises(ValueError, match=r"metadata\['max_chunks'\]"):
        make_stream(metadata={"max_chunks": value})
    stream = make_stream()
    with pytest.raises(ValueError, match=r"metadata\['max_chunks'\]"):
        stream.metadata = {"max_chunks": value}


@pytest.mark.parametrize("value, expected", [
    (None, None), ("30", 30.0), ("29.97", 29.97), ("+25", 25.0), ("1e2", 100.0), (".5", 0.5),
    (24, 24.0), (np.int32(50), 50.0), ("1000000", 1e6),
])
def test_frame_rate_reads_text_and_ints(value, expected):
    metadata = {} if value is None else {"frame_rate": value}
    rate = make_stream(metadata=metadata).frame_rate
    assert rate == expected
    assert rate is None or type(rate) is float


@pytest.mark.parametrize("value", ["0", "nan", "NaN", "inf", "fast", "-30", "", " 30", "1_0", "0.0001",
                                   "2e6", 0, -5, 10**400])
def test_bad_frame_rate_is_refused_at_construction_naming_the_key(value):
    with pytest.raises(ValueError, match=r"metadata\['frame_rate'\]"):
        make_stream(metadata={"frame_rate": value})


def test_frame_rate_changed_after_construction_is_checked_when_read():
    stream = make_stream(metadata={"frame_rate": "30"})
    stream.metadata["frame_rate"] = "0"
    with pytest.raises(ValueError, match="frame_rate"):
        stream.frame_rate


def test_int_metadata_values_are_kept_and_written_as_rs2_text():
    stream = make_stream(metadata={"max_chunks": 30, "frame_rate": 25, "codec": "h264", "n": np.int8(3)})
    assert stream.metadata == {"max_chunks": 30, "frame_rate": 25, "codec": "h264", "n": 3}
    assert type(stream.metadata["n"]) is int
    assert stream.max_chunks == 30 and stream.frame_rate == 25.0
    assert stream.to_dict()["metadata"] == {"max_chunks": "30", "frame_rate": "25", "codec": "h264", "n": "3"}
    again = MediaStream.from_json(stream.to_json())
    assert again.max_chunks == 30 and again.metadata["max_chunks"] == "30"


def test_media_stream_json_shape():
    stream = make_stream(quality=QualityLevel.ULTRA_HIGH, metadata={"max_chunks": "5"})
    assert stream.to_dict() == {
        "id": "stream-1", "user_id": 42, "content_type": "Video", "quality": "UltraHigh",
        "chunk_size": 1024, "created_at": "2025-01-02T03:04:05.123Z", "metadata": {"max_chunks": "5"},
    }
    assert stream.to_json() == (
        '{"id":"stream-1","user_id":42,"content_type":"Video","quality":"UltraHigh","chunk_size":1024,'
        '"created_at":"2025-01-02T03:04:05.123Z","metadata":{"max_chunks":"5"}}')
    assert MediaStream.from_json(stream.to_json()) == stream


def test_media_stream_from_rs2_json_with_offset_and_extra_keys():
    text = ('{"id":"s","user_id":18446744073709551615,"content_type":"Mixed","quality":"Low",'
            '"chunk_size":1,"created_at":"2025-01-02T05:04:05.123456789+02:00","metadata":{},"extra":1}')
    stream = MediaStream.from_json(text)
    assert stream.user_id == 2**64 - 1
    assert stream.content_type is MediaType.MIXED
    assert stream.created_at == datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


@pytest.mark.parametrize("field", ["id", "user_id", "content_type", "quality", "chunk_size",
                                   "created_at", "metadata"])
def test_media_stream_from_dict_requires_every_field(field):
    data = make_stream().to_dict()
    del data[field]
    with pytest.raises(ValueError, match=f"missing field '{field}'"):
        MediaStream.from_dict(data)


def test_media_stream_from_json_rejects_bad_input():
    with pytest.raises(TypeError, match="object"):
        MediaStream.from_dict([1, 2])
    with pytest.raises(ValueError, match="malformed"):
        MediaStream.from_json("{not json")
    with pytest.raises(TypeError, match="str or bytes"):
        MediaStream.from_json(5)
    data = make_stream().to_dict()
    data["quality"] = "Best"
    with pytest.raises(ValueError, match="quality"):
        MediaStream.from_dict(data)
    data = make_stream().to_dict()
    data["created_at"] = "2025-13-01T00:00:00Z"
    with pytest.raises(ValueError, match="created_at"):
        MediaStream.from_dict(data)


def test_media_stream_to_dict_metadata_is_a_copy_and_equality_is_by_value():
    stream = make_stream()
    stream.to_dict()["metadata"]["x"] = "y"
    assert "x" not in stream.metadata
    assert make_stream() == make_stream()
    assert make_stream() != make_stream(user_id=43)
    assert pickle.loads(pickle.dumps(stream)) == stream


# --- RFC 3339 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("moment, text", [
    (datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), "2025-01-02T03:04:05Z"),
    (datetime(2025, 1, 2, 3, 4, 5, 123000, tzinfo=UTC), "2025-01-02T03:04:05.123Z"),
    (datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC), "2025-01-02T03:04:05.120Z"),
    (datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2025-01-02T03:04:05.123456Z"),
    (datetime(2025, 1, 2, 3, 4, 5, 1, tzinfo=UTC), "2025-01-02T03:04:05.000001Z"),
    (datetime(5, 6, 7, 8, 9, 10, tzinfo=UTC), "0005-06-07T08:09:10Z"),
    (datetime(2025, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1))), "2025-01-02T03:04:05Z"),
])
def test_format_rfc3339(moment, text):
    assert format_rfc3339(moment) == text
    assert parse_rfc3339(text) == moment


@pytest.mark.parametrize("text, expected", [
    ("2025-01-02T03:04:05Z", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2025-01-02t03:04:05z", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2025-01-02 03:04:05+00:00", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2025-01-02T03:04:05-00:00", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2025-01-02T05:34:05.5+02:30", datetime(2025, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
    ("2025-01-01T23:04:05.999999999-04:00", datetime(2025, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)),
])
def test_parse_rfc3339(text, expected):
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", [
    "2025-01-02", "2025-01-02T03:04:05", "2025-01-02T03:04Z", "2025-02-30T00:00:00Z",
    "2025-01-02T24:00:00Z", "2025-01-02T03:04:05+24:00", "2025-01-02T03:04:05+01:60",
    "2025-01-02T03:04:05.Z", "2025-01-02T03:04:60Z", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:00:00-01:00", " 2025-01-02T03:04:05Z", "2025-01-02T03:04:05Z ", "\u0662025-01-02T03:04:05Z",
])
def test_parse_rfc3339_rejects(text):
    with pytest.raises(ValueError, match="when"):
        parse_rfc3339(text, "when")


def test_parse_rfc3339_rejects_non_strings():
    with pytest.raises(TypeError, match="when"):
        parse_rfc3339(b"2025-01-02T03:04:05Z", "when")


aware_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31),
    timezones=st.builds(lambda minutes: timezone(timedelta(minutes=minutes)),
                        st.integers(-(24 * 60 - 1), 24 * 60 - 1)),
)


@given(aware_datetimes)
def test_rfc3339_round_trips(moment):
    text = format_rfc3339(moment)
    assert text.endswith("Z")
    assert parse_rfc3339(text) == moment
    assert parse_rfc3339(moment.isoformat()) == moment   # any offset parses to the same instant


# --- StreamMetrics (behaviour doc §8 item 6) --------------------------------------------------------

def test_stream_metrics_creation():            # RS2 test_stream_metrics_creation
    metrics = StreamMetrics("s", bytes_processed=1024, chunks_processed=10, dropped_chunks=1,
                            average_chunk_size=102.4, buffer_utilization=0.5, last_updated=T0)
    assert metrics.stream_id == "s"
    assert metrics.bytes_processed == 1024
    assert metrics.chunks_processed == 10
    assert metrics.dropped_chunks == 1
    assert metrics.average_chunk_size == 102.4
    assert metrics.buffer_utilization == 0.5
    assert metrics.last_updated == T0


def test_stream_metrics_defaults_and_coercion():
    metrics = StreamMetrics("s", average_chunk_size=3, buffer_utilization=1)
    assert (metrics.bytes_processed, metrics.chunks_processed, metrics.dropped_chunks) == (0, 0, 0)
    assert type(metrics.average_chunk_size) is float and metrics.average_chunk_size == 3.0
    assert type(metrics.buffer_utilization) is float
    assert metrics.last_updated.tzinfo is UTC


@pytest.mark.parametrize("changes, error, words", [
    ({"stream_id": None}, TypeError, "stream_id"),
    ({"bytes_processed": -1}, ValueError, "bytes_processed"),
    ({"chunks_processed": 2**64}, ValueError, "chunks_processed"),
    ({"dropped_chunks": 1.5}, TypeError, "dropped_chunks"),
    ({"average_chunk_size": float("nan")}, ValueError, "average_chunk_size"),
    ({"average_chunk_size": -1.0}, ValueError, "average_chunk_size"),
    ({"average_chunk_size": "1"}, TypeError, "average_chunk_size"),
    ({"buffer_utilization": float("inf")}, ValueError, "buffer_utilization"),
    ({"buffer_utilization": True}, TypeError, "buffer_utilization"),
    ({"last_updated": datetime(2025, 1, 1)}, ValueError, "last_updated"),
])
def test_stream_metrics_rejects_bad_fields(changes, error, words):
    with pytest.raises(error, match=words):
        StreamMetrics(**{"stream_id": "s", **changes})


def test_stream_metrics_json_shape():
    metrics = StreamMetrics("s", 2048, 2, 0, 1024.0, 0.25, T0)
    assert metrics.to_json() == (
        '{"stream_id":"s","bytes_processed":2048,"chunks_processed":2,"dropped_chunks":0,'
        '"average_chunk_size":1024.0,"buffer_utilization":0.25,"last_updated":"2025-01-02T03:04:05.123Z"}')
    assert StreamMetrics.from_json(metrics.to_json()) == metrics
    data = metrics.to_dict()
    del data["buffer_utilization"]
    with pytest.raises(ValueError, match="buffer_utilization"):
        StreamMetrics.from_dict(data)


def test_stream_metrics_to_dict_rechecks_reassigned_fields():
    metrics = StreamMetrics("s")
    metrics.bytes_processed = -3
    with pytest.raises(ValueError, match="bytes_processed"):
        metrics.to_dict()


# --- RawMediaData ---------------------------------------------------------------------------------

def test_raw_media_data_keeps_bytes_and_defaults():
    payload = b"\x00\x01\x02"
    raw = RawMediaData(payload, MediaType.VIDEO)
    assert raw.data is payload
    assert raw.timestamp == timedelta(0)
    assert raw.timestamp_ns == 0
    assert raw.metadata == {}
    assert raw.chunk_type is None
    assert RawMediaData(b"", MediaType.VIDEO).data == b""   # empty frames are the codec's call


@pytest.mark.parametrize("make", [bytearray, memoryview, lambda b: array.array("B", b),
                                  lambda b: memoryview(bytearray(b))])
def test_raw_media_data_copies_other_buffers(make):
    source = bytearray(b"abcdef")
    buffer = make(source) if make is not bytearray else source
    raw = RawMediaData(buffer, "Audio")
    source[0] = ord("z")
    assert type(raw.data) is bytes
    assert raw.data == b"abcdef"


def test_raw_media_data_multibyte_and_strided_buffers():
    words = array.array("H", [1, 2])
    assert RawMediaData(words, MediaType.AUDIO).data == words.tobytes()
    strided = memoryview(b"abcdef")[::2]
    assert RawMediaData(strided, MediaType.AUDIO).data == b"ace"


def test_raw_media_data_fields():
    raw = RawMediaData(b"x", 2, timedelta(milliseconds=33), {"k": "v"}, "VideoBFrame")
    assert raw.media_type is MediaType.MIXED
    assert raw.timestamp_ns == 33_000_000
    assert raw.metadata == {"k": "v"}
    assert raw.chunk_type is ChunkType.VIDEO_B_FRAME
    assert RawMediaData(b"x", "Video", chunk_type=0).chunk_type is ChunkType.VIDEO_I_FRAME


def test_raw_media_data_metadata_is_copied():
    source: dict = {}
    raw = RawMediaData(b"x", MediaType.VIDEO, metadata=source)
    source["late"] = "entry"
    assert raw.metadata == {}


@pytest.mark.parametrize("args, kwargs, error, words", [
    (("text", MediaType.VIDEO), {}, TypeError, "data"),
    ((5, MediaType.VIDEO), {}, TypeError, "data"),
    ((None, MediaType.VIDEO), {}, TypeError, "data"),
    (([1, 2], MediaType.VIDEO), {}, TypeError, "data"),
    ((b"x", 5), {}, ValueError, "media_type"),
    ((b"x", 1.5), {}, TypeError, "media_type"),
    ((b"x", MediaType.VIDEO), {"timestamp": 5}, TypeError, "timestamp"),
    ((b"x", MediaType.VIDEO), {"timestamp": timedelta(days=300 * 366)}, ValueError, "timestamp"),
    ((b"x", MediaType.VIDEO), {"metadata": {"a": b"b"}}, TypeError, "metadata"),
    ((b"x", MediaType.VIDEO), {"chunk_type": 6}, ValueError, "chunk_type"),
    ((b"x", MediaType.VIDEO), {"chunk_type": "IFrame"}, ValueError, "chunk_type"),
    ((b"x", MediaType.VIDEO), {"chunk_type": MediaPriority.HIGH}, TypeError, "chunk_type"),
])
def test_raw_media_data_rejects_bad_fields(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        RawMediaData(*args, **kwargs)


def test_raw_media_data_timestamp_range_matches_media_chunk():
    limit = timedelta(microseconds=(2**63 - 1) // 1000)
    raw = RawMediaData(b"x", MediaType.VIDEO, timestamp=limit)
    assert raw.timestamp_ns == ((2**63 - 1) // 1000) * 1000
    chunk = MediaChunk("s", 0, raw.data, ChunkType.AUDIO, timestamp=raw.timestamp)
    assert chunk.timestamp_ns == raw.timestamp_ns


# --- hypothesis round trips -----------------------------------------------------------------------

text = st.text(max_size=20)
metadata = st.dictionaries(text, text, max_size=5)

streams = st.builds(
    MediaStream,
    id=st.text(min_size=1, max_size=20),
    user_id=st.integers(0, 2**64 - 1),
    content_type=st.sampled_from(MediaType),
    quality=st.sampled_from(QualityLevel),
    chunk_size=st.integers(1, 2**64 - 1),
    created_at=aware_datetimes,
    metadata=metadata,
)

finite = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)
metrics = st.builds(
    StreamMetrics,
    stream_id=text,
    bytes_processed=st.integers(0, 2**64 - 1),
    chunks_processed=st.integers(0, 2**64 - 1),
    dropped_chunks=st.integers(0, 2**64 - 1),
    average_chunk_size=finite,
    buffer_utilization=finite,
    last_updated=aware_datetimes,
)


@given(streams)
def test_media_stream_json_round_trip(stream):
    text = stream.to_json()
    assert MediaStream.from_json(text) == stream
    assert MediaStream.from_dict(json.loads(text)) == stream
    assert MediaStream.from_json(text.encode()) == stream


@given(metrics)
def test_stream_metrics_json_round_trip(value):
    text = value.to_json()
    assert StreamMetrics.from_json(text) == value
    assert json.loads(text)["last_updated"].endswith("Z")


# --- enums read as names ----------------------------------------------------------------------------

ENUMS = [ChunkType, MediaPriority, MediaType, QualityLevel]


@pytest.mark.parametrize("member", [m for cls in ENUMS for m in cls], ids=str)
def test_enum_members_print_as_class_dot_name(member):
    expected = f"{type(member).__name__}.{member.name}"
    assert str(member) == expected
    assert f"{member}" == expected == format(member) == "{}".format(member)
    assert f"{member:>40}" == expected.rjust(40)
    assert f"{member:d}" == str(int(member)) and "%d" % member == str(int(member))
    assert member == int(member)


@pytest.mark.parametrize("cls", ENUMS)
def test_enums_accept_their_names_in_any_case(cls):
    for member in cls:
        for spelling in (member.rs2_name, member.rs2_name.lower(), member.rs2_name.upper(),
                         member.name, member.name.lower()):
            assert cls(spelling) is member
            assert cls.from_name(spelling) is member
    with pytest.raises(ValueError) as caught:
        cls("no such member")
    assert all(repr(member.rs2_name) in str(caught.value) for member in cls)


def test_media_stream_content_type_is_case_insensitive():
    assert make_stream(content_type="video").content_type is MediaType.VIDEO
    assert make_stream(content_type="AUDIO").content_type is MediaType.AUDIO
    assert make_stream(quality="ultra_high").quality is QualityLevel.ULTRA_HIGH
    with pytest.raises(ValueError, match=r"content_type.*'Video', 'Audio', 'Mixed'"):
        make_stream(content_type="film")


# --- pickling with every protocol -------------------------------------------------------------------

RECORDS = [
    lambda: make_stream(metadata={"max_chunks": 30, "frame_rate": "29.97"}),
    lambda: StreamMetrics("s", 2048, 2, 1, 1024.0, 0.25, T0),
    lambda: RawMediaData(b"frame", MediaType.AUDIO, timedelta(milliseconds=40), {"k": "v"},
                         ChunkType.AUDIO),
]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("make", RECORDS, ids=["MediaStream", "StreamMetrics", "RawMediaData"])
def test_records_pickle_with_every_protocol(make, protocol):
    record = make()
    copy = pickle.loads(pickle.dumps(record, protocol))
    assert copy == record and type(copy) is type(record)
    assert copy is not record
