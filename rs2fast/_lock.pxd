# The structure lock of the C kernels (C code in _lock.h): see there for how it waits.
cdef extern from "_lock.h":
    ctypedef struct rs2_lock_t:
        pass
    int rs2_lock_init(rs2_lock_t* lock) noexcept            # 0, or -1 when out of memory
    void rs2_lock_free(rs2_lock_t* lock) noexcept
    void rs2_lock_gil(rs2_lock_t* lock) noexcept            # GIL held (released while waiting)
    void rs2_lock_nogil(rs2_lock_t* lock) noexcept nogil    # GIL not held
    void rs2_unlock(rs2_lock_t* lock) noexcept nogil
