"""Container ingest (rs2fast.container) on real clips generated at test time with PyAV.

Tests that need PyAV skip without it; the tests at the top (paths, the no-PyAV error) always run.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rs2fast._chunk import MediaChunk, validate_batch, VALIDATION_CHECKSUM_MISMATCH
from rs2fast.container import (ContainerReader, PacketTable, demux_chunks, is_container_path,
                               iter_packets, probe, remux, wants_demux)
from rs2fast.errors import CodecError, CodecUnavailable, MediaFormatError, StreamTruncated
from rs2fast.types import ChunkType, MediaStream, MediaType, QualityLevel

from media_fixtures import (AV_REASON, decoded_audio, decoded_frames, demuxed_packets,
                            make_audio_with_cover, make_audio_with_subtitles, packet_pict_types,
                            write_clip)

I, P, B, A = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME, ChunkType.AUDIO
PICT = {1: I, 2: P, 3: B}

TYPINGS = ["decode", "bitstream"]


# --- without PyAV ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a.mp4", "B.MKV", "c.webm", "d.ts", "e.m2ts", "f.mov", "g.m4v",
                                  "/x/y/movie.Mp4"])
def test_container_paths_by_extension(name):
    assert is_container_path(name)


@pytest.mark.parametrize("name", ["a.bin", "b.mp3", "mp4", "c.mp4.part", "d", "e.txt", ".mkvx"])
def test_other_paths_are_not_containers(name):
    assert not is_container_path(name)


def test_without_av_container_ingest_names_the_pip_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "av", None)          # `import av` now raises ImportError
    path = tmp_path / "movie.mp4"
    path.write_bytes(b"\0" * 64)
    with pytest.raises(CodecUnavailable) as caught:
        ContainerReader(path, "movie", 4096)
    assert 'pip install "rs2fast[av]"' in str(caught.value)
    assert isinstance(caught.value, CodecError)
    # the service's rule: auto mode falls back to raw bytes, an explicit "demux" request fails
    assert wants_demux(path) is False
    assert wants_demux(path, {"container": "raw"}) is False
    with pytest.raises(CodecUnavailable):
        wants_demux(path, {"container": "demux"})


def test_wants_demux_rejects_unknown_modes(tmp_path):
    with pytest.raises(ValueError, match="container"):
        wants_demux(tmp_path / "a.mp4", {"container": "sometimes"})


def test_deciding_about_a_path_imports_neither_pyav_nor_the_container_modules():
    code = ("import sys, rs2fast._media_paths as m; "
            "m.is_container_path('a.mp4'); m.wants_demux('a.bin'); "
            "m.wants_demux('a.mp4', {'container': 'raw'}); "
            "print(sorted(n for n in ('av', 'rs2fast.container', 'rs2fast.av_codec') if n in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_container_module_re_exports_the_path_rule():
    from rs2fast import _media_paths, container

    assert container.is_container_path is _media_paths.is_container_path
    assert container.wants_demux is _media_paths.wants_demux
    assert container.CONTAINER_EXTENSIONS is _media_paths.CONTAINER_EXTENSIONS


# --- with PyAV --------------------------------------------------------------------------------------

av = pytest.importorskip("av", reason=AV_REASON)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """One 2-second 320x180 H.264+AAC clip per container (B-frames on), plus variants."""
    folder = tmp_path_factory.mktemp("clips")
    return {
        "mp4": write_clip(folder, "clip.mp4"),
        "mkv": write_clip(folder, "clip.mkv"),
        "ts": write_clip(folder, "clip.ts"),
        "faststart": write_clip(folder, "fast.mp4", faststart=True),
        "nob": write_clip(folder, "nob.mp4", b_frames=0, gop=12),
        "video_only": write_clip(folder, "video.mkv", audio=False),
    }


def read_all(source, chunk_size=1 << 20, **options):
    with ContainerReader(source, "clip", chunk_size, **options) as reader:
        batches = list(reader)
    return reader.info, batches, [chunk for batch in batches for chunk in batch]


def first_pieces(chunks, info):
    """The first chunk of every packet (the packet table says where packets start)."""
    starts = {record.first_sequence for record in info.packets}
    return [chunk for chunk in chunks if chunk.sequence_number in starts]


@pytest.mark.parametrize("kind", ["mp4", "mkv", "ts", "nob"])
@pytest.mark.parametrize("typing", TYPINGS)
def test_chunk_types_match_the_decoders_pict_type_on_every_frame(clips, kind, typing):
    path = clips[kind]
    expected = [PICT[t] for t in packet_pict_types(path)]
    info, _, chunks = read_all(path, video_types=typing, record_packets=True)
    video = [c for c in first_pieces(chunks, info) if c.chunk_type != A]
    assert [c.chunk_type for c in video] == expected
    assert len(expected) == 60
    if kind == "nob":
        assert B not in expected and Counter(expected)[I] == 5           # GOP 12 over 60 frames
    else:
        assert Counter(expected)[B] > 10 and Counter(expected)[I] == 2


def test_auto_typing_reads_the_h264_bitstream(clips):
    info = probe(clips["mp4"])
    assert info.video[0].typing == "bitstream"
    assert info.video[0].framing == "avcc" and info.video[0].length_size == 4
    assert probe(clips["ts"]).video[0].framing == "annexb"
    assert info.audio[0].typing == "audio"


def test_keyframe_typing_is_cheap_and_never_guesses_b(clips):
    info, _, chunks = read_all(clips["mp4"], video_types="keyframe", record_packets=True)
    video = [c for c in first_pieces(chunks, info) if c.chunk_type != A]
    keyframes = [key for index, _, _, _, _, key in demuxed_packets(clips["mp4"]) if index == 0]
    assert [c.chunk_type == I for c in video] == keyframes
    assert {c.chunk_type for c in video} == {I, P}


@pytest.mark.parametrize("kind", ["mp4", "mkv", "ts"])
def test_one_chunk_per_packet_in_demux_order_with_pts_timestamps(clips, kind):
    packets = demuxed_packets(clips[kind])
    info, _, chunks = read_all(clips[kind], start_sequence=100)
    assert len(chunks) == len(packets) == info.packets_read
    assert [c.sequence_number for c in chunks] == list(range(100, 100 + len(packets)))
    assert {c.stream_id for c in chunks} == {"clip"}
    for chunk, (index, data, pts, dts, time_base, _) in zip(chunks, packets):
        assert chunk.data == data
        assert (chunk.chunk_type == A) == (index == 1)
        stamp = pts if pts is not None else dts
        assert chunk.timestamp_ns == stamp * time_base.numerator * 10**9 // time_base.denominator
    assert info.bytes_read == sum(len(p[1]) for p in packets)
    assert info.packets_per_stream == {0: 60, 1: Counter(p[0] for p in packets)[1]}
    # video timestamps are presentation times, so with B-frames they are not monotonic in demux
    # order: the chunks were not re-sorted
    video_times = [c.timestamp_ns for c in chunks if c.chunk_type != A]
    assert video_times != sorted(video_times)


def test_negative_timestamps_are_kept(clips):
    _, _, chunks = read_all(clips["mp4"])
    audio = [c.timestamp_ns for c in chunks if c.chunk_type == A]
    assert audio[0] < 0                      # the AAC encoder's priming frame sits before zero
    assert audio[0] == -1024 * 10**9 // 48000


def test_is_final_only_on_the_true_last_chunk_and_batches_are_bounded(clips):
    info, batches, chunks = read_all(clips["mkv"], batch_size=7)
    assert [c.is_final for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert all(1 <= len(batch) <= 7 for batch in batches)
    assert info.complete and info.chunks_made == len(chunks)


def test_large_packets_are_split_keeping_type_and_timestamp(clips):
    info, _, chunks = read_all(clips["mp4"], chunk_size=100, record_packets=True, checksum="crc32c")
    packets = demuxed_packets(clips["mp4"])
    assert len(chunks) == sum(-(-len(p[1]) // 100) for p in packets)
    assert all(len(c) <= 100 and c.checksum_matches() for c in chunks)
    by_seq = {c.sequence_number: c for c in chunks}
    for record, packet in zip(info.packets, packets):
        pieces = [by_seq[record.first_sequence + k] for k in range(record.pieces)]
        assert b"".join(bytes(p.data) for p in pieces) == packet[1]
        assert len({(p.chunk_type, p.timestamp_ns) for p in pieces}) == 1
    assert max(record.pieces for record in info.packets) > 10


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk_size=st.integers(min_value=1, max_value=5000), batch_size=st.integers(min_value=1, max_value=300))
def test_any_chunk_and_batch_size_rebuilds_every_packet(clips, chunk_size, batch_size):
    info, batches, chunks = read_all(clips["ts"], chunk_size=max(chunk_size, 16), record_packets=True,
                                     batch_size=batch_size)
    rebuilt = [(p.stream_index, p.data) for p in iter_packets(chunks, info)]
    assert rebuilt == [(p[0], p[1]) for p in demuxed_packets(clips["ts"])]
    assert all(len(b) <= batch_size for b in batches)
    assert [c.sequence_number for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize("kind, name", [("mp4", "out.mp4"), ("faststart", "out.mov"), ("mkv", "out.mkv"),
                                        ("ts", "out.ts")])
def test_remuxing_the_chunks_decodes_to_the_same_frames(clips, tmp_path, kind, name):
    info, _, chunks = read_all(clips[kind], chunk_size=700, record_packets=True, checksum="sha256")
    out = str(tmp_path / name)
    written = remux(chunks, info, out)
    assert written == info.packets_read
    original, copy = decoded_frames(clips[kind]), decoded_frames(out)
    assert len(copy) == len(original) == 60
    assert all((a == b).all() for a, b in zip(original, copy))
    if kind in ("mp4", "faststart"):        # same container family: the audio is sample-exact too
        assert (decoded_audio(clips[kind]) == decoded_audio(out)).all()


def test_remux_to_a_file_object_and_from_a_bytes_source(clips):
    data = open(clips["mkv"], "rb").read()
    info, _, chunks = read_all(data, record_packets=True)
    out = io.BytesIO()
    remux(chunks, info, out, container_format="matroska")
    assert len(decoded_frames(out.getvalue())) == 60


def test_a_corrupted_chunk_is_caught_by_its_checksum_where_the_decoder_does_not_complain(clips):
    info, _, chunks = read_all(clips["mp4"], checksum="crc32c", record_packets=True)
    victim = next(c for c in chunks if c.chunk_type == B and len(c) > 200)
    data = bytearray(victim.data)
    data[len(data) // 2] ^= 0x01                                   # one bit inside the slice data
    corrupted = MediaChunk(victim.stream_id, victim.sequence_number, bytes(data), victim.chunk_type,
                           timestamp_ns=victim.timestamp_ns, checksum=victim.checksum)
    # the decoder takes the damaged picture without an error ...
    decoder = info.video[0].decoder(output="frame")
    frames = []
    for chunk in chunks:
        if chunk.chunk_type != A:
            frames += decoder.decode(corrupted.data if chunk is victim else chunk.data)
    frames += decoder.flush()
    assert len(frames) == 60
    # ... but the checksum catches it, in the chunk and in the processor's batch validation
    assert victim.checksum_matches() and not corrupted.checksum_matches()
    codes = validate_batch([victim, corrupted])
    assert list(codes) == [0, VALIDATION_CHECKSUM_MISMATCH]


def test_bytes_and_file_object_sources_give_the_same_chunks(clips):
    data = open(clips["ts"], "rb").read()
    _, _, from_path = read_all(clips["ts"], checksum="crc32c")
    _, _, from_bytes = read_all(data, checksum="crc32c")
    with open(clips["ts"], "rb") as handle:
        _, _, from_file = read_all(handle, checksum="crc32c")
    assert from_path == from_bytes == from_file


def test_video_only_and_info_fields(clips):
    info, _, chunks = read_all(clips["video_only"])
    assert {c.chunk_type for c in chunks} <= {I, P, B} and len(chunks) == 60
    assert len(info.streams) == 1 and info.format_name == "matroska,webm"
    video = info.video[0]
    assert (video.codec, video.width, video.height) == ("h264", 320, 180)
    assert video.extradata and video.extradata[0] == 1
    full = probe(clips["mp4"])
    assert full.audio[0].sample_rate == 48000 and full.audio[0].channels == 2
    assert full.video[0].frames == 60 and full.duration_ns == pytest.approx(2e9, rel=0.05)
    with pytest.raises(KeyError):
        full.stream(7)


def test_cover_art_is_a_thumbnail_chunk():
    info, _, chunks = read_all(make_audio_with_cover())
    assert info.video[0].typing == "thumbnail" and info.video[0].codec == "mjpeg"
    kinds = Counter(c.chunk_type for c in chunks)
    assert kinds[ChunkType.THUMBNAIL] == 1 and kinds[A] == len(chunks) - 1
    thumbnail = next(c for c in chunks if c.chunk_type == ChunkType.THUMBNAIL)
    assert bytes(thumbnail.data[:2]) == b"\xff\xd8"                      # a JPEG picture


def test_subtitle_streams_are_skipped_and_listed():
    data = make_audio_with_subtitles()
    if data is None:
        pytest.skip("this PyAV cannot mux a subtitle stream without an encoder")
    info, _, chunks = read_all(data)
    assert info.skipped_streams == ((1, "subtitle", "srt"),)
    assert {c.chunk_type for c in chunks} == {A} and len(chunks) == info.packets_read == 11


def test_packet_table_records_and_finds_packets(clips):
    info, _, chunks = read_all(clips["mp4"], chunk_size=500, record_packets=True, start_sequence=10)
    table = info.packets
    packets = demuxed_packets(clips["mp4"])
    assert len(table) == len(packets)
    for index in (0, 1, len(table) - 1):
        record = table[index]
        assert (record.stream_index, record.pts, record.dts, record.keyframe) == \
            (packets[index][0], packets[index][2], packets[index][3], packets[index][5])
        assert table.find(record.first_sequence) == index
        assert table.find(record.first_sequence + record.pieces - 1) == index
    assert table[-1] == table[len(table) - 1]
    with pytest.raises(IndexError):
        table.find(9)
    with pytest.raises(IndexError):
        table.find(chunks[-1].sequence_number + 1)
    assert isinstance(table, PacketTable)


def test_iter_packets_refuses_incomplete_or_reordered_chunks(clips):
    info, _, chunks = read_all(clips["mkv"], chunk_size=300, record_packets=True)
    with pytest.raises(ValueError, match="expected chunk 1"):
        list(iter_packets([chunks[0]] + chunks[2:], info))
    with pytest.raises(ValueError, match="end"):
        list(iter_packets(chunks[:-1], info))
    bare_info, _, bare_chunks = read_all(clips["mkv"])
    with pytest.raises(ValueError, match="record_packets"):
        list(iter_packets(bare_chunks, bare_info))


# --- damage and truncation ------------------------------------------------------------------------

def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        ContainerReader(tmp_path / "nope.mp4", "s")
    with pytest.raises(IsADirectoryError):
        ContainerReader(tmp_path, "s")


@pytest.mark.parametrize("name, content", [
    ("noise.mp4", bytes((i * 7919 + 13) % 256 for i in range(50_000))),
    ("text.mkv", b"this is a text file, not a movie\n" * 200),
    ("empty.ts", b""),
    ("zeros.mp4", b"\0" * 10_000),
])
def test_non_media_files_are_a_clear_media_format_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MediaFormatError) as caught:
        ContainerReader(path, "s")
    assert name in str(caught.value)


@pytest.mark.parametrize("kind, fraction", [("mp4", 0.5), ("faststart", 0.6), ("faststart", 0.97),
                                            ("mkv", 0.5), ("mkv", 0.99), ("ts", 0.5)])
def test_a_truncated_file_is_refused_before_streaming(clips, tmp_path, kind, fraction):
    data = open(clips[kind], "rb").read()
    cut = int(len(data) * fraction)
    if kind == "ts" and cut % 188 == 0:
        cut += 1
    path = tmp_path / ("cut" + os.path.splitext(clips[kind])[1])
    path.write_bytes(data[:cut])
    with pytest.raises(MediaFormatError):
        ContainerReader(path, "s")
    with pytest.raises(MediaFormatError):                  # the same bytes from memory
        ContainerReader(data[:cut], "s")


@pytest.mark.parametrize("kind", ["faststart", "mkv", "ts"])
def test_a_file_truncated_while_it_is_read_raises_stream_truncated(clips, tmp_path, kind):
    path = tmp_path / ("live" + os.path.splitext(clips[kind])[1])
    data = open(clips[kind], "rb").read()
    path.write_bytes(data)
    chunks = []
    with pytest.raises(StreamTruncated, match="shrank"):
        with ContainerReader(path, "s", batch_size=4) as reader:
            for number, batch in enumerate(reader):
                chunks += batch
                if number == 1:
                    os.truncate(path, len(data) // 3)
    assert 0 < len(chunks) < 155
    assert not reader.info.complete and not any(c.is_final for c in chunks)


def test_a_file_rewritten_while_it_is_read_raises_stream_truncated(clips, tmp_path):
    path = tmp_path / "swap.mkv"
    data = open(clips["mkv"], "rb").read()
    path.write_bytes(data)
    with pytest.raises(StreamTruncated, match="rewritten"):
        with ContainerReader(path, "s", batch_size=8) as reader:
            for number, _ in enumerate(reader):
                if number == 0:
                    with open(path, "r+b") as handle:
                        handle.write(b"\0" * 16)
                    stamp = os.stat(path).st_mtime_ns + 1_000_000_000
                    os.utime(path, ns=(stamp, stamp))


def test_lost_transport_packets_are_a_media_format_error_unless_kept(clips, tmp_path):
    data = open(clips["ts"], "rb").read()
    packets = [data[i:i + 188] for i in range(0, len(data), 188)]

    def pid(packet):
        return ((packet[1] & 0x1F) << 8) | packet[2]

    def payload(packet):
        return packet[4 + 1 + packet[4]:] if packet[3] & 0x20 else packet[4:]

    starts = [i for i, p in enumerate(packets) if p[1] & 0x40 and payload(p)[:4] == b"\0\0\1\xe0"]
    video = pid(packets[starts[0]])
    # a transport packet in the middle of the 3rd video PES: its loss breaks the continuity counter
    lost = next(i for i in range(starts[2] + 1, len(packets))
                if pid(packets[i]) == video and not packets[i][1] & 0x40)
    path = tmp_path / "gap.ts"
    path.write_bytes(b"".join(packets[:lost] + packets[lost + 1:]))
    with pytest.raises(MediaFormatError, match="corrupt") as caught:
        read_all(path)
    assert caught.value.sequence_number is not None
    _, _, chunks = read_all(path, keep_corrupt=True)
    assert len(chunks) == 155 and chunks[-1].is_final


def test_a_damaged_h264_packet_is_a_media_format_error_naming_the_chunk(clips, tmp_path):
    data = bytearray(open(clips["mkv"], "rb").read())
    packets = demuxed_packets(clips["mkv"])
    victim = next(p[1] for p in packets[3:] if p[0] == 0)    # an AVCC video packet
    at = bytes(data).index(victim)
    data[at:at + 4] = (len(victim) * 4).to_bytes(4, "big")  # its NAL length now overruns the packet
    path = tmp_path / "bad.mkv"
    path.write_bytes(bytes(data))
    with pytest.raises(MediaFormatError) as caught:
        read_all(path, video_types="bitstream")
    assert caught.value.stream_id == "clip" and caught.value.sequence_number is not None


# --- arguments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, word", [
    ({"chunk_size": 0}, ValueError, "chunk_size"),
    ({"chunk_size": "1"}, TypeError, "chunk_size"),
    ({"checksum": "md5"}, ValueError, "checksum"),
    ({"video_types": "guess"}, ValueError, "video_types"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"start_sequence": -1}, ValueError, "start_sequence"),
    ({"stream_id": ""}, TypeError, "stream_id"),
])
def test_bad_arguments_name_themselves(clips, kwargs, error, word):
    options = {"stream_id": "s", **kwargs}
    with pytest.raises(error, match=word):
        ContainerReader(clips["mp4"], **options)


def test_bad_source_type_and_single_iteration(clips):
    with pytest.raises(TypeError, match="source"):
        ContainerReader(12, "s")
    reader = demux_chunks(clips["mp4"], "s")
    assert sum(len(batch) for batch in reader) == 155
    with pytest.raises(RuntimeError, match="once"):
        iter(reader)


def test_closing_early_releases_the_container(clips):
    reader = ContainerReader(clips["mp4"], "s", batch_size=4)
    assert "open" in repr(reader) and "mov,mp4" in repr(reader) and "'s'" in repr(reader)
    batches = iter(reader)
    first = next(batches)
    assert "reading" in repr(reader)
    reader.close()
    reader.close()
    assert len(first) == 4
    assert "closed" in repr(reader)


# --- the streaming service -----------------------------------------------------------------------

def test_service_streams_a_container_with_real_types(clips):
    from rs2fast.streaming import MediaStreamingService

    service = MediaStreamingService(64)
    try:
        media = MediaStream("movie", 1, MediaType.MIXED, QualityLevel.LOW, 4096)
        with service.start_file_stream(clips["mp4"], media) as stream:
            chunks = list(stream)
    finally:
        service.shutdown()
    counts = Counter(c.chunk_type for c in chunks)
    assert counts[A] == 95 and counts[I] == 2 and counts[B] > 10
    assert chunks[-1].is_final and all(c.checksum_matches() for c in chunks)
    assert [c.sequence_number for c in chunks] == list(range(len(chunks)))
    assert service.processor.get_stats().validation_failures == 0


# --- the command line -----------------------------------------------------------------------------

def test_cli_stream_shows_per_type_counts_bytes_and_rate(clips, capsys):
    from rs2fast.__main__ import main

    expected = Counter(PICT[t] for t in packet_pict_types(clips["mp4"]))
    assert main(["stream", clips["mp4"]]) == 0
    out = capsys.readouterr().out
    assert f"media chunks    I {expected[I]}, P {expected[P]}, B {expected[B]}, audio 95" in out
    assert "container       mov,mp4,m4a,3gp,3g2,mj2: video h264 320x180" in out
    assert "audio aac 48000 Hz 2 ch" in out
    packet_bytes = sum(len(p[1]) for p in demuxed_packets(clips["mp4"]))
    assert f"155 chunks, {packet_bytes:,} bytes" in out and "MiB/s" in out and "chunks/s" in out


def test_cli_stream_json_has_frame_types(clips, capsys):
    import json
    from rs2fast.__main__ import main

    assert main(["stream", clips["mkv"], "--json", "--chunk-size", "1K"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = next(r for r in records if r["record"] == "summary")
    types = summary["chunk_types"]
    assert summary["complete"] is True and types["audio"] == 95     # audio packets fit in 1 KiB
    assert types["I"] > 2 and summary["chunks"] > 155                 # keyframes were split
    assert sum(types.values()) == summary["chunks"] and types["other"] == 0
    assert summary["container"]["format"] == "matroska,webm"


def test_cli_stream_raw_mode_and_damaged_files(clips, tmp_path, capsys):
    from rs2fast.__main__ import main

    assert main(["stream", clips["ts"], "--container", "raw", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"chunk_types"' not in out and f'"bytes": {os.path.getsize(clips["ts"])}' in out
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a movie at all" * 100)
    assert main(["stream", str(bad)]) == 1
    assert "not a readable media container" in capsys.readouterr().err


def test_cli_stream_without_av(monkeypatch, tmp_path, capsys):
    from rs2fast.__main__ import main

    monkeypatch.setitem(sys.modules, "av", None)
    path = tmp_path / "movie.mkv"
    path.write_bytes(bytes(range(256)) * 40)
    assert main(["stream", str(path)]) == 0                      # auto: raw bytes, with a note
    assert 'pip install "rs2fast[av]"' in capsys.readouterr().out
    assert main(["stream", str(path), "--container", "demux"]) == 1
    assert 'pip install "rs2fast[av]"' in capsys.readouterr().err


def test_cli_demo_streams_a_real_clip(capsys):
    from rs2fast.__main__ import main

    assert main(["demo", "--size-mib", "1", "--live-chunks", "5"]) == 0
    out = capsys.readouterr().out
    assert "Real media (PyAV): a 2.0 s 320x180 H.264 + AAC clip made in memory" in out
    assert "audio 95" in out and "last chunk final" in out
