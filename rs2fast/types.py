"""Value types of the media module: the enums, MediaChunk, MediaStream, StreamMetrics and RawMediaData.

The enums and `MediaChunk` are re-exported from `rs2fast._enums` and `rs2fast._chunk`. The other types
are slotted dataclasses that check their fields on construction (TypeError/ValueError naming the field)
and convert to and from the JSON shape RS2's serde derives produce: enum values as variant names
("Video", "UltraHigh"), times as RFC 3339 strings in UTC with a `Z` suffix.
"""
from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Callable, ClassVar, Mapping, Optional, Union

from rs2fast._chunk import MediaChunk
from rs2fast._enums import ChunkType, MediaPriority, MediaType, QualityLevel
from rs2fast._fields import (
    JsonRecord,
    U64_MAX,
    check_enum,
    check_float,
    check_map,
    check_str,
    check_str_map,
    check_u64,
    check_utc,
    format_rfc3339,
    now,
    parse_rfc3339,
    rust_f64_display,
)

__all__ = [
    "ChunkType", "MediaPriority", "MediaType", "QualityLevel", "MediaChunk",
    "MediaStream", "StreamMetrics", "RawMediaData",
    "format_rfc3339", "parse_rfc3339", "rust_f64_display",
]

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_ZERO = timedelta(0)


# --- MediaStream ----------------------------------------------------------------------------------

def _check_stream_id(value: Any, name: str) -> str:
    return check_str(value, name, nonempty=True)


_USIZE = re.compile(r"\+?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
FRAME_RATE_RANGE = (0.001, 1_000_000.0)


def _read_max_chunks(value: Union[str, int], name: str) -> int:
    """A chunk count from RS2's text form (Rust's usize syntax: optional '+', ASCII digits) or an int."""
    if isinstance(value, str):
        if _USIZE.fullmatch(value) is None:
            raise ValueError(f"{name} must be a whole number of chunks (e.g. '30'), got {value!r}")
        value = int(value)
    if not 0 <= value <= U64_MAX:
        raise ValueError(f"{name} must be in 0..2**64-1, got {value}")
    return value


def _read_frame_rate(value: Union[str, int], name: str) -> float:
    """Frames per second from RS2's text form (a decimal such as '29.97') or an int, within range."""
    low, high = FRAME_RATE_RANGE
    rate = math.nan
    if not isinstance(value, str):
        rate = float(value) if abs(value) <= high else math.inf
    elif _DECIMAL.fullmatch(value) is not None:
        rate = float(value)
    if not low <= rate <= high:
        raise ValueError(f"{name} must be a number of frames per second in {low:g}..{high:g} "
                         f"(e.g. '30' or '29.97'), got {value!r}")
    return rate


_METADATA_READERS: dict[str, Callable[[Any, str], Any]] = {
    "max_chunks": _read_max_chunks,
    "frame_rate": _read_frame_rate,
}


def _check_metadata(value: Any, name: str) -> dict[str, Union[str, int]]:
    """A fresh dict of str keys to str or int values; the keys rs2fast reads are checked too."""
    result = check_map(value, name, _str_or_int)
    for key, read in _METADATA_READERS.items():
        if key in result:
            read(result[key], f"{name}[{key!r}]")
    return result


def _str_or_int(value: Any, name: str) -> Union[str, int]:
    """A str, or an int from any `__index__` integer except bool."""
    if isinstance(value, str):
        return str(value)
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{name} must be a str or an int, not {type(value).__name__}")


def _rs2_metadata(metadata: Mapping[str, Union[str, int]]) -> dict[str, str]:
    """RS2's metadata shape (a map of str to str): ints as decimal text."""
    checked = _check_metadata(metadata, "metadata")
    return {key: item if type(item) is str else str(item) for key, item in checked.items()}


def _reduce_fields(record: Any) -> tuple[type, tuple[Any, ...]]:
    """Pickle support for every protocol: rebuild a dataclass record from its fields, re-checked."""
    return type(record), tuple(getattr(record, field.name) for field in fields(record))


_STREAM_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "id": _check_stream_id,
    "user_id": check_u64,
    "content_type": lambda value, name: check_enum(MediaType, value, name),
    "quality": lambda value, name: check_enum(QualityLevel, value, name),
    "chunk_size": lambda value, name: check_u64(value, name, minimum=1),
    "created_at": check_utc,
    "metadata": _check_metadata,
}
_STREAM_FIELDS = tuple(_STREAM_CHECKS)


@dataclass(slots=True)
class MediaStream(JsonRecord):
    """A media stream's description (RS2's MediaStream).

    Every field is checked, and normalised, whenever it is set: enums accept members, their int values
    or their names in any case ("video", "Video", "UltraHigh", "ULTRA_HIGH"); `created_at` must be
    timezone-aware (stored in UTC). `metadata` is copied into a fresh dict whose values are str or int;
    JSON writes ints as decimal text, RS2's form. Two keys are read by rs2fast and checked when set,
    ValueError naming the key: "max_chunks" (a whole number, e.g. 30 or "30") and "frame_rate"
    (frames per second, e.g. 25 or "29.97", within `FRAME_RATE_RANGE`).
    """

    _JSON_FIELDS: ClassVar[tuple[str, ...]] = _STREAM_FIELDS

    id: str
    user_id: int
    content_type: MediaType
    quality: QualityLevel
    chunk_size: int
    created_at: datetime = field(default_factory=now)
    metadata: dict[str, Union[str, int]] = field(default_factory=dict)

    def __setattr__(self, name: str, value: Any) -> None:
        check = _STREAM_CHECKS.get(name)
        if check is not None:
            value = check(value, name)
        object.__setattr__(self, name, value)

    __reduce__ = _reduce_fields

    @property
    def max_chunks(self) -> Optional[int]:
        """metadata["max_chunks"] as an int, or None when it is missing."""
        value = self.metadata.get("max_chunks")
        return None if value is None else _read_max_chunks(value, "metadata['max_chunks']")

    @property
    def frame_rate(self) -> Optional[float]:
        """metadata["frame_rate"] in frames per second, or None when it is missing."""
        value = self.metadata.get("frame_rate")
        return None if value is None else _read_frame_rate(value, "metadata['frame_rate']")

    def to_dict(self) -> dict[str, Any]:
        """The serde JSON shape as a dict (variant names for enums, RFC 3339 `created_at`)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "content_type": self.content_type.rs2_name,
            "quality": self.quality.rs2_name,
            "chunk_size": self.chunk_size,
            "created_at": format_rfc3339(self.created_at),
            "metadata": _rs2_metadata(self.metadata),
        }



# --- StreamMetrics --------------------------------------------------------------------------------

_METRIC_FIELDS = ("stream_id", "bytes_processed", "chunks_processed", "dropped_chunks",
                  "average_chunk_size", "buffer_utilization", "last_updated")


@dataclass(slots=True)
class StreamMetrics(JsonRecord):
    """Per-stream counters (RS2's media StreamMetrics); checked on construction and by `to_dict`."""

    _JSON_FIELDS: ClassVar[tuple[str, ...]] = _METRIC_FIELDS

    stream_id: str
    bytes_processed: int = 0
    chunks_processed: int = 0
    dropped_chunks: int = 0
    average_chunk_size: float = 0.0
    buffer_utilization: float = 0.0
    last_updated: datetime = field(default_factory=now)

    __reduce__ = _reduce_fields

    def __post_init__(self) -> None:
        self.stream_id = check_str(self.stream_id, "stream_id")
        self.bytes_processed = check_u64(self.bytes_processed, "bytes_processed")
        self.chunks_processed = check_u64(self.chunks_processed, "chunks_processed")
        self.dropped_chunks = check_u64(self.dropped_chunks, "dropped_chunks")
        self.average_chunk_size = check_float(self.average_chunk_size, "average_chunk_size", nonnegative=True)
        self.buffer_utilization = check_float(self.buffer_utilization, "buffer_utilization", nonnegative=True)
        self.last_updated = check_utc(self.last_updated, "last_updated")

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

    __reduce__ = _reduce_fields

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
            self.media_type = check_enum(MediaType, self.media_type, "media_type")
        timestamp = self.timestamp
        if timestamp is not _ZERO:
            if not isinstance(timestamp, timedelta):
                raise TypeError(f"timestamp must be a datetime.timedelta, not {type(timestamp).__name__}")
            if not _I64_MIN <= _timedelta_ns(timestamp) <= _I64_MAX:
                raise ValueError(f"timestamp {timestamp} is outside the +-292-year nanosecond range")
        metadata = self.metadata
        self.metadata = {} if type(metadata) is dict and not metadata else check_str_map(metadata, "metadata")
        if self.chunk_type is not None and type(self.chunk_type) is not ChunkType:
            self.chunk_type = check_enum(ChunkType, self.chunk_type, "chunk_type")

    @property
    def timestamp_ns(self) -> int:
        """`timestamp` in integer nanoseconds (as MediaChunk stores it)."""
        return _timedelta_ns(self.timestamp)


def _timedelta_ns(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1_000
