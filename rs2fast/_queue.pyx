"""QueueCore: the C fast paths of MediaPriorityQueue (enqueue and take without waiting).

Waiting, timeouts, close, overflow policies and asyncio live in the Python subclass
(`rs2fast.priority_queue.MediaPriorityQueue`), which defines `_put_slow`, `_get_slow`,
`_get_nowait_slow`, `_wake_getters` and `_wake_putters` (these two take the subclass's lock, so
the fast paths must not run under it: the slow paths use `_try_push`/`_try_pop`). The fast paths only push to / pop from the
heap (which has its own lock) and call a wake-up method when somebody waits. A waiter announces
itself (get_waiters / put_waiters) under the subclass's lock *before* it checks the heap for the
last time, and a fast path checks the counters *after* it changed the heap; both run holding the
GIL, so one of the two always sees the other and no wake-up is lost.
"""
cimport cython
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF

from rs2fast._chunk cimport MediaChunk
from rs2fast._heap cimport PriorityHeap

from rs2fast.errors import QueueClosed


cdef class QueueCore:
    """QueueCore(capacity=1024, *args, **kwargs)
--

    Bounded priority queue core: a PriorityHeap plus counters and waiter bookkeeping."""

    cdef readonly PriorityHeap heap
    cdef public bint closed
    cdef public Py_ssize_t get_waiters
    cdef public Py_ssize_t put_waiters
    cdef public unsigned long long enqueued
    cdef public unsigned long long dequeued

    def __cinit__(self, capacity=1024, *args, **kwargs):
        self.heap = PriorityHeap(capacity)

    cdef inline bint _push(self, object chunk, bint wake) except -1:
        cdef MediaChunk c
        if type(chunk) is not MediaChunk or self.closed:
            return False
        c = <MediaChunk>chunk
        if not self.heap.push_entry(c, <unsigned char>c.priority_code, c.seq):
            return False
        self.enqueued += 1
        if wake and self.get_waiters:
            self._wake_getters()
        return True

    cdef inline object _pop(self, bint wake):
        cdef PyObject* ptr = self.heap.pop_entry(True)
        cdef object item
        if ptr == NULL:
            return None
        item = <object>ptr
        Py_DECREF(item)
        self.dequeued += 1
        if wake and self.put_waiters:
            self._wake_putters()
        return item

    def enqueue(self, chunk, timeout=None):
        """Queue a chunk; True if it was queued, False if the overflow policy dropped it. Under
        "block" this waits for room (QueueFull when `timeout` seconds pass); QueueClosed after close()."""
        _check_timeout(timeout)
        if self._push(chunk, True):
            return True
        return self._put_slow(chunk, True, timeout)

    def try_enqueue(self, chunk):
        """Queue a chunk without ever waiting: under "block" a full queue raises QueueFull."""
        if self._push(chunk, True):
            return True
        return self._put_slow(chunk, False, None)

    def get_nowait(self):
        """Take the best chunk now; QueueEmpty if there is none (QueueClosed if also closed)."""
        item = self._pop(True)
        if item is not None:
            return item
        return self._get_nowait_slow()

    def get(self, timeout=None):
        """Take the best chunk, waiting for one; QueueEmpty after `timeout` seconds, QueueClosed
        once the queue is closed and drained."""
        _check_timeout(timeout)
        item = self._pop(True)
        if item is not None:
            return item
        return self._get_slow(timeout)

    def __len__(self):
        return len(self.heap)

    def len(self):
        """Number of queued chunks (RS2's `len`); never blocks."""
        return len(self.heap)

    def __iter__(self):
        """Blocking iteration in priority order; ends once the queue is closed and drained."""
        return QueueIterator(self)

    def _try_pop(self):
        """The best chunk, or None when the heap is empty; wakes nobody (for the subclass's slow
        paths, which hold their lock and notify themselves)."""
        return self._pop(False)

    def _try_push(self, chunk):
        """Push without any policy: True if there was room; wakes nobody (as _try_pop)."""
        return self._push(chunk, False)


cdef inline int _check_timeout(object timeout) except -1:
    # A bad timeout is refused even when the call would not have to wait.
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds, got {timeout}")
    return 0


@cython.final
cdef class QueueIterator:
    """QueueIterator(queue)
--

`for chunk in queue`: takes chunks in C while there are some, waits through `get()` when
    there are none, and stops once the queue is closed and drained."""

    cdef QueueCore queue

    def __cinit__(self, QueueCore queue):
        self.queue = queue

    def __iter__(self):
        return self

    def __next__(self):
        item = self.queue._pop(True)
        if item is not None:
            return item
        try:
            return self.queue.get()
        except QueueClosed:
            raise StopIteration
