# Batch kernels for the processor's worker threads: validate_batch, compute_checksums and
# group_by_stream, with CRC-32C over a whole batch without the GIL. Included by _chunk.pyx.

VALIDATION_OK = RS2_VALID_OK
VALIDATION_EMPTY_STREAM_ID = RS2_VALID_EMPTY_STREAM_ID
VALIDATION_EMPTY_DATA = RS2_VALID_EMPTY_DATA
VALIDATION_TOO_LARGE = RS2_VALID_TOO_LARGE
VALIDATION_MALFORMED_CHECKSUM = RS2_VALID_MALFORMED_CHECKSUM
VALIDATION_CHECKSUM_MISMATCH = RS2_VALID_CHECKSUM_MISMATCH
VALIDATION_MESSAGES = ("OK", "Empty stream ID", "Empty chunk data", "Chunk too large",
                       "Malformed checksum", "Checksum mismatch")


def validation_message(code, chunk_type=None):
    """RS2's text for a validation reason code; code 3 says "Audio chunk too large" or "Video chunk
    too large" for those types (RS2's messages) and "Chunk too large" otherwise."""
    code = int_arg(code, "code")
    if not 0 <= code < len(VALIDATION_MESSAGES):
        raise ValueError(f"code {code} is not a validation reason code (0..{len(VALIDATION_MESSAGES) - 1})")
    if code == RS2_VALID_TOO_LARGE and chunk_type is not None:
        type_code = type_code_arg(chunk_type, "chunk_type")
        if type_code == TYPE_AUDIO:
            return "Audio chunk too large"
        if type_code <= TYPE_VIDEO_B_FRAME:
            return "Video chunk too large"
    return VALIDATION_MESSAGES[code]


cdef int64_t _limit(object value, str name) except? -2:
    if value is None:
        return -1
    value = int_arg(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0 or None, not {value}")
    return <int64_t>value if value <= _INT64_MAX else -1


cdef inline int _size_check(MediaChunk chunk, int64_t audio_limit, int64_t video_limit,
                            int64_t other_limit) noexcept:
    """Rules 1-3 (stream id, empty data, size cap): cheap, never hashes."""
    cdef int64_t limit
    if PyUnicode_GET_LENGTH(chunk.stream_id) == 0:
        return RS2_VALID_EMPTY_STREAM_ID
    if chunk.length == 0:
        return RS2_VALID_EMPTY_DATA
    limit = video_limit if chunk.type_code <= TYPE_VIDEO_B_FRAME else (audio_limit if chunk.type_code == TYPE_AUDIO else other_limit)
    if limit >= 0 and chunk.length > limit:
        return RS2_VALID_TOO_LARGE
    return RS2_VALID_OK


cdef int validate_chunk(MediaChunk chunk, int64_t audio_limit, int64_t video_limit,
                        int64_t other_limit, bint verify_checksums) except -1:
    cdef int code = _size_check(chunk, audio_limit, video_limit, other_limit)
    cdef int kind
    if code != RS2_VALID_OK or not verify_checksums or chunk.checksum_str is None:
        return code
    kind = checksum_kind(chunk.checksum_str)
    if kind < 0:
        return RS2_VALID_MALFORMED_CHECKSUM
    return RS2_VALID_OK if _checksum_ok(chunk, kind) else RS2_VALID_CHECKSUM_MISMATCH


def _validate_one(MediaChunk chunk not None, audio_limit=65536, video_limit=1048576, other_limit=None,
                  verify_checksums=True):
    """validate_chunk() (the C-level single-chunk check other extensions cimport), for tests."""
    return validate_chunk(chunk, _limit(audio_limit, "audio_limit"), _limit(video_limit, "video_limit"),
                          _limit(other_limit, "other_limit"), flag_arg(verify_checksums, "verify_checksums"))


cdef tuple _chunk_tuple(object chunks):
    cdef tuple items
    if isinstance(chunks, (str, bytes)) or not hasattr(chunks, "__iter__"):
        raise TypeError(f"chunks must be a list of MediaChunk, not {type(chunks).__name__}")
    items = tuple(chunks)          # our own references: the caller's list may change meanwhile
    for i, item in enumerate(items):
        if type(item) is not MediaChunk:
            raise TypeError(f"chunks[{i}] must be a MediaChunk, not {type(item).__name__}")
    return items


cdef struct _CrcJob:
    const uint8_t* ptr
    size_t length
    uint32_t expected
    Py_ssize_t index


def validate_batch(chunks, audio_limit=65536, video_limit=1048576, other_limit=None,
                   verify_checksums=True):
    """Check a batch of chunks against RS2's validation rules; one reason code per chunk (bytes).

    Codes, checked in this order: 0 OK, 1 empty stream id, 2 empty data, 3 larger than the cap for
    its type (audio_limit for AUDIO, video_limit for I/P/B frames, other_limit for the rest; None =
    no cap) - checked before any hashing, 4 malformed checksum string, 5 checksum mismatch. With
    verify_checksums False, codes 4 and 5 are never given. CRC-32C runs without the GIL over the
    batch; SHA-256 goes through hashlib (which releases the GIL for large data)."""
    cdef tuple items = _chunk_tuple(chunks)
    cdef int64_t audio = _limit(audio_limit, "audio_limit")
    cdef int64_t video = _limit(video_limit, "video_limit")
    cdef int64_t other = _limit(other_limit, "other_limit")
    cdef bint verify = flag_arg(verify_checksums, "verify_checksums")
    cdef Py_ssize_t n = len(items), i, jobs = 0, crc_bytes = 0
    cdef bytes result = PyBytes_FromStringAndSize(NULL, n)
    cdef uint8_t* codes = <uint8_t*>PyBytes_AS_STRING(result)
    cdef _CrcJob* job = NULL
    cdef MediaChunk chunk
    cdef int code, kind
    try:
        for i in range(n):
            chunk = <MediaChunk>PyTuple_GET_ITEM(items, i)
            code = _size_check(chunk, audio, video, other)
            if code == RS2_VALID_OK and verify and chunk.checksum_str is not None:
                kind = checksum_kind(chunk.checksum_str)
                if kind < 0:
                    code = RS2_VALID_MALFORMED_CHECKSUM
                elif kind == CHECKSUM_SHA256:
                    if _sha256(chunk).hexdigest() != chunk.checksum_str:
                        code = RS2_VALID_CHECKSUM_MISMATCH
                else:
                    if job == NULL:
                        job = <_CrcJob*>PyMem_RawMalloc(<size_t>n * sizeof(_CrcJob))
                        if job == NULL:
                            raise MemoryError()
                    job[jobs].ptr = chunk.ptr
                    job[jobs].length = <size_t>chunk.length
                    job[jobs].expected = crc32c_parse(chunk.checksum_str)
                    job[jobs].index = i
                    jobs += 1
                    crc_bytes += chunk.length
            codes[i] = <uint8_t>code
        if jobs:
            if crc_bytes < _NOGIL_BYTES:
                _run_crc_jobs(job, jobs, codes)
            else:
                with nogil:
                    _run_crc_jobs(job, jobs, codes)
    finally:
        PyMem_RawFree(job)
    return result


cdef void _run_crc_jobs(const _CrcJob* job, Py_ssize_t jobs, uint8_t* codes) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(jobs):
        if rs2_crc32c(0, job[j].ptr, job[j].length) != job[j].expected:
            codes[job[j].index] = RS2_VALID_CHECKSUM_MISMATCH


def compute_checksums(chunks, algorithm="crc32c"):
    """New chunks equal to `chunks` but carrying a freshly computed checksum ("crc32c" or "sha256");
    data is shared, not copied. CRC-32C runs without the GIL over the whole batch."""
    cdef tuple items = _chunk_tuple(chunks)
    cdef int code = _algorithm_code(algorithm)
    cdef Py_ssize_t n = len(items), i, crc_bytes = 0
    cdef uint32_t* crcs = NULL
    cdef const uint8_t** ptrs = NULL
    cdef size_t* lengths = NULL
    cdef MediaChunk chunk
    cdef list out = []
    if code == CHECKSUM_SHA256:
        for item in items:
            chunk = <MediaChunk>item
            out.append(copy_chunk(chunk, _sha256(chunk).hexdigest()))
        return out
    if n == 0:
        return out
    crcs = <uint32_t*>PyMem_RawMalloc(<size_t>n * sizeof(uint32_t))
    ptrs = <const uint8_t**>PyMem_RawMalloc(<size_t>n * sizeof(uint8_t*))
    lengths = <size_t*>PyMem_RawMalloc(<size_t>n * sizeof(size_t))
    try:
        if crcs == NULL or ptrs == NULL or lengths == NULL:
            raise MemoryError()
        for i in range(n):
            chunk = <MediaChunk>PyTuple_GET_ITEM(items, i)
            ptrs[i] = chunk.ptr
            lengths[i] = <size_t>chunk.length
            crc_bytes += chunk.length
        if crc_bytes < _NOGIL_BYTES:
            _crc_many(crcs, ptrs, lengths, n)
        else:
            with nogil:
                _crc_many(crcs, ptrs, lengths, n)
        for i in range(n):
            chunk = <MediaChunk>PyTuple_GET_ITEM(items, i)
            out.append(copy_chunk(chunk, crc32c_string(crcs[i])))
    finally:
        PyMem_RawFree(crcs)
        PyMem_RawFree(ptrs)
        PyMem_RawFree(lengths)
    return out


cdef void _crc_many(uint32_t* out, const uint8_t** ptrs, const size_t* lengths, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = rs2_crc32c(0, ptrs[i], lengths[i])


def debug_counters():
    """Debug-build counters: {"enabled": True, "live_buffer_owners": n} in RS2FAST_DEBUG=1 builds,
    {"enabled": False} otherwise."""
    if _DEBUG_BUILD:
        return {"enabled": True, "live_buffer_owners": _debug_counts[0]}
    return {"enabled": False}


def group_by_stream(list chunks not None, codes=None):
    """{stream_id: [chunks, in input order]} over `chunks`, leaving out those whose validation
    code in `codes` (bytes-like, one per chunk, as validate_batch returns) is not 0."""
    cdef dict groups = {}
    cdef list current = None
    cdef str current_id = None
    cdef const unsigned char[::1] code_view
    cdef Py_ssize_t i, n
    cdef bint filtered = codes is not None
    cdef object item
    cdef MediaChunk chunk
    if filtered:
        code_view = codes           # may run the exporter's code: measure the list afterwards
    n = len(chunks)
    if filtered:
        if code_view.shape[0] != n:
            raise ValueError(f"codes has {code_view.shape[0]} entries but chunks has {n}")
    for i in range(n):
        if filtered and code_view[i]:
            continue
        item = chunks[i]
        if type(item) is not MediaChunk:
            raise TypeError(f"chunks[{i}] must be a MediaChunk, not {type(item).__name__}")
        chunk = <MediaChunk>item
        if chunk.stream_id is not current_id:
            current_id = chunk.stream_id
            current = groups.get(current_id)
            if current is None:
                current = []
                groups[current_id] = current
        current.append(chunk)
    return groups


def chunk_bytes(list chunks not None):
    """Total payload bytes of a list of MediaChunks (one C pass); TypeError naming the first item
    that is not a MediaChunk."""
    cdef Py_ssize_t i
    cdef long long total = 0
    cdef object item
    for i in range(len(chunks)):
        item = chunks[i]
        if type(item) is not MediaChunk:
            raise TypeError(f"chunks[{i}] must be a MediaChunk, not {type(item).__name__}")
        total += (<MediaChunk>item).length
    return total
