# The module-level checksum functions: crc32c (with its code paths for tests), crc32c_combine,
# checksum_hex and checksum_algorithm. Included by _chunk.pyx.

def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of a bytes-like object, continuing from `crc` (0 to start); the GIL is
    released for large inputs. Any C-contiguous buffer is read as raw bytes."""
    cdef Py_buffer view
    cdef uint32_t start = _crc_start(crc), result
    get_buffer(data, &view, "data")
    try:
        if view.len < _NOGIL_BYTES:
            result = rs2_crc32c(start, <const uint8_t*>view.buf, <size_t>view.len)
        else:
            with nogil:
                result = rs2_crc32c(start, <const uint8_t*>view.buf, <size_t>view.len)
    finally:
        PyBuffer_Release(&view)
    return result


cdef uint32_t _crc_start(object crc) except? 0:
    crc = int_arg(crc, "crc")
    if not 0 <= crc <= 0xFFFFFFFF:
        raise ValueError(f"crc {crc} is outside 0..2**32-1")
    return <uint32_t>crc


def crc32c_combine(crc1, crc2, length2):
    """CRC-32C of A + B from crc1 = crc32c(A), crc2 = crc32c(B) and length2 = len(B)."""
    cdef uint32_t a = _crc_start(crc1), b = _crc_start(crc2)
    n = int_arg(length2, "length2")
    if not 0 <= n <= _UINT64_MAX:
        raise ValueError(f"length2 {n} is outside 0..2**64-1")
    return rs2_crc_shift(a, <uint64_t>n) ^ b


_IMPLEMENTATIONS = {"portable": RS2_CRC_PORTABLE, "sse42": RS2_CRC_SSE42,
                    "sse42_clmul": RS2_CRC_SSE42_CLMUL, "avx512": RS2_CRC_AVX512}
CRC32C_IMPLEMENTATION = {v: k for k, v in _IMPLEMENTATIONS.items()}[rs2_crc_best]


def _crc32c_available():
    """Names of the CRC-32C code paths this CPU can run, slowest first (for tests and benchmarks)."""
    return [name for name, mode in _IMPLEMENTATIONS.items() if mode <= rs2_crc_best]


def _crc32c_impl(data, crc=0, implementation="portable"):
    """crc32c() on a chosen code path ("portable", "sse42", "sse42_clmul", "avx512"); for tests."""
    cdef Py_buffer view
    cdef uint32_t start = _crc_start(crc), result
    cdef int mode
    if implementation not in _IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {sorted(_IMPLEMENTATIONS)}, not {implementation!r}")
    mode = _IMPLEMENTATIONS[implementation]
    if mode > rs2_crc_best:
        raise ValueError(f"this CPU cannot run the {implementation!r} CRC-32C path")
    get_buffer(data, &view, "data")
    with nogil:
        result = rs2_crc32c_mode(start, <const uint8_t*>view.buf, <size_t>view.len, mode)
    PyBuffer_Release(&view)
    return result


def _crc32c_portable(data, crc=0):
    """crc32c() forced onto the portable slicing-by-8 path (for tests)."""
    return _crc32c_impl(data, crc, "portable")


def checksum_hex(data, algorithm="sha256"):
    """The checksum string of a bytes-like object: "crc32c" -> "crc32c:" + 8 lowercase hex,
    "sha256" -> 64 lowercase hex (RS2's format)."""
    cdef int code = _algorithm_code(algorithm)
    if code == CHECKSUM_CRC32C:
        return crc32c_string(crc32c(data))
    if isinstance(data, str):
        raise TypeError("data must be a bytes-like object, not str")
    try:
        return _sha256(data).hexdigest()
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None
    except (ValueError, BufferError) as error:
        raise ValueError(f"data must be a C-contiguous buffer ({error})") from None


def checksum_algorithm(checksum):
    """Which algorithm a checksum string names: "crc32c", "sha256", or None for None.
    ValueError for a malformed string (upper-case hex included), TypeError for a non-str."""
    if checksum is None:
        return None
    if not isinstance(checksum, str):
        raise TypeError(f"checksum must be a str or None, not {type(checksum).__name__}")
    kind = checksum_kind(checksum)
    if kind == CHECKSUM_SHA256:
        return "sha256"
    if kind == CHECKSUM_CRC32C:
        return "crc32c"
    raise ValueError(f"malformed checksum {checksum!r}: expected 64 lowercase hex digits (SHA-256) "
                     f"or 'crc32c:' + 8 lowercase hex digits")


def gop_chunk_type(sequence_number):
    """RS2's GOP rule: seq % 30 == 0 -> VIDEO_I_FRAME, else seq % 3 == 0 -> VIDEO_B_FRAME, else
    VIDEO_P_FRAME."""
    return _CHUNK_TYPES[gop_type_code(uint64_arg(sequence_number, "sequence_number"))]
