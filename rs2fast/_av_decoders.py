"""Decoding with PyAV: compressed packets (H.264, AAC or any FFmpeg codec) back to pictures and PCM.

A decoder carries each packet's timestamp through to the frames it produces; decoding may lag behind
the input by a few packets (B-frames), so streams end with `flush()`.
"""
from __future__ import annotations

import threading
from typing import Any, Dict, List, NamedTuple, Optional

from rs2fast._av_base import (AUDIO_SAMPLE_FORMATS, PICT_TYPE_CHUNK, VIDEO_PIXEL_FORMATS, checked_stamp,
                              positive_int, require_av)
from rs2fast._enums import ChunkType
from rs2fast.errors import DecodingFailed, InvalidData, UnsupportedFormat


class DecodedVideoFrame(NamedTuple):
    """One decoded picture: `image` is an HxWx3 uint8 array (rgb24/bgr24), an (H*3/2)xW array
    (yuv420p) or an av.VideoFrame (output="frame"); `chunk_type` comes from the decoder's pict_type."""

    image: Any
    timestamp_ns: Optional[int]
    chunk_type: ChunkType
    width: int
    height: int
    pixel_format: str


class DecodedAudio(NamedTuple):
    """One decoded block: `samples` is an int16 (s16) or float32 (flt) array shaped (samples, channels)."""

    samples: Any
    timestamp_ns: Optional[int]
    sample_rate: int
    channels: int
    sample_format: str


def _open_decoder(av, codec: str, extradata: Optional[bytes]):
    if not isinstance(codec, str) or not codec:
        raise TypeError(f"codec must be a non-empty str, not {codec!r}")
    try:
        context = av.CodecContext.create(codec, "r")
    except Exception as error:
        raise UnsupportedFormat(f"no decoder for {codec!r} in this FFmpeg build") from error
    if extradata is not None:
        if not isinstance(extradata, (bytes, bytearray, memoryview)):
            raise TypeError(f"extradata must be bytes or None, not {type(extradata).__name__}")
        context.extradata = bytes(extradata)
    if hasattr(context, "copy_opaque"):
        context.copy_opaque = True
    return context


class _Decoder:
    """Shared machinery: one codec context, caller timestamps carried through by packet ids."""

    def __init__(self, codec: str, extradata: Optional[bytes], kind: str) -> None:
        self._av = require_av()
        self._context = _open_decoder(self._av, codec, extradata)
        if self._context.type != kind:
            raise UnsupportedFormat(f"{codec!r} is not a {kind} codec")
        self.codec_name = self._context.name
        self._lock = threading.Lock()
        self._stamps: Dict[int, Optional[int]] = {}
        self._next_id = 0
        self._opaque = hasattr(self._context, "copy_opaque")

    def _send(self, data, timestamp_ns: Optional[int]) -> list:
        av = self._av
        if data is None:
            packet = None
        else:
            try:
                payload = bytes(data) if not isinstance(data, bytes) else data
            except TypeError:
                raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None
            if not payload:
                raise InvalidData("empty packet")
            packet = av.Packet(payload)
            ident = self._next_id
            self._next_id += 1
            packet.pts = ident
            if self._opaque:
                packet.opaque = ident
            self._stamps[ident] = None if timestamp_ns is None else checked_stamp(timestamp_ns)
        try:
            return list(self._context.decode(packet))
        except Exception as error:
            raise DecodingFailed(f"{self.codec_name}: {error}") from error

    def decode(self, data, timestamp_ns: Optional[int] = None) -> list:
        """Decode one packet (bytes-like or a MediaChunk's data); returns what is now ready
        (pictures or PCM blocks)."""
        with self._lock:
            return self._convert(self._send(data, timestamp_ns))

    def flush(self) -> list:
        """What the decoder still holds (end of stream); the decoder can then be reused."""
        with self._lock:
            out = self._convert(self._send(None, None))
            try:
                self._context.flush_buffers()
            except Exception:     # not every FFmpeg build's context has it; nothing is held now
                pass
            return out

    def _stamp_of(self, frame) -> Optional[int]:
        ident = frame.opaque if self._opaque and isinstance(frame.opaque, int) else frame.pts
        if ident is None:
            return None
        # frames come out in presentation order; ids of packets that produced no frame are dropped
        # once a later id has been seen, so the table stays small
        stamp = self._stamps.pop(ident, None)
        if len(self._stamps) > 256:
            for old in [key for key in self._stamps if key < ident - 256]:
                del self._stamps[old]
        return stamp


class AvVideoDecoder(_Decoder):
    """Decodes H.264 (or any FFmpeg video codec) packets back to pictures.

    `extradata` is the stream's codec configuration (needed for AVCC-framed packets from MP4/MKV;
    Annex-B packets from AvVideoEncoder carry it in-band). `output` is "rgb24", "bgr24", "yuv420p"
    (numpy arrays) or "frame" (av.VideoFrame). Each picture keeps the timestamp given with the
    packet that carried it; decoding may lag behind input by a few packets (B-frames): call
    `flush()` at the end of the stream.
    """

    def __init__(self, codec: str = "h264", *, extradata: Optional[bytes] = None,
                 output: str = "rgb24", threads: int = 1) -> None:
        if output not in VIDEO_PIXEL_FORMATS + ("frame",):
            raise ValueError(f"output must be one of {VIDEO_PIXEL_FORMATS + ('frame',)}, got {output!r}")
        super().__init__(codec, extradata, "video")
        self.output = output
        threads = positive_int(threads, "threads", 64)
        self._context.thread_count = threads
        if threads > 1:
            self._context.thread_type = "AUTO"

    def _convert(self, frames) -> List[DecodedVideoFrame]:
        out = []
        for frame in frames:
            kind = PICT_TYPE_CHUNK.get(int(frame.pict_type),
                                       ChunkType.VIDEO_I_FRAME if frame.key_frame else ChunkType.VIDEO_P_FRAME)
            image = frame if self.output == "frame" else frame.to_ndarray(format=self.output)
            out.append(DecodedVideoFrame(image, self._stamp_of(frame), kind, frame.width, frame.height,
                                         self.output if self.output != "frame" else frame.format.name))
        return out


class AvAudioDecoder(_Decoder):
    """Decodes AAC (or any FFmpeg audio codec) packets back to PCM.

    ADTS-framed AAC (what AvAudioEncoder writes) needs no `extradata`; raw AAC from MP4/MKV does.
    `output` is "s16" (int16) or "flt" (float32), interleaved, shaped (samples, channels).
    """

    def __init__(self, codec: str = "aac", *, extradata: Optional[bytes] = None,
                 output: str = "s16") -> None:
        if output not in AUDIO_SAMPLE_FORMATS:
            raise ValueError(f"output must be one of {AUDIO_SAMPLE_FORMATS}, got {output!r}")
        super().__init__(codec, extradata, "audio")
        self.output = output
        self._resampler: Any = None

    def _convert(self, frames) -> List[DecodedAudio]:
        out = []
        for frame in frames:
            channels = frame.layout.nb_channels
            if self._resampler is None:
                self._resampler = self._av.AudioResampler(format=self.output, layout=frame.layout,
                                                          rate=frame.sample_rate)
            stamp = self._stamp_of(frame)
            for packed in self._resampler.resample(frame):
                samples = packed.to_ndarray().reshape(-1, channels)
                out.append(DecodedAudio(samples, stamp, frame.sample_rate, channels, self.output))
        return out
