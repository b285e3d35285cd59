"""MediaCodec: a lossless packetiser that turns raw frames into checksummed, typed, numbered chunks.

RS2's codec was a simulation whose decode did not invert its encode. Ours returns exactly the bytes it
was given: VIDEO and AUDIO payloads are carried as they are (zero-copy for `bytes`), MIXED payloads get
an 8-byte header (video length, audio length; u32 little-endian) so decode splits them back. Real
H.264/AAC work belongs to an optional extra; this codec is for already-encoded or raw byte payloads.
Already-encoded H.264 input (`EncodingConfig.h264_framing` set) is typed from its bitstream: each
frame is one access unit, classified I/P/B/METADATA by `rs2fast._h264.classify_access_unit`.
"""
from __future__ import annotations

import copy
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from typing import AsyncIterable, AsyncIterator, Iterable, Iterator, Optional, Union

from rs2fast._chunk import MediaChunk, checksum_hex
from rs2fast._h264 import FRAMINGS as H264_FRAMINGS, LENGTH_SIZES as H264_LENGTH_SIZES
from rs2fast._h264 import classify_access_unit
from rs2fast.errors import ChecksumMismatch, CodecError, InvalidData, MediaFormatError, UnsupportedFormat
from rs2fast.types import ChunkType, MediaType, QualityLevel, RawMediaData

CHECKSUMS = ("crc32c", "sha256", None)
_MIXED_HEADER = struct.Struct("<II")


@dataclass(frozen=True)
class EncodingConfig:
    """Codec settings. Defaults follow the seed: 2 Mbps video, 128 kbps audio, h264/aac, 30 fps, GOP 60.

    `video_codec=None` makes an audio-only codec (video input is refused); `checksum` is "crc32c"
    (default, fast), "sha256" (RS2-compatible) or None; frames above `max_chunk_size` bytes are refused.
    `h264_framing` ("annexb" or "avcc", needs `video_codec="h264"`) says video frames are H.264 access
    units in that framing, typed from their bitstream; None (default) means they are not H.264
    bitstream and the GOP rule types them. `h264_length_size` is the AVCC length-prefix size (1, 2, 4).
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

    frames_encoded: int = 0
    frames_decoded: int = 0
    bytes_processed: int = 0
    encoding_time_ms: float = 0.0
    average_compression_ratio: float = 0.0
    error_count: int = 0


@dataclass
class _SharedState:
    """What copies of one codec share: statistics, per-stream counters and the lock over both."""

    stats: CodecStats = field(default_factory=CodecStats)
    next_sequence: dict = field(default_factory=dict)
    stream_media: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MediaCodec:
    """Encodes raw frames into MediaChunks and decodes chunks back to the exact same bytes.

    Sequence numbers are per stream (0, 1, 2, ...). The chunk type is the caller's hint when
    `RawMediaData.chunk_type` is set; otherwise, for H.264 input (`config.h264_framing` set), the
    type read from the access unit's bitstream (a damaged unit raises MediaFormatError, counted);
    otherwise VIDEO_I_FRAME at every `keyframe_interval`-th video frame (P-frames between) and AUDIO
    for audio. Copies (`copy.copy`, `clone()`) share statistics and sequence counters, as RS2's clones
    share statistics. Thread-safe.
    """

    def __init__(self, config: Optional[EncodingConfig] = None) -> None:
        self._config = config if config is not None else EncodingConfig()
        if not isinstance(self._config, EncodingConfig):
            raise TypeError(f"config must be an EncodingConfig, not {type(config).__name__}")
        self._shared = _SharedState()

    @property
    def config(self) -> EncodingConfig:
        """The codec's settings."""
        return self._config

    @property
    def quality(self) -> QualityLevel:
        """Current quality level (the adaptive preset changes it under pressure)."""
        return self._config.quality

    def set_quality(self, quality: QualityLevel) -> QualityLevel:
        """Switch to `quality` (bitrates follow the level); returns the previous level."""
        quality = QualityLevel(quality)
        old = self._config.quality
        self._config = replace(self._config, quality=quality, video_bitrate=quality.video_bitrate,
                               audio_bitrate=quality.audio_bitrate)
        return old

    def clone(self) -> "MediaCodec":
        """A copy sharing this codec's statistics and sequence counters."""
        return copy.copy(self)

    # --- encoding --------------------------------------------------------------------------------

    def encode_single_frame(self, raw: RawMediaData, stream_id: str) -> MediaChunk:
        """Encode one frame into the next chunk of `stream_id`; failures raise CodecError (counted)."""
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
        elapsed_ms = (time.perf_counter_ns() - started) / 1e6
        with self._shared.lock:
            stats = self._shared.stats
            stats.frames_encoded += 1
            stats.bytes_processed += len(raw.data)
            stats.encoding_time_ms += elapsed_ms
            ratio = len(raw.data) / len(payload)
            stats.average_compression_ratio += (ratio - stats.average_compression_ratio) / stats.frames_encoded
        return chunk

    def encode_stream(self, frames: Union[Iterable[RawMediaData], AsyncIterable[RawMediaData]],
                      stream_id: str, *, return_exceptions: bool = False
                      ) -> Union[Iterator[MediaChunk], AsyncIterator[MediaChunk]]:
        """Encode frames one by one, in order. An async iterable gives an async iterator.

        A frame that fails raises its CodecError, or with `return_exceptions=True` is yielded in place
        as the exception object and the stream goes on (RS2 yielded Result items).
        """
        if hasattr(frames, "__aiter__"):
            return self._aencode(frames, stream_id, return_exceptions)
        return self._encode(iter(frames), stream_id, return_exceptions)

    def _encode(self, frames, stream_id, return_exceptions):
        for raw in frames:
            try:
                yield self.encode_single_frame(raw, stream_id)
            except CodecError as error:
                if not return_exceptions:
                    raise
                yield error

    async def _aencode(self, frames, stream_id, return_exceptions):
        async for raw in frames:
            try:
                yield self.encode_single_frame(raw, stream_id)
            except CodecError as error:
                if not return_exceptions:
                    raise
                yield error

    def _packetise(self, raw: RawMediaData, stream_id: str):
        if not isinstance(raw, RawMediaData):
            raise InvalidData(f"expected RawMediaData, got {type(raw).__name__}", stream_id=stream_id)
        media = raw.media_type
        if media != MediaType.AUDIO and self._config.video_codec is None:
            raise UnsupportedFormat(f"{media.name.lower()} input given to an audio-only codec",
                                    stream_id=stream_id)
        if media == MediaType.AUDIO and self._config.audio_codec is None:
            raise UnsupportedFormat("audio input given to a video-only codec", stream_id=stream_id)
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
        encoded the stream as, else AUDIO for audio chunks and VIDEO for the rest.
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
        raw = RawMediaData(bytes(data), MediaType(media_type), chunk.timestamp, metadata,
                           chunk.chunk_type)
        with self._shared.lock:
            self._shared.stats.frames_decoded += 1
            self._shared.stats.bytes_processed += len(raw.data)
        return raw

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
    """Ready-made codecs with bitrates from QualityLevel (RS2's presets, made consistent)."""

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
