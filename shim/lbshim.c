/* liblbshim.so: run an unmodified program with one of lockbench's mutexes
 * in place of glibc's, LD_PRELOADed (LiTL's approach: Guiroux et al.,
 * "Multicore Locks: the Case is Not Closed Yet", USENIX ATC 2016).
 *
 * LB_SHIM_IMPL=<id> chooses the mutex (a mutex-kind implementation with a
 * trylock, not of the pthread backend, which is glibc itself); an id that
 * is not one of those ends the program at its first lock with one line on
 * stderr and exit status 2.  LB_SHIM_STATS=<dir>, when set, receives one
 * file per process at exit, shim.<pid>.csv (below).
 *
 * Interposed, for the program and every library it loads:
 *
 *   pthread_mutex_init      normal and default (and glibc's adaptive)
 *                           mutexes get the chosen algorithm; recursive,
 *                           error-checking, robust, priority and
 *                           process-shared ones go to glibc, counted
 *                           (fallback_locks), never silently wrong.
 *   pthread_mutex_lock      trylock first: success is an uncontended
 *   pthread_mutex_trylock   acquisition, failure makes it a contended one
 *   pthread_mutex_timedlock (then lock); timedlock polls trylock until
 *   pthread_mutex_unlock    the CLOCK_REALTIME deadline (ETIMEDOUT).
 *   pthread_mutex_destroy   the algorithm's object is freed.
 *   pthread_cond_init, _destroy, _wait, _timedwait, _clockwait, _signal,
 *   _broadcast              a condition variable of our own that works
 *                           with any of them (below).
 *
 * Where the lock lives.  glibc's pthread_mutex_t is 40 bytes; __kind (at
 * 16) says the type, and the robust-list link at 24 is unused by the
 * mutexes we take.  That word holds a pointer to our lock: a struct
 * shim_lock with the algorithm's object beside it.  PTHREAD_MUTEX_
 * INITIALIZER is all zeros, so a zero pointer means "not made yet": the
 * first lock makes one and installs it with a CAS, and a thread that lost
 * the race frees its own and uses the winner's (static initialisation,
 * lazily and race-free).  pthread_mutex_destroy frees the object and
 * zeroes the word, so memory that held a destroyed mutex and is then
 * initialised (or zeroed) again starts afresh.  A struct shim_lock itself
 * is never freed (it is small, and per-thread maps may still name it):
 * the memory of a program that creates and destroys millions of mutexes
 * grows by 64 bytes each.
 *
 * Per-thread contexts.  Queue locks (MCS, CLH, ...) need a node per
 * thread per lock.  Each thread keeps a map from lock to its context,
 * attached on its first use of that lock and kept: a thread may hold many
 * locks at once and release them in any order.  Thread ids (for the
 * algorithms that index per-thread slots) are given out on each thread's
 * first lock and given back when the thread exits (its contexts are
 * detached then), up to LB_SHIM_MAX_THREADS live at once; a program with
 * more ends with one line on stderr and exit status 3, never a shared
 * slot.
 * Threads created before the shim's constructor ran are handled the same
 * way (nothing depends on the constructor), and a child of fork() keeps
 * its thread's id and contexts.
 *
 * Condition variables (pthread_cond_t, 48 bytes): seq at 0, the clock at
 * 4, waiters at 8.  wait: waiters++ and read seq, both before releasing
 * the mutex; futex-wait while seq is unchanged; re-lock.  signal and
 * broadcast: seq++, then wake one or all if anyone waits.  All four are
 * seq_cst (Dekker): a signaller that finds no waiter ran its increment
 * before that waiter read seq, so the waiter does not sleep on it; one
 * signalling under the mutex always sees the waiter.  No lost wake-up;
 * spurious ones are allowed by POSIX.  timedwait and clockwait wait on
 * an absolute deadline (FUTEX_WAIT_BITSET, the clock from
 * pthread_condattr_setclock or the call) and return ETIMEDOUT after
 * re-locking.
 *
 * Counts (LB_SHIM_STATS): each process its own (a child of fork() starts
 * from zero), acquisitions and contended acquisitions per lock, counted by the holder under the lock itself (no atomics on the
 * hot path), folded into the totals when a lock is destroyed; the file
 * has the totals (impl, locks_seen, acquisitions, contended,
 * fallback_locks, fallback_acquisitions, cond_waits, cond_timeouts) and
 * the 20 most acquired locks still alive at exit.  It is written at
 * exit(), and at _exit() and _Exit() too (interposed: forked children
 * leave that way), without stdio or malloc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"

#define EXPORT __attribute__((visibility("default")))
#define LB_SHIM_MAX_THREADS 128
#define LB_SHIM_TOP 20

struct shim_lock {
	void *obj;                   /* the algorithm's object */
	uint64_t acq, contended;     /* by the holder, under the lock */
	struct shim_lock *all_next;  /* every lock ever made (stats) */
	_Atomic int dead;            /* destroyed: counts folded into the totals */
};

/* The algorithm, chosen once. */
static const struct lb_impl *shim_impl;
static const struct lb_mutex_ops *shim_ops;
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;

static _Atomic(struct shim_lock *) shim_all;
static _Atomic uint64_t shim_locks_seen, shim_dead_acq, shim_dead_contended;
static _Atomic uint64_t shim_fallback_locks, shim_fallback_acq;
static _Atomic uint64_t shim_cond_waits, shim_cond_timeouts;
/* Thread ids in use: bit i of word i / 64.  Given on a thread's first
 * lock, given back when it exits (shim_thread_exit). */
static _Atomic uint64_t shim_tids[LB_SHIM_MAX_THREADS / 64];
static pthread_key_t shim_exit_key;

/* glibc's own, for the mutexes it keeps. */
static int (*real_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
static int (*real_destroy)(pthread_mutex_t *);
static int (*real_lock)(pthread_mutex_t *);
static int (*real_trylock)(pthread_mutex_t *);
static int (*real_timedlock)(pthread_mutex_t *, const struct timespec *);
static int (*real_unlock)(pthread_mutex_t *);

static __attribute__((noreturn, format(printf, 2, 3))) void shim_die(int status,
									const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	_exit(status);
}

static void shim_thread_exit(void *arg);

/* In a child of fork(): start its counts from zero, so that the files of
 * parent and child add up (the child's memory is a copy of the parent's,
 * counts included).  The child runs alone here. */
static void shim_atfork_child(void)
{
	for (struct shim_lock *l = atomic_load(&shim_all); l; l = l->all_next)
		l->acq = l->contended = 0;
	atomic_store(&shim_locks_seen, 0);
	atomic_store(&shim_dead_acq, 0);
	atomic_store(&shim_dead_contended, 0);
	atomic_store(&shim_fallback_locks, 0);
	atomic_store(&shim_fallback_acq, 0);
	atomic_store(&shim_cond_waits, 0);
	atomic_store(&shim_cond_timeouts, 0);
}

static void shim_setup(void)
{
	/* POSIX's way to turn dlsym's object pointer into a function's. */
	*(void **)&real_init = dlsym(RTLD_NEXT, "pthread_mutex_init");
	*(void **)&real_destroy = dlsym(RTLD_NEXT, "pthread_mutex_destroy");
	*(void **)&real_lock = dlsym(RTLD_NEXT, "pthread_mutex_lock");
	*(void **)&real_trylock = dlsym(RTLD_NEXT, "pthread_mutex_trylock");
	*(void **)&real_timedlock = dlsym(RTLD_NEXT, "pthread_mutex_timedlock");
	*(void **)&real_unlock = dlsym(RTLD_NEXT, "pthread_mutex_unlock");
	if (!real_init || !real_destroy || !real_lock || !real_trylock || !real_timedlock ||
	    !real_unlock)
		shim_die(2, "lbshim: glibc's pthread_mutex functions not found\n");
	const char *id = getenv("LB_SHIM_IMPL");
	const struct lb_impl *im = id ? lb_impl_find(id) : NULL;
	if (!im || lb_impl_kind(im) != LB_KIND_MUTEX || strcmp(im->backend, "pthread") == 0 ||
	    !lb_ops_mutex(im)->trylock || (im->caps & LB_CAP_HIDDEN) || lb_impl_unavailable(im))
		shim_die(2, "lbshim: LB_SHIM_IMPL='%s' is not a mutex with a trylock that the shim "
			 "can run (./bench app --impl lists them; the pthread backend is glibc "
			 "itself)\n", id ? id : "");
	shim_impl = im;
	pthread_atfork(NULL, NULL, shim_atfork_child);
	if (pthread_key_create(&shim_exit_key, shim_thread_exit) != 0)
		shim_die(3, "lbshim: no pthread key left for thread exits\n");
	shim_ops = lb_ops_mutex(im);
}

static inline void shim_ready(void)
{
	if (__builtin_expect(!shim_ops, 0))
		pthread_once(&shim_once, shim_setup);
}

/* ---- where the lock lives ---- */

static inline _Atomic(struct shim_lock *) *shim_slot(pthread_mutex_t *m)
{
	_Static_assert(sizeof(pthread_mutex_t) >= 32, "pthread_mutex_t too small for the slot");
	return (_Atomic(struct shim_lock *) *)((char *)m + 24);
}

/* glibc's kind: 0 normal, 3 adaptive are ours; anything else (recursive,
 * error-checking, robust, PI, pshared flags) stays glibc's. */
static inline int shim_kind(const pthread_mutex_t *m)
{
	return m->__data.__kind;
}

static inline bool shim_ours(const pthread_mutex_t *m)
{
	int k = shim_kind(m);
	return k == PTHREAD_MUTEX_NORMAL || k == PTHREAD_MUTEX_ADAPTIVE_NP;
}

static struct lb_prim_cfg shim_cfg(void)
{
	return (struct lb_prim_cfg){ .nthreads = LB_SHIM_MAX_THREADS, .nclusters = 1 };
}

static __attribute__((noinline)) struct shim_lock *shim_make(pthread_mutex_t *m)
{
	struct shim_lock *l = calloc(1, sizeof(*l)), *none = NULL;
	struct lb_prim_cfg cfg = shim_cfg();
	if (!l || lb_prim_create(shim_impl, &cfg, &l->obj) != 0)
		shim_die(3, "lbshim: out of memory making a lock\n");
	if (!atomic_compare_exchange_strong(shim_slot(m), &none, l)) {
		lb_prim_destroy(shim_impl, l->obj); /* lost the race: use the winner's */
		free(l);
		return none;
	}
	atomic_fetch_add_explicit(&shim_locks_seen, 1, memory_order_relaxed);
	struct shim_lock *head = atomic_load(&shim_all);
	do
		l->all_next = head;
	while (!atomic_compare_exchange_weak(&shim_all, &head, l));
	return l;
}

static inline struct shim_lock *shim_lock_of(pthread_mutex_t *m)
{
	/* acquire: pairs with shim_make's CAS, so the object is initialised. */
	struct shim_lock *l = atomic_load_explicit(shim_slot(m), memory_order_acquire);
	return l ? l : shim_make(m);
}

/* ---- per-thread contexts ---- */

struct shim_tmap {
	struct shim_lock **keys;
	void **vals;
	unsigned cap, n;
	int tid;
};

static __thread struct shim_tmap shim_tm __attribute__((tls_model("initial-exec"))) = {
	.tid = -1,
};

static inline unsigned shim_hash(const struct shim_lock *l, unsigned cap)
{
	uint64_t h = (uint64_t)(uintptr_t)l * UINT64_C(0x9e3779b97f4a7c15);
	return (unsigned)(h >> 32) & (cap - 1);
}

static void shim_tmap_grow(struct shim_tmap *t)
{
	unsigned cap = t->cap ? t->cap * 2 : 16;
	struct shim_lock **keys = calloc(cap, sizeof(*keys));
	void **vals = calloc(cap, sizeof(*vals));
	if (!keys || !vals)
		shim_die(3, "lbshim: out of memory for a thread's lock contexts\n");
	for (unsigned i = 0; i < t->cap; i++)
		if (t->keys[i]) {
			unsigned j = shim_hash(t->keys[i], cap);
			while (keys[j])
				j = (j + 1) & (cap - 1);
			keys[j] = t->keys[i];
			vals[j] = t->vals[i];
		}
	free(t->keys);
	free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->cap = cap;
}

/* The lowest free thread id; one line and exit status 3 when all
 * LB_SHIM_MAX_THREADS are taken by live threads. */
static int shim_tid_take(void)
{
	for (unsigned w = 0; w < LB_SHIM_MAX_THREADS / 64; w++) {
		uint64_t used = atomic_load(&shim_tids[w]);
		while (~used) {
			unsigned b = (unsigned)__builtin_ctzll(~used);
			if (atomic_compare_exchange_weak(&shim_tids[w], &used, used | (UINT64_C(1) << b)))
				return (int)(w * 64 + b);
		}
	}
	shim_die(3, "lbshim: more than %d live threads took locks; the shim gives each its own "
		 "slot and has no more\n", LB_SHIM_MAX_THREADS);
}

/* A thread that took locks exits: detach its contexts from the locks
 * still alive and give its id back, for the next thread to reuse (a
 * program that starts threads over and over, as stress-ng's stressors
 * do, would otherwise run out of ids).  It holds no lock now, so none of
 * its contexts is in use. */
static void shim_thread_exit(void *arg)
{
	struct shim_tmap *t = arg;
	for (unsigned i = 0; i < t->cap; i++)
		if (t->keys[i] && !atomic_load(&t->keys[i]->dead) && t->keys[i]->obj)
			lb_prim_thread_detach(shim_impl, t->keys[i]->obj, t->vals[i]);
	free(t->keys);
	free(t->vals);
	if (t->tid >= 0)
		atomic_fetch_and(&shim_tids[t->tid / 64], ~(UINT64_C(1) << (t->tid % 64)));
	*t = (struct shim_tmap){ .tid = -1 };
}

static __attribute__((noinline)) void *shim_attach(struct shim_tmap *t, struct shim_lock *l)
{
	if (t->tid < 0) {
		t->tid = shim_tid_take();
		/* any non-NULL value: the key's destructor runs at thread exit */
		pthread_setspecific(shim_exit_key, t);
	}
	if ((t->n + 1) * 2 > t->cap)
		shim_tmap_grow(t);
	struct lb_thread_info ti = { .tid = (unsigned)t->tid, .cpu = -1, .cluster = 0 };
	void *ctx;
	if (lb_prim_thread_attach(shim_impl, l->obj, &ti, &ctx) != 0)
		shim_die(3, "lbshim: cannot attach a thread to a lock\n");
	unsigned j = shim_hash(l, t->cap);
	while (t->keys[j])
		j = (j + 1) & (t->cap - 1);
	t->keys[j] = l;
	t->vals[j] = ctx;
	t->n++;
	return ctx;
}

/* This thread's context for lock l (NULL is a valid context for the
 * algorithms without one, so presence is the key's). */
static inline void *shim_ctx(struct shim_lock *l)
{
	struct shim_tmap *t = &shim_tm;
	if (t->cap) {
		unsigned j = shim_hash(l, t->cap);
		while (t->keys[j]) {
			if (t->keys[j] == l)
				return t->vals[j];
			j = (j + 1) & (t->cap - 1);
		}
	}
	return shim_attach(t, l);
}

/* ---- mutexes ---- */

EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
	shim_ready();
	int type = PTHREAD_MUTEX_DEFAULT, robust = PTHREAD_MUTEX_STALLED;
	int pshared = PTHREAD_PROCESS_PRIVATE, proto = PTHREAD_PRIO_NONE;
	if (attr) {
		pthread_mutexattr_gettype(attr, &type);
		pthread_mutexattr_getrobust(attr, &robust);
		pthread_mutexattr_getpshared(attr, &pshared);
		pthread_mutexattr_getprotocol(attr, &proto);
	}
	if ((type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_ADAPTIVE_NP) ||
	    robust != PTHREAD_MUTEX_STALLED || pshared != PTHREAD_PROCESS_PRIVATE ||
	    proto != PTHREAD_PRIO_NONE) {
		atomic_fetch_add_explicit(&shim_fallback_locks, 1, memory_order_relaxed);
		return real_init(m, attr);
	}
	memset(m, 0, sizeof(*m));
	m->__data.__kind = type;
	(void)shim_lock_of(m);
	return 0;
}

EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	shim_ready();
	if (!shim_ours(m))
		return real_destroy(m);
	struct shim_lock *l = atomic_exchange(shim_slot(m), NULL);
	if (l) {
		atomic_fetch_add_explicit(&shim_dead_acq, l->acq, memory_order_relaxed);
		atomic_fetch_add_explicit(&shim_dead_contended, l->contended, memory_order_relaxed);
		atomic_store(&l->dead, 1);
		lb_prim_destroy(shim_impl, l->obj);
		l->obj = NULL;
	}
	return 0;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	shim_ready();
	if (__builtin_expect(!shim_ours(m), 0)) {
		atomic_fetch_add_explicit(&shim_fallback_acq, 1, memory_order_relaxed);
		return real_lock(m);
	}
	struct shim_lock *l = shim_lock_of(m);
	void *t = shim_ctx(l);
	if (shim_ops->trylock(l->obj, t)) {
		l->acq++;
		return 0;
	}
	shim_ops->lock(l->obj, t);
	l->acq++;
	l->contended++;
	return 0;
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	shim_ready();
	if (__builtin_expect(!shim_ours(m), 0)) {
		int r = real_trylock(m);
		if (r == 0)
			atomic_fetch_add_explicit(&shim_fallback_acq, 1, memory_order_relaxed);
		return r;
	}
	struct shim_lock *l = shim_lock_of(m);
	if (!shim_ops->trylock(l->obj, shim_ctx(l)))
		return EBUSY;
	l->acq++;
	return 0;
}

static int64_t shim_ns_until(clockid_t clk, const struct timespec *abs)
{
	struct timespec now;
	clock_gettime(clk, &now);
	return (int64_t)(abs->tv_sec - now.tv_sec) * 1000000000 + (abs->tv_nsec - now.tv_nsec);
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	shim_ready();
	if (__builtin_expect(!shim_ours(m), 0)) {
		int r = real_timedlock(m, abs);
		if (r == 0)
			atomic_fetch_add_explicit(&shim_fallback_acq, 1, memory_order_relaxed);
		return r;
	}
	struct shim_lock *l = shim_lock_of(m);
	void *t = shim_ctx(l);
	if (shim_ops->trylock(l->obj, t)) {
		l->acq++;
		return 0;
	}
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000)
		return EINVAL;
	/* Poll: a timed wait inside every algorithm's queue is not in their
	 * interface; 50 us naps bound the lateness. */
	for (;;) {
		int64_t left = shim_ns_until(CLOCK_REALTIME, abs);
		if (left <= 0)
			return ETIMEDOUT;
		struct timespec nap = { 0, left < 50000 ? (long)left : 50000 };
		nanosleep(&nap, NULL);
		if (shim_ops->trylock(l->obj, t)) {
			l->acq++;
			l->contended++;
			return 0;
		}
	}
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (__builtin_expect(!shim_ours(m), 0))
		return (shim_ready(), real_unlock(m));
	struct shim_lock *l = atomic_load_explicit(shim_slot(m), memory_order_acquire);
	if (!l)
		return EPERM; /* never locked */
	shim_ops->unlock(l->obj, shim_ctx(l));
	return 0;
}

/* ---- condition variables ---- */

struct shim_cond {
	_Atomic uint32_t seq;
	int32_t clock;
	_Atomic uint32_t waiters;
};
_Static_assert(sizeof(struct shim_cond) <= sizeof(pthread_cond_t), "pthread_cond_t too small");

static inline struct shim_cond *shim_cond(pthread_cond_t *c)
{
	return (struct shim_cond *)(void *)c;
}

static long shim_futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts,
		       uint32_t mask)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, mask);
}

EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
	clockid_t clk = CLOCK_REALTIME;
	if (attr)
		pthread_condattr_getclock(attr, &clk);
	memset(c, 0, sizeof(*c));
	shim_cond(c)->clock = (int32_t)clk;
	return 0;
}

EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	(void)c;
	return 0;
}

/* The wait of every variant: abs NULL for none, on clock clk. */
static int shim_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
			  const struct timespec *abs)
{
	struct shim_cond *sc = shim_cond(c);
	if (abs && (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000))
		return EINVAL;
	atomic_fetch_add_explicit(&shim_cond_waits, 1, memory_order_relaxed);
	atomic_fetch_add(&sc->waiters, 1); /* seq_cst: pairs with signal's load */
	uint32_t seq = atomic_load(&sc->seq);
	pthread_mutex_unlock(m);
	int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG |
		 (clk == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
	int ret = 0;
	while (atomic_load(&sc->seq) == seq) {
		long r = shim_futex(&sc->seq, op, seq, abs, FUTEX_BITSET_MATCH_ANY);
		if (r == -1 && errno == ETIMEDOUT) {
			ret = ETIMEDOUT;
			break;
		}
		if (r == 0)
			break; /* woken: maybe spuriously, which POSIX allows */
		/* EAGAIN: seq moved; EINTR: look again */
	}
	atomic_fetch_sub(&sc->waiters, 1);
	pthread_mutex_lock(m); /* every return path re-acquires */
	if (ret == ETIMEDOUT)
		atomic_fetch_add_explicit(&shim_cond_timeouts, 1, memory_order_relaxed);
	return ret;
}

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	return shim_cond_wait(c, m, CLOCK_REALTIME, NULL);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *abs)
{
	return shim_cond_wait(c, m, (clockid_t)shim_cond(c)->clock, abs);
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				  const struct timespec *abs)
{
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	return shim_cond_wait(c, m, clk, abs);
}

static int shim_cond_wake(pthread_cond_t *c, int n)
{
	struct shim_cond *sc = shim_cond(c);
	atomic_fetch_add(&sc->seq, 1); /* seq_cst: pairs with wait's waiters++ */
	if (atomic_load(&sc->waiters))
		shim_futex(&sc->seq, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, (uint32_t)n, NULL, 0);
	return 0;
}

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	return shim_cond_wake(c, 1);
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	return shim_cond_wake(c, INT_MAX);
}

/* ---- counts at exit ---- */

/* Appends to the buffer; never allocates: the report may run in _exit()
 * called from a signal handler or a child of fork(). */
static size_t shim_put(char *buf, size_t at, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t shim_put(char *buf, size_t at, size_t cap, const char *fmt, ...)
{
	if (at >= cap)
		return at;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + at, cap - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

static _Atomic int shim_reported;

/* Written once per process, at exit(), _exit() or _Exit(): with open(2)
 * and write(2) and a stack buffer, no stdio and no malloc. */
static void shim_report(void)
{
	const char *dir = getenv("LB_SHIM_STATS");
	if (!dir || !shim_impl || atomic_exchange(&shim_reported, 1))
		return;
	char path[4096], buf[8192];
	snprintf(path, sizeof(path), "%s/shim.%ld.csv", dir, (long)getpid());
	uint64_t acq = atomic_load(&shim_dead_acq), cont = atomic_load(&shim_dead_contended);
	struct shim_lock *top[LB_SHIM_TOP] = { 0 };
	for (struct shim_lock *l = atomic_load(&shim_all); l; l = l->all_next) {
		if (atomic_load(&l->dead))
			continue;
		acq += l->acq;
		cont += l->contended;
		for (int i = 0; i < LB_SHIM_TOP; i++)
			if (!top[i] || l->acq > top[i]->acq) {
				memmove(&top[i + 1], &top[i], (LB_SHIM_TOP - 1 - i) * sizeof(top[0]));
				top[i] = l;
				break;
			}
	}
	size_t n = shim_put(buf, 0, sizeof(buf),
			    "impl,locks_seen,acquisitions,contended,fallback_locks,"
			    "fallback_acquisitions,cond_waits,cond_timeouts\n"
			    "%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu\nlock_rank,acquisitions,contended\n",
			    shim_impl->id, (unsigned long long)atomic_load(&shim_locks_seen),
			    (unsigned long long)acq, (unsigned long long)cont,
			    (unsigned long long)atomic_load(&shim_fallback_locks),
			    (unsigned long long)atomic_load(&shim_fallback_acq),
			    (unsigned long long)atomic_load(&shim_cond_waits),
			    (unsigned long long)atomic_load(&shim_cond_timeouts));
	for (int i = 0; i < LB_SHIM_TOP && top[i]; i++)
		n = shim_put(buf, n, sizeof(buf), "%d,%llu,%llu\n", i + 1,
			     (unsigned long long)top[i]->acq, (unsigned long long)top[i]->contended);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!write(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
	close(fd);
}

static __attribute__((destructor)) void shim_report_at_exit(void)
{
	shim_report();
}

/* Children of fork() often leave through _exit(), which runs no
 * destructor: report there too, then leave as glibc's would. */
EXPORT void _exit(int status)
{
	shim_report();
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	_exit(status);
}
