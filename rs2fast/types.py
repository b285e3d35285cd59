"""Value types of the media module: the enums, MediaChunk, MediaStream, StreamMetrics and RawMediaData.

The enums and `MediaChunk` are re-exported from `rs2fast._enums` and `rs2fast._chunk`. The other types
are slotted dataclasses that check their fields on construction (TypeError/ValueError naming the field)
and convert to and from the JSON shape RS2's serde derives produce: enum values as variant names
("Video", "UltraHigh"), times as RFC 3339 strings in UTC with a `Z` suffix.
"""
from __future__ import annotations

import json
import math
import numbers
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Mapping, Optional

from rs2fast._chunk import MediaChunk
from rs2fast._enums import ChunkType, MediaPriority, MediaType, QualityLevel

__all__ = [
    "ChunkType", "MediaPriority", "MediaType", "QualityLevel", "MediaChunk",
    "MediaStream", "StreamMetrics", "RawMediaData",
    "format_rfc3339", "parse_rfc3339", "rust_f64_display",
]

UTC = timezone.utc
U64_MAX = 2**64 - 1
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_ZERO = timedelta(0)


def _now() -> datetime:
    return datetime.now(UTC)


# --- time ---------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def format_rfc3339(moment: datetime) -> str:
    """RFC 3339 text of an aware datetime in UTC, as chrono writes it: "2025-01-02T03:04:05.123Z".

    The fraction has 0, 3 or 6 digits, the fewest that keep every microsecond.
    """
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    micro = moment.microsecond
    spec = "seconds" if micro == 0 else "milliseconds" if micro % 1000 == 0 else "microseconds"
    return moment.isoformat(timespec=spec)[:-6] + "Z"   # drop "+00:00"


def parse_rfc3339(text: str, name: str = "timestamp") -> datetime:
    """The aware UTC datetime an RFC 3339 string names (any offset; digits past microseconds dropped).

    ValueError naming `name` for text that is not RFC 3339, names no real date, or is out of range.
    """
    if not isinstance(text, str):
        raise TypeError(f"{name} must be an RFC 3339 string, not {type(text).__name__}")
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"{name} {text!r} is not an RFC 3339 date-time "
                         f"(expected e.g. '2025-01-02T03:04:05.123Z')")
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    micro = int((frac or "")[:6].ljust(6, "0"))
    if second == "60":
        raise ValueError(f"{name} {text!r} is a leap second, which Python datetimes cannot hold")
    try:
        if zulu:
            zone = UTC
        else:
            hours, minutes = int(off_h), int(off_m)
            if hours > 23 or minutes > 59:
                raise ValueError("bad offset")
            offset = timedelta(hours=hours, minutes=minutes)
            zone = UTC if not offset else timezone(offset if sign == "+" else -offset)
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          micro, tzinfo=zone)
        return moment if zone is UTC else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} {text!r} is not a valid date-time in UTC's supported range "
                         f"(years 1..9999)") from None


def _utc(value: Any, name: str) -> datetime:
    """An aware datetime (or RFC 3339 string) as an aware UTC datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{name} {value!r} is outside the range of UTC datetimes") from None
    if isinstance(value, str):
        return parse_rfc3339(value, name)
    raise TypeError(f"{name} must be an aware datetime or an RFC 3339 string, not {type(value).__name__}")


# --- field checks (shared with rs2fast.events) ---------------------------------------------------

def _str(value: Any, name: str, *, nonempty: bool = False) -> str:
    if type(value) is not str:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        value = str(value)
    if nonempty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


def _u64(value: Any, name: str, *, minimum: int = 0) -> int:
    if type(value) is not int:
        if isinstance(value, (bool, Enum)):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        try:
            value = operator.index(value)
        except TypeError:
            raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None
    if not minimum <= value <= U64_MAX:
        raise ValueError(f"{name} must be in {minimum}..2**64-1, got {value}")
    return value


def _float(value: Any, name: str, *, nonnegative: bool = False) -> float:
    if type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a float, not {type(value).__name__}")
        value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if nonnegative and value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _enum(cls: type, value: Any, name: str) -> Any:
    """A member of `cls` from a member, its int value, its RS2 variant name or its Python name."""
    if type(value) is cls:
        return value
    if isinstance(value, str):
        names_to_members = _ENUM_NAMES.get(cls)
        if names_to_members is None:
            names_to_members = {m.rs2_name: m for m in cls}
            names_to_members.update((m.name, m) for m in cls)
            _ENUM_NAMES[cls] = names_to_members
        member = names_to_members.get(value)
        if member is not None:
            return member
        names = ", ".join(repr(m.rs2_name) for m in cls)
        raise ValueError(f"{name} {value!r} is not a {cls.__name__} variant name (expected one of {names})")
    if isinstance(value, (bool, Enum)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {cls.__name__}, an int or a variant name, "
                        f"not {type(value).__name__}")
    try:
        return cls(int(value))
    except ValueError:
        values = ", ".join(str(int(m)) for m in cls)
        raise ValueError(f"{name} {value!r} is not a {cls.__name__} value (expected one of {values})") from None


_ENUM_NAMES: dict = {}   # enum class -> {RS2 variant name or Python name: member}


def _str_map(value: Any, name: str) -> dict:
    """A fresh dict[str, str] copied from a mapping; TypeError naming the first bad key or value."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict of str to str, not {type(value).__name__}")
    result = dict(value)
    for key, item in result.items():
        if type(key) is not str:
            raise TypeError(f"{name} keys must be str, got {type(key).__name__} {key!r}")
        if type(item) is not str:
            raise TypeError(f"{name}[{key!r}] must be a str, not {type(item).__name__}")
    return result


def _json_object(data: Any, what: str) -> dict:
    if not isinstance(data, dict):
        raise TypeError(f"{what} JSON must be an object (dict), not {type(data).__name__}")
    return data


def _require(data: dict, keys: tuple, what: str) -> None:
    for key in keys:
        if key not in data:
            raise ValueError(f"{what} JSON is missing field {key!r}")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _loads(text: Any, what: str) -> Any:
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"{what} JSON text must be str or bytes, not {type(text).__name__}")
    try:
        return json.loads(text)
    except ValueError as error:   # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{what} JSON is malformed: {error}") from None


def rust_f64_display(value: float) -> str:
    """`value` as Rust's `Display for f64` prints it: shortest round-trip digits, never an exponent.

    1.0 -> "1", 0.1 -> "0.1", 1e20 -> "100000000000000000000", -0.0 -> "-0", nan -> "NaN".
    """
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# --- MediaStream ----------------------------------------------------------------------------------

def _check_stream_id(value: Any, name: str) -> str:
    return _str(value, name, nonempty=True)


_STREAM_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "id": _check_stream_id,
    "user_id": _u64,
    "content_type": lambda value, name: _enum(MediaType, value, name),
    "quality": lambda value, name: _enum(QualityLevel, value, name),
    "chunk_size": lambda value, name: _u64(value, name, minimum=1),
    "created_at": _utc,
    "metadata": _str_map,
}
_STREAM_FIELDS = tuple(_STREAM_CHECKS)


@dataclass(slots=True)
class MediaStream:
    """A media stream's description (RS2's MediaStream).

    Every field is checked, and normalised, whenever it is set: enums accept members, their int values
    or RS2 variant names ("UltraHigh"); `created_at` must be timezone-aware (stored in UTC);
    `metadata` is copied into a fresh dict of str to str.
    """

    id: str
    user_id: int
    content_type: MediaType
    quality: QualityLevel
    chunk_size: int
    created_at: datetime = field(default_factory=_now)
    metadata: dict[str, str] = field(default_factory=dict)

    def __setattr__(self, name: str, value: Any) -> None:
        check = _STREAM_CHECKS.get(name)
        if check is not None:
            value = check(value, name)
        object.__setattr__(self, name, value)

    @property
    def max_chunks(self) -> Optional[int]:
        """metadata["max_chunks"] as a usize, or None when it is missing or not a plain number."""
        return _parse_usize(self.metadata.get("max_chunks"))

    def to_dict(self) -> dict[str, Any]:
        """The serde JSON shape as a dict (variant names for enums, RFC 3339 `created_at`)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "content_type": self.content_type.rs2_name,
            "quality": self.quality.rs2_name,
            "chunk_size": self.chunk_size,
            "created_at": format_rfc3339(self.created_at),
            "metadata": _str_map(self.metadata, "metadata"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MediaStream":
        """A MediaStream from its serde JSON shape; every field is required, unknown keys are ignored."""
        data = _json_object(data, "MediaStream")
        _require(data, _STREAM_FIELDS, "MediaStream")
        return cls(*(data[key] for key in _STREAM_FIELDS))

    def to_json(self) -> str:
        """Compact JSON text, as serde_json writes it."""
        return _dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> "MediaStream":
        """A MediaStream from JSON text (see `from_dict`)."""
        return cls.from_dict(_loads(text, "MediaStream"))


_USIZE = re.compile(r"\+?[0-9]+", re.ASCII)


def _parse_usize(text: Any) -> Optional[int]:
    """Rust's `str::parse::<usize>().ok()`: optional '+', ASCII digits, no spaces, within 64 bits."""
    if type(text) is not str or _USIZE.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= U64_MAX else None


# --- StreamMetrics --------------------------------------------------------------------------------

_METRIC_FIELDS = ("stream_id", "bytes_processed", "chunks_processed", "dropped_chunks",
                  "average_chunk_size", "buffer_utilization", "last_updated")


@dataclass(slots=True)
class StreamMetrics:
    """Per-stream counters (RS2's media StreamMetrics); checked on construction and by `to_dict`."""

    stream_id: str
    bytes_processed: int = 0
    chunks_processed: int = 0
    dropped_chunks: int = 0
    average_chunk_size: float = 0.0
    buffer_utilization: float = 0.0
    last_updated: datetime = field(default_factory=_now)

    def __post_init__(self) -> None:
        self.stream_id = _str(self.stream_id, "stream_id")
        self.bytes_processed = _u64(self.bytes_processed, "bytes_processed")
        self.chunks_processed = _u64(self.chunks_processed, "chunks_processed")
        self.dropped_chunks = _u64(self.dropped_chunks, "dropped_chunks")
        self.average_chunk_size = _float(self.average_chunk_size, "average_chunk_size", nonnegative=True)
        self.buffer_utilization = _float(self.buffer_utilization, "buffer_utilization", nonnegative=True)
        self.last_updated = _utc(self.last_updated, "last_updated")

    def to_dict(self) -> dict[str, Any]:
        """The serde JSON shape as a dict (RFC 3339 `last_updated`)."""
        self.__post_init__()   # fields may have been reassigned since construction
        return {
            "stream_id": self.stream_id,
            "bytes_processed": self.bytes_processed,
            "chunks_processed": self.chunks_processed,
            "dropped_chunks": self.dropped_chunks,
            "average_chunk_size": self.average_chunk_size,
            "buffer_utilization": self.buffer_utilization,
            "last_updated": format_rfc3339(self.last_updated),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StreamMetrics":
        """StreamMetrics from its serde JSON shape; every field is required, unknown keys are ignored."""
        data = _json_object(data, "StreamMetrics")
        _require(data, _METRIC_FIELDS, "StreamMetrics")
        return cls(*(data[key] for key in _METRIC_FIELDS))

    def to_json(self) -> str:
        """Compact JSON text, as serde_json writes it."""
        return _dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> "StreamMetrics":
        """StreamMetrics from JSON text (see `from_dict`)."""
        return cls.from_dict(_loads(text, "StreamMetrics"))


# --- RawMediaData ---------------------------------------------------------------------------------

@dataclass(slots=True)
class RawMediaData:
    """One captured frame or block of media, the codec's input (RS2's RawMediaData).

    `data` is stored as `bytes` (other bytes-like objects are copied, so later changes to a mutable
    buffer do not reach it). `timestamp` is a timedelta within the +-292-year range of MediaChunk's
    int64 nanoseconds. `chunk_type`, when given, is the caller's frame type and wins over the codec's
    GOP rule.
    """

    data: bytes
    media_type: MediaType
    timestamp: timedelta = _ZERO
    metadata: dict[str, str] = field(default_factory=dict)
    chunk_type: Optional[ChunkType] = None

    def __post_init__(self) -> None:
        data = self.data
        if type(data) is not bytes:
            if isinstance(data, (str, int)) or data is None:
                raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}")
            try:
                self.data = memoryview(data).tobytes()
            except TypeError:
                raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None
        if type(self.media_type) is not MediaType:
            self.media_type = _enum(MediaType, self.media_type, "media_type")
        timestamp = self.timestamp
        if timestamp is not _ZERO:
            if not isinstance(timestamp, timedelta):
                raise TypeError(f"timestamp must be a datetime.timedelta, not {type(timestamp).__name__}")
            if not _I64_MIN <= _timedelta_ns(timestamp) <= _I64_MAX:
                raise ValueError(f"timestamp {timestamp} is outside the +-292-year nanosecond range")
        metadata = self.metadata
        self.metadata = {} if type(metadata) is dict and not metadata else _str_map(metadata, "metadata")
        if self.chunk_type is not None and type(self.chunk_type) is not ChunkType:
            self.chunk_type = _enum(ChunkType, self.chunk_type, "chunk_type")

    @property
    def timestamp_ns(self) -> int:
        """`timestamp` in integer nanoseconds (as MediaChunk stores it)."""
        return _timedelta_ns(self.timestamp)


def _timedelta_ns(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1_000
