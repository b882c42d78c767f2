/* hwloc: what the machine looks like, and where each pin policy puts
 * thread i.  Policies produce an ordered list of PUs (OS indexes); thread i
 * runs on list[i % n], so more threads than PUs wrap round.
 *
 * The policies, over hwloc's logical order (which follows the tree:
 * package, NUMA node, L3, core, PU), whatever the OS numbering:
 *   compact      logical order: SMT siblings, then cores, then the next
 *                L3, node and package;
 *   scatter      consecutive threads differ at the highest level first:
 *                packages, then the levels below them, SMT siblings last;
 *   cores        one PU of each core in logical order, then the cores'
 *                second PUs, and so on;
 *   llc-compact  fill one LLC domain before the next: its cores first,
 *                then their SMT siblings (cores order inside the domain);
 *   llc-scatter  deal threads round the LLC domains: thread i goes to
 *                domain i mod D, taking that domain's PUs in llc-compact
 *                order (a domain that runs out drops out of the round);
 *   llc:N, package:N, node:N
 *                only the PUs of L3 domain N, package N or NUMA node N
 *                (logical indexes), in cores order; llc:N needs an L3
 *                that hwloc sees (without one, package:N is the domain).
 * An LLC domain is the PUs below one L3 cache; where hwloc sees no L3,
 * each package is one (and a machine without packages is one).
 *
 * The topology is this machine's, restricted to the CPUs the process may
 * use, or with --topology-from a synthetic description or an XML file:
 * then it is only printed (--topology), never run on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* --topology-from (argv outlives the topology), or NULL for this machine */
static const char *from_src;
static int from_is_file;

int lb_topo_init_from(const char *src, char *err, size_t errlen)
{
	struct stat st;
	int is_file = stat(src, &st) == 0 && S_ISREG(st.st_mode);
	size_t n = strlen(src);

	if (topo)
		lb_topo_fini();
	if (hwloc_topology_init(&topo) != 0) {
		snprintf(err, errlen, "hwloc could not start: %s", strerror(errno));
		topo = NULL;
		return 1;
	}
	if (!is_file && n > 4 && strcmp(src + n - 4, ".xml") == 0) {
		snprintf(err, errlen, "--topology-from: '%s': no such XML file", src);
		hwloc_topology_destroy(topo);
		topo = NULL;
		return 2;
	}
	if ((is_file ? hwloc_topology_set_xml(topo, src)
		     : hwloc_topology_set_synthetic(topo, src)) != 0 ||
	    hwloc_topology_load(topo) != 0) {
		if (is_file)
			snprintf(err, errlen, "--topology-from: '%s' is not an hwloc XML topology "
				 "(write one with lstopo FILE.xml or hwloc_topology_export_xml)", src);
		else
			snprintf(err, errlen, "--topology-from: '%s' is neither an XML file nor an "
				 "hwloc synthetic description; valid: a file, or levels and their "
				 "arities such as 'pack:2 numa:2 l3:1 core:16 pu:2'", src);
		hwloc_topology_destroy(topo);
		topo = NULL;
		return 2;
	}
	from_src = src;
	from_is_file = is_file;
	fill_info();
	return 0;
}

int lb_topo_init(void)
{
	int ret;
	if (topo)
		return 0;
	if ((ret = hwloc_topology_init(&topo)) != 0)
		return errno ? errno : EINVAL;
	/* The x86 backend binds the process to each PU in turn to run CPUID
	 * there: a hypervisor exit each in a VM, minutes on a loaded machine,
	 * and it moves the calling thread around.  Linux's sysfs gives the
	 * same topology, caches and CPU model without it. */
	hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "x86");
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
	from_src = NULL;
	memset(&info, 0, sizeof(info));
}

const struct lb_topo_info *lb_topo(void)
{
	return &info;
}

struct hwloc_topology *lb_topo_handle(void)
{
	return topo;
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
	unsigned llc_idx, llc_rank; /* LLC domain; rank in it, llc-compact order */
};

/* The LLC domain of a PU: its L3, else its package, else the machine. */
static hwloc_obj_t llc_of(hwloc_obj_t pu)
{
	hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_L3CACHE, pu);
	if (!o)
		o = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
	return o ? o : hwloc_get_root_obj(topo);
}

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

static int cmp_llc_compact(const void *a, const void *b)
{
	const struct pukey *x = a, *y = b;
	if (x->llc_idx != y->llc_idx)
		return x->llc_idx < y->llc_idx ? -1 : 1;
	return cmp_cores(a, b);
}

static int cmp_llc_scatter(const void *a, const void *b)
{
	const struct pukey *x = a, *y = b;
	if (x->llc_rank != y->llc_rank)
		return x->llc_rank < y->llc_rank ? -1 : 1;
	return (x->llc_idx > y->llc_idx) - (x->llc_idx < y->llc_idx);
}

/* The PUs of a policy, in its order, as OS indexes into out (room for
 * info.pus); within (a cpuset, or NULL for all) keeps only those PUs.
 * Returns how many, or -1 when out of memory. */
static int policy_order(enum lb_pin_kind kind, hwloc_const_cpuset_t within, int *out)
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
		k[i].llc_idx = llc_of(pu)->logical_index;
	}
	if (within) {
		unsigned m = 0;
		for (unsigned i = 0; i < n; i++)
			if (hwloc_bitmap_isset(within, (unsigned)k[i].os))
				k[m++] = k[i];
		n = m;
	}
	switch (kind) {
	case LB_PIN_SCATTER:
		qsort(k, n, sizeof(*k), cmp_scatter);
		break;
	case LB_PIN_CORES:
	case LB_PIN_DOMAIN:
		qsort(k, n, sizeof(*k), cmp_cores);
		break;
	case LB_PIN_LLC_COMPACT:
	case LB_PIN_LLC_SCATTER:
		qsort(k, n, sizeof(*k), cmp_llc_compact);
		for (unsigned i = 0; i < n; i++)
			k[i].llc_rank = i > 0 && k[i - 1].llc_idx == k[i].llc_idx
						? k[i - 1].llc_rank + 1 : 0;
		if (kind == LB_PIN_LLC_SCATTER)
			qsort(k, n, sizeof(*k), cmp_llc_scatter);
		break;
	default:
		break;
	}
	for (unsigned i = 0; i < n; i++)
		out[i] = k[i].os;
	free(k);
	return (int)n;
}

/* "llc:N", "package:N", "node:N": the domain's cpuset, or NULL with a
 * message when the type or the index is not there. */
static hwloc_const_cpuset_t domain_cpuset(const char *spec, char *err, size_t errlen)
{
	static const struct { const char *name; hwloc_obj_type_t type; const char *what; } dom[] = {
		{ "llc", HWLOC_OBJ_L3CACHE, "L3 domain" },
		{ "package", HWLOC_OBJ_PACKAGE, "package" },
		{ "node", HWLOC_OBJ_NUMANODE, "NUMA node" },
	};
	const char *colon = strchr(spec, ':');
	for (size_t i = 0; colon && i < sizeof(dom) / sizeof(dom[0]); i++) {
		if (strlen(dom[i].name) != (size_t)(colon - spec) ||
		    strncmp(spec, dom[i].name, (size_t)(colon - spec)) != 0)
			continue;
		int nobj = hwloc_get_nbobjs_by_type(topo, dom[i].type);
		char *end;
		errno = 0;
		unsigned long idx = strtoul(colon + 1, &end, 10);
		if (colon[1] < '0' || colon[1] > '9' || *end || errno || nobj <= 0 ||
		    idx >= (unsigned long)nobj) {
			if (nobj <= 0)
				snprintf(err, errlen, "--pin: '%s': hwloc sees no %s here; valid: "
					 "compact, scatter, cores, llc-compact, llc-scatter, none, "
					 "package:N, node:N, a CPU list (see --topology)", spec,
					 dom[i].what);
			else
				snprintf(err, errlen, "--pin: '%s': no such %s; valid: %s:0 to %s:%d",
					 spec, dom[i].what, dom[i].name, dom[i].name, nobj - 1);
			return NULL;
		}
		return hwloc_get_obj_by_type(topo, dom[i].type, (unsigned)idx)->cpuset;
	}
	return NULL;
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
		{ "cores", LB_PIN_CORES }, { "llc-compact", LB_PIN_LLC_COMPACT },
		{ "llc-scatter", LB_PIN_LLC_SCATTER }, { "none", LB_PIN_NONE },
	};
	char valid[256];
	hwloc_const_cpuset_t within = NULL;

	memset(pin, 0, sizeof(*pin));
	snprintf(pin->name, sizeof(pin->name), "%s", spec);
	if (errlen)
		err[0] = '\0';
	if (strchr(spec, ':')) {
		if (!(within = domain_cpuset(spec, err, errlen))) {
			if (!*err)
				snprintf(err, errlen, "--pin: '%s' is not a policy; valid: compact, "
					 "scatter, cores, llc-compact, llc-scatter, none, llc:N, "
					 "package:N, node:N, or a CPU list", spec);
			return 2;
		}
		pin->kind = LB_PIN_DOMAIN;
	}
	for (size_t i = 0; !within && i < sizeof(pol) / sizeof(pol[0]); i++)
		if (strcmp(spec, pol[i].name) == 0) {
			pin->kind = pol[i].kind;
			within = hwloc_topology_get_topology_cpuset(topo);
		}
	if (within) {
		if (pin->kind == LB_PIN_NONE)
			return 0;
		pin->cpus = calloc(info.pus ? info.pus : 1, sizeof(int));
		if (!pin->cpus)
			return 1;
		int n = policy_order(pin->kind, pin->kind == LB_PIN_DOMAIN ? within : NULL,
				     pin->cpus);
		if (n <= 0) {
			lb_pin_free(pin);
			if (n < 0)
				return 1;
			snprintf(err, errlen, "--pin: '%s' holds none of the CPUs this process "
				 "may use", spec);
			return 2;
		}
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
			 "valid: compact, scatter, cores, llc-compact, llc-scatter, none, llc:N, "
			 "package:N, node:N, or CPUs from %s", spec, perr, valid);
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
	for (unsigned g = 0; g < LB_MAX_GROUPS; g++) {
		free(pin->gcpus[g]);
		pin->gcpus[g] = NULL;
		pin->gncpus[g] = 0;
	}
	pin->wl = NULL;
}

static void groups_text(const struct lb_workload *wl, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned g = 0; wl->groups && wl->groups[g]; g++) {
		size_t l = strlen(buf);
		snprintf(buf + l, len - l, "%s%s", g ? ", " : "", wl->groups[g]);
	}
}

int lb_pin_add_group(struct lb_pin *pin, const struct lb_workload *wl, const char *spec,
		     char *err, size_t errlen)
{
	char valid[256];
	const char *eq = strchr(spec, '=');

	if (!wl->groups || !wl->group_of) {
		char with[512] = "";
		for (const struct lb_workload *const *w = lb_workloads; *w; w++) {
			if (!(*w)->groups)
				continue;
			char g[256];
			groups_text(*w, g, sizeof(g));
			size_t l = strlen(with);
			snprintf(with + l, sizeof(with) - l, "%s%s (%s)", l ? ", " : "", (*w)->name, g);
		}
		snprintf(err, errlen, "--pin-group '%s': %s has no thread groups (every thread does "
			 "the same); workloads with groups: %s", spec, wl->name, with);
		return 2;
	}
	groups_text(wl, valid, sizeof(valid));
	unsigned g = 0;
	for (; eq && wl->groups[g]; g++)
		if (strlen(wl->groups[g]) == (size_t)(eq - spec) &&
		    strncmp(spec, wl->groups[g], (size_t)(eq - spec)) == 0)
			break;
	if (!eq || !wl->groups[g] || g >= LB_MAX_GROUPS) {
		snprintf(err, errlen, "--pin-group: '%s' is not GROUP=POLICY with a thread group of "
			 "%s; valid groups: %s", spec, wl->name, valid);
		return 2;
	}
	if (pin->gcpus[g]) {
		snprintf(err, errlen, "--pin-group: group '%s' is given twice", wl->groups[g]);
		return 2;
	}
	struct lb_pin one;
	char perr[512];
	int ret = lb_pin_resolve(eq + 1, &one, perr, sizeof(perr));
	if (ret == 0 && one.kind == LB_PIN_NONE) {
		snprintf(err, errlen, "--pin-group: '%s': a group takes a policy or a CPU list, not "
			 "none (leave the group out to place it by --pin)", spec);
		return 2;
	}
	if (ret != 0) {
		/* lb_pin_resolve speaks of --pin: name the option given. */
		const char *msg = strncmp(perr, "--pin: ", 7) == 0 ? perr + 7 : perr;
		snprintf(err, errlen, "--pin-group '%s': %s", spec, msg);
		return ret;
	}
	pin->wl = wl;
	pin->gcpus[g] = one.cpus;
	pin->gncpus[g] = one.ncpus;
	size_t l = strlen(pin->name);
	snprintf(pin->name + l, sizeof(pin->name) - l, "/%s", spec);
	return 0;
}

int lb_pin_cpu(const struct lb_pin *pin, const uint64_t *param, unsigned tid,
	       unsigned nthreads)
{
	if (pin->wl) {
		unsigned g = pin->wl->group_of(param, tid, nthreads);
		if (g < LB_MAX_GROUPS && pin->gcpus[g]) {
			unsigned k = 0; /* the thread's rank in its group */
			for (unsigned t = 0; t < tid; t++)
				k += pin->wl->group_of(param, t, nthreads) == g;
			return pin->gcpus[g][k % pin->gncpus[g]];
		}
	}
	return pin->cpus ? pin->cpus[tid % pin->ncpus] : -1;
}

unsigned lb_pin_span(const struct lb_pin *pin, const uint64_t *param, unsigned nthreads,
		     unsigned nallowed)
{
	if (!pin->wl)
		return pin->cpus ? pin->ncpus : nallowed;
	/* With groups: the CPUs the threads are really given. */
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	if (!set)
		return nallowed;
	for (unsigned t = 0; t < nthreads; t++) {
		int cpu = lb_pin_cpu(pin, param, t, nthreads);
		if (cpu < 0) { /* one runs unpinned: it may use every PU */
			hwloc_bitmap_free(set);
			return nallowed;
		}
		hwloc_bitmap_set(set, (unsigned)cpu);
	}
	int w = hwloc_bitmap_weight(set);
	hwloc_bitmap_free(set);
	return w > 0 ? (unsigned)w : nallowed;
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

/* The lock clusters of the NUMA-aware locks (cohorts, CNA, HMCS, HCLH):
 * one per object of the --clusters level.  Their papers use the NUMA node
 * (the socket, on the machines they measured), so that is the default. */
static const struct {
	const char *name;
	hwloc_obj_type_t type;
} cluster_levels[] = {
	{ "node", HWLOC_OBJ_NUMANODE },
	{ "package", HWLOC_OBJ_PACKAGE },
	{ "llc", HWLOC_OBJ_L3CACHE },
};
static unsigned cluster_level;

int lb_topo_set_clusters(const char *level)
{
	for (unsigned i = 0; i < sizeof(cluster_levels) / sizeof(cluster_levels[0]); i++)
		if (strcmp(level, cluster_levels[i].name) == 0) {
			cluster_level = i;
			return 0;
		}
	return -1;
}

const char *lb_topo_clusters_level(void)
{
	return cluster_levels[cluster_level].name;
}

/* The cluster object of a PU, or NULL where the machine has no object of
 * that level (then everything is cluster 0).  An LLC domain is llc_of()'s:
 * the package where hwloc sees no L3. */
static hwloc_obj_t cluster_obj(hwloc_obj_t pu)
{
	switch (cluster_levels[cluster_level].type) {
	case HWLOC_OBJ_NUMANODE:
		return hwloc_get_next_obj_covering_cpuset_by_type(topo, pu->cpuset,
								  HWLOC_OBJ_NUMANODE, NULL);
	case HWLOC_OBJ_L3CACHE:
		return llc_of(pu);
	default:
		return hwloc_get_ancestor_obj_by_type(topo, cluster_levels[cluster_level].type, pu);
	}
}

unsigned lb_topo_nclusters(void)
{
	hwloc_obj_type_t type = cluster_levels[cluster_level].type;
	int n;
	if (type == HWLOC_OBJ_L3CACHE) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, 0);
		type = pu ? llc_of(pu)->type : type; /* L3, else package, else machine */
	}
	n = hwloc_get_nbobjs_by_type(topo, type);
	return n > 0 ? (unsigned)n : 1;
}

unsigned lb_topo_cluster_of(int cpu)
{
	if (cpu < 0)
		return 0;
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)cpu);
	hwloc_obj_t o = pu ? cluster_obj(pu) : NULL;
	return o && o->type != HWLOC_OBJ_MACHINE ? o->logical_index : 0;
}

static void print_list(FILE *f, const int *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", c[i]);
}

int lb_topo_pu_place(unsigned i, struct lb_pu_place *pl)
{
	hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);
	if (!pu)
		return -1;
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
	hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
	hwloc_obj_t node = hwloc_get_next_obj_covering_cpuset_by_type(topo, pu->cpuset,
								      HWLOC_OBJ_NUMANODE, NULL);
	pl->cpu = (int)pu->os_index;
	pl->package = pkg ? (int)pkg->logical_index : -1;
	pl->node = node ? (int)node->logical_index : -1;
	pl->llc = (int)llc_of(pu)->logical_index;
	pl->core = core ? (int)core->logical_index : -1;
	return 0;
}

void lb_topo_print(FILE *f)
{
	static const char *const lname[4] = { "L1d", "L2", "L3", "L4" };
	if (from_src)
		fprintf(f, "topology:  %s %s (not this machine)\n",
			from_is_file ? "XML file" : "synthetic", from_src);
	fprintf(f, "machine:   %s, %d LLC domain(s)\n", info.summary,
		hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_L3CACHE) > 0
			? hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_L3CACHE)
			: (int)(info.packages ? info.packages : 1));
	if (info.restriction[0])
		fprintf(f, "restricted to %s\n", info.restriction);
	fprintf(f, "cpu model: %s\n", info.cpu_model);
	fprintf(f, "caches:   ");
	for (int i = 0; i < 4; i++)
		if (info.cache_bytes[i])
			fprintf(f, " %s %llu KiB", lname[i],
				(unsigned long long)(info.cache_bytes[i] / 1024));
	fprintf(f, " (per instance)\n\nPUs (OS index: logical indexes of its package, "
		   "NUMA node, LLC domain, core):\n");
	for (unsigned i = 0; i < info.pus; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);
		hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
		hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
		hwloc_obj_t node = hwloc_get_next_obj_covering_cpuset_by_type(
			topo, pu->cpuset, HWLOC_OBJ_NUMANODE, NULL);
		fprintf(f, "  cpu %u: package %d node %d llc %u core %d\n", pu->os_index,
			pkg ? (int)pkg->logical_index : -1, node ? (int)node->logical_index : -1,
			llc_of(pu)->logical_index, core ? (int)core->logical_index : -1);
	}
	fprintf(f, "\nlock clusters (--clusters %s; the NUMA-aware locks' level): %u\n",
		lb_topo_clusters_level(), lb_topo_nclusters());
	for (unsigned c = 0, n = lb_topo_nclusters(); c < n; c++) {
		fprintf(f, "  cluster %u:", c);
		for (unsigned i = 0, k = 0; i < info.pus; i++) {
			hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);
			if (lb_topo_cluster_of((int)pu->os_index) == c)
				fprintf(f, "%s%u", k++ ? "," : " cpus ", pu->os_index);
		}
		fputc('\n', f);
	}
	fprintf(f, "\npin policies (thread i runs on entry i mod n):\n");
	static const char *const names[] = { "compact", "scatter", "cores", "llc-compact",
					     "llc-scatter" };
	for (size_t p = 0; p < sizeof(names) / sizeof(names[0]); p++) {
		struct lb_pin pin;
		char err[256];
		if (lb_pin_resolve(names[p], &pin, err, sizeof(err)) == 0) {
			fprintf(f, "  %-11s ", names[p]);
			print_list(f, pin.cpus, pin.ncpus);
			fputc('\n', f);
			lb_pin_free(&pin);
		}
	}
	static const struct { const char *name; hwloc_obj_type_t type; } dom[] = {
		{ "llc", HWLOC_OBJ_L3CACHE }, { "package", HWLOC_OBJ_PACKAGE },
		{ "node", HWLOC_OBJ_NUMANODE },
	};
	for (size_t d = 0; d < sizeof(dom) / sizeof(dom[0]); d++) {
		int nobj = hwloc_get_nbobjs_by_type(topo, dom[d].type);
		for (int i = 0; i < nobj; i++) {
			char spec[32], err[256];
			struct lb_pin pin;
			snprintf(spec, sizeof(spec), "%s:%d", dom[d].name, i);
			if (lb_pin_resolve(spec, &pin, err, sizeof(err)) == 0) {
				fprintf(f, "  %-11s ", spec);
				print_list(f, pin.cpus, pin.ncpus);
				fputc('\n', f);
				lb_pin_free(&pin);
			}
		}
	}
	char valid[256];
	valid_cpus_text(valid, sizeof(valid));
	fprintf(f, "  %-11s unpinned: the scheduler places threads on %s\n", "none", valid);
	fprintf(f, "  %-11s an explicit OS CPU list such as 0,2,4-7, used in the order given\n",
		"LIST");
}
