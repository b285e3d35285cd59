"""H.264 access-unit typing: hand-built NAL units (no PyAV), hypothesis, and real libx264 clips."""
import array
import io
import threading

import pytest
from hypothesis import assume, given, strategies as st

from rs2fast._h264 import (FRAMINGS, LENGTH_SIZES, SLICE_TYPE_NAMES, NalUnitIterator,
                           classify_access_unit, iter_nal_units, parse_slice_type)
from rs2fast.errors import CodecError, MediaFormatError
from rs2fast.types import ChunkType

I, P, B, META = (ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME,
                 ChunkType.METADATA)
KIND_OF_SLICE = {0: P, 1: B, 2: I, 3: P, 4: I}          # slice_type % 5 -> chunk type (SP->P, SI->I)
SLICE, PART_A, PART_B, PART_C, IDR, SEI, SPS, PPS, AUD, END_SEQ, END_STREAM, FILLER = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)


# --- a tiny bitstream writer ------------------------------------------------------------------------

class BitWriter:
    """MSB-first bit writer with exp-Golomb ue(v) and RBSP trailing bits."""

    def __init__(self):
        self.bits = []

    def u(self, n, value):
        self.bits += [(value >> (n - 1 - i)) & 1 for i in range(n)]
        return self

    def ue(self, value):
        code = value + 1
        width = code.bit_length()
        self.u(width - 1, 0)
        return self.u(width, code)

    def rbsp(self):
        bits = self.bits + [1]                             # rbsp_stop_one_bit
        bits += [0] * (-len(bits) % 8)                     # rbsp_alignment_zero_bits
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def escape(rbsp):
    """Insert emulation-prevention bytes: 00 00 0x (x <= 3) -> 00 00 03 0x."""
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def slice_nal(slice_type, nal_type=SLICE, first_mb=0, ref_idc=2, tail=b""):
    """One slice NAL unit (header byte + escaped slice header + tail bits)."""
    writer = BitWriter().ue(first_mb).ue(slice_type).ue(0)   # ... pic_parameter_set_id
    for byte in tail:
        writer.u(8, byte)
    return bytes([(ref_idc << 5) | nal_type]) + escape(writer.rbsp())


def other_nal(nal_type, payload=b"\x42\x80", ref_idc=0):
    return bytes([(ref_idc << 5) | nal_type]) + escape(payload)


def annexb(nals, long_codes=True, leading=b"", trailing=b""):
    code = b"\x00\x00\x00\x01" if long_codes else b"\x00\x00\x01"
    return leading + b"".join(code + nal for nal in nals) + trailing


def avcc(nals, length_size=4):
    return b"".join(len(nal).to_bytes(length_size, "big") + nal for nal in nals)


def frame(nals, framing, length_size=4):
    return annexb(nals) if framing == "annexb" else avcc(nals, length_size)


FRAMING_CASES = [("annexb", 4), ("avcc", 1), ("avcc", 2), ("avcc", 4)]


# --- slice types ------------------------------------------------------------------------------------

@pytest.mark.parametrize("slice_type", range(10))
@pytest.mark.parametrize("framing, length_size", FRAMING_CASES)
def test_every_slice_type_is_classified(slice_type, framing, length_size):
    nal = slice_nal(slice_type, first_mb=slice_type * 37)
    assert parse_slice_type(nal[1:]) == slice_type
    data = frame([nal], framing, length_size)
    assert classify_access_unit(data, framing, length_size) == KIND_OF_SLICE[slice_type % 5]


@pytest.mark.parametrize("slice_type", [2, 4, 7, 9])
def test_idr_slices_are_i_frames(slice_type):
    units = [other_nal(SPS, b"\x64\x00\x1f\xac"), other_nal(PPS, b"\xee\x3c\x80"),
             slice_nal(slice_type, nal_type=IDR, ref_idc=3)]
    for framing, length_size in FRAMING_CASES:
        assert classify_access_unit(frame(units, framing, length_size), framing, length_size) == I


def test_slice_type_names_follow_the_standard():
    assert [SLICE_TYPE_NAMES[t] for t in range(10)] == ["P", "B", "I", "SP", "SI"] * 2
    assert FRAMINGS == ("annexb", "avcc") and LENGTH_SIZES == (1, 2, 4)


def test_emulation_prevention_bytes_are_skipped():
    first_mb = (1 << 23) + 5             # 23 leading zero bits: the header starts 00 00 01 ...
    for slice_type in range(10):
        nal = slice_nal(slice_type, first_mb=first_mb)
        assert b"\x00\x00\x03" in nal[1:5]                # the writer really had to escape
        assert parse_slice_type(nal[1:]) == slice_type
        assert classify_access_unit(annexb([nal])) == KIND_OF_SLICE[slice_type % 5]
        assert classify_access_unit(avcc([nal]), "avcc") == KIND_OF_SLICE[slice_type % 5]


def test_escaped_slice_type_code():
    # slice_type with 29 leading zeros: its bytes run 80 00 00 02 ..., so the writer escapes them.
    rbsp = BitWriter().ue(0).ue((1 << 29) + 4).rbsp()
    escaped = escape(rbsp)
    assert escaped != rbsp and escaped[1:4] == b"\x00\x00\x03"
    with pytest.raises(MediaFormatError, match="unknown slice_type 536870916 at offset 0"):
        parse_slice_type(escaped)
    with pytest.raises(MediaFormatError, match="truncated slice header"):
        parse_slice_type(rbsp[:5])                       # cut inside the slice_type suffix


def test_escaped_slice_type_after_a_long_first_mb():
    # first_mb = 2**25 - 1 is 25 zeros, 1, 25 zeros: its last zero bytes run into the slice_type
    # code 0001xxx, so the writer escapes inside first_mb and again between the two codes.
    first_mb = (1 << 25) - 1
    for slice_type in (7, 8, 9):
        nal = slice_nal(slice_type, first_mb=first_mb)
        assert nal[1:].count(b"\x00\x00\x03") >= 2
        assert parse_slice_type(nal[1:]) == slice_type


def test_longest_valid_exp_golomb_code():
    nal = slice_nal(5, first_mb=(1 << 32) - 2)            # 31 leading zeros: the longest allowed
    assert parse_slice_type(nal[1:]) == 5
    too_long = escape(BitWriter().u(32, 0).u(1, 1).u(32, 0).ue(0).rbsp())
    with pytest.raises(MediaFormatError, match="exp-Golomb code longer than 32 bits"):
        parse_slice_type(too_long)
    with pytest.raises(MediaFormatError, match="longer than 32 bits in the slice header at offset 4"):
        classify_access_unit(annexb([b"\x41" + too_long]))


# --- framing ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("long_codes", [True, False])
def test_annexb_start_codes_leading_and_trailing_zeros(long_codes):
    units = [other_nal(AUD, b"\x10"), other_nal(SPS, b"\x64\x00\x1f"), slice_nal(1, first_mb=9)]
    data = annexb(units, long_codes, leading=b"\x00\x00", trailing=b"\x00\x00\x00")
    found = list(iter_nal_units(data))
    assert [t for t, _, _ in found] == [AUD, SPS, SLICE]
    assert [data[o:o + n] for _, o, n in found] == units
    assert classify_access_unit(data) == B


@pytest.mark.parametrize("length_size", [1, 2, 4])
def test_avcc_offsets_and_lengths(length_size):
    units = [other_nal(SEI, b"\x05\x01\x80"), slice_nal(0), slice_nal(5, first_mb=40)]
    data = avcc(units, length_size)
    found = list(iter_nal_units(data, "avcc", length_size))
    assert [t for t, _, _ in found] == [SEI, SLICE, SLICE]
    assert [data[o:o + n] for _, o, n in found] == units
    assert found[0][1] == length_size
    assert classify_access_unit(data, framing="avcc", length_size=length_size) == P


def test_start_codes_are_found_at_every_position():
    # The Annex-B scanner works on 64-byte blocks: put start codes at every offset around them.
    filler = bytes((i * 37) % 250 + 4 for i in range(300))          # no 00, 01, 02 or 03 bytes
    for at in range(4, 200):
        data = b"\x00\x00\x01\x09\x10" + filler[:at] + b"\x00\x00\x01\x0c" + filler[at:]
        found = list(iter_nal_units(data))
        assert found == [(AUD, 3, 2 + at), (FILLER, at + 8, 1 + len(filler) - at)]
        zeros = data[:at + 5] + b"\x00" + data[at + 5:]                # 4-byte start code
        assert [n for _, _, n in iter_nal_units(zeros)] == [2 + at, 1 + len(filler) - at]
    near_miss = b"\x00\x00\x01\x09\x10" + b"\x00\x00\x04\x00\x02\x00\x00\x02" * 40
    assert list(iter_nal_units(near_miss)) == [(AUD, 3, len(near_miss) - 3)]


def test_framing_is_never_guessed():
    data = avcc([slice_nal(2)])                            # 00 00 00 0x <nal>: not Annex B data
    assert classify_access_unit(data, "avcc") == I
    with pytest.raises(MediaFormatError):
        classify_access_unit(data, "annexb")
    annex = annexb([slice_nal(2)])
    with pytest.raises(MediaFormatError):
        classify_access_unit(annex, "avcc")


# --- access units -----------------------------------------------------------------------------------

@pytest.mark.parametrize("slice_types, expected", [
    ((2, 2, 2), I), ((7, 4, 9), I), ((2, 0, 2), P), ((3, 2), P), ((0, 1), B), ((2, 2, 6), B),
    ((5, 5, 5, 5), P), ((8, 7), P), ((6, 5), B),
])
@pytest.mark.parametrize("framing, length_size", FRAMING_CASES)
def test_multi_slice_units_take_the_weakest_slice(slice_types, expected, framing, length_size):
    units = [slice_nal(t, first_mb=i * 99) for i, t in enumerate(slice_types)]
    assert classify_access_unit(frame(units, framing, length_size), framing, length_size) == expected


@pytest.mark.parametrize("types", [[SEI], [SPS], [PPS], [SPS, PPS], [AUD, SEI], [FILLER],
                                   [SPS, PPS, SEI, END_SEQ, END_STREAM], [13, 15, 0, 24, 31]])
@pytest.mark.parametrize("framing, length_size", FRAMING_CASES)
def test_units_without_slices_are_metadata(types, framing, length_size):
    units = [other_nal(t) for t in types]
    assert classify_access_unit(frame(units, framing, length_size), framing, length_size) == META


def test_data_partitions():
    a = slice_nal(1, nal_type=PART_A, tail=b"\x5a")       # partition A carries the slice header
    b, c = other_nal(PART_B, b"\x77\x80"), other_nal(PART_C, b"\x66\x80")
    assert classify_access_unit(annexb([a, b, c])) == B
    assert classify_access_unit(annexb([slice_nal(2, PART_A), b])) == I
    with pytest.raises(MediaFormatError, match="partition B/C at offset 4 without a partition A"):
        classify_access_unit(annexb([b, c]))


def test_classification_is_the_chunk_type_enum():
    result = classify_access_unit(annexb([slice_nal(1)]))
    assert type(result) is ChunkType and result.default_priority == B.default_priority


# --- malformed input --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, framing, length_size, message", [
    (b"", "annexb", 4, "no NAL units"),
    (b"\x65\x88\x84\x00", "annexb", 4, "no Annex-B start code in 4 bytes"),
    (b"\x00\x00\x00\x00", "annexb", 4, "no Annex-B start code"),
    (b"\x07\x00\x00\x01\x65\x88", "annexb", 4, "byte 0x07 at offset 0 before the first start code"),
    (b"\x00\x00\x01\x00\x00\x01\x65\x88", "annexb", 4, "empty NAL unit after the start code at offset 0"),
    (b"\x00\x00\x01\x65\x88\x00\x00\x01", "annexb", 4, "empty NAL unit after the start code at offset 5"),
    (b"", "avcc", 4, "no NAL units: the access unit is empty"),
    (b"\x00\x00\x00\x02\x65\x88\x00\x00", "avcc", 4, "truncated length prefix at offset 6: 2 of 4 bytes present"),
    (b"\x00\x00\x00", "avcc", 4, "truncated length prefix at offset 0: 3 of 4 bytes present"),
    (b"\x00\x02\x65\x88\x00", "avcc", 2, "truncated length prefix at offset 4: 1 of 2 bytes present"),
    (b"\x00\x00\x00\x00", "avcc", 4, "zero-length NAL unit at offset 0"),
    (b"\x00\x00\x00\x09\x65\x88", "avcc", 4, "NAL unit length 9 at offset 0 goes beyond the buffer "
                                             r"\(2 bytes left\)"),
    (b"\x02\x65\x88\x05\x41", "avcc", 1, "NAL unit length 5 at offset 3 goes beyond"),
    (b"\x00\x00\x01\xe5\x88", "annexb", 4, "forbidden_zero_bit set in the NAL header 0xe5 at offset 3"),
    (b"\x01\x86", "avcc", 1, "forbidden_zero_bit set .* at offset 1"),
    (b"\x00\x00\x01\x41", "annexb", 4, r"truncated slice header \(first_mb_in_slice, slice_type\) "
                                       "at offset 3"),
    (b"\x00\x00\x01\x41\x80", "annexb", 4, "truncated slice header"),
    (b"\x00\x00\x01\x41\x00\x00\x03\x00\x00\x03\x00\x80", "annexb", 4, "exp-Golomb code longer than 32"),
    (b"\x00\x00\x01" + slice_nal(10), "annexb", 4, r"unknown slice_type 10 at offset 3 \(valid: 0..9\)"),
    (b"\x00\x00\x01" + slice_nal(1000), "annexb", 4, "unknown slice_type 1000"),
    (b"\x00\x00\x01" + slice_nal(0, nal_type=IDR), "annexb", 4,
     r"IDR slice at offset 3 has slice_type 0 \(P\); IDR pictures hold only I and SI slices"),
    (b"\x00\x00\x01" + slice_nal(6, nal_type=IDR), "annexb", 4, r"slice_type 6 \(B\)"),
])
def test_malformed_units_raise_media_format_error(data, framing, length_size, message):
    with pytest.raises(MediaFormatError, match=message) as caught:
        classify_access_unit(data, framing, length_size)
    assert isinstance(caught.value, CodecError) and str(caught.value).startswith("H.264: ")


def test_errors_after_valid_units_are_still_found():
    good = [other_nal(SPS), slice_nal(2, nal_type=IDR)]
    with pytest.raises(MediaFormatError, match="forbidden_zero_bit"):
        classify_access_unit(annexb(good + [b"\x81\x80"]))
    with pytest.raises(MediaFormatError, match="goes beyond"):
        classify_access_unit(avcc(good) + b"\x00\x00\x00\x7f\x41", "avcc")


def test_iter_nal_units_is_lazy_and_raises_where_the_damage_is():
    good = avcc([other_nal(SPS), slice_nal(2)])
    data = good + b"\x00\x00\x00"
    units = iter_nal_units(data, "avcc")
    assert isinstance(units, NalUnitIterator) and iter(units) is units
    assert next(units)[0] == SPS and next(units)[0] == SLICE
    with pytest.raises(MediaFormatError, match=f"truncated length prefix at offset {len(good)}"):
        next(units)
    with pytest.raises(StopIteration):
        next(units)
    with pytest.raises(MediaFormatError, match="no NAL units"):
        list(iter_nal_units(b""))
    with pytest.raises(MediaFormatError, match="forbidden_zero_bit"):
        list(iter_nal_units(b"\x00\x00\x01\x80\x01"))


# --- arguments --------------------------------------------------------------------------------------

def test_argument_errors_name_the_argument():
    data = annexb([slice_nal(2)])
    with pytest.raises(ValueError, match="framing must be 'annexb' or 'avcc', got 'mp4'"):
        classify_access_unit(data, "mp4")
    with pytest.raises(TypeError, match="framing must be"):
        classify_access_unit(data, None)
    with pytest.raises(ValueError, match="length_size must be 1, 2 or 4, got 3"):
        classify_access_unit(data, "avcc", 3)
    with pytest.raises(TypeError, match="length_size must be an int, not bool"):
        classify_access_unit(data, "avcc", True)
    with pytest.raises(TypeError, match="length_size must be an int, not float"):
        classify_access_unit(data, "avcc", 4.0)
    with pytest.raises(TypeError, match="data must be a bytes-like object, not str"):
        classify_access_unit("\x00\x00\x01\x65")
    with pytest.raises(TypeError, match="data must be a bytes-like object, not int"):
        classify_access_unit(5)
    with pytest.raises(ValueError, match="data must be a C-contiguous buffer"):
        classify_access_unit(memoryview(data)[::2])
    with pytest.raises(TypeError, match="nal_payload must be a bytes-like object"):
        parse_slice_type(None)
    with pytest.raises(ValueError, match="framing"):
        iter_nal_units(data, "AVCC")


def test_any_contiguous_buffer_is_accepted():
    data = annexb([other_nal(SPS), slice_nal(1)])
    for buffer in (bytearray(data), memoryview(data), array.array("B", data),
                   memoryview(b"xx" + data)[2:]):
        assert classify_access_unit(buffer) == B
    big = avcc([slice_nal(0, tail=bytes(range(1, 256)) * 300)], 4)     # > 64 KiB: GIL released
    assert len(big) > 65536
    assert classify_access_unit(big, "avcc") == P
    assert classify_access_unit(bytearray(big), "avcc") == P


def test_large_units_classify_correctly_from_many_threads():
    payload = bytes((i * 7 + 1) % 251 + 1 for i in range(40000))
    data = annexb([other_nal(SEI, b"\x05\x80"), slice_nal(1, tail=payload), slice_nal(0, tail=payload)])
    results = []

    def work():
        results.extend(classify_access_unit(data) for _ in range(50))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [B] * 200


# --- properties (hypothesis) ------------------------------------------------------------------------

@given(st.integers(0, (1 << 32) - 2), st.integers(0, 9), st.binary(max_size=8))
def test_slice_header_round_trip(first_mb, slice_type, tail):
    nal = slice_nal(slice_type, first_mb=first_mb, tail=tail)
    assert parse_slice_type(nal[1:]) == slice_type


def reference_kind(units):
    """Model of the rule: weakest primary slice wins; no primary slice -> METADATA."""
    kinds = [KIND_OF_SLICE[s % 5] for t, s in units if t in (SLICE, PART_A, IDR)]
    if not kinds:
        return META
    return B if B in kinds else P if P in kinds else I


unit_strategy = st.one_of(
    st.tuples(st.sampled_from([SLICE, PART_A]), st.integers(0, 9)),
    st.tuples(st.just(IDR), st.sampled_from([2, 4, 7, 9])),
    st.tuples(st.sampled_from([SEI, SPS, PPS, AUD, END_SEQ, FILLER, 13, 14, 15, 19, 20, 0, 31]),
              st.just(0)),
)


@given(st.lists(unit_strategy, min_size=1, max_size=8), st.sampled_from(FRAMING_CASES),
       st.integers(0, 5000), st.booleans())
def test_random_access_units_match_the_model(units, case, first_mb, long_codes):
    framing, length_size = case
    nals = [slice_nal(s, nal_type=t, first_mb=first_mb) if t in (SLICE, PART_A, IDR)
            else other_nal(t, b"\x00\x00\x01\x80") for t, s in units]
    assume(framing == "annexb" or length_size == 4 or all(len(n) < 1 << (8 * length_size) for n in nals))
    data = annexb(nals, long_codes) if framing == "annexb" else avcc(nals, length_size)
    assert [t for t, _, _ in iter_nal_units(data, framing, length_size)] == [t for t, _ in units]
    assert classify_access_unit(data, framing, length_size) == reference_kind(units)


@given(st.binary(max_size=300), st.sampled_from(FRAMING_CASES))
def test_random_bytes_give_a_kind_or_media_format_error(data, case):
    framing, length_size = case
    try:
        kind = classify_access_unit(data, framing, length_size)
    except MediaFormatError as error:
        assert str(error).startswith("H.264: ")
    else:
        assert kind in (I, P, B, META)
    try:
        for nal_type, offset, length in iter_nal_units(data, framing, length_size):
            assert 0 <= nal_type < 32 and length >= 1 and offset + length <= len(data)
    except MediaFormatError:
        pass


def reference_annexb_units(data):
    """Model of Annex-B splitting with bytes.find; a trailing "error" marks a MediaFormatError."""
    starts, at = [], data.find(b"\x00\x00\x01")
    while at >= 0:
        starts.append(at)
        at = data.find(b"\x00\x00\x01", at + 3)
    if not starts or any(data[:starts[0]]):
        return ["error"]
    units = []
    for k, start in enumerate(starts):
        begin, end = start + 3, starts[k + 1] if k + 1 < len(starts) else len(data)
        end = begin + len(data[begin:end].rstrip(b"\x00"))
        if end == begin or data[begin] & 0x80:
            return units + ["error"]
        units.append((data[begin] & 0x1F, begin, end - begin))
    return units


_body = st.lists(st.one_of(st.sampled_from([b"\x00", b"\x01", b"\x03", b"\x00\x00\x01"]),
                          st.binary(min_size=1, max_size=90)), max_size=12).map(b"".join)
_unit = st.tuples(st.sampled_from([b"\x00\x00\x01", b"\x00\x00\x00\x01"]), st.integers(0, 0x7F),
                  _body).map(lambda t: t[0] + bytes([t[1]]) + t[2])
start_code_rich = st.one_of(st.lists(_unit, min_size=1, max_size=8).map(b"".join), _body)


@given(start_code_rich)
def test_annexb_splitting_matches_the_model(data):
    units = []
    try:
        units.extend(iter_nal_units(data))
    except MediaFormatError:
        units.append("error")
    assert units == reference_annexb_units(data)


@given(st.binary(max_size=40))
def test_random_slice_payloads_give_a_type_or_media_format_error(payload):
    try:
        assert 0 <= parse_slice_type(payload) <= 9
    except MediaFormatError as error:
        assert "slice" in str(error) or "exp-Golomb" in str(error)


# --- real streams from libx264 (PyAV) ---------------------------------------------------------------

AV_REASON = "PyAV (the av extra) is not installed: pip install 'av>=14'"
WIDTH, HEIGHT, FPS, SECONDS = 320, 180, 30, 2


def _frames(av, np):
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    for i in range(FPS * SECONDS):                       # a smooth pan: x264 picks B-frames
        image = np.stack([(x + 3 * i) % 256, (y + 2 * i) % 256, (x + y + i) % 256], -1)
        frame = av.VideoFrame.from_ndarray(image.astype(np.uint8), format="rgb24")
        frame.pts = i
        yield frame


def _encode(container_format, options):
    """Encode the clip; returns the container bytes and the encoder's (Annex-B) packets."""
    av = pytest.importorskip("av", reason=AV_REASON)
    np = pytest.importorskip("numpy", reason="numpy is needed to draw the test clip")
    buffer = io.BytesIO()
    packets = []
    with av.open(buffer, "w", format=container_format) as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = options
        for frame in list(_frames(av, np)) + [None]:
            for packet in stream.encode(frame):
                packets.append((bytes(packet), packet.pts))
                output.mux(packet)
    return buffer.getvalue(), packets


def _decoded_types(codec_context, packets):
    """pts -> the decoder's picture type ("I", "P", "B") for each (payload, pts) packet."""
    av = pytest.importorskip("av", reason=AV_REASON)
    types = {}
    for payload, pts in list(packets) + [(None, None)]:
        packet = av.Packet(payload) if payload is not None else None
        if packet is not None:
            packet.pts = pts
        for frame in codec_context.decode(packet):
            types[frame.pts] = av.video.frame.PictureType(frame.pict_type).name
    return types


OPTIONS = [                                       # (encoder options, slices per picture)
    ({"bf": "2", "g": "15", "threads": "1"}, 1),
    ({"bf": "3", "g": "20", "x264-params": "slices=4:sliced-threads=0:b-adapt=0"}, 4),
    ({"bf": "2", "threads": "1",
      "x264-params": "keyint=12:min-keyint=12:open-gop=1:scenecut=0"}, 1),   # non-IDR I-frames
]


@pytest.mark.parametrize("options, slices_per_picture", OPTIONS)
def test_annexb_packets_match_the_decoder(options, slices_per_picture):
    av = pytest.importorskip("av", reason=AV_REASON)
    _, packets = _encode("h264", options)
    assert len(packets) == FPS * SECONDS
    decoded = _decoded_types(av.CodecContext.create("h264", "r"), packets)
    assert len(decoded) == len(packets)
    ours = {pts: classify_access_unit(payload, "annexb").name for payload, pts in packets}
    expected = {pts: {"I": "VIDEO_I_FRAME", "P": "VIDEO_P_FRAME", "B": "VIDEO_B_FRAME"}[kind]
                for pts, kind in decoded.items()}
    assert ours == expected
    assert {"VIDEO_I_FRAME", "VIDEO_P_FRAME", "VIDEO_B_FRAME"} <= set(ours.values())
    slices = [sum(t in (SLICE, IDR) for t, _, _ in iter_nal_units(payload)) for payload, _ in packets]
    assert set(slices) == {slices_per_picture}            # multi-slice units come from x264 too


def test_open_gop_stream_has_non_idr_i_frames():
    pytest.importorskip("av", reason=AV_REASON)
    _, packets = _encode("h264", OPTIONS[2][0])
    i_frames = [payload for payload, _ in packets if classify_access_unit(payload) == I]
    non_idr = [p for p in i_frames if IDR not in [t for t, _, _ in iter_nal_units(p)]]
    assert len(i_frames) >= 4 and non_idr                  # recovery-point I-frames, not IDR


def test_avcc_packets_from_mp4_match_the_decoder():
    av = pytest.importorskip("av", reason=AV_REASON)
    mp4, _ = _encode("mp4", OPTIONS[1][0])
    with av.open(io.BytesIO(mp4)) as container:
        stream = container.streams.video[0]
        extradata = stream.codec_context.extradata
        length_size = (extradata[4] & 3) + 1                # avcC lengthSizeMinusOne
        packets = [(bytes(p), p.pts) for p in container.demux(stream) if p.size]
        decoder = av.CodecContext.create("h264", "r")
        decoder.extradata = extradata
        decoded = _decoded_types(decoder, packets)
    assert length_size == 4 and len(packets) == FPS * SECONDS
    assert not packets[0][0].startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01"))
    ours = {pts: classify_access_unit(payload, "avcc", length_size).name[len("VIDEO_")]
            for payload, pts in packets}
    assert ours == decoded
    assert set(ours.values()) == {"I", "P", "B"}
    for payload, _ in packets[:5]:                           # the other framing does not fit
        with pytest.raises(MediaFormatError):
            classify_access_unit(payload, "annexb")
