"""Small real media clips made at test time with PyAV (independently of rs2fast's own encoders).

Every helper imports `av` lazily, so importing this module never needs the optional extra; tests
that call these helpers skip first with `pytest.importorskip("av", ...)`.
"""
from __future__ import annotations

import io
import os
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

import numpy as np

AV_REASON = "needs the optional av extra: pip install 'rs2fast[av]'"

FORMAT_OF_EXTENSION = {".mp4": "mp4", ".mov": "mov", ".m4v": "mp4", ".mkv": "matroska", ".webm": "webm",
                       ".ts": "mpegts", ".m2ts": "mpegts"}


def pattern(index: int, width: int, height: int) -> np.ndarray:
    """A moving colour pattern: frame `index` of a clip, HxWx3 uint8."""
    rows, cols = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), np.uint8)
    image[..., 0] = (cols * 2 + index * 5) % 256
    image[..., 1] = (rows * 3 + index * 2) % 256
    image[..., 2] = ((cols + rows) + index * 9) % 256
    return image


def make_clip(path: Optional[str] = None, *, container: str = "mp4", seconds: float = 2.0,
              width: int = 320, height: int = 180, fps: int = 30, b_frames: int = 2, gop: int = 30,
              audio: bool = True, video: bool = True, faststart: bool = False,
              video_codec: str = "libx264", audio_codec: str = "aac") -> bytes:
    """Encode a clip (H.264 + AAC by default) into `container`; write it to `path` if given.

    Returns the file's bytes. `faststart=True` puts an MP4's index (moov) before its media data.
    """
    import av

    buffer = io.BytesIO()
    options = {}
    target = buffer
    if faststart:                        # the MP4 muxer rewrites the file: it needs a real one
        import tempfile
        options = {"movflags": "+faststart"}
        handle, target = tempfile.mkstemp(suffix=".mp4")
        os.close(handle)
    with av.open(target, "w", format=container, options=options) as out:
        vstream = astream = None
        if video:
            vstream = out.add_stream(video_codec, rate=fps)
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
            vstream.bit_rate = 300_000
            if video_codec == "libx264":
                vstream.options = {"preset": "veryfast", "bf": str(b_frames),
                                   "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        if audio:
            astream = out.add_stream(audio_codec, rate=48000)
            astream.layout = "stereo"
        if vstream is not None:
            for index in range(int(seconds * fps)):
                frame = av.VideoFrame.from_ndarray(pattern(index, width, height), format="rgb24")
                frame.pts = index
                out.mux(vstream.encode(frame))
            out.mux(vstream.encode(None))
        if astream is not None:
            rate = 48000
            total = int(seconds * rate)
            step = astream.codec_context.frame_size or 1024
            for start in range(0, total, step):
                count = min(step, total - start)
                t = np.arange(start, start + count) / rate
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([tone, tone * 0.5]), format="fltp",
                                                   layout="stereo")
                frame.sample_rate = rate
                frame.pts = start
                out.mux(astream.encode(frame))
            out.mux(astream.encode(None))
    if faststart:
        with open(target, "rb") as handle:
            data = handle.read()
        os.unlink(target)
    else:
        data = buffer.getvalue()
    if path is not None:
        with open(path, "wb") as handle:
            handle.write(data)
    return data


def write_clip(folder, name: str, **kwargs) -> str:
    """make_clip into `folder/name`, the container chosen by the extension; returns the path."""
    path = os.path.join(str(folder), name)
    container = FORMAT_OF_EXTENSION[os.path.splitext(name)[1].lower()]
    make_clip(path, container=container, **kwargs)
    return path


def demuxed_packets(source) -> List[Tuple[int, bytes, Optional[int], Optional[int], Fraction, bool]]:
    """(stream index, data, pts, dts, time base, keyframe) of every non-empty packet, demux order."""
    import av

    opened = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    with opened as container:
        return [(p.stream_index, bytes(p), p.pts, p.dts, p.time_base, bool(p.is_keyframe))
                for p in container.demux() if p.size]


def packet_pict_types(source) -> List[int]:
    """The decoder's pict_type (1=I, 2=P, 3=B) of every video packet, in demux order.

    Each packet is tagged with its position (copy_opaque) so pictures that come out of the decoder
    later, in presentation order, are matched to the packet that carried them.
    """
    import av

    opened = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    with opened as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        context.copy_opaque = True
        types: Dict[int, int] = {}
        count = 0
        for packet in container.demux(stream):
            if packet.size:
                packet.opaque = count
                count += 1
                frames = context.decode(packet)
            else:
                frames = context.decode(None)
            for frame in frames:
                types[frame.opaque] = int(frame.pict_type)
        return [types.get(i, 0) for i in range(count)]


def decoded_frames(source) -> List[np.ndarray]:
    """Every video frame of `source` (path or bytes) as an rgb24 array, presentation order."""
    import av

    opened = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    with opened as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def decoded_audio(source) -> np.ndarray:
    """All audio samples of the first audio stream, shaped (channels, samples), float32."""
    import av

    opened = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    with opened as container:
        blocks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    return np.concatenate(blocks, axis=1)


def make_audio_with_cover(seconds: float = 0.5) -> bytes:
    """An MP4 holding AAC audio and a JPEG cover picture (a stream marked attached_pic)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 48, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(pattern(0, 64, 48), format="rgb24").reformat(format="yuvj420p")
        picture.pts = 0
        out.mux(cover.encode(picture))
        out.mux(cover.encode(None))
        for start in range(0, int(seconds * 48000), 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp",
                                               layout="stereo")
            frame.sample_rate = 48000
            frame.pts = start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return buffer.getvalue()


def make_audio_with_subtitles() -> Optional[bytes]:
    """A Matroska file with AAC audio and one SubRip subtitle (None if PyAV cannot mux one)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as out:
        if not hasattr(out, "add_mux_stream"):
            return None
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        text = out.add_mux_stream("subrip")
        for start in range(0, 10 * 1024, 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp",
                                               layout="stereo")
            frame.sample_rate = 48000
            frame.pts = start
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
        packet = av.Packet(b"hello")
        packet.stream = text
        packet.time_base = Fraction(1, 1000)
        packet.pts = packet.dts = 0
        packet.duration = 1000
        out.mux(packet)
    return buffer.getvalue()
