"""Container ingest: demux MP4/MOV, Matroska/WebM and MPEG-TS files into MediaChunks (optional `av` extra).

One chunk per demuxed packet, in the container's own (demux) order: chunks are never reordered by
timestamp. A packet larger than `chunk_size` is split into consecutive chunks that all carry the
packet's type and timestamp. Every chunk of a file has the caller's `stream_id` and one sequence
numbering (0, 1, 2, ... from `start_sequence`), so a file stream is an ordinary rs2fast stream; which
container stream a chunk came from is known from its type (video or AUDIO) and, exactly, from the
packet table that `record_packets=True` keeps in `ContainerInfo.packets` (sequence -> stream index,
pts, dts, duration, keyframe, pieces), which is what `iter_packets` and `remux` use.

Chunk types: video packets are typed from the bitstream (H.264 slice types via `rs2fast._h264`) when
that extension is built; otherwise, and for other codecs, by decoding (the decoder's own pict_type);
`video_types="keyframe"` is the cheap choice (keyframe flag: I or P, no B). Audio packets are AUDIO,
attached cover pictures THUMBNAIL; other streams (subtitles, data) are skipped. Timestamps are the
packet's pts (dts when pts is missing) in nanoseconds of the stream's time base; negative values (AAC
priming, edit lists) are kept. The last chunk of a complete file has `is_final` set.

Damage is reported, never streamed quietly: a file FFmpeg cannot read as media, or whose structure
says bytes are missing (an MP4 box or a Matroska segment running past the end of the file, an MPEG-TS
file ending inside a packet), raises MediaFormatError before any chunk; a file that shrinks while it is
read raises StreamTruncated instead of ending early (PyAV on its own just stops).
"""
from __future__ import annotations

import array
import io
import logging
import os
import stat
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

from rs2fast._chunk import MediaChunk, checksum_hex, split_buffer
from rs2fast._enums import ChunkType
from rs2fast.av_codec import PICT_TYPE_CHUNK, require_av
from rs2fast.errors import MediaFormatError, StreamTruncated, UnsupportedFormat

log = logging.getLogger("rs2fast")

CONTAINER_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".ts", ".m2ts"})
VIDEO_TYPES = ("auto", "bitstream", "decode", "keyframe")

_MOV = "mov,mp4,m4a,3gp,3g2,mj2"
_MKV = "matroska,webm"
_TS = "mpegts"
_FAMILY_BY_EXTENSION = {".mp4": _MOV, ".m4v": _MOV, ".mov": _MOV, ".mkv": _MKV, ".webm": _MKV,
                        ".ts": _TS, ".m2ts": _TS}
# Demuxers accepted as media containers (anything else FFmpeg can open, e.g. "tty" for text files or
# raw elementary streams without timestamps, is refused as "not a container").
SUPPORTED_FORMATS = frozenset({_MOV, _MKV, _TS, "avi", "flv", "ogg", "mpeg", "nut", "asf"})

_I, _P, _B, _AUDIO, _THUMB = (ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME,
                              ChunkType.AUDIO, ChunkType.THUMBNAIL)
_MODE_AUDIO, _MODE_THUMB, _MODE_KEYFRAME, _MODE_BITSTREAM, _MODE_DECODE = range(5)
_MODE_NAMES = ("audio", "thumbnail", "keyframe", "bitstream", "decode")
_PENDING_LIMIT = 1024          # video packets awaiting their decoded picture type, at most
_BOX_LIMIT = 1 << 20           # top-level MP4 boxes walked, at most
_UNKNOWN_SIZE = -1


def is_container_path(path: Union[str, os.PathLike]) -> bool:
    """True when `path` names a container file by its extension (.mp4 .m4v .mov .mkv .webm .ts
    .m2ts, any case)."""
    return os.path.splitext(os.fspath(path))[1].lower() in CONTAINER_EXTENSIONS


def wants_demux(path: Union[str, os.PathLike], metadata: Optional[dict] = None) -> bool:
    """Whether a file stream should go through container ingest (the streaming service's rule).

    metadata "container": "demux" forces it (CodecUnavailable when PyAV is missing), "raw" turns it
    off; otherwise ("auto") container paths are demuxed when PyAV is installed, else streamed as bytes.
    """
    mode = (metadata or {}).get("container", "auto")
    if mode not in ("auto", "demux", "raw"):
        raise ValueError(f'metadata "container" must be "auto", "demux" or "raw", got {mode!r}')
    if mode == "raw":
        return False
    if mode == "demux":
        require_av()
        return True
    if not is_container_path(path):
        return False
    try:
        require_av()
    except Exception:
        log.info("rs2fast: %s streamed as raw bytes: install the av extra for container ingest", path)
        return False
    return True


# --- descriptions ------------------------------------------------------------------------------------

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
        from rs2fast.av_codec import AvAudioDecoder, AvVideoDecoder

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
    chunks, stream index, pts, dts (missing values stored as -2**63), duration and keyframe flag.
    """

    _NONE = -(1 << 63)
    _WIDTH = 7

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self._rows = array.array("q")

    def __len__(self) -> int:
        return len(self._rows) // self._WIDTH

    def __getitem__(self, index: int) -> PacketRecord:
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"packet {index} is not in this table of {count}")
        first, pieces, stream, pts, dts, duration, key = self._rows[index * 7:index * 7 + 7]
        none = self._NONE
        return PacketRecord(first + self.base, pieces, stream, None if pts == none else pts,
                            None if dts == none else dts, duration, bool(key))

    def __iter__(self) -> Iterator[PacketRecord]:
        for index in range(len(self)):
            yield self[index]

    def find(self, sequence: int) -> int:
        """Index of the packet whose chunks include `sequence` (IndexError if none does)."""
        rows, width = self._rows, self._WIDTH
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


# --- the reader --------------------------------------------------------------------------------------

class ContainerReader:
    """Demuxes one container into batches of MediaChunks (see the module docstring for the rules).

    `source` is a path, a bytes-like object or a readable binary file object. Opening and checking
    happen here, so a missing file (FileNotFoundError), a non-media or damaged file
    (MediaFormatError) or a missing PyAV (CodecUnavailable) fail at construction. Iterating yields
    lists of up to `batch_size` chunks; `checksum` ("crc32c", "sha256" or None) is computed per chunk.
    `video_types`: "auto" (bitstream for H.264 when rs2fast._h264 is built, else decode), "bitstream",
    "decode" or "keyframe". `record_packets=True` keeps the packet table that `remux` needs. A packet
    the demuxer marks corrupt (lost transport packets, a cut-off sample) raises MediaFormatError
    unless `keep_corrupt=True`. `container_format` forces an FFmpeg demuxer instead of probing. A
    reader is iterated once, by one consumer; close it (or use `with`) to release the file early.
    """

    def __init__(self, source: Any, stream_id: str, chunk_size: int = 65536, *,
                 checksum: Optional[str] = None, start_sequence: int = 0, video_types: str = "auto",
                 record_packets: bool = False, batch_size: int = 64,
                 container_format: Optional[str] = None, keep_corrupt: bool = False) -> None:
        if not isinstance(stream_id, str) or not stream_id:
            raise TypeError(f"stream_id must be a non-empty str, not {stream_id!r}")
        self.stream_id = stream_id
        self.chunk_size = _int_arg(chunk_size, "chunk_size", 1, 1 << 40)
        self.start_sequence = _int_arg(start_sequence, "start_sequence", 0, (1 << 64) - 1)
        self.batch_size = _int_arg(batch_size, "batch_size", 1, 1 << 20)
        if checksum not in (None, "crc32c", "sha256"):
            raise ValueError(f'checksum must be None, "crc32c" or "sha256", got {checksum!r}')
        self.checksum: Any = checksum
        self.keep_corrupt = bool(keep_corrupt)
        if video_types not in VIDEO_TYPES:
            raise ValueError(f"video_types must be one of {VIDEO_TYPES}, got {video_types!r}")
        self._av = require_av()
        self._file: Any = None
        self._owns_file = False
        self._container: Any = None
        self._iterated = False
        try:
            self._source_name, self._size, self._opener = self._prepare(source)
            self._open(container_format, video_types, record_packets)
        except BaseException:
            self.close()
            raise

    # context management

    def __enter__(self) -> "ContainerReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the container and the file (idempotent)."""
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:
                pass
        handle, self._file = self._file, None
        if handle is not None and self._owns_file:
            handle.close()

    @property
    def info(self) -> ContainerInfo:
        """The container's description; counts and `complete` are filled as batches are read."""
        return self._info

    def chunks(self) -> Iterator[MediaChunk]:
        """The chunks one by one (the batches, flattened)."""
        for batch in self:
            yield from batch

    # opening

    def _prepare(self, source):
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            mode = os.stat(path).st_mode            # FileNotFoundError, PermissionError, ...
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory", path)
            if not stat.S_ISREG(mode):              # a FIFO or a device would block or never end
                raise MediaFormatError(f"{path!r} is not a regular file")
            handle = open(path, "rb")
            self._file = handle
            self._owns_file = True
            info = os.fstat(handle.fileno())
            self._identity = (info.st_dev, info.st_ino)
            self._mtime = info.st_mtime_ns
            return path, info.st_size, lambda av, **kw: av.open(path, **kw)
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            self._file = io.BytesIO(data)
            self._identity = None
            return "<bytes>", len(data), lambda av, **kw: av.open(io.BytesIO(data), **kw)
        if hasattr(source, "read"):
            self._file = source
            self._identity = None
            size = _UNKNOWN_SIZE
            if _seekable(source):
                here = source.tell()
                size = source.seek(0, os.SEEK_END) - here
                source.seek(here)
            return getattr(source, "name", "<file>"), size, lambda av, **kw: av.open(source, **kw)
        raise TypeError(f"source must be a path, a bytes-like object or a binary file, "
                        f"not {type(source).__name__}")

    def _open(self, container_format, video_types, record_packets) -> None:
        av = self._av
        name = self._source_name
        if self._size == 0:
            raise MediaFormatError(f"{name}: empty file, not a media container")
        expected = _FAMILY_BY_EXTENSION.get(os.path.splitext(str(name))[1].lower())
        header = self._read_header()
        try:
            container = self._opener(av, mode="r", format=container_format, metadata_errors="replace")
        except av.FFmpegError as error:
            raise MediaFormatError(f"{name}: not a readable media container ({_why(error)})") from None
        self._container = container
        family = container.format.name
        if family not in SUPPORTED_FORMATS and container_format is None:
            raise MediaFormatError(f"{name}: not a media container (FFmpeg reads it as "
                                   f"{container.format.name!r})")
        if expected is not None and family != expected:
            log.debug("rs2fast: %s has a %s extension but holds %s", name, expected, family)
        self._check_structure(family, header)
        streams, skipped, selected = [], [], []
        for stream in container.streams:
            info = self._describe(stream, video_types)
            if info is None:
                skipped.append((stream.index, stream.type, _codec_name(stream)))
                continue
            streams.append(info)
            selected.append(stream)
        if not streams:
            raise MediaFormatError(f"{name}: the container has no audio or video stream")
        duration = container.duration
        self._info = ContainerInfo(
            source=name, format_name=family, size=self._size,
            duration_ns=None if duration is None else duration * 1000,   # AV_TIME_BASE is 1 us
            streams=tuple(streams), skipped_streams=tuple(skipped),
            packets=PacketTable(self.start_sequence) if record_packets else None,
            packets_per_stream={s.index: 0 for s in streams})
        self._selected = selected

    def _describe(self, stream, video_types) -> Optional[StreamInfo]:
        kind = stream.type
        if kind not in ("video", "audio"):
            return None
        context = stream.codec_context
        codec = _codec_name(stream)
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
            if codec == "h264" and _h264_classifier() is not None:
                typing = "bitstream"
            elif typing == "bitstream":
                raise UnsupportedFormat(
                    f"{self._source_name}: bitstream typing needs H.264 and the rs2fast._h264 "
                    f"extension (stream {stream.index} is {codec})")
            else:
                typing = "decode"
        if typing == "decode" and not _can_decode(self._av, codec):
            typing = "keyframe"
        return StreamInfo(typing=typing, framing=framing, length_size=length_size, **video)

    def _read_header(self) -> bytes:
        handle = self._file
        if handle is None or not _seekable(handle):
            return b""
        here = handle.tell()
        try:
            return handle.read(1024)
        finally:
            handle.seek(here)

    def _check_structure(self, family: str, header: bytes) -> None:
        """Raise MediaFormatError when the file's own structure says bytes are missing."""
        handle, size, name = self._file, self._size, self._source_name
        if handle is None or size == _UNKNOWN_SIZE or not _seekable(handle):
            return
        here = handle.tell()
        try:
            if family == _MOV:
                problem = _mp4_problem(handle, here, size)
            elif family == _MKV:
                problem = _matroska_problem(header, size)
            elif family == _TS:
                problem = _ts_problem(header, size)
            else:
                problem = None
        finally:
            handle.seek(here)
        if problem:
            raise MediaFormatError(f"{name}: damaged or truncated {family} file: {problem}")

    # reading

    def __iter__(self) -> Iterator[List[MediaChunk]]:
        if self._iterated:
            raise RuntimeError("a ContainerReader can be iterated only once")
        self._iterated = True
        if self._container is None:
            raise RuntimeError("the ContainerReader is closed")
        return self._batches()

    def _batches(self) -> Iterator[List[MediaChunk]]:
        try:
            yield from self._demux()
        finally:
            self.close()

    def _demux(self) -> Iterator[List[MediaChunk]]:
        av = self._av
        info = self._info
        # per container stream index: (mode, fixed type, ns multiplier, ns divisor, framing, prefix)
        plans: list = [None] * (max(s.index for s in info.streams) + 1)
        decoders = {}
        for stream, desc in zip(self._selected, info.streams):
            mode = _MODE_NAMES.index(desc.typing)
            fixed = _AUDIO if mode == _MODE_AUDIO else _THUMB if mode == _MODE_THUMB else None
            plans[desc.index] = (mode, fixed, desc.time_base.numerator * 1_000_000_000,
                                 desc.time_base.denominator, desc.framing, desc.length_size)
            if mode == _MODE_DECODE:
                decoders[desc.index] = _TypingDecoder(stream, desc)
        state = _LoopState(self.start_sequence, len(plans))
        loop = self._typed_loop if not decoders else self._decoding_loop
        try:
            yield from loop(self._container.demux(*self._selected), plans, decoders, state)
        except av.FFmpegError as error:
            self._raise_truncated()
            raise MediaFormatError(f"{self._source_name}: damaged container ({_why(error)})",
                                   stream_id=self.stream_id, sequence_number=state.seq) from None
        finally:
            info.packets_read += state.packets
            info.bytes_read += state.bytes
            for index, count in enumerate(state.per_stream):
                if index in info.packets_per_stream:
                    info.packets_per_stream[index] += count
        self._raise_truncated()
        batch = state.batch
        if batch:
            batch[-1] = batch[-1].replace(is_final=True)
        info.chunks_made = state.seq - self.start_sequence
        info.complete = True
        if batch:
            yield batch

    def _typed_loop(self, demux, plans, decoders, state) -> Iterator[List[MediaChunk]]:
        """The hot loop: every packet's type is known at once (bitstream, keyframe flag, fixed)."""
        sid = self.stream_id
        chunk_size = self.chunk_size
        batch_size = self.batch_size
        algorithm = self.checksum
        table = self._info.packets
        rows = table._rows if table is not None else None
        base = table.base if table is not None else 0
        none = PacketTable._NONE
        classify = _h264_classifier()
        keep_corrupt = self.keep_corrupt
        last_ts = [0] * len(plans)
        per_stream = state.per_stream
        seq = state.seq
        batch = state.batch
        append = batch.append
        byte_total = 0
        try:
            for packet in demux:
                data = bytes(packet)
                if not data:
                    continue                     # the flush packet PyAV adds at the end of a stream
                si = packet.stream_index
                if packet.is_corrupt and not keep_corrupt:
                    self._corrupt(si, seq)
                mode, ctype, mul, div, framing, prefix = plans[si]
                pts = packet.pts
                if pts is None:
                    pts = packet.dts
                    ts = last_ts[si] if pts is None else pts * mul // div
                else:
                    ts = pts * mul // div
                last_ts[si] = ts
                per_stream[si] += 1
                size = len(data)
                byte_total += size
                if ctype is None:                    # video: audio and thumbnails have a fixed type
                    if mode == _MODE_BITSTREAM:
                        try:
                            ctype = classify(data, framing, prefix)
                        except MediaFormatError as error:
                            raise MediaFormatError(f"{self._source_name}: damaged H.264 packet in "
                                                   f"stream {si}: {error.text}", stream_id=sid,
                                                   sequence_number=seq) from None
                    else:
                        ctype = _I if packet.is_keyframe else _P
                if size <= chunk_size:
                    if algorithm is None:
                        append(MediaChunk(sid, seq, data, ctype, None, timestamp_ns=ts))
                    else:
                        append(MediaChunk(sid, seq, data, ctype, None, timestamp_ns=ts,
                                          checksum=checksum_hex(data, algorithm)))
                    pieces = 1
                else:
                    split = split_buffer(data, sid, chunk_size, start_sequence=seq, chunk_type=ctype,
                                         frame_duration_ns=0, timestamp_offset_ns=ts, mark_final=False,
                                         checksum=algorithm)
                    pieces = len(split)
                    batch.extend(split)
                if rows is not None:
                    pts = packet.pts
                    dts = packet.dts
                    rows.extend((seq - base, pieces, si, none if pts is None else pts,
                                 none if dts is None else dts, packet.duration or 0,
                                 packet.is_keyframe))
                seq += pieces
                while len(batch) > batch_size:       # one chunk always stays back (is_final)
                    out = batch[:batch_size]
                    del batch[:batch_size]
                    state.seq = seq
                    yield out
        finally:
            state.seq = seq
            state.bytes += byte_total
            state.packets = sum(per_stream)

    def _decoding_loop(self, demux, plans, decoders, state) -> Iterator[List[MediaChunk]]:
        """The loop when some video stream is typed by decoding: chunks wait in demux order until
        the decoder has returned the picture of every earlier video packet."""
        sid = self.stream_id
        chunk_size = self.chunk_size
        batch_size = self.batch_size
        table = self._info.packets
        classify = _h264_classifier()
        last_ts = [0] * len(plans)
        per_stream = state.per_stream
        pending = _Pending()
        batch = state.batch
        try:
            for packet in demux:
                data = bytes(packet)
                if not data:
                    continue
                si = packet.stream_index
                if packet.is_corrupt and not self.keep_corrupt:
                    self._corrupt(si, state.seq)
                mode, ctype, mul, div, framing, prefix = plans[si]
                pts = packet.pts
                dts = packet.dts
                ref = pts if pts is not None else dts
                ts = last_ts[si] if ref is None else ref * mul // div
                last_ts[si] = ts
                per_stream[si] += 1
                state.bytes += len(data)
                if mode == _MODE_BITSTREAM:
                    try:
                        ctype = classify(data, framing, prefix)
                    except MediaFormatError as error:
                        raise MediaFormatError(f"{self._source_name}: damaged H.264 packet in stream "
                                               f"{si}: {error.text}", stream_id=sid,
                                               sequence_number=state.seq) from None
                elif mode == _MODE_KEYFRAME:
                    ctype = _I if packet.is_keyframe else _P
                pending.add(state.seq, si, data, ts, pts, dts, packet.duration, packet.is_keyframe,
                            len(data), chunk_size, ctype)
                state.seq += pending.last_pieces
                if mode == _MODE_DECODE:
                    decoders[si].feed(packet, pending, sid)
                self._release(pending, batch, table)
                while len(batch) > batch_size:
                    out = batch[:batch_size]
                    del batch[:batch_size]
                    yield out
            for decoder in decoders.values():
                decoder.finish(pending, sid)
            pending.resolve_all()
            self._release(pending, batch, table)
        finally:
            state.packets = sum(per_stream)

    def _corrupt(self, stream_index: int, sequence: int) -> None:
        self._raise_truncated()
        raise MediaFormatError(f"{self._source_name}: the demuxer marked a packet of stream "
                               f"{stream_index} corrupt (data lost or damaged in the file)",
                               stream_id=self.stream_id, sequence_number=sequence)

    def _release(self, pending: "_Pending", batch: List[MediaChunk], table) -> None:
        sid, algorithm = self.stream_id, self.checksum
        for entry in pending.ready():
            seq, si, data, ts, pts, dts, duration, keyframe, pieces, ctype = entry
            if pieces == 1:
                batch.append(MediaChunk(sid, seq, data, ctype, None, timestamp_ns=ts,
                                        checksum=checksum_hex(data, algorithm) if algorithm else None))
            else:
                batch.extend(split_buffer(data, sid, self.chunk_size, start_sequence=seq, chunk_type=ctype,
                                          frame_duration_ns=0, timestamp_offset_ns=ts, mark_final=False,
                                          checksum=algorithm))
            if table is not None:
                none = table._NONE
                table._rows.extend((seq - table.base, pieces, si, none if pts is None else pts,
                                    none if dts is None else dts, duration or 0, keyframe))

    def _raise_truncated(self) -> None:
        """StreamTruncated if the file we opened shrank (or was cut and rewritten) while being read."""
        handle = self._file
        if handle is None or self._identity is None:
            return
        info = os.fstat(handle.fileno())
        if info.st_size < self._size:
            raise StreamTruncated(f"{self._source_name}: file shrank from {self._size} to "
                                  f"{info.st_size} bytes while it was being read",
                                  stream_id=self.stream_id)
        if info.st_mtime_ns != self._mtime:
            if info.st_size == self._size:
                raise StreamTruncated(f"{self._source_name}: file was rewritten while it was being read",
                                      stream_id=self.stream_id)
            log.warning("rs2fast: %s grew while it was being read; the first %d bytes were streamed",
                        self._source_name, self._size)


def demux_chunks(source: Any, stream_id: str, chunk_size: int = 65536, *, checksum: Optional[str] = None,
                 start_sequence: int = 0, video_types: str = "auto", record_packets: bool = False,
                 batch_size: int = 64, keep_corrupt: bool = False) -> ContainerReader:
    """Open `source` for container ingest: an iterable of MediaChunk batches with `.info`.

    Same as `ContainerReader(...)`; errors about the file surface here, before any chunk.
    """
    return ContainerReader(source, stream_id, chunk_size, checksum=checksum, start_sequence=start_sequence,
                           video_types=video_types, record_packets=record_packets, batch_size=batch_size,
                           keep_corrupt=keep_corrupt)


def probe(source: Any) -> ContainerInfo:
    """The ContainerInfo of `source` without reading any packet (same checks as ContainerReader)."""
    with ContainerReader(source, "probe") as reader:
        return reader.info


class _LoopState:
    """Counters and the open batch shared between _demux and its loop (read after it ends)."""

    __slots__ = ("seq", "packets", "bytes", "per_stream", "batch")

    def __init__(self, seq: int, streams: int) -> None:
        self.seq = seq
        self.packets = 0
        self.bytes = 0
        self.per_stream = [0] * streams
        self.batch: List[MediaChunk] = []


# --- decode-based typing -----------------------------------------------------------------------------

class _Pending:
    """Packets waiting, in demux order, until the decoder has told the type of every video packet."""

    def __init__(self) -> None:
        self.entries: list = []        # [seq, si, data, ts, pts, dts, duration, keyframe, pieces, type]
        self.by_seq: dict = {}
        self.last_pieces = 0
        self.start = 0

    def add(self, seq, si, data, ts, pts, dts, duration, keyframe, size, chunk_size, ctype=None):
        pieces = -(-size // chunk_size)
        entry = [seq, si, data, ts, pts, dts, duration, keyframe, pieces, ctype]
        self.entries.append(entry)
        if ctype is None:
            self.by_seq[seq] = entry
        self.last_pieces = pieces

    def resolve(self, seq: int, ctype: ChunkType) -> None:
        entry = self.by_seq.pop(seq, None)
        if entry is not None:
            entry[9] = ctype

    def resolve_all(self) -> None:
        """Type what the decoder never returned (dropped pictures) from the keyframe flag."""
        for entry in self.by_seq.values():
            entry[9] = _I if entry[7] else _P
        self.by_seq.clear()

    def ready(self) -> list:
        """The entries at the front whose type is known (removed from the queue)."""
        entries = self.entries
        start = self.start
        while len(entries) - start > _PENDING_LIMIT and entries[start][9] is None:
            entry = entries[start]      # the decoder holds too much back: type the oldest by its flag
            log.debug("rs2fast: decoder held back %d packets; typing sequence %d by its keyframe flag",
                      len(entries) - start, entry[0])
            self.by_seq.pop(entry[0], None)
            entry[9] = _I if entry[7] else _P
        end = start
        while end < len(entries) and entries[end][9] is not None:
            end += 1
        out = entries[start:end]
        if end == len(entries):
            self.entries = []
            self.start = 0
        elif end > 4096:
            self.entries = entries[end:]
            self.start = 0
        else:
            self.start = end
        return out


class _TypingDecoder:
    """Decodes one video stream only to learn each packet's picture type (decoder's pict_type)."""

    def __init__(self, stream, desc: StreamInfo) -> None:
        context = stream.codec_context
        context.thread_type = "AUTO"
        self._opaque = hasattr(context, "copy_opaque")
        if self._opaque:
            context.copy_opaque = True
        self.context = context
        self.index = desc.index
        self._by_pts: dict = {}

    def feed(self, packet, pending: _Pending, sid: str) -> None:
        seq = pending.entries[-1][0]
        if self._opaque:
            packet.opaque = seq
        elif packet.pts is not None:
            self._by_pts[packet.pts] = seq
        try:
            frames = self.context.decode(packet)
        except Exception as error:
            raise MediaFormatError(f"damaged video packet in stream {self.index}: {_why(error)}",
                                   stream_id=sid, sequence_number=seq) from None
        self._take(frames, pending)

    def finish(self, pending: _Pending, sid: str) -> None:
        try:
            frames = self.context.decode(None)
        except Exception as error:
            raise MediaFormatError(f"damaged video stream {self.index}: {_why(error)}",
                                   stream_id=sid) from None
        self._take(frames, pending)

    def _take(self, frames, pending: _Pending) -> None:
        for frame in frames:
            if self._opaque:
                seq = frame.opaque
            else:
                seq = self._by_pts.pop(frame.pts, None)
            if isinstance(seq, int):
                kind = PICT_TYPE_CHUNK.get(int(frame.pict_type))
                pending.resolve(seq, kind if kind is not None else (_I if frame.key_frame else _P))


# --- chunks back to packets --------------------------------------------------------------------------

class ContainerPacket(NamedTuple):
    """One packet rebuilt from its chunks: data plus the timing the container gave it."""

    stream_index: int
    data: bytes
    pts: Optional[int]
    dts: Optional[int]
    duration: int
    keyframe: bool
    first_sequence: int
    chunk_type: ChunkType


def iter_packets(chunks: Iterable[MediaChunk], info: ContainerInfo) -> Iterator[ContainerPacket]:
    """Reassemble the packets of a demuxed stream from its chunks (all of them, in sequence order).

    Needs `info.packets` (read with `record_packets=True`). A missing, extra or out-of-order chunk
    raises ValueError naming the sequence number.
    """
    table = info.packets
    if table is None:
        raise ValueError("info has no packet table: read the container with record_packets=True")
    records = iter(table)
    record = None
    parts: list = []
    ctype: Any = None
    for chunk in chunks:
        if not isinstance(chunk, MediaChunk):
            raise TypeError(f"chunks must be MediaChunks, not {type(chunk).__name__}")
        if record is None:
            record = next(records, None)
            if record is None:
                raise ValueError(f"chunk {chunk.sequence_number} is beyond the last recorded packet")
            parts = []
            ctype = chunk.chunk_type
        expected = record.first_sequence + len(parts)
        if chunk.sequence_number != expected:
            raise ValueError(f"expected chunk {expected}, got {chunk.sequence_number}: chunks must be "
                             f"the complete stream in sequence order")
        parts.append(chunk.data)
        if len(parts) == record.pieces:
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            yield ContainerPacket(record.stream_index, bytes(data), record.pts, record.dts,
                                  record.duration, record.keyframe, record.first_sequence, ctype)
            record = None
    if record is not None:
        raise ValueError(f"the chunks end inside packet {record.first_sequence} "
                         f"({len(parts)} of {record.pieces} pieces)")
    leftover = next(records, None)
    if leftover is not None:
        raise ValueError(f"the chunks end before packet {leftover.first_sequence}")


def remux(chunks: Iterable[MediaChunk], info: ContainerInfo, out: Any, *,
          container_format: Optional[str] = None) -> int:
    """Write the packets rebuilt from `chunks` into a new container `out` (a path or a binary file);
    returns the number of packets written. No re-encoding: the output decodes to the same frames.

    `container_format` defaults to what `out`'s extension says. The output must accept the packets'
    codecs and framing (e.g. MP4/MOV/MKV for AVCC H.264 read from MP4 or MKV).
    """
    av = require_av()
    if info.packets is None:
        raise ValueError("info has no packet table: read the container with record_packets=True")
    templates = _template_container(av, info.streams)
    count = [0]
    try:
        with av.open(out, "w", format=container_format) as output:
            targets = {}
            for desc, template in zip(info.streams, templates.streams):
                target = output.add_stream_from_template(template)
                target.time_base = desc.time_base
                targets[desc.index] = (target, desc.time_base)
            waiting: dict = {index: [] for index in targets}     # packets whose dts is not known yet
            last_dts: dict = {}

            def write(rebuilt, dts) -> None:
                target, time_base = targets[rebuilt.stream_index]
                packet = av.Packet(rebuilt.data)
                packet.stream = target
                packet.time_base = time_base
                packet.pts = rebuilt.pts
                packet.dts = dts
                packet.duration = rebuilt.duration
                packet.is_keyframe = rebuilt.keyframe
                output.mux(packet)
                last_dts[rebuilt.stream_index] = dts
                count[0] += 1

            for rebuilt in iter_packets(chunks, info):
                queue = waiting[rebuilt.stream_index]
                if rebuilt.dts is None:
                    # Matroska stores no dts: the demuxer leaves it unset until it can tell. Muxers
                    # need one, so these packets wait for the next known dts and count back from it.
                    queue.append(rebuilt)
                    continue
                for back, early in enumerate(queue):
                    write(early, rebuilt.dts - (len(queue) - back) * max(1, early.duration or 1))
                queue.clear()
                write(rebuilt, rebuilt.dts)
            for index, queue in waiting.items():
                for early in queue:            # no later dts came: count up from the last one
                    previous = last_dts.get(index)
                    write(early, early.pts if previous is None else
                          previous + 1 if early.pts is None else max(previous + 1, early.pts))
    finally:
        templates.close()
    return count[0]


# Matroska codec ids of the codecs remux() can describe to a muxer (through a template header).
_MATROSKA_CODECS = {
    "h264": "V_MPEG4/ISO/AVC", "hevc": "V_MPEGH/ISO/HEVC", "vp8": "V_VP8", "vp9": "V_VP9", "av1": "V_AV1",
    "mpeg4": "V_MPEG4/ISO/ASP", "mpeg2video": "V_MPEG2", "mpeg1video": "V_MPEG1",
    "aac": "A_AAC", "opus": "A_OPUS", "vorbis": "A_VORBIS", "flac": "A_FLAC", "mp3": "A_MPEG/L3",
    "mp2": "A_MPEG/L2", "ac3": "A_AC3", "eac3": "A_EAC3", "pcm_s16le": "A_PCM/INT/LIT",
}


def _ebml(element_id: int, payload: bytes) -> bytes:
    ident = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return ident + b"\x01" + len(payload).to_bytes(7, "big") + payload     # 8-byte size field


def _ebml_uint(element_id: int, value: int) -> bytes:
    return _ebml(element_id, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _template_container(av, streams: Tuple[StreamInfo, ...]):
    """An in-memory Matroska header describing `streams` (codec, extradata, size / rate), opened as
    an input container whose streams serve as muxer templates: PyAV copies codec parameters,
    extradata included, only from existing streams."""
    import struct

    entries = b""
    for number, desc in enumerate(streams, 1):
        codec_id = _MATROSKA_CODECS.get(desc.codec)
        if codec_id is None:
            raise UnsupportedFormat(f"remux cannot describe {desc.codec!r} streams")
        body = (_ebml_uint(0xD7, number) + _ebml_uint(0x73C5, number)
                + _ebml_uint(0x83, 1 if desc.kind == "video" else 2) + _ebml(0x86, codec_id.encode()))
        if desc.extradata:
            body += _ebml(0x63A2, desc.extradata)
        if desc.kind == "video":
            body += _ebml(0xE0, _ebml_uint(0xB0, desc.width) + _ebml_uint(0xBA, desc.height))
        else:
            body += _ebml(0xE1, _ebml(0xB5, struct.pack(">d", float(desc.sample_rate)))
                          + _ebml_uint(0x9F, desc.channels or 2))
        entries += _ebml(0xAE, body)
    header = _ebml(0x1A45DFA3, _ebml_uint(0x4286, 1) + _ebml_uint(0x42F7, 1) + _ebml_uint(0x42F2, 4)
                   + _ebml_uint(0x42F3, 8) + _ebml(0x4282, b"matroska") + _ebml_uint(0x4287, 4)
                   + _ebml_uint(0x4285, 2))
    segment = (_ebml(0x1549A966, _ebml_uint(0x2AD7B1, 1_000_000)) + _ebml(0x1654AE6B, entries)
               + _ebml(0x1F43B675, _ebml_uint(0xE7, 0)))
    data = header + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + segment
    return av.open(io.BytesIO(data), format="matroska")


# --- structure checks --------------------------------------------------------------------------------

def _mp4_problem(handle, base: int, size: int) -> Optional[str]:
    """Walk the top-level ISO-BMFF boxes; a box running past the end of the file means truncation."""
    offset = 0
    for _ in range(_BOX_LIMIT):
        if offset == size:
            return None
        if size - offset < 8:
            return f"{size - offset} stray bytes after the last box at offset {offset}"
        handle.seek(base + offset)
        head = handle.read(16)
        box_size = int.from_bytes(head[:4], "big")
        kind = head[4:8].decode("latin-1")
        header = 8
        if box_size == 1:
            if len(head) < 16:
                return f"box {kind!r} at offset {offset} is cut inside its header"
            box_size = int.from_bytes(head[8:16], "big")
            header = 16
        elif box_size == 0:
            return None                  # runs to the end of the file by definition
        if box_size < header:
            return f"box {kind!r} at offset {offset} has an impossible size {box_size}"
        if offset + box_size > size:
            return (f"box {kind!r} at offset {offset} needs {box_size} bytes but only "
                    f"{size - offset} remain")
        offset += box_size
    return None


def _vint(data: bytes, offset: int, is_size: bool) -> Tuple[Optional[int], int]:
    """An EBML variable-length integer at `offset`: (value or None for "unknown size", next offset)."""
    if offset >= len(data):
        raise IndexError
    first = data[offset]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or offset + length > len(data):
        raise IndexError
    value = first if not is_size else first & (0xFF >> length)
    for byte in data[offset + 1:offset + length]:
        value = (value << 8) | byte
    if is_size and value == (1 << (7 * length)) - 1:
        return None, offset + length
    return value, offset + length


def _matroska_problem(header: bytes, size: int) -> Optional[str]:
    """The Segment's declared size must fit in the file (unknown-size segments cannot be checked)."""
    try:
        ident, at = _vint(header, 0, False)
        if ident != 0x1A45DFA3:
            return None
        length, at = _vint(header, at, True)
        if length is None:
            return None
        at += length
        ident, at = _vint(header, at, False)
        if ident != 0x18538067:
            return None
        length, at = _vint(header, at, True)
    except IndexError:
        return None
    if length is not None and at + length > size:
        return f"the segment needs {at + length} bytes but the file has {size}"
    return None


def _ts_problem(header: bytes, size: int) -> Optional[str]:
    """An MPEG-TS file is whole packets (188, 192 or 204 bytes); a partial last packet is truncation."""
    for packet, sync in ((188, 0), (192, 4), (204, 0)):
        if len(header) > packet + sync and header[sync] == 0x47 and header[packet + sync] == 0x47:
            if size % packet:
                return (f"it ends inside a {packet}-byte transport packet "
                        f"({size % packet} bytes of the last one)")
            return None
    return None


# --- small helpers -----------------------------------------------------------------------------------

def _int_arg(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def _seekable(handle) -> bool:
    try:
        return bool(handle.seekable())
    except Exception:
        return False


def _why(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error)
    log_text = getattr(error, "log", None)
    if log_text and isinstance(log_text, tuple) and len(log_text) >= 3 and log_text[2]:
        text = f"{text}: {log_text[2].strip()}"
    return text


def _can_decode(av, codec: str) -> bool:
    try:
        av.Codec(codec, "r")
    except Exception:
        return False
    return True


def _codec_name(stream) -> str:
    context = stream.codec_context
    if context is not None:
        return context.name
    return getattr(getattr(stream, "codec", None), "name", "unknown")


def _is_attached_picture(stream) -> bool:
    disposition = getattr(stream, "disposition", None)
    if disposition is None:
        return False
    try:
        return bool(int(disposition) & 0x400)          # AV_DISPOSITION_ATTACHED_PIC
    except (TypeError, ValueError):
        return False


_CLASSIFIER: list = []


def _h264_classifier():
    """rs2fast._h264.classify_access_unit, or None when that extension is not built."""
    if not _CLASSIFIER:
        try:
            from rs2fast._h264 import classify_access_unit
        except ImportError:
            classify_access_unit = None
        _CLASSIFIER.append(classify_access_unit)
    return _CLASSIFIER[0]
