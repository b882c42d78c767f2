/* The workloads' judges (checks.h): verdicts from evidence, nothing else. */
#include <stdio.h>

#include "checks.h"

#define FAIL(out, ...) do {                                                   \
		(out)->verdict = LB_FAIL;                                     \
		snprintf((out)->msg, sizeof((out)->msg), __VA_ARGS__);        \
	} while (0)

void lb_judge_count(struct lb_check *out, uint64_t expected, uint64_t observed, bool racy,
		    const char *what)
{
	out->has_lost = 1;
	out->lost_updates = (int64_t)(expected - observed);
	if (observed == expected) {
		out->verdict = LB_OK;
		return;
	}
	out->verdict = racy ? LB_RACY : LB_FAIL;
	snprintf(out->msg, sizeof(out->msg), "counter is %llu but the threads did %llu %s "
		 "(%lld %s)", (unsigned long long)observed, (unsigned long long)expected, what,
		 (long long)(observed < expected ? expected - observed : observed - expected),
		 observed < expected ? "lost" : "too many: counted twice");
}

void lb_judge_recursive(struct lb_check *out, uint64_t expected, uint64_t observed,
			uint64_t bad_unlocks, uint64_t bad_reentries, unsigned depth)
{
	lb_judge_count(out, expected, observed, false, "increments");
	if (out->verdict != LB_OK)
		return;
	if (bad_unlocks)
		FAIL(out, "%llu unlocks by the owner returned an error (depth %u)",
		     (unsigned long long)bad_unlocks, depth);
	else if (bad_reentries)
		FAIL(out, "%llu trylocks by the owner failed to re-enter (depth %u)",
		     (unsigned long long)bad_reentries, depth);
}

void lb_judge_barrier(struct lb_check *out, uint64_t violations, const uint64_t *phases,
		      unsigned nthreads)
{
	out->verdict = LB_OK;
	out->extra[0] = nthreads ? (double)phases[0] : 0;
	if (violations) {
		FAIL(out, "%llu times a thread left a phase before every thread had arrived",
		     (unsigned long long)violations);
		return;
	}
	for (unsigned i = 1; i < nthreads; i++)
		if (phases[i] != phases[0]) {
			FAIL(out, "threads completed different numbers of phases (thread 0: %llu, "
			     "thread %u: %llu)", (unsigned long long)phases[0], i,
			     (unsigned long long)phases[i]);
			return;
		}
}

void lb_judge_trylock(struct lb_check *out, const struct lb_try_evidence *e)
{
	lb_judge_count(out, e->successes, e->observed, false, "successful trylocks");
	if (out->verdict != LB_OK)
		return;
	if (e->bad_unlocks)
		FAIL(out, "%llu unlocks after a successful trylock returned an error",
		     (unsigned long long)e->bad_unlocks);
	else if (e->nthreads == 1 && e->successes != e->attempts)
		/* Alone, nobody else can hold it: every try must succeed. */
		FAIL(out, "with one thread %llu of %llu trylocks on the free lock failed",
		     (unsigned long long)(e->attempts - e->successes),
		     (unsigned long long)e->attempts);
	else if (!e->free_try_ok)
		FAIL(out, "after the run a trylock on the free lock failed");
}

static uint64_t xor_upto(uint64_t n) /* 1 ^ 2 ^ ... ^ n */
{
	switch (n & 3) {
	case 0: return n;
	case 1: return 1;
	case 2: return n + 1;
	default: return 0;
	}
}

static uint64_t sum_upto(uint64_t n) /* 1 + 2 + ... + n, mod 2^64 */
{
	return n & 1 ? n * ((n + 1) / 2) : (n / 2) * (n + 1);
}

void lb_judge_prodcons(struct lb_check *out, unsigned P, unsigned C, const uint64_t *pushed,
		       const struct lb_pc_consumer *cons)
{
	uint64_t npushed = 0, popped = 0, want_sum = 0, want_xor = 0, sum = 0, xor_ = 0;

	for (unsigned p = 0; p < P; p++) {
		uint64_t k = pushed[p], tag = (uint64_t)p << LB_PC_SEQ_BITS;
		npushed += k;
		want_sum += k * tag + sum_upto(k);
		want_xor ^= (k & 1 ? tag : 0) ^ xor_upto(k);
	}
	for (unsigned c = 0; c < C; c++) {
		popped += cons[c].items;
		sum += cons[c].sum;
		xor_ ^= cons[c].xor_;
	}
	out->has_lost = 1;
	out->lost_updates = (int64_t)(npushed - popped);
	out->verdict = LB_OK;

	for (unsigned c = 0; c < C; c++)
		if (cons[c].alien) {
			FAIL(out, "consumer %u popped %llu items no producer pushed (the first: "
			     "%#llx)", c, (unsigned long long)cons[c].alien,
			     (unsigned long long)cons[c].alien_item);
			return;
		}
	for (unsigned p = 0; p < P; p++) {
		uint64_t got = 0;
		for (unsigned c = 0; c < C; c++)
			got += cons[c].from[p];
		if (got != pushed[p]) {
			FAIL(out, "producer %u pushed %llu items but the consumers popped %llu of "
			     "them (%llu %s; %llu pushed, %llu popped in all)", p,
			     (unsigned long long)pushed[p], (unsigned long long)got,
			     (unsigned long long)(got > pushed[p] ? got - pushed[p] : pushed[p] - got),
			     got > pushed[p] ? "popped twice" : "lost",
			     (unsigned long long)npushed, (unsigned long long)popped);
			return;
		}
	}
	if (popped != npushed || sum != want_sum || xor_ != want_xor) {
		FAIL(out, "the popped items are not the pushed ones: %llu popped, sum %#llx xor "
		     "%#llx; %llu pushed, sum %#llx xor %#llx", (unsigned long long)popped,
		     (unsigned long long)sum, (unsigned long long)xor_,
		     (unsigned long long)npushed, (unsigned long long)want_sum,
		     (unsigned long long)want_xor);
		return;
	}
	for (unsigned c = 0; c < C; c++)
		if (cons[c].order_bad) {
			FAIL(out, "FIFO order broken: consumer %u popped producer %llu's item %llu "
			     "after its item %llu (%llu items out of order)", c,
			     (unsigned long long)(cons[c].bad_item >> LB_PC_SEQ_BITS),
			     (unsigned long long)(cons[c].bad_item &
						  ((UINT64_C(1) << LB_PC_SEQ_BITS) - 1)),
			     (unsigned long long)cons[c].bad_prev,
			     (unsigned long long)cons[c].order_bad);
			return;
		}
}

void lb_judge_pool(struct lb_check *out, uint64_t peak, unsigned permits, unsigned holders_left,
		   unsigned free_now, unsigned nthreads)
{
	out->extra[0] = (double)peak;
	out->extra[1] = (double)permits;
	out->verdict = LB_OK;
	if (peak > permits)
		FAIL(out, "%llu threads held the resource at once but the semaphore has %u permits",
		     (unsigned long long)peak, permits);
	else if (holders_left != 0)
		FAIL(out, "%u threads still count as holders after the run", holders_left);
	else if (free_now > permits)
		FAIL(out, "after the run try_acquire succeeded more than %u times: the semaphore "
		     "gained permits", permits);
	else if (free_now < permits)
		FAIL(out, "after the run only %u of the %u permits were free: permits were lost",
		     free_now, permits);
	else if (nthreads >= permits && peak < permits)
		snprintf(out->msg, sizeof(out->msg),
			 "note: the peak of %llu holders never reached the %u permits with %u "
			 "threads (not a failure: a short run may never fill the pool)",
			 (unsigned long long)peak, permits, nthreads);
}

void lb_judge_handoff(struct lb_check *out, const struct lb_handoff_pair *pairs, unsigned npairs)
{
	out->verdict = LB_OK;
	for (unsigned k = 0; k < npairs; k++) {
		const struct lb_handoff_pair *p = &pairs[k];
		if (p->even_bad || p->odd_bad)
			FAIL(out, "pair %u: %llu wake-ups without a hand-off (thread %u: %llu, "
			     "thread %u: %llu)", k, (unsigned long long)(p->even_bad + p->odd_bad),
			     2 * k, (unsigned long long)p->even_bad, 2 * k + 1,
			     (unsigned long long)p->odd_bad);
		else if (p->even_ops != p->odd_ops)
			FAIL(out, "pair %u: thread %u completed %llu round trips but thread %u "
			     "handled %llu pings", k, 2 * k, (unsigned long long)p->even_ops,
			     2 * k + 1, (unsigned long long)p->odd_ops);
		else if (p->seq != 2 * p->even_ops && p->seq != 2 * p->even_ops + 1)
			FAIL(out, "pair %u: sequence word is %llu after %llu round trips "
			     "(expected %llu or %llu)", k, (unsigned long long)p->seq,
			     (unsigned long long)p->even_ops, (unsigned long long)(2 * p->even_ops),
			     (unsigned long long)(2 * p->even_ops + 1));
		else
			continue;
		return;
	}
}

void lb_judge_broadcast(struct lb_check *out, const struct lb_bc_evidence *e)
{
	out->verdict = LB_OK;
	if (e->setter_early) {
		FAIL(out, "the setter was woken %llu time(s) before all %u waiters had "
		     "acknowledged (a wake-up without a set)", (unsigned long long)e->setter_early,
		     e->waiters);
		return;
	}
	if (e->setter_extra) {
		FAIL(out, "%llu round(s) got more than %u acknowledgements (a waiter ran twice in "
		     "one round)", (unsigned long long)e->setter_extra, e->waiters);
		return;
	}
	for (unsigned i = 0; i < e->waiters; i++) {
		if (e->bad[i])
			FAIL(out, "waiter %u woke %llu time(s) without a new round or after missing "
			     "one", i + 1, (unsigned long long)e->bad[i]);
		else if (e->wakes[i] != e->rounds && e->wakes[i] != e->rounds + 1)
			FAIL(out, "waiter %u handled %llu rounds but the setter completed %llu",
			     i + 1, (unsigned long long)e->wakes[i], (unsigned long long)e->rounds);
		else
			continue;
		return;
	}
}

void lb_judge_readmostly(struct lb_check *out, const struct lb_rm_evidence *e)
{
	uint64_t done = e->writes - e->oom;

	out->has_lost = 1;
	out->lost_updates = (int64_t)(done - e->version);
	out->verdict = LB_OK;
	if (e->torn)
		FAIL(out, "%llu torn or poisoned reads (words of one record not all equal, or "
		     "reclaimed while read)", (unsigned long long)e->torn);
	else if (e->writer_excl)
		FAIL(out, "writers overlapped: writers_in was not 1 inside %llu write sections",
		     (unsigned long long)e->writer_excl);
	else if (e->reader_excl)
		FAIL(out, "%llu reads ran while a writer was inside the write section",
		     (unsigned long long)e->reader_excl);
	else if (e->final_torn)
		FAIL(out, "the final record is torn: word 0 is %llu but the others differ",
		     (unsigned long long)e->version);
	else if (e->version != done)
		FAIL(out, "the record's version is %llu but the threads did %llu writes (%lld %s)",
		     (unsigned long long)e->version, (unsigned long long)done,
		     (long long)(done > e->version ? done - e->version : e->version - done),
		     done > e->version ? "lost" : "too many");
	else if (e->oom)
		FAIL(out, "%llu RCU copy-updates could not allocate a record",
		     (unsigned long long)e->oom);
}
