/* Parsing of the CLI's list and number syntaxes.  Pure functions: the unit
 * tests call them directly. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lockbench.h"

int lb_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int lb_parse_seconds(const char *s, double *out)
{
	char *end;
	if (!s || !*s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* One comma-separated item: N, A-B, or (threads only) a word. */
static int parse_range(const char *item, uint64_t *lo, uint64_t *hi)
{
	char buf[64], *dash;
	if (strlen(item) >= sizeof(buf))
		return -1;
	strcpy(buf, item);
	dash = strchr(buf, '-');
	if (dash) {
		*dash = '\0';
		if (lb_parse_u64(buf, lo) || lb_parse_u64(dash + 1, hi) || *lo > *hi)
			return -1;
		return 0;
	}
	if (lb_parse_u64(buf, lo))
		return -1;
	*hi = *lo;
	return 0;
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return (x > y) - (x < y);
}

/* Next comma-separated item of *p into item; 1 if one was read, 0 at the
 * end, -1 for an empty or overlong item (",,", a leading or trailing
 * comma). */
static int next_item(const char **p, char *item, size_t len)
{
	if (!*p)
		return 0;
	const char *c = strchr(*p, ',');
	size_t l = c ? (size_t)(c - *p) : strlen(*p);
	if (l == 0 || l >= len)
		return -1;
	memcpy(item, *p, l);
	item[l] = '\0';
	*p = c ? c + 1 : NULL;
	return 1;
}

int lb_parse_threads(const char *s, unsigned pus, unsigned *out, unsigned max,
		     char *err, size_t errlen)
{
	unsigned n = 0;
	const char *why = "expected numbers, ranges like 2-8, 'pus' or '2xpus', comma-separated";
	char bad_item[64] = "";

	if (!s || !*s)
		goto bad;
	const char *p = s;
	char item[64];
	int r;
	while ((r = next_item(&p, item, sizeof(item))) > 0) {
		uint64_t lo, hi;
		snprintf(bad_item, sizeof(bad_item), "%s", item);
		if (strcmp(item, "pus") == 0) {
			lo = hi = pus;
		} else if (strcmp(item, "2xpus") == 0) {
			lo = hi = 2ull * pus;
		} else if (parse_range(item, &lo, &hi)) {
			uint64_t a, b;
			char *d = strchr(item, '-');
			if (d && d != item && sscanf(item, "%llu-%llu", (unsigned long long *)&a,
						   (unsigned long long *)&b) == 2 && a > b)
				why = "a range must go from low to high";
			goto bad;
		}
		if (lo == 0 || hi > LB_MAX_THREADS) {
			why = "thread counts must be 1 to 1024";
			goto bad;
		}
		for (uint64_t v = lo; v <= hi; v++) {
			int dup = 0;
			for (unsigned i = 0; i < n; i++)
				dup |= out[i] == v;
			if (dup)
				continue;
			if (n >= max) {
				why = "too many thread counts";
				goto bad;
			}
			out[n++] = (unsigned)v;
		}
	}
	if (r < 0) {
		bad_item[0] = '\0';
		why = "an empty item: ',,' or a leading or trailing comma";
		goto bad;
	}
	qsort(out, n, sizeof(*out), cmp_unsigned);
	return (int)n;
bad:
	if (bad_item[0] && strcmp(bad_item, s) != 0)
		snprintf(err, errlen, "'%s' is not a valid thread list (bad item '%s': %s)",
			 s ? s : "", bad_item, why);
	else
		snprintf(err, errlen, "'%s' is not a valid thread list (%s)", s ? s : "", why);
	return -1;
}

int lb_parse_cpulist(const char *s, int *out, unsigned max, char *err, size_t errlen)
{
	unsigned n = 0;
	const char *why = "expected CPU numbers or ranges like 4-7, comma-separated";

	if (!s || !*s)
		goto bad;
	const char *p = s;
	char item[64];
	int r;
	while ((r = next_item(&p, item, sizeof(item))) > 0) {
		uint64_t lo, hi;
		if (parse_range(item, &lo, &hi))
			goto bad;
		if (hi >= 1048576) {
			why = "CPU numbers must be below 1048576";
			goto bad;
		}
		for (uint64_t v = lo; v <= hi; v++) {
			for (unsigned i = 0; i < n; i++)
				if (out[i] == (int)v) {
					why = "a CPU is listed twice";
					goto bad;
				}
			if (n >= max) {
				why = "too many CPUs";
				goto bad;
			}
			out[n++] = (int)v;
		}
	}
	if (r < 0) {
		why = "an empty item: ',,' or a leading or trailing comma";
		goto bad;
	}
	return (int)n;
bad:
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* Levenshtein distance of a[0..la) and b (case-folded), capped: anything
 * above LB_NEAREST_CAP counts as the cap + 1. */
#define LB_NEAREST_CAP 3
static unsigned edit_distance(const char *a, size_t la, const char *b)
{
	size_t lb = strlen(b);
	unsigned row[64];

	if (la >= 64 || lb >= 64)
		return LB_NEAREST_CAP + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0], best = row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned sub = diag + (tolower((unsigned char)a[i - 1]) !=
					       tolower((unsigned char)b[j - 1]));
			unsigned v = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
			row[j] = sub < v ? sub : v;
			diag = up;
			if (row[j] < best)
				best = row[j];
		}
		if (best > LB_NEAREST_CAP)
			return LB_NEAREST_CAP + 1;
	}
	return row[lb];
}

const char *lb_nearest(const char *s, size_t len, const char *const *cands, size_t n)
{
	/* A typo: 1 edit in a name of up to 4 characters, 2 up to 8, else 3. */
	unsigned limit = len <= 4 ? 1 : len <= 8 ? 2 : LB_NEAREST_CAP;
	unsigned best = limit + 1;
	const char *pick = NULL;
	int tie = 0;

	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		unsigned d = edit_distance(s, len, cands[i]);
		if (d < best) {
			best = d;
			pick = cands[i];
			tie = 0;
		} else if (d == best && pick && strcmp(pick, cands[i]) != 0) {
			tie = 1;
		}
	}
	return tie ? NULL : pick;
}
