"""The public enumerations (kept apart from types.py so the C extensions can import them first)."""
from __future__ import annotations

from enum import IntEnum


class Rs2Enum(IntEnum):
    """IntEnum whose members also carry RS2's JSON variant name (VIDEO_I_FRAME <-> "VideoIFrame").

    Members print as `ChunkType.VIDEO_I_FRAME` (str, f-strings, format) while comparing and computing
    as ints; numeric format specs (`f"{member:d}"`) format the int value. Calling the class with a
    name (`MediaType("video")`) looks it up like `from_name`.
    """

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"

    def __format__(self, spec: str) -> str:
        if spec and spec[-1] in _NUMERIC_FORMATS:
            return int.__format__(self, spec)
        return format(str(self), spec)

    @property
    def rs2_name(self) -> str:
        """The variant name RS2 uses in JSON."""
        return self.name.title().replace("_", "")

    @classmethod
    def from_rs2_name(cls, name: str):
        """The member whose RS2 variant name is exactly `name`; ValueError for anything else."""
        for member in cls:
            if member.rs2_name == name:
                return member
        raise ValueError(f"{name!r} is not a {cls.__name__} variant name")

    @classmethod
    def from_name(cls, name: str):
        """The member named `name` in any case, RS2's spelling ("UltraHigh") or Python's ("ULTRA_HIGH").

        ValueError listing the accepted spellings for anything else.
        """
        names = _NAMES.get(cls)
        if names is None:
            names = {spelling.casefold(): member
                     for member in cls for spelling in (member.rs2_name, member.name)}
            _NAMES[cls] = names
        member = names.get(name.casefold()) if isinstance(name, str) else None
        if member is None:
            spellings = ", ".join(repr(member.rs2_name) for member in cls)
            raise ValueError(f"{name!r} is not a {cls.__name__} name (expected one of {spellings}, "
                             f"in any case, or the Python member names)")
        return member

    @classmethod
    def _missing_(cls, value: object):
        if isinstance(value, str):
            return cls.from_name(value)
        return None


_NUMERIC_FORMATS = frozenset("bcdoxXneEfFgG%")
_NAMES: dict = {}   # enum class -> {casefolded RS2 or Python name: member}


class MediaPriority(Rs2Enum):
    """Delivery priority of a chunk; higher values are delivered first. Default is NORMAL."""

    LOW = 1
    NORMAL = 2
    HIGH = 3

    @classmethod
    def default(cls) -> "MediaPriority":
        """RS2's `Default`: NORMAL."""
        return cls.NORMAL


class ChunkType(Rs2Enum):
    """What a chunk carries."""

    VIDEO_I_FRAME = 0
    VIDEO_P_FRAME = 1
    VIDEO_B_FRAME = 2
    AUDIO = 3
    METADATA = 4
    THUMBNAIL = 5

    @property
    def default_priority(self) -> MediaPriority:
        """RS2's mapping: I-frame, audio, metadata HIGH; P-frame NORMAL; B-frame, thumbnail LOW."""
        return _DEFAULT_PRIORITY[self]

    @property
    def is_video(self) -> bool:
        """True for the three video frame types."""
        return self <= ChunkType.VIDEO_B_FRAME


class MediaType(Rs2Enum):
    """The kind of media a stream or a raw frame holds."""

    VIDEO = 0
    AUDIO = 1
    MIXED = 2


class QualityLevel(Rs2Enum):
    """Stream quality, with the resolution and bitrates RS2 documents for each level."""

    LOW = 0
    MEDIUM = 1
    HIGH = 2
    ULTRA_HIGH = 3

    @property
    def resolution(self) -> tuple[int, int]:
        """(width, height) in pixels: 240p, 480p, 720p, 1080p."""
        return _QUALITY[self][0]

    @property
    def video_bitrate(self) -> int:
        """Target video bitrate in bits per second (RS2's h264 factory presets)."""
        return _QUALITY[self][1]

    @property
    def audio_bitrate(self) -> int:
        """Target audio bitrate in bits per second (RS2's documented 64/128/192/320 kbps)."""
        return _QUALITY[self][2]

    def step_down(self) -> "QualityLevel":
        """The next lower level (LOW stays LOW)."""
        return QualityLevel(max(self - 1, QualityLevel.LOW))

    def step_up(self) -> "QualityLevel":
        """The next higher level (ULTRA_HIGH stays ULTRA_HIGH)."""
        return QualityLevel(min(self + 1, QualityLevel.ULTRA_HIGH))


_DEFAULT_PRIORITY = {
    ChunkType.VIDEO_I_FRAME: MediaPriority.HIGH,
    ChunkType.VIDEO_P_FRAME: MediaPriority.NORMAL,
    ChunkType.VIDEO_B_FRAME: MediaPriority.LOW,
    ChunkType.AUDIO: MediaPriority.HIGH,
    ChunkType.METADATA: MediaPriority.HIGH,
    ChunkType.THUMBNAIL: MediaPriority.LOW,
}

_QUALITY = {
    QualityLevel.LOW: ((426, 240), 500_000, 64_000),
    QualityLevel.MEDIUM: ((854, 480), 1_500_000, 128_000),
    QualityLevel.HIGH: ((1280, 720), 5_000_000, 192_000),
    QualityLevel.ULTRA_HIGH: ((1920, 1080), 15_000_000, 320_000),
}
