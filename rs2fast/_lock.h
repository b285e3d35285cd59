/* rs2fast's structure lock, shared by the heap and the reorder kernels.
 *
 * Python >= 3.13: PyMutex. Older Pythons with GCC/Clang on POSIX: a test-and-test-and-set lock
 * (spin, then yield, then short sleeps); PyThread's lock would cost a clock_gettime per acquire
 * there. Elsewhere: a PyThread lock. rs2_lock_gil() is for callers holding the GIL: it releases
 * the GIL while it waits, so the lock is never awaited with the GIL held; rs2_lock_nogil() is for
 * callers without the GIL. A holder of the lock never waits for the GIL or runs Python code.
 */
#ifndef RS2FAST_LOCK_H
#define RS2FAST_LOCK_H

#include <Python.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030D0000

typedef struct { PyMutex m; } rs2_lock_t;
static int rs2_lock_init(rs2_lock_t *l) { memset(l, 0, sizeof(*l)); return 0; }
static void rs2_lock_free(rs2_lock_t *l) { (void)l; }
static inline void rs2_lock_gil(rs2_lock_t *l) { PyMutex_Lock(&l->m); }
static inline void rs2_lock_nogil(rs2_lock_t *l) { PyMutex_Lock(&l->m); }
static inline void rs2_unlock(rs2_lock_t *l) { PyMutex_Unlock(&l->m); }

#elif (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32)

#include <sched.h>
#include <time.h>
typedef struct { int held; } rs2_lock_t;
static int rs2_lock_init(rs2_lock_t *l) { l->held = 0; return 0; }
static void rs2_lock_free(rs2_lock_t *l) { (void)l; }
static inline int rs2_lock_try(rs2_lock_t *l) {
    return __atomic_load_n(&l->held, __ATOMIC_RELAXED) == 0
        && __atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE) == 0;
}
static void rs2_lock_wait(rs2_lock_t *l) {
    unsigned long n = 0;
    while (!rs2_lock_try(l)) {
        if (n < 64) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#elif defined(__aarch64__)
            __asm__ __volatile__("yield");
#endif
        } else if (n < 1024) {
            sched_yield();
        } else {
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
        n++;
    }
}
static inline void rs2_lock_nogil(rs2_lock_t *l) { if (!rs2_lock_try(l)) rs2_lock_wait(l); }
static inline void rs2_lock_gil(rs2_lock_t *l) {
    if (!rs2_lock_try(l)) {
        Py_BEGIN_ALLOW_THREADS
        rs2_lock_wait(l);
        Py_END_ALLOW_THREADS
    }
}
static inline void rs2_unlock(rs2_lock_t *l) { __atomic_store_n(&l->held, 0, __ATOMIC_RELEASE); }

#else

#include "pythread.h"
typedef struct { PyThread_type_lock t; } rs2_lock_t;
static int rs2_lock_init(rs2_lock_t *l) { l->t = PyThread_allocate_lock(); return l->t ? 0 : -1; }
static void rs2_lock_free(rs2_lock_t *l) { if (l->t) PyThread_free_lock(l->t); l->t = NULL; }
static inline void rs2_lock_nogil(rs2_lock_t *l) { PyThread_acquire_lock(l->t, WAIT_LOCK); }
static inline void rs2_lock_gil(rs2_lock_t *l) {
    if (!PyThread_acquire_lock(l->t, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(l->t, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}
static inline void rs2_unlock(rs2_lock_t *l) { PyThread_release_lock(l->t); }

#endif
#endif /* RS2FAST_LOCK_H */
