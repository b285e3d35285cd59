"""Command line: `python -m rs2fast demo` (and `rs2fast demo` once installed)."""
from __future__ import annotations

import argparse
import random
import sys
import time


def demo(args: argparse.Namespace) -> int:
    """Generate sample media, push it through codec, processor and priority queue, print figures."""
    from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
    from rs2fast.codec import MediaCodec
    from rs2fast.priority_queue import MediaPriorityQueue
    from rs2fast.types import MediaType, RawMediaData

    rng = random.Random(7)
    frames = [RawMediaData(rng.randbytes(args.chunk_size), MediaType.VIDEO) for _ in range(args.frames)]
    codec = MediaCodec()
    started = time.perf_counter()
    chunks = list(codec.encode_stream(frames, "demo-camera"))
    encoded = time.perf_counter()
    for i in range(0, len(chunks) - 1, 20):  # a little network reordering and one duplicate
        chunks[i], chunks[i + 1] = chunks[i + 1], chunks[i]
    chunks.insert(len(chunks) // 2, chunks[len(chunks) // 3])
    processor = ChunkProcessor(ChunkProcessorConfig(parallel_processing=2))
    queue = MediaPriorityQueue(len(chunks))
    for chunk in processor.process_chunk_stream(chunks):
        queue.enqueue(chunk)
    queue.close()
    processed = time.perf_counter()
    by_type: dict = {}
    delivered_bytes = 0
    for chunk in queue:
        by_type[chunk.chunk_type.name] = by_type.get(chunk.chunk_type.name, 0) + 1
        delivered_bytes += len(chunk)
    done = time.perf_counter()
    stats = processor.get_stats()
    mib = sum(len(f.data) for f in frames) / 2**20
    print(f"rs2fast demo: {len(frames)} frames of {args.chunk_size} bytes ({mib:.1f} MiB), "
          "CRC-32C checksums, 1 in 20 pairs swapped, 1 duplicate")
    print(f"  encode          {len(frames) / (encoded - started):12,.0f} frames/s")
    print(f"  validate+reorder{len(chunks) / (processed - encoded):12,.0f} chunks/s "
          f"({mib / (processed - encoded):,.0f} MiB/s, checksums verified)")
    print(f"  queue drain     {len(frames) / (done - processed):12,.0f} chunks/s")
    print(f"  delivered {stats.chunks_delivered} chunks, {delivered_bytes:,} bytes; reordered "
          f"{stats.chunks_reordered}, duplicates dropped {stats.duplicates}, lost {stats.chunks_lost}")
    print("  by type: " + ", ".join(f"{name} {count}" for name, count in sorted(by_type.items())))
    processor.close()
    return 0 if stats.chunks_delivered == len(frames) else 1


def main(argv=None) -> int:
    """Entry point of the `rs2fast` command."""
    parser = argparse.ArgumentParser(prog="rs2fast", description="rs2fast media chunk streaming")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="stream built-in sample media and print figures")
    demo_parser.add_argument("--frames", type=int, default=20_000)
    demo_parser.add_argument("--chunk-size", type=int, default=16_384)
    demo_parser.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
