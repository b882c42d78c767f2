/* Concurrency Kit's barriers, used as CK ships them; all spin.  Each needs
 * per-thread state (the thread context) and some a per-thread slice of the
 * barrier, sized from cfg->nthreads, which must equal the number of
 * threads that attach.
 *
 * ck-centralized    one counter and a global sense flag (sense reversal)
 * ck-combining      a tree of groups (of up to 4 threads here); the last
 *                   arrival of a group arrives at its parent
 * ck-dissemination  log2(n) rounds; in round k thread i signals i + 2^k
 * ck-tournament     a tournament tree: fixed winners advance, losers spin
 * ck-mcs            MCS's 4-ary arrival tree and binary wake-up tree
 *
 * ThreadSanitizer (tsan.h): each wait releases on the object before it
 * arrives and acquires on it when it leaves, so every thread's writes
 * before phase k's barrier happen-before every thread's return from it.
 * One sync address per barrier, as TSan's own pthread_barrier_wait
 * interceptor: a thread that leaves late may also acquire what a fast one
 * released arriving at the next phase, which can hide a race, never
 * report a false one.
 */
#ifndef LB_BARRIER_CK_H
#define LB_BARRIER_CK_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ck_barrier.h>

#include "barrier.h"
#include "tsan.h"

/* ---- centralized ---- */

static inline int lb_ck_centralized_init(void *obj, const struct lb_prim_cfg *cfg)
{
	(void)cfg;
	memset(obj, 0, sizeof(ck_barrier_centralized_t));
	return 0;
}

struct lb_ck_centralized {
	ck_barrier_centralized_t b;
	unsigned n;
};

static inline int lb_ck_centralized_init2(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_centralized *c = obj;
	lb_ck_centralized_init(&c->b, cfg);
	c->n = cfg->nthreads ? cfg->nthreads : 1;
	return 0;
}

static inline void lb_ck_centralized_wait(void *obj, void *t)
{
	struct lb_ck_centralized *c = obj;
	LB_TSAN_RELEASE(obj); /* pairs with every thread's acquire below */
	ck_barrier_centralized(&c->b, t, c->n);
	LB_TSAN_ACQUIRE(obj);
}

static const struct lb_barrier_ops lb_ck_centralized_ops = {
	.base = { .size = sizeof(struct lb_ck_centralized),
		  .tctx_size = sizeof(ck_barrier_centralized_state_t),
		  .init = lb_ck_centralized_init2 },
	.wait = lb_ck_centralized_wait,
};

/* ---- combining: groups of up to 4 consecutive thread ids ---- */

#define LB_COMBINING_GROUP 4

struct lb_ck_combining {
	ck_barrier_combining_t b;
	ck_barrier_combining_group_t root;
	ck_barrier_combining_group_t *groups;
};

struct lb_ck_combining_tctx {
	ck_barrier_combining_state_t st;
	ck_barrier_combining_group_t *group;
};

static inline int lb_ck_combining_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_combining *c = obj;
	unsigned n = cfg->nthreads ? cfg->nthreads : 1;
	unsigned ng = (n + LB_COMBINING_GROUP - 1) / LB_COMBINING_GROUP;

	c->groups = lb_shared_aligned_alloc(LB_CACHELINE, LB_CACHELINE *
		((ng * sizeof(*c->groups) + LB_CACHELINE - 1) / LB_CACHELINE));
	if (!c->groups)
		return ENOMEM;
	memset(c->groups, 0, ng * sizeof(*c->groups));
	ck_barrier_combining_init(&c->b, &c->root);
	for (unsigned g = 0; g < ng; g++) {
		unsigned size = n - g * LB_COMBINING_GROUP;
		if (size > LB_COMBINING_GROUP)
			size = LB_COMBINING_GROUP;
		ck_barrier_combining_group_init(&c->b, &c->groups[g], size);
	}
	return 0;
}

static inline void lb_ck_combining_fini(void *obj)
{
	free(((struct lb_ck_combining *)obj)->groups);
}

static inline int lb_ck_combining_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	struct lb_ck_combining_tctx *c = t;
	c->st.sense = ~0u; /* CK_BARRIER_COMBINING_STATE_INITIALIZER */
	c->group = &((struct lb_ck_combining *)obj)->groups[ti->tid / LB_COMBINING_GROUP];
	return 0;
}

static inline void lb_ck_combining_wait(void *obj, void *t)
{
	struct lb_ck_combining_tctx *c = t;
	LB_TSAN_RELEASE(obj); /* as centralized */
	ck_barrier_combining(&((struct lb_ck_combining *)obj)->b, c->group, &c->st);
	LB_TSAN_ACQUIRE(obj);
}

static const struct lb_barrier_ops lb_ck_combining_ops = {
	.base = { .size = sizeof(struct lb_ck_combining),
		  .tctx_size = sizeof(struct lb_ck_combining_tctx),
		  .init = lb_ck_combining_init, .fini = lb_ck_combining_fini,
		  .thread_init = lb_ck_combining_thread_init },
	.wait = lb_ck_combining_wait,
};

/* ---- dissemination: one barrier struct and two flag rows per thread ---- */

struct lb_ck_dissemination {
	ck_barrier_dissemination_t *b;          /* [n] */
	ck_barrier_dissemination_flag_t **rows; /* [n][2 * rounds] */
	unsigned n;
};

static inline void lb_ck_dissemination_fini(void *obj)
{
	struct lb_ck_dissemination *d = obj;
	for (unsigned i = 0; d->rows && i < d->n; i++)
		free(d->rows[i]);
	free(d->rows);
	free(d->b);
}

static inline int lb_ck_dissemination_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_dissemination *d = obj;
	unsigned n = cfg->nthreads ? cfg->nthreads : 1;
	/* CK's size is the number of rounds; each row holds two sets. */
	size_t per = 2 * (size_t)ck_barrier_dissemination_size(n) + 2;

	d->n = n;
	d->b = lb_shared_calloc(n, sizeof(*d->b));
	d->rows = lb_shared_calloc(n, sizeof(*d->rows));
	if (!d->b || !d->rows)
		goto oom;
	for (unsigned i = 0; i < n; i++)
		if (!(d->rows[i] = lb_shared_calloc(per, sizeof(**d->rows))))
			goto oom;
	ck_barrier_dissemination_init(d->b, d->rows, n);
	return 0;
oom:
	lb_ck_dissemination_fini(d);
	return ENOMEM;
}

static inline int lb_ck_dissemination_thread_init(void *obj, void *t,
						  const struct lb_thread_info *ti)
{
	(void)ti;
	ck_barrier_dissemination_subscribe(((struct lb_ck_dissemination *)obj)->b, t);
	return 0;
}

static inline void lb_ck_dissemination_wait(void *obj, void *t)
{
	LB_TSAN_RELEASE(obj); /* as centralized */
	ck_barrier_dissemination(((struct lb_ck_dissemination *)obj)->b, t);
	LB_TSAN_ACQUIRE(obj);
}

static const struct lb_barrier_ops lb_ck_dissemination_ops = {
	.base = { .size = sizeof(struct lb_ck_dissemination),
		  .tctx_size = sizeof(ck_barrier_dissemination_state_t),
		  .init = lb_ck_dissemination_init, .fini = lb_ck_dissemination_fini,
		  .thread_init = lb_ck_dissemination_thread_init },
	.wait = lb_ck_dissemination_wait,
};

/* ---- tournament: one round row per thread ---- */

struct lb_ck_tournament {
	ck_barrier_tournament_t b;
	ck_barrier_tournament_round_t **rounds; /* [n][size] */
	unsigned n;
};

static inline void lb_ck_tournament_fini(void *obj)
{
	struct lb_ck_tournament *tb = obj;
	for (unsigned i = 0; tb->rounds && i < tb->n; i++)
		free(tb->rounds[i]);
	free(tb->rounds);
}

static inline int lb_ck_tournament_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_tournament *tb = obj;
	unsigned n = cfg->nthreads ? cfg->nthreads : 1;
	size_t per = (size_t)ck_barrier_tournament_size(n) + 1;

	tb->n = n;
	tb->rounds = lb_shared_calloc(n, sizeof(*tb->rounds));
	if (!tb->rounds)
		return ENOMEM;
	for (unsigned i = 0; i < n; i++)
		if (!(tb->rounds[i] = lb_shared_calloc(per, sizeof(**tb->rounds)))) {
			lb_ck_tournament_fini(tb);
			return ENOMEM;
		}
	ck_barrier_tournament_init(&tb->b, tb->rounds, n);
	return 0;
}

static inline int lb_ck_tournament_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	(void)ti;
	ck_barrier_tournament_subscribe(&((struct lb_ck_tournament *)obj)->b, t);
	return 0;
}

static inline void lb_ck_tournament_wait(void *obj, void *t)
{
	LB_TSAN_RELEASE(obj); /* as centralized */
	ck_barrier_tournament(&((struct lb_ck_tournament *)obj)->b, t);
	LB_TSAN_ACQUIRE(obj);
}

static const struct lb_barrier_ops lb_ck_tournament_ops = {
	.base = { .size = sizeof(struct lb_ck_tournament),
		  .tctx_size = sizeof(ck_barrier_tournament_state_t),
		  .init = lb_ck_tournament_init, .fini = lb_ck_tournament_fini,
		  .thread_init = lb_ck_tournament_thread_init },
	.wait = lb_ck_tournament_wait,
};

/* ---- mcs: one tree node per thread ---- */

struct lb_ck_mcs_barrier {
	ck_barrier_mcs_t *nodes; /* [n] */
};

static inline int lb_ck_mcs_barrier_init(void *obj, const struct lb_prim_cfg *cfg)
{
	struct lb_ck_mcs_barrier *m = obj;
	unsigned n = cfg->nthreads ? cfg->nthreads : 1;
	m->nodes = lb_shared_aligned_alloc(LB_CACHELINE, LB_CACHELINE *
		((n * sizeof(*m->nodes) + LB_CACHELINE - 1) / LB_CACHELINE));
	if (!m->nodes)
		return ENOMEM;
	memset(m->nodes, 0, n * sizeof(*m->nodes));
	ck_barrier_mcs_init(m->nodes, n);
	return 0;
}

static inline void lb_ck_mcs_barrier_fini(void *obj)
{
	free(((struct lb_ck_mcs_barrier *)obj)->nodes);
}

static inline int lb_ck_mcs_barrier_thread_init(void *obj, void *t, const struct lb_thread_info *ti)
{
	(void)ti;
	ck_barrier_mcs_subscribe(((struct lb_ck_mcs_barrier *)obj)->nodes, t);
	return 0;
}

static inline void lb_ck_mcs_barrier_wait(void *obj, void *t)
{
	LB_TSAN_RELEASE(obj); /* as centralized */
	ck_barrier_mcs(((struct lb_ck_mcs_barrier *)obj)->nodes, t);
	LB_TSAN_ACQUIRE(obj);
}

static const struct lb_barrier_ops lb_ck_mcs_barrier_ops = {
	.base = { .size = sizeof(struct lb_ck_mcs_barrier),
		  .tctx_size = sizeof(ck_barrier_mcs_state_t),
		  .init = lb_ck_mcs_barrier_init, .fini = lb_ck_mcs_barrier_fini,
		  .thread_init = lb_ck_mcs_barrier_thread_init },
	.wait = lb_ck_mcs_barrier_wait,
};

#endif
