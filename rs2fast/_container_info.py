"""What container ingest found: streams, the container, and the packet table.

StreamInfo describes one demuxed stream (what a decoder or a muxer needs), ContainerInfo the whole
container (filled with counts while it is read), PacketTable where every packet's chunks went.
"""
from __future__ import annotations

import array
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator, NamedTuple, Optional, Tuple

from rs2fast.errors import UnsupportedFormat


@dataclass(frozen=True)
class StreamInfo:
    """One demuxed stream: what a decoder or a muxer needs to use its chunks again.

    `typing` says how its chunk types are found: "bitstream", "decode", "keyframe", "audio" or
    "thumbnail". `framing`/`length_size` describe H.264 packets ("avcc" with a 1/2/4-byte length, or
    "annexb"). `frames` is the container index's packet count (0 when the container has none).
    """

    index: int
    kind: str
    codec: str
    time_base: Fraction
    extradata: Optional[bytes]
    typing: str
    width: int = 0
    height: int = 0
    pixel_format: Optional[str] = None
    sample_rate: int = 0
    channels: int = 0
    layout: Optional[str] = None
    frames: int = 0
    framing: Optional[str] = None
    length_size: int = 4

    def to_ns(self, timestamp: int) -> int:
        """A timestamp in this stream's time base, in nanoseconds (rounded down)."""
        return timestamp * self.time_base.numerator * 1_000_000_000 // self.time_base.denominator

    def decoder(self, **options):
        """A fresh AvVideoDecoder / AvAudioDecoder configured for this stream's packets."""
        from rs2fast._av_decoders import AvAudioDecoder, AvVideoDecoder

        if self.kind == "audio":
            return AvAudioDecoder(self.codec, extradata=self.extradata, **options)
        return AvVideoDecoder(self.codec, extradata=self.extradata, **options)


class PacketRecord(NamedTuple):
    """Where one demuxed packet went: its chunks (`first_sequence`, `pieces`) and its timing."""

    first_sequence: int
    pieces: int
    stream_index: int
    pts: Optional[int]
    dts: Optional[int]
    duration: int
    keyframe: bool


class PacketTable:
    """Compact per-packet side table (56 bytes a packet), filled when `record_packets=True`.

    Row i holds packet i (demux order): first sequence number (relative to `base`), number of
    chunks, stream index, pts, dts (missing values stored as MISSING, -2**63), duration and
    keyframe flag.
    """

    MISSING = -(1 << 63)
    WIDTH = 7

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.rows = array.array("q")     # WIDTH values per packet; container ingest appends to it

    def __len__(self) -> int:
        return len(self.rows) // self.WIDTH

    def __getitem__(self, index: int) -> PacketRecord:
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"packet {index} is not in this table of {count}")
        width = self.WIDTH
        first, pieces, stream, pts, dts, duration, key = self.rows[index * width:(index + 1) * width]
        none = self.MISSING
        return PacketRecord(first + self.base, pieces, stream, None if pts == none else pts,
                            None if dts == none else dts, duration, bool(key))

    def __iter__(self) -> Iterator[PacketRecord]:
        for index in range(len(self)):
            yield self[index]

    def find(self, sequence: int) -> int:
        """Index of the packet whose chunks include `sequence` (IndexError if none does)."""
        rows, width = self.rows, self.WIDTH
        low, high = 0, len(self)
        target = sequence - self.base
        while low < high:                    # last row whose first sequence <= target
            middle = (low + high) // 2
            if rows[middle * width] <= target:
                low = middle + 1
            else:
                high = middle
        index = low - 1
        if index < 0 or target >= rows[index * width] + rows[index * width + 1]:
            raise IndexError(f"sequence {sequence} is not in this packet table")
        return index


@dataclass
class ContainerInfo:
    """What was demuxed: format, streams, and (filled while reading) counts and the packet table."""

    source: str
    format_name: str
    size: int
    duration_ns: Optional[int]
    streams: Tuple[StreamInfo, ...]
    skipped_streams: Tuple[Tuple[int, str, str], ...] = ()
    packets: Optional[PacketTable] = None
    packets_read: int = 0
    bytes_read: int = 0
    chunks_made: int = 0
    complete: bool = False
    packets_per_stream: dict = field(default_factory=dict)

    def stream(self, index: int) -> StreamInfo:
        """The StreamInfo of container stream `index` (KeyError if it was not demuxed)."""
        for info in self.streams:
            if info.index == index:
                return info
        raise KeyError(f"stream {index} was not demuxed (skipped or absent)")

    @property
    def video(self) -> Tuple[StreamInfo, ...]:
        """The demuxed video streams."""
        return tuple(s for s in self.streams if s.kind == "video")

    @property
    def audio(self) -> Tuple[StreamInfo, ...]:
        """The demuxed audio streams."""
        return tuple(s for s in self.streams if s.kind == "audio")


def describe_stream(av, stream, video_types: str, source_name: str) -> Optional[StreamInfo]:
    """The StreamInfo of a PyAV stream, or None for a stream that is not demuxed (not audio or
    video). `video_types` ("auto", "bitstream", "decode", "keyframe") picks how video is typed:
    "auto" reads H.264 bitstreams and decodes other codecs; a codec without a decoder here falls
    back to "keyframe"."""
    kind = stream.type
    if kind not in ("video", "audio"):
        return None
    context = stream.codec_context
    codec = codec_name(stream)
    extradata = bytes(context.extradata) if context is not None and context.extradata else None
    time_base = stream.time_base or Fraction(1, 1_000_000)
    common = dict(index=stream.index, kind=kind, codec=codec, time_base=Fraction(time_base),
                  extradata=extradata, frames=stream.frames or 0)
    if kind == "audio":
        layout = getattr(context, "layout", None)
        return StreamInfo(typing="audio", sample_rate=getattr(context, "sample_rate", 0) or 0,
                          channels=layout.nb_channels if layout is not None else 0,
                          layout=layout.name if layout is not None else None, **common)
    fmt = getattr(context, "format", None)
    video = dict(width=getattr(context, "width", 0) or 0, height=getattr(context, "height", 0) or 0,
                 pixel_format=fmt.name if fmt is not None else None, **common)
    if _is_attached_picture(stream):
        return StreamInfo(typing="thumbnail", **video)
    framing, length_size = None, 4
    if codec == "h264":
        if extradata and extradata[0] == 1 and len(extradata) >= 5:
            framing, length_size = "avcc", (extradata[4] & 3) + 1
        else:
            framing = "annexb"
    typing = video_types
    if typing in ("auto", "bitstream"):
        if codec == "h264":
            typing = "bitstream"
        elif typing == "bitstream":
            raise UnsupportedFormat(f"{source_name}: bitstream typing needs H.264 "
                                    f"(stream {stream.index} is {codec})")
        else:
            typing = "decode"
    if typing == "decode" and not _can_decode(av, codec):
        typing = "keyframe"
    return StreamInfo(typing=typing, framing=framing, length_size=length_size, **video)


def codec_name(stream) -> str:
    """The codec name of a PyAV stream ("unknown" when it has none)."""
    context = stream.codec_context
    if context is not None:
        return context.name
    return getattr(getattr(stream, "codec", None), "name", "unknown")


def _can_decode(av, codec: str) -> bool:
    try:
        av.Codec(codec, "r")
    except Exception:
        return False
    return True


def _is_attached_picture(stream) -> bool:
    disposition = getattr(stream, "disposition", None)
    if disposition is None:
        return False
    try:
        return bool(int(disposition) & 0x400)          # AV_DISPOSITION_ATTACHED_PIC
    except (TypeError, ValueError):
        return False
