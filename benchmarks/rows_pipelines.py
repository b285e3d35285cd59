"""Pipeline rows: T1 (processor + queue), T2..T4 and P1/P2 (64 KiB file pipelines), T7 (a big
file's memory), T8/P4 (import time), T9 (container ingest) and the P3/P5 extras."""
from __future__ import annotations

import gc
import heapq
import json
import os
import statistics
import subprocess
import sys
import time
from collections import deque
from typing import Any, Callable, Dict, List, Optional

from benchmarks.baselines import (GIB, KIB, MIB, REORDER_WINDOW, WINDOW, NaiveProcessor, local_shuffle,
                                  naive_crc32, naive_sha256, naive_split, payload, write_file,
                                  xxh3_hexdigest)
from benchmarks.table import Row, measure, rate_row

T1_BATCH = 256               # chunks handed to process_batch at once in T1


def our_chunks(data: bytes, size: int, checksum: Any = None) -> list:
    """`data` split by rs2fast's split_buffer."""
    from rs2fast._chunk import split_buffer
    return split_buffer(data, "bench", size, checksum=checksum)


def _drain_ours(q, sink: list, batch: int) -> int:
    nbytes = 0
    while len(q):
        for c in q.get_batch(batch):
            sink.append(c.sequence_number)
            nbytes += len(c)
    return nbytes


def _drain_naive(h: list, sink: list) -> int:
    nbytes = 0
    pop = heapq.heappop
    while h:
        c = pop(h)[3]
        sink.append(c.sequence_number)
        nbytes += len(c.data)
    return nbytes


def t1_makers(n: int) -> Dict[str, Callable[[], Callable[[], Any]]]:
    """Makers of the T1 pipelines over n 1 KiB chunks, validation on, no checksum, 5 % locally
    shuffled: "ours" (processor -> MediaPriorityQueue -> Python consumer, batches of 256) and
    "naive" (NaiveProcessor -> heapq -> the same consumer); "ours_stream" / "naive_stream" feed
    process_chunk_stream (no queue) and the naive processor one chunk at a time."""
    from rs2fast.chunk_processor import ChunkProcessor, ChunkProcessorConfig
    from rs2fast.priority_queue import MediaPriorityQueue

    size, batch = KIB, T1_BATCH
    data = payload(n * size)
    order = local_shuffle(n)
    ours_all = our_chunks(data, size)
    naive_all = naive_split(data, "bench", size)
    ours = [ours_all[i] for i in order]
    naive = [naive_all[i] for i in order]
    config = ChunkProcessorConfig(parallel_processing=1)

    def ours_t1():
        proc = ChunkProcessor(config)
        q = MediaPriorityQueue(4096)

        def run():
            sink: list = []
            nbytes = 0
            for i in range(0, n, batch):
                q.enqueue_batch(proc.process_batch(ours[i:i + batch]))
                nbytes += _drain_ours(q, sink, batch)
            q.enqueue_batch(proc.flush())
            nbytes += _drain_ours(q, sink, batch)
            stats = proc.get_stats()
            return sink, nbytes, stats.chunks_delivered, stats.chunks_dropped
        return run

    def naive_t1():
        proc = NaiveProcessor()

        def run():
            sink: list = []
            nbytes = 0
            h: list = []
            arrival = 0
            push = heapq.heappush
            for i in range(0, n, batch):
                for c in proc.process_batch(naive[i:i + batch]):
                    push(h, (-c.priority, c.sequence_number, arrival, c))
                    arrival += 1
                nbytes += _drain_naive(h, sink)
            for c in proc.flush():
                push(h, (-c.priority, c.sequence_number, arrival, c))
                arrival += 1
            nbytes += _drain_naive(h, sink)
            return sink, nbytes, proc.delivered, proc.received - proc.delivered
        return run

    def ours_stream():
        proc = ChunkProcessor(config)

        def run():
            sink: list = []
            nbytes = 0
            for c in proc.process_chunk_stream(ours):
                sink.append(c.sequence_number)
                nbytes += len(c)
            return sink, nbytes
        return run

    def naive_stream():
        proc = NaiveProcessor()

        def run():
            sink: list = []
            nbytes = 0
            for c in naive:
                for r in proc.process_batch((c,)):
                    sink.append(r.sequence_number)
                    nbytes += len(r.data)
            for r in proc.flush():
                sink.append(r.sequence_number)
                nbytes += len(r.data)
            return sink, nbytes
        return run

    def ours_kernels():
        # The T1 work built straight from the batch kernels (one stream, so no grouping by
        # stream id): what process_batch + enqueue_batch could reach if they used them.
        import numpy as np
        from rs2fast._chunk import validate_batch
        from rs2fast._heap import PriorityHeap
        from rs2fast._reorder import ReorderBuffer

        rb = ReorderBuffer(REORDER_WINDOW)
        heap = PriorityHeap(4096)
        statuses = np.zeros(batch, dtype=np.uint8)

        def deliver(ready, sink):
            heap.push_chunks(ready)
            nbytes = 0
            for c in heap.pop_batch(len(ready)):
                sink.append(c.sequence_number)
                nbytes += len(c)
            return nbytes

        def run():
            sink: list = []
            nbytes = dropped = 0
            for i in range(0, n, batch):
                part = ours[i:i + batch]
                codes = validate_batch(part)
                if codes.count(0) != len(part):
                    dropped += len(part) - codes.count(0)
                    part = [c for c, code in zip(part, codes) if not code]
                seqs = np.fromiter((c.sequence_number for c in part), dtype=np.uint64, count=len(part))
                ready: list = []
                rb.insert_batch(seqs, part, 0, statuses[:len(part)], ready)
                nbytes += deliver(ready, sink)
            ready = []
            rb.flush(ready)
            nbytes += deliver(ready, sink)
            return sink, nbytes, len(sink), dropped
        return run

    return {"ours": ours_t1, "naive": naive_t1, "ours_stream": ours_stream, "naive_stream": naive_stream,
            "ours_kernels": ours_kernels}


def bench_t1(n: int, reps: int, want: set) -> List[Row]:
    """T1 (processor -> queue -> consumer vs naive) and P3 (process_chunk_stream vs naive)."""
    batch = T1_BATCH
    every = t1_makers(n)
    makers: Dict[str, Callable] = {}
    if "T1" in want:
        makers.update(ours=every["ours"], naive=every["naive"])
    if "P3" in want:
        makers.update(ours_stream=every["ours_stream"], naive_stream=every["naive_stream"])
    if "P5" in want:
        makers.update(ours_kernels=every["ours_kernels"], naive=every["naive"])
    secs, res = measure(makers, reps)
    rows = []
    if "T1" in want:
        ok = res["ours"] == res["naive"] and res["ours"][2] == n and res["ours"][3] == 0
        rows.append(rate_row("T1", "1 KiB: processor+queue+consumer vs naive", n / secs["ours"] / 1e3,
                              n / secs["naive"] / 1e3, "k chunks/s", 10, False, ok,
                              f"{n:,} chunks, validation on, no checksum, 5 % shuffled, batches of {batch}"))
    if "P3" in want:
        ok = res["ours_stream"] == res["naive_stream"] and sorted(res["ours_stream"][0]) == list(range(n))
        rows.append(rate_row("P3", "1 KiB: process_chunk_stream (1 worker) vs naive", n / secs["ours_stream"] / 1e3,
                              n / secs["naive_stream"] / 1e3, "k chunks/s", None, False, ok,
                              "no queue; batches of the processor's batch_size (64)"))
    if "P5" in want:
        ok = res["ours_kernels"] == res["naive"] and res["ours_kernels"][2] == n
        rows.append(rate_row("P5", "1 KiB: T1 from the batch kernels vs naive", n / secs["ours_kernels"] / 1e3,
                              n / secs["naive"] / 1e3, "k chunks/s", None, False, ok,
                              "validate_batch + insert_batch + push_chunks/pop_batch + the same consumer: "
                              "the headroom T1 leaves"))
    return rows


def file_pipeline_ours(path: str, chunk_size: int, checksum: Optional[str], workers: int):
    """Maker: MediaStreamingService.start_file_stream (windows read, split and checksummed by the
    codec's rule on `workers` threads; the processor verifies and reorders; the stream's bounded
    buffer is the queue) and a Python consumer."""
    from rs2fast.chunk_processor import ChunkProcessorConfig
    from rs2fast.codec import EncodingConfig, MediaCodec
    from rs2fast.streaming import MediaStreamingService
    from rs2fast.types import MediaStream, MediaType, QualityLevel

    def make():
        def run():
            sink: list = []
            nbytes = 0
            service = MediaStreamingService(
                1024, codec=MediaCodec(EncodingConfig(checksum=checksum)),
                processor_config=ChunkProcessorConfig(parallel_processing=workers))
            stream = MediaStream("file", 0, MediaType.VIDEO, QualityLevel.HIGH, chunk_size)
            for chunk in service.start_file_stream(path, stream):
                sink.append(chunk.sequence_number)
                nbytes += len(chunk)
            stats = service.processor.get_stats()
            service.shutdown()
            return sink, nbytes, stats.validation_failures + stats.chunks_dropped
        return run
    return make


def file_pipeline_naive(path: str, chunk_size: int, checksum: Callable[[bytes], str]):
    """Maker: the same pipeline in plain Python: bytes slicing into dataclass chunks with
    `checksum`, validation recomputing it, dict reorder, a FIFO queue (as the stream's own buffer
    on our side), the same consumer."""
    window = chunk_size * max(1, WINDOW // chunk_size)

    def make():
        proc = NaiveProcessor(checksum=checksum)

        def run():
            sink: list = []
            fifo: deque = deque()
            nbytes = offset = seq = 0
            with open(path, "rb", buffering=0) as f:
                total = os.fstat(f.fileno()).st_size
                while True:
                    data = f.read(window)
                    if not data:
                        break
                    offset += len(data)
                    chunks = naive_split(data, "file", chunk_size, seq, checksum, offset >= total)
                    seq += len(chunks)
                    fifo.extend(proc.process_batch(chunks))
                    while fifo:
                        c = fifo.popleft()
                        sink.append(c.sequence_number)
                        nbytes += len(c.data)
            for c in proc.flush():
                sink.append(c.sequence_number)
                nbytes += len(c.data)
            return sink, nbytes, proc.invalid
        return run
    return make


def bench_file(nbytes: int, reps: int, want: set, tmpdir: str) -> List[Row]:
    """T2a/T2b/T3/T4/P1/P2: 64 KiB chunks from a page-cached file."""
    size = 64 * KIB
    path = os.path.join(tmpdir, "pipeline.bin")
    write_file(path, nbytes)
    xxh = xxh3_hexdigest()
    makers: Dict[str, Callable] = {"naive_zlib": file_pipeline_naive(path, size, naive_crc32)}
    if want & {"T2a", "T2b", "T3"}:
        makers["crc_1"] = file_pipeline_ours(path, size, "crc32c", 1)
    if "T3" in want:
        makers["crc_2"] = file_pipeline_ours(path, size, "crc32c", 2)
    if "T2a" in want and xxh is not None:
        makers["naive_xxh3"] = file_pipeline_naive(path, size, xxh)
    if want & {"T4", "P1", "P2"}:
        makers["naive_sha"] = file_pipeline_naive(path, size, naive_sha256)
        makers["sha_2"] = file_pipeline_ours(path, size, "sha256", 2)
    if want & {"P1", "P2"}:
        makers["sha_1"] = file_pipeline_ours(path, size, "sha256", 1)
    try:
        secs, res = measure(makers, reps)
    finally:
        os.unlink(path)
    count = -(-nbytes // size)
    ref = res["naive_zlib"]
    ref_ok = len(ref[0]) == count and sorted(ref[0]) == list(range(count))

    def ok(name: str) -> bool:
        got = res[name]
        return ref_ok and got[0] == ref[0] and got[1] == nbytes and got[2] == 0 and len(got[0]) == count

    gbps = {k: nbytes / v / 1e9 for k, v in secs.items()}
    mib = f"{nbytes // MIB} MiB file"
    rows = []
    if "T2a" in want:
        if xxh is None:
            rows.append(Row("T2a", "64 KiB crc32c 1 worker vs naive xxh3", gbps["crc_1"], None, "GB/s", None,
                            ">= 1x", None, "skipped: xxhash is not importable"))
        else:
            rows.append(rate_row("T2a", "64 KiB crc32c 1 worker vs naive xxh3", gbps["crc_1"],
                                  gbps["naive_xxh3"], "GB/s", 1, False, ok("crc_1") and ok("naive_xxh3"),
                                  f"{mib}; checksum computed at split and verified by validation"))
    if "T2b" in want:
        rows.append(rate_row("T2b", "64 KiB crc32c 1 worker vs naive zlib.crc32", gbps["crc_1"],
                              gbps["naive_zlib"], "GB/s", 2.5, False, ok("crc_1")))
    if "T3" in want:
        rows.append(rate_row("T3", "64 KiB crc32c 2 workers vs 1 worker (T2)", gbps["crc_2"], gbps["crc_1"],
                              "GB/s", 1.6, False, ok("crc_2") and ok("crc_1")))
    if "T4" in want:
        rows.append(rate_row("T4", "64 KiB sha256 2 workers vs naive sha256", gbps["sha_2"], gbps["naive_sha"],
                              "GB/s", 1.7, False, ok("sha_2") and ok("naive_sha")))
    if "P1" in want:
        rows.append(rate_row("P1", "64 KiB sha256 1 worker vs naive sha256", gbps["sha_1"], gbps["naive_sha"],
                              "GB/s", None, False, ok("sha_1") and ok("naive_sha")))
    if "P2" in want:
        rows.append(rate_row("P2", "64 KiB sha256 2 workers vs 1 worker", gbps["sha_2"], gbps["sha_1"],
                              "GB/s", None, False, ok("sha_2") and ok("sha_1")))
    return rows


def pipeline_point(chunk_size: int, nbytes: int, reps: int, tmpdir: str) -> Dict[str, float]:
    """GB/s of the rs2fast (crc32c, 1 worker) and naive (zlib.crc32) file pipelines at one chunk
    size (used by benchmarks/plot.py)."""
    path = os.path.join(tmpdir, f"point-{chunk_size}.bin")
    write_file(path, nbytes)
    try:
        secs, res = measure({"rs2fast": file_pipeline_ours(path, chunk_size, "crc32c", 1),
                             "naive": file_pipeline_naive(path, chunk_size, naive_crc32)}, reps)
    finally:
        os.unlink(path)
    if res["rs2fast"][0] != res["naive"][0] or res["rs2fast"][1] != nbytes:
        raise AssertionError(f"pipelines disagree at chunk size {chunk_size}")
    return {k: nbytes / v / 1e9 for k, v in secs.items()}


def _proc_status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def stream_child(path: str, chunk_size: int) -> None:
    """Subprocess body for T7: stream `path` through MediaStreamingService (default settings) into a
    counting consumer; print JSON with bytes, seconds and the peak RSS growth."""
    from rs2fast.streaming import MediaStreamingService
    from rs2fast.types import MediaStream, MediaType, QualityLevel

    service = MediaStreamingService()
    stream = MediaStream("t7", 1, MediaType.VIDEO, QualityLevel.HIGH, chunk_size)
    gc.collect()
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as f:   # resets VmHWM to the current RSS
            f.write("5")
    except OSError:
        reset = False
    rss_before = _proc_status_kib("VmRSS")
    hwm_before = _proc_status_kib("VmHWM")
    started = time.perf_counter()
    nbytes = count = 0
    last = None
    for chunk in service.start_file_stream(path, stream):
        nbytes += len(chunk)
        count += 1
        last = chunk
    elapsed = time.perf_counter() - started
    hwm_after = _proc_status_kib("VmHWM")
    final_ok = last is not None and last.is_final and last.sequence_number == count - 1
    service.shutdown()
    base = rss_before if reset else max(rss_before, hwm_before)
    print(json.dumps({"bytes": nbytes, "seconds": elapsed, "chunks": count, "final_ok": final_ok,
                      "rss_growth_kib": hwm_after - base, "hwm_reset": reset,
                      "buffer_capacity": service.buffer_capacity}))


def _run_stream_child(path: str, chunk_size: int) -> dict:
    code = ("import sys; sys.path[:0] = sys.argv[1:3]; from benchmarks.rows_pipelines import stream_child; "
            "stream_child(sys.argv[3], int(sys.argv[4]))")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", code, _package_parent(), here, path, str(chunk_size)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"T7 child failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _package_parent() -> str:
    import rs2fast
    return os.path.dirname(os.path.dirname(os.path.abspath(rs2fast.__file__)))


def bench_t7(big: int, reps: int, want: set, tmpdir: str) -> List[Row]:
    """T7a/T7b: peak RSS growth while streaming a `big` file, and its throughput against a 64 MiB
    file (each run in a fresh subprocess, 64 KiB chunks, default service settings)."""
    size = 64 * KIB
    small = 64 * MIB
    small_path = os.path.join(tmpdir, "t7-small.bin")
    big_path = os.path.join(tmpdir, "t7-big.bin")
    write_file(small_path, small)
    try:
        runs_small = [_run_stream_child(small_path, size) for _ in range(max(reps, 3))]
        if big == small:
            big_path = small_path
        else:
            write_file(big_path, big)
        runs_big = [_run_stream_child(big_path, size) for _ in range(max(1, min(reps, 3)))]
    finally:
        for p in (small_path, big_path):
            if os.path.exists(p):
                os.unlink(p)
    ok = (all(r["bytes"] == small and r["final_ok"] for r in runs_small)
          and all(r["bytes"] == big and r["final_ok"] for r in runs_big))
    growth = max(r["rss_growth_kib"] for r in runs_big) / KIB
    thr_small = statistics.median(small / r["seconds"] / 1e9 for r in runs_small)
    thr_big = statistics.median(big / r["seconds"] / 1e9 for r in runs_big)
    label = f"{big / GIB:g} GiB" if big >= GIB else f"{big // MIB} MiB"
    rows = []
    if "T7a" in want:
        note = (f"{len(runs_big)} run(s); buffer_capacity {runs_big[0]['buffer_capacity']} chunks; "
                + ("VmHWM reset via clear_refs" if runs_big[0]["hwm_reset"] else "VmHWM not resettable"))
        rows.append(Row("T7a", f"stream {label} file: peak RSS growth", growth, None, "MiB", None,
                        "<= 64 MiB", ok and growth <= 64, note if ok else "RESULT MISMATCH; " + note))
    if "T7b" in want:
        rows.append(rate_row("T7b", f"stream {label} vs 64 MiB file throughput", thr_big, thr_small, "GB/s",
                              0.9, False, ok, "MediaStreamingService.start_file_stream, 64 KiB chunks"))
    return rows


def bench_import(reps: int, want: set) -> List[Row]:
    """T8: `import rs2fast` in a fresh interpreter (median); P4 for the streaming service module."""
    rows = []

    def timed(stmt: str) -> float:
        code = (f"import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); {stmt}; "
                "print(time.perf_counter() - t)")
        samples = []
        for _ in range(max(reps, 5)):
            out = subprocess.run([sys.executable, "-c", code, _package_parent()], capture_output=True,
                                 text=True, check=True).stdout
            samples.append(float(out.strip()) * 1e3)
        return statistics.median(samples)

    if "T8" in want:
        ms = timed("import rs2fast")
        rows.append(Row("T8", "import rs2fast (fresh interpreter)", ms, None, "ms", None, "<= 50 ms", ms <= 50))
    if "P4" in want:
        ms = timed("import rs2fast.streaming")
        rows.append(Row("P4", "import rs2fast.streaming (fresh interpreter)", ms, None, "ms", None, "-", None,
                        "the whole library (codec, processor, queue, events, numpy)"))
    return rows


def bench_container(reps: int, want: set, work: str, seconds: float) -> List[Row]:
    """T9: container ingest (bitstream typing, CRC-32C, queue, consumer) against a bare PyAV demux
    loop over the same generated 640x360 H.264+AAC clip, in packets per second."""
    from rs2fast.av_codec import av_available, generate_clip
    if not av_available():
        return [Row("T9", "container ingest vs bare PyAV demux", None, None, "k packets/s", None,
                    "<= 15 % overhead", None, "skipped: the av extra is not installed")]
    import av

    from rs2fast.container import ContainerReader
    from rs2fast.priority_queue import MediaPriorityQueue

    path = os.path.join(work, "clip.mp4")
    with open(path, "wb") as f:
        f.write(generate_clip(seconds, 640, 360, video_bitrate=1_500_000))

    def bare():
        def run():
            with av.open(path) as container:
                sizes = [packet.size for packet in container.demux() if packet.size]
            return len(sizes), sum(sizes)
        return run

    def ours():
        def run():
            queue = MediaPriorityQueue(4096)
            count = total = 0
            with ContainerReader(path, "clip", 1 << 20, checksum="crc32c") as reader:
                for batch in reader:
                    queue.enqueue_batch(batch)
                    for chunk in queue.get_batch(len(batch)):
                        count += 1
                        total += len(chunk)
            return count, total
        return run

    secs, res = measure({"ours": ours, "bare": bare}, reps)
    packets = res["bare"][0]
    overhead = secs["ours"] / secs["bare"] - 1
    return [rate_row("T9", "container ingest vs bare PyAV demux", packets / secs["ours"] / 1e3,
                      packets / secs["bare"] / 1e3, "k packets/s", 0.87, False,
                      res["ours"] == res["bare"],
                      f"{seconds:g} s 640x360 H.264+AAC clip, {packets:,} packets; overhead "
                      f"{overhead:+.0%} (target <= 15 %, i.e. ratio >= 0.87)")]
