"""Subscribe to a streaming service's events and turn them into UserActivity records.

Shows: MediaStreamingService.subscribe(), the five MediaStreamEvent variants as they really happen
(StreamStarted/StreamStopped at the ends of every stream, ChunkDropped when a live buffer overflows,
QualityChanged when the adaptive service steps quality down under that pressure, BufferUnderrun when
a consumer waits for data), event.to_user_activity(), counts by activity type, and the JSON RS2 uses.

The live source below produces 50 chunks at once into an 8-chunk buffer before anybody reads: the
service sheds the lowest-priority chunks (B-frames first) and announces every drop.
"""
import threading
from collections import Counter

from rs2fast import (ChunkDropped, CodecFactory, MediaStream, MediaStreamingService, MediaType,
                     QualityChanged, QualityLevel, StreamStopped, UserActivity)


def main() -> None:
    service = MediaStreamingService(8, codec=CodecFactory.create_adaptive_codec(),
                                    overflow="drop_lowest", adaptive=True)
    activities: list = []
    finished = threading.Event()

    def on_event(event) -> None:
        activities.append(event.to_user_activity())
        if isinstance(event, StreamStopped) and event.stream_id == "burst":
            finished.set()

    unsubscribe = service.subscribe(on_event)

    # 1. a live burst nobody reads until it has ended: drops and a quality step down
    burst = MediaStream("burst", 1001, MediaType.VIDEO, QualityLevel.HIGH, 1024)
    frames = (bytes([n]) * 1024 for n in range(50))
    with service.start_live_stream(burst, frames) as chunks:
        finished.wait(10)
        kept = [chunk.sequence_number for chunk in chunks]
    print(f"Live burst: 50 chunks into an 8-chunk buffer, kept sequence numbers {kept}")

    # 2. a paced live stream read as it arrives: the reader waits, which is a buffer underrun
    paced = MediaStream("paced", 1002, MediaType.AUDIO, QualityLevel.MEDIUM, 512,
                        metadata={"frame_rate": "200", "max_chunks": "20"})
    received = sum(1 for _ in service.start_live_stream(paced))
    print(f"Paced audio stream: {received} chunks read as they were produced")

    service.shutdown()
    unsubscribe()

    counts = Counter(activity.activity_type for activity in activities)
    print(f"\n{len(activities)} events as UserActivity records, by activity type:")
    for activity_type, count in sorted(counts.items()):
        print(f"  {activity_type:<24} {count:3d}")

    drops = [a for a in activities if a.activity_type == "media_chunk_dropped"]
    users = Counter(a.user_id for a in activities)
    print(f"\nBy user: " + ", ".join(f"user {user}: {count}" for user, count in sorted(users.items())))
    per_stream = Counter(a.metadata["stream_id"] for a in drops)
    print("Dropped chunks: " + ", ".join(f"{name} {per_stream[name]}" for name in ("burst", "paced")))
    if drops:
        print(f"First drop: sequence {drops[0].metadata['sequence_number']}, "
              f"reason {drops[0].metadata['reason']!r}")
    changes = [a for a in activities if a.activity_type == "media_quality_changed"]
    for change in changes:
        print(f"Quality changed on {change.metadata['stream_id']!r}: "
              f"{change.metadata['old_quality']} -> {change.metadata['new_quality']}")

    # records round-trip through RS2's JSON shape
    record = activities[0]
    text = record.to_json()
    print(f"\nAs JSON: {text}")
    print(f"Round trip equal: {UserActivity.from_json(text) == record}")
    example = QualityChanged("demo", 7, old_quality=QualityLevel.HIGH, new_quality=QualityLevel.MEDIUM)
    print(f"A hand-made event: {example.to_json()}")
    print(f"Its activity type: {example.to_user_activity().activity_type}, "
          f"a drop's: {ChunkDropped('demo', 7, sequence_number=3, reason='late').activity_type}")


if __name__ == "__main__":
    main()
