# split_buffer: a buffer cut into MediaChunks that are views of it (or of one copy of a mutable
# source), with per-chunk checksums in the same pass. Included by _chunk.pyx.

cdef struct _SplitPlan:
    Py_ssize_t size             # chunk_size
    uint64_t start              # start_sequence
    int fixed_type              # a ChunkType code, or -1 for RS2's GOP rule
    int64_t duration            # frame_duration_ns
    int64_t offset              # timestamp_offset_ns
    bint final                  # mark_final
    int algorithm               # a ChecksumAlgo


cdef int _split_plan(_SplitPlan* plan, object chunk_size, object start_sequence, object chunk_type,
                     object frame_duration_ns, object timestamp_offset_ns, object mark_final,
                     object checksum) except -1:
    """Check split_buffer's settings (before the data is looked at) into `plan`."""
    size = int_arg(chunk_size, "chunk_size")
    if size <= 0:
        raise ValueError(f"chunk_size must be positive, not {size}")
    if size > 2**62:
        raise ValueError(f"chunk_size {size} is too large")
    plan.size = <Py_ssize_t>size
    plan.start = uint64_arg(start_sequence, "start_sequence")
    plan.fixed_type = -1 if chunk_type is None else type_code_arg(chunk_type, "chunk_type")
    plan.duration = int64_arg(frame_duration_ns, "frame_duration_ns")
    if plan.duration < 0:
        raise ValueError(f"frame_duration_ns must not be negative, not {plan.duration}")
    plan.offset = int64_arg(timestamp_offset_ns, "timestamp_offset_ns")
    plan.final = flag_arg(mark_final, "mark_final")
    plan.algorithm = CHECKSUM_NONE if checksum is None else _algorithm_code(checksum)
    return 0


cdef object _split_source(object data, const uint8_t** base, Py_ssize_t* total):
    """The object that keeps split chunks' bytes alive, with their start and size: bytes and
    read-only buffers as they are (zero-copy), a mutable buffer copied once into new bytes."""
    cdef _BufferOwner holder
    cdef bytes copy
    if type(data) is not bytes:
        holder = _BufferOwner(data)
        if holder.view.readonly:
            base[0] = <const uint8_t*>holder.view.buf
            total[0] = holder.view.len
            return holder
        data = PyBytes_FromStringAndSize(<const char*>holder.view.buf, holder.view.len)
    base[0] = <const uint8_t*>PyBytes_AS_STRING(data)
    total[0] = PyBytes_GET_SIZE(data)
    return data


cdef int _check_split_range(const _SplitPlan* plan, Py_ssize_t count) except -1:
    """ValueError unless every sequence number and timestamp of `count` chunks fits."""
    last_seq = <object>plan.start + (count - 1)
    if last_seq > _UINT64_MAX:
        raise ValueError(f"sequence numbers would pass 2**64-1 (start_sequence {plan.start}, "
                         f"{count} chunks)")
    for seq in (plan.start, last_seq):
        if not _INT64_MIN <= plan.offset + seq * plan.duration <= _INT64_MAX:
            raise ValueError("timestamps (timestamp_offset_ns + seq * frame_duration_ns) overflow int64")
    return 0


cdef list _split_chunks(str stream_id, object owner, const uint8_t* base, Py_ssize_t total,
                        const _SplitPlan* plan, Py_ssize_t count):
    """The `count` chunks of base[0:total], without checksums."""
    cdef list chunks = PyList_New(count)
    cdef Py_ssize_t i, offset
    cdef uint64_t seq
    cdef int code
    cdef MediaChunk chunk
    for i in range(count):
        seq = plan.start + <uint64_t>i
        offset = i * plan.size
        code = plan.fixed_type if plan.fixed_type >= 0 else gop_type_code(seq)
        chunk = make_chunk(stream_id, seq, owner, base + offset, min(total - offset, plan.size),
                           code, default_priority_code(code),
                           # wraps modulo 2**64 and lands on the exact value, which fits (checked)
                           <int64_t>(<uint64_t>plan.offset + seq * <uint64_t>plan.duration),
                           plan.final and i == count - 1, None)
        incref_ptr(<PyObject*>chunk)
        list_set_item_owned(chunks, i, <PyObject*>chunk)
    return chunks


cdef int _add_split_checksums(list chunks, const uint8_t* base, Py_ssize_t total,
                              const _SplitPlan* plan) except -1:
    """Give each chunk of a fresh split its checksum (CRC-32C over all of them without the GIL)."""
    cdef Py_ssize_t i, count = len(chunks)
    cdef uint32_t* crcs
    if plan.algorithm == CHECKSUM_SHA256:
        for item in chunks:
            (<MediaChunk>item).checksum_str = _sha256(item).hexdigest()
        return 0
    crcs = <uint32_t*>PyMem_RawMalloc(<size_t>count * sizeof(uint32_t))
    if crcs == NULL:
        raise MemoryError()
    try:
        if total < _NOGIL_BYTES:
            _crc_runs(crcs, base, total, plan.size, count)
        else:
            with nogil:
                _crc_runs(crcs, base, total, plan.size, count)
        for i in range(count):
            (<MediaChunk>chunks[i]).checksum_str = crc32c_string(crcs[i])
    finally:
        PyMem_RawFree(crcs)
    return 0


cdef void _crc_runs(uint32_t* out, const uint8_t* base, Py_ssize_t total, Py_ssize_t size,
                    Py_ssize_t count) noexcept nogil:
    cdef Py_ssize_t i, offset
    for i in range(count):
        offset = i * size
        out[i] = rs2_crc32c(0, base + offset, <size_t>(total - offset if total - offset < size else size))


def split_buffer(data, stream_id, chunk_size, *, start_sequence=0, chunk_type=None,
                 frame_duration_ns=33_000_000, timestamp_offset_ns=0, mark_final=True, checksum=None):
    """Cut a buffer into chunks of `chunk_size` bytes (the last may be shorter).

    Accepts bytes, bytearray, memoryview, mmap, array.array and C-contiguous numpy arrays (any
    itemsize; read as raw bytes). Immutable sources (bytes, read-only memoryviews, mmaps opened
    with ACCESS_READ, read-only arrays) are not copied: chunks are read-only views that keep the
    source's buffer exported (such an mmap cannot be closed while they live). A mutable source
    (bytearray, writable memoryview, mmap or array) is copied once, whole, and the chunks are views
    of the copy, so refilling the source (a capture loop reusing one buffer) never changes chunks
    already made. Sequence numbers run from `start_sequence`; chunk_type None applies RS2's GOP
    rule to each sequence number; priority is the type's default; timestamp_ns =
    timestamp_offset_ns + seq * frame_duration_ns; the true last chunk is final when `mark_final`.
    `checksum` None, "crc32c" or "sha256" computes one per chunk. Empty input -> [].
    """
    cdef _SplitPlan plan
    cdef const uint8_t* base
    cdef Py_ssize_t total, count
    cdef list chunks
    cdef str sid = _checked_stream_id(stream_id)
    _split_plan(&plan, chunk_size, start_sequence, chunk_type, frame_duration_ns,
                timestamp_offset_ns, mark_final, checksum)
    owner = _split_source(data, &base, &total)
    if total == 0:
        return []
    count = (total + plan.size - 1) // plan.size
    _check_split_range(&plan, count)
    chunks = _split_chunks(sid, owner, base, total, &plan, count)
    if plan.algorithm != CHECKSUM_NONE:
        _add_split_checksums(chunks, base, total, &plan)
    return chunks
