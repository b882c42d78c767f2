/* The plan (plan.h): options in, a checked list of configurations out.
 * Pure: no output, no exit, no topology (the PU count is an argument). */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

/* One line into err; returns -1 for `return fail(...)`. */
static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* " (did you mean X?)" for a typo of one of cands, else "". */
static const char *did_you_mean(const char *s, size_t len, const char *const *cands, size_t n,
				char *buf, size_t buflen)
{
	const char *near = lb_nearest(s, len, cands, n);
	buf[0] = '\0';
	if (near)
		snprintf(buf, buflen, " (did you mean %s?)", near);
	return buf;
}

static void append(char *buf, size_t len, const char *sep, const char *s)
{
	if (buf[0])
		strncat(buf, sep, len - strlen(buf) - 1);
	strncat(buf, s, len - strlen(buf) - 1);
}

/* ---- the workload ---- */

static int plan_workload(const char *name, const struct lb_workload **out, char *err,
			 size_t errlen)
{
	const char *cands[32];
	char names[512] = "", hint[128];
	size_t nc = 0;

	for (size_t i = 0; lb_workloads[i]; i++) {
		append(names, sizeof(names), ", ", lb_workloads[i]->name);
		if (nc < 32)
			cands[nc++] = lb_workloads[i]->name;
	}
	/* The machine's own measurement (main.c runs it before any plan). */
	append(names, sizeof(names), ", ", "fingerprint");
	if (nc < 32)
		cands[nc++] = "fingerprint";
	if (!name)
		return fail(err, errlen, "--workload is required; valid: %s (try ./bench "
			    "--workload counter)", names);
	*out = lb_workload_find(name);
	if (!*out)
		return fail(err, errlen, "--workload: unknown workload '%s'%s; valid: %s", name,
			    did_you_mean(name, strlen(name), cands, nc, hint, sizeof(hint)), names);
	return 0;
}

/* ---- --impl ---- */

/* What an item of --impl names.  Tried in this order: 'none' is both a
 * backend and a kind, with the same members. */
enum lb_selector { SEL_ALL, SEL_ID, SEL_BACKEND, SEL_KIND, SEL_GLOB, SEL_UNKNOWN };

static enum lb_selector selector_of(const char *tok, const struct lb_impl **one)
{
	*one = NULL;
	if (strcmp(tok, "all") == 0)
		return SEL_ALL;
	if ((*one = lb_impl_find(tok)) != NULL)
		return SEL_ID;
	if (lb_backend_known(tok))
		return SEL_BACKEND;
	if (lb_kind_find(tok) != LB_KIND_COUNT)
		return SEL_KIND;
	if (strpbrk(tok, "*?["))
		return SEL_GLOB;
	return SEL_UNKNOWN;
}

/* Whether the item chooses im.  Only an exact id chooses a hidden one. */
static int selects(enum lb_selector how, const char *tok, const struct lb_impl *one,
		   const struct lb_impl *im)
{
	if (how == SEL_ID)
		return im == one;
	if (im->caps & LB_CAP_HIDDEN)
		return 0;
	switch (how) {
	case SEL_ALL:
		return 1;
	case SEL_BACKEND:
		return strcmp(im->backend, tok) == 0;
	case SEL_KIND:
		return strcmp(lb_kind_name(lb_impl_kind(im)), tok) == 0;
	case SEL_GLOB:
		return fnmatch(tok, im->id, 0) == 0;
	default:
		return 0;
	}
}

/* The ids (or, with kinds, the kinds) the workload drives, as a list. */
static void valid_impls(const struct lb_workload *wl, int kinds, char *buf, size_t len)
{
	int seen[LB_KIND_COUNT] = { 0 };
	buf[0] = '\0';
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		enum lb_kind k = lb_impl_kind(im);
		if (!lb_workload_drives(wl, im) || (im->caps & LB_CAP_HIDDEN) || (kinds && seen[k]))
			continue;
		seen[k] = 1;
		append(buf, len, ", ", kinds ? lb_kind_name(k) : im->id);
	}
}

/* One item of --impl: 'all', an id, a backend, a kind or a glob over the
 * ids (fnmatch(3): 'ck-*', '*-mutex'); adds what it chooses among what the
 * workload drives to p->impls, in registry order, once each. */
static int plan_impl_item(const char *tok, const char *valid, struct lb_plan *p, char *err,
			  size_t errlen)
{
	const struct lb_workload *wl = p->wl;
	const struct lb_impl *one;
	enum lb_selector how = selector_of(tok, &one);
	char kinds[LB_PLAN_LIST_MAX];

	valid_impls(wl, 1, kinds, sizeof(kinds));
	if (how == SEL_UNKNOWN) {
		/* ids, backends, kinds and 'all': what a typo may have meant */
		const char *names[2 * LB_IMPL_COUNT + LB_KIND_COUNT + 1];
		size_t n = 0;
		char hint[128];
		for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
			int hidden = lb_impls[j].caps & LB_CAP_HIDDEN;
			names[n++] = hidden ? NULL : lb_impls[j].id;
			names[n++] = hidden ? NULL : lb_impls[j].backend;
		}
		for (int k = 0; k < LB_KIND_COUNT; k++)
			names[n++] = lb_kind_name((enum lb_kind)k);
		names[n++] = "all";
		return fail(err, errlen, "--impl: unknown implementation '%s'%s; valid for "
			    "%s: all, %s; backends: %s; kinds: %s; or a glob such as 'ck-*'", tok,
			    did_you_mean(tok, strlen(tok), names, n, hint, sizeof(hint)),
			    wl->name, valid, lb_backend_names(), kinds);
	}
	if (how == SEL_ID && lb_workload_fits(wl, one) && lb_impl_unavailable(one))
		return fail(err, errlen, "--impl: '%s' is unavailable here: %s; valid for %s: %s",
			    tok, lb_impl_unavailable(one), wl->name, valid);
	if (how == SEL_ID && !lb_workload_drives(wl, one))
		return fail(err, errlen, "--impl: workload %s does not drive '%s' (kind %s); "
			    "valid for %s: %s", wl->name, tok, lb_kind_name(lb_impl_kind(one)),
			    wl->name, valid);
	int any = 0;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (how != SEL_ID && lb_workload_fits(wl, im) && selects(how, tok, one, im) &&
		    lb_impl_unavailable(im)) {
			/* never silently missing: the caller says so, as for the
			 * thread counts a sweep drops */
			int dup = 0;
			for (unsigned k = 0; k < p->nleft_out; k++)
				dup |= p->left_out[k] == im;
			if (!dup && p->nleft_out < LB_PLAN_MAX_SERIES)
				p->left_out[p->nleft_out++] = im;
		}
		if (!lb_workload_drives(wl, im) || !selects(how, tok, one, im))
			continue;
		any = 1;
		int dup = 0;
		for (unsigned k = 0; k < p->nimpl; k++)
			dup |= p->impls[k] == im;
		if (!dup && p->nimpl < LB_PLAN_MAX_SERIES)
			p->impls[p->nimpl++] = im;
	}
	if (any)
		return 0;
	switch (how) {
	case SEL_BACKEND:
		return fail(err, errlen, "--impl: workload %s drives nothing from backend "
			    "'%s'; valid for %s: %s", wl->name, tok, wl->name, valid);
	case SEL_KIND:
		return fail(err, errlen, "--impl: workload %s drives no implementation of kind "
			    "'%s'; the kinds it drives: %s", wl->name, tok, kinds);
	case SEL_GLOB:
		return fail(err, errlen, "--impl: '%s' matches no implementation that %s drives; "
			    "valid for %s: %s", tok, wl->name, wl->name, valid);
	default:
		return 0;
	}
}

static int plan_impls(const char *spec, struct lb_plan *p, char *err, size_t errlen)
{
	char valid[LB_PLAN_LIST_MAX];
	int ret = 0;

	valid_impls(p->wl, 0, valid, sizeof(valid));
	if (!*spec || spec[0] == ',' || spec[strlen(spec) - 1] == ',' || strstr(spec, ",,"))
		return fail(err, errlen, "--impl: '%s' is not a valid list (comma-separated ids, "
			    "backends, kinds, globs or 'all'); valid for %s: all, %s; backends: %s",
			    spec, p->wl->name, valid, lb_backend_names());
	char *copy = strdup(spec), *save = NULL;
	if (!copy)
		return fail(err, errlen, "out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save))
		ret = plan_impl_item(tok, valid, p, err, errlen);
	free(copy);
	for (unsigned i = 0; i < p->nimpl; i++)
		append(p->impl_text, sizeof(p->impl_text), ",", p->impls[i]->id);
	return ret;
}

/* ---- --param ---- */

static int plan_param(const struct lb_workload *wl, const char *kv, struct lb_plan *p,
		      char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	const char *keys[LB_MAX_PARAMS];
	char valid[512] = "", hint[128];
	size_t np = 0;

	for (const struct lb_param_spec *s = wl->params; s && s->key && np < LB_MAX_PARAMS;
	     s++, np++) {
		append(valid, sizeof(valid), ", ", s->key);
		keys[np] = s->key;
	}
	if (!eq || eq == kv || !eq[1])
		return fail(err, errlen, "--param: '%s' is not KEY=VALUE; %s takes: %s", kv,
			    wl->name, np ? valid : "no parameters");
	size_t klen = (size_t)(eq - kv);
	for (size_t i = 0; i < np; i++) {
		if (strlen(keys[i]) != klen || strncmp(keys[i], kv, klen) != 0)
			continue;
		if (p->param_vals[i])
			return fail(err, errlen, "--param: '%s' is given twice ('%s=%s' and '%s'); "
				    "give each parameter once", keys[i], keys[i], p->param_vals[i],
				    kv);
		p->param_vals[i] = eq + 1;
		return 0;
	}
	return fail(err, errlen, "--param: workload %s has no parameter '%.*s'%s; valid: %s",
		    wl->name, (int)klen, kv, did_you_mean(kv, klen, keys, np, hint, sizeof(hint)),
		    np ? valid : "none (it takes no parameters)");
}

/* A value against its spec: its number, or its word's index; where a spec
 * has both (words and a max), a word's value is max + 1 + its index. */
static int plan_param_value(const struct lb_param_spec *s, const char *v, uint64_t *out,
			    char *err, size_t errlen)
{
	char valid[256] = "";
	if (s->words) {
		for (uint64_t i = 0; s->words[i]; i++) {
			if (strcmp(v, s->words[i]) == 0) {
				*out = s->max ? s->max + 1 + i : i;
				return 0;
			}
			append(valid, sizeof(valid), ", ", s->words[i]);
		}
		if (!s->max)
			return fail(err, errlen, "--param %s: '%s' is not %s; valid: %s", s->key, v,
				    s->noun, valid);
	}
	if (lb_parse_u64(v, out) || *out < s->min || *out > s->max) {
		if (s->words)
			return fail(err, errlen, "--param %s: '%s' is not %s; give %llu to %llu or %s",
				    s->key, v, s->noun, (unsigned long long)s->min,
				    (unsigned long long)s->max, valid);
		if (s->range)
			return fail(err, errlen, "--param %s: '%s' is not %s; give %s", s->key, v,
				    s->noun, s->range);
		return fail(err, errlen, "--param %s: '%s' is not %s; give %llu to %llu", s->key, v,
			    s->noun, (unsigned long long)s->min, (unsigned long long)s->max);
	}
	return 0;
}

/* One axis of the sweep: a key's values (or --cs's), each checked. */
struct axis {
	const char *key;   /* "cs" or the parameter's key */
	uint64_t v[LB_PLAN_MAX_SETS];
	char text[LB_PLAN_MAX_SETS][64];
	unsigned n;
};

/* Split a comma list into the axis, checking each value with check().
 * Two values are the same if their numbers are (100 and 0100, a word and
 * itself); a number's text is written as its value. */
static int axis_parse(struct axis *ax, const char *key, const char *list,
		      int (*check)(const void *spec, const char *v, uint64_t *out, char *err,
				   size_t errlen),
		      const void *spec, int numeric, const char *what, char *err, size_t errlen)
{
	ax->key = key;
	ax->n = 0;
	if (!*list || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
		return fail(err, errlen, "%s: '%s' is not a value or a comma list of values",
			    what, list);
	for (const char *s = list; *s;) {
		size_t len = strcspn(s, ",");
		char one[64];
		if (len >= sizeof(one))
			return fail(err, errlen, "%s: '%.*s' is too long", what, (int)len, s);
		memcpy(one, s, len);
		one[len] = '\0';
		if (ax->n == LB_PLAN_MAX_SETS)
			return fail(err, errlen, "%s: more than %d values in '%s'", what,
				    LB_PLAN_MAX_SETS, list);
		if (check(spec, one, &ax->v[ax->n], err, errlen))
			return -1;
		for (unsigned i = 0; i < ax->n; i++)
			if (ax->v[i] == ax->v[ax->n])
				return fail(err, errlen, "%s: '%s' is given twice in '%s'; give each "
					    "value once", what, one, list);
		uint64_t num;
		if (numeric && lb_parse_u64(one, &num) == 0)
			snprintf(ax->text[ax->n], sizeof(ax->text[0]), "%llu",
				 (unsigned long long)ax->v[ax->n]);
		else
			snprintf(ax->text[ax->n], sizeof(ax->text[0]), "%s", one);
		ax->n++;
		s += len + (s[len] == ',');
	}
	return 0;
}

static int check_param(const void *spec, const char *v, uint64_t *out, char *err,
		       size_t errlen)
{
	return plan_param_value(spec, v, out, err, errlen);
}

static int check_cs(const void *spec, const char *v, uint64_t *out, char *err, size_t errlen)
{
	(void)spec;
	if (lb_parse_u64(v, out) || *out > 1000000000u)
		return fail(err, errlen, "--cs: '%s' is not a duration in ns; give 0 to 1000000000",
			    v);
	return 0;
}

/* The parameters and --cs: each a value or a list; the sets are every
 * combination (plan.h). */
static int plan_params(const struct lb_opts *o, struct lb_plan *p, char *err, size_t errlen)
{
	const struct lb_workload *wl = p->wl;
	static struct axis axes[LB_MAX_PARAMS + 1]; /* cs, then the keys: big, and main's alone */
	unsigned nk = 0, total = 1;

	for (unsigned i = 0; i < o->nparams; i++)
		if (plan_param(wl, o->params[i], p, err, errlen))
			return -1;
	if (axis_parse(&axes[0], "cs", o->cs ? o->cs : "0", check_cs, NULL, 1, "--cs", err,
		       errlen))
		return -1;
	for (size_t i = 0; wl->params && wl->params[i].key && i < LB_MAX_PARAMS; i++) {
		char what[64];
		if (!p->param_vals[i])
			p->param_vals[i] = wl->params[i].def;
		snprintf(what, sizeof(what), "--param %s", wl->params[i].key);
		if (axis_parse(&axes[1 + i], wl->params[i].key, p->param_vals[i], check_param,
			       &wl->params[i], !wl->params[i].words || wl->params[i].max, what,
			       err, errlen))
			return -1;
		nk++;
	}
	for (unsigned a = 0; a <= nk; a++) {
		total *= axes[a].n;
		if (total > LB_PLAN_MAX_SETS)
			return fail(err, errlen, "--param and --cs: more than %d combinations in one "
				    "sweep; give fewer values", LB_PLAN_MAX_SETS);
		if (axes[a].n > 1) {
			size_t n = strlen(p->sweep_text);
			snprintf(p->sweep_text + n, sizeof(p->sweep_text) - n, "%s%s=", n ? ";" : "",
				 axes[a].key);
			for (unsigned v = 0; v < axes[a].n; v++)
				append(p->sweep_text, sizeof(p->sweep_text), v ? "," : "",
				       axes[a].text[v]);
			if (strlen(p->sweep_text) + 1 >= sizeof(p->sweep_text))
				return fail(err, errlen, "--param and --cs: the lists are too long to "
					    "record (%zu bytes at most)", sizeof(p->sweep_text) - 1);
		}
	}
	/* every combination: a mixed-radix count, the last key fastest */
	p->nsets = total;
	for (unsigned s = 0; s < total; s++) {
		struct lb_plan_set *set = &p->sets[s];
		unsigned idx[LB_MAX_PARAMS + 1], rest = s;
		for (int a = (int)nk; a >= 0; a--) {
			idx[a] = rest % axes[a].n;
			rest /= axes[a].n;
		}
		set->cs_ns = axes[0].v[idx[0]];
		for (unsigned i = 0; i < nk; i++) {
			size_t n = strlen(set->param_text);
			set->param[i] = axes[i + 1].v[idx[i + 1]];
			snprintf(set->param_text + n, sizeof(set->param_text) - n, "%s%s=%s",
				 i ? ";" : "", wl->params[i].key, axes[i + 1].text[idx[i + 1]]);
		}
	}
	memcpy(p->param, p->sets[0].param, sizeof(p->param));
	snprintf(p->param_text, sizeof(p->param_text), "%s", p->sets[0].param_text);
	return 0;
}

/* ---- --threads ---- */

static int plan_threads(const struct lb_opts *o, unsigned pus, struct lb_plan *p, char *err,
			size_t errlen)
{
	char why[512];
	int n;

	if (o->threads) {
		n = lb_parse_threads(o->threads, pus, p->tcounts, LB_PLAN_MAX_THREAD_COUNTS, why,
				     sizeof(why));
		if (n < 0)
			return fail(err, errlen, "--threads: %s", why);
		snprintf(p->threads_text, sizeof(p->threads_text), "%s", o->threads);
	} else {
		/* 1, 2, 4, ... up to 2 x PUs, with PUs and 2 x PUs themselves. */
		char def[256] = "";
		for (unsigned t = 1; t < 2 * pus; t *= 2)
			snprintf(def + strlen(def), sizeof(def) - strlen(def), "%u,", t);
		snprintf(def + strlen(def), sizeof(def) - strlen(def), "pus,2xpus");
		n = lb_parse_threads(def, pus, p->tcounts, LB_PLAN_MAX_THREAD_COUNTS, why,
				     sizeof(why));
		if (n < 0)
			return fail(err, errlen, "internal: default thread list: %s", why);
		snprintf(p->threads_text, sizeof(p->threads_text), "%s", def);
	}
	p->nthr = (unsigned)n;
	return 0;
}

/* The workload's say on each thread count, with its parameters: a count it
 * refuses is an error when asked for, and left out of the default sweep. */
static int plan_validate(const struct lb_opts *o, struct lb_plan *p, char *err, size_t errlen)
{
	char why[512] = "";
	int n = (int)p->nthr;

	if (p->wl->validate) {
		int kept = 0;
		for (int i = 0; i < n; i++) {
			/* every set must accept the count */
			int bad = 0;
			for (unsigned s = 0; s < p->nsets && !bad; s++)
				bad = p->wl->validate(p->sets[s].param, p->tcounts[i], why,
						      sizeof(why)) != 0;
			if (!bad) {
				p->tcounts[kept++] = p->tcounts[i];
				continue;
			}
			if (o->threads) /* asked for: an error, not a silent skip */
				return fail(err, errlen, "%s", why);
			snprintf(p->dropped_why, sizeof(p->dropped_why), "%s", why);
		}
		if (kept == 0)
			return fail(err, errlen, "%s", why);
		p->dropped = (unsigned)(n - kept);
		n = kept;
	}
	p->nthr = (unsigned)n;
	return 0;
}

/* ---- the whole plan ---- */

int lb_plan_make(const struct lb_opts *o, unsigned pus, struct lb_plan *p, char *err,
		 size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (plan_workload(o->workload, &p->wl, err, errlen) ||
	    plan_impls(o->impl ? o->impl : "all", p, err, errlen) ||
	    plan_threads(o, pus, p, err, errlen) || plan_params(o, p, err, errlen) ||
	    plan_validate(o, p, err, errlen))
		return -1;
	p->watchdog = o->watchdog >= 0 ? o->watchdog
				       : p->wl->watchdog_s > 0 ? p->wl->watchdog_s
							       : LB_DEFAULT_WATCHDOG_S;
	p->repeat = (unsigned)o->repeat;
	p->quiet = o->quiet;
	p->nruns = (size_t)p->nimpl * p->nthr * p->repeat * p->nsets;
	if (p->nruns > LB_PLAN_MAX_RUNS)
		return fail(err, errlen, "the plan has %zu runs (%u implementations x %u thread "
			    "counts x %u settings x %u repetitions); at most %d in one sweep",
			    p->nruns, p->nimpl, p->nthr, p->nsets, p->repeat, LB_PLAN_MAX_RUNS);
	p->duration = o->duration;
	p->warmup = o->warmup;
	if (p->duration < 0 || p->warmup < 0) {
		/* auto: the sweep's windows and warm-ups share LB_AUTO_BUDGET_S */
		double slot = LB_AUTO_BUDGET_S / (double)p->nruns;
		if (p->warmup < 0)
			p->warmup = fmin(fmax(slot * 0.2, 0.02), 0.5);
		if (p->duration < 0)
			p->duration = fmin(fmax(slot - p->warmup, 0.1), 2.0);
	}
	return 0;
}

double lb_plan_seconds(const struct lb_plan *p)
{
	return (double)p->nruns * (p->duration + p->warmup);
}
