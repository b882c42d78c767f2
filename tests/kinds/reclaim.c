/* reclaim: the memory that smr.h's schemes hold back from a stalled
 * reader, exactly, for the sets and queues that report it (set.h's and
 * queue.h's unreclaimed() and hold()).
 *
 * A reader thread enters one read-side section through hold() (under
 * hazard pointers: it names the first node of key 0's bucket, or the
 * queue's head) and stays there until told to leave.  Meanwhile the main
 * thread unlinks RC_NODES nodes (removes every key, or pops every item),
 * the first of them the one the reader names.  Then, before the reader
 * leaves, the memory unlinked and not freed must be:
 *   leak, epoch and every liburcu flavour: all RC_NODES nodes, exactly (a
 *     grace period cannot end while the reader's section is open, and
 *     ck_epoch cannot advance two epochs past it);
 *   hazard pointers: at least the named node, at most one scan's worth
 *     (LB_SMR_POLL pending nodes plus the LB_SMR_HAZARDS a reader names):
 *     every scan frees what nobody names.
 * After the reader leaves, the main thread goes on unlinking (so that
 * ck_epoch polls and QSBR reports quiescent states) until at least
 * RC_NODES nodes have been freed (unlinked - unreclaimed: the held ones
 * are the oldest, and every scheme frees oldest first); leak must instead
 * hold every node it ever unlinked.  That wait is a hang guard (GUARD_MS, the
 * call_rcu threads run when they run), not a speed threshold.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "kindtest.h"
#include "smr_hash.h"
#include "smr_msq.h"

#define RC_NODES 256u
#define RC_ROUND 200u /* unlinks per round while waiting for the memory to come back */

enum rc_scheme { RC_LEAK, RC_HP, RC_DEFERS };

static enum rc_scheme rc_scheme_of(const struct lb_impl *im)
{
	size_t n = strlen(im->id);
	if (n > 5 && strcmp(im->id + n - 5, "-leak") == 0)
		return RC_LEAK;
	if (n > 3 && strcmp(im->id + n - 3, "-hp") == 0)
		return RC_HP;
	return RC_DEFERS;
}

struct rc_reader {
	const struct lb_impl *im;
	void *obj;
	_Atomic unsigned inside, leave, failed;
};

static void rc_wait(void *arg)
{
	struct rc_reader *r = arg;
	atomic_store(&r->inside, 1);
	while (!atomic_load(&r->leave))
		tap_sleep_ms(1);
}

static void *rc_reader_main(void *arg)
{
	struct rc_reader *r = arg;
	struct lb_thread_info ti = { .tid = 1, .cpu = -1 };
	void *t;
	if (lb_prim_thread_attach(r->im, r->obj, &ti, &t) != 0) {
		atomic_store(&r->failed, 1);
		atomic_store(&r->inside, 1);
		return NULL;
	}
	if (lb_impl_kind(r->im) == LB_KIND_SET)
		lb_ops_set(r->im)->hold(r->obj, t, rc_wait, r);
	else
		lb_ops_queue(r->im)->hold(r->obj, t, rc_wait, r);
	lb_prim_thread_detach(r->im, r->obj, t);
	return NULL;
}

/* One unlink by the main thread: remove key k (inserted just before, so
 * the remove always unlinks), or push and pop one item. */
static void rc_unlink(const struct lb_impl *im, void *o, void *t, uint64_t k)
{
	if (lb_impl_kind(im) == LB_KIND_SET) {
		const struct lb_set_ops *ops = lb_ops_set(im);
		(void)ops->insert(o, t, k, k);
		(void)ops->remove(o, t, k);
	} else {
		const struct lb_queue_ops *ops = lb_ops_queue(im);
		uint64_t item;
		(void)ops->push(o, t, k);
		(void)ops->pop(o, t, &item);
	}
}

static uint64_t rc_unreclaimed(const struct lb_impl *im, void *o)
{
	return lb_impl_kind(im) == LB_KIND_SET ? lb_ops_set(im)->unreclaimed(o)
					       : lb_ops_queue(im)->unreclaimed(o);
}

static void rc_case(const struct lb_impl *im, unsigned n, unsigned x)
{
	const bool set = lb_impl_kind(im) == LB_KIND_SET;
	const uint64_t node = set ? sizeof(struct lb_mh_node) : sizeof(struct lb_msq_node);
	const enum rc_scheme sch = rc_scheme_of(im);
	struct lb_prim_cfg cfg = { .nthreads = 2, .nclusters = 1, .permits = 1024 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	struct rc_reader *r = calloc(1, sizeof(*r));
	pthread_t th;
	void *o, *t;

	(void)n, (void)x;
	if (!r || lb_prim_create(im, &cfg, &o) != 0 || lb_prim_thread_attach(im, o, &ti, &t) != 0) {
		tap(0, "%s: reclaim: setup", im->id);
		return;
	}
	if (set) /* keys 0 .. RC_NODES-1, so that the reader's path starts at key 0 */
		for (uint64_t k = 0; k < RC_NODES; k++)
			(void)lb_ops_set(im)->insert(o, t, k, k);
	r->im = im;
	r->obj = o;
	if (pthread_create(&th, NULL, rc_reader_main, r) != 0 ||
	    !kt_wait_count(&r->inside, 1, GUARD_MS) || atomic_load(&r->failed)) {
		tap(0, "%s: reclaim: the reader never got inside a read-side section", im->id);
		tap_abandon();
	}
	for (uint64_t k = 0; k < RC_NODES; k++) {
		if (set)
			(void)lb_ops_set(im)->remove(o, t, k);
		else
			rc_unlink(im, o, t, k);
	}
	uint64_t held = rc_unreclaimed(im, o);
	bool ok_held = sch == RC_HP ? held >= node && held <= (LB_SMR_POLL + LB_SMR_HAZARDS) * node
				    : held == RC_NODES * node;
	atomic_store(&r->leave, 1);
	pthread_join(th, NULL);

	uint64_t unlinked = RC_NODES, after = held, k = RC_NODES;
	struct tap_guard g;
	tap_guard_start(&g, 0, GUARD_MS);
	bool back = false;
	do {
		for (unsigned i = 0; i < RC_ROUND; i++)
			rc_unlink(im, o, t, k++);
		unlinked += RC_ROUND;
		after = rc_unreclaimed(im, o);
		back = sch == RC_LEAK ? after == unlinked * node
				      : unlinked - after / node >= RC_NODES;
		if (!back && sch != RC_LEAK)
			tap_sleep_ms(1);
	} while (!back && sch != RC_LEAK && !tap_guard_over(&g));
	lb_prim_thread_detach(im, o, t);
	tap(ok_held && back,
	    "%s: a reader held inside one read-side section while %u nodes of %llu bytes were "
	    "unlinked: %llu bytes unreclaimed (%s); after it left and %llu more unlinks: %llu "
	    "bytes, %llu nodes freed (%s)", im->id, RC_NODES, (unsigned long long)node,
	    (unsigned long long)held,
	    sch == RC_HP ? "want at least the named node, at most one scan's worth"
			 : "want every node, exactly",
	    (unsigned long long)(unlinked - RC_NODES), (unsigned long long)after,
	    (unsigned long long)(unlinked - after / node),
	    sch == RC_LEAK ? "want none: every node ever unlinked held, exactly"
			   : "want at least the held ones");
	lb_prim_destroy(im, o);
	free(r);
}

void kindtest_reclaim(const struct lb_impl *im)
{
	tap_run(im, rc_case, 0, 0, "reclaim under a held reader");
}
