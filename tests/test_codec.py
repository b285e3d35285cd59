"""MediaCodec: lossless packetising, per-stream numbering, GOP typing, checksums, stats, factories."""
import asyncio
import copy
from datetime import timedelta

import pytest
from hypothesis import given, strategies as st

from rs2fast.codec import CodecFactory, CodecStats, EncodingConfig, MediaCodec
from rs2fast.errors import CodecError, InvalidData, UnsupportedFormat
from rs2fast.types import ChunkType, MediaChunk, MediaPriority, MediaType, QualityLevel, RawMediaData


def video(data=b"\x01" * 16, ms=0, hint=None):
    return RawMediaData(data, MediaType.VIDEO, timedelta(milliseconds=ms), {}, hint)


def test_config_defaults_are_rs2s():
    config = EncodingConfig()
    assert (config.video_bitrate, config.audio_bitrate) == (2_000_000, 128_000)
    assert (config.video_codec, config.audio_codec) == ("h264", "aac")
    assert (config.frame_rate, config.keyframe_interval) == (30, 60)
    assert config.checksum == "crc32c"
    assert config.frame_duration_ns == 33_333_333


@pytest.mark.parametrize("kwargs, error", [
    ({"keyframe_interval": 0}, ValueError),
    ({"video_bitrate": -1}, ValueError),
    ({"audio_bitrate": 0}, ValueError),
    ({"frame_rate": 0}, ValueError),
    ({"checksum": "md5"}, ValueError),
    ({"keyframe_interval": 2.5}, TypeError),
    ({"video_codec": None, "audio_codec": None}, ValueError),
])
def test_invalid_config_is_refused_when_made(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs)).split("_")[0]):
        EncodingConfig(**kwargs)


def test_encode_then_decode_returns_exactly_the_input():
    codec = MediaCodec()
    data = bytes(range(1, 17))
    chunk = codec.encode_single_frame(video(data, ms=100), "s")
    assert chunk.data == data                       # exactly the bytes given
    decoded = codec.decode_chunk(chunk)
    assert decoded.data == data and decoded.media_type == MediaType.VIDEO
    assert decoded.timestamp == timedelta(milliseconds=100)


@given(st.binary(min_size=1, max_size=4096), st.sampled_from(list(MediaType)),
       st.sampled_from(["crc32c", "sha256", None]))
def test_round_trip_for_every_media_type_and_checksum(data, media_type, checksum):
    codec = MediaCodec(EncodingConfig(checksum=checksum))
    chunk = codec.encode_single_frame(RawMediaData(data, media_type), "s")
    assert codec.decode_chunk(chunk).data == data
    assert chunk.checksum_matches()


def test_mixed_frames_are_framed_and_split_back():
    codec = MediaCodec()
    raw = RawMediaData(bytes(range(10)), MediaType.MIXED, metadata={"video_bytes": "4"})
    chunk = codec.encode_single_frame(raw, "m")
    assert len(chunk.data) == 10 + 8
    decoded = codec.decode_chunk(chunk)
    assert decoded.data == bytes(range(10)) and decoded.metadata["video_bytes"] == "4"
    assert decoded.media_type == MediaType.MIXED
    default_split = codec.encode_single_frame(RawMediaData(bytes(10), MediaType.MIXED), "m2")
    assert codec.decode_chunk(default_split).metadata["video_bytes"] == "6"   # RS2's 60 %


def test_sequence_numbers_are_per_stream():
    codec = MediaCodec()
    a = [codec.encode_single_frame(video(), "a").sequence_number for _ in range(3)]
    b = [codec.encode_single_frame(video(), "b").sequence_number for _ in range(2)]
    assert a == [0, 1, 2] and b == [0, 1]


def test_gop_position_decides_frame_type_and_hint_wins():
    codec = MediaCodec(EncodingConfig(keyframe_interval=3))
    types = [codec.encode_single_frame(video(), "v").chunk_type for _ in range(7)]
    assert types == [ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_P_FRAME] * 2 + [
        ChunkType.VIDEO_I_FRAME]
    hinted = codec.encode_single_frame(video(hint=ChunkType.VIDEO_B_FRAME), "v")
    assert hinted.chunk_type == ChunkType.VIDEO_B_FRAME and hinted.priority == MediaPriority.LOW
    audio = codec.encode_single_frame(RawMediaData(b"abc", MediaType.AUDIO), "v")
    assert audio.chunk_type == ChunkType.AUDIO and audio.priority == MediaPriority.HIGH


@pytest.mark.parametrize("checksum, pattern", [("crc32c", r"^crc32c:[0-9a-f]{8}$"),
                                               ("sha256", r"^[0-9a-f]{64}$")])
def test_checksums_are_self_describing(checksum, pattern):
    chunk = MediaCodec(EncodingConfig(checksum=checksum)).encode_single_frame(video(), "s")
    assert chunk.checksum is not None
    import re
    assert re.match(pattern, chunk.checksum)


def test_sha256_matches_rs2():
    chunk = MediaCodec(EncodingConfig(checksum="sha256")).encode_single_frame(
        video(bytes([1, 3, 5, 7, 9, 11, 13, 15])), "s")
    assert chunk.checksum == "1e721292812bebc86e658204b7855cfa87a40706629ef4efad54f708ccb43608"


def test_corrupted_chunk_is_refused_and_counted():
    codec = MediaCodec()
    chunk = codec.encode_single_frame(video(bytes(range(16))), "s")
    bad = chunk.replace(data=b"\xff" + bytes(chunk.data)[1:])
    with pytest.raises(InvalidData, match="Checksum mismatch"):
        codec.decode_chunk(bad)
    stats = codec.get_stats()
    assert stats.error_count == 1 and stats.frames_decoded == 0


def test_errors_are_counted():
    codec = MediaCodec()
    with pytest.raises(InvalidData, match="Empty video data"):
        codec.encode_single_frame(video(b""), "s")
    with pytest.raises(InvalidData):
        codec.encode_single_frame(b"not raw media", "s")
    with pytest.raises(InvalidData, match="max_chunk_size"):
        MediaCodec(EncodingConfig(max_chunk_size=4)).encode_single_frame(video(b"12345"), "s")
    assert codec.get_stats().error_count == 2
    assert codec.get_stats().frames_encoded == 0


def test_stats_are_measured_and_shared_by_copies():
    codec = MediaCodec()
    twin = copy.copy(codec)
    other = codec.clone()
    codec.encode_single_frame(video(bytes(16)), "s")
    twin.encode_single_frame(video(bytes(16)), "s")
    stats = other.get_stats()
    assert stats.frames_encoded == 2 and stats.bytes_processed == 32
    assert stats.encoding_time_ms > 0 and isinstance(stats.encoding_time_ms, float)
    assert stats.average_compression_ratio == pytest.approx(1.0)
    other.reset_stats()
    assert codec.get_stats() == CodecStats()
    assert twin.encode_single_frame(video(), "s").sequence_number == 2   # counters shared too


def test_encode_stream_yields_in_order_and_reports_errors_in_place():
    codec = MediaCodec()
    frames = [video(b"a"), video(b""), video(b"b")]
    out = list(codec.encode_stream(frames, "s", return_exceptions=True))
    assert isinstance(out[1], InvalidData)
    assert [c.sequence_number for c in (out[0], out[2])] == [0, 1]
    with pytest.raises(InvalidData):
        list(codec.encode_stream(frames, "t"))


def test_encode_stream_refuses_async_iterables_and_names_aencode_stream():
    codec = MediaCodec()

    async def frames():
        yield video(b"a")

    agen = frames()
    with pytest.raises(TypeError, match="aencode_stream"):
        codec.encode_stream(agen, "s")
    with pytest.raises(TypeError, match="iterable"):
        codec.encode_stream(42, "s")
    asyncio.run(agen.aclose())
    assert codec.get_stats().frames_encoded == 0


def test_encode_stream_returns_a_plain_iterator_even_for_objects_that_are_both():
    class Both:
        def __iter__(self):
            return iter([video(b"x"), video(b"y")])

        def __aiter__(self):
            raise AssertionError("encode_stream must not iterate asynchronously")

    out = MediaCodec().encode_stream(Both(), "s")
    assert not hasattr(out, "__anext__")
    assert [bytes(c.data) for c in out] == [b"x", b"y"]


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_aencode_stream_takes_async_and_plain_iterables(kind):
    codec = MediaCodec()
    payloads = [bytes([i + 1]) for i in range(5)] + [b""]

    async def frames():
        for data in payloads:
            yield video(data)

    source = frames() if kind == "async" else [video(data) for data in payloads]

    async def collect():
        return [item async for item in codec.aencode_stream(source, "s", return_exceptions=True)]

    out = asyncio.run(collect())
    assert [bytes(c.data) for c in out[:5]] == payloads[:5]
    assert [c.sequence_number for c in out[:5]] == [0, 1, 2, 3, 4]
    assert isinstance(out[5], InvalidData)
    with pytest.raises(TypeError, match="iterable"):
        codec.aencode_stream(3.5, "s")


def test_aencode_stream_raises_a_frame_error_without_return_exceptions():
    codec = MediaCodec()

    async def collect():
        return [c async for c in codec.aencode_stream([video(b"a"), video(b"")], "s")]

    with pytest.raises(InvalidData):
        asyncio.run(collect())
    assert codec.get_stats().error_count == 1


def test_encode_frame_and_flush_with_the_packetiser():
    codec = MediaCodec()
    chunks = codec.encode_frame(video(b"abc"), "s")
    assert [(bytes(c.data), c.sequence_number) for c in chunks] == [(b"abc", 0)]
    assert codec.flush("s") == []


def test_repr_shows_the_codec_state_at_a_glance():
    codec = MediaCodec(EncodingConfig(checksum="sha256", quality=QualityLevel.HIGH))
    codec.encode_single_frame(video(b"a"), "one")
    codec.encode_single_frame(video(b"b"), "two")
    with pytest.raises(InvalidData):
        codec.encode_single_frame(video(b""), "two")
    text = repr(codec)
    for part in ("MediaCodec", "backend='packetiser'", "video='h264'", "audio='aac'", "quality=HIGH",
                 "checksum='sha256'", "streams=2", "frames_encoded=2", "errors=1"):
        assert part in text, text


@pytest.mark.parametrize("kwargs, error", [
    ({"backend": "ffmpeg"}, ValueError), ({"backend": 1}, TypeError),
    ({"backend": "av", "h264_framing": "annexb"}, ValueError)])
def test_config_refuses_bad_backends(kwargs, error):
    with pytest.raises(error, match="backend|h264_framing"):
        EncodingConfig(**kwargs)


def test_av_backend_without_pyav_fails_when_the_config_is_made(monkeypatch):
    from rs2fast.errors import CodecUnavailable

    monkeypatch.setitem(__import__("sys").modules, "av", None)
    with pytest.raises(CodecUnavailable, match="pip install"):
        EncodingConfig(backend="av")


def test_factories_use_quality_levels():
    h264 = CodecFactory.create_h264_codec(QualityLevel.HIGH)
    assert h264.config.video_bitrate == QualityLevel.HIGH.video_bitrate
    assert h264.config.keyframe_interval == 30
    audio = CodecFactory.create_audio_codec(QualityLevel.ULTRA_HIGH)
    assert audio.config.audio_bitrate == QualityLevel.ULTRA_HIGH.audio_bitrate
    chunk = audio.encode_single_frame(RawMediaData(bytes(range(8)), MediaType.AUDIO), "a")
    assert audio.decode_chunk(chunk).data == bytes(range(8))
    with pytest.raises(UnsupportedFormat, match="audio-only"):
        audio.encode_single_frame(video(), "a")      # refused, not a modulo by zero
    assert audio.get_stats().error_count == 1
    adaptive = CodecFactory.create_adaptive_codec()
    assert adaptive.quality == QualityLevel.MEDIUM
    assert adaptive.set_quality(QualityLevel.LOW) == QualityLevel.MEDIUM
    assert adaptive.config.video_bitrate == QualityLevel.LOW.video_bitrate


def test_decode_of_foreign_chunk_uses_the_chunk_type():
    chunk = MediaChunk("x", 0, b"\x09\x08", ChunkType.AUDIO)
    decoded = MediaCodec().decode_chunk(chunk)
    assert decoded.media_type == MediaType.AUDIO and decoded.data == b"\x09\x08"
    with pytest.raises(CodecError):
        MediaCodec().decode_chunk("not a chunk")


# === H.264 bitstream typing (h264_framing) ===========================================================
# Access units built by hand: start code + NAL header + slice header bits (first_mb_in_slice = 0,
# slice_type, pic_parameter_set_id = 0, stop bit). 0x88 -> slice_type 7 (I), 0x9b -> 5 (P), 0x9f -> 6 (B).

from rs2fast.errors import MediaFormatError  # noqa: E402

_SC = b"\x00\x00\x00\x01"
H264_IDR = _SC + b"\x67\x42\x00\x1f" + _SC + b"\x68\xce\x3c\x80" + _SC + b"\x65\x88\x84"
H264_P = _SC + b"\x41\x9b"
H264_B = _SC + b"\x01\x9f"
H264_SEI = _SC + b"\x06\x05\x01\x80"


def _avcc(annexb_unit, length_size=4):
    nals = [n for n in annexb_unit.split(_SC) if n]
    return b"".join(len(n).to_bytes(length_size, "big") + n for n in nals)


def test_h264_config_defaults_and_validation():
    config = EncodingConfig()
    assert config.h264_framing is None and config.h264_length_size == 4
    assert not config.types_h264_bitstream
    assert EncodingConfig(h264_framing="avcc", h264_length_size=2).types_h264_bitstream
    with pytest.raises(ValueError, match="h264_framing must be one of"):
        EncodingConfig(h264_framing="mp4")
    with pytest.raises(TypeError, match="h264_framing must be a str"):
        EncodingConfig(h264_framing=1)
    with pytest.raises(ValueError, match="h264_framing needs video_codec='h264'"):
        EncodingConfig(h264_framing="annexb", video_codec="vp9")
    with pytest.raises(ValueError, match="h264_length_size must be one of"):
        EncodingConfig(h264_length_size=3)
    with pytest.raises(TypeError, match="h264_length_size must be an int"):
        EncodingConfig(h264_length_size=True)


@pytest.mark.parametrize("framing, length_size", [("annexb", 4), ("avcc", 4), ("avcc", 2), ("avcc", 1)])
def test_h264_input_is_typed_from_the_bitstream(framing, length_size):
    codec = MediaCodec(EncodingConfig(keyframe_interval=2, h264_framing=framing,
                                      h264_length_size=length_size))
    units = [H264_IDR, H264_B, H264_P, H264_SEI, H264_P, H264_B]
    if framing == "avcc":
        units = [_avcc(u, length_size) for u in units]
    chunks = [codec.encode_single_frame(video(u), "v") for u in units]
    assert [c.chunk_type for c in chunks] == [
        ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_B_FRAME, ChunkType.VIDEO_P_FRAME,
        ChunkType.METADATA, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME]   # not GOP positions
    assert [c.priority for c in chunks[:4]] == [MediaPriority.HIGH, MediaPriority.LOW,
                                                MediaPriority.NORMAL, MediaPriority.HIGH]
    assert [codec.decode_chunk(c).data for c in chunks] == units
    assert [c.sequence_number for c in chunks] == list(range(6))


def test_h264_hint_wins_and_other_media_keep_their_rules():
    codec = MediaCodec(EncodingConfig(keyframe_interval=2, h264_framing="annexb"))
    assert codec.encode_single_frame(video(H264_B, hint=ChunkType.THUMBNAIL), "v").chunk_type \
        == ChunkType.THUMBNAIL
    assert codec.encode_single_frame(video(b"not h264", hint=ChunkType.VIDEO_P_FRAME), "v").chunk_type \
        == ChunkType.VIDEO_P_FRAME                      # a hinted frame is not parsed at all
    audio = codec.encode_single_frame(RawMediaData(H264_B, MediaType.AUDIO), "a")
    assert audio.chunk_type == ChunkType.AUDIO
    mixed = [codec.encode_single_frame(RawMediaData(H264_B, MediaType.MIXED), "m").chunk_type
             for _ in range(3)]
    assert mixed == [ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_I_FRAME]
    assert codec.get_stats().error_count == 0


def test_without_h264_framing_the_gop_rule_types_h264_bytes():
    codec = MediaCodec(EncodingConfig(keyframe_interval=2))
    types = [codec.encode_single_frame(video(u), "v").chunk_type for u in (H264_B, H264_B, H264_P)]
    assert types == [ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_I_FRAME]


@pytest.mark.parametrize("framing, data, message", [
    ("annexb", b"\x12\x34\x56", "no Annex-B start code"),
    ("annexb", _SC + b"\xe5\x88", "forbidden_zero_bit"),
    ("annexb", _SC + b"\x41", "truncated slice header"),
    ("avcc", b"\x00\x00\x00\x09\x65\x88", "goes beyond the buffer"),
    ("avcc", H264_P, "truncated slice header .* at offset 4"),   # Annex-B bytes read as AVCC: 00000001 41
])
def test_malformed_h264_is_a_counted_media_format_error(framing, data, message):
    codec = MediaCodec(EncodingConfig(h264_framing=framing))
    with pytest.raises(MediaFormatError, match=message) as caught:
        codec.encode_single_frame(video(data), "cam")
    assert isinstance(caught.value, CodecError) and caught.value.stream_id == "cam"
    assert codec.get_stats().error_count == 1 and codec.get_stats().frames_encoded == 0
    good = H264_P if framing == "annexb" else _avcc(H264_P)
    assert codec.encode_single_frame(video(good), "cam").sequence_number == 0   # none taken
    out = list(codec.encode_stream([video(data), video(b"")], "s", return_exceptions=True))
    assert isinstance(out[0], MediaFormatError) and isinstance(out[1], InvalidData)


def test_h264_typing_matches_the_decoder_on_a_libx264_clip():
    av = pytest.importorskip("av", reason="PyAV (the av extra) is not installed: pip install 'av>=14'")
    np = pytest.importorskip("numpy", reason="numpy is needed to draw the test clip")
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 320, 180, "yuv420p"
    encoder.time_base = __import__("fractions").Fraction(1, 30)
    encoder.options = {"bf": "2", "g": "12"}
    y, x = np.mgrid[0:180, 0:320]
    packets = []
    for i in range(60):
        image = np.stack([(x + 3 * i) % 256, (y + 2 * i) % 256, (x + y + i) % 256], -1).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    decoder = av.CodecContext.create("h264", "r")
    decoded = {}
    for packet in packets + [None]:
        for frame in decoder.decode(packet):
            decoded[frame.pts] = av.video.frame.PictureType(frame.pict_type).name
    codec = MediaCodec(EncodingConfig(h264_framing="annexb"))
    ours = {p.pts: codec.encode_single_frame(video(bytes(p)), "clip").chunk_type for p in packets}
    names = {ChunkType.VIDEO_I_FRAME: "I", ChunkType.VIDEO_P_FRAME: "P", ChunkType.VIDEO_B_FRAME: "B"}
    assert len(ours) == 60 and {pts: names[t] for pts, t in ours.items()} == decoded
    assert set(decoded.values()) == {"I", "P", "B"}
