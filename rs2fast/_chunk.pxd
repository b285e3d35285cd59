# C-level view of MediaChunk and the checksum kernels, for the other extensions to cimport.
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from rs2fast._codes cimport (PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_NORMAL, TYPE_THUMBNAIL,
                             TYPE_VIDEO_B_FRAME, TYPE_VIDEO_I_FRAME, TYPE_VIDEO_P_FRAME)

# Checksum algorithms, as small ints inside C code.
cdef enum ChecksumAlgo:
    CHECKSUM_NONE = 0
    CHECKSUM_CRC32C = 1
    CHECKSUM_SHA256 = 2

# Reason codes of validate_batch(), in the order the rules are checked (Python: VALIDATION_* constants).
cdef enum ValidationCode:
    RS2_VALID_OK = 0
    RS2_VALID_EMPTY_STREAM_ID = 1
    RS2_VALID_EMPTY_DATA = 2
    RS2_VALID_TOO_LARGE = 3
    RS2_VALID_MALFORMED_CHECKSUM = 4
    RS2_VALID_CHECKSUM_MISMATCH = 5


cdef class MediaChunk:
    # Public fields are exposed as Python properties in _chunk.pyx; C code reads these directly.
    cdef readonly str stream_id
    cdef uint64_t seq              # sequence_number
    cdef object owner              # keeps `ptr` alive: a bytes object or a buffer owner
    cdef const uint8_t* ptr        # start of this chunk's data
    cdef Py_ssize_t length         # bytes of data
    cdef int type_code             # ChunkType value
    cdef int priority_code         # MediaPriority value
    cdef int64_t timestamp_ns      # timestamp in nanoseconds
    cdef bint final                # is_final
    cdef object checksum_str       # str or None
    cdef object data_view          # the memoryview `data` gives, made on first access (or None)


# Build a chunk in C without argument parsing; `owner` must keep `ptr[0:length]` alive and
# unchanged. Codes must already be valid (callers validate at their Python boundary).
cdef MediaChunk make_chunk(str stream_id, uint64_t seq, object owner, const uint8_t* ptr,
                           Py_ssize_t length, int type_code, int priority_code,
                           int64_t timestamp_ns, bint final, object checksum)

# A new chunk with the fields and data of `source` and the checksum `checksum` (str or None).
cdef MediaChunk copy_chunk(MediaChunk source, object checksum)

# CRC-32C (Castagnoli) of a byte range, continuing from `crc` (0 to start). Runs without the GIL.
cdef uint32_t crc32c_update(uint32_t crc, const uint8_t* data, size_t length) noexcept nogil

# Which algorithm a checksum string names: CHECKSUM_SHA256 for 64 lowercase hex chars,
# CHECKSUM_CRC32C for "crc32c:" + 8 lowercase hex, -1 for anything else (a malformed string).
cdef int checksum_kind(object checksum) noexcept

# The checksum string "crc32c:" + 8 lowercase hex digits of `value`.
cdef str crc32c_string(uint32_t value)

# The CRC value written in a string that checksum_kind() classified as CHECKSUM_CRC32C.
cdef uint32_t crc32c_parse(str checksum) noexcept

# ChunkType code -> default MediaPriority code (RS2's ChunkType::default_priority).
cdef inline int default_priority_code(int type_code) noexcept nogil:
    # I-frame, audio, metadata HIGH; P-frame NORMAL; B-frame, thumbnail LOW.
    if type_code == TYPE_VIDEO_P_FRAME:
        return PRIORITY_NORMAL
    if type_code == TYPE_VIDEO_B_FRAME or type_code == TYPE_THUMBNAIL:
        return PRIORITY_LOW
    return PRIORITY_HIGH

# RS2's GOP rule as a ChunkType code: seq % 30 == 0 -> I-frame, else seq % 3 == 0 -> B-frame,
# else P-frame.
cdef inline int gop_type_code(uint64_t seq) noexcept nogil:
    if seq % 30 == 0:
        return TYPE_VIDEO_I_FRAME
    if seq % 3 == 0:
        return TYPE_VIDEO_B_FRAME
    return TYPE_VIDEO_P_FRAME

# One chunk against the validation rules (see validate_batch); limits < 0 mean "no cap". Hashes with
# the GIL held (hashlib releases it for large data). Returns a ValidationCode.
cdef int validate_chunk(MediaChunk chunk, int64_t audio_limit, int64_t video_limit,
                        int64_t other_limit, bint verify_checksums) except -1

# Export a C-contiguous byte buffer of `data` (PyBUF_SIMPLE) with TypeError/ValueError naming `name`.
cdef int get_buffer(object data, Py_buffer* view, str name) except -1
