"""BatchCursor: the per-item path of a stream that is filled a batch at a time.

A stream's producer hands over chunks in batches (lists); the consumer's `for` / `async for` takes
them one by one. BatchCursor keeps the batch in hand and serves `__next__` / `__anext__` from it in
C; only when the batch is used up does it call the subclass's `_fetch()` (blocking, for `for`) or
`_afetch()` (a coroutine, for `async for`), which return the next non-empty list, or None at the end.
A fetched batch is stored before anything else can run, so a cancelled `async for` step loses
nothing: the chunks stay in hand for the next step.
"""
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF

from rs2fast._cpython cimport list_set_item_owned


cdef class BatchCursor:
    """Iterator and async iterator over batches that a subclass fetches (`_fetch`, `_afetch`)."""

    cdef list _batch
    cdef Py_ssize_t _pos

    def __cinit__(self, *args, **kwargs):
        self._batch = []
        self._pos = 0

    cdef inline object _take_in_hand(self):
        # The next chunk of the batch in hand, or None when it is used up. The list slot
        # is cleared so that a chunk lives no longer than its consumer keeps it.
        cdef PyObject* item
        if self._pos >= PyList_GET_SIZE(self._batch):
            return None
        item = PyList_GET_ITEM(self._batch, self._pos)
        Py_INCREF(None)
        list_set_item_owned(self._batch, self._pos, <PyObject*>None)
        self._pos += 1
        result = <object>item
        Py_DECREF(result)        # the reference the list held is now the caller's
        return result

    cdef object _hold(self, object batch):
        if batch is None:
            return None
        if type(batch) is not list:
            batch = list(batch)
        self._batch = batch
        self._pos = 0
        return self._take_in_hand()

    @property
    def in_hand(self):
        """Chunks fetched from the producer but not yet handed out."""
        return PyList_GET_SIZE(self._batch) - self._pos

    def __iter__(self):
        return self

    def __next__(self):
        item = self._take_in_hand()
        while item is None:
            batch = self._fetch()
            if batch is None:
                raise StopIteration
            item = self._hold(batch)
        return item

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = self._take_in_hand()
        while item is None:
            batch = await self._afetch()
            if batch is None:
                raise StopAsyncIteration
            item = self._hold(batch)
        return item

    def _take_all_in_hand(self):
        """The chunks in hand, as a list, leaving none (for batch-wise consumers)."""
        rest = self._batch[self._pos:]
        self._batch = []
        self._pos = 0
        return rest
