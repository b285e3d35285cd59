"""Field checks and JSON helpers shared by rs2fast.types and rs2fast.events.

Each check takes a value and the field's name, returns the normalised value, and raises TypeError or
ValueError naming the field. Times are aware UTC datetimes, written as RFC 3339 text the way chrono
writes them.
"""
from __future__ import annotations

import json
import math
import numbers
import operator
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, ClassVar, Mapping, Type, TypeVar

UTC = timezone.utc
U64_MAX = 2**64 - 1


def now() -> datetime:
    """The current time as an aware UTC datetime."""
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


def check_utc(value: Any, name: str) -> datetime:
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


# --- scalar fields --------------------------------------------------------------------------------

def check_str(value: Any, name: str, *, nonempty: bool = False) -> str:
    """A str (a str subclass is converted to a plain str)."""
    if type(value) is not str:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        value = str(value)
    if nonempty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


def check_u64(value: Any, name: str, *, minimum: int = 0) -> int:
    """An unsigned 64-bit int from any `__index__` integer except bool and enum members."""
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


def check_float(value: Any, name: str, *, nonnegative: bool = False) -> float:
    """A finite float from any real number except bool."""
    if type(value) is not float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a float, not {type(value).__name__}")
        value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if nonnegative and value < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_enum(cls: Any, value: Any, name: str) -> Any:
    """A member of `cls` from a member, its int value, or its name (RS2's or Python's, any case)."""
    if type(value) is cls:
        return value
    if isinstance(value, str):
        try:
            return cls.from_name(value)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    if isinstance(value, (bool, Enum)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {cls.__name__}, an int or a variant name, "
                        f"not {type(value).__name__}")
    try:
        return cls(int(value))
    except ValueError:
        values = ", ".join(str(int(m)) for m in cls)
        raise ValueError(f"{name} {value!r} is not a {cls.__name__} value (expected one of {values})") from None


def check_map(value: Any, name: str, check_value: Callable[[Any, str], Any]) -> dict[str, Any]:
    """A fresh dict with str keys copied from a mapping, each value checked by `check_value`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict with str keys, not {type(value).__name__}")
    result = dict(value)
    for key, item in result.items():
        if type(key) is not str:
            raise TypeError(f"{name} keys must be str, got {type(key).__name__} {key!r}")
        if type(item) is not str:
            result[key] = check_value(item, f"{name}[{key!r}]")
    return result


def check_str_map(value: Any, name: str) -> dict[str, str]:
    """A fresh dict[str, str] copied from a mapping; TypeError naming the first bad key or value."""
    return check_map(value, name, check_str)


# --- JSON -----------------------------------------------------------------------------------------

def json_object(data: Any, what: str) -> dict[str, Any]:
    """`data` itself when it is a dict (a JSON object); TypeError otherwise."""
    if not isinstance(data, dict):
        raise TypeError(f"{what} JSON must be an object (dict), not {type(data).__name__}")
    return data


def require_fields(data: dict[str, Any], keys: tuple[str, ...], what: str) -> None:
    """ValueError naming the first of `keys` missing from `data`."""
    for key in keys:
        if key not in data:
            raise ValueError(f"{what} JSON is missing field {key!r}")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    """Compact JSON text, as serde_json writes it."""
    return _ENCODER.encode(value)


def loads(text: Any, what: str) -> Any:
    """The value JSON text holds; ValueError naming `what` for malformed text."""
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


_Record = TypeVar("_Record", bound="JsonRecord")


class JsonRecord:
    """The JSON round trip of a record in RS2's serde shape: a subclass gives `to_dict()` and
    `_JSON_FIELDS`, its field names in constructor order (all required; unknown keys ignored)."""

    __slots__ = ()
    _JSON_FIELDS: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls: Type[_Record], data: Mapping[str, Any]) -> _Record:
        """The record from its serde JSON shape; every field is required, unknown keys are ignored."""
        what = cls.__name__
        fields = json_object(data, what)
        require_fields(fields, cls._JSON_FIELDS, what)
        return cls(*(fields[key] for key in cls._JSON_FIELDS))

    def to_json(self) -> str:
        """Compact JSON text, as serde_json writes it."""
        return dumps(self.to_dict())

    @classmethod
    def from_json(cls: Type[_Record], text: str | bytes) -> _Record:
        """The record from JSON text (see `from_dict`)."""
        return cls.from_dict(loads(text, cls.__name__))
