/* ThreadSanitizer annotations for the libraries whose synchronisation it
 * cannot see: Concurrency Kit (ck_pr is inline assembly) and liburcu (its
 * uatomic is inline assembly, its grace periods live in an uninstrumented
 * library).  TSan sees C11 atomics and the pthread calls it intercepts;
 * through a CK lock it sees no happens-before at all, so without these it
 * reports every access to data the lock protects.
 *
 *   LB_TSAN_RELEASE(addr)  before the operation that lets another thread
 *                          proceed (unlock, release, set, push, arrival)
 *   LB_TSAN_ACQUIRE(addr)  after the operation that waited for one (a
 *                          successful lock, trylock, acquire, pop, the
 *                          return of a wait)
 *
 * Every acquire on an address happens-after every release on it that came
 * before (TSan joins the releasing threads' clocks into one sync object
 * per address: __tsan_release in <sanitizer/tsan_interface.h>).  So the
 * annotated edges are exactly the ones the kind's header promises, on the
 * object's own address, never more: a wrapper that forgot one, or data
 * touched outside the lock, is still reported.
 *
 * Sync objects are keyed by the exact address, so one object can hold
 * several: a rwlock's readers release on LB_TSAN_READERS(obj), which
 * only writers acquire (readers do not order each other: TSan's own model
 * of pthread_rwlock).  Never annotate an address that C11 atomics or an
 * intercepted pthread object also use: their own release-stores would
 * overwrite the clock.
 *
 * Without -fsanitize=thread both compile to nothing (the address is still
 * evaluated, so no variable goes unused): the release build's inlined
 * loops are unchanged.  GCC defines __SANITIZE_THREAD__; clang says so
 * through __has_feature (GCC before 14 has no __has_feature, hence the
 * nested #if).
 */
#ifndef LB_TSAN_H
#define LB_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define LB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LB_TSAN 1
#endif
#endif
#ifndef LB_TSAN
#define LB_TSAN 0
#endif

#if LB_TSAN
#include <sanitizer/tsan_interface.h>
#define LB_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#define LB_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#else
#define LB_TSAN_ACQUIRE(addr) ((void)(addr))
#define LB_TSAN_RELEASE(addr) ((void)(addr))
#endif

/* A second sync address inside an object of at least two bytes: where a
 * rwlock's readers release (see above). */
#define LB_TSAN_READERS(obj) ((const char *)(obj) + 1)

#endif
