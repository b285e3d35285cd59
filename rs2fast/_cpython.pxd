# Python C-API declarations that Cython's own cpython.* modules do not give in the form the
# kernels need (borrowed PyObject* arguments, no automatic exception checks). Every rs2fast
# extension cimports them from here.
from cpython.object cimport PyObject


cdef extern from "Python.h":
    # Store an owned reference in a fresh list's slot (the list steals it; no checks).
    void list_set_item_owned "PyList_SET_ITEM"(object lst, Py_ssize_t i, PyObject* item) noexcept
    # Append to a list; -1 with an exception set on failure (the caller checks).
    int list_append_ptr "PyList_Append"(PyObject* lst, PyObject* item) noexcept
    # A new reference to a borrowed pointer.
    void incref_ptr "Py_INCREF"(PyObject* obj) noexcept
    # Exact-int test and conversion of a borrowed pointer (no exception possible for an exact int).
    bint long_check_exact_ptr "PyLong_CheckExact"(PyObject* obj) noexcept
    long long_as_long_overflow_ptr "PyLong_AsLongAndOverflow"(PyObject* obj, int* overflow) noexcept
    # Integer conversions returning -1 (or (unsigned long long)-1) with an exception set on failure.
    unsigned long long long_as_u64_ptr "PyLong_AsUnsignedLongLong"(PyObject* value) noexcept
    long long long_as_i64_ptr "PyLong_AsLongLong"(PyObject* value) noexcept
    # The items array of a list or tuple (PySequence_Fast turns anything else into a list).
    object PySequence_Fast(object seq, const char* message)
    Py_ssize_t PySequence_Fast_GET_SIZE(object seq)
    PyObject** PySequence_Fast_ITEMS(object seq)
    # Is a memoryview released? (its `flags` field; the view must be an exact memoryview)
    ctypedef struct PyMemoryViewObject:
        int flags
    int _Py_MEMORYVIEW_RELEASED
