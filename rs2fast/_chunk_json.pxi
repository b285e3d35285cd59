# MediaChunk in RS2's serde JSON shape: the byte-array writers, a C parser for the "data" array
# (the bulk of any chunk's JSON) and the field checks of from_dict/from_json. Included by _chunk.pyx.

cdef list _byte_list(const uint8_t* p, Py_ssize_t n):
    cdef list out = PyList_New(n)
    cdef PyObject* item
    cdef Py_ssize_t i
    for i in range(n):
        item = PyTuple_GET_ITEM(_BYTE_INTS, p[i])
        incref_ptr(item)
        list_set_item_owned(out, i, item)
    return out


cdef str _json_byte_array(const uint8_t* p, Py_ssize_t n):
    cdef Py_ssize_t i, size = 2 + (n - 1 if n else 0)
    cdef str text
    cdef Py_UCS1* out
    for i in range(n):
        size += _DEC_LEN[p[i]]
    text = PyUnicode_New(size, 127)
    out = PyUnicode_1BYTE_DATA(text)
    out[0] = b'['
    out += 1
    for i in range(n):
        if i:
            out[0] = b','
            out += 1
        memcpy(out, _DEC_TEXT[p[i]], _DEC_LEN[p[i]])
        out += _DEC_LEN[p[i]]
    out[0] = b']'
    return text


cdef bytes _bytes_from_list(object items):
    """JSON's byte array (list/tuple of ints 0..255) as bytes, checked item by item."""
    cdef Py_ssize_t i, n
    cdef long value
    cdef int overflow = 0
    cdef bytes out
    cdef char* w
    cdef PyObject** cells
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"data must be a list of ints 0..255, not {type(items).__name__}")
    items = PySequence_Fast(items, "data")    # the list/tuple itself; the loop runs no Python code
    n = PySequence_Fast_GET_SIZE(items)
    cells = PySequence_Fast_ITEMS(items)
    out = PyBytes_FromStringAndSize(NULL, n)
    w = PyBytes_AS_STRING(out)
    for i in range(n):
        if not long_check_exact_ptr(cells[i]):
            item = <object>cells[i]
            raise TypeError(f"data[{i}] must be an int 0..255, not {type(item).__name__}")
        value = long_as_long_overflow_ptr(cells[i], &overflow)
        if overflow or value < 0 or value > 255:
            raise ValueError(f"data[{i}] = {<object>cells[i]} is outside 0..255")
        w[i] = <char>value
    return out


cdef inline const unsigned char* _view_bytes(memoryview view) noexcept:
    cdef const unsigned char[::1] cells = view
    return &cells[0] if cells.shape[0] else <const unsigned char*>b""


# A fast path for from_json: find the top-level "data" array, parse it in C, and leave only the small
# rest of the object to json.loads. Any doubt (escaped keys, odd numbers, non-Latin-1 text, a repeated
# "data" key, malformed text) returns "no" and the caller takes the plain json.loads path, so errors
# and results are exactly those of the slow path.

cdef inline bint _is_ws(unsigned char c) noexcept nogil:
    return c == 32 or c == 9 or c == 10 or c == 13


cdef Py_ssize_t _skip_ws(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    while i < n and _is_ws(s[i]):
        i += 1
    return i


cdef Py_ssize_t _skip_string(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """s[i] is a quote: the index after the closing quote, or -1."""
    i += 1
    while i < n:
        if s[i] == 92:              # backslash: skip the escaped character
            i += 2
        elif s[i] == 34:
            return i + 1
        else:
            i += 1
    return -1


cdef Py_ssize_t _skip_value(const unsigned char* s, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """The index just after the JSON value starting at s[i] (not validated: json.loads does that)."""
    cdef Py_ssize_t depth = 0
    cdef unsigned char c
    while i < n:
        c = s[i]
        if c == 34:
            i = _skip_string(s, i, n)
            if i < 0:
                return -1
            if depth == 0:
                return i
            continue
        if c == 123 or c == 91:             # { [
            depth += 1
        elif c == 125 or c == 93:           # } ]
            if depth == 0:
                return i
            depth -= 1
            if depth == 0:
                return i + 1
        elif depth == 0 and (c == 44 or _is_ws(c)):
            return i
        i += 1
    return -1 if depth else i


cdef Py_ssize_t _parse_byte_array(const unsigned char* s, Py_ssize_t i, Py_ssize_t n,
                                  uint8_t* out, Py_ssize_t* count) noexcept nogil:
    """Parse `[int, ...]` (each 0..255, JSON number syntax) at s[i] == '['; the index after ']' or -1."""
    cdef Py_ssize_t k = 0
    cdef unsigned int value
    i = _skip_ws(s, i + 1, n)
    if i < n and s[i] == 93:
        count[0] = 0
        return i + 1
    while i < n:
        if not 48 <= s[i] <= 57:
            return -1
        value = s[i] - 48
        i += 1
        if value == 0 and i < n and 48 <= s[i] <= 57:
            return -1                       # leading zero: not JSON
        while i < n and 48 <= s[i] <= 57:
            value = value * 10 + (s[i] - 48)
            if value > 255:
                return -1
            i += 1
        out[k] = <uint8_t>value
        k += 1
        if i < n and s[i] == 44:            # the common case: a comma right after the number
            i += 1
            if i < n and _is_ws(s[i]):
                i = _skip_ws(s, i, n)
            continue
        i = _skip_ws(s, i, n)
        if i >= n:
            return -1
        if s[i] == 44:
            i = _skip_ws(s, i + 1, n)
        elif s[i] == 93:
            count[0] = k
            return i + 1
        else:
            return -1
    return -1


cdef object _scan_rs2_json(const unsigned char* s, Py_ssize_t n, Py_ssize_t* start, Py_ssize_t* end):
    """The payload of the top-level "data" array as bytes (its span in start/end), or None."""
    cdef Py_ssize_t i, key, key_end, found = -1, count = 0
    cdef uint8_t* buffer
    i = _skip_ws(s, 0, n)
    if i >= n or s[i] != 123:
        return None
    i = _skip_ws(s, i + 1, n)
    if i < n and s[i] == 125:
        return None
    while True:
        if i >= n or s[i] != 34:
            return None
        key = i + 1
        i = _skip_string(s, i, n)
        if i < 0:
            return None
        key_end = i - 1
        if memchr(s + key, 92, <size_t>(key_end - key)) != NULL:
            return None                     # an escaped key: let json decide
        i = _skip_ws(s, i, n)
        if i >= n or s[i] != 58:
            return None
        i = _skip_ws(s, i + 1, n)
        if i >= n:
            return None
        if key_end - key == 4 and memcmp(s + key, b"data", 4) == 0:
            if found >= 0 or s[i] != 91:
                return None
            found = i
            buffer = <uint8_t*>PyMem_Malloc(<size_t>((n - i) // 2 + 1))
            if buffer == NULL:
                return None
            try:
                i = _parse_byte_array(s, i, n, buffer, &count)
                if i < 0:
                    return None
                payload = PyBytes_FromStringAndSize(<const char*>buffer, count)
            finally:
                PyMem_Free(buffer)
            start[0] = found
            end[0] = i
        else:
            i = _skip_value(s, i, n)
            if i < 0:
                return None
        i = _skip_ws(s, i, n)
        if i >= n:
            return None
        if s[i] == 44:
            i = _skip_ws(s, i + 1, n)
        elif s[i] == 125:
            break
        else:
            return None
    if _skip_ws(s, i + 1, n) != n or found < 0:
        return None
    return payload


cdef object _field(object mapping, str key, str label=None):
    try:
        return mapping[key]
    except KeyError:
        raise ValueError(f"MediaChunk JSON is missing the field {label or key!r}") from None


cdef object _json_int(object value, str name):
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


cdef tuple _secs_nanos(int64_t ns):
    if ns < 0:
        raise ValueError(f"timestamp_ns {ns} is negative; RS2's Duration is unsigned")
    return (ns // 1_000_000_000, ns % 1_000_000_000)


cdef MediaChunk _chunk_from_mapping(object mapping, object payload):
    """from_dict's work; `payload` (bytes) replaces the "data" field when the caller parsed it."""
    if not hasattr(mapping, "keys") or not hasattr(mapping, "__getitem__"):
        raise TypeError(f"from_dict() needs a mapping, not {type(mapping).__name__}")
    stream_id = _field(mapping, "stream_id")
    if not isinstance(stream_id, str):
        raise TypeError(f"stream_id must be a str, not {type(stream_id).__name__}")
    seq = uint64_arg(_json_int(_field(mapping, "sequence_number"), "sequence_number"), "sequence_number")
    data = _field(mapping, "data")
    if payload is None:
        payload = _bytes_from_list(data)
    type_name = _field(mapping, "chunk_type")
    if not isinstance(type_name, str):
        raise TypeError(f"chunk_type must be a variant name str, not {type(type_name).__name__}")
    if type_name not in _TYPE_BY_NAME:
        raise ValueError(f"chunk_type {type_name!r} is not a ChunkType variant name")
    priority_name = _field(mapping, "priority")
    if not isinstance(priority_name, str):
        raise TypeError(f"priority must be a variant name str, not {type(priority_name).__name__}")
    if priority_name not in _PRIORITY_BY_NAME:
        raise ValueError(f"priority {priority_name!r} is not a MediaPriority variant name")
    stamp = _field(mapping, "timestamp")
    if not hasattr(stamp, "keys") or not hasattr(stamp, "__getitem__"):
        raise TypeError(f"timestamp must be an object {{secs, nanos}}, not {type(stamp).__name__}")
    secs = _json_int(_field(stamp, "secs", "timestamp.secs"), "timestamp.secs")
    nanos = _json_int(_field(stamp, "nanos", "timestamp.nanos"), "timestamp.nanos")
    if secs < 0:
        raise ValueError(f"timestamp.secs {secs} is negative")
    if not 0 <= nanos < 1_000_000_000:
        raise ValueError(f"timestamp.nanos {nanos} is outside 0..999999999")
    ns = secs * 1_000_000_000 + nanos
    if ns > _INT64_MAX:
        raise ValueError(f"timestamp {secs}s is beyond the int64 nanosecond range")
    is_final = _field(mapping, "is_final")
    if type(is_final) is not bool:
        raise TypeError(f"is_final must be a bool, not {type(is_final).__name__}")
    checksum = _checked_checksum(_field(mapping, "checksum"))
    return make_chunk(_checked_stream_id(stream_id), seq, payload,
                      <const uint8_t*>PyBytes_AS_STRING(payload), PyBytes_GET_SIZE(payload),
                      _TYPE_BY_NAME[type_name], _PRIORITY_BY_NAME[priority_name], <int64_t>ns,
                      is_final, checksum)


cdef object _loads(object text):
    """json.loads, with nesting too deep for the parser reported as the ValueError it is."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to be a MediaChunk") from None


cdef MediaChunk _chunk_from_json(object text):
    """from_json's work: the byte array parsed here in C, the rest of the object by json.loads."""
    cdef Py_ssize_t start = 0, end = 0
    payload = None
    if isinstance(text, str):
        if PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND and PyUnicode_GET_LENGTH(text) >= 512:
            payload = _scan_rs2_json(PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text),
                                     &start, &end)
            if payload is not None:
                text = "".join((text[:start], "0", text[end:]))
    elif isinstance(text, (bytes, bytearray)):
        if len(text) < 512:
            return _chunk_from_mapping(_loads(text), None)
        with memoryview(text) as view:
            payload = _scan_rs2_json(_view_bytes(view), len(view), &start, &end)
        if payload is not None:
            text = b"".join((text[:start], b"0", text[end:]))
    else:
        raise TypeError(f"from_json() needs str or bytes, not {type(text).__name__}")
    return _chunk_from_mapping(_loads(text), payload)
