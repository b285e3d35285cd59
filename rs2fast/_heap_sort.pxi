# Sorting a batch of heap entries best first (a drained heap comes out sorted this way): radix
# sorts over the key bits that vary, insertion sort for a few entries. Included by _heap.pyx.

cdef void _radix_entries(HeapEntry* a, HeapEntry* tmp, Py_ssize_t n, uint64_t diff_hi,
                         uint64_t diff_lo) noexcept nogil:
    """Sort a[0:n] best first: LSD radix over the key bytes that differ between entries."""
    cdef uint32_t counts[256]
    cdef uint32_t total, c
    cdef int d, sh
    cdef Py_ssize_t i
    cdef HeapEntry* src = a
    cdef HeapEntry* dst = tmp
    cdef HeapEntry* swap
    for d in range(16):           # digits 0..7: key_lo bytes, 8..15: key_hi bytes (LSD first)
        sh = (d & 7) * 8
        if not (((diff_lo if d < 8 else diff_hi) >> sh) & 0xFF):
            continue
        memset(counts, 0, sizeof(counts))
        if d < 8:
            for i in range(n):
                counts[(src[i].key_lo >> sh) & 0xFF] += 1
        else:
            for i in range(n):
                counts[(src[i].key_hi >> sh) & 0xFF] += 1
        total = 0
        for i in range(256):
            c = counts[i]
            counts[i] = total
            total += c
        if d < 8:
            for i in range(n):
                c = (src[i].key_lo >> sh) & 0xFF
                dst[counts[c]] = src[i]
                counts[c] += 1
        else:
            for i in range(n):
                c = (src[i].key_hi >> sh) & 0xFF
                dst[counts[c]] = src[i]
                counts[c] += 1
        swap = src
        src = dst
        dst = swap
    if src != a:
        memcpy(a, src, <size_t>n * sizeof(HeapEntry))


cdef void _insertion_sort(HeapEntry* a, Py_ssize_t n) noexcept nogil:
    """Sort a few entries a[0:n] best first, in place."""
    cdef Py_ssize_t i, j
    cdef HeapEntry x
    for i in range(1, n):
        x = a[i]
        j = i
        while j > 0 and _before(&x, &a[j - 1]):
            a[j] = a[j - 1]
            j -= 1
        a[j] = x


# The bits in which the keys of a batch differ, as runs of adjacent bits, most significant first.
cdef struct _BitRuns:
    int count                   # runs found (at most 16)
    int total                   # bits in all runs; > 64 when they are too many to pack
    bint high[16]               # the run lies in key_hi (else key_lo)
    int shift[16]               # lowest bit of the run
    int width[16]
    uint64_t mask[16]           # `width` one bits
    uint64_t diff_hi            # every differing bit of key_hi
    uint64_t diff_lo            # every differing bit of key_lo


cdef void _find_bit_runs(const HeapEntry* a, Py_ssize_t n, _BitRuns* runs) noexcept nogil:
    cdef uint64_t or_hi = 0, or_lo = 0, and_hi = ~(<uint64_t>0), and_lo = ~(<uint64_t>0)
    cdef uint64_t diff, below
    cdef int word, top, width
    cdef Py_ssize_t i
    for i in range(n):
        or_hi |= a[i].key_hi
        and_hi &= a[i].key_hi
        or_lo |= a[i].key_lo
        and_lo &= a[i].key_lo
    runs.diff_hi = or_hi ^ and_hi
    runs.diff_lo = or_lo ^ and_lo
    runs.count = 0
    runs.total = 0
    for word in range(2):
        diff = runs.diff_hi if word == 0 else runs.diff_lo
        while diff != 0 and runs.count < 16:
            top = 63 - rs2_heap_clz64(diff)               # top bit of the run
            below = ~diff << (63 - top)                   # bits below the top, inverted, at the top
            width = (top + 1) if below == 0 else rs2_heap_clz64(below)
            runs.high[runs.count] = word == 0
            runs.shift[runs.count] = top + 1 - width
            runs.width[runs.count] = width
            runs.mask[runs.count] = (~(<uint64_t>0)) >> (64 - width)
            diff &= ~(runs.mask[runs.count] << runs.shift[runs.count])
            runs.total += width
            runs.count += 1
        if diff != 0:
            runs.total = 1000                             # too fragmented to pack


cdef inline uint64_t _packed_key(const HeapEntry* e, const _BitRuns* runs) noexcept nogil:
    """The varying bits of e's key, packed into one integer (same order as the key)."""
    cdef uint64_t packed = 0, word
    cdef int r
    for r in range(runs.count):
        word = e.key_hi if runs.high[r] else e.key_lo
        packed = (packed << runs.width[r]) | ((word >> runs.shift[r]) & runs.mask[r])
    return packed


cdef uint64_t* _radix_keys(uint64_t* keys, uint64_t* tmp, Py_ssize_t n, int low_bit,
                           int high_bit) noexcept nogil:
    """Sort keys[0:n] by their bits low_bit..high_bit-1 (LSD radix, 8 bits a pass); return where
    the sorted keys are (keys or tmp)."""
    cdef uint32_t counts[256]
    cdef uint32_t acc, c
    cdef uint64_t* swap
    cdef Py_ssize_t i
    cdef int shift = low_bit
    while shift < high_bit:
        memset(counts, 0, sizeof(counts))
        for i in range(n):
            counts[(keys[i] >> shift) & 0xFF] += 1
        acc = 0
        for i in range(256):
            c = counts[i]
            counts[i] = acc
            acc += c
        for i in range(n):
            c = (keys[i] >> shift) & 0xFF
            tmp[counts[c]] = keys[i]
            counts[c] += 1
        swap = keys
        keys = tmp
        tmp = swap
        shift += 8
    return keys


cdef HeapEntry* _sort_entries(HeapEntry* a, HeapEntry* scratch, Py_ssize_t n) noexcept nogil:
    """Sort the entries a[0:n] best first; return where the sorted run is (a or in scratch).

    `scratch` holds 2*n entries. Bits that all keys share cannot change the order, so the
    varying bits are packed with the entry index into one uint64 (when they fit) and that is
    radix-sorted, 8 bits a pass; otherwise the whole entries are radix-sorted byte by byte.
    """
    cdef _BitRuns runs
    cdef int index_bits = 0
    cdef Py_ssize_t i
    cdef uint64_t* keys
    cdef uint64_t index_mask
    cdef HeapEntry* out
    if n < _SORT_MIN_ITEMS:
        _insertion_sort(a, n)
        return a
    _find_bit_runs(a, n, &runs)
    while ((<uint64_t>1) << index_bits) < <uint64_t>n:
        index_bits += 1
    if runs.total + index_bits > 64:
        _radix_entries(a, scratch, n, runs.diff_hi, runs.diff_lo)
        return a
    keys = <uint64_t*>scratch                 # n keys, then n more for the radix passes
    out = <HeapEntry*>(keys + 2 * n)
    for i in range(n):
        keys[i] = (_packed_key(&a[i], &runs) << index_bits) | <uint64_t>i
    # Packed keys are unique (orders are), so the index bits need no pass.
    keys = _radix_keys(keys, keys + n, n, index_bits, index_bits + runs.total)
    index_mask = ((<uint64_t>1) << index_bits) - 1
    for i in range(n):
        out[i] = a[keys[i] & index_mask]
    return out
