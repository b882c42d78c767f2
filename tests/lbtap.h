/* lbtap: the per-case TAP runner that test_prims and test_kinds share, and
 * the few helpers their cases have in common.
 *
 * A test program is a loop over the registry:
 *
 *	tap_init(argc, argv);        // --backend/--impl, LB_TEST_GUARD_S
 *	for each implementation im that tap_selected(im):
 *		tap_run(im, case_fn, n, x, "what, %u threads", n);
 *	return tap_done();           // the plan line; the exit status
 *
 * and a case is a function that checks one thing of one implementation and
 * says what it found with tap(ok, "...") once per check.
 *
 * Each case runs in a forked child, so that a hang, a crash or a sanitizer
 * report fails that case and the next one still runs.  The child sends each
 * check to the parent down a pipe, one line each ("1 text" passed, "0 text"
 * failed, one write(2) of less than PIPE_BUF, so never torn); the parent
 * numbers them as TAP lines as they come, so a case that hangs half-way
 * still shows what it checked.  Anything else the child prints goes to
 * stderr, never into the TAP stream.
 *
 * The parent waits LB_TEST_GUARD_S seconds (default 60) for the child: a
 * hang guard, not a timing assertion (the slowest case of either program, a
 * spin-only barrier of test_kinds with 8 threads on 2 busy CPUs, takes up
 * to about 10 s).  A child still running then is killed after its threads'
 * states and kernel wait channels are printed as TAP comments; one that
 * dies of a signal (ASan aborts under abort_on_error), exits non-zero
 * (ThreadSanitizer exits 66 after a report, LeakSanitizer 23, a bail-out 1)
 * or reports nothing fails its case too, with a line that names the
 * implementation and the case.
 *
 * The parent never starts a thread: fork() from a single-threaded process
 * is what ThreadSanitizer supports.  So a program calls tap_run (and tap,
 * for lines of its own such as a SKIP) only from its main thread, and
 * starts threads only inside a case.
 */
#ifndef LBTAP_H
#define LBTAP_H

/* A sanitizer build (TSan, or ASan+UBSan): its cases run 2-10x slower,
 * so the multi-thread cases run at fewer thread counts there (2 and 8,
 * the contended extremes; the release build runs them all). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TAP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define TAP_SANITIZED 1
#endif
#endif
#ifndef TAP_SANITIZED
#define TAP_SANITIZED 0
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lb_impl;

/* ---- the runner ---- */

/* Reads the command line, [--backend NAME]... [--impl ID]... (none: every
 * implementation), and LB_TEST_GUARD_S (seconds, 1..86400).  Bad input:
 * a usage line or one naming the bad value, and exit status 2. */
void tap_init(int argc, char **argv);

/* Whether im was chosen: by its backend or its id, or because nothing was
 * named; one that is unavailable here (lb_impl_unavailable) is not, and
 * gets a TAP SKIP line with the reason instead.  Hidden (deliberately broken) implementations are the caller's
 * business: tap_named says whether one was named with --impl. */
int tap_selected(const struct lb_impl *im);
int tap_named(const struct lb_impl *im);

typedef void tap_case_fn(const struct lb_impl *im, unsigned n, unsigned x);

/* Runs fn(im, n, x) in a child under the hang guard; what (a printf
 * format) names the case in the runner's own lines, after im's id.
 * Returns how many of the case's lines failed. */
int tap_run(const struct lb_impl *im, tap_case_fn *fn, unsigned n, unsigned x,
	    const char *what, ...) __attribute__((format(printf, 5, 6)));

/* One check: a TAP line, "ok" if ok.  Newlines in the text become spaces.
 * In a case, the line goes to the parent, which numbers it. */
void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the plan line (1..N); returns the exit status: 1 if a check
 * failed, 0 if none did. */
int tap_done(void);

/* ---- for the cases ---- */

/* "Bail out! <text>" and exit status 1: in a case, the case fails (its
 * stdout is stderr); in the parent, the whole run stops. */
_Noreturn void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tap_sleep_ms(long ms);
uint64_t tap_now_ms(void); /* CLOCK_MONOTONIC */

/* A hang guard whose clock stops while the threads it watches are kept off
 * the CPUs.  This machine's vCPUs are sometimes not scheduled for 30 to 90
 * s (the kernel logs "workqueue lockup ... stuck for 73s" and RCU stalls):
 * a thread queued on such a CPU gets no time at all, and a guard on the
 * wall clock called a correct lock hung (ck-rwlock's writer-preference
 * case, whose writer got 0 ms of CPU in 30 s).  The rule is the
 * harness's watchdog's (harness/run.c): a thread that is runnable ('R')
 * and has not run for TAP_STARVED_MS is starved, and while one is, the
 * guard does not count; nor does a gap of more than TAP_GUARD_STEP_MS
 * between two polls (the poller itself was not scheduled).  A thread that
 * sleeps (a deadlock) or runs (a livelock, a spinning lock never
 * released) keeps the clock going, so a real hang still ends the wait.
 *
 *	struct tap_guard g;
 *	tap_guard_start(&g, 0, ms);     // this process's threads; or a pid
 *	while (!done())
 *		if (tap_guard_over(&g)) return hung;   // poll every few ms
 */
#define TAP_STARVED_MS 250
#define TAP_GUARD_STEP_MS 200
#define TAP_GUARD_TIDS 64
#define TAP_GUARD_SCAN_MS 100
struct tap_guard {
	pid_t pid;          /* whose threads: 0 for this process */
	uint64_t left_ms;   /* guard time still to count */
	uint64_t last_ms;   /* the previous poll */
	uint64_t scan_ms;   /* the previous look at the threads */
	int starved;        /* what that look found */
	unsigned n;
	struct {
		pid_t tid;
		uint64_t run_ns;  /* its run time (schedstat) when last seen */
		uint64_t seen_ms; /* when it last ran or was not runnable */
	} t[TAP_GUARD_TIDS];
};
void tap_guard_start(struct tap_guard *g, pid_t pid, long ms);
/* 1 once the guard's time has been counted out; call it at each poll. */
int tap_guard_over(struct tap_guard *g);
/* Gives the guard ms again (progress was seen), keeping what it knows of
 * the threads: cheap enough to call at every poll. */
void tap_guard_reset(struct tap_guard *g, long ms);

/* calloc of one zeroed block of size bytes, or a bail-out. */
void *tap_xcalloc(size_t size);

/* pthread_create with default attributes, or a bail-out. */
void tap_spawn(pthread_t *th, void *(*fn)(void *), void *arg);

/* The kernel's state letter for thread tid of this process, from
 * /proc/self/task/tid/stat ('S' while it sleeps, in a futex for one); '?'
 * if it cannot be read. */
char tap_task_state(pid_t tid);

/* ---- checks inside a critical section ---- */

/* A CK-style in-section check: count a shared word up to K and back down;
 * anyone else inside at the same time shows up as a wrong reading.  Relaxed
 * atomics, so that a broken lock is a failed check, not undefined
 * behaviour, and so that the checker itself adds no ordering.  Inline: it
 * is the body of every critical section the cases time. */
#define TAP_IN_SECTION_K 8

static inline int tap_in_section_ok(_Atomic uint64_t *w)
{
	uint64_t v0 = atomic_load_explicit(w, memory_order_relaxed);
	for (int k = 0; k < TAP_IN_SECTION_K; k++)
		atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) + 1,
				      memory_order_relaxed);
	uint64_t v1 = atomic_load_explicit(w, memory_order_relaxed);
	for (int k = 0; k < TAP_IN_SECTION_K; k++)
		atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) - 1,
				      memory_order_relaxed);
	return v0 == 0 && v1 == TAP_IN_SECTION_K;
}

/* Whether a case keeps a plain (non-atomic) shadow counter inside its
 * critical sections: a word that only the lock orders, so that
 * ThreadSanitizer reports a lock that does not release or acquire as a
 * data race on it, where the relaxed atomics of tap_in_section_ok would
 * hide the missing order.  Not for a deliberately broken implementation:
 * there the race is certain, undefined behaviour where a failed check is
 * wanted.  CK and liburcu are included: their wrappers tell TSan their
 * edges (primitives/tsan.h). */
int tap_shadow_ok(const struct lb_impl *im);

/* For a case that leaked stuck helper threads, after its tap() lines:
 * ends the case's process without returning into a frame they may still
 * use. */
_Noreturn void tap_abandon(void);

#endif
