"""Real H.264/AAC encoding and decoding through PyAV (the optional `av` extra).

Nothing here imports PyAV at module level: every entry point calls `require_av()`, which raises
`CodecUnavailable` naming the exact install command when the extra is missing.

Encoded video is H.264 in Annex-B framing with SPS/PPS repeated before every IDR frame, and encoded
audio is AAC in ADTS framing, so every keyframe chunk and every audio chunk decodes on its own (no
out-of-band extradata). Packets come out as `EncodedPacket`s: bytes, chunk type (from the encoder's
own picture type), the caller's timestamp for that frame, and the keyframe flag.

The decoders live in `rs2fast._av_decoders` and what every part shares (finding PyAV, formats,
argument checks) in `rs2fast._av_base`; this module is the public face of both.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from rs2fast._av_base import (AUDIO_SAMPLE_FORMATS, AV_INSTALL_COMMAND, PICT_TYPE_CHUNK, VIDEO_PIXEL_FORMATS,
                              av_available, checked_stamp, positive_int, require_av)
from rs2fast._av_decoders import AvAudioDecoder, AvVideoDecoder, DecodedAudio, DecodedVideoFrame
from rs2fast._enums import ChunkType, MediaType, QualityLevel
from rs2fast._h264 import classify_access_unit
from rs2fast.errors import EncodingFailed, InvalidData, UnsupportedFormat

__all__ = ["AUDIO_SAMPLE_FORMATS", "AV_INSTALL_COMMAND", "PICT_TYPE_CHUNK", "VIDEO_PIXEL_FORMATS",
           "AvAudioDecoder", "AvAudioEncoder", "AvCodecBackend", "AvPreset", "AvVideoDecoder", "AvVideoEncoder",
           "DecodedAudio", "DecodedVideoFrame", "EncodedPacket", "adts_header", "av_available", "generate_clip",
           "preset_for", "require_av"]

# Encoder implementations tried in order for each codec name EncodingConfig may carry.
_ENCODERS = {
    "h264": ("libx264", "h264"),
    "libx264": ("libx264",),
    "hevc": ("libx265", "hevc"),
    "vp9": ("libvpx-vp9",),
    "vp8": ("libvpx",),
    "av1": ("libaom-av1", "libsvtav1", "av1"),
    "aac": ("aac",),
    "opus": ("libopus", "opus"),
    "flac": ("flac",),
}

# MPEG-4 audio sampling_frequency_index table (ISO/IEC 14496-3), for ADTS headers.
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


# --- results ----------------------------------------------------------------------------------------

class EncodedPacket(NamedTuple):
    """One compressed packet: its bytes, chunk type, the source frame's timestamp (ns), duration (ns)
    and whether it is a keyframe (decodable on its own)."""

    data: bytes
    chunk_type: ChunkType
    timestamp_ns: int
    duration_ns: int
    keyframe: bool


@dataclass(frozen=True)
class AvPreset:
    """Real encoder settings for a QualityLevel: resolution, video and audio bitrate, audio format."""

    quality: QualityLevel
    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int
    sample_rate: int = 48_000
    channels: int = 2


def preset_for(quality: QualityLevel) -> AvPreset:
    """The AvPreset of `quality`: resolution from `.resolution`, bitrates from `.video_bitrate` and
    `.audio_bitrate` (240p/500k/64k, 480p/1.5M/128k, 720p/5M/192k, 1080p/15M/320k)."""
    try:
        level = QualityLevel(quality)
    except ValueError:
        raise ValueError(f"quality must be a QualityLevel, got {quality!r}") from None
    width, height = level.resolution
    return AvPreset(level, width, height, level.video_bitrate, level.audio_bitrate)


# --- helpers -----------------------------------------------------------------------------------------

def _encoding_config(config):
    """`config` checked to be an EncodingConfig (a default one for None)."""
    from rs2fast.codec import EncodingConfig

    if config is None:
        return EncodingConfig()
    if not isinstance(config, EncodingConfig):
        raise TypeError(f"config must be an EncodingConfig, not {type(config).__name__}")
    return config


def _open_encoder(av, names: Tuple[str, ...], requested: str):
    for name in names:
        try:
            return av.CodecContext.create(name, "w")
        except Exception:       # unknown here (FFmpeg build without it): try the next one
            continue
    raise UnsupportedFormat(f"no encoder for {requested!r} in this FFmpeg build (tried {', '.join(names)})")


def _rate(frame_rate) -> Fraction:
    return Fraction(frame_rate).limit_denominator(1001 * 1000)


def _sidedata_pict_type(packet) -> int:
    """FFmpeg's encoder statistics side data carries the picture type in byte 4 (0 if absent)."""
    get = getattr(packet, "get_sidedata", None)
    if get is None:
        return 0
    try:
        side = get("quality_stats")
    except Exception:
        return 0
    if side is None:
        return 0
    try:
        raw = bytes(side)
    except TypeError:
        return 0
    return raw[4] if len(raw) > 4 else 0


def _asc_fields(extradata: Optional[bytes]) -> Optional[Tuple[int, int, int]]:
    """(object type, sampling index, channel config) of an AAC AudioSpecificConfig when ADTS can
    express it (object types 1..4, a tabled rate, channel config 1..7), else None."""
    if not extradata or len(extradata) < 2:
        return None
    bits = int.from_bytes(bytes(extradata[:2]), "big")
    object_type = bits >> 11
    rate_index = (bits >> 7) & 0x0F
    channels = (bits >> 3) & 0x0F
    if not 1 <= object_type <= 4 or rate_index >= len(_AAC_RATES) or not 1 <= channels <= 7:
        return None
    return object_type, rate_index, channels


def adts_header(payload_length: int, object_type: int, rate_index: int, channel_config: int) -> bytes:
    """The 7-byte ADTS header (no CRC) for one raw AAC frame of `payload_length` bytes."""
    length = payload_length + 7
    if length >= 1 << 13:
        raise InvalidData(f"AAC frame of {payload_length} bytes is too long for an ADTS header")
    return bytes((0xFF, 0xF1,
                  ((object_type - 1) << 6) | (rate_index << 2) | (channel_config >> 2),
                  ((channel_config & 3) << 6) | (length >> 11),
                  (length >> 3) & 0xFF,
                  ((length & 7) << 5) | 0x1F,
                  0xFC))


def _numpy():
    import numpy
    return numpy


# --- video encoder -----------------------------------------------------------------------------------

def _drain(context, codec_name: str) -> list:
    """Everything an encoder still holds (end of stream), as raw PyAV packets."""
    try:
        return context.encode(None)
    except Exception as error:
        raise EncodingFailed(f"{codec_name} could not flush: {error}") from error


class AvVideoEncoder:
    """Encodes raw pictures to H.264 (or another FFmpeg video encoder) with PyAV.

    Settings come from `config` (an EncodingConfig, default one if None): `video_codec`,
    `video_bitrate` (bits/s, ABR), `frame_rate` and `keyframe_interval` (an IDR exactly every that
    many frames; scene-cut keyframes are off so the GOP is regular). Width and height default to the
    config's QualityLevel resolution. `pixel_format` says how raw input is laid out: "rgb24" / "bgr24"
    (HxWx3 uint8 arrays or W*H*3 bytes) or "yuv420p" (planar bytes of W*H*3/2, or an (H*3/2)xW array).
    `low_latency=True` uses x264's zero-latency tuning: no B-frames and exactly one packet per frame.
    Otherwise `b_frames` B-frames may follow each reference frame and packets come out with a delay;
    call `flush()` at the end. Thread-safe (one lock per encoder).
    """

    def __init__(self, config=None, width: Optional[int] = None, height: Optional[int] = None, *,
                 pixel_format: str = "rgb24", low_latency: bool = False, b_frames: int = 2,
                 preset: str = "veryfast") -> None:
        av = require_av()
        config = _encoding_config(config)
        if config.video_codec is None:
            raise UnsupportedFormat("this EncodingConfig has no video_codec (an audio-only codec)")
        default_w, default_h = config.quality.resolution
        width = default_w if width is None else positive_int(width, "width")
        height = default_h if height is None else positive_int(height, "height")
        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even for 4:2:0 video, got {width}x{height}")
        if pixel_format not in VIDEO_PIXEL_FORMATS:
            raise ValueError(f"pixel_format must be one of {VIDEO_PIXEL_FORMATS}, got {pixel_format!r}")
        if isinstance(b_frames, bool) or not isinstance(b_frames, int) or not 0 <= b_frames <= 16:
            raise ValueError(f"b_frames must be an int in 0..16, got {b_frames!r}")
        self.config = config
        self.width = width
        self.height = height
        self.pixel_format = pixel_format
        self.low_latency = bool(low_latency)
        self._av = av
        self._lock = threading.Lock()
        rate = _rate(config.frame_rate)
        context = _open_encoder(av, _ENCODERS.get(config.video_codec, (config.video_codec,)),
                                config.video_codec)
        if context.type != "video":
            raise UnsupportedFormat(f"{config.video_codec!r} is not a video codec")
        context.width = width
        context.height = height
        context.pix_fmt = "yuv420p"
        context.time_base = 1 / rate
        context.framerate = rate
        context.bit_rate = config.video_bitrate
        context.gop_size = config.keyframe_interval
        options = {}
        self.codec_name = context.codec.name
        b_frames = 0 if self.low_latency else b_frames
        if self.codec_name == "libx264":
            # keyframes exactly every keyframe_interval frames, SPS/PPS before each IDR (Annex B)
            interval = config.keyframe_interval
            options = {"preset": preset, "bf": str(b_frames),
                       "x264-params": f"keyint={interval}:min-keyint={interval}:scenecut=0:"
                                      f"repeat-headers=1"}
            if self.low_latency:
                options["tune"] = "zerolatency"
        else:
            context.max_b_frames = b_frames
        context.options = options
        try:
            context.open()
        except Exception as error:
            raise EncodingFailed(f"cannot open the {self.codec_name} encoder: {error}") from error
        self._context = context
        self._frame_ns = config.frame_duration_ns
        self._next_index = 0
        self._stamps: Dict[int, int] = {}
        self._h264 = context.name == "h264"
        self._closed = False

    @property
    def frames_in(self) -> int:
        """Pictures accepted so far."""
        return self._next_index

    def encode(self, frame, timestamp_ns: Optional[int] = None) -> List[EncodedPacket]:
        """Encode one picture; returns the packets that became ready (none while the encoder looks
        ahead, then one per picture). `timestamp_ns` defaults to frame index x frame duration."""
        with self._lock:
            self._check_open()
            picture = self._picture(frame)
            index = self._next_index
            stamp = index * self._frame_ns if timestamp_ns is None else checked_stamp(timestamp_ns)
            picture.pts = index
            self._stamps[index] = stamp
            self._next_index = index + 1
            try:
                packets = self._context.encode(picture)
            except Exception as error:
                raise EncodingFailed(f"{self.codec_name} could not encode frame {index}: {error}") from error
            return self._packets(packets)

    def flush(self) -> List[EncodedPacket]:
        """Drain the encoder (end of stream): the packets it still held. The encoder is closed."""
        with self._lock:
            self._check_open()
            self._closed = True
            return self._packets(_drain(self._context, self.codec_name))

    def close(self) -> None:
        """Release the encoder without draining it (idempotent)."""
        with self._lock:
            self._closed = True
            self._stamps.clear()

    def __enter__(self) -> "AvVideoEncoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise EncodingFailed("the encoder was flushed or closed")

    def _picture(self, frame):
        av = self._av
        if isinstance(frame, av.VideoFrame):
            return frame
        numpy = _numpy()
        width, height, fmt = self.width, self.height, self.pixel_format
        if isinstance(frame, numpy.ndarray):
            array = frame
        else:
            try:
                view = memoryview(frame)
            except TypeError:
                raise TypeError(f"frame must be a numpy array, a bytes-like object or an "
                                f"av.VideoFrame, not {type(frame).__name__}") from None
            expected = width * height * 3 if fmt != "yuv420p" else width * height * 3 // 2
            if view.nbytes != expected:
                raise InvalidData(f"frame has {view.nbytes} bytes; {fmt} {width}x{height} needs {expected}")
            array = numpy.frombuffer(view.cast("B"), dtype=numpy.uint8)
            array = array.reshape((height, width, 3) if fmt != "yuv420p" else (height * 3 // 2, width))
        if array.dtype != numpy.uint8:
            raise TypeError(f"frame arrays must have dtype uint8, not {array.dtype}")
        shape = (height, width, 3) if fmt != "yuv420p" else (height * 3 // 2, width)
        if array.shape != shape:
            raise InvalidData(f"frame has shape {array.shape}; {fmt} {width}x{height} needs {shape}")
        return av.VideoFrame.from_ndarray(numpy.ascontiguousarray(array), format=fmt)

    def _packets(self, packets) -> List[EncodedPacket]:
        out = []
        for packet in packets:
            data = bytes(packet)
            if not data:
                continue
            index = packet.pts
            stamp = self._stamps.pop(index, None) if index is not None else None
            if stamp is None:
                stamp = (index or 0) * self._frame_ns
            keyframe = bool(packet.is_keyframe)
            out.append(EncodedPacket(data, self._chunk_type(packet, data, keyframe), stamp,
                                     self._frame_ns, keyframe))
        return out

    def _chunk_type(self, packet, data: bytes, keyframe: bool) -> ChunkType:
        kind = PICT_TYPE_CHUNK.get(_sidedata_pict_type(packet))
        if kind is not None:
            return kind
        if self._h264:
            try:
                return classify_access_unit(data, "annexb")
            except Exception:   # the encoder's own output: fall back to its keyframe flag
                pass
        return ChunkType.VIDEO_I_FRAME if keyframe else ChunkType.VIDEO_P_FRAME


# --- audio encoder -----------------------------------------------------------------------------------

class AvAudioEncoder:
    """Encodes PCM to AAC (or another FFmpeg audio encoder) with PyAV.

    Input is interleaved PCM: int16 ("s16") or float32 ("flt") numpy arrays shaped (samples,
    channels) or (samples,) for mono, or the same as bytes. Blocks of any length are re-framed to
    the codec's frame size (1024 samples for AAC). Bitrate is the config's `audio_bitrate`. With
    `adts=True` (default) AAC frames carry ADTS headers so each packet decodes on its own. Packet
    timestamps follow the caller's block timestamps (a block without one continues the timeline of
    the last timed block; with none at all, samples / sample_rate); the first AAC packet holds the
    encoder's priming samples and is stamped before the first block.
    """

    def __init__(self, config=None, sample_rate: int = 48_000, channels: int = 2, *,
                 sample_format: str = "s16", adts: bool = True) -> None:
        av = require_av()
        config = _encoding_config(config)
        if config.audio_codec is None:
            raise UnsupportedFormat("this EncodingConfig has no audio_codec (a video-only codec)")
        self.sample_rate = positive_int(sample_rate, "sample_rate", 768_000)
        self.channels = positive_int(channels, "channels", 8)
        if sample_format not in AUDIO_SAMPLE_FORMATS:
            raise ValueError(f"sample_format must be one of {AUDIO_SAMPLE_FORMATS}, got {sample_format!r}")
        self.sample_format = sample_format
        self.config = config
        self._av = av
        self._lock = threading.Lock()
        context = _open_encoder(av, _ENCODERS.get(config.audio_codec, (config.audio_codec,)),
                                config.audio_codec)
        if context.type != "audio":
            raise UnsupportedFormat(f"{config.audio_codec!r} is not an audio codec")
        self.layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels}c")
        context.sample_rate = self.sample_rate
        context.layout = self.layout
        formats = [f.name for f in (context.codec.audio_formats or ())]
        context.format = formats[0] if formats else "fltp"
        context.bit_rate = config.audio_bitrate
        context.time_base = Fraction(1, self.sample_rate)
        try:
            context.open()
        except Exception as error:
            raise EncodingFailed(f"cannot open the {context.codec.name} encoder: {error}") from error
        self._context = context
        self.codec_name = context.codec.name
        self.extradata = bytes(context.extradata) if context.extradata else None
        self._adts = _asc_fields(self.extradata) if adts and context.name == "aac" else None
        self._samples = 0
        self._anchors: List[Tuple[int, int]] = []     # (first sample, timestamp ns) per block
        self._closed = False

    @property
    def framing(self) -> str:
        """"adts" when packets carry ADTS headers, else "raw" (then decoding needs `extradata`)."""
        return "adts" if self._adts is not None else "raw"

    def encode(self, pcm, timestamp_ns: Optional[int] = None) -> List[EncodedPacket]:
        """Encode one block of PCM; returns the packets that became ready."""
        with self._lock:
            if self._closed:
                raise EncodingFailed("the encoder was flushed or closed")
            array = self._array(pcm)
            count = array.shape[0]
            if count == 0:
                return []
            start = self._samples
            if timestamp_ns is not None:
                self._anchors.append((start, checked_stamp(timestamp_ns)))
            elif not self._anchors:
                self._anchors.append((0, 0))   # untimed blocks: counted on from the last anchor
            frame = self._av.AudioFrame.from_ndarray(array.reshape(1, -1), format=self.sample_format,
                                                     layout=self.layout)
            frame.sample_rate = self.sample_rate
            frame.pts = start
            self._samples = start + count
            try:
                packets = self._context.encode(frame)
            except Exception as error:
                raise EncodingFailed(f"{self.codec_name} could not encode samples {start}.."
                                     f"{start + count}: {error}") from error
            return self._packets(packets)

    def flush(self) -> List[EncodedPacket]:
        """Drain the encoder (end of stream); the encoder is closed afterwards."""
        with self._lock:
            if self._closed:
                raise EncodingFailed("the encoder was flushed or closed")
            self._closed = True
            return self._packets(_drain(self._context, self.codec_name))

    def close(self) -> None:
        """Release the encoder without draining it (idempotent)."""
        with self._lock:
            self._closed = True

    def __enter__(self) -> "AvAudioEncoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _array(self, pcm):
        numpy = _numpy()
        dtype = numpy.int16 if self.sample_format == "s16" else numpy.float32
        if isinstance(pcm, numpy.ndarray):
            array = pcm
            if array.dtype != dtype:
                raise TypeError(f"pcm arrays must have dtype {numpy.dtype(dtype).name} for "
                                f"sample_format {self.sample_format!r}, not {array.dtype}")
        else:
            try:
                view = memoryview(pcm).cast("B")
            except TypeError:
                raise TypeError(f"pcm must be a numpy array or a bytes-like object, "
                                f"not {type(pcm).__name__}") from None
            frame_bytes = numpy.dtype(dtype).itemsize * self.channels
            if view.nbytes % frame_bytes:
                raise InvalidData(f"pcm has {view.nbytes} bytes, not a whole number of "
                                  f"{self.channels}-channel {self.sample_format} samples")
            array = numpy.frombuffer(view, dtype=dtype)
        if array.ndim == 1:
            if array.shape[0] % self.channels:
                raise InvalidData(f"pcm has {array.shape[0]} values, not a multiple of "
                                  f"{self.channels} channels")
            array = array.reshape(-1, self.channels)
        if array.ndim != 2 or array.shape[1] != self.channels:
            raise InvalidData(f"pcm has shape {array.shape}; expected (samples, {self.channels})")
        return numpy.ascontiguousarray(array)

    def _stamp_of(self, pts: Optional[int]) -> int:
        anchors = self._anchors
        if pts is None or not anchors:
            return 0
        chosen = anchors[0]
        for anchor in anchors:
            if anchor[0] <= pts:
                chosen = anchor
            else:
                break
        # keep the anchor in use and those after it; older ones can no longer be needed
        while len(anchors) > 1 and anchors[1][0] <= pts:
            anchors.pop(0)
        return chosen[1] + (pts - chosen[0]) * 1_000_000_000 // self.sample_rate

    def _packets(self, packets) -> List[EncodedPacket]:
        out = []
        rate = self.sample_rate
        for packet in packets:
            data = bytes(packet)
            if not data:
                continue
            if self._adts is not None:
                data = adts_header(len(data), *self._adts) + data
            duration = packet.duration or self._context.frame_size or 0
            out.append(EncodedPacket(data, ChunkType.AUDIO, self._stamp_of(packet.pts),
                                     duration * 1_000_000_000 // rate, True))
        return out


# --- MediaCodec backend ------------------------------------------------------------------------------

class AvCodecBackend:
    """Per-stream real encoders and decoders: what MediaCodec uses with `EncodingConfig(backend="av")`
    (one instance per codec and its copies; thread-safe).

    `encode(raw, stream_id)` turns a RawMediaData into EncodedPackets. VIDEO data is a picture:
    metadata "width"/"height" (default: the config's QualityLevel resolution) and "pixel_format"
    ("rgb24", "bgr24" or "yuv420p"; default from the byte count: W*H*3 -> rgb24, W*H*3/2 -> yuv420p).
    AUDIO data is interleaved PCM: metadata "sample_rate" (48000), "channels" (2), "sample_format"
    ("s16" or "flt"). The first frame of a stream fixes its encoder's settings. With
    `low_latency=True` (default) every video frame gives exactly one packet at once (no B-frames);
    audio packets come out per 1024 samples. `decode(chunk, media_type)` returns RawMediaData: rgb24
    pictures (metadata width/height/pixel_format) or s16 PCM (metadata sample_rate/channels).
    """

    def __init__(self, config=None, *, low_latency: bool = True) -> None:
        require_av()
        self.config = _encoding_config(config)
        self.low_latency = low_latency
        self._lock = threading.Lock()
        self._encoders: Dict[Tuple[str, int], Any] = {}
        self._decoders: Dict[Tuple[str, int], Any] = {}

    def encode(self, raw, stream_id: str) -> List[EncodedPacket]:
        """Encode one RawMediaData of `stream_id` (VIDEO or AUDIO; MIXED is UnsupportedFormat)."""
        from rs2fast.types import RawMediaData

        if not isinstance(raw, RawMediaData):
            raise TypeError(f"raw must be a RawMediaData, not {type(raw).__name__}")
        if raw.media_type == MediaType.MIXED:
            raise UnsupportedFormat("MIXED frames cannot be encoded by a real codec; "
                                    "send video and audio as separate streams", stream_id=stream_id)
        encoder = self._encoder(raw, stream_id)
        return encoder.encode(raw.data, raw.timestamp_ns)

    def flush(self, stream_id: str) -> List[EncodedPacket]:
        """Drain and forget the encoders of `stream_id` (end of stream)."""
        with self._lock:
            encoders = [self._encoders.pop(key) for key in list(self._encoders) if key[0] == stream_id]
        packets: List[EncodedPacket] = []
        for encoder in encoders:
            packets.extend(encoder.flush())
        return packets

    def decode(self, chunk, media_type: Optional[MediaType] = None) -> list:
        """Decode one chunk of a stream this backend (or a compatible encoder) produced; returns a
        list of RawMediaData (empty while the decoder waits for more input)."""
        from rs2fast._chunk import MediaChunk
        from rs2fast.types import RawMediaData

        if not isinstance(chunk, MediaChunk):
            raise TypeError(f"chunk must be a MediaChunk, not {type(chunk).__name__}")
        if media_type is None:
            media_type = MediaType.AUDIO if chunk.chunk_type == ChunkType.AUDIO else MediaType.VIDEO
        audio = MediaType(media_type) == MediaType.AUDIO
        key = (chunk.stream_id, int(audio))
        with self._lock:
            decoder: Any = self._decoders.get(key)
            if decoder is None:
                decoder = (AvAudioDecoder(self.config.audio_codec or "aac") if audio
                           else AvVideoDecoder(self.config.video_codec or "h264"))
                self._decoders[key] = decoder
        out = []
        if audio:
            for block in decoder.decode(chunk.data, chunk.timestamp_ns):
                out.append(RawMediaData(block.samples.tobytes(), MediaType.AUDIO,
                                        _timedelta(block.timestamp_ns),
                                        {"sample_rate": str(block.sample_rate),
                                         "channels": str(block.channels),
                                         "sample_format": block.sample_format}, ChunkType.AUDIO))
        else:
            for picture in decoder.decode(chunk.data, chunk.timestamp_ns):
                out.append(RawMediaData(picture.image.tobytes(), MediaType.VIDEO,
                                        _timedelta(picture.timestamp_ns),
                                        {"width": str(picture.width), "height": str(picture.height),
                                         "pixel_format": picture.pixel_format}, picture.chunk_type))
        return out

    def close(self) -> None:
        """Forget every encoder and decoder (idempotent)."""
        with self._lock:
            for encoder in self._encoders.values():
                encoder.close()
            self._encoders.clear()
            self._decoders.clear()

    def _encoder(self, raw, stream_id: str):
        audio = raw.media_type == MediaType.AUDIO
        key = (stream_id, int(audio))
        with self._lock:
            encoder = self._encoders.get(key)
            if encoder is None:
                encoder = (self._new_audio(raw, stream_id) if audio else self._new_video(raw, stream_id))
                self._encoders[key] = encoder
        return encoder

    def _new_video(self, raw, stream_id: str) -> AvVideoEncoder:
        meta = raw.metadata
        width, height = self.config.quality.resolution
        width = _meta_int(meta, "width", width, stream_id)
        height = _meta_int(meta, "height", height, stream_id)
        fmt = meta.get("pixel_format")
        if fmt is None:
            fmt = "yuv420p" if len(raw.data) == width * height * 3 // 2 else "rgb24"
        return AvVideoEncoder(self.config, width, height, pixel_format=fmt, low_latency=self.low_latency)

    def _new_audio(self, raw, stream_id: str) -> AvAudioEncoder:
        meta = raw.metadata
        return AvAudioEncoder(self.config, _meta_int(meta, "sample_rate", 48_000, stream_id),
                              _meta_int(meta, "channels", 2, stream_id),
                              sample_format=meta.get("sample_format", "s16"))


def _meta_int(meta: dict, key: str, default: int, stream_id: str) -> int:
    text = meta.get(key)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidData(f"metadata {key} {text!r} is not an integer", stream_id=stream_id) from None


def _timedelta(ns: Optional[int]):
    from datetime import timedelta
    return timedelta(microseconds=(ns or 0) // 1000)


# --- sample media ------------------------------------------------------------------------------------

def generate_clip(seconds: float = 2.0, width: int = 320, height: int = 180, frame_rate: int = 30, *,
                  container_format: str = "mp4", b_frames: int = 2, keyframe_interval: int = 30,
                  audio: bool = True, sample_rate: int = 48_000, video_bitrate: int = 400_000) -> bytes:
    """A short real H.264 (+ AAC) clip, made in memory: a moving colour pattern and a 440 Hz tone.

    `container_format` is an FFmpeg muxer name that takes H.264 and AAC: "mp4", "mov", "matroska"
    or "mpegts". The keyframe period is exact (no scene-cut keyframes). Deterministic for the same
    arguments on the same FFmpeg build.
    """
    import io

    av = require_av()
    numpy = _numpy()
    if not 0 < seconds <= 600:
        raise ValueError(f"seconds must be in (0, 600], got {seconds}")
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise ValueError(f"width and height must be even and at least 16, got {width}x{height}")
    positive_int(frame_rate, "frame_rate", 240)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as out:
        video = out.add_stream("libx264", rate=frame_rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.bit_rate = video_bitrate
        video.options = {"preset": "veryfast", "bf": str(b_frames),
                         "x264-params": f"keyint={keyframe_interval}:min-keyint={keyframe_interval}:"
                                        f"scenecut=0"}
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=sample_rate)
            sound.layout = "stereo"
        rows, cols = numpy.mgrid[0:height, 0:width]
        for index in range(int(round(seconds * frame_rate))):
            image = numpy.empty((height, width, 3), numpy.uint8)
            image[..., 0] = (cols + index * 4) % 256
            image[..., 1] = (rows * 2 + index * 3) % 256
            image[..., 2] = ((cols + rows) // 2 + index * 8) % 256
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            total = int(seconds * sample_rate)
            for start in range(0, total, 1024):
                count = min(1024, total - start)
                t = numpy.arange(start, start + count) / sample_rate
                tone = (0.25 * numpy.sin(2 * numpy.pi * 440 * t)).astype(numpy.float32)
                frame = av.AudioFrame.from_ndarray(numpy.stack([tone, tone]), format="fltp",
                                                   layout="stereo")
                frame.sample_rate = sample_rate
                frame.pts = start
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return buffer.getvalue()
