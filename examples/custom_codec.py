"""A codec with custom settings: encode frames into chunks, decode them back, compare, read the stats.

Shows: EncodingConfig (HIGH quality, 4 Mbps, a keyframe every 4 frames, SHA-256 checksums as RS2
writes them), MediaCodec.encode_stream / decode_chunk, the exact round trip (decode returns the very
bytes that were encoded), a caller's frame-type hint, a mixed audio+video frame, the H.264 preset from
CodecFactory for comparison, a corrupted chunk being refused, CodecStats, the same frames through
`aencode_stream` in asyncio code, and (with the `av` extra) real H.264 from `backend="av"`.
"""
import asyncio
from datetime import timedelta

from rs2fast import (ChunkType, CodecError, CodecFactory, CodecUnavailable, EncodingConfig, MediaChunk,
                     MediaCodec, MediaType, QualityLevel, RawMediaData)

FRAME_BYTES = 691_200                   # a stand-in for one encoded 720p frame
FRAMES = 10


def make_frames() -> list:
    """Ten deterministic 'video frames', 16 ms apart; frame 5 is hinted as a keyframe."""
    frames = []
    for index in range(FRAMES):
        payload = bytes((index * 31 + offset) % 256 for offset in range(256)) * (FRAME_BYTES // 256)
        hint = ChunkType.VIDEO_I_FRAME if index == 5 else None
        frames.append(RawMediaData(payload, MediaType.VIDEO, timedelta(milliseconds=16 * index),
                                   chunk_type=hint))
    return frames


def main() -> None:
    config = EncodingConfig(video_bitrate=4_000_000, audio_bitrate=192_000, video_codec="h264",
                            audio_codec="aac", frame_rate=60.0, keyframe_interval=4,
                            quality=QualityLevel.HIGH, checksum="sha256")
    codec = MediaCodec(config)
    print(f"Custom config: {config.quality.name} {config.video_bitrate // 1000} kbps video, "
          f"{config.audio_bitrate // 1000} kbps audio, keyframe every {config.keyframe_interval} "
          f"frames, {config.checksum} checksums")

    frames = make_frames()
    chunks = list(codec.encode_stream(frames, "custom-1"))
    print(f"Encoded {len(chunks)} frames of {FRAME_BYTES:,} bytes:")
    for chunk in chunks:
        print(f"  seq {chunk.sequence_number}  {chunk.chunk_type.name:<14} {chunk.priority.name:<6} "
              f"t={chunk.timestamp.total_seconds() * 1000:5.0f} ms  checksum {chunk.checksum[:16]}...")

    identical = sum(codec.decode_chunk(chunk).data == frame.data for chunk, frame in zip(chunks, frames))
    print(f"Round trip: {identical}/{len(frames)} frames decoded to identical bytes")

    mixed = RawMediaData(b"V" * 6000 + b"A" * 4000, MediaType.MIXED, metadata={"video_bytes": "6000"})
    mixed_chunk = codec.encode_single_frame(mixed, "custom-mixed")
    back = codec.decode_chunk(mixed_chunk)
    print(f"Mixed frame: {len(mixed.data):,} bytes -> chunk of {len(mixed_chunk):,} bytes "
          f"(8-byte header) -> {len(back.data):,} bytes, identical: {back.data == mixed.data}, "
          f"video part {back.metadata['video_bytes']} bytes")

    preset = CodecFactory.create_h264_codec(QualityLevel.HIGH)
    preset_chunks = list(preset.encode_stream(frames, "preset-1"))
    print(f"H.264 preset ({preset.config.video_bitrate // 1000} kbps, keyframe every "
          f"{preset.config.keyframe_interval}): {sum(map(len, preset_chunks)):,} bytes, "
          f"custom codec: {sum(map(len, chunks)):,} bytes, checksums {preset_chunks[0].checksum[:15]}... "
          f"vs {chunks[0].checksum[:8]}...")

    damaged = MediaChunk(chunks[0].stream_id, chunks[0].sequence_number, b"X" + bytes(chunks[0].data)[1:],
                         chunks[0].chunk_type, checksum=chunks[0].checksum)
    try:
        codec.decode_chunk(damaged)
    except CodecError as error:
        print(f"Damaged chunk refused: {error}")

    stats = codec.get_stats()
    print("Codec stats:")
    print(f"  frames encoded     {stats.frames_encoded}")
    print(f"  frames decoded     {stats.frames_decoded}")
    print(f"  bytes processed    {stats.bytes_processed:,}")
    print(f"  encoding time      {stats.encoding_time_ms:.2f} ms")
    print(f"  compression ratio  {stats.average_compression_ratio:.3f}")
    print(f"  errors             {stats.error_count}")
    print(f"Codec: {codec!r}")

    async def encode_async() -> list:
        return [chunk async for chunk in codec.aencode_stream(frames[:3], "custom-async")]

    print(f"aencode_stream in asyncio: {len(asyncio.run(encode_async()))} chunks")
    show_real_encoding()


def show_real_encoding() -> None:
    """Raw 160x96 pictures to real H.264 chunks and back, when PyAV is installed."""
    try:
        codec = MediaCodec(EncodingConfig(backend="av", keyframe_interval=4))
    except CodecUnavailable:
        print("Real H.264: skipped (the av extra is not installed)")
        return
    width, height = 160, 96
    pictures = [RawMediaData(bytes([index * 20]) * (width * height * 3), MediaType.VIDEO,
                             metadata={"width": str(width), "height": str(height)})
                for index in range(6)]
    chunks = [codec.encode_single_frame(picture, "real") for picture in pictures]
    back = codec.decode_chunk(chunks[0]).metadata
    print(f"Real H.264: {' '.join(c.chunk_type.name[6] for c in chunks)} frames, "
          f"{sum(map(len, chunks)):,} bytes for {sum(len(p.data) for p in pictures):,} raw; "
          f"first decodes to {back['width']}x{back['height']} {back['pixel_format']}")


if __name__ == "__main__":
    main()
