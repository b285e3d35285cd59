"""Tests for rs2fast.events: the five MediaStreamEvent variants, their JSON and UserActivity conversion."""
from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rs2fast.events import (
    BufferUnderrun,
    ChunkDropped,
    MediaStreamEvent,
    QualityChanged,
    StreamStarted,
    StreamStopped,
    UserActivity,
)
from rs2fast.types import QualityLevel, rust_f64_display

UTC = timezone.utc
T0 = datetime(2025, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)


def all_variants(stream_id="test_stream", user_id=123, timestamp=T0):
    return [
        StreamStarted(stream_id, user_id, QualityLevel.HIGH, timestamp=timestamp),
        StreamStopped(stream_id, user_id, 300, 1_048_576, timestamp=timestamp),
        QualityChanged(stream_id, user_id, QualityLevel.HIGH, QualityLevel.MEDIUM, timestamp=timestamp),
        BufferUnderrun(stream_id, user_id, 0.1, timestamp=timestamp),
        ChunkDropped(stream_id, user_id, 42, "Buffer overflow", timestamp=timestamp),
    ]


# --- RS2's own cases (behaviour doc §8 items 7-8, §10 event conversion) -----------------------------

def test_media_stream_events_stream_id_and_user_id():     # RS2 test_media_stream_events
    for event in all_variants():
        assert event.stream_id == "test_stream"
        assert event.user_id == 123
        assert isinstance(event, MediaStreamEvent)


def test_event_to_user_activity_conversion():             # RS2 test_event_to_user_activity_conversion
    event = StreamStarted("test_stream", 123, QualityLevel.HIGH)
    activity = event.to_user_activity()
    assert isinstance(activity, UserActivity)
    assert activity.user_id == 123
    assert activity.activity_type == "media_stream_started"
    assert activity.metadata == {"stream_id": "test_stream", "quality": "High"}


@pytest.mark.parametrize("event, activity_type, metadata", [
    (StreamStarted("s", 1, QualityLevel.ULTRA_HIGH), "media_stream_started",
     {"stream_id": "s", "quality": "UltraHigh"}),
    (StreamStopped("s", 1, 300, 2**64 - 1), "media_stream_stopped",
     {"stream_id": "s", "duration_seconds": "300", "bytes_transferred": "18446744073709551615"}),
    (QualityChanged("s", 1, QualityLevel.LOW, QualityLevel.MEDIUM), "media_quality_changed",
     {"stream_id": "s", "old_quality": "Low", "new_quality": "Medium"}),
    (BufferUnderrun("s", 1, 1.0), "media_buffer_underrun", {"stream_id": "s", "buffer_level": "1"}),
    (BufferUnderrun("s", 1, 0.1), "media_buffer_underrun", {"stream_id": "s", "buffer_level": "0.1"}),
    (BufferUnderrun("s", 1, 1.5), "media_buffer_underrun", {"stream_id": "s", "buffer_level": "1.5"}),
    (ChunkDropped("s", 1, 0, "late"), "media_chunk_dropped",
     {"stream_id": "s", "sequence_number": "0", "reason": "late"}),
])
def test_every_variant_converts_like_rs2(event, activity_type, metadata):
    assert event.activity_type == activity_type
    activity = event.to_user_activity()
    assert activity.activity_type == activity_type
    assert activity.metadata == metadata
    assert activity.user_id == 1


def test_user_activity_ids_are_fresh_uuid4_and_timestamp_is_the_events():
    event = BufferUnderrun("s", 9, 0.0, timestamp=T0)
    first, second = event.to_user_activity(), event.to_user_activity()
    assert uuid.UUID(first.id).version == 4
    assert first.id != second.id
    assert first.timestamp == T0 == second.timestamp     # RS2 used now(); we keep the event's time
    assert UserActivity.from_event(event).timestamp == T0


@pytest.mark.parametrize("value, text", [
    (1.0, "1"), (0.1, "0.1"), (1.5, "1.5"), (0.0, "0"), (-0.0, "-0"), (-2.5, "-2.5"),
    (100.0, "100"), (1e20, "100000000000000000000"), (1e-7, "0.0000001"), (123456.789, "123456.789"),
    (0.30000000000000004, "0.30000000000000004"), (2.0**53, "9007199254740992"),
    (5e-324, "0." + "0" * 323 + "5"), (float("nan"), "NaN"), (float("inf"), "inf"), (float("-inf"), "-inf"),
])
def test_rust_f64_display(value, text):
    assert rust_f64_display(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_rust_f64_display_round_trips_and_has_no_exponent(value):
    text = rust_f64_display(value)
    assert "e" not in text and "E" not in text
    assert float(text) == value
    assert not text.endswith(".") and not (("." in text) and text.endswith("0"))


# --- JSON -----------------------------------------------------------------------------------------

def test_buffer_underrun_json_matches_rs2():
    text = '{"BufferUnderrun":{"stream_id":"s","user_id":9,"buffer_level":1.0,"timestamp":"2025-01-02T03:04:05.123Z"}}'
    event = BufferUnderrun("s", 9, 1.0, timestamp=T0)
    assert event.to_json() == text
    assert MediaStreamEvent.from_json(text) == event
    assert BufferUnderrun.from_json(text) == event


@pytest.mark.parametrize("event, body", [
    (StreamStarted("s", 1, QualityLevel.ULTRA_HIGH, timestamp=T0),
     {"StreamStarted": {"stream_id": "s", "user_id": 1, "quality": "UltraHigh",
                        "timestamp": "2025-01-02T03:04:05.123Z"}}),
    (StreamStopped("s", 1, 5, 6, timestamp=T0),
     {"StreamStopped": {"stream_id": "s", "user_id": 1, "duration_seconds": 5, "bytes_transferred": 6,
                        "duration": 5.0, "timestamp": "2025-01-02T03:04:05.123Z"}}),
    (QualityChanged("s", 1, QualityLevel.HIGH, QualityLevel.LOW, timestamp=T0),
     {"QualityChanged": {"stream_id": "s", "user_id": 1, "old_quality": "High", "new_quality": "Low",
                         "timestamp": "2025-01-02T03:04:05.123Z"}}),
    (ChunkDropped("s", 1, 7, "why", timestamp=T0),
     {"ChunkDropped": {"stream_id": "s", "user_id": 1, "sequence_number": 7, "reason": "why",
                       "timestamp": "2025-01-02T03:04:05.123Z"}}),
])
def test_variant_json_shapes(event, body):
    assert event.to_dict() == body
    assert list(event.to_dict()[type(event).__name__]) == list(
        next(iter(body.values())))      # field order as serde writes it
    assert MediaStreamEvent.from_dict(body) == event
    assert json.loads(event.to_json()) == body


def test_from_json_accepts_offsets_ints_for_floats_and_ignores_unknown_keys():
    event = MediaStreamEvent.from_json(
        '{"BufferUnderrun":{"stream_id":"s","user_id":9,"buffer_level":2,"extra":[1],'
        '"timestamp":"2025-01-02T05:04:05.123+02:00"}}')
    assert event == BufferUnderrun("s", 9, 2.0, timestamp=T0)
    assert type(event.buffer_level) is float


def good_body():
    return {"stream_id": "s", "user_id": 9, "buffer_level": 1.0, "timestamp": "2025-01-02T03:04:05.123Z"}


@pytest.mark.parametrize("data, error, words", [
    ({"BufferOverrun": good_body()}, ValueError, "unknown MediaStreamEvent variant 'BufferOverrun'"),
    ({}, ValueError, "exactly one key"),
    ({"BufferUnderrun": good_body(), "StreamStarted": {}}, ValueError, "exactly one key"),
    ("BufferUnderrun", TypeError, "object"),
    ([good_body()], TypeError, "object"),
    ({"BufferUnderrun": [1, 2]}, TypeError, "BufferUnderrun JSON must be an object"),
    ({"BufferUnderrun": {k: v for k, v in good_body().items() if k != "buffer_level"}},
     ValueError, "missing field 'buffer_level'"),
    ({"BufferUnderrun": {k: v for k, v in good_body().items() if k != "timestamp"}},
     ValueError, "missing field 'timestamp'"),
    ({"BufferUnderrun": {k: v for k, v in good_body().items() if k != "stream_id"}},
     ValueError, "missing field 'stream_id'"),
    ({"BufferUnderrun": {**good_body(), "user_id": "9"}}, TypeError, "BufferUnderrun.user_id"),
    ({"BufferUnderrun": {**good_body(), "user_id": 9.0}}, TypeError, "BufferUnderrun.user_id"),
    ({"BufferUnderrun": {**good_body(), "user_id": -9}}, ValueError, "BufferUnderrun.user_id"),
    ({"BufferUnderrun": {**good_body(), "stream_id": 5}}, TypeError, "BufferUnderrun.stream_id"),
    ({"BufferUnderrun": {**good_body(), "buffer_level": "1"}}, TypeError, "BufferUnderrun.buffer_level"),
    ({"BufferUnderrun": {**good_body(), "buffer_level": None}}, TypeError, "BufferUnderrun.buffer_level"),
    ({"BufferUnderrun": {**good_body(), "timestamp": 1735787045}}, TypeError, "BufferUnderrun.timestamp"),
    ({"BufferUnderrun": {**good_body(), "timestamp": "2025-01-02"}}, ValueError, "BufferUnderrun.timestamp"),
    ({"StreamStarted": {"stream_id": "s", "user_id": 1, "quality": "Best", "timestamp": "2025-01-02T03:04:05Z"}},
     ValueError, "StreamStarted.quality"),
    ({"ChunkDropped": {"stream_id": "s", "user_id": 1, "sequence_number": 1, "reason": 3,
                       "timestamp": "2025-01-02T03:04:05Z"}}, TypeError, "ChunkDropped.reason"),
])
def test_bad_event_json_is_rejected_with_a_clear_error(data, error, words):
    with pytest.raises(error, match=words):
        MediaStreamEvent.from_dict(data)


def test_bad_event_json_text():
    with pytest.raises(ValueError, match="malformed"):
        MediaStreamEvent.from_json('{"BufferUnderrun":')
    with pytest.raises(ValueError, match="BufferUnderrun.buffer_level must be finite"):
        MediaStreamEvent.from_json('{"BufferUnderrun":{"stream_id":"s","user_id":9,"buffer_level":NaN,'
                                   '"timestamp":"2025-01-02T03:04:05Z"}}')


def test_variant_from_dict_requires_its_own_tag():
    data = BufferUnderrun("s", 1, 0.5, timestamp=T0).to_dict()
    assert BufferUnderrun.from_dict(data).buffer_level == 0.5
    with pytest.raises(ValueError, match="expected a StreamStarted event, got a BufferUnderrun event"):
        StreamStarted.from_dict(data)


# --- events as values -----------------------------------------------------------------------------

def test_events_are_plain_values():
    a, b = all_variants(), all_variants()
    assert a == b
    assert [hash(x) for x in a] == [hash(y) for y in b]
    assert len(set(a + b)) == 5
    assert BufferUnderrun("s", 1, 0.5, timestamp=T0) != BufferUnderrun("s", 1, 0.25, timestamp=T0)
    assert BufferUnderrun("s", 1, 0.5, timestamp=T0) != BufferUnderrun("s", 2, 0.5, timestamp=T0)
    assert BufferUnderrun("s", 1, 0.5, timestamp=T0) != BufferUnderrun(
        "s", 1, 0.5, timestamp=T0 + timedelta(microseconds=1))


def test_event_repr_names_variant_and_fields():
    text = repr(QualityChanged("s", 7, QualityLevel.HIGH, QualityLevel.LOW, timestamp=T0))
    assert text.startswith("QualityChanged(stream_id='s', user_id=7, old_quality=QualityLevel.HIGH, "
                           "new_quality=QualityLevel.LOW, timestamp=")
    assert "2025" in text
    assert "reason='late'" in repr(ChunkDropped("s", 1, 3, "late"))


def test_events_are_frozen():
    event = StreamStarted("s", 1, QualityLevel.LOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.quality = QualityLevel.HIGH
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.stream_id = "t"
    assert event.quality is QualityLevel.LOW


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_events_pickle_and_copy(protocol):
    for event in all_variants():
        clone = pickle.loads(pickle.dumps(event, protocol))
        assert clone == event and type(clone) is type(event)
        assert copy.copy(event) == event
        assert copy.deepcopy(event) == event


def test_replace_revalidates():
    event = BufferUnderrun("s", 1, 0.5, timestamp=T0)
    assert dataclasses.replace(event, buffer_level=2).buffer_level == 2.0
    assert dataclasses.replace(event, buffer_level=2).timestamp == T0
    with pytest.raises(ValueError, match="buffer_level"):
        dataclasses.replace(event, buffer_level=float("inf"))


def test_base_class_cannot_be_instantiated():
    with pytest.raises(TypeError, match="construct one of its variants"):
        MediaStreamEvent("s", 1)


def test_constructor_coercion_and_defaults():
    before = datetime.now(UTC)
    event = StreamStarted("", 2**64 - 1, "UltraHigh")
    after = datetime.now(UTC)
    assert event.stream_id == ""                       # a chunk with no stream id can still be reported
    assert event.quality is QualityLevel.ULTRA_HIGH
    assert event.timestamp.tzinfo is UTC and before <= event.timestamp <= after
    east = datetime(2025, 1, 2, 8, 4, 5, 123000, tzinfo=timezone(timedelta(hours=5)))
    assert QualityChanged("s", 1, 0, 3, timestamp=east).timestamp == T0
    assert QualityChanged("s", 1, 0, 3, timestamp=east).timestamp.tzinfo is UTC
    assert BufferUnderrun("s", 1, 3).buffer_level == 3.0


@pytest.mark.parametrize("make, error, words", [
    (lambda: StreamStarted(None, 1, QualityLevel.LOW), TypeError, "StreamStarted.stream_id"),
    (lambda: StreamStarted("s", -1, QualityLevel.LOW), ValueError, "StreamStarted.user_id"),
    (lambda: StreamStarted("s", 2**64, QualityLevel.LOW), ValueError, "StreamStarted.user_id"),
    (lambda: StreamStarted("s", True, QualityLevel.LOW), TypeError, "StreamStarted.user_id"),
    (lambda: StreamStarted("s", 1, 4), ValueError, "StreamStarted.quality"),
    (lambda: StreamStarted("s", 1, None), TypeError, "StreamStarted.quality"),
    (lambda: StreamStarted("s", 1, QualityLevel.LOW, timestamp=datetime(2025, 1, 1)),
     ValueError, "StreamStarted.timestamp"),
    (lambda: StreamStopped("s", 1, -1, 0), ValueError, "StreamStopped.duration_seconds"),
    (lambda: StreamStopped("s", 1, 1.5, 0), TypeError, "StreamStopped.duration_seconds"),
    (lambda: StreamStopped("s", 1, 0, 2**64), ValueError, "StreamStopped.bytes_transferred"),
    (lambda: StreamStopped("s", 1, 0, 0, duration=-0.5), ValueError, "StreamStopped.duration"),
    (lambda: StreamStopped("s", 1, 0, 0, duration=float("inf")), ValueError, "StreamStopped.duration"),
    (lambda: StreamStopped("s", 1, 0, 0, duration="0.5"), TypeError, "StreamStopped.duration"),
    (lambda: StreamStopped("s", 1, None, 0), TypeError, "StreamStopped.duration_seconds"),
    (lambda: QualityChanged("s", 1, "High", "Ultra"), ValueError, "QualityChanged.new_quality"),
    (lambda: BufferUnderrun("s", 1, float("nan")), ValueError, "BufferUnderrun.buffer_level"),
    (lambda: BufferUnderrun("s", 1, "0.5"), TypeError, "BufferUnderrun.buffer_level"),
    (lambda: ChunkDropped("s", 1, -3, "x"), ValueError, "ChunkDropped.sequence_number"),
    (lambda: ChunkDropped("s", 1, 3, None), TypeError, "ChunkDropped.reason"),
])
def test_constructor_rejects_bad_fields(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_timestamp_is_keyword_only():
    with pytest.raises(TypeError):
        StreamStarted("s", 1, QualityLevel.LOW, T0)


# --- UserActivity ---------------------------------------------------------------------------------

def test_user_activity_json_round_trip_and_validation():
    activity = ChunkDropped("s", 5, 9, "late", timestamp=T0).to_user_activity()
    data = activity.to_dict()
    assert data["timestamp"] == "2025-01-02T03:04:05.123Z"
    assert data["metadata"] == {"stream_id": "s", "sequence_number": "9", "reason": "late"}
    assert UserActivity.from_json(activity.to_json()) == activity
    with pytest.raises(ValueError, match="missing field 'activity_type'"):
        UserActivity.from_dict({k: v for k, v in data.items() if k != "activity_type"})
    with pytest.raises(TypeError, match="metadata"):
        UserActivity("id", 1, "x", T0, {"a": 1})
    with pytest.raises(ValueError, match="user_id"):
        UserActivity("id", -1, "x", T0)
    with pytest.raises(TypeError, match="MediaStreamEvent"):
        UserActivity.from_event("not an event")


# --- hypothesis round trips -----------------------------------------------------------------------

aware_datetimes = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31),
    timezones=st.builds(lambda minutes: timezone(timedelta(minutes=minutes)),
                        st.integers(-(24 * 60 - 1), 24 * 60 - 1)),
)
u64 = st.integers(0, 2**64 - 1)
qualities = st.sampled_from(QualityLevel)
common = dict(stream_id=st.text(max_size=20), user_id=u64, timestamp=aware_datetimes)

events = st.one_of(
    st.builds(StreamStarted, quality=qualities, **common),
    st.builds(StreamStopped, duration_seconds=u64, bytes_transferred=u64, **common),
    st.builds(QualityChanged, old_quality=qualities, new_quality=qualities, **common),
    st.builds(BufferUnderrun, buffer_level=st.floats(allow_nan=False, allow_infinity=False), **common),
    st.builds(ChunkDropped, sequence_number=u64, reason=st.text(max_size=40), **common),
)


@given(events)
def test_event_json_round_trip(event):
    text = event.to_json()
    back = MediaStreamEvent.from_json(text)
    assert back == event and type(back) is type(event)
    assert type(event).from_json(text) == event
    assert MediaStreamEvent.from_dict(json.loads(text)) == event
    assert list(json.loads(text)) == [type(event).__name__]


@given(events)
def test_event_conversion_keeps_identity_fields(event):
    activity = event.to_user_activity()
    assert activity.user_id == event.user_id
    assert activity.timestamp == event.timestamp
    assert activity.metadata["stream_id"] == event.stream_id
    assert activity.activity_type == event.activity_type
    assert set(activity.metadata) == {"stream_id"} | {
        f.name for f in dataclasses.fields(event) if not f.kw_only} - {"stream_id", "user_id"}
    assert UserActivity.from_json(activity.to_json()) == activity


# --- StreamStopped's exact duration ----------------------------------------------------------------

def test_stream_stopped_keeps_whole_seconds_and_the_exact_duration():
    event = StreamStopped("s", 1, 0, 10, duration=0.17, timestamp=T0)
    assert event.duration_seconds == 0 and event.duration == 0.17
    assert StreamStopped("s", 1, 300, 10).duration == 300.0
    assert type(StreamStopped("s", 1, 3, 10, duration=2).duration) is float
    text = event.to_json()
    assert '"duration_seconds":0,"bytes_transferred":10,"duration":0.17,' in text
    assert MediaStreamEvent.from_json(text) == event
    assert pickle.loads(pickle.dumps(event, 0)) == event


def test_stream_stopped_from_rs2_json_without_duration():
    text = ('{"StreamStopped":{"stream_id":"s","user_id":1,"duration_seconds":7,"bytes_transferred":9,'
            '"timestamp":"2025-01-02T03:04:05.123Z"}}')
    event = MediaStreamEvent.from_json(text)
    assert event == StreamStopped("s", 1, 7, 9, timestamp=T0)
    assert event.duration == 7.0


def test_stream_stopped_user_activity_keeps_rs2_keys():
    metadata = StreamStopped("s", 1, 0, 10, duration=0.17).to_user_activity().metadata
    assert metadata == {"stream_id": "s", "duration_seconds": "0", "bytes_transferred": "10"}
