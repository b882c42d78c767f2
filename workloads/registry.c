#include <string.h>

#include "workload.h"

extern const struct lb_workload lb_wl_barrier;
extern const struct lb_workload lb_wl_broadcast;
extern const struct lb_workload lb_wl_counter;
extern const struct lb_workload lb_wl_deadlock;
extern const struct lb_workload lb_wl_handoff;
extern const struct lb_workload lb_wl_livelock;
extern const struct lb_workload lb_wl_pool;
extern const struct lb_workload lb_wl_prodcons;
extern const struct lb_workload lb_wl_readmostly;
extern const struct lb_workload lb_wl_recursive;
extern const struct lb_workload lb_wl_trylock;

/* One line per workload. */
const struct lb_workload *const lb_workloads[] = {
	&lb_wl_counter,
	&lb_wl_barrier,
	&lb_wl_deadlock,
	&lb_wl_livelock,
	&lb_wl_readmostly,
	&lb_wl_pool,
	&lb_wl_trylock,
	&lb_wl_recursive,
	&lb_wl_handoff,
	&lb_wl_broadcast,
	&lb_wl_prodcons,
	NULL,
};

const struct lb_workload *lb_workload_find(const char *name)
{
	for (size_t i = 0; lb_workloads[i]; i++)
		if (strcmp(lb_workloads[i]->name, name) == 0)
			return lb_workloads[i];
	return NULL;
}

int lb_workload_drives(const struct lb_workload *wl, const struct lb_impl *impl)
{
	return wl->loops[impl->index] != NULL &&
	       (lb_impl_caps(impl) & wl->requires_caps) == wl->requires_caps;
}

/* A pointer to a struct, converted, points to its first member: here the
 * primitive every single-primitive workload's state starts with. */
static void *single_prim(const struct lb_wctx *c)
{
	return *(void **)c->state;
}

int lb_single_thread_init(struct lb_wctx *c, struct lb_worker *w)
{
	struct lb_thread_info ti = { .tid = w->tid, .cpu = w->cpu, .cluster = w->cluster };
	w->state = c->state;
	return lb_prim_thread_attach(c->impl, single_prim(c), &ti, &w->tctx);
}

void lb_single_thread_fini(struct lb_wctx *c, struct lb_worker *w)
{
	lb_prim_thread_detach(c->impl, single_prim(c), w->tctx);
	w->tctx = NULL;
}
