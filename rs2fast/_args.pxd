# Argument checks at the Python boundary of the C kernels, shared by every extension.
#
# Integers: an int or any object with __index__ (numpy integers included), never a bool; a wrong
# type raises TypeError and a value out of range ValueError, both naming the parameter.
from cpython.bool cimport PyBool_Check
from cpython.exc cimport PyErr_Clear, PyErr_Occurred
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.number cimport PyNumber_Index
from cpython.object cimport PyObject
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.stdint cimport int64_t, uint64_t

from rs2fast._codes cimport PRIORITY_HIGH, PRIORITY_LOW, TYPE_COUNT
from rs2fast._cpython cimport long_as_i64_ptr, long_as_u64_ptr


cdef inline object int_arg(object value, str name):
    """`value` as an exact int (any __index__ integer, not bool), else TypeError naming `name`."""
    if type(value) is int:
        return value
    if PyBool_Check(value):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        return PyNumber_Index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None


cdef inline object ranged_arg(object value, str name, object low, object high):
    """An int argument in low..high (inclusive), else TypeError/ValueError naming `name`."""
    value = int_arg(value, name)
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


cdef inline uint64_t uint64_arg(object value, str name) except? 0:
    """An int argument in 0..2**64-1."""
    cdef unsigned long long result
    value = int_arg(value, name)
    result = long_as_u64_ptr(<PyObject*>value)
    if result == <unsigned long long>-1 and PyErr_Occurred() != NULL:
        PyErr_Clear()
        raise ValueError(f"{name} must be in 0..2**64-1, got {value}")
    return result


cdef inline int64_t int64_arg(object value, str name) except? -1:
    """An int argument in -2**63..2**63-1."""
    cdef long long result
    value = int_arg(value, name)
    result = long_as_i64_ptr(<PyObject*>value)
    if result == -1 and PyErr_Occurred() != NULL:
        PyErr_Clear()
        raise ValueError(f"{name} must be in -2**63..2**63-1 (int64), got {value}")
    return result


cdef inline Py_ssize_t count_arg(object value, str name) except -1:
    """A non-negative int argument; values past PY_SSIZE_T_MAX are clamped to it."""
    cdef int overflow = 0
    cdef long long result
    value = int_arg(value, name)
    result = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow < 0 or (overflow == 0 and result < 0):
        raise ValueError(f"{name} must be >= 0, got {value}")
    if overflow > 0 or result > PY_SSIZE_T_MAX:
        return PY_SSIZE_T_MAX
    return <Py_ssize_t>result


cdef inline int small_arg(object value, str name, int low, int high, str kind) except? -1:
    """An int argument in low..high (a small code such as a ChunkType): TypeError names `kind`."""
    cdef int overflow = 0
    cdef long long result
    if type(value) is not int:
        if PyBool_Check(value):
            raise TypeError(f"{name} must be a {kind}, not bool")
        try:
            value = PyNumber_Index(value)
        except TypeError:
            raise TypeError(f"{name} must be a {kind}, not {type(value).__name__}") from None
    result = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or not low <= result <= high:
        raise ValueError(f"{name} {value!r} is not a {kind} ({low}..{high})")
    return <int>result


cdef inline int type_code_arg(object value, str name) except? -1:
    """A ChunkType argument (0..5) as its code."""
    return small_arg(value, name, 0, TYPE_COUNT - 1, "ChunkType")


cdef inline int priority_code_arg(object value, str name) except? -1:
    """A MediaPriority argument (1..3) as its code."""
    return small_arg(value, name, PRIORITY_LOW, PRIORITY_HIGH, "MediaPriority")


cdef inline bint flag_arg(object value, str name) except -1:
    """A bool argument (True, False, or the ints 0 and 1)."""
    if value is True:
        return True
    if value is False:
        return False
    if type(value) is int and (value == 0 or value == 1):
        return value == 1
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
