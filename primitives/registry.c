#include "registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LB_X_ROW(sym, id_, be, caps_, sum) \
	[LB_IMPL_##sym] = { .id = id_, .backend = be, .caps = (caps_), .summary = sum, \
		.index = LB_IMPL_##sym, .prim = &lb_##sym##_ops.base },
#define LB_K_ROWS(a, ENUM, name, ops, IMPLS, try) IMPLS(LB_X_ROW)

#define LB_X_ID_FITS(sym, id_, be, caps_, sum) \
	_Static_assert(sizeof(id_) <= LB_ID_MAX, "id " id_ " is longer than LB_ID_MAX");
#define LB_K_ID_FITS(a, ENUM, name, ops, IMPLS, try) IMPLS(LB_X_ID_FITS)
LB_KINDS(LB_K_ID_FITS, _)

const struct lb_impl lb_impls[LB_IMPL_COUNT] = {
	LB_KINDS(LB_K_ROWS, _)
};

#define LB_K_NAME(a, ENUM, name, ops, IMPLS, try) [LB_KIND_##ENUM] = #name,
static const char *const kind_names[LB_KIND_COUNT] = { LB_KINDS(LB_K_NAME, _) };

#define LB_K_TRY(a, ENUM, name, ops, IMPLS, try) [LB_KIND_##ENUM] = try,
static bool (*const kind_can_try[LB_KIND_COUNT])(const struct lb_prim_ops *) = {
	LB_KINDS(LB_K_TRY, _)
};

const char *lb_kind_name(enum lb_kind k)
{
	return (unsigned)k < LB_KIND_COUNT ? kind_names[k] : "?";
}

enum lb_kind lb_kind_find(const char *name)
{
	for (int k = 0; k < LB_KIND_COUNT; k++)
		if (strcmp(kind_names[k], name) == 0)
			return (enum lb_kind)k;
	return LB_KIND_COUNT;
}

const char *lb_impl_unavailable(const struct lb_impl *im)
{
	return im->prim->unavailable ? im->prim->unavailable() : NULL;
}

unsigned lb_impl_caps(const struct lb_impl *im)
{
	unsigned c = im->caps;
	if (lb_impl_unavailable(im))
		c |= LB_CAP_UNAVAILABLE;
	if (im->prim->tctx_size)
		c |= LB_CAP_TCTX;
	if (kind_can_try[lb_impl_kind(im)](im->prim))
		c |= LB_CAP_TRYLOCK;
	return c;
}

const struct lb_impl *lb_impl_find(const char *id)
{
	for (size_t i = 0; i < LB_IMPL_COUNT; i++)
		if (strcmp(lb_impls[i].id, id) == 0)
			return &lb_impls[i];
	return NULL;
}

/* Backends users may select as a group: every backend that has a visible
 * implementation ("test" has none). */
int lb_backend_known(const char *name)
{
	for (size_t j = 0; j < LB_IMPL_COUNT; j++)
		if (!(lb_impls[j].caps & LB_CAP_HIDDEN) && strcmp(lb_impls[j].backend, name) == 0)
			return 1;
	return 0;
}

const char *lb_backend_names(void)
{
	static char buf[256];
	if (buf[0])
		return buf;
	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const char *b = lb_impls[j].backend;
		if (lb_impls[j].caps & LB_CAP_HIDDEN)
			continue;
		int seen = 0;
		for (size_t k = 0; k < j; k++)
			seen |= strcmp(lb_impls[k].backend, b) == 0;
		if (seen)
			continue;
		if (buf[0])
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, b, sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

static size_t round_up(size_t n)
{
	return (n + LB_CACHELINE - 1) / LB_CACHELINE * LB_CACHELINE;
}

void (*lb_shared_alloc_hook)(void *p, size_t size);

int lb_prim_create(const struct lb_impl *impl, const struct lb_prim_cfg *cfg, void **obj)
{
	size_t size = round_up(impl->prim->size ? impl->prim->size : 1);
	void *o = aligned_alloc(LB_CACHELINE, size);
	if (!o)
		return ENOMEM;
	if (lb_shared_alloc_hook)
		lb_shared_alloc_hook(o, size);
	memset(o, 0, impl->prim->size);
	int ret = impl->prim->init(o, cfg);
	if (ret) {
		free(o);
		return ret;
	}
	*obj = o;
	return 0;
}

void lb_prim_destroy(const struct lb_impl *impl, void *obj)
{
	if (!obj)
		return;
	if (impl->prim->fini)
		impl->prim->fini(obj);
	free(obj);
}

int lb_prim_thread_attach(const struct lb_impl *impl, void *obj,
			  const struct lb_thread_info *ti, void **tctx)
{
	void *t = NULL;
	*tctx = NULL;
	if (impl->prim->tctx_size) {
		t = aligned_alloc(LB_CACHELINE, round_up(impl->prim->tctx_size));
		if (!t)
			return ENOMEM;
		memset(t, 0, impl->prim->tctx_size);
	}
	if (impl->prim->thread_init) {
		int ret = impl->prim->thread_init(obj, t, ti);
		if (ret) {
			free(t);
			return ret;
		}
	}
	*tctx = t;
	return 0;
}

void lb_prim_thread_detach(const struct lb_impl *impl, void *obj, void *tctx)
{
	if (impl->prim->thread_fini)
		impl->prim->thread_fini(obj, tctx);
	free(tctx);
}
