"""Container ingest: demux MP4/MOV, Matroska/WebM and MPEG-TS files into MediaChunks (optional `av` extra).

One chunk per demuxed packet, in the container's own (demux) order: chunks are never reordered by
timestamp. A packet larger than `chunk_size` is split into consecutive chunks that all carry the
packet's type and timestamp. Every chunk of a file has the caller's `stream_id` and one sequence
numbering (0, 1, 2, ... from `start_sequence`), so a file stream is an ordinary rs2fast stream; which
container stream a chunk came from is known from its type (video or AUDIO) and, exactly, from the
packet table that `record_packets=True` keeps in `ContainerInfo.packets` (sequence -> stream index,
pts, dts, duration, keyframe, pieces), which is what `iter_packets` and `remux` use.

Chunk types: H.264 video packets are typed from their bitstream (slice types read by `rs2fast._h264`),
other video codecs by decoding (the decoder's own pict_type); `video_types="keyframe"` is the cheap
choice (keyframe flag: I or P, no B). Audio packets are AUDIO,
attached cover pictures THUMBNAIL; other streams (subtitles, data) are skipped. Timestamps are the
packet's pts (dts when pts is missing) in nanoseconds of the stream's time base; negative values (AAC
priming, edit lists) are kept. The last chunk of a complete file has `is_final` set.

Damage is reported, never streamed quietly: a file FFmpeg cannot read as media, or whose structure
says bytes are missing (an MP4 box or a Matroska segment running past the end of the file, an MPEG-TS
file ending inside a packet), raises MediaFormatError before any chunk; a file that shrinks while it is
read raises StreamTruncated instead of ending early (PyAV on its own just stops).

Chunks are made in C (`rs2fast._packets`), a batch at a time. The parts live in private modules:
stream and packet descriptions (`_container_info`), the source and its structure checks
(`_container_source`, `_container_checks`), decode-based typing (`_decode_typing`), remuxing
(`_remux`, `_matroska`); this module is their public face.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

from rs2fast._av_base import require_av
from rs2fast._chunk import MediaChunk
from rs2fast._container_checks import FAMILY_BY_EXTENSION, SUPPORTED_FORMATS
from rs2fast._container_info import (ContainerInfo, PacketRecord, PacketTable, StreamInfo, codec_name,
                                     describe_stream)
from rs2fast._container_source import ContainerSource, error_text
from rs2fast._decode_typing import PendingPackets, TypingDecoder
from rs2fast._media_paths import CONTAINER_EXTENSIONS, is_container_path, wants_demux
from rs2fast._packets import PacketChunker
from rs2fast._remux import ContainerPacket, iter_packets, remux
from rs2fast.errors import MediaFormatError

__all__ = ["CONTAINER_EXTENSIONS", "SUPPORTED_FORMATS", "VIDEO_TYPES", "ContainerInfo", "ContainerPacket",
           "ContainerReader", "PacketRecord", "PacketTable", "StreamInfo", "demux_chunks",
           "is_container_path", "iter_packets", "probe", "remux", "wants_demux"]

log = logging.getLogger("rs2fast")

VIDEO_TYPES = ("auto", "bitstream", "decode", "keyframe")


class ContainerReader:
    """Demuxes one container into batches of MediaChunks (see the module docstring for the rules).

    `source` is a path, a bytes-like object or a readable binary file object. Opening and checking
    happen here, so a missing file (FileNotFoundError), a non-media or damaged file
    (MediaFormatError) or a missing PyAV (CodecUnavailable) fail at construction. Iterating yields
    lists of up to `batch_size` chunks; `checksum` ("crc32c", "sha256" or None) is computed per chunk.
    `video_types`: "auto" (bitstream for H.264, decode for other codecs), "bitstream", "decode" or
    "keyframe". `record_packets=True` keeps the packet table that `remux` needs. A packet the demuxer
    marks corrupt (lost transport packets, a cut-off sample) raises MediaFormatError unless
    `keep_corrupt=True`. `container_format` forces an FFmpeg demuxer instead of probing. A reader is
    iterated once, by one consumer; close it (or use `with`) to release the file early.
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
        self._source: Optional[ContainerSource] = None
        self._container: Any = None
        self._iterated = False
        try:
            self._source = ContainerSource(source)
            self._open(container_format, video_types, record_packets)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "ContainerReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._container is None else "reading" if self._iterated else "open"
        info = getattr(self, "_info", None)
        what = f"{info.format_name}, {len(info.streams)} streams, " if info is not None else ""
        name = self._source.name if self._source is not None else "?"
        return f"<ContainerReader {name!r} ({what}{state}) stream_id={self.stream_id!r}>"

    def close(self) -> None:
        """Close the container and the file (idempotent)."""
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:
                pass
        if self._source is not None:
            self._source.close()

    @property
    def info(self) -> ContainerInfo:
        """The container's description; counts and `complete` are filled as batches are read."""
        return self._info

    def chunks(self) -> Iterator[MediaChunk]:
        """The chunks one by one (the batches, flattened)."""
        for batch in self:
            yield from batch

    # --- opening ------------------------------------------------------------------------------------

    def _open(self, container_format, video_types, record_packets) -> None:
        av = self._av
        source = self._source
        assert source is not None
        name = source.name
        if source.size == 0:
            raise MediaFormatError(f"{name}: empty file, not a media container")
        expected = FAMILY_BY_EXTENSION.get(os.path.splitext(str(name))[1].lower())
        header = source.header()
        try:
            container = source.open_container(av, container_format)
        except av.FFmpegError as error:
            raise MediaFormatError(f"{name}: not a readable media container ({error_text(error)})") from None
        self._container = container
        family = container.format.name
        if family not in SUPPORTED_FORMATS and container_format is None:
            raise MediaFormatError(f"{name}: not a media container (FFmpeg reads it as {family!r})")
        if expected is not None and family != expected:
            log.debug("rs2fast: %s has a %s extension but holds %s", name, expected, family)
        source.check_structure(family, header)
        streams, skipped, selected = [], [], []
        for stream in container.streams:
            info = describe_stream(av, stream, video_types, str(name))
            if info is None:
                skipped.append((stream.index, stream.type, codec_name(stream)))
                continue
            streams.append(info)
            selected.append(stream)
        if not streams:
            raise MediaFormatError(f"{name}: the container has no audio or video stream")
        duration = container.duration
        self._info = ContainerInfo(
            source=name, format_name=family, size=source.size,
            duration_ns=None if duration is None else duration * 1000,   # AV_TIME_BASE is 1 us
            streams=tuple(streams), skipped_streams=tuple(skipped),
            packets=PacketTable(self.start_sequence) if record_packets else None,
            packets_per_stream={s.index: 0 for s in streams})
        self._selected = selected

    # --- reading ------------------------------------------------------------------------------------

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

    def _chunker(self) -> Tuple[PacketChunker, Dict[int, TypingDecoder]]:
        """The chunk builder for the demuxed streams, and a decoder per stream typed by decoding."""
        info = self._info
        plans: list = [None] * (max(s.index for s in info.streams) + 1)
        decoders = {}
        for stream, desc in zip(self._selected, info.streams):
            plans[desc.index] = (desc.typing, desc.time_base.numerator * 1_000_000_000,
                                 desc.time_base.denominator, desc.framing, desc.length_size)
            if desc.typing == "decode":
                decoders[desc.index] = TypingDecoder(stream, desc)
        table = info.packets
        chunker = PacketChunker(self.stream_id, str(info.source), self.chunk_size, self.checksum,
                                self.start_sequence, plans, None if table is None else table.rows,
                                self.start_sequence, keep_corrupt=self.keep_corrupt,
                                check_truncated=self._check_truncated)
        return chunker, decoders

    def _demux(self) -> Iterator[List[MediaChunk]]:
        info = self._info
        chunker, decoders = self._chunker()
        demux = self._container.demux(*self._selected)
        batch: List[MediaChunk] = []
        loop = (self._decoding_loop(chunker, demux, batch, decoders) if decoders
                else self._typed_loop(chunker, demux, batch))
        try:
            yield from loop
        except self._av.FFmpegError as error:
            self._check_truncated()
            raise MediaFormatError(f"{info.source}: damaged container ({error_text(error)})",
                                   stream_id=self.stream_id, sequence_number=chunker.sequence) from None
        finally:
            info.packets_read += chunker.packets_read
            info.bytes_read += chunker.bytes_read
            for index, count in enumerate(chunker.packets_per_stream()):
                if index in info.packets_per_stream:
                    info.packets_per_stream[index] += count
        self._check_truncated()
        if batch:
            batch[-1] = batch[-1].replace(is_final=True)
        info.chunks_made = chunker.sequence - self.start_sequence
        info.complete = True
        if batch:
            yield batch

    def _typed_loop(self, chunker: PacketChunker, demux, batch: list) -> Iterator[List[MediaChunk]]:
        """Every packet's type is known at once (bitstream, keyframe flag, fixed): the chunker runs
        whole batches in C."""
        ended = False
        while not ended:
            ended = chunker.fill(demux, batch, self.batch_size)
            yield from self._full_batches(batch)

    def _decoding_loop(self, chunker: PacketChunker, demux, batch: list,
                       decoders: dict) -> Iterator[List[MediaChunk]]:
        """Some video stream is typed by decoding: chunks wait in demux order until the decoder has
        returned the picture of every earlier video packet."""
        pending = PendingPackets()
        for packet in demux:
            entry = chunker.read(packet)
            if entry is None:
                continue
            pending.add(entry)
            decoder = decoders.get(entry[1])
            if decoder is not None:
                decoder.feed(packet, pending, self.stream_id)
            chunker.emit(batch, pending.ready())
            yield from self._full_batches(batch)
        for decoder in decoders.values():
            decoder.finish(pending, self.stream_id)
        pending.resolve_all()
        chunker.emit(batch, pending.ready())

    def _full_batches(self, batch: list) -> Iterator[List[MediaChunk]]:
        """Cut `batch_size` chunks off the front while more than that wait (one chunk always stays
        back, to be marked final at the end)."""
        size = self.batch_size
        while len(batch) > size:
            out = batch[:size]
            del batch[:size]
            yield out

    def _check_truncated(self) -> None:
        if self._source is not None:
            self._source.check_truncated(self.stream_id)


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


def _int_arg(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value
