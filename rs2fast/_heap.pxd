# C-level view of PriorityHeap, for other extensions to cimport.
#
# The heap is a min-max heap of HeapEntry structs in one C array: even levels hold entries that
# come out before all their descendants, odd levels entries that come out after them, so both the
# best item (index 0) and the worst item (index 1 or 2) are found in O(1) and removed in
# O(log n). Items themselves live in a slot table of owned PyObject* references.
cimport cython
from cpython.object cimport PyObject
from libc.stdint cimport int32_t, uint8_t, uint64_t

from rs2fast._lock cimport rs2_lock_t


# One heap entry: the key (priority, seq, order) packed into 128 bits so that a smaller
# (key_hi, key_lo) pair comes out first: priority DESC, then seq ASC, then order ASC.
#   key_hi = (3 - priority) << 62 | seq >> 2
#   key_lo = (seq & 3) << 62 | order          (order < 2**62: the arrival counter)
# `order` is unique among live entries, so no two entries ever compare equal.
cdef struct HeapEntry:
    uint64_t key_hi
    uint64_t key_lo
    int32_t slot        # index into the slot table


cdef inline HeapEntry make_entry(uint8_t priority, uint64_t seq, uint64_t order,
                                 int32_t slot) noexcept nogil:
    cdef HeapEntry e
    e.key_hi = (<uint64_t>(3 - priority) << 62) | (seq >> 2)
    e.key_lo = ((seq & 3) << 62) | order
    e.slot = slot
    return e


cdef inline uint8_t entry_priority(const HeapEntry* e) noexcept nogil:
    return <uint8_t>(3 - (e.key_hi >> 62))


cdef inline uint64_t entry_seq(const HeapEntry* e) noexcept nogil:
    return (e.key_hi << 2) | (e.key_lo >> 62)


cdef inline uint64_t entry_order(const HeapEntry* e) noexcept nogil:
    return e.key_lo & 0x3FFFFFFFFFFFFFFFULL


@cython.final
cdef class PriorityHeap:
    # All fields below are guarded by `lock`, except `slots[s]` for a slot s that the calling
    # thread has reserved (taken off the free stack) and not yet published in `entries`, or
    # has taken out of `entries` and not yet returned to the free stack.
    cdef HeapEntry* entries     # the min-max heap, `count` live entries (capacity `cap`)
    cdef PyObject** slots       # slot table: owned references, NULL when free
    cdef int32_t* free_slots    # stack of free slot indices, `free_top` of them
    cdef Py_ssize_t cap
    cdef Py_ssize_t count       # written under the lock; read relaxed by __len__
    cdef Py_ssize_t free_top    # written under the lock; read relaxed by live_slots
    cdef uint64_t next_order    # arrival counter, < 2**62
    cdef rs2_lock_t lock
    cdef bint lock_ready

    # C-level fast paths (GIL held; arguments already valid: priority 1..3).
    # push_entry: 1 if pushed, 0 if full (OverflowError after 2**62 arrivals without the heap
    # ever being empty). pop_entry: owned reference or NULL when empty.
    cdef int push_entry(self, object item, uint8_t priority, uint64_t seq) except -1
    cdef PyObject* pop_entry(self, bint best) noexcept

    # Internal helpers (GIL held).
    cdef void _return_slots(self, const HeapEntry* stage, Py_ssize_t k) noexcept
    cdef void _abandon(self, HeapEntry* stage, Py_ssize_t filled, Py_ssize_t reserved) noexcept
    cdef list _to_list(self, HeapEntry* stage, Py_ssize_t k)
    cdef object _end_key(self, bint best)
    cdef Py_ssize_t _copy_all(self, HeapEntry* stage, Py_ssize_t room, bint empty) noexcept
    cdef Py_ssize_t _take_locked(self, HeapEntry* stage, Py_ssize_t room, Py_ssize_t limit,
                                 bint* drained) noexcept nogil
