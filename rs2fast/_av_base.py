"""What every part of the optional `av` extra shares: finding PyAV, the media formats, checks.

Importing this module does not import PyAV; `require_av()` does, and raises CodecUnavailable with the
install command when the extra is missing.
"""
from __future__ import annotations

from rs2fast._enums import ChunkType
from rs2fast.errors import CodecUnavailable

AV_INSTALL_COMMAND = 'pip install "rs2fast[av]"'

VIDEO_PIXEL_FORMATS = ("rgb24", "bgr24", "yuv420p")
AUDIO_SAMPLE_FORMATS = ("s16", "flt")

# FFmpeg AVPictureType -> ChunkType (NONE=0 has no entry: the keyframe flag decides then).
# I=1, P=2, B=3, S(GMC)=4 -> P, SI=5 -> I, SP=6 -> P, BI=7 -> B.
PICT_TYPE_CHUNK = {1: ChunkType.VIDEO_I_FRAME, 2: ChunkType.VIDEO_P_FRAME, 3: ChunkType.VIDEO_B_FRAME,
                   4: ChunkType.VIDEO_P_FRAME, 5: ChunkType.VIDEO_I_FRAME, 6: ChunkType.VIDEO_P_FRAME,
                   7: ChunkType.VIDEO_B_FRAME}


def require_av():
    """The `av` module; CodecUnavailable with the install command when PyAV is missing."""
    try:
        import av
    except ImportError as error:
        raise CodecUnavailable(f"real media support needs PyAV, which is not installed; "
                               f"install the extra with: {AV_INSTALL_COMMAND}") from error
    return av


def av_available() -> bool:
    """True when PyAV can be imported (the `av` extra is installed)."""
    try:
        require_av()
    except CodecUnavailable:
        return False
    return True


def positive_int(value, name: str, upper: int = 1 << 16) -> int:
    """`value` checked to be an int in 1..`upper` (TypeError / ValueError naming `name`)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 1 <= value <= upper:
        raise ValueError(f"{name} must be in 1..{upper}, got {value}")
    return value


def checked_stamp(value) -> int:
    """A timestamp in nanoseconds checked to be an int inside the int64 range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"timestamp_ns must be an int, not {type(value).__name__}")
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError(f"timestamp_ns {value} is outside the int64 range")
    return value
