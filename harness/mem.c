/* --mem: where the primitive's shared memory lives (the lock word, the
 * queue, the counter), through hwloc's memory binding.
 *
 *   first-touch  (no --mem) the kernel's default: pages land on the node
 *                of the thread that first writes them, here the main
 *                thread in setup();
 *   local        the NUMA node of thread 0's CPU (of the main thread's,
 *                unpinned);
 *   node:N       NUMA node N (logical index, as --topology lists them);
 *   interleave   pages dealt round every node.
 *
 * The workload's setup() runs in the main thread, and every shared object
 * it allocates (lb_prim_create, lb_cache_alloc) is reported through
 * lb_shared_alloc_hook between lb_mem_track_begin() and lb_mem_place().
 * lb_mem_place() binds the pages that hold them, moving pages already
 * touched (HWLOC_MEMBIND_MIGRATE), and then asks the kernel where they
 * are (hwloc_get_area_memlocation, move_pages(2) underneath): the
 * mem_nodes column is that answer, not the request.  Binding works on
 * whole pages, so heap neighbours on the same pages move with them;
 * memory a library allocates on its own (liburcu's and CK's internal
 * nodes) and per-thread contexts (allocated by each thread, so local to
 * it) are not covered.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>

#include "lockbench.h"

/* The shared objects of the run being set up: as many as it makes
 * (prodcons with P x C rings makes hundreds on a big machine). */
static struct range {
	void *p;
	size_t size;
} *ranges;
static size_t nranges, cap;
static int overflow; /* out of memory while noting: placement refused */

static void note(void *p, size_t size)
{
	if (nranges == cap) {
		size_t ncap = cap ? 2 * cap : 64;
		struct range *r = realloc(ranges, ncap * sizeof(*r));
		if (!r) {
			overflow = 1;
			return;
		}
		ranges = r;
		cap = ncap;
	}
	ranges[nranges++] = (struct range){ p, size };
}

int lb_mem_resolve(const char *spec, struct lb_mem *m, char *err, size_t errlen)
{
	hwloc_topology_t t = lb_topo_handle();
	int nnodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);

	memset(m, 0, sizeof(*m));
	m->nnodes = nnodes > 0 ? (unsigned)nnodes : 1;
	if (!spec) {
		m->kind = LB_MEM_FIRST_TOUCH;
		snprintf(m->name, sizeof(m->name), "first-touch");
		return 0;
	}
	snprintf(m->name, sizeof(m->name), "%s", spec);
	if (strcmp(spec, "local") == 0) {
		m->kind = LB_MEM_LOCAL;
		return 0;
	}
	if (strcmp(spec, "interleave") == 0) {
		m->kind = LB_MEM_INTERLEAVE;
		return 0;
	}
	if (strncmp(spec, "node:", 5) == 0) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(spec + 5, &end, 10);
		if (spec[5] >= '0' && spec[5] <= '9' && !*end && !errno && n < m->nnodes &&
		    hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)n)) {
			m->kind = LB_MEM_NODE;
			m->node = (unsigned)n;
			return 0;
		}
		if (m->nnodes == 1)
			snprintf(err, errlen, "--mem: '%s': no such NUMA node; valid: node:0 (one "
				 "NUMA node here)", spec);
		else
			snprintf(err, errlen, "--mem: '%s': no such NUMA node; valid: node:0 to "
				 "node:%u (%u NUMA nodes here)", spec, m->nnodes - 1, m->nnodes);
		return 2;
	}
	snprintf(err, errlen, "--mem: '%s' is not a memory placement; valid: local, node:N, "
		 "interleave", spec);
	return 2;
}

void lb_mem_track_begin(void)
{
	nranges = overflow = 0;
	lb_shared_alloc_hook = note;
}

void lb_mem_track_cancel(void)
{
	lb_shared_alloc_hook = NULL;
	nranges = overflow = 0;
}

/* The node set a placement asks for; NULL for first-touch. */
static hwloc_nodeset_t wanted(const struct lb_mem *m, int cpu0)
{
	hwloc_topology_t t = lb_topo_handle();
	hwloc_nodeset_t ns = hwloc_bitmap_alloc();
	if (!ns)
		return NULL;
	switch (m->kind) {
	case LB_MEM_LOCAL: {
		int cpu = cpu0 >= 0 ? cpu0 : sched_getcpu();
		hwloc_obj_t pu = cpu >= 0 ? hwloc_get_pu_obj_by_os_index(t, (unsigned)cpu) : NULL;
		if (pu)
			hwloc_bitmap_copy(ns, pu->nodeset);
		else
			hwloc_bitmap_copy(ns, hwloc_topology_get_topology_nodeset(t));
		break;
	}
	case LB_MEM_NODE:
		hwloc_bitmap_copy(ns, hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, m->node)->nodeset);
		break;
	case LB_MEM_INTERLEAVE:
		hwloc_bitmap_copy(ns, hwloc_topology_get_topology_nodeset(t));
		break;
	default:
		hwloc_bitmap_free(ns);
		return NULL;
	}
	return ns;
}

int lb_mem_place(const struct lb_mem *m, int cpu0, char *nodes, size_t len, char *err,
		 size_t errlen)
{
	hwloc_topology_t t = lb_topo_handle();
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;
	hwloc_nodeset_t ns = wanted(m, cpu0);
	hwloc_nodeset_t where = hwloc_bitmap_alloc();
	int ret = 0;

	lb_shared_alloc_hook = NULL;
	nodes[0] = '\0';
	if (!where || (m->kind != LB_MEM_FIRST_TOUCH && !ns)) {
		snprintf(err, errlen, "out of memory");
		ret = ENOMEM;
		goto out;
	}
	if (overflow) {
		snprintf(err, errlen, "out of memory listing the shared objects to place");
		ret = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nranges; i++) {
		uintptr_t a = (uintptr_t)ranges[i].p & ~(uintptr_t)(page - 1);
		uintptr_t b = ((uintptr_t)ranges[i].p + ranges[i].size + page - 1) &
			      ~(uintptr_t)(page - 1);
		errno = 0;
		if (ns && hwloc_set_area_membind(t, (void *)a, b - a, ns,
						 m->kind == LB_MEM_INTERLEAVE ? HWLOC_MEMBIND_INTERLEAVE
									       : HWLOC_MEMBIND_BIND,
						 HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_MIGRATE) != 0) {
			ret = errno ? errno : EINVAL;
			snprintf(err, errlen, "--mem %s: binding %zu bytes failed: %s", m->name,
				 (size_t)(b - a), strerror(ret));
			goto out;
		}
		hwloc_nodeset_t one = hwloc_bitmap_alloc();
		if (one && hwloc_get_area_memlocation(t, ranges[i].p, ranges[i].size, one,
						      HWLOC_MEMBIND_BYNODESET) == 0)
			hwloc_bitmap_or(where, where, one);
		hwloc_bitmap_free(one);
	}
	/* Logical node indexes, ';'-separated (a CSV cell); empty where the
	 * kernel would not say. */
	for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, o));) {
		if (!hwloc_bitmap_isset(where, o->os_index))
			continue;
		size_t l = strlen(nodes);
		snprintf(nodes + l, len - l, "%s%u", l ? ";" : "", o->logical_index);
	}
out:
	hwloc_bitmap_free(ns);
	hwloc_bitmap_free(where);
	nranges = 0;
	return ret;
}
