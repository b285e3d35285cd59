"""MediaCodec: turns raw frames into checksummed, typed, numbered chunks and back.

The default backend, the packetiser, returns exactly the bytes it was given: VIDEO and AUDIO payloads
are carried as they are (zero-copy for `bytes`), MIXED payloads get an 8-byte header (video length,
audio length; u32 little-endian) so decode splits them back. It is for already-encoded or raw byte
payloads. Already-encoded H.264 input (`EncodingConfig.h264_framing` set) is typed from its bitstream:
each frame is one access unit, classified I/P/B/METADATA by `rs2fast._h264.classify_access_unit`.
The "av" backend (`EncodingConfig(backend="av")`, the optional `av` extra) encodes raw pictures and
PCM to real H.264 and AAC with PyAV and decodes them back (see rs2fast.av_codec.AvCodecBackend).

Sync and async follow one rule: methods that must await are `a`-prefixed. `encode_stream` takes a
plain iterable and returns a plain iterator; `aencode_stream` takes a plain or an async iterable and
returns an async iterator.
"""
from __future__ import annotations

import copy
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterable, AsyncIterator, Iterable, Iterator, List, Optional, Union

from rs2fast._chunk import MediaChunk, checksum_hex
from rs2fast._h264 import FRAMINGS as H264_FRAMINGS, LENGTH_SIZES as H264_LENGTH_SIZES
from rs2fast._h264 import classify_access_unit
from rs2fast.errors import (ChecksumMismatch, CodecError, DecodingFailed, EncodingFailed, InvalidData,
                            MediaFormatError, UnsupportedFormat)
from rs2fast.types import ChunkType, MediaType, QualityLevel, RawMediaData

CHECKSUMS = ("crc32c", "sha256", None)
BACKENDS = ("packetiser", "av")
_MIXED_HEADER = struct.Struct("<II")


@dataclass(frozen=True)
class EncodingConfig:
    """Codec settings: 2 Mbps video, 128 kbps audio, h264/aac, 30 fps and a keyframe every 60 frames
    by default (RS2's defaults).

    `video_codec=None` makes an audio-only codec (video input is refused); `checksum` is "crc32c"
    (default, fast), "sha256" (RS2-compatible) or None; frames above `max_chunk_size` bytes are refused
    (with the "av" backend: encoded packets above it). `h264_framing` ("annexb" or "avcc", needs
    `video_codec="h264"`) says video frames are H.264 access units in that framing, typed from their
    bitstream; None (default) means they are not H.264 bitstream and the GOP rule types them.
    `h264_length_size` is the AVCC length-prefix size (1, 2, 4). `backend` is "packetiser" (default:
    lossless, bytes in = bytes out) or "av" (real encoding with PyAV; CodecUnavailable here when the
    `av` extra is not installed).
    """

    video_bitrate: int = 2_000_000
    audio_bitrate: int = 128_000
    video_codec: Optional[str] = "h264"
    audio_codec: Optional[str] = "aac"
    frame_rate: float = 30.0
    keyframe_interval: int = 60
    quality: QualityLevel = QualityLevel.MEDIUM
    checksum: Optional[str] = "crc32c"
    max_chunk_size: int = 1_048_576
    h264_framing: Optional[str] = None
    h264_length_size: int = 4
    backend: str = "packetiser"

    def __post_init__(self) -> None:
        for name in ("video_bitrate", "audio_bitrate", "keyframe_interval", "max_chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if isinstance(self.frame_rate, bool) or not isinstance(self.frame_rate, (int, float)):
            raise TypeError(f"frame_rate must be a number, not {type(self.frame_rate).__name__}")
        if not 0 < self.frame_rate <= 1000:
            raise ValueError(f"frame_rate must be in (0, 1000], got {self.frame_rate}")
        if self.checksum not in CHECKSUMS:
            raise ValueError(f"checksum must be one of {CHECKSUMS}, got {self.checksum!r}")
        if self.video_codec is None and self.audio_codec is None:
            raise ValueError("a codec needs a video_codec, an audio_codec or both")
        object.__setattr__(self, "quality", QualityLevel(self.quality))
        if self.h264_framing is not None:
            if not isinstance(self.h264_framing, str):
                raise TypeError(f"h264_framing must be a str or None, not {type(self.h264_framing).__name__}")
            if self.h264_framing not in H264_FRAMINGS:
                raise ValueError(f"h264_framing must be one of {H264_FRAMINGS} or None, "
                                 f"got {self.h264_framing!r}")
            if self.video_codec != "h264":
                raise ValueError(f"h264_framing needs video_codec='h264', not {self.video_codec!r}")
        size = self.h264_length_size
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"h264_length_size must be an int, not {type(size).__name__}")
        if size not in H264_LENGTH_SIZES:
            raise ValueError(f"h264_length_size must be one of {H264_LENGTH_SIZES}, got {size}")
        if not isinstance(self.backend, str):
            raise TypeError(f"backend must be a str, not {type(self.backend).__name__}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.backend == "av":
            if self.h264_framing is not None:
                raise ValueError("h264_framing describes already-encoded input; backend='av' encodes "
                                 "raw pictures")
            from rs2fast._av_base import require_av

            require_av()

    @property
    def types_h264_bitstream(self) -> bool:
        """True when video frames are H.264 access units typed from their bitstream."""
        return self.h264_framing is not None and self.video_codec == "h264"

    @property
    def frame_duration_ns(self) -> int:
        """Nanoseconds between frames at `frame_rate`."""
        return round(1e9 / self.frame_rate)


@dataclass
class CodecStats:
    """Codec counters (RS2's CodecStats); `encoding_time_ms` is a float, measured monotonically."""

    frames_encoded: int = 0                  # frames encoded into chunks
    frames_decoded: int = 0                  # chunks decoded back into frames
    bytes_processed: int = 0                 # raw bytes encoded plus raw bytes decoded
    encoding_time_ms: float = 0.0            # time spent encoding
    average_compression_ratio: float = 0.0   # mean of raw / encoded size over encoded frames
    error_count: int = 0                     # encode or decode calls that failed


@dataclass
class _SharedState:
    """What copies of one codec share: statistics, per-stream counters, the "av" backend's encoders
    and decoders, and the lock over the counters."""

    stats: CodecStats = field(default_factory=CodecStats)
    next_sequence: dict = field(default_factory=dict)
    stream_media: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    backend: Any = None


class MediaCodec:
    """Encodes raw frames into MediaChunks and decodes chunks back.

    Sequence numbers are per stream (0, 1, 2, ...). With the packetiser backend (default) decoding
    returns exactly the bytes that were encoded, and the chunk type is the caller's hint when
    `RawMediaData.chunk_type` is set; otherwise, for H.264 input (`config.h264_framing` set), the
    type read from the access unit's bitstream (a damaged unit raises MediaFormatError, counted);
    otherwise VIDEO_I_FRAME at every `keyframe_interval`-th video frame (P-frames between) and AUDIO
    for audio. With `backend="av"` frames are encoded to H.264/AAC and typed by the encoder; a frame
    may give no packet yet (AAC frames are 1024 samples) or several: `encode_frame` and `flush`
    return every chunk. Copies (`copy.copy`, `clone()`) share statistics, sequence counters and
    encoders, as RS2's clones share statistics. Thread-safe.
    """

    def __init__(self, config: Optional[EncodingConfig] = None) -> None:
        self._config = config if config is not None else EncodingConfig()
        if not isinstance(self._config, EncodingConfig):
            raise TypeError(f"config must be an EncodingConfig, not {type(config).__name__}")
        self._shared = _SharedState()
        if self._config.backend == "av":
            from rs2fast.av_codec import AvCodecBackend

            self._shared.backend = AvCodecBackend(self._config)

    def __repr__(self) -> str:
        config = self._config
        with self._shared.lock:
            streams = len(self._shared.next_sequence)
            stats = self._shared.stats
            counts = (f"frames_encoded={stats.frames_encoded} frames_decoded={stats.frames_decoded} "
                      f"errors={stats.error_count}")
        return (f"<MediaCodec backend={config.backend!r} video={config.video_codec!r} "
                f"audio={config.audio_codec!r} quality={config.quality.name} "
                f"checksum={config.checksum!r} streams={streams} {counts}>")

    @property
    def config(self) -> EncodingConfig:
        """The codec's settings."""
        return self._config

    @property
    def quality(self) -> QualityLevel:
        """Current quality level (the adaptive preset changes it under pressure)."""
        return self._config.quality

    def set_quality(self, quality: QualityLevel) -> QualityLevel:
        """Switch to `quality` (bitrates follow the level); returns the previous level. With the "av"
        backend, streams that already have an encoder keep its settings; new streams get the level."""
        quality = QualityLevel(quality)
        old = self._config.quality
        self._config = replace(self._config, quality=quality, video_bitrate=quality.video_bitrate,
                               audio_bitrate=quality.audio_bitrate)
        if self._shared.backend is not None:
            self._shared.backend.config = self._config
        return old

    def clone(self) -> "MediaCodec":
        """A copy sharing this codec's statistics and sequence counters."""
        return copy.copy(self)

    # --- encoding --------------------------------------------------------------------------------

    def encode_single_frame(self, raw: RawMediaData, stream_id: str) -> MediaChunk:
        """Encode one frame into the next chunk of `stream_id`; failures raise CodecError (counted).

        With the "av" backend this is for video, whose encoders run in low-latency mode (one packet
        per picture); audio raises UnsupportedFormat (use `encode_frame` or `encode_stream`).
        """
        if self._shared.backend is None:
            return self._packetise_frame(raw, stream_id)
        if isinstance(raw, RawMediaData) and raw.media_type == MediaType.AUDIO:
            self._count_error()
            raise UnsupportedFormat("AAC packets do not line up with PCM blocks: encode audio with "
                                    "encode_frame() or encode_stream()", stream_id=stream_id)
        chunks = self.encode_frame(raw, stream_id)
        if len(chunks) != 1:
            self._count_error()
            raise EncodingFailed(f"the encoder gave {len(chunks)} packets for one frame; use "
                                 f"encode_frame(), which returns them all", stream_id=stream_id)
        return chunks[0]

    def encode_frame(self, raw: RawMediaData, stream_id: str) -> List[MediaChunk]:
        """Encode one frame; returns the chunks it completed (always one with the packetiser; with
        the "av" backend none, one or several). Failures raise CodecError (counted)."""
        backend = self._shared.backend
        if backend is None:
            return [self._packetise_frame(raw, stream_id)]
        started = time.perf_counter_ns()
        try:
            if not isinstance(raw, RawMediaData):
                raise InvalidData(f"expected RawMediaData, got {type(raw).__name__}", stream_id=stream_id)
            self._check_media(raw.media_type, stream_id)
            if not raw.data:
                raise InvalidData(f"Empty {raw.media_type.name.lower()} data", stream_id=stream_id)
            packets = backend.encode(raw, stream_id)
        except CodecError as error:
            self._count_error()
            if error.stream_id is None:
                error.stream_id = stream_id
            raise
        chunks = self._packet_chunks(packets, stream_id, raw.media_type)
        self._count_frame(len(raw.data), sum(len(c) for c in chunks), started)
        return chunks

    def flush(self, stream_id: str) -> List[MediaChunk]:
        """End of `stream_id`: the chunks its encoders still held (none with the packetiser). The
        stream's encoders are closed; a later frame starts new ones."""
        backend = self._shared.backend
        if backend is None:
            return []
        with self._shared.lock:
            media = self._shared.stream_media.get(stream_id, MediaType.VIDEO)
        try:
            packets = backend.flush(stream_id)
        except CodecError:
            self._count_error()
            raise
        return self._packet_chunks(packets, stream_id, media)

    def encode_stream(self, frames: Iterable[RawMediaData], stream_id: str, *,
                      return_exceptions: bool = False) -> Iterator[MediaChunk]:
        """Encode frames one by one, in order, then flush the stream: a plain iterator.

        Takes a plain iterable (an async one raises TypeError: use `aencode_stream`). A frame that
        fails raises its CodecError, or with `return_exceptions=True` is yielded in place as the
        exception object and the stream goes on (RS2 yielded Result items).
        """
        if not hasattr(frames, "__iter__"):
            if hasattr(frames, "__aiter__"):
                raise TypeError("encode_stream() takes a plain iterable; use aencode_stream() for "
                                f"the async iterable {type(frames).__name__}")
            raise TypeError(f"frames must be an iterable of RawMediaData, not {type(frames).__name__}")
        return self._encode(iter(frames), stream_id, return_exceptions)

    def aencode_stream(self, frames: Union[Iterable[RawMediaData], AsyncIterable[RawMediaData]],
                       stream_id: str, *, return_exceptions: bool = False) -> AsyncIterator[MediaChunk]:
        """`encode_stream` for asyncio code: takes an async or a plain iterable and returns an async
        iterator (`async for chunk in codec.aencode_stream(frames, "cam")`)."""
        if hasattr(frames, "__aiter__"):
            return self._aencode(frames.__aiter__(), stream_id, return_exceptions)
        if hasattr(frames, "__iter__"):
            return self._aencode(_async_iter(iter(frames)), stream_id, return_exceptions)
        raise TypeError(f"frames must be an iterable or an async iterable of RawMediaData, "
                        f"not {type(frames).__name__}")

    def _encode(self, frames: Iterator[RawMediaData], stream_id: str,
                return_exceptions: bool) -> Iterator[MediaChunk]:
        for raw in frames:
            yield from self._stream_items(raw, stream_id, return_exceptions)
        yield from self.flush(stream_id)

    async def _aencode(self, frames: AsyncIterator[RawMediaData], stream_id: str,
                       return_exceptions: bool) -> AsyncIterator[MediaChunk]:
        async for raw in frames:
            for item in self._stream_items(raw, stream_id, return_exceptions):
                yield item
        for chunk in self.flush(stream_id):
            yield chunk

    def _stream_items(self, raw: RawMediaData, stream_id: str, return_exceptions: bool) -> list:
        """What a stream yields for one frame: its chunks, or with `return_exceptions` its error."""
        try:
            return self.encode_frame(raw, stream_id)
        except CodecError as error:
            if not return_exceptions:
                raise
            return [error]

    def _packetise_frame(self, raw: RawMediaData, stream_id: str) -> MediaChunk:
        started = time.perf_counter_ns()
        try:
            payload, chunk_type, typed = self._packetise(raw, stream_id)
        except CodecError:
            self._count_error()
            raise
        with self._shared.lock:
            sequence = self._shared.next_sequence.get(stream_id, 0)
            if not typed and raw.media_type != MediaType.AUDIO:
                chunk_type = (ChunkType.VIDEO_I_FRAME if sequence % self._config.keyframe_interval == 0
                              else ChunkType.VIDEO_P_FRAME)
            self._shared.next_sequence[stream_id] = sequence + 1
            self._shared.stream_media[stream_id] = raw.media_type
        checksum = checksum_hex(payload, self._config.checksum) if self._config.checksum else None
        chunk = MediaChunk(stream_id, sequence, payload, chunk_type, timestamp=raw.timestamp,
                           checksum=checksum)
        self._count_frame(len(raw.data), len(payload), started)
        return chunk

    def _packet_chunks(self, packets, stream_id: str, media: MediaType) -> List[MediaChunk]:
        """Number and checksum the "av" backend's EncodedPackets as chunks of `stream_id`."""
        limit = self._config.max_chunk_size
        for packet in packets:
            if len(packet.data) > limit:
                self._count_error()
                raise InvalidData(f"encoded packet of {len(packet.data)} bytes exceeds max_chunk_size "
                                  f"{limit}", stream_id=stream_id)
        with self._shared.lock:
            first = self._shared.next_sequence.get(stream_id, 0)
            self._shared.next_sequence[stream_id] = first + len(packets)
            self._shared.stream_media[stream_id] = media
        algorithm = self._config.checksum
        return [MediaChunk(stream_id, first + index, packet.data, packet.chunk_type,
                           timestamp_ns=packet.timestamp_ns,
                           checksum=checksum_hex(packet.data, algorithm) if algorithm else None)
                for index, packet in enumerate(packets)]

    def _count_frame(self, raw_bytes: int, out_bytes: int, started: int) -> None:
        elapsed_ms = (time.perf_counter_ns() - started) / 1e6
        with self._shared.lock:
            stats = self._shared.stats
            stats.frames_encoded += 1
            stats.bytes_processed += raw_bytes
            stats.encoding_time_ms += elapsed_ms
            if out_bytes:
                ratio = raw_bytes / out_bytes
                stats.average_compression_ratio += ((ratio - stats.average_compression_ratio)
                                                    / stats.frames_encoded)

    def _check_media(self, media: MediaType, stream_id: str) -> None:
        if media != MediaType.AUDIO and self._config.video_codec is None:
            raise UnsupportedFormat(f"{media.name.lower()} input given to an audio-only codec",
                                    stream_id=stream_id)
        if media == MediaType.AUDIO and self._config.audio_codec is None:
            raise UnsupportedFormat("audio input given to a video-only codec", stream_id=stream_id)

    def _packetise(self, raw: RawMediaData, stream_id: str):
        if not isinstance(raw, RawMediaData):
            raise InvalidData(f"expected RawMediaData, got {type(raw).__name__}", stream_id=stream_id)
        media = raw.media_type
        self._check_media(media, stream_id)
        data = raw.data
        if not data:
            raise InvalidData(f"Empty {media.name.lower()} data", stream_id=stream_id)
        if media == MediaType.MIXED:
            video_bytes = _mixed_split(raw)
            data = _MIXED_HEADER.pack(video_bytes, len(data) - video_bytes) + bytes(data)
        if len(data) > self._config.max_chunk_size:
            raise InvalidData(f"frame of {len(data)} bytes exceeds max_chunk_size "
                              f"{self._config.max_chunk_size}", stream_id=stream_id)
        if raw.chunk_type is not None:
            return data, raw.chunk_type, True
        config = self._config
        if media == MediaType.VIDEO and config.types_h264_bitstream:
            try:
                chunk_type = classify_access_unit(data, config.h264_framing, config.h264_length_size)
            except MediaFormatError as error:
                raise MediaFormatError(error.text, stream_id=stream_id) from None
            return data, chunk_type, True
        return data, ChunkType.AUDIO, False

    # --- decoding --------------------------------------------------------------------------------

    def decode_chunk(self, chunk: MediaChunk, media_type: Optional[MediaType] = None) -> RawMediaData:
        """Verify the checksum, then return the frame exactly as it was encoded.

        `media_type` says how to unframe the payload; by default the type this codec (or a copy)
        encoded the stream as, else AUDIO for audio chunks and VIDEO for the rest. With the "av"
        backend the chunk is decoded: an rgb24 picture (metadata width, height, pixel_format) or s16
        PCM (metadata sample_rate, channels, sample_format); chunks of a stream are decoded in order,
        from a keyframe on.
        """
        if not isinstance(chunk, MediaChunk):
            self._count_error()
            raise InvalidData(f"expected MediaChunk, got {type(chunk).__name__}")
        where = {"stream_id": chunk.stream_id, "sequence_number": chunk.sequence_number}
        try:
            if not chunk.checksum_matches():
                raise ChecksumMismatch(**where)
        except (ChecksumMismatch, ValueError) as error:
            self._count_error()
            raise InvalidData("Checksum mismatch", **where) from error
        if media_type is None:
            with self._shared.lock:
                media_type = self._shared.stream_media.get(chunk.stream_id)
        if media_type is None:
            media_type = MediaType.AUDIO if chunk.chunk_type == ChunkType.AUDIO else MediaType.VIDEO
        if self._shared.backend is not None:
            raw = self._decode_real(chunk, MediaType(media_type), where)
        else:
            raw = self._unframe(chunk, MediaType(media_type), where)
        with self._shared.lock:
            self._shared.stats.frames_decoded += 1
            self._shared.stats.bytes_processed += len(raw.data)
        return raw

    def _decode_real(self, chunk: MediaChunk, media_type: MediaType, where: dict) -> RawMediaData:
        """Decode through the "av" backend: one picture, or the PCM of the chunk's audio frames."""
        try:
            if media_type == MediaType.MIXED:
                raise UnsupportedFormat("MIXED chunks cannot be decoded by a real codec", **where)
            frames = self._shared.backend.decode(chunk, media_type)
            if not frames:
                raise DecodingFailed("no frame came out: decode a stream's chunks in order, from a "
                                     "keyframe on", **where)
            if len(frames) > 1 and media_type != MediaType.AUDIO:
                raise DecodingFailed(f"{len(frames)} pictures came out of one chunk", **where)
        except CodecError:
            self._count_error()
            raise
        first = frames[0]
        if len(frames) == 1:
            return first
        return RawMediaData(b"".join(frame.data for frame in frames), MediaType.AUDIO, first.timestamp,
                            first.metadata, ChunkType.AUDIO)

    def _unframe(self, chunk: MediaChunk, media_type: MediaType, where: dict) -> RawMediaData:
        """The packetiser's payload back as the frame it was (MIXED: split at its header)."""
        data = chunk.data
        metadata = {}
        if media_type == MediaType.MIXED:
            if len(data) < _MIXED_HEADER.size:
                self._count_error()
                raise InvalidData("Mixed data too short", **where)
            video_bytes, audio_bytes = _MIXED_HEADER.unpack_from(data)
            if video_bytes + audio_bytes != len(data) - _MIXED_HEADER.size:
                self._count_error()
                raise InvalidData("Mixed header does not match the payload length", **where)
            data = data[_MIXED_HEADER.size:]
            metadata["video_bytes"] = str(video_bytes)
        return RawMediaData(bytes(data), media_type, chunk.timestamp, metadata, chunk.chunk_type)

    # --- statistics ------------------------------------------------------------------------------

    def get_stats(self) -> CodecStats:
        """A snapshot of the shared statistics."""
        with self._shared.lock:
            return replace(self._shared.stats)

    def reset_stats(self) -> None:
        """Zero the shared statistics (for every copy of this codec)."""
        with self._shared.lock:
            self._shared.stats = CodecStats()

    def _count_error(self) -> None:
        with self._shared.lock:
            self._shared.stats.error_count += 1


def _mixed_split(raw: RawMediaData) -> int:
    """Where the video part of a MIXED frame ends: metadata["video_bytes"], else RS2's 60 % split."""
    size = len(raw.data)
    given = raw.metadata.get("video_bytes")
    if given is None:
        return int(size * 0.6)
    try:
        video_bytes = int(given)
    except ValueError:
        raise InvalidData(f"metadata video_bytes {given!r} is not an integer") from None
    if not 0 <= video_bytes <= size:
        raise InvalidData(f"metadata video_bytes {video_bytes} is outside 0..{size}")
    return video_bytes


class CodecFactory:
    """Ready-made codecs with bitrates from QualityLevel (RS2's presets)."""

    @staticmethod
    def create_h264_codec(quality: QualityLevel = QualityLevel.MEDIUM) -> MediaCodec:
        """H.264 + AAC at the level's bitrates, a keyframe every 30 frames (RS2's preset)."""
        quality = QualityLevel(quality)
        return MediaCodec(EncodingConfig(video_bitrate=quality.video_bitrate,
                                         audio_bitrate=quality.audio_bitrate,
                                         keyframe_interval=30, quality=quality))

    @staticmethod
    def create_audio_codec(quality: QualityLevel = QualityLevel.MEDIUM) -> MediaCodec:
        """Audio only (AAC at the level's audio bitrate); video or mixed input raises UnsupportedFormat."""
        quality = QualityLevel(quality)
        return MediaCodec(EncodingConfig(audio_bitrate=quality.audio_bitrate, video_codec=None,
                                         quality=quality))

    @staticmethod
    def create_adaptive_codec() -> MediaCodec:
        """Starts at MEDIUM, GOP 60; the streaming service steps its quality with buffer pressure."""
        return MediaCodec(EncodingConfig(quality=QualityLevel.MEDIUM, keyframe_interval=60))


async def _async_iter(items: Iterator[RawMediaData]) -> AsyncIterator[RawMediaData]:
    for item in items:
        yield item
