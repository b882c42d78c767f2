#include <string.h>

#include "list.h"
#include "workload.h"

#define LB_WL_EXTERN(name) extern const struct lb_workload lb_wl_##name;
LB_WORKLOAD_LIST(LB_WL_EXTERN)
#undef LB_WL_EXTERN

const struct lb_workload *const lb_workloads[] = {
#define LB_WL_ENTRY(name) &lb_wl_##name,
	LB_WORKLOAD_LIST(LB_WL_ENTRY)
#undef LB_WL_ENTRY
	NULL,
};

const struct lb_workload *lb_workload_find(const char *name)
{
	for (size_t i = 0; lb_workloads[i]; i++)
		if (strcmp(lb_workloads[i]->name, name) == 0)
			return lb_workloads[i];
	return NULL;
}

int lb_workload_fits(const struct lb_workload *wl, const struct lb_impl *impl)
{
	return wl->loops[impl->index] != NULL &&
	       (lb_impl_caps(impl) & wl->requires_caps) == wl->requires_caps;
}

int lb_workload_drives(const struct lb_workload *wl, const struct lb_impl *impl)
{
	return lb_workload_fits(wl, impl) && !lb_impl_unavailable(impl);
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
