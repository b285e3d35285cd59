# C-level view of the H.264 access-unit classifier, for other extensions to cimport.
from libc.stdint cimport uint8_t


# How NAL units are delimited in a buffer (decided by the stream's configuration, never guessed).
cdef enum H264Framing:
    H264_ANNEXB = 0     # start codes 00 00 01 / 00 00 00 01 (ITU-T H.264 Annex B)
    H264_AVCC = 1       # each NAL unit preceded by a big-endian length of 1, 2 or 4 bytes

# What went wrong; H264_OK means nothing did. Messages are built from H264Error by the caller.
cdef enum H264Status:
    H264_OK = 0
    H264_NO_NAL_UNITS = 1           # empty buffer, or no start code at all
    H264_LEADING_GARBAGE = 2        # non-zero bytes before the first start code (offset = where)
    H264_EMPTY_NAL = 3              # a start code with nothing after it (offset)
    H264_TRUNCATED_PREFIX = 4       # fewer than length_size bytes left for a length (offset, value = left)
    H264_ZERO_LENGTH = 5            # a length prefix of 0 (offset)
    H264_NAL_BEYOND_BUFFER = 6      # a length larger than what is left (offset, value = length, extra = left)
    H264_FORBIDDEN_BIT = 7          # forbidden_zero_bit set in a NAL header (offset)
    H264_GOLOMB_TOO_LONG = 8        # an exp-Golomb code with more than 31 leading zero bits (offset)
    H264_TRUNCATED_HEADER = 9       # the slice header ends inside first_mb_in_slice / slice_type (offset)
    H264_BAD_SLICE_TYPE = 10        # slice_type > 9 (offset, value = slice_type)
    H264_IDR_NOT_INTRA = 11         # an IDR slice whose slice_type is not I or SI (offset, value)
    H264_ORPHAN_PARTITION = 12      # data partition B or C without a partition A (offset)

cdef struct H264Error:
    int status              # an H264Status
    size_t offset           # where in the buffer (a NAL unit's header byte, or a length prefix)
    unsigned long long value
    unsigned long long extra

# Result codes of h264_classify (equal to the ChunkType values).
cdef enum H264Kind:
    H264_KIND_I = 0
    H264_KIND_P = 1
    H264_KIND_B = 2
    H264_KIND_METADATA = 4

# Cursor over the NAL units of one buffer. Start it with h264_cursor_init; each h264_next_nal
# gives the next NAL unit (offset of its header byte, length including that byte).
cdef struct H264Cursor:
    const uint8_t* data
    size_t size
    size_t pos              # Annex B: first byte after the current start code; AVCC: next prefix
    int framing
    int length_size
    bint done

# All return H264_OK (0) or a status with `err` filled in; none touches Python objects.
cdef int h264_cursor_init(H264Cursor* cur, const uint8_t* data, size_t size, int framing,
                          int length_size, H264Error* err) noexcept nogil
# 1: a NAL unit was found; 0: no more; -1: malformed (err filled in).
cdef int h264_next_nal(H264Cursor* cur, size_t* offset, size_t* length, H264Error* err) noexcept nogil
# slice_type (0..9) of a slice whose escaped slice-layer bytes (after the NAL header) are given;
# -1 with err filled in (offsets in err are relative to `payload` plus `base`).
cdef int h264_slice_type(const uint8_t* payload, size_t size, size_t base,
                         H264Error* err) noexcept nogil
# An H264Kind for one access unit, or -1 with err filled in.
cdef int h264_classify(const uint8_t* data, size_t size, int framing, int length_size,
                       H264Error* err) noexcept nogil
# The description of a failure, "H.264: " followed by what is wrong and where (needs the GIL).
cdef str h264_error_text(H264Error* err)
