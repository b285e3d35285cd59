"""Command line: `python -m rs2fast {demo,stream,consume}` (installed as `rs2fast` too).

demo    generate sample media and stream it through MediaStreamingService, printing what it measured;
        with the av extra, also a real H.264+AAC clip made in memory, through container ingest
stream  stream a file in checksummed chunks with a progress bar, ending with a metrics summary;
        container files (.mp4 .mov .mkv .webm .ts) are demuxed into I/P/B/audio packet chunks when
        the optional av extra (PyAV) is installed; `--to redis://HOST:PORT` also writes the
        chunks to Redis Streams (the optional redis extra)
consume read chunk streams from Redis Streams through a consumer group, verify them, and print a
        summary

`--json` writes JSON Lines: one JSON object per line.

Heavy modules are imported inside the subcommands so that `python -m rs2fast --help` starts fast.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import IO, Optional, Sequence

PROG = "rs2fast"
MAX_CHUNK_SIZE = 64 << 20
CHECKSUM_CHOICES = ("crc32c", "sha256", "none")
_SUFFIXES = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
             "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20}


_JSON_LINES = "--json writes JSON Lines: one JSON object per line, each with a \"record\" key."


class UsageError(Exception):
    """Bad command-line input; `main` prints it as `rs2fast: error: ...` and returns 2."""


class CommandFailed(Exception):
    """A command could not do its work; `main` prints it as `rs2fast: error: ...` and returns 1."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, `rs2fast: error: ...`, and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


# --- argument types -----------------------------------------------------------------------------

def parse_size(text: str) -> int:
    """A byte count such as "65536", "64K", "64KiB" or "1M" (binary units), 1 byte .. 64 MiB."""
    cleaned = text.strip().lower().replace("_", "")
    digits = cleaned.rstrip("bikm")
    suffix = cleaned[len(digits):]
    if not digits.isdigit() or suffix not in _SUFFIXES:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (use bytes, or a K/M suffix: 64K, 1M)")
    size = int(digits) * _SUFFIXES[suffix]
    if not 1 <= size <= MAX_CHUNK_SIZE:
        raise argparse.ArgumentTypeError(f"size {text!r} is out of range (1 byte to 64 MiB)")
    return size


def _positive_int(limit: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"{value} is out of range (1 to {limit})")
        return value
    parse.__name__ = "number"
    return parse


# --- formatting ---------------------------------------------------------------------------------

def format_bytes(count: float) -> str:
    """`count` bytes in binary units, e.g. "32.0 MiB"."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def render_progress(done: int, total: int, elapsed: float, width: int = 80) -> str:
    """One progress-bar line: percentage, bar, bytes done/total, rate and ETA, at most `width` wide.

    When the terminal is narrow the byte counts and the bar give way, so that the rate and the ETA
    stay whole."""
    fraction = 1.0 if total <= 0 else min(1.0, done / total)
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = _format_duration((total - done) / rate) if rate > 0 and done < total else (
        "0:00:00" if done >= total else "--:--:--")
    room = max(width - 1, 1)
    head = f"{fraction * 100:5.1f}% "
    sizes = f" {format_bytes(done):>10}/{format_bytes(total)}"
    speed = f" {format_bytes(rate):>11}/s  ETA {eta}"
    if len(head) + len(sizes) + len(speed) > room:
        sizes = ""
        speed = f" {format_bytes(rate)}/s ETA {eta}"
    bar_width = room - len(head) - len(sizes) - len(speed) - 2
    filled = int(bar_width * fraction)
    bar = f"|{'#' * filled}{' ' * (bar_width - filled)}|" if bar_width >= 10 else ""
    line = head + bar + sizes + speed
    percent = f"{fraction * 100:.0f}%"
    for shorter in (f"{percent} {format_bytes(rate)}/s ETA {eta}", f"{percent} ETA {eta}"):
        if len(line) > room:
            line = shorter
    return line[:room].ljust(room)


class ProgressBar:
    """A progress bar on `stream` (stderr by default), drawn only when it is a terminal.

    `update(done)` redraws at most every `interval` seconds; `close()` draws the final state and ends
    the line. When the stream is not a TTY nothing is written at all.
    """

    def __init__(self, total: int, stream: Optional[IO[str]] = None, interval: float = 0.1) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.started = self._last_draw = time.monotonic()
        self._done = 0

    def update(self, done: int) -> None:
        """Record `done` bytes; redraw if the last drawing is older than `interval`."""
        self._done = done
        if self.enabled:
            now = time.monotonic()
            if now - self._last_draw >= self.interval:
                self._last_draw = now
                self._draw(now)

    def close(self) -> None:
        """Draw the final state and move to a new line (no-op when not a terminal)."""
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False

    def _draw(self, now: float) -> None:
        import shutil
        width = shutil.get_terminal_size((80, 24)).columns
        self.stream.write("\r" + render_progress(self._done, self.total, now - self.started, width))
        self.stream.flush()


# --- stream -------------------------------------------------------------------------------------

def _checked_file(path: str) -> int:
    """The size of the regular file `path`; UsageError naming the problem otherwise."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"no such file: {path!r}") from None
    except OSError as error:
        raise UsageError(f"cannot read {path!r}: {error.strerror or error}") from None
    import stat
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path!r} is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path!r} is not a regular file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"cannot read {path!r}: permission denied")
    return info.st_size


def _service_for(chunk_size: int, checksum: Optional[str], workers: int, capacity: int = 1024):
    """A MediaStreamingService whose codec writes `checksum` and whose processor uses `workers`."""
    from rs2fast.chunk_processor import ChunkProcessorConfig
    from rs2fast.codec import EncodingConfig, MediaCodec
    from rs2fast.streaming import MediaStreamingService

    limit = max(ChunkProcessorConfig.video_size_limit, chunk_size)
    config = ChunkProcessorConfig(parallel_processing=workers, video_size_limit=limit,
                                  audio_size_limit=max(ChunkProcessorConfig.audio_size_limit, chunk_size),
                                  max_buffered_bytes=max(256 << 20, 4 * chunk_size))
    # keep the chunks in flight to about 256 MiB however large the chunks are
    capacity = max(4, min(capacity, (256 << 20) // chunk_size))
    return MediaStreamingService(capacity, codec=MediaCodec(EncodingConfig(checksum=checksum)),
                                 processor_config=config)


def cmd_stream(args: argparse.Namespace) -> int:
    """`rs2fast stream FILE`: stream the file, show progress on a terminal, print a summary."""
    import json
    from collections import Counter

    from rs2fast.errors import Rs2fastError
    from rs2fast.types import MediaStream, MediaType, QualityLevel

    size = _checked_file(args.file)
    checksum = None if args.checksum == "none" else args.checksum
    try:
        demux, container_info, note = _container_plan(args.file, getattr(args, "container", "auto"))
    except (Rs2fastError, OSError) as error:
        print(f"{PROG}: error: {args.file}: {error}", file=sys.stderr)
        return 1
    sink = _redis_sink(args.to, args.prefix) if args.to else None
    service = _service_for(args.chunk_size, checksum, args.workers)
    events: Counter = Counter()
    service.subscribe(lambda event: events.update([type(event).__name__]))
    stream_id = os.path.basename(os.path.abspath(args.file)) or "file"
    if sink is not None:                       # braces would break the Redis key's hash tag
        stream_id = stream_id.replace("{", "(").replace("}", ")")
    by_type: Counter = Counter()
    chunks = delivered = packets = 0
    saw_final = False
    progress = ProgressBar(size)
    started = time.perf_counter()

    def counted(stream):
        nonlocal chunks, delivered, packets, saw_final
        last = None
        for chunk in stream:
            chunks += 1
            delivered += len(chunk)
            by_type[chunk.chunk_type.name] += 1
            saw_final = chunk.is_final
            # a packet larger than the chunk size continues in chunks of the same time and type
            shape = (len(chunk), chunk.timestamp_ns, chunk.chunk_type)
            if last is None or last[0] != args.chunk_size or last[1:] != shape[1:]:
                packets += 1
            last = shape
            progress.update(delivered)
            yield chunk

    try:
        try:
            media = MediaStream(stream_id, 0, MediaType.MIXED if demux else MediaType.VIDEO,
                                QualityLevel.MEDIUM, args.chunk_size,
                                metadata={"container": "demux" if demux else "raw"})
            with service.start_file_stream(args.file, media) as stream:
                if sink is not None:
                    sink.write(counted(stream))
                else:
                    for _chunk in counted(stream):
                        pass
            if demux and saw_final:
                progress.update(size)             # packets are the file minus container overhead
        except (Rs2fastError, OSError) as error:
            progress.close()
            print(f"{PROG}: error: {args.file}: {error}", file=sys.stderr)
            return 1
        elapsed = time.perf_counter() - started
    finally:
        progress.close()                  # idempotent; ends the bar's line on Ctrl-C too
        service.shutdown()
    metrics = service.get_metrics(stream_id)
    stats = service.processor.get_stats()
    # a demuxed file delivers its packets (the file minus container overhead), ending on a final chunk
    complete = ((saw_final if demux else delivered == size) and stats.validation_failures == 0)
    summary = {
        "file": args.file, "size": size, "chunk_size": args.chunk_size, "checksum": args.checksum,
        "workers": args.workers, "chunks": chunks, "bytes": delivered, "seconds": round(elapsed, 6),
        "mib_per_s": round(delivered / elapsed / 2**20, 3) if elapsed > 0 else None,
        "chunks_by_type": dict(sorted(by_type.items())),
        "validation_failures": stats.validation_failures, "dropped": metrics.dropped_chunks,
        "events": dict(sorted(events.items())), "complete": complete,
    }
    summary["average_chunk_size"] = round(delivered / chunks, 1) if chunks else 0
    if demux:
        summary["packets"] = packets
        summary["container"] = _container_summary(container_info)
        summary["chunk_types"] = _frame_types(by_type)
        summary["chunks_per_s"] = round(chunks / elapsed, 1) if elapsed > 0 else None
    else:
        summary["chunk_types_from"] = "RS2's GOP rule (by sequence number, not from the data)"
    if sink is not None:
        written = sink.get_stats()
        summary["redis"] = {"url": args.to, "key": f"{args.prefix}:{{{stream_id}}}",
                            "written": written.written, "bytes_written": written.bytes_written}
    if args.json:
        print(json.dumps({"record": "metrics", **metrics.to_dict()}))
        print(json.dumps({"record": "summary", **summary}))
    else:
        rate = f"{summary['mib_per_s']:,.1f} MiB/s" if summary["mib_per_s"] is not None else "-"
        verified = ("not checksummed" if checksum is None else
                    f"{chunks - stats.validation_failures:,}/{chunks:,} {checksum} checksums verified")
        print(f"streamed {args.file}: {chunks:,} chunks, {delivered:,} bytes "
              f"({format_bytes(delivered)}) in {elapsed:.3f} s, {rate}")
        if demux:
            print(f"  chunks          {packets:,} packets, average chunk "
                  f"{summary['average_chunk_size']:,.0f} bytes (packets above {args.chunk_size:,} bytes "
                  f"are split), {args.workers} worker(s)")
        else:
            print(f"  chunk size      {args.chunk_size:,} bytes, {args.workers} worker(s)")
        print(f"  integrity       {verified}")
        print("  chunks by type  " + (", ".join(f"{k} {v:,}" for k, v in summary["chunks_by_type"].items())
                                       or "none (empty file)")
              + ("" if demux or not chunks else " (types from RS2's GOP rule, not from the data)"))
        print(f"  metrics         processed {metrics.chunks_processed:,} chunks, "
              f"{metrics.bytes_processed:,} bytes, average {metrics.average_chunk_size:,.0f} bytes, "
              f"dropped {metrics.dropped_chunks}")
        print("  events          " + ", ".join(f"{k} {v}" for k, v in summary["events"].items()))
        if demux:
            described = summary["container"]
            print(f"  container       {described['format']}: " + "; ".join(described["streams"]))
            frames = summary["chunk_types"]
            rate = f", {summary['chunks_per_s']:,.0f} chunks/s" if summary["chunks_per_s"] else ""
            print(f"  media chunks    I {frames['I']:,}, P {frames['P']:,}, B {frames['B']:,}, "
                  f"audio {frames['audio']:,}, other {frames['other']:,}{rate}")
        if sink is not None:
            redis_info = summary["redis"]
            print(f"  redis           wrote {redis_info['written']:,} chunks to {redis_info['key']} "
                  f"at {args.to}")
    if note:
        print(f"  note            {note}", file=sys.stderr if args.json else sys.stdout)
    return 0 if complete else 1


def _container_plan(path: str, mode: str):
    """(demux?, ContainerInfo or None, note or None) for `stream FILE --container MODE`."""
    from rs2fast.container import is_container_path, probe, wants_demux

    demux = wants_demux(path, {"container": mode})      # "demux" without PyAV: CodecUnavailable
    if demux:
        return True, probe(path), None                  # not media / damaged: MediaFormatError
    if mode == "auto" and is_container_path(path):
        return False, None, ('streamed as raw bytes; for typed packets install PyAV: '
                             'pip install "rs2fast[av]"')
    return False, None, None


def _container_summary(info) -> dict:
    streams = []
    for desc in info.streams:
        if desc.kind == "video":
            streams.append(f"video {desc.codec} {desc.width}x{desc.height} (types: {desc.typing})")
        else:
            streams.append(f"audio {desc.codec} {desc.sample_rate} Hz {desc.channels} ch")
    streams += [f"{kind} {codec} (skipped)" for _, kind, codec in info.skipped_streams]
    return {"format": info.format_name, "streams": streams,
            "duration_s": None if info.duration_ns is None else round(info.duration_ns / 1e9, 3)}


def _frame_types(by_type) -> dict:
    names = {"VIDEO_I_FRAME": "I", "VIDEO_P_FRAME": "P", "VIDEO_B_FRAME": "B", "AUDIO": "audio"}
    counts = {"I": 0, "P": 0, "B": 0, "audio": 0, "other": 0}
    for name, count in by_type.items():
        counts[names.get(name, "other")] += count
    return counts


# --- Redis: stream --to, consume ------------------------------------------------------------------

def _redis_client(url: str):
    """A Redis client for `url` that has answered PING; UsageError for a bad URL, CommandFailed when
    nothing answers within 5 s."""
    from rs2fast.redis import connect
    try:
        client = connect(url, timeout=5.0)
    except (ModuleNotFoundError, ValueError) as error:     # no redis-py, or a bad URL
        raise UsageError(str(error)) from None
    try:
        client.ping()
    except Exception as error:        # redis-py's connection and timeout errors
        raise CommandFailed(f"cannot reach Redis at {url}: {error}") from None
    return client


def _redis_sink(url: str, prefix: str):
    from rs2fast.redis import RedisStreamSink

    client = _redis_client(url)
    try:
        return RedisStreamSink(client, prefix=prefix)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None


def cmd_consume(args: argparse.Namespace) -> int:
    """`rs2fast consume URL --group G`: read chunk streams through a consumer group, print a summary."""
    import json
    import socket
    import threading
    from collections import Counter

    from rs2fast.errors import Rs2fastError
    from rs2fast.redis import RedisStreamSource

    streams = [name.strip() for name in args.streams.split(",") if name.strip()] if args.streams else "*"
    consumer = args.consumer or f"{socket.gethostname()}-{os.getpid()}"
    events: Counter = Counter()
    try:
        source = RedisStreamSource(_redis_client(args.url), group=args.group, consumer=consumer,
                                   streams=streams, prefix=args.prefix, lease=args.lease,
                                   on_event=lambda event: events.update([type(event).__name__]))
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None
    by_stream: Counter = Counter()
    by_type: Counter = Counter()
    chunks = delivered = 0
    last_chunk = started = time.monotonic()
    interrupted = False

    def watch_idle() -> None:             # ends the iteration after --idle seconds without a chunk
        while not source._closed.wait(0.05):
            if time.monotonic() - last_chunk >= args.idle:
                source.close()

    if args.idle:
        threading.Thread(target=watch_idle, daemon=True).start()
    try:
        while args.count is None or chunks < args.count:
            batch = source.next_batch(256 if args.count is None else min(256, args.count - chunks))
            if not batch:
                break                         # closed: --idle
            for chunk in batch:
                delivered += len(chunk)
                by_stream[chunk.stream_id] += 1
                by_type[chunk.chunk_type.name] += 1
            chunks += len(batch)
            last_chunk = time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
    except (Rs2fastError, ValueError) as error:
        print(f"{PROG}: error: {args.url}: {error}", file=sys.stderr)
        return 1
    finally:
        source.close()
    elapsed = time.monotonic() - started
    stats = source.get_stats()
    complete = stats.checksum_failures == 0 and stats.lost == 0
    summary = {"url": args.url, "group": args.group, "consumer": consumer, "chunks": chunks,
               "bytes": delivered, "seconds": round(elapsed, 6),
               "streams": dict(sorted(by_stream.items())), "chunks_by_type": dict(sorted(by_type.items())),
               **vars(stats), "events": dict(sorted(events.items())), "complete": complete}
    if args.json:
        print(json.dumps({"record": "summary", **summary}))
    else:
        print(f"consumed {chunks:,} chunks, {delivered:,} bytes ({format_bytes(delivered)}) from "
              f"{len(by_stream):,} stream(s) in {elapsed:.3f} s as {consumer!r} of group {args.group!r}")
        print(f"  integrity       {chunks:,} checksums verified; {stats.checksum_failures:,} failed, "
              f"{stats.lost:,} lost to trimming, {stats.duplicates:,} duplicates dropped")
        print(f"  redis           {stats.acknowledged:,} acknowledged, {stats.redelivered:,} redelivered")
        print("  chunks by type  " + (", ".join(f"{k} {v:,}" for k, v in summary["chunks_by_type"].items())
                                       or "none"))
        for name, count in summary["streams"].items():
            print(f"  stream          {name}: {count:,} chunks")
    if interrupted:
        return 130
    return 0 if complete else 1


# --- demo ---------------------------------------------------------------------------------------

def write_sample_file(path: str, size: int, seed: int = 2024) -> int:
    """Write `size` deterministic pseudo-random bytes to `path`; return their CRC-32C."""
    import random

    from rs2fast import crc32c

    block = random.Random(seed).randbytes(1 << 20)
    crc = 0
    with open(path, "wb") as out:
        written = index = 0
        while written < size:
            turn = index * 4099 % len(block)          # every MiB differs from the one before
            piece = (block[turn:] + block[:turn])[:size - written]
            out.write(piece)
            crc = crc32c(piece, crc)
            written += len(piece)
            index += 1
    return crc


def _consume(stream, tally: dict) -> None:
    """Read every chunk of `stream`, verifying its checksum and counting into `tally`."""
    from rs2fast import crc32c

    crc = 0
    try:
        for chunk in stream:
            tally["chunks"] += 1
            tally["bytes"] += len(chunk)
            tally["types"][chunk.chunk_type.name] += 1
            if chunk.checksum is not None:
                tally["checked"] += 1
                tally["verified"] += chunk.checksum_matches()
            crc = crc32c(chunk.data, crc)
    except Exception as error:   # reported in the summary, not lost in a thread
        tally["error"] = error
    tally["crc"] = crc
    tally["seconds"] = time.perf_counter() - tally["started"]


def cmd_demo(args: argparse.Namespace) -> int:
    """`rs2fast demo`: a sample file plus two live sources through the full streaming pipeline."""
    import tempfile
    import threading
    from collections import Counter

    from rs2fast.types import MediaStream, MediaType, QualityLevel

    checksum = None if args.checksum == "none" else args.checksum
    size = args.size_mib << 20
    with tempfile.TemporaryDirectory(prefix="rs2fast-demo-") as folder:
        path = os.path.join(folder, "sample.media")
        file_crc = write_sample_file(path, size)
        print(f"rs2fast demo: {format_bytes(size)} sample file + live camera + live microphone "
              f"through MediaStreamingService")
        print(f"  {args.chunk_size:,}-byte file chunks, checksums {args.checksum}, "
              f"{args.workers} processor worker(s)")
        service = _service_for(args.chunk_size, checksum, args.workers)
        events: Counter = Counter()
        service.subscribe(lambda event: events.update([type(event).__name__]))
        audio_block = 4096
        streams = {
            "sample.media": ("file", MediaStream("sample.media", 1, MediaType.VIDEO, QualityLevel.HIGH,
                                                 args.chunk_size)),
            "camera": ("live, paced", MediaStream("camera", 2, MediaType.VIDEO, QualityLevel.MEDIUM,
                                                  16384, metadata={"frame_rate": "500"})),
            "microphone": ("live", MediaStream("microphone", 3, MediaType.AUDIO, QualityLevel.MEDIUM,
                                               audio_block)),
        }
        started = time.perf_counter()
        tallies = {name: {"chunks": 0, "bytes": 0, "checked": 0, "verified": 0, "types": Counter(),
                          "started": started} for name in streams}
        readers = []
        try:
            sources = {
                "sample.media": service.start_file_stream(path, streams["sample.media"][1]),
                # the built-in synthetic test pattern, paced at 500 frames/s
                "camera": service.start_live_stream(streams["camera"][1], max_chunks=args.live_chunks),
                # any byte source works: here a generator of 4 KiB audio blocks
                "microphone": service.start_live_stream(
                    streams["microphone"][1],
                    (bytes([n % 251]) * audio_block for n in range(args.live_chunks))),
            }
            for name, stream in sources.items():
                reader = threading.Thread(target=_consume, args=(stream, tallies[name]), daemon=True)
                reader.start()
                readers.append(reader)
            for snapshot in service.get_metrics_stream(interval=0.25):
                print(f"  [{time.perf_counter() - started:5.2f} s] metrics: "
                      f"{snapshot.chunks_processed:,} chunks, {format_bytes(snapshot.bytes_processed)}, "
                      f"dropped {snapshot.dropped_chunks}", flush=True)
                if not any(reader.is_alive() for reader in readers):
                    break
            for reader in readers:
                reader.join()
        finally:
            service.shutdown()
        elapsed = time.perf_counter() - started
        metrics = {name: service.get_metrics(name) for name in streams}
    code = _demo_summary(args, streams, tallies, metrics, events, elapsed, size, file_crc, checksum)
    media_ok = _demo_real_media(checksum)
    return code if media_ok else 1


def _demo_real_media(checksum: Optional[str]) -> bool:
    """`demo`'s last part: a short real H.264+AAC clip, made in memory, through container ingest.

    Skipped (with the install command) when PyAV is missing; False when a check fails.
    """
    from collections import Counter

    from rs2fast.av_codec import av_available

    print()
    if not av_available():
        print('Real media: skipped (PyAV is not installed: pip install "rs2fast[av]")')
        return True
    from rs2fast._chunk import validate_batch
    from rs2fast.av_codec import generate_clip
    from rs2fast.container import ContainerReader

    started = time.perf_counter()
    clip = generate_clip(2.0, 320, 180, 30)
    made = time.perf_counter() - started
    counts: Counter = Counter()
    chunks = failures = 0
    last = None
    started = time.perf_counter()
    with ContainerReader(clip, "clip.mp4", 16384, checksum=checksum) as reader:
        for batch in reader:
            failures += sum(1 for code in validate_batch(batch, None, None, None) if code)
            chunks += len(batch)
            counts.update(chunk.chunk_type.name for chunk in batch)
            last = batch[-1]
    seconds = max(time.perf_counter() - started, 1e-9)
    info = reader.info
    frames = _frame_types(counts)
    final = last is not None and last.is_final
    print(f"Real media (PyAV): a 2.0 s 320x180 H.264 + AAC clip made in memory "
          f"({format_bytes(len(clip))} in {made:.2f} s)")
    print(f"  container ingest  {info.packets_read:,} packets -> {chunks:,} chunks in {seconds:.3f} s "
          f"({chunks / seconds:,.0f} chunks/s): I {frames['I']}, P {frames['P']}, B {frames['B']}, "
          f"audio {frames['audio']}")
    typing = ", ".join(f"{desc.codec} {desc.typing}" for desc in info.streams)
    verified = (f"{chunks - failures:,}/{chunks:,} {checksum} checksums verified" if checksum
                else "checksums off")
    print(f"  checks            types from {typing}; {verified}; "
          f"{'last chunk final' if final else 'NO FINAL CHUNK'}")
    return failures == 0 and final and frames["I"] > 0 and frames["audio"] > 0


def _demo_summary(args, streams, tallies, metrics, events, elapsed, size, file_crc, checksum) -> int:
    from collections import Counter

    rows = []
    totals: Counter = Counter()
    by_type: Counter = Counter()
    for name, (kind, _stream) in streams.items():
        tally = tallies[name]
        seconds = max(tally["seconds"], 1e-9)
        rows.append((name, kind, f"{tally['chunks']:,}", f"{tally['bytes']:,}",
                     f"{tally['bytes'] / seconds / 2**20:,.1f}", f"{metrics[name].dropped_chunks:,}",
                     f"{tally['verified']:,}/{tally['checked']:,}" if checksum else "-"))
        for key in ("chunks", "bytes", "checked", "verified"):
            totals[key] += tally[key]
        totals["dropped"] += metrics[name].dropped_chunks
        by_type.update(tally["types"])
    rows.append(("total", "", f"{totals['chunks']:,}", f"{totals['bytes']:,}", "",
                 f"{totals['dropped']:,}",
                 f"{totals['verified']:,}/{totals['checked']:,}" if checksum else "-"))
    header = ("stream", "kind", "chunks", "bytes", "MiB/s", "drops", "checksums ok")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]

    def line(row):
        return "  " + "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                                for i, (cell, w) in enumerate(zip(row, widths)))

    print()
    print(f"Summary ({elapsed:.2f} s)")
    print(line(header))
    print("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in rows[:-1]:
        print(line(row))
    print("  " + "-" * (sum(widths) + 2 * (len(widths) - 1)))
    print(line(rows[-1]))
    print("  chunks by type: " + ", ".join(f"{name} {count:,}" for name, count in sorted(by_type.items())))
    print("  events seen:    " + ", ".join(f"{name} {count:,}" for name, count in sorted(events.items())))
    file_tally = tallies["sample.media"]
    intact = file_tally["bytes"] == size and file_tally["crc"] == file_crc
    print(f"  file integrity: {'intact' if intact else 'DAMAGED'} - {file_tally['bytes']:,} of {size:,} "
          f"bytes, CRC-32C {file_tally['crc']:08x} (file {file_crc:08x})")
    errors = [f"{name}: {t['error']}" for name, t in tallies.items() if "error" in t]
    for error in errors:
        print(f"  stream error:   {error}")
    verified = totals["verified"] == totals["checked"]
    print(f"  checksums verified: {totals['verified']:,} of {totals['checked']:,}"
          + ("" if checksum else " (checksums off)"))
    # a live stream sheds chunks when its reader lags; each is counted and announced, none is lost
    live_complete = all(tallies[name]["chunks"] + metrics[name].dropped_chunks == args.live_chunks
                        for name in ("camera", "microphone"))
    return 0 if intact and verified and not errors and live_complete else 1


# --- entry point --------------------------------------------------------------------------------

def _add_pipeline_options(command: argparse.ArgumentParser, workers: int) -> None:
    """--checksum and --workers, shared by the commands that run the streaming pipeline."""
    command.add_argument("--checksum", choices=CHECKSUM_CHOICES, default="crc32c",
                         help="chunk checksum (default crc32c)")
    command.add_argument("--workers", type=_positive_int(256), default=workers, metavar="N",
                         help=f"processor worker threads (default {workers})")


def build_parser() -> argparse.ArgumentParser:
    """The `rs2fast` argument parser (errors raise UsageError instead of exiting)."""
    from rs2fast import __version__

    parser = _Parser(prog=PROG, description="rs2fast: fast, trustworthy media chunk streaming.",
                     epilog=_JSON_LINES)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{demo,stream,consume}",
                                     parser_class=_Parser)
    commands.required = True
    workers = max(1, min(4, os.cpu_count() or 1))

    demo = commands.add_parser("demo", help="stream generated sample media through the full pipeline",
                               description="Write a deterministic sample file, stream it while a live "
                               "camera and microphone run, and print metrics and a summary table.")
    demo.add_argument("--size-mib", type=_positive_int(1024), default=32, metavar="N",
                      help="sample file size in MiB (default 32)")
    demo.add_argument("--chunk-size", type=parse_size, default=64 << 10, metavar="SIZE",
                      help="file chunk size, e.g. 65536 or 64K (default 64K)")
    demo.add_argument("--live-chunks", type=_positive_int(1_000_000), default=400, metavar="N",
                      help="chunks from each live source (default 400)")
    _add_pipeline_options(demo, workers)
    demo.set_defaults(run=cmd_demo)

    stream = commands.add_parser("stream", help="stream a file in checksummed chunks",
                                 description="Stream FILE through MediaStreamingService with a "
                                 "progress bar (on a terminal) and a metrics summary. Container "
                                 "files are demuxed into typed packet chunks (I/P/B/audio) when "
                                 "PyAV is installed (pip install \"rs2fast[av]\").",
                                 epilog=_JSON_LINES)
    stream.add_argument("file", metavar="FILE", help="the file to stream")
    stream.add_argument("--chunk-size", type=parse_size, default=64 << 10, metavar="SIZE",
                        help="chunk size, e.g. 65536, 64K or 1M (default 64K, at most 64M)")
    _add_pipeline_options(stream, workers)
    stream.add_argument("--json", action="store_true",
                        help="write JSON Lines: one JSON object per line, the metrics then the summary")
    stream.add_argument("--to", metavar="URL",
                        help="also write the chunks to Redis Streams at redis://HOST:PORT[/DB] "
                        "(needs the redis extra: pip install \"rs2fast[redis]\")")
    stream.add_argument("--prefix", default="rs2fast", help="Redis key prefix (default rs2fast)")
    stream.add_argument("--container", choices=("auto", "demux", "raw"), default="auto",
                        help="container files (.mp4 .mov .mkv .webm .ts): demux into I/P/B/audio "
                        "packet chunks (auto: when PyAV is installed) or stream the raw bytes")
    stream.set_defaults(run=cmd_stream)

    consume = commands.add_parser("consume", help="read chunk streams from Redis through a consumer group",
                                  description="Read the chunk streams under PREFIX from Redis Streams as "
                                  "one consumer of GROUP (each stream is read by one consumer of the "
                                  "group at a time), verify every checksum and print a summary. Runs "
                                  "until Ctrl-C, --count chunks or --idle seconds without a chunk.",
                                  epilog=_JSON_LINES)
    consume.add_argument("url", metavar="URL", help="redis://HOST:PORT[/DB]")
    consume.add_argument("--group", required=True, help="consumer group name")
    consume.add_argument("--consumer", help="this consumer's name (default HOSTNAME-PID)")
    consume.add_argument("--streams", metavar="A,B", help="stream ids to read (default: all, and new "
                         "ones as they appear)")
    consume.add_argument("--prefix", default="rs2fast", help="Redis key prefix (default rs2fast)")
    consume.add_argument("--lease", type=float, default=10.0, metavar="SECONDS",
                         help="stream lease; a stopped consumer's streams move after it (default 10)")
    consume.add_argument("--count", type=_positive_int(1 << 62), metavar="N", help="stop after N chunks")
    consume.add_argument("--idle", type=float, default=0.0, metavar="SECONDS",
                         help="stop after SECONDS without a chunk (default: never)")
    consume.add_argument("--json", action="store_true", help="write the summary as one JSON line")
    consume.set_defaults(run=cmd_consume)

    return parser


def _detach_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush finds no closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `rs2fast` / `python -m rs2fast`; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:                    # e.g. `| head -1`: the reader has gone, end quietly
        _detach_stdout()
        return 141
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except CommandFailed as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except SystemExit as done:   # --help and --version
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
