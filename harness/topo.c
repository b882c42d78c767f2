/* hwloc: what the machine looks like, and where each pin policy puts
 * thread i.  Policies produce an ordered list of PUs (OS indexes); thread i
 * runs on list[i % n], so more threads than PUs wrap round. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

#include "lockbench.h"

static hwloc_topology_t topo;
static struct lb_topo_info info;

static void fill_info(void)
{
	info.pus = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	info.cores = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	info.packages = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
	info.numa_nodes = (unsigned)hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
	if (info.cores == 0)
		info.cores = info.pus;
	info.smt = 1;
	for (unsigned i = 0; i < info.cores; i++) {
		hwloc_obj_t c = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, i);
		if (c && (unsigned)hwloc_bitmap_weight(c->cpuset) > info.smt)
			info.smt = (unsigned)hwloc_bitmap_weight(c->cpuset);
	}

	const char *model = NULL;
	hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
	if (pkg)
		model = hwloc_obj_get_info_by_name(pkg, "CPUModel");
	if (!model)
		model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
	snprintf(info.cpu_model, sizeof(info.cpu_model), "%s", model ? model : "unknown");
	/* Keep it one clean cell: no separators, quotes or control characters,
	 * and none of the blanks some CPUs pad their brand string with. */
	for (char *p = info.cpu_model; *p; p++)
		if (*p == ',' || *p == '"' || (unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	size_t ml = strlen(info.cpu_model);
	while (ml > 0 && info.cpu_model[ml - 1] == ' ')
		info.cpu_model[--ml] = '\0';
	if (ml == 0)
		snprintf(info.cpu_model, sizeof(info.cpu_model), "unknown");

	static const hwloc_obj_type_t ct[4] = {
		HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE, HWLOC_OBJ_L4CACHE,
	};
	for (int i = 0; i < 4; i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(topo, ct[i], 0);
		info.cache_bytes[i] = o && o->attr ? o->attr->cache.size : 0;
	}
	snprintf(info.summary, sizeof(info.summary),
		 "%u package(s), %u NUMA node(s), %u core(s), %u PU(s), SMT %u",
		 info.packages, info.numa_nodes, info.cores, info.pus, info.smt);
}

/* Restrict the topology to the CPUs this process may run on: its inherited
 * affinity (taskset, numactl) on top of the cgroup cpuset hwloc already
 * honours.  Otherwise a policy would pin threads to CPUs the process was
 * told not to use, or a run would count PUs it cannot have. */
static int restrict_to_affinity(void)
{
	hwloc_bitmap_t bound = hwloc_bitmap_alloc();
	hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(topo);
	int ret = 0;

	if (!bound)
		return ENOMEM;
	if (hwloc_get_cpubind(topo, bound, HWLOC_CPUBIND_THREAD) != 0 ||
	    hwloc_bitmap_iszero(bound) || !hwloc_bitmap_intersects(bound, all)) {
		hwloc_bitmap_free(bound);
		return 0; /* binding unknown: use what hwloc sees */
	}
	hwloc_bitmap_and(bound, bound, all);
	if (!hwloc_bitmap_isequal(bound, all)) {
		char *had = NULL, *now = NULL;
		hwloc_bitmap_list_asprintf(&had, all);
		hwloc_bitmap_list_asprintf(&now, bound);
		snprintf(info.restriction, sizeof(info.restriction),
			 "CPUs %s of %s (the inherited CPU affinity)", now ? now : "?",
			 had ? had : "?");
		free(had);
		free(now);
		if (hwloc_topology_restrict(topo, bound, 0) != 0)
			ret = errno ? errno : EINVAL;
	}
	hwloc_bitmap_free(bound);
	return ret;
}

int lb_topo_init(void)
{
	int ret;
	if (topo)
		return 0;
	if ((ret = hwloc_topology_init(&topo)) != 0)
		return errno ? errno : EINVAL;
	if ((ret = hwloc_topology_load(topo)) != 0 || (ret = restrict_to_affinity()) != 0) {
		ret = ret > 0 ? ret : errno ? errno : EINVAL;
		hwloc_topology_destroy(topo);
		topo = NULL;
		return ret;
	}
	fill_info();
	return 0;
}

void lb_topo_fini(void)
{
	if (topo)
		hwloc_topology_destroy(topo);
	topo = NULL;
}

const struct lb_topo_info *lb_topo(void)
{
	return &info;
}

unsigned lb_topo_pus(int *out, unsigned max)
{
	unsigned n = 0;
	hwloc_obj_t pu = NULL;
	while ((pu = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_PU, pu)) && n < max)
		out[n++] = (int)pu->os_index;
	return n;
}

/* Sort keys.  scatter: the PU's path of sibling ranks from the root,
 * compared leaf-first, so consecutive threads differ at the highest level
 * first (package, then core, SMT sibling last).  cores: (rank of the PU in
 * its core, core's logical index). */
#define MAXDEPTH 32
struct pukey {
	int os;
	unsigned logical;
	unsigned depth;
	unsigned path[MAXDEPTH]; /* leaf first */
	unsigned smt_rank, core_idx;
};

static int cmp_scatter(const void *a, const void *b)
{
	const struct pukey *x = a, *y = b;
	unsigned d = x->depth > y->depth ? x->depth : y->depth;
	for (unsigned i = 0; i < d; i++) {
		unsigned px = i < x->depth ? x->path[i] : 0;
		unsigned py = i < y->depth ? y->path[i] : 0;
		if (px != py)
			return px < py ? -1 : 1;
	}
	return (x->logical > y->logical) - (x->logical < y->logical);
}

static int cmp_cores(const void *a, const void *b)
{
	const struct pukey *x = a, *y = b;
	if (x->smt_rank != y->smt_rank)
		return x->smt_rank < y->smt_rank ? -1 : 1;
	if (x->core_idx != y->core_idx)
		return x->core_idx < y->core_idx ? -1 : 1;
	return (x->logical > y->logical) - (x->logical < y->logical);
}

static int policy_order(enum lb_pin_kind kind, int *out)
{
	unsigned n = info.pus;
	struct pukey *k = calloc(n ? n : 1, sizeof(*k));
	if (!k)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);
		k[i].os = (int)pu->os_index;
		k[i].logical = pu->logical_index;
		for (hwloc_obj_t o = pu; o && o->parent && k[i].depth < MAXDEPTH; o = o->parent)
			k[i].path[k[i].depth++] = o->sibling_rank;
		hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
		k[i].core_idx = core ? core->logical_index : pu->logical_index;
		k[i].smt_rank = core ? pu->sibling_rank : 0;
		if (core && pu->parent != core) {
			/* PU not a direct child of its core: rank among the core's PUs */
			unsigned r = 0;
			for (hwloc_obj_t p = hwloc_get_next_obj_inside_cpuset_by_type(topo,
				core->cpuset, HWLOC_OBJ_PU, NULL); p && p != pu;
			     p = hwloc_get_next_obj_inside_cpuset_by_type(topo, core->cpuset,
				HWLOC_OBJ_PU, p))
				r++;
			k[i].smt_rank = r;
		}
	}
	if (kind == LB_PIN_SCATTER)
		qsort(k, n, sizeof(*k), cmp_scatter);
	else if (kind == LB_PIN_CORES)
		qsort(k, n, sizeof(*k), cmp_cores);
	for (unsigned i = 0; i < n; i++)
		out[i] = k[i].os;
	free(k);
	return (int)n;
}

static void valid_cpus_text(char *buf, size_t len)
{
	char *s = NULL;
	hwloc_const_cpuset_t set = hwloc_topology_get_topology_cpuset(topo);
	if (hwloc_bitmap_list_asprintf(&s, set) < 0 || !s) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s", s);
	free(s);
}

int lb_pin_resolve(const char *spec, struct lb_pin *pin, char *err, size_t errlen)
{
	static const struct { const char *name; enum lb_pin_kind kind; } pol[] = {
		{ "compact", LB_PIN_COMPACT }, { "scatter", LB_PIN_SCATTER },
		{ "cores", LB_PIN_CORES }, { "none", LB_PIN_NONE },
	};
	char valid[256];

	memset(pin, 0, sizeof(*pin));
	snprintf(pin->name, sizeof(pin->name), "%s", spec);
	for (size_t i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		if (strcmp(spec, pol[i].name) != 0)
			continue;
		pin->kind = pol[i].kind;
		if (pin->kind == LB_PIN_NONE)
			return 0;
		pin->cpus = calloc(info.pus ? info.pus : 1, sizeof(int));
		if (!pin->cpus)
			return 1;
		int n = policy_order(pin->kind, pin->cpus);
		if (n <= 0)
			return 1;
		pin->ncpus = (unsigned)n;
		return 0;
	}

	valid_cpus_text(valid, sizeof(valid));
	pin->kind = LB_PIN_LIST;
	pin->cpus = calloc(LB_MAX_THREADS, sizeof(int));
	if (!pin->cpus)
		return 1;
	char perr[256];
	int n = lb_parse_cpulist(spec, pin->cpus, LB_MAX_THREADS, perr, sizeof(perr));
	if (n < 0) {
		snprintf(err, errlen, "--pin: '%s' is neither a policy nor a CPU list (%s); "
			 "valid: compact, scatter, cores, none, or CPUs from %s", spec, perr, valid);
		lb_pin_free(pin);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		if (!hwloc_get_pu_obj_by_os_index(topo, (unsigned)pin->cpus[i])) {
			snprintf(err, errlen, "--pin: CPU %d in '%s' is not available here; "
				 "valid CPUs: %s", pin->cpus[i], spec, valid);
			lb_pin_free(pin);
			return 2;
		}
	}
	pin->ncpus = (unsigned)n;
	return 0;
}

void lb_pin_free(struct lb_pin *pin)
{
	free(pin->cpus);
	pin->cpus = NULL;
	pin->ncpus = 0;
}

int lb_pin_self(int cpu)
{
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	int ret = 0;
	if (!set)
		return ENOMEM;
	hwloc_bitmap_only(set, (unsigned)cpu);
	if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD) != 0)
		ret = errno ? errno : EINVAL;
	hwloc_bitmap_free(set);
	return ret;
}

unsigned lb_topo_nclusters(void)
{
	return info.packages ? info.packages : 1;
}

unsigned lb_topo_cluster_of(int cpu)
{
	if (cpu < 0)
		return 0;
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)cpu);
	hwloc_obj_t pkg = pu ? hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu) : NULL;
	return pkg ? pkg->logical_index : 0;
}

static void print_list(FILE *f, const int *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", c[i]);
}

void lb_topo_print(FILE *f)
{
	static const char *const lname[4] = { "L1d", "L2", "L3", "L4" };
	fprintf(f, "machine:   %s\n", info.summary);
	if (info.restriction[0])
		fprintf(f, "restricted to %s\n", info.restriction);
	fprintf(f, "cpu model: %s\n", info.cpu_model);
	fprintf(f, "caches:   ");
	for (int i = 0; i < 4; i++)
		if (info.cache_bytes[i])
			fprintf(f, " %s %llu KiB", lname[i],
				(unsigned long long)(info.cache_bytes[i] / 1024));
	fprintf(f, " (per instance)\n\nPUs (OS index: package/core):\n");
	for (unsigned i = 0; i < info.pus; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);
		hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
		hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
		fprintf(f, "  cpu %u: package %d core %d\n", pu->os_index,
			pkg ? (int)pkg->logical_index : -1, core ? (int)core->logical_index : -1);
	}
	fprintf(f, "\npin policies (thread i runs on entry i mod n):\n");
	static const char *const names[] = { "compact", "scatter", "cores" };
	for (int p = 0; p < 3; p++) {
		struct lb_pin pin;
		char err[256];
		if (lb_pin_resolve(names[p], &pin, err, sizeof(err)) == 0) {
			fprintf(f, "  %-8s ", names[p]);
			print_list(f, pin.cpus, pin.ncpus);
			fputc('\n', f);
			lb_pin_free(&pin);
		}
	}
	char valid[256];
	valid_cpus_text(valid, sizeof(valid));
	fprintf(f, "  %-8s unpinned: the scheduler places threads on %s\n", "none", valid);
	fprintf(f, "  %-8s an explicit OS CPU list such as 0,2,4-7, used in the order given\n",
		"LIST");
}
