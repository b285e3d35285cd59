"""H.264 bitstream frame typing: tell I (IDR or not), P and B access units apart from their bytes.

An access unit's NAL units are found by the framing the stream's configuration names: Annex B
(start codes) or AVCC (big-endian length prefixes of 1, 2 or 4 bytes, as in MP4/MKV). The framing is
never guessed from the first bytes. For every primary coded slice (nal_unit_type 1, 2 or 5) the slice
header's first_mb_in_slice and slice_type are read with exp-Golomb decoding, skipping emulation-
prevention bytes (00 00 03). The access unit's kind is the "weakest" of its slices: any B slice makes
it VIDEO_B_FRAME, else any P (or SP) slice VIDEO_P_FRAME, else VIDEO_I_FRAME (I, SI, IDR). A unit with
no primary slice (SEI, SPS, PPS, AUD, filler, end of sequence/stream, ...) is METADATA. Results are
ChunkType members. An IDR slice must be I or SI; data partitions B/C (types 3, 4) need a partition A;
SVC/MVC/auxiliary slices (14, 19, 20, 21) and reserved or unspecified types are skipped, as a base
decoder skips them. Damaged input raises MediaFormatError saying what is wrong and where. Every loop is
bounded by the input length; the kernels run without the GIL (released for buffers of 64 KiB or more).
"""
cimport cython
from cpython.buffer cimport PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport uint8_t, uint64_t

from rs2fast._chunk cimport get_buffer

from operator import index as _index

from rs2fast._enums import ChunkType
from rs2fast.errors import MediaFormatError

FRAMINGS = ("annexb", "avcc")
LENGTH_SIZES = (1, 2, 4)
SLICE_TYPE_NAMES = ("P", "B", "I", "SP", "SI", "P", "B", "I", "SP", "SI")

cdef tuple _KINDS = (ChunkType.VIDEO_I_FRAME, ChunkType.VIDEO_P_FRAME, ChunkType.VIDEO_B_FRAME,
                     None, ChunkType.METADATA)
cdef size_t _NOGIL_BYTES = 65536      # release the GIL only for this much input (~3 us of scanning)
cdef enum:
    _RBSP_MAX = 16                    # two ue(v) of at most 63 bits each fit in 16 RBSP bytes


# --- kernels (no Python objects) -----------------------------------------------------------------

cdef inline int _fail(H264Error* err, int status, size_t offset, unsigned long long value,
                      unsigned long long extra) noexcept nogil:
    err.status = status
    err.offset = offset
    err.value = value
    err.extra = extra
    return -1


cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif
    /* Index i >= start of the next 00 00 01 in p[0:n], or n when there is none. With SSE2 (part of
       x86-64) 64 bytes are compared at once: bit k of `z` says p[i+k] == 0; only when two zero bytes
       touch (rare in coded data) is the 0x01 mask built. Blocks overlap by 2 bytes (step 62). */
    #if defined(__SSE2__)
    static inline uint64_t rs2_h264_eq_mask64(const uint8_t* p, __m128i value) {
        uint64_t m0 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)p), value));
        uint64_t m1 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)(p + 16)), value));
        uint64_t m2 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)(p + 32)), value));
        uint64_t m3 = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i*)(p + 48)), value));
        return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
    }
    #endif
    static size_t rs2_h264_find_start_code(const uint8_t* p, size_t n, size_t start) {
        size_t i = start;
    #if defined(__SSE2__)
        const __m128i zero = _mm_setzero_si128();
        const __m128i one = _mm_set1_epi8(1);
        while (i < n && n - i >= 64) {
            uint64_t z = rs2_h264_eq_mask64(p + i, zero);
            uint64_t pairs = z & (z >> 1) & UINT64_C(0x3FFFFFFFFFFFFFFF);   /* k <= 61 */
            if (pairs) {
                uint64_t hits = pairs & (rs2_h264_eq_mask64(p + i, one) >> 2);
                if (hits)
                    return i + (size_t)__builtin_ctzll(hits);
            }
            i += 62;
        }
    #endif
        for (; i < n && n - i >= 3; i++)
            if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
                return i;
        return n;
    }
    """
    size_t _find_start_code "rs2_h264_find_start_code"(const uint8_t* p, size_t n,
                                                         size_t start) noexcept nogil


cdef int h264_cursor_init(H264Cursor* cur, const uint8_t* data, size_t size, int framing,
                          int length_size, H264Error* err) noexcept nogil:
    cdef size_t first, i
    cur.data = data
    cur.size = size
    cur.framing = framing
    cur.length_size = length_size
    cur.done = False
    cur.pos = 0
    err.status = H264_OK
    if framing == H264_AVCC:
        if size == 0:
            return _fail(err, H264_NO_NAL_UNITS, 0, 0, 0)
        return H264_OK
    first = _find_start_code(data, size, 0)
    if first >= size:
        return _fail(err, H264_NO_NAL_UNITS, 0, size, 0)
    for i in range(first):
        if data[i] != 0:
            return _fail(err, H264_LEADING_GARBAGE, i, data[i], 0)
    cur.pos = first + 3
    return H264_OK


cdef int h264_next_nal(H264Cursor* cur, size_t* offset, size_t* length, H264Error* err) noexcept nogil:
    cdef const uint8_t* p = cur.data
    cdef size_t n = cur.size
    cdef size_t start, end, nxt, left, value
    cdef int i
    if cur.done:
        return 0
    if cur.framing == H264_AVCC:
        start = cur.pos
        if start >= n:
            cur.done = True
            return 0
        left = n - start
        if left < <size_t>cur.length_size:
            cur.done = True
            return _fail(err, H264_TRUNCATED_PREFIX, start, left, cur.length_size)
        value = 0
        for i in range(cur.length_size):
            value = (value << 8) | p[start + i]
        left -= cur.length_size
        if value == 0:
            cur.done = True
            return _fail(err, H264_ZERO_LENGTH, start, 0, 0)
        if value > left:
            cur.done = True
            return _fail(err, H264_NAL_BEYOND_BUFFER, start, value, left)
        offset[0] = start + cur.length_size
        length[0] = value
        cur.pos = start + cur.length_size + value
        return 1
    start = cur.pos
    nxt = _find_start_code(p, n, start)
    end = nxt
    while end > start and p[end - 1] == 0:          # trailing_zero_8bits / a 4-byte start code
        end -= 1
    if nxt >= n:
        cur.done = True
    else:
        cur.pos = nxt + 3
    if end == start:
        cur.done = True
        return _fail(err, H264_EMPTY_NAL, start - 3, 0, 0)
    offset[0] = start
    length[0] = end - start
    return 1


cdef int _read_ue(const uint8_t* rbsp, size_t nbits, size_t* bitpos, uint64_t* value,
                  size_t base, H264Error* err) noexcept nogil:
    """One ue(v) from rbsp at bit *bitpos (MSB first); -1 with err on a long or cut-off code."""
    cdef size_t pos = bitpos[0]
    cdef int zeros = 0
    cdef int i
    cdef uint64_t bits = 0
    while True:
        if pos >= nbits:
            return _fail(err, H264_TRUNCATED_HEADER, base, 0, 0)
        if (rbsp[pos >> 3] >> (7 - (pos & 7))) & 1:
            break
        zeros += 1
        pos += 1
        if zeros > 31:
            return _fail(err, H264_GOLOMB_TOO_LONG, base, 0, 0)
    pos += 1                                        # the marker bit
    if nbits - pos < <size_t>zeros:
        return _fail(err, H264_TRUNCATED_HEADER, base, 0, 0)
    for i in range(zeros):
        bits = (bits << 1) | ((rbsp[pos >> 3] >> (7 - (pos & 7))) & 1)
        pos += 1
    value[0] = ((<uint64_t>1) << zeros) - 1 + bits
    bitpos[0] = pos
    return 0


cdef int h264_slice_type(const uint8_t* payload, size_t size, size_t base,
                         H264Error* err) noexcept nogil:
    cdef uint8_t rbsp[_RBSP_MAX]
    cdef size_t i = 0
    cdef size_t k = 0
    cdef size_t bitpos = 0
    cdef int zeros = 0
    cdef uint8_t b
    cdef uint64_t first_mb, slice_type
    # Unescape just the bytes the two codes can need: 00 00 03 -> 00 00.
    while i < size and k < _RBSP_MAX:
        b = payload[i]
        i += 1
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        rbsp[k] = b
        k += 1
        zeros = zeros + 1 if b == 0 else 0
    if _read_ue(rbsp, k * 8, &bitpos, &first_mb, base, err) < 0:
        return -1
    if _read_ue(rbsp, k * 8, &bitpos, &slice_type, base, err) < 0:
        return -1
    if slice_type > 9:
        return _fail(err, H264_BAD_SLICE_TYPE, base, slice_type, 0)
    return <int>slice_type


cdef int h264_classify(const uint8_t* data, size_t size, int framing, int length_size,
                       H264Error* err) noexcept nogil:
    cdef H264Cursor cur
    cdef size_t off = 0
    cdef size_t length = 0
    cdef size_t orphan_at = 0
    cdef int found, nal_type, slice_type, kind
    cdef bint any_slice = False
    cdef bint any_p = False
    cdef bint any_b = False
    cdef bint any_partition_a = False
    cdef bint any_partition_bc = False
    if h264_cursor_init(&cur, data, size, framing, length_size, err) != H264_OK:
        return -1
    while True:
        found = h264_next_nal(&cur, &off, &length, err)
        if found == 0:
            break
        if found < 0:
            return -1
        if data[off] & 0x80:
            return _fail(err, H264_FORBIDDEN_BIT, off, data[off], 0)
        nal_type = data[off] & 0x1F
        if nal_type == 1 or nal_type == 2 or nal_type == 5:
            slice_type = h264_slice_type(data + off + 1, length - 1, off, err)
            if slice_type < 0:
                return -1
            kind = slice_type % 5
            if nal_type == 5 and kind != 2 and kind != 4:
                return _fail(err, H264_IDR_NOT_INTRA, off, slice_type, 0)
            any_slice = True
            if kind == 1:
                any_b = True
            elif kind == 0 or kind == 3:
                any_p = True
            if nal_type == 2:
                any_partition_a = True
        elif nal_type == 3 or nal_type == 4:
            if not any_partition_bc:
                orphan_at = off
            any_partition_bc = True
    if any_partition_bc and not any_partition_a:
        return _fail(err, H264_ORPHAN_PARTITION, orphan_at, 0, 0)
    if not any_slice:
        return H264_KIND_METADATA
    if any_b:
        return H264_KIND_B
    if any_p:
        return H264_KIND_P
    return H264_KIND_I


# --- Python boundary ------------------------------------------------------------------------------

cdef int _framing_code(object framing) except -1:
    if framing == "annexb":
        return H264_ANNEXB
    if framing == "avcc":
        return H264_AVCC
    if not isinstance(framing, str):
        raise TypeError(f"framing must be 'annexb' or 'avcc', not {type(framing).__name__}")
    raise ValueError(f"framing must be 'annexb' or 'avcc', got {framing!r}")


cdef int _length_size(object value) except -1:
    if type(value) is not int:
        if isinstance(value, bool):
            raise TypeError("length_size must be an int, not bool")
        try:
            value = _index(value)
        except TypeError:
            raise TypeError(f"length_size must be an int, not {type(value).__name__}") from None
    if value != 1 and value != 2 and value != 4:
        raise ValueError(f"length_size must be 1, 2 or 4, got {value}")
    return value


# Message templates by H264Status (index 1 on), filled with the error's offset, value and extra.
cdef tuple _MESSAGES = (
    None,
    "no NAL units: no Annex-B start code in {value} bytes",
    "byte 0x{value:02x} at offset {at} before the first start code (Annex-B data starts with zero "
    "bytes and a start code)",
    "empty NAL unit after the start code at offset {at}",
    "truncated length prefix at offset {at}: {value} of {extra} bytes present",
    "zero-length NAL unit at offset {at}",
    "NAL unit length {value} at offset {at} goes beyond the buffer ({extra} bytes left)",
    "forbidden_zero_bit set in the NAL header 0x{value:02x} at offset {at}",
    "exp-Golomb code longer than 32 bits in the slice header at offset {at}",
    "truncated slice header (first_mb_in_slice, slice_type) at offset {at}",
    "unknown slice_type {value} at offset {at} (valid: 0..9)",
    "IDR slice at offset {at} has slice_type {value} ({name}); IDR pictures hold only I and SI slices",
    "data partition B/C at offset {at} without a partition A in the access unit",
)


cdef str h264_error_text(H264Error* err):
    """What `err` says is wrong, as "H.264: ..." text."""
    cdef int status = err.status
    if status == H264_NO_NAL_UNITS and err.value == 0:
        text = "no NAL units: the access unit is empty"
    elif 0 < status < len(_MESSAGES):
        text = _MESSAGES[status].format(
            at=err.offset, value=err.value, extra=err.extra,
            name=SLICE_TYPE_NAMES[err.value] if status == H264_IDR_NOT_INTRA else None)
    else:
        text = f"malformed bitstream (status {status}) at offset {err.offset}"
    return f"H.264: {text}"


cdef object _error(H264Error* err):
    """The MediaFormatError describing `err`."""
    return MediaFormatError(h264_error_text(err))


def classify_access_unit(data, framing="annexb", length_size=4):
    """The ChunkType of one H.264 access unit: VIDEO_I_FRAME (IDR, I, SI), VIDEO_P_FRAME (P, SP),
    VIDEO_B_FRAME or METADATA (no primary slice: SEI/SPS/PPS/AUD/filler...).

    `framing` is "annexb" or "avcc" (then `length_size` is the prefix size: 1, 2 or 4). Several
    slices: any B -> B, else any P -> P, else I. Raises MediaFormatError for a damaged unit.
    """
    cdef int code = _framing_code(framing)
    cdef int lsize = _length_size(length_size)
    cdef H264Error err
    cdef Py_buffer view
    cdef const uint8_t* p
    cdef size_t n
    cdef int kind
    if type(data) is bytes:
        p = <const uint8_t*>PyBytes_AS_STRING(data)
        n = <size_t>PyBytes_GET_SIZE(data)
        if n >= _NOGIL_BYTES:
            with nogil:
                kind = h264_classify(p, n, code, lsize, &err)
        else:
            kind = h264_classify(p, n, code, lsize, &err)
    else:
        get_buffer(data, &view, "data")
        try:
            p = <const uint8_t*>view.buf
            n = <size_t>view.len
            if n >= _NOGIL_BYTES:
                with nogil:
                    kind = h264_classify(p, n, code, lsize, &err)
            else:
                kind = h264_classify(p, n, code, lsize, &err)
        finally:
            PyBuffer_Release(&view)
    if kind < 0:
        raise _error(&err)
    return _KINDS[kind]


def parse_slice_type(nal_payload):
    """slice_type (0..9: P, B, I, SP, SI, then the same +5) of one slice NAL unit.

    `nal_payload` is the NAL unit without its one-byte header, as stored (emulation-prevention
    bytes included); only first_mb_in_slice and slice_type are read. MediaFormatError if damaged.
    """
    cdef H264Error err
    cdef Py_buffer view
    cdef int result
    get_buffer(nal_payload, &view, "nal_payload")
    try:
        result = h264_slice_type(<const uint8_t*>view.buf, <size_t>view.len, 0, &err)
    finally:
        PyBuffer_Release(&view)
    if result < 0:
        raise _error(&err)
    return result


@cython.final
@cython.auto_pickle(False)
cdef class NalUnitIterator:
    """NalUnitIterator(data, framing="annexb", length_size=4)
--

    Iterator over (nal_type, offset, length) of the NAL units in a buffer (see iter_nal_units).

    Holds a buffer export of the data while alive (a bytearray cannot be resized meanwhile).
    """

    cdef Py_buffer view
    cdef bint has_view
    cdef H264Cursor cur
    cdef int length_size
    cdef bint started

    def __cinit__(self):
        self.has_view = False
        self.started = False

    def __init__(self, data, framing="annexb", length_size=4):
        cdef int code = _framing_code(framing)
        self.length_size = _length_size(length_size)
        if self.has_view:
            raise TypeError("NalUnitIterator is already initialised")
        get_buffer(data, &self.view, "data")
        self.has_view = True
        self.cur.framing = code
        self.cur.done = True

    def __dealloc__(self):
        if self.has_view:
            PyBuffer_Release(&self.view)
            self.has_view = False

    def __iter__(self):
        return self

    def __next__(self):
        cdef H264Error err
        cdef size_t off = 0
        cdef size_t length = 0
        cdef int found
        cdef const uint8_t* p
        if not self.has_view:
            raise StopIteration
        p = <const uint8_t*>self.view.buf
        if not self.started:
            self.started = True
            if h264_cursor_init(&self.cur, p, <size_t>self.view.len, self.cur.framing,
                                self.length_size, &err) != H264_OK:
                self.cur.done = True
                raise _error(&err)
        found = h264_next_nal(&self.cur, &off, &length, &err)
        if found < 0:
            raise _error(&err)
        if found == 0:
            raise StopIteration
        if p[off] & 0x80:
            self.cur.done = True
            _fail(&err, H264_FORBIDDEN_BIT, off, p[off], 0)
            raise _error(&err)
        return (p[off] & 0x1F, off, length)


def iter_nal_units(data, framing="annexb", length_size=4):
    """Iterate (nal_type, offset, length) over the NAL units of `data`; offset and length cover the
    NAL unit from its header byte (start codes and length prefixes excluded). Lazy: a damaged unit
    raises MediaFormatError when reached."""
    return NalUnitIterator(data, framing, length_size)
