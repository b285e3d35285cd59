"""PacketChunker (rs2fast._packets): chunks, types, timestamps, checksums and packet table rows made
in C from demuxed packets. Stand-in packets (bytes with PyAV's packet attributes) keep these tests
free of PyAV, so they also run in the sanitizer build."""
import sys

import pytest
from hypothesis import given, settings, strategies as st

from rs2fast._chunk import checksum_hex
from rs2fast._container_info import PacketRecord, PacketTable
from rs2fast._packets import PacketChunker
from rs2fast.errors import MediaFormatError
from rs2fast.types import ChunkType

I, P, B, A = ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME, ChunkType.AUDIO


class FakePacket(bytes):
    """Bytes with the packet attributes the chunk builder reads, like a PyAV packet."""

    def __new__(cls, data, stream_index=0, pts=None, dts=None, duration=None, keyframe=False,
                corrupt=False):
        packet = super().__new__(cls, data)
        packet.stream_index, packet.pts, packet.dts = stream_index, pts, dts
        packet.duration, packet.is_keyframe, packet.is_corrupt = duration, keyframe, corrupt
        return packet


IDR = b"\0\0\0\1\x65\x88\x84"           # Annex-B IDR slice (first_mb 0, slice_type 7: I)
NON_IDR_P = b"\0\0\0\1\x41\x9a\x00"     # non-IDR slice, slice_type 5 (P)
MS = (1_000_000_000, 1000)                     # time base 1/1000 as (scale, divisor)


def chunker(plans, chunk_size=1024, checksum="crc32c", start=0, rows=None, **kw):
    return PacketChunker("s", "<test>", chunk_size, checksum, start, plans, rows, start, **kw)


def test_chunker_types_times_and_checksums_packets():
    plans = [("bitstream", *MS, "annexb", 4), ("audio", *MS, None, 4), ("keyframe", *MS, None, 4)]
    packets = [FakePacket(IDR, 0, pts=0), FakePacket(b"aac", 1, pts=-21), FakePacket(NON_IDR_P, 0, pts=33),
               FakePacket(b"", 1),        # the empty flush packet: skipped
               FakePacket(b"v", 2, pts=7, keyframe=True), FakePacket(b"w", 2, pts=None, dts=None)]
    c = chunker(plans, start=5)
    batch: list = []
    assert c.fill(iter(packets), batch, 64) is True
    assert [ch.sequence_number for ch in batch] == [5, 6, 7, 8, 9]
    assert [ch.chunk_type for ch in batch] == [I, A, P, I, P]
    assert [ch.timestamp_ns for ch in batch] == [0, -21_000_000, 33_000_000, 7_000_000, 7_000_000]
    assert all(ch.checksum == checksum_hex(ch.data, "crc32c") for ch in batch)
    assert [bytes(ch.data) for ch in batch] == [bytes(p) for p in packets if p]
    assert all(ch.priority == ch.chunk_type.default_priority and not ch.is_final for ch in batch)
    assert (c.sequence, c.packets_read, c.bytes_read) == (10, 5, sum(len(p) for p in packets))
    assert c.packets_per_stream() == [2, 1, 2]


def test_chunker_splits_large_packets_and_records_rows():
    table = PacketTable(3)
    c = chunker([("audio", 1_000_000_000, 48_000, None, 4)], chunk_size=4, checksum="sha256",
                start=3, rows=table.rows)
    data = bytes(range(10))
    batch: list = []
    c.fill(iter([FakePacket(data, 0, pts=4800, dts=4800, duration=1024, keyframe=True)]), batch, 64)
    assert [bytes(ch.data) for ch in batch] == [data[0:4], data[4:8], data[8:10]]
    assert [ch.sequence_number for ch in batch] == [3, 4, 5]
    assert {ch.timestamp_ns for ch in batch} == {100_000_000}
    assert all(ch.checksum == checksum_hex(ch.data, "sha256") for ch in batch)
    assert list(table) == [PacketRecord(3, 3, 0, 4800, 4800, 1024, True)]
    assert table.find(5) == 0


def test_chunker_timestamps_floor_and_survive_overflowing_products():
    huge = 1 << 62
    c = chunker([("audio", 3 * 10**9, 7, None, 4), ("audio", huge, huge - 1, None, 4)])
    batch: list = []
    c.fill(iter([FakePacket(b"a", 0, pts=-1), FakePacket(b"b", 1, pts=5)]), batch, 64)
    assert batch[0].timestamp_ns == (-1 * 3 * 10**9) // 7              # floor, as Python's //
    assert batch[1].timestamp_ns == 5 * huge // (huge - 1)
    with pytest.raises(ValueError, match="int64"):
        chunker([("audio", huge, 1, None, 4)]).fill(iter([FakePacket(b"c", 0, pts=4)]), [], 64)


def test_chunker_fill_stops_once_the_batch_is_over_its_size():
    c = chunker([("audio", *MS, None, 4)])
    packets = iter([FakePacket(b"x", 0, pts=n) for n in range(10)])
    batch: list = []
    assert c.fill(packets, batch, 3) is False and len(batch) == 4
    assert c.fill(packets, batch, 100) is True and len(batch) == 10


def test_chunker_reports_damage_and_corruption_with_the_sequence_number():
    c = chunker([("bitstream", *MS, "annexb", 4)], start=7)
    with pytest.raises(MediaFormatError, match="damaged H.264 packet in stream 0") as caught:
        c.fill(iter([FakePacket(b"\x01\x02garbage", 0, pts=0)]), [], 64)
    assert caught.value.sequence_number == 7
    calls = []
    c = chunker([("audio", *MS, None, 4)], check_truncated=lambda: calls.append(1))
    with pytest.raises(MediaFormatError, match="corrupt"):
        c.fill(iter([FakePacket(b"a", 0, pts=0, corrupt=True)]), [], 64)
    assert calls == [1]
    kept: list = []
    chunker([("audio", *MS, None, 4)], keep_corrupt=True).fill(
        iter([FakePacket(b"a", 0, pts=0, corrupt=True)]), kept, 64)
    assert len(kept) == 1


def test_chunker_read_and_emit_give_what_fill_gives():
    plans = [("decode", *MS, None, 4), ("audio", *MS, None, 4)]
    packets = [FakePacket(b"frame0", 0, pts=0, keyframe=True), FakePacket(b"a" * 5, 1, pts=1),
               FakePacket(b"frame1", 0, pts=2)]
    c = chunker(plans, chunk_size=3)
    with pytest.raises(ValueError, match="decoding"):
        c.fill(iter(packets), [], 64)
    entries = [c.read(p) for p in packets]
    assert c.read(FakePacket(b"", 0)) is None
    assert [e[0] for e in entries] == [0, 2, 4] and [e[8] for e in entries] == [2, 2, 2]
    assert [e[9] for e in entries] == [None, A, None]
    with pytest.raises(TypeError):
        c.emit([], [entries[0]])                         # its type is not known yet
    entries[0][9], entries[2][9] = I, B
    batch: list = []
    c.emit(batch, entries)
    assert [ch.chunk_type for ch in batch] == [I, I, A, A, B, B]
    assert b"".join(bytes(ch.data) for ch in batch) == b"".join(packets)


def model_chunks(packets, plans, chunk_size, algorithm, start):
    """What the chunk builder must make, written plainly: (sequence, type, timestamp, data, checksum)
    per chunk and one packet table row per non-empty packet."""
    chunks, rows, last, seq = [], [], {}, start
    for packet in packets:
        data = bytes(packet)
        if not data:
            continue
        typing, scale, divisor = plans[packet.stream_index][:3]
        stamp = packet.pts if packet.pts is not None else packet.dts
        ts = last.get(packet.stream_index, 0) if stamp is None else stamp * scale // divisor
        if not -(1 << 63) <= ts < (1 << 63):
            raise ValueError("timestamp_ns is outside the int64 range")
        last[packet.stream_index] = ts
        ctype = {"audio": A, "thumbnail": ChunkType.THUMBNAIL}.get(typing, I if packet.is_keyframe else P)
        pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]
        for number, piece in enumerate(pieces):
            chunks.append((seq + number, ctype, ts, piece,
                           checksum_hex(piece, algorithm) if algorithm else None))
        rows.append(PacketRecord(seq, len(pieces), packet.stream_index, packet.pts, packet.dts,
                                 packet.duration or 0, packet.is_keyframe))
        seq += len(pieces)
    return chunks, rows


fake_packets = st.lists(st.builds(
    FakePacket, st.binary(max_size=40), st.integers(0, 2),
    pts=st.none() | st.integers(-(1 << 40), 1 << 40), dts=st.none() | st.integers(-(1 << 40), 1 << 40),
    duration=st.none() | st.integers(0, 5000), keyframe=st.booleans()), max_size=30)


@settings(max_examples=150, deadline=None)
@given(packets=fake_packets, chunk_size=st.integers(1, 24), batch_size=st.integers(1, 8),
       algorithm=st.sampled_from([None, "crc32c", "sha256"]), start=st.integers(0, 1 << 40),
       scales=st.lists(st.tuples(st.integers(0, 10**12), st.integers(1, 10**6)), min_size=3, max_size=3))
def test_chunker_matches_a_plain_python_model(packets, chunk_size, batch_size, algorithm, start, scales):
    plans = [(typing, scale, divisor, None, 4)
             for typing, (scale, divisor) in zip(("keyframe", "audio", "thumbnail"), scales)]
    try:
        expected, rows = model_chunks(packets, plans, chunk_size, algorithm, start)
    except ValueError:
        with pytest.raises(ValueError, match="int64"):
            chunker(plans, chunk_size=chunk_size).fill(iter(packets), [], 1 << 20)
        return
    table = PacketTable(start)
    c = chunker(plans, chunk_size=chunk_size, checksum=algorithm, start=start, rows=table.rows)
    source, made, batch = iter(packets), [], []
    while True:
        ended = c.fill(source, batch, batch_size)
        assert ended or len(batch) > batch_size
        made += batch
        batch.clear()
        if ended:
            break
    assert [(ch.sequence_number, ch.chunk_type, ch.timestamp_ns, bytes(ch.data), ch.checksum)
            for ch in made] == expected
    assert list(table) == rows
    assert c.sequence == start + len(expected)
    assert c.bytes_read == sum(len(p) for p in packets)
    # the decoding path: stream 0's types given after the fact, as a decoder would
    table = PacketTable(start)
    c = chunker([("decode", *plans[0][1:])] + plans[1:], chunk_size=chunk_size, checksum=algorithm,
                start=start, rows=table.rows)
    entries = [entry for entry in map(c.read, packets) if entry is not None]
    for entry in entries:
        if entry[9] is None:
            entry[9] = I if entry[7] else P
    made = []
    c.emit(made, entries)
    assert [(ch.sequence_number, ch.chunk_type, ch.timestamp_ns, bytes(ch.data), ch.checksum)
            for ch in made] == expected
    assert list(table) == rows


@pytest.mark.parametrize("plans, error", [
    ([], ValueError), ([("psychic", *MS, None, 4)], ValueError), ([("audio", 1, 0, None, 4)], ValueError),
    ([("bitstream", *MS, "mpeg", 4)], ValueError), ([("bitstream", *MS, "avcc", 3)], ValueError),
    ([("audio", *MS)], ValueError)])
def test_chunker_refuses_bad_plans(plans, error):
    with pytest.raises(error):
        chunker(plans)


def test_chunker_refuses_bad_arguments():
    plans = [("audio", *MS, None, 4)]
    with pytest.raises(ValueError):
        chunker(plans, chunk_size=0)
    with pytest.raises(ValueError):
        chunker(plans, checksum="md5")
    with pytest.raises(TypeError):
        chunker(plans, rows=[])
    with pytest.raises(TypeError):
        chunker(plans, check_truncated=3)
    with pytest.raises(ValueError, match="not demuxed"):
        chunker([None, ("audio", *MS, None, 4)]).fill(iter([FakePacket(b"a", 0, pts=0)]), [], 64)
    with pytest.raises(TypeError):
        chunker(plans).fill(iter([object()]), [], 64)     # no buffer


def test_chunks_borrow_packet_bytes_except_when_a_stream_is_typed_by_decoding():
    packet = FakePacket(b"payload", 0, pts=0)
    before = sys.getrefcount(packet)
    borrowed: list = []
    chunker([("audio", *MS, None, 4)]).fill(iter([packet]), borrowed, 64)
    assert sys.getrefcount(packet) > before              # the chunk holds the packet: no copy
    del borrowed[:]
    assert sys.getrefcount(packet) == before
    # a decoded stream's packet holds the decoder (through its stream): its bytes are copied
    c = chunker([("decode", *MS, None, 4)])
    entry = c.read(packet)
    entry[9] = I
    copied: list = []
    c.emit(copied, [entry])
    assert sys.getrefcount(packet) == before and bytes(copied[0].data) == b"payload"
