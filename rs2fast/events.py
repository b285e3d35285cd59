"""Media stream events (RS2's MediaStreamEvent) and their conversion to UserActivity records.

Each RS2 enum variant is a frozen dataclass subclass of `MediaStreamEvent`; all carry `stream_id`,
`user_id` and `timestamp` (aware UTC datetime, default now). Events are plain values: they compare by
value, hash, pickle, and round-trip through serde's externally tagged JSON, e.g.
`{"BufferUnderrun":{"stream_id":"s","user_id":9,"buffer_level":1.0,"timestamp":"2025-01-02T03:04:05.123Z"}}`.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, ClassVar, Mapping, NamedTuple

from rs2fast._enums import QualityLevel
from rs2fast._fields import (
    JsonRecord,
    check_enum,
    check_float,
    check_str,
    check_str_map,
    check_u64,
    check_utc,
    dumps,
    format_rfc3339,
    json_object,
    loads,
    now,
    require_fields,
    rust_f64_display,
)

__all__ = [
    "MediaStreamEvent", "StreamStarted", "StreamStopped", "QualityChanged", "BufferUnderrun",
    "ChunkDropped", "UserActivity",
]


# --- UserActivity ---------------------------------------------------------------------------------

_ACTIVITY_FIELDS = ("id", "user_id", "activity_type", "timestamp", "metadata")


@dataclass(slots=True)
class UserActivity(JsonRecord):
    """A user-activity record (RS2's UserActivity), what `MediaStreamEvent.to_user_activity()` makes."""

    _JSON_FIELDS: ClassVar[tuple[str, ...]] = _ACTIVITY_FIELDS

    id: str
    user_id: int
    activity_type: str
    timestamp: datetime = field(default_factory=now)
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.id = check_str(self.id, "id")
        self.user_id = check_u64(self.user_id, "user_id")
        self.activity_type = check_str(self.activity_type, "activity_type")
        self.timestamp = check_utc(self.timestamp, "timestamp")
        self.metadata = check_str_map(self.metadata, "metadata")

    @classmethod
    def from_event(cls, event: "MediaStreamEvent") -> "UserActivity":
        """RS2's `From<MediaStreamEvent> for UserActivity`; same as `event.to_user_activity()`."""
        if not isinstance(event, MediaStreamEvent):
            raise TypeError(f"event must be a MediaStreamEvent, not {type(event).__name__}")
        return event.to_user_activity()

    def to_dict(self) -> dict[str, Any]:
        """The serde JSON shape as a dict (RFC 3339 `timestamp`)."""
        self.__post_init__()   # fields may have been reassigned since construction
        return {
            "id": self.id,
            "user_id": self.user_id,
            "activity_type": self.activity_type,
            "timestamp": format_rfc3339(self.timestamp),
            "metadata": dict(self.metadata),
        }



# --- the kinds of variant field -----------------------------------------------------------------

class _Kind(NamedTuple):
    check: Callable[[Any, str], Any]      # validate and normalise a constructor argument
    to_json: Callable[[Any], Any]         # the serde JSON value
    display: Callable[[Any], str]         # the UserActivity metadata text (Rust Debug/Display)


def _identity(value: Any) -> Any:
    return value


_QUALITY = _Kind(lambda value, name: check_enum(QualityLevel, value, name),
                 lambda value: value.rs2_name, lambda value: value.rs2_name)
_U64 = _Kind(check_u64, _identity, str)
_F64 = _Kind(check_float, _identity, rust_f64_display)
_TEXT = _Kind(check_str, _identity, _identity)
_SECONDS = _Kind(lambda value, name: check_float(value, name, nonnegative=True), _identity, rust_f64_display)


def _restore(cls: type, args: tuple, keywords: dict) -> "MediaStreamEvent":
    return cls(*args, **keywords)


# --- MediaStreamEvent -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, repr=False)
class MediaStreamEvent:
    """Base of the five media stream events; construct one of the variants, not this class.

    `stream_id` may be empty (a dropped chunk may have no stream id); `user_id` is a u64;
    `timestamp` (keyword-only) must be timezone-aware and is stored in UTC.
    """

    stream_id: str
    user_id: int
    timestamp: datetime = field(default_factory=now, kw_only=True)

    # Per-variant class attributes (not fields): serde tag, activity type, RS2's variant fields
    # (positional), and rs2fast's additions (keyword-only, optional in JSON, not in UserActivity).
    _TAG = None
    _ACTIVITY = None
    _SPEC = ()
    _EXTRA = ()

    def __post_init__(self) -> None:
        cls = type(self)
        if cls._TAG is None:
            raise TypeError("MediaStreamEvent is the base class; construct one of its variants: "
                            + ", ".join(_VARIANTS))
        prefix = cls.__name__ + "."
        setter = object.__setattr__
        setter(self, "stream_id", check_str(self.stream_id, prefix + "stream_id"))
        setter(self, "user_id", check_u64(self.user_id, prefix + "user_id"))
        setter(self, "timestamp", check_utc(self.timestamp, prefix + "timestamp"))
        for name, kind in cls._SPEC + cls._EXTRA:
            setter(self, name, kind.check(getattr(self, name), prefix + name))

    @property
    def activity_type(self) -> str:
        """The UserActivity type RS2 gives this event, e.g. "media_stream_started"."""
        return type(self)._ACTIVITY

    def to_user_activity(self) -> UserActivity:
        """A UserActivity with a new UUID v4 id, this event's user and timestamp, and RS2's metadata.

        Metadata: "stream_id" plus one key per variant field; qualities as RS2 Debug names ("High"),
        integers in decimal, floats as Rust prints them (1.0 -> "1").
        """
        metadata = {"stream_id": self.stream_id}
        for name, kind in type(self)._SPEC:
            metadata[name] = kind.display(getattr(self, name))
        return UserActivity(str(uuid.uuid4()), self.user_id, self._ACTIVITY, self.timestamp, metadata)

    def to_dict(self) -> dict[str, Any]:
        """serde's externally tagged shape: {tag: {stream_id, user_id, <fields>, timestamp}}.

        Fields rs2fast adds to RS2's (StreamStopped's `duration`) are written too: serde ignores
        unknown fields, so RS2 reads these dicts unchanged.
        """
        body: dict[str, Any] = {"stream_id": self.stream_id, "user_id": self.user_id}
        for name, kind in type(self)._SPEC + type(self)._EXTRA:
            body[name] = kind.to_json(getattr(self, name))
        body["timestamp"] = format_rfc3339(self.timestamp)
        return {self._TAG: body}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MediaStreamEvent":
        """The event a tagged dict describes; on a variant class, the tag must name that variant.

        ValueError for an unknown tag, a missing field or a bad value; TypeError for a mistyped one.
        Unknown keys inside the body are ignored, as serde does; rs2fast's added fields are optional.
        """
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__} JSON must be an object with one variant tag, "
                            f"not {type(data).__name__}")
        if len(data) != 1:
            raise ValueError(f"{cls.__name__} JSON must have exactly one key, the variant tag "
                             f"(one of {', '.join(_VARIANTS)}); got {len(data)} keys")
        [(tag, body)] = data.items()
        variant = _VARIANTS.get(tag)
        if variant is None:
            raise ValueError(f"unknown MediaStreamEvent variant {tag!r}; expected one of "
                             + ", ".join(_VARIANTS))
        if cls is not MediaStreamEvent and variant is not cls:
            raise ValueError(f"expected a {cls.__name__} event, got a {tag} event")
        body = json_object(body, tag)
        names = ("stream_id", "user_id") + tuple(name for name, _ in variant._SPEC)
        require_fields(body, names + ("timestamp",), tag)
        timestamp = body["timestamp"]
        if not isinstance(timestamp, str):
            raise TypeError(f"{tag}.timestamp must be an RFC 3339 string, not {type(timestamp).__name__}")
        extras = {name: body[name] for name, _ in variant._EXTRA if name in body}
        return variant(*(body[name] for name in names), timestamp=timestamp, **extras)

    def to_json(self) -> str:
        """Compact, externally tagged JSON text, as serde_json writes it."""
        return dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> "MediaStreamEvent":
        """The event JSON text describes (see `from_dict`)."""
        return cls.from_dict(loads(text, cls.__name__))

    def __repr__(self) -> str:
        parts = [f"stream_id={self.stream_id!r}", f"user_id={self.user_id!r}"]
        for name, _ in type(self)._SPEC + type(self)._EXTRA:
            value = getattr(self, name)
            parts.append(f"{name}={type(value).__name__}.{value.name}" if isinstance(value, Enum)
                         else f"{name}={value!r}")
        parts.append(f"timestamp={self.timestamp!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self):
        args = (self.stream_id, self.user_id) + tuple(getattr(self, name) for name, _ in self._SPEC)
        keywords = {name: getattr(self, name) for name, _ in self._EXTRA}
        keywords["timestamp"] = self.timestamp
        return (_restore, (type(self), args, keywords))


@dataclass(frozen=True, slots=True, repr=False)
class StreamStarted(MediaStreamEvent):
    """A stream started at the given quality."""

    quality: QualityLevel

    _TAG = "StreamStarted"
    _ACTIVITY = "media_stream_started"
    _SPEC = (("quality", _QUALITY),)


@dataclass(frozen=True, slots=True, repr=False)
class StreamStopped(MediaStreamEvent):
    """A stream stopped after running `duration` seconds, having sent `bytes_transferred` bytes.

    `duration_seconds` is RS2's field, whole seconds; `duration` (keyword-only, a float >= 0) is the
    exact time, and defaults to `duration_seconds` when not given. JSON carries both (RS2 ignores
    `duration`); the UserActivity metadata keeps RS2's keys only.
    """

    duration_seconds: int
    bytes_transferred: int
    duration: float = field(default=None, kw_only=True)  # type: ignore[assignment]

    _TAG = "StreamStopped"
    _ACTIVITY = "media_stream_stopped"
    _SPEC = (("duration_seconds", _U64), ("bytes_transferred", _U64))
    _EXTRA = (("duration", _SECONDS),)

    def __post_init__(self) -> None:
        if self.duration is None:
            seconds = check_u64(self.duration_seconds, "StreamStopped.duration_seconds")
            object.__setattr__(self, "duration", float(seconds))
        MediaStreamEvent.__post_init__(self)


@dataclass(frozen=True, slots=True, repr=False)
class QualityChanged(MediaStreamEvent):
    """A stream's quality changed from `old_quality` to `new_quality`."""

    old_quality: QualityLevel
    new_quality: QualityLevel

    _TAG = "QualityChanged"
    _ACTIVITY = "media_quality_changed"
    _SPEC = (("old_quality", _QUALITY), ("new_quality", _QUALITY))


@dataclass(frozen=True, slots=True, repr=False)
class BufferUnderrun(MediaStreamEvent):
    """A consumer found the buffer starved; `buffer_level` is its fill level (a finite float)."""

    buffer_level: float

    _TAG = "BufferUnderrun"
    _ACTIVITY = "media_buffer_underrun"
    _SPEC = (("buffer_level", _F64),)


@dataclass(frozen=True, slots=True, repr=False)
class ChunkDropped(MediaStreamEvent):
    """The chunk with `sequence_number` was dropped, for `reason`."""

    sequence_number: int
    reason: str

    _TAG = "ChunkDropped"
    _ACTIVITY = "media_chunk_dropped"
    _SPEC = (("sequence_number", _U64), ("reason", _TEXT))


_VARIANTS: dict[str, type] = {
    cls._TAG: cls
    for cls in (StreamStarted, StreamStopped, QualityChanged, BufferUnderrun, ChunkDropped)
}
