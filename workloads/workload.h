/* The workload interface: one struct per workload, in one flat table
 * (workloads/registry.c, from workloads/list.h).  A workload sees this
 * header, the worker API (worker.h), the primitives (registry.h) and the
 * checks (checks.h), never the harness's own lockbench.h: the harness
 * drives workloads through this header, not the other way round.
 *
 * A workload owns its shared state, its hot loop, and the correctness check
 * that runs after every repetition.  The hot loop is written once as a
 * static inline function over a kind's ops and instantiated per
 * implementation with the registry's X-macros (see counter.c), so `loops`
 * holds one function pointer per (workload, implementation); NULL means
 * the workload does not drive that implementation.
 */
#ifndef LB_WORKLOAD_H
#define LB_WORKLOAD_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#include "registry.h"
#include "worker.h"

typedef void (*lb_loop_fn)(struct lb_worker *w);

/* A workload parameter (--param key=value): a number in [min, max], or,
 * with words, one of them (its value is the word's index).  The harness
 * parses and checks every value against its spec once, before anything
 * runs ("--param depth: 'x' is not a nesting depth; give 1 to 1000", or
 * "...; valid: shared, local"), and hands the workload the values as
 * numbers (lb_wctx.param, validate()). */
struct lb_param_spec {
	const char *key;
	const char *def;           /* the default, as it would be typed */
	const char *help;          /* for --list */
	const char *noun;          /* what a value is: "a nesting depth" */
	uint64_t min, max;         /* a number's range */
	const char *range;         /* the range as the error says it; NULL: "min to max" */
	const char *const *words;  /* NULL-terminated: a word, not a number; with a
				    * max too, either (a word's value: max + 1 +
				    * its index) */
};

#define LB_MAX_PARAMS 8
#define LB_MAX_EXTRA 8
#define LB_MAX_THREADS 1024

/* What the harness hands a workload for one repetition. */
struct lb_wctx {
	const struct lb_impl *impl;
	unsigned nthreads;
	struct lb_prim_cfg cfg;
	uint64_t param[LB_MAX_PARAMS];         /* parallel to the spec: numbers, word indices */
	void *state;                           /* set by setup */
	double window_s;                       /* the timed window, set before check() */
};

enum lb_verdict { LB_OK, LB_FAIL, LB_RACY };

/* What ended a run early.  describe_stall() may name the hazard it found. */
enum lb_diag_kind {
	LB_DIAG_NONE, LB_DIAG_STALL, LB_DIAG_DEADLOCK, LB_DIAG_LIVELOCK, LB_DIAG_CHECK,
	LB_DIAG_INTERRUPTED, LB_DIAG_ERROR, LB_DIAG_WRITE,
};

struct lb_check {
	enum lb_verdict verdict;
	int has_lost;           /* lost_updates applies */
	int64_t lost_updates;   /* expected - observed */
	char msg[256];          /* why it failed, for stderr */
	double extra[LB_MAX_EXTRA]; /* values of the workload's extra_cols */
};

struct lb_workload {
	const char *name;
	const char *summary;
	const char *checks;                 /* what is verified, for --list */
	/* Its own result columns beyond the common ones (NULL-terminated, at
	 * most LB_MAX_EXTRA), filled by check() into lb_check.extra; NULL if
	 * none.  Documented in results/README.md. */
	const char *const *extra_cols;
	const struct lb_param_spec *params; /* NULL-key terminated, may be NULL */
	const lb_loop_fn *loops;            /* [LB_IMPL_COUNT] */
	/* Capabilities an implementation must have (lb_impl_caps) on top of a
	 * loop, e.g. LB_CAP_TRYLOCK; 0 for none. */
	unsigned requires_caps;
	/* Check what the specs cannot: a thread count, with the parameter
	 * values (parallel to params, already checked against their specs,
	 * defaults filled in); -1 with a one-line message naming the bad value
	 * and what is valid.  Called once per thread count in the sweep: an
	 * explicit --threads value it rejects is a usage error, and rejected
	 * counts are dropped from the default sweep.  May be NULL. */
	int (*validate)(const uint64_t *vals, unsigned nthreads, char *err, size_t len);
	/* Allocate c->state and the primitive(s).  0 or errno. */
	int (*setup)(struct lb_wctx *c);
	/* In the worker thread, after pinning, before the start barrier:
	 * attach the thread to the primitive, set w->state and w->tctx. */
	int (*thread_init)(struct lb_wctx *c, struct lb_worker *w);
	void (*thread_fini)(struct lb_wctx *c, struct lb_worker *w);
	/* After all threads have finished (joined). */
	void (*check)(struct lb_wctx *c, struct lb_worker *ws, struct lb_check *out);
	void (*teardown)(struct lb_wctx *c);
	/* When the watchdog fires: print what the threads hold and wait for
	 * (e.g. the deadlock cycle) to f, and return the hazard it shows
	 * (LB_DIAG_DEADLOCK, LB_DIAG_LIVELOCK) or LB_DIAG_NONE to leave the
	 * watchdog's own classification.  May be NULL. */
	enum lb_diag_kind (*describe_stall)(struct lb_wctx *c, struct lb_worker *ws, FILE *f);
	/* Called by the harness's main thread at every poll (each 10 ms)
	 * while the workers run, warm-up and drain included: to sample what
	 * only shows during the run (map and prodcons: the memory unlinked
	 * and not yet freed).  It must not write what the workers read.  May
	 * be NULL. */
	void (*sample)(struct lb_wctx *c);
	/* Default --watchdog seconds for this workload (0: the harness's). */
	double watchdog_s;
	/* Thread groups that --pin-group may place apart (producers and
	 * consumers): their names, NULL-terminated, at most LB_MAX_GROUPS;
	 * NULL when every thread does the same.  group_of says which group
	 * thread tid of nthreads is in, with the parameter values (parallel
	 * to params, validated). */
	const char *const *groups;
	unsigned (*group_of)(const uint64_t *vals, unsigned tid, unsigned nthreads);
};

#define LB_MAX_GROUPS 4

/* size bytes aligned to a cache line, for state that threads share: the
 * size rounded up to a whole number of lines, as C11 aligned_alloc()
 * requires (ASan checks it).  free() releases it. */
static inline void *lb_cache_alloc(size_t size)
{
	size_t lines = (size + LB_CACHELINE - 1) / LB_CACHELINE;
	void *p = aligned_alloc(LB_CACHELINE, (lines ? lines : 1) * LB_CACHELINE);
	if (p && lb_shared_alloc_hook) /* --mem places it */
		lb_shared_alloc_hook(p, (lines ? lines : 1) * LB_CACHELINE);
	return p;
}

/* Samples of a size taken during a run (lb_workload.sample): the largest
 * and the sum, for the peak and mean columns. */
struct lb_mem_samples {
	uint64_t peak, sum, n;
};

static inline void lb_mem_sample(struct lb_mem_samples *m, uint64_t v)
{
	if (v > m->peak)
		m->peak = v;
	m->sum += v;
	m->n++;
}

/* thread_init/thread_fini for the common case of one primitive per run:
 * the workload's state begins with `void *prim` (its first member), and
 * every worker attaches to it, with the state as w->state. */
int lb_single_thread_init(struct lb_wctx *c, struct lb_worker *w);
void lb_single_thread_fini(struct lb_wctx *c, struct lb_worker *w);

extern const struct lb_workload *const lb_workloads[];
const struct lb_workload *lb_workload_find(const char *name);
int lb_workload_drives(const struct lb_workload *wl, const struct lb_impl *impl);
/* Whether it would, were impl available here (lb_impl_unavailable). */
int lb_workload_fits(const struct lb_workload *wl, const struct lb_impl *impl);

#endif
