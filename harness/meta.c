/* meta.json: everything needed to interpret and reproduce a run. */
#include <errno.h>
#include <limits.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <hwloc.h>
#include <jansson.h>

#include "files.h"
#include "lb_config.h"
#include "lb_vcs.h"
#include "lockbench.h"

/* First line of a small sysfs/procfs file, or NULL. */
static json_t *file_line(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return json_null();
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return json_null();
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return json_string(buf);
}

static const char *diag_kind_name(enum lb_diag_kind k)
{
	static const char *const names[] = {
		[LB_DIAG_NONE] = "none", [LB_DIAG_STALL] = "stall",
		[LB_DIAG_DEADLOCK] = "deadlock", [LB_DIAG_LIVELOCK] = "livelock",
		[LB_DIAG_CHECK] = "check-failed", [LB_DIAG_INTERRUPTED] = "interrupted",
		[LB_DIAG_ERROR] = "error", [LB_DIAG_WRITE] = "write-error",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static json_t *diagnosis(const struct lb_meta_in *m)
{
	const struct lb_diag *d = m->diag;
	if (!d || d->kind == LB_DIAG_NONE)
		return json_null();
	json_t *o = json_pack("{s:s, s:s}", "kind", diag_kind_name(d->kind), "summary",
			      d->summary);
	json_object_set_new(o, "detail", d->detail ? json_string(d->detail) : json_null());
	if (d->nthreads) {
		json_t *th = json_array();
		for (unsigned i = 0; i < d->nthreads; i++)
			json_array_append_new(th, json_pack("{s:i, s:i, s:s, s:I, s:I}",
				"tid", (int)d->threads[i].tid, "cpu", d->threads[i].cpu,
				"state", d->threads[i].state, "ops", (json_int_t)d->threads[i].ops,
				"attempts", (json_int_t)d->threads[i].attempts));
		json_object_set_new(o, "threads", th);
	}
	if (m->nfailures) {
		json_t *fa = json_array();
		for (size_t i = 0; i < m->nfailures; i++)
			json_array_append_new(fa, json_pack("{s:s, s:i, s:i, s:s, s:s}",
				"impl", m->failures[i].impl, "threads", (int)m->failures[i].threads,
				"rep", (int)m->failures[i].rep, "setting", m->failures[i].setting,
				"message", m->failures[i].msg));
		json_object_set_new(o, "failures", fa);
	}
	return o;
}

static json_t *string_list(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *lb_meta_object(const struct lb_meta_in *m)
{
	const struct lb_topo_info *t = lb_topo();
	struct utsname u;
	json_t *root = json_object();

	uname(&u);
	json_object_set_new(root, "suite", json_pack("{s:s, s:s, s:s}", "name", "lockbench",
		"version", LB_VERSION, "git_revision", LB_GIT_REV));
	json_object_set_new(root, "run_id", json_string(m->run_id));
	json_object_set_new(root, "host", json_string(m->host));
	json_object_set_new(root, "command_line", json_string(m->command_line));
	json_object_set_new(root, "started_unix", json_real(m->started_unix));
	json_object_set_new(root, "finished_unix", json_real(m->finished_unix));
	json_object_set_new(root, "status", json_string(
		!m->finished ? "running" : m->stalled ? "stalled" : m->interrupted ? "interrupted" :
		m->failed ? "check-failed" : "ok"));
	json_object_set_new(root, "rows", json_integer((json_int_t)m->rows));
	json_object_set_new(root, "files", string_list(m->files));
	json_object_set_new(root, "extra_columns", string_list(m->extra_cols));
	json_object_set_new(root, "noise", m->noise ? json_string(m->noise) : json_null());
	json_object_set_new(root, "diagnosis", diagnosis(m));
	/* What each event counter column rests on: "ok", or why it is empty. */
	json_t *ctr = json_object();
	for (int ev = 0; ev < LB_NEV; ev++)
		json_object_set_new(ctr, lb_counter_name(ev), json_string(lb_counter_status(ev)));
	json_object_set_new(root, "counters", ctr);

	json_t *opt = json_object();
	json_object_set_new(opt, "workload", json_string(m->workload));
	json_object_set_new(opt, "impl", json_string(m->impls));
	json_object_set_new(opt, "threads", json_string(m->threads));
	json_object_set_new(opt, "pin", json_string(m->pin));
	json_object_set_new(opt, "mem", json_string(m->mem ? m->mem : "first-touch"));
	json_object_set_new(opt, "duration_s", json_real(m->duration_s));
	json_object_set_new(opt, "warmup_s", json_real(m->warmup_s));
	json_object_set_new(opt, "repeat", json_integer(m->repeat));
	json_object_set_new(opt, "cs_ns", json_integer((json_int_t)m->cs_ns));
	json_object_set_new(opt, "think_ns", json_integer((json_int_t)m->think_ns));
	json_object_set_new(opt, "param", json_string(m->params));
	json_object_set_new(opt, "sweep", m->sweep && m->sweep[0] ? json_string(m->sweep)
							       : json_null());
	json_object_set_new(opt, "seed", json_integer((json_int_t)m->seed));
	json_object_set_new(opt, "watchdog_s", json_real(m->watchdog_s));
	json_object_set_new(opt, "format", json_string(m->format));
	json_object_set_new(root, "options", opt);

	json_t *plat = json_object();
	json_object_set_new(plat, "cpu_model", json_string(t->cpu_model));
	json_object_set_new(plat, "topology", json_string(t->summary));
	/* Each PU's place in the tree: what the fingerprint's heat map draws
	 * its boundaries from, and what a reader of cpus needs. */
	json_t *map = json_array();
	struct lb_pu_place pl;
	for (unsigned i = 0; lb_topo_pu_place(i, &pl) == 0; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "cpu", json_integer(pl.cpu));
		json_object_set_new(e, "package", json_integer(pl.package));
		json_object_set_new(e, "node", json_integer(pl.node));
		json_object_set_new(e, "llc", json_integer(pl.llc));
		json_object_set_new(e, "core", json_integer(pl.core));
		json_object_set_new(e, "cluster", json_integer(lb_topo_cluster_of(pl.cpu)));
		json_array_append_new(map, e);
	}
	json_object_set_new(plat, "pu_map", map);
	json_object_set_new(plat, "restricted_to", t->restriction[0] ? json_string(t->restriction)
								      : json_null());
	json_object_set_new(plat, "pus", json_integer(t->pus));
	json_object_set_new(plat, "cores", json_integer(t->cores));
	json_object_set_new(plat, "packages", json_integer(t->packages));
	json_object_set_new(plat, "numa_nodes", json_integer(t->numa_nodes));
	json_object_set_new(plat, "lock_clusters",
			    json_pack("{s:s, s:I}", "level", lb_topo_clusters_level(),
				      "count", (json_int_t)lb_topo_nclusters()));
	json_object_set_new(plat, "smt", json_integer(t->smt));
	json_object_set_new(plat, "caches_bytes", json_pack("{s:I, s:I, s:I}",
		"l1d", (json_int_t)t->cache_bytes[0], "l2", (json_int_t)t->cache_bytes[1],
		"l3", (json_int_t)t->cache_bytes[2]));
	json_object_set_new(plat, "kernel", json_sprintf("%s %s %s", u.sysname, u.release,
							 u.machine));
	json_object_set_new(plat, "glibc", json_string(gnu_get_libc_version()));
	json_object_set_new(plat, "governor",
		file_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"));
	json_object_set_new(plat, "boost", file_line("/sys/devices/system/cpu/cpufreq/boost"));
	json_object_set_new(plat, "compiler", json_string(LB_CC_ID));
	json_object_set_new(plat, "compiler_version", json_string(__VERSION__));
	json_object_set_new(plat, "buildtype", json_string(LB_BUILDTYPE));
	json_object_set_new(plat, "sanitize", json_string(LB_SANITIZE));
	json_object_set_new(plat, "c_args", json_string(LB_C_ARGS));
	json_object_set_new(plat, "libraries", json_pack("{s:s, s:s, s:s, s:s}",
		"hwloc", LB_HWLOC_VERSION, "ck", LB_CK_VERSION, "liburcu", LB_URCU_VERSION,
		"jansson", LB_JANSSON_VERSION));
	json_object_set_new(root, "platform", plat);

	json_object_set_new(root, "calibration", json_pack(
		"{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I}",
		"timer", lb_timer.source,
		"tick_hz", lb_timer.tick_hz,
		"timer_cost_ns", lb_timer.cost_ns,
		"latency_floor_ns", lb_timer.sample_floor_ns,
		"clock_gettime_cost_ns", lb_timer.clock_gettime_ns,
		"busy_ns_per_iter", lb_timer.busy_ns_per_iter,
		"sample_timer_ns_per_op", 2 * lb_timer.cost_ns / (double)m->sample_period,
		"latency_sample_period_ops", (json_int_t)m->sample_period,
		"cs_iters", (json_int_t)m->cs_iters,
		"think_iters", (json_int_t)m->think_iters));
	return root;
}

int lb_meta_write(const char *dir, const struct lb_meta_in *m)
{
	json_t *root = lb_meta_object(m);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/meta.json", dir);
		return lb_write_failed(path, ENOMEM);
	}
	size_t len = strlen(text);
	text[len] = '\0';
	char *withnl = realloc(text, len + 2);
	if (withnl) {
		text = withnl;
		text[len++] = '\n';
		text[len] = '\0';
	}
	int ret = lb_write_atomic(dir, "meta.json", text, len);
	free(text);
	return ret;
}
