"""Stream a file in 64 KiB chunks with the file-streaming service and print what arrives.

Shows: StreamingServiceFactory.create_file_streaming_service(), start_file_stream(), the chunks'
sequence numbers, frame types, priorities, checksums and the final-chunk flag, and the stream's
metrics at the end. The media file is generated in a temporary folder, so the example runs anywhere.
"""
import os
import tempfile

from rs2fast import MediaStream, MediaType, QualityLevel, StreamingServiceFactory

CHUNK_SIZE = 64 * 1024


def make_media_file(folder: str) -> str:
    """A 2.5 MiB stand-in for a media file: 40 full chunks and one half chunk."""
    path = os.path.join(folder, "test_media.bin")
    with open(path, "wb") as out:
        for block in range(41):
            size = CHUNK_SIZE if block < 40 else CHUNK_SIZE // 2
            out.write(bytes([block % 256]) * size)
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = make_media_file(folder)
        print(f"Streaming {os.path.basename(path)} ({os.path.getsize(path):,} bytes) "
              f"in {CHUNK_SIZE // 1024} KiB chunks")

        stream = MediaStream(id="movie-1", user_id=42, content_type=MediaType.VIDEO,
                             quality=QualityLevel.HIGH, chunk_size=CHUNK_SIZE)
        with StreamingServiceFactory.create_file_streaming_service() as service:
            received = verified = 0
            for chunk in service.start_file_stream(path, stream):
                received += len(chunk)
                if chunk.sequence_number < 5 or chunk.is_final:
                    print(f"  chunk {chunk.sequence_number:3d}  {chunk.chunk_type.name:<14} "
                          f"{chunk.priority.name:<6} {len(chunk):6,} bytes  {chunk.checksum}"
                          + ("  <- final chunk" if chunk.is_final else ""))
                elif chunk.sequence_number == 5:
                    print("  ...")
                # the service's processor has checked each checksum already; a consumer can too
                verified += chunk.checksum_matches()

            metrics = service.get_metrics("movie-1")
            print(f"Received {received:,} bytes, {verified} checksums verified")
            print("Metrics:")
            print(f"  chunks processed    {metrics.chunks_processed}")
            print(f"  bytes processed     {metrics.bytes_processed:,}")
            print(f"  average chunk size  {metrics.average_chunk_size:,.1f} bytes")
            print(f"  dropped chunks      {metrics.dropped_chunks}")
            print(f"  buffer utilisation  {metrics.buffer_utilization:.1%}")


if __name__ == "__main__":
    main()
