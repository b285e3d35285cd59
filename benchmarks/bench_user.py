"""The per-item paths a user writes (the compare.py U rows at a size asv can repeat quickly): a `for`
loop over a file stream, the queue's enqueue/len/get_nowait loop, and ChunkBatch columns."""
import asyncio
import os
import shutil
import tempfile

from benchmarks.baselines import naive_file_chunks, write_file
from benchmarks.rows_user import (batches_available, count_bytes, count_bytes_async, count_bytes_through_heapq,
                                  count_bytes_through_queue, sum_batches, sum_items)

FILE_BYTES = 4 * 1024 * 1024
CHUNKS = 8192
BATCH = 64


def _stream(name, size):
    from rs2fast import MediaStream, MediaType, QualityLevel
    return MediaStream(name, 1, MediaType.VIDEO, QualityLevel.HIGH, size)


class _FileStream:
    """A page-cached 4 MiB file and a service streaming it in 1 KiB chunks without checksums."""

    def setup(self):
        from rs2fast import EncodingConfig, MediaCodec, MediaStreamingService
        self.dir = tempfile.mkdtemp(prefix="rs2fast-asv-")
        self.path = os.path.join(self.dir, "data.bin")
        write_file(self.path, FILE_BYTES)
        self.service = MediaStreamingService(codec=MediaCodec(EncodingConfig(checksum=None)))
        self.runs = 0

    def teardown(self):
        # asv calls teardown after a skipped setup too.
        if hasattr(self, "service"):
            self.service.shutdown()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _chunks(self):
        self.runs += 1
        return self.service.start_file_stream(self.path, _stream(f"asv-{self.runs}", 1024))


class FileStreamLoop(_FileStream):
    """U1/U3: `for c in service.start_file_stream(...)` and `async for`, against the same loop over
    f.read + dataclass chunks + a dict reorder."""

    def time_for_loop(self):
        count_bytes(self._chunks())

    def time_async_for_loop(self):
        async def consume():
            return await count_bytes_async(self._chunks())
        asyncio.run(consume())

    def time_plain_python_loop(self):
        count_bytes(naive_file_chunks(self.path, 1024))


class FileStreamBatches(_FileStream):
    """U8: `for b in stream.batches()` with numpy totals and sequence check, against the same per
    item in plain Python; skipped where ChunkStream.batches is missing."""

    def setup(self):
        if not batches_available():
            raise NotImplementedError("ChunkStream.batches is missing in this rs2fast")
        super().setup()

    def time_batches_loop(self):
        sum_batches(self._chunks())

    def time_plain_python_loop(self):
        sum_items(naive_file_chunks(self.path, 1024))


class QueueLoop:
    """U2's queue part: per item `queue.enqueue(c); if len(queue) > 64: queue.get_nowait()` over
    8192 ready 1 KiB chunks, against a heapq of depth 64."""

    def setup(self):
        from rs2fast import split_buffer
        self.chunks = split_buffer(os.urandom(CHUNKS * 1024), "asv", 1024)

    def time_media_priority_queue(self):
        from rs2fast import MediaPriorityQueue
        count_bytes_through_queue(self.chunks, MediaPriorityQueue(256))

    def time_heapq_baseline(self):
        count_bytes_through_heapq(self.chunks)


class ChunkBatchColumns:
    """ChunkBatch over 8192 ready 1 KiB chunks in batches of 64: building batches and their columns,
    iterating them, against plain lists."""

    def setup(self):
        try:
            from rs2fast._batch import ChunkBatch
        except ImportError:
            raise NotImplementedError("rs2fast._batch.ChunkBatch is missing in this rs2fast") from None
        from rs2fast import split_buffer
        self.ChunkBatch = ChunkBatch
        chunks = split_buffer(os.urandom(CHUNKS * 1024), "asv", 1024, checksum="crc32c")
        self.lists = [chunks[i:i + BATCH] for i in range(0, CHUNKS, BATCH)]
        self.batches = [ChunkBatch(part) for part in self.lists]

    def time_build_and_sum_sizes(self):
        for part in self.lists:
            int(self.ChunkBatch(part).sizes.sum())

    def time_build_and_read_crc32c(self):
        for part in self.lists:
            self.ChunkBatch(part).crc32c

    def time_sum_sizes_plain_python(self):
        for part in self.lists:
            sum(len(c) for c in part)

    def time_iterate_batches(self):
        for batch in self.batches:
            for _ in batch:
                pass

    def time_iterate_lists(self):
        for part in self.lists:
            for _ in part:
                pass
