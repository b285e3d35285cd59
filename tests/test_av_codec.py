"""Real encoding and decoding through PyAV (rs2fast.av_codec): H.264 and AAC round trips.

Tests that need PyAV skip without it; the tests at the top (the no-PyAV error, presets) always run.
"""
from __future__ import annotations

import sys
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rs2fast.av_codec import (AV_INSTALL_COMMAND, AvPreset, adts_header, av_available, preset_for,
                              require_av)
from rs2fast.codec import EncodingConfig
from rs2fast.errors import (CodecError, CodecUnavailable, DecodingFailed, EncodingFailed, InvalidData,
                            UnsupportedFormat)
from rs2fast.types import ChunkType, MediaType, QualityLevel, RawMediaData

from media_fixtures import AV_REASON, pattern

I, P, B, A = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME, ChunkType.AUDIO


# --- without PyAV -----------------------------------------------------------------------------------

def test_without_av_every_entry_point_names_the_pip_command(monkeypatch):
    from rs2fast import av_codec

    monkeypatch.setitem(sys.modules, "av", None)
    assert AV_INSTALL_COMMAND == 'pip install "rs2fast[av]"'
    assert av_available() is False
    makers = [lambda: require_av(), lambda: av_codec.AvVideoEncoder(), lambda: av_codec.AvAudioEncoder(),
              lambda: av_codec.AvVideoDecoder(), lambda: av_codec.AvAudioDecoder(),
              lambda: av_codec.AvCodecBackend(), lambda: av_codec.generate_clip()]
    for make in makers:
        with pytest.raises(CodecUnavailable) as caught:
            make()
        assert AV_INSTALL_COMMAND in str(caught.value)
        assert isinstance(caught.value, CodecError)


@pytest.mark.parametrize("level, size, video, audio", [
    (QualityLevel.LOW, (426, 240), 500_000, 64_000),
    (QualityLevel.MEDIUM, (854, 480), 1_500_000, 128_000),
    (QualityLevel.HIGH, (1280, 720), 5_000_000, 192_000),
    (QualityLevel.ULTRA_HIGH, (1920, 1080), 15_000_000, 320_000),
])
def test_presets_map_quality_to_real_resolutions_and_bitrates(level, size, video, audio):
    preset = preset_for(level)
    assert isinstance(preset, AvPreset)
    assert (preset.width, preset.height) == size == level.resolution
    assert (preset.video_bitrate, preset.audio_bitrate) == (video, audio)
    assert preset_for(int(level)) == preset
    assert preset.width % 2 == 0 and preset.height % 2 == 0     # 4:2:0 video needs even sizes


def test_preset_rejects_unknown_levels():
    with pytest.raises(ValueError, match="quality"):
        preset_for(9)


@given(length=st.integers(min_value=0, max_value=8184), rate_index=st.integers(0, 12),
       channels=st.integers(1, 7), object_type=st.integers(1, 4))
def test_adts_header_fields_round_trip(length, rate_index, channels, object_type):
    header = adts_header(length, object_type, rate_index, channels)
    bits = int.from_bytes(header, "big")
    assert len(header) == 7
    assert bits >> 44 == 0xFFF                                   # syncword
    assert (bits >> 40) & 1 == 1                                 # no CRC
    assert ((bits >> 38) & 3) + 1 == object_type
    assert (bits >> 34) & 0xF == rate_index
    assert (bits >> 30) & 0x7 == channels
    assert (bits >> 13) & 0x1FFF == length + 7


def test_adts_header_refuses_oversized_frames():
    with pytest.raises(InvalidData):
        adts_header(8185, 2, 3, 2)


# --- with PyAV --------------------------------------------------------------------------------------

av = pytest.importorskip("av", reason=AV_REASON)

from rs2fast.av_codec import (AvAudioDecoder, AvAudioEncoder, AvCodecBackend, AvVideoDecoder,  # noqa: E402
                              AvVideoEncoder, EncodedPacket, generate_clip)

W, H = 96, 64


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255.0 ** 2 / error)


def encode_frames(encoder, count, start=0):
    packets = []
    for index in range(start, start + count):
        packets += encoder.encode(pattern(index, encoder.width, encoder.height))
    return packets


def tone(samples, start=0, rate=48000):
    t = np.arange(start, start + samples) / rate
    left = (np.sin(2 * np.pi * 440 * t) * 9000).astype(np.int16)
    return np.stack([left, (left // 2).astype(np.int16)], axis=1)


@pytest.mark.parametrize("interval", [1, 5, 12])
def test_keyframes_exactly_at_the_configured_interval(interval):
    config = EncodingConfig(keyframe_interval=interval, frame_rate=25.0, video_bitrate=400_000)
    encoder = AvVideoEncoder(config, W, H, b_frames=2)
    packets = encode_frames(encoder, 30) + encoder.flush()
    assert len(packets) == 30
    by_frame = sorted(packets, key=lambda p: p.timestamp_ns)
    frame_ns = config.frame_duration_ns
    assert [p.timestamp_ns for p in by_frame] == [i * frame_ns for i in range(30)]
    assert [p.chunk_type == I for p in by_frame] == [i % interval == 0 for i in range(30)]
    assert [p.keyframe for p in by_frame] == [i % interval == 0 for i in range(30)]
    if interval > 4:
        assert any(p.chunk_type == B for p in packets)


def test_low_latency_gives_one_packet_per_frame_and_no_b_frames():
    encoder = AvVideoEncoder(EncodingConfig(keyframe_interval=10), W, H, low_latency=True)
    counts, types = [], []
    for index in range(25):
        ready = encoder.encode(pattern(index, W, H), timestamp_ns=1_000 * index)
        counts.append(len(ready))
        types += [p.chunk_type for p in ready]
        assert ready[0].timestamp_ns == 1_000 * index
    assert counts == [1] * 25
    assert types == [I if i % 10 == 0 else P for i in range(25)]
    assert encoder.flush() == []


def test_bitrate_setting_changes_the_output_size():
    sizes = []
    for bitrate in (100_000, 2_000_000):
        encoder = AvVideoEncoder(EncodingConfig(video_bitrate=bitrate, keyframe_interval=30), 160, 96)
        rng = np.random.default_rng(5)
        packets = []
        for _ in range(30):
            packets += encoder.encode(rng.integers(0, 256, (96, 160, 3), dtype=np.uint8))
        packets += encoder.flush()
        sizes.append(sum(len(p.data) for p in packets))
    assert sizes[1] > 3 * sizes[0]


def test_video_round_trip_keeps_frames_timestamps_and_types():
    config = EncodingConfig(keyframe_interval=8, video_bitrate=3_000_000)
    encoder = AvVideoEncoder(config, W, H)
    stamps = [5_000_000 + 40_000_000 * i for i in range(20)]
    packets = []
    for index, stamp in enumerate(stamps):
        packets += encoder.encode(pattern(index, W, H), timestamp_ns=stamp)
    packets += encoder.flush()
    assert all(isinstance(p, EncodedPacket) and p.data[:4] == b"\0\0\0\1" for p in packets)  # Annex B
    decoder = AvVideoDecoder("h264")
    pictures = []
    for packet in packets:
        pictures += decoder.decode(packet.data, packet.timestamp_ns)
    pictures += decoder.flush()
    assert [p.timestamp_ns for p in pictures] == stamps
    assert all(p.image.shape == (H, W, 3) and p.image.dtype == np.uint8 for p in pictures)
    for index, picture in enumerate(pictures):       # lossy, but each picture is its own frame
        scores = [psnr(picture.image, pattern(k, W, H)) for k in range(20)]
        assert scores.index(max(scores)) == index and scores[index] > 22
    sent = {p.timestamp_ns: p.chunk_type for p in packets}
    assert [p.chunk_type for p in pictures] == [sent[s] for s in stamps]    # encoder and decoder agree


def test_every_keyframe_packet_decodes_on_its_own():
    encoder = AvVideoEncoder(EncodingConfig(keyframe_interval=6), W, H)
    packets = encode_frames(encoder, 18) + encoder.flush()
    keyframes = [p for p in packets if p.keyframe]
    assert len(keyframes) == 3
    for packet in keyframes[1:]:                   # a receiver joining late, at a later keyframe
        decoder = AvVideoDecoder("h264")
        pictures = decoder.decode(packet.data, 1) + decoder.flush()
        assert len(pictures) == 1 and pictures[0].chunk_type == I


def test_planar_yuv_input_and_yuv_output():
    encoder = AvVideoEncoder(EncodingConfig(keyframe_interval=4, video_bitrate=2_000_000), W, H,
                             pixel_format="yuv420p", low_latency=True)
    plane = np.full((H * 3 // 2, W), 128, np.uint8)
    plane[:H] = np.arange(W, dtype=np.uint8)[None, :] * 2
    packets = encoder.encode(plane.tobytes()) + encoder.encode(plane) + encoder.flush()
    decoder = AvVideoDecoder("h264", output="yuv420p")
    pictures = [f for p in packets for f in decoder.decode(p.data)] + decoder.flush()
    assert len(pictures) == 2
    assert pictures[0].image.shape == (H * 3 // 2, W)
    assert np.abs(pictures[0].image.astype(int) - plane.astype(int)).mean() < 3


@pytest.mark.parametrize("frame, error", [
    (np.zeros((H, W, 3), np.float32), TypeError),
    (np.zeros((H, W + 2, 3), np.uint8), InvalidData),
    (b"\0" * 10, InvalidData),
    ("picture", TypeError),
])
def test_bad_frames_are_clear_errors(frame, error):
    encoder = AvVideoEncoder(EncodingConfig(), W, H)
    with pytest.raises(error):
        encoder.encode(frame)
    packets = encoder.encode(pattern(0, W, H)) + encoder.flush()   # still usable afterwards
    assert len(packets) == 1 and packets[0].chunk_type == I


@pytest.mark.parametrize("kwargs, error, word", [
    ({"width": 95}, ValueError, "even"),
    ({"width": 0}, ValueError, "width"),
    ({"height": "64"}, TypeError, "height"),
    ({"pixel_format": "rgba"}, ValueError, "pixel_format"),
    ({"b_frames": -1}, ValueError, "b_frames"),
])
def test_bad_video_encoder_settings(kwargs, error, word):
    options = {"width": W, "height": H, **kwargs}
    with pytest.raises(error, match=word):
        AvVideoEncoder(EncodingConfig(), **options)


def test_encoder_refuses_configs_without_its_codec_and_use_after_flush():
    with pytest.raises(UnsupportedFormat):
        AvVideoEncoder(EncodingConfig(video_codec=None), W, H)
    with pytest.raises(UnsupportedFormat):
        AvAudioEncoder(EncodingConfig(audio_codec=None))
    with pytest.raises(TypeError, match="config"):
        AvVideoEncoder({"video_bitrate": 1})
    encoder = AvVideoEncoder(EncodingConfig(), W, H)
    encoder.flush()
    with pytest.raises(EncodingFailed):
        encoder.encode(pattern(0, W, H))


def test_default_resolution_follows_the_quality_level():
    encoder = AvVideoEncoder(EncodingConfig(quality=QualityLevel.LOW))
    assert (encoder.width, encoder.height) == QualityLevel.LOW.resolution


def test_audio_round_trip_adts_timestamps_and_samples():
    encoder = AvAudioEncoder(EncodingConfig(audio_bitrate=128_000), 48000, 2)
    assert encoder.framing == "adts"
    blocks = [tone(1000, 1000 * k) for k in range(48)]            # 1 s in uneven blocks
    base = 7_000_000_000
    packets = []
    for k, block in enumerate(blocks):
        packets += encoder.encode(block, timestamp_ns=base + k * 1000 * 10**9 // 48000)
    packets += encoder.flush()
    assert all(p.chunk_type == A and p.data[0] == 0xFF and p.data[1] & 0xF0 == 0xF0 for p in packets)
    stamps = [p.timestamp_ns for p in packets]
    assert stamps[0] == base + (-1024 * 10**9) // 48000            # the priming frame comes first
    assert stamps[1] == base and stamps == sorted(stamps)
    decoder = AvAudioDecoder("aac")
    out = [d for p in packets for d in decoder.decode(p.data, p.timestamp_ns)] + decoder.flush()
    assert [d.timestamp_ns for d in out] == stamps
    samples = np.concatenate([d.samples for d in out])[1024:1024 + 48000]
    original = np.concatenate(blocks)
    assert samples.dtype == np.int16 and samples.shape == original.shape
    correlation = np.corrcoef(samples[:, 0].astype(float), original[:, 0].astype(float))[0, 1]
    assert correlation > 0.99


def test_audio_bytes_float_and_mono_input():
    encoder = AvAudioEncoder(EncodingConfig(), 44100, 1, sample_format="flt")
    signal = (np.sin(np.arange(4096) / 10) * 0.5).astype(np.float32)
    packets = encoder.encode(signal.tobytes()) + encoder.encode(signal) + encoder.flush()
    decoder = AvAudioDecoder("aac", output="flt")
    out = [d for p in packets for d in decoder.decode(p.data)] + decoder.flush()
    assert out[0].channels == 1 and out[0].sample_rate == 44100 and out[0].samples.dtype == np.float32
    assert sum(len(d.samples) for d in out) >= 8192


@pytest.mark.parametrize("pcm, error", [
    (np.zeros((100, 2), np.float32), TypeError),
    (np.zeros((100, 3), np.int16), InvalidData),
    (b"\0" * 7, InvalidData),
    (3.5, TypeError),
])
def test_bad_pcm_is_a_clear_error(pcm, error):
    encoder = AvAudioEncoder(EncodingConfig(), 48000, 2)
    with pytest.raises(error):
        encoder.encode(pcm)


def test_decoders_refuse_bad_arguments_and_survive_garbage():
    with pytest.raises(UnsupportedFormat):
        AvVideoDecoder("no-such-codec")
    with pytest.raises(UnsupportedFormat):
        AvVideoDecoder("aac")
    with pytest.raises(ValueError, match="output"):
        AvVideoDecoder(output="rgba64")
    decoder = AvVideoDecoder("h264")
    with pytest.raises(InvalidData):
        decoder.decode(b"")
    rng = np.random.default_rng(1)
    for _ in range(20):                       # noise never crashes: nothing, or DecodingFailed
        try:
            assert decoder.decode(rng.integers(0, 256, 300, dtype=np.uint8).tobytes()) == []
        except DecodingFailed:
            pass


def test_backend_encodes_raw_media_data_and_decodes_chunks():
    from rs2fast._chunk import MediaChunk

    config = EncodingConfig(keyframe_interval=5, checksum="crc32c")
    backend = AvCodecBackend(config)
    chunks = []
    for index in range(12):
        raw = RawMediaData(pattern(index, W, H).tobytes(), MediaType.VIDEO,
                           timedelta(milliseconds=40 * index), {"width": str(W), "height": str(H)})
        packets = backend.encode(raw, "cam")
        assert len(packets) == 1                                  # low latency: one packet per frame
        chunks.append(MediaChunk("cam", index, packets[0].data, packets[0].chunk_type,
                                 timestamp_ns=packets[0].timestamp_ns))
    assert [c.chunk_type for c in chunks] == [I if i % 5 == 0 else P for i in range(12)]
    frames = [f for c in chunks for f in backend.decode(c)]
    assert len(frames) == 12
    assert frames[3].metadata == {"width": str(W), "height": str(H), "pixel_format": "rgb24"}
    assert frames[3].timestamp == timedelta(milliseconds=120) and frames[5].chunk_type == I
    picture = np.frombuffer(frames[3].data, np.uint8).reshape(H, W, 3)
    assert psnr(picture, pattern(3, W, H)) > 25
    audio = RawMediaData(tone(4800).tobytes(), MediaType.AUDIO, timedelta(0), {"sample_rate": "48000"})
    packets = backend.encode(audio, "mic") + backend.flush("mic")
    assert len(packets) >= 5 and all(p.chunk_type == A for p in packets)
    pcm = [r for p in packets for r in backend.decode(MediaChunk("mic", 0, p.data, A))]
    assert pcm[0].metadata["channels"] == "2" and pcm[0].media_type == MediaType.AUDIO
    with pytest.raises(UnsupportedFormat):
        backend.encode(RawMediaData(b"\1\2", MediaType.MIXED), "mix")
    with pytest.raises(InvalidData):
        backend.encode(RawMediaData(b"\1", MediaType.VIDEO, metadata={"width": "wide"}), "bad")
    backend.close()


def test_media_codec_with_the_av_backend_encodes_real_h264_and_decodes_it():
    from rs2fast.codec import MediaCodec
    from rs2fast._h264 import classify_access_unit

    codec = MediaCodec(EncodingConfig(backend="av", keyframe_interval=4, checksum="crc32c"))
    meta = {"width": str(W), "height": str(H)}
    chunks = [codec.encode_single_frame(RawMediaData(pattern(i, W, H).tobytes(), MediaType.VIDEO,
                                                     timedelta(milliseconds=40 * i), meta), "cam")
              for i in range(9)]
    assert [c.sequence_number for c in chunks] == list(range(9))
    assert [c.chunk_type for c in chunks] == [I if i % 4 == 0 else P for i in range(9)]
    assert all(classify_access_unit(c.data, "annexb") == c.chunk_type for c in chunks)
    assert all(c.checksum_matches() and c.checksum.startswith("crc32c:") for c in chunks)
    assert chunks[2].timestamp == timedelta(milliseconds=80)
    assert codec.flush("cam") == []
    pictures = [codec.decode_chunk(c) for c in chunks]
    assert pictures[6].metadata == {"width": str(W), "height": str(H), "pixel_format": "rgb24"}
    assert psnr(np.frombuffer(pictures[6].data, np.uint8).reshape(H, W, 3), pattern(6, W, H)) > 25
    stats = codec.get_stats()
    assert (stats.frames_encoded, stats.frames_decoded, stats.error_count) == (9, 9, 0)
    assert stats.average_compression_ratio > 1
    assert "backend='av'" in repr(codec)


def test_media_codec_with_the_av_backend_encodes_audio_through_encode_stream():
    from rs2fast.codec import MediaCodec

    codec = MediaCodec(EncodingConfig(backend="av"))
    blocks = [RawMediaData(tone(1000).tobytes(), MediaType.AUDIO) for _ in range(6)]
    with pytest.raises(UnsupportedFormat, match="encode_frame"):
        codec.encode_single_frame(blocks[0], "mic")
    assert codec.get_stats().error_count == 1
    chunks = list(codec.encode_stream(blocks, "mic"))           # flushed at the end of the input
    assert len(chunks) >= 6 and {c.chunk_type for c in chunks} == {A}
    assert [c.sequence_number for c in chunks] == list(range(len(chunks)))
    samples = sum(len(codec.decode_chunk(c).data) for c in chunks) // 4      # s16 stereo
    assert samples >= 6000
    with pytest.raises(UnsupportedFormat):
        codec.encode_frame(RawMediaData(b"\1\2", MediaType.MIXED), "mix")
    with pytest.raises(InvalidData):
        codec.encode_frame(RawMediaData(b"", MediaType.VIDEO), "cam")
    assert codec.get_stats().error_count == 3


def test_media_codec_copies_share_the_av_backend_and_quality_reaches_new_streams():
    from rs2fast.codec import MediaCodec

    codec = MediaCodec(EncodingConfig(backend="av"))
    twin = codec.clone()
    meta = {"width": str(W), "height": str(H)}
    codec.encode_single_frame(RawMediaData(pattern(0, W, H).tobytes(), MediaType.VIDEO,
                                           metadata=meta), "cam")
    chunk = twin.encode_single_frame(RawMediaData(pattern(1, W, H).tobytes(), MediaType.VIDEO,
                                                  metadata=meta), "cam")
    assert (chunk.sequence_number, chunk.chunk_type) == (1, P)     # same encoder, same numbering
    codec.set_quality(QualityLevel.LOW)
    width, height = QualityLevel.LOW.resolution                   # a new stream's default picture size
    fresh = codec.encode_single_frame(RawMediaData(bytes(width * height * 3), MediaType.VIDEO), "new")
    assert codec.decode_chunk(fresh).metadata["width"] == str(width)


def test_generated_clip_is_real_h264_and_aac():
    import io

    data = generate_clip(1.0, 160, 90, 30, keyframe_interval=10)
    with av.open(io.BytesIO(data)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
        frames = list(container.decode(video=0))
    assert len(frames) == 30 and frames[0].width == 160
    assert [int(f.pict_type) == 1 for f in frames] == [i % 10 == 0 for i in range(30)]
    for fmt in ("mpegts", "matroska"):
        assert len(generate_clip(0.5, container_format=fmt, audio=False)) > 1000
    with pytest.raises(ValueError):
        generate_clip(0)
    with pytest.raises(ValueError):
        generate_clip(1, width=15)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=8))
def test_audio_timestamps_follow_any_block_sizes(sizes):
    encoder = AvAudioEncoder(EncodingConfig(), 48000, 2)
    packets, start = [], 0
    for size in sizes:
        packets += encoder.encode(tone(size, start))
        start += size
    packets += encoder.flush()
    stamps = [p.timestamp_ns for p in packets]
    assert stamps == [(k - 1) * 1024 * 10**9 // 48000 for k in range(len(packets))]
    assert (len(packets) - 1) * 1024 >= start
