"""A bounded live stream on the low-latency service, with metrics printed while it runs (asyncio).

Shows: StreamingServiceFactory.create_low_latency_service(), start_live_stream() with the built-in
synthetic camera (an endless source paced at the stream's frame rate), reading chunks with
`async for`, a monitor task reading get_metrics_stream(), and a clean stop: the consumer leaves after
MAX_CHUNKS, closing the stream stops its producer (a StreamStopped event read with `async for` from
service.events() says so), the monitor is cancelled and the service shuts down (threads joined).
Every async wait here runs on the event loop; none holds a thread. Pass max_chunks=N to start_live_stream to
bound a source instead; its last chunk then has is_final set.
"""
import asyncio

from rs2fast import MediaStream, MediaType, QualityLevel, StreamingServiceFactory, StreamStopped

CHUNK_SIZE = 32 * 1024
FRAME_RATE = 60
MAX_CHUNKS = 90           # 1.5 seconds of video at 60 frames/s


async def monitor(service, stream_id: str) -> None:
    """Print a metrics snapshot every half second until cancelled."""
    async for metrics in service.get_metrics_stream(interval=0.5, stream_id=stream_id):
        print(f"  [metrics] {metrics.chunks_processed:3d} chunks, {metrics.bytes_processed:9,} bytes, "
              f"avg {metrics.average_chunk_size:8,.0f} B, dropped {metrics.dropped_chunks}, "
              f"buffer {metrics.buffer_utilization:.0%}")


async def main() -> None:
    service = StreamingServiceFactory.create_low_latency_service()
    stream = MediaStream(id="camera-1", user_id=7, content_type=MediaType.VIDEO,
                         quality=QualityLevel.HIGH, chunk_size=CHUNK_SIZE,
                         metadata={"frame_rate": str(FRAME_RATE)})
    print(f"Live stream {stream.id!r}: {FRAME_RATE} frames/s, {CHUNK_SIZE // 1024} KiB chunks, "
          f"leaving after {MAX_CHUNKS} chunks")
    events = service.events()

    async def stream_stopped() -> bool:
        async for event in events:
            if isinstance(event, StreamStopped) and event.stream_id == stream.id:
                return True
        return False

    monitor_task = asyncio.create_task(monitor(service, stream.id))
    keyframes = received = 0
    try:
        async with service.start_live_stream(stream) as live:   # closing it stops the producer
            async for chunk in live:
                received += 1
                if chunk.chunk_type.name == "VIDEO_I_FRAME":
                    keyframes += 1
                    print(f"  keyframe  seq {chunk.sequence_number:3d} at "
                          f"{chunk.timestamp.total_seconds():.3f} s")
                if received == MAX_CHUNKS:
                    break
        try:
            producer_stopped = await asyncio.wait_for(stream_stopped(), 5.0)
        except asyncio.TimeoutError:
            producer_stopped = False
    finally:
        monitor_task.cancel()
        await asyncio.gather(monitor_task, return_exceptions=True)
        await service.ashutdown()

    metrics = service.get_metrics(stream.id)
    print(f"Consumer left after {received} chunks ({keyframes} keyframes); producer stopped: "
          f"{'yes' if producer_stopped else 'NO'}")
    print(f"Final metrics: {metrics.chunks_processed} chunks, {metrics.bytes_processed:,} bytes, "
          f"{metrics.dropped_chunks} dropped")


if __name__ == "__main__":
    asyncio.run(main())
