/* Every workload's verdict, as a pure function of its evidence.
 *
 * A workload's check() gathers what its threads left behind (counts,
 * sums, flags) and hands it to its judge here; the judge alone decides
 * ok / fail / racy and writes the message.  Keeping the decision apart
 * from the gathering lets the unit tests feed each judge synthetic worker
 * data (tests/test_unit.c): a loss of one, an over-count of one, one
 * duplicated item, uneven barrier phases.  A check that would wave any of
 * them through fails there, whatever the primitives happen to do.
 */
#ifndef LB_CHECKS_H
#define LB_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "workload.h"

/* counter, deadlock, livelock and recursive: a shared counter that must
 * equal the operations done under the lock.  lost_updates = expected -
 * observed (negative: an over-count).  A racy implementation (none-racy)
 * may lose: that is reported as racy, never ok, when the counts differ. */
void lb_judge_count(struct lb_check *out, uint64_t expected, uint64_t observed, bool racy,
		    const char *what);

/* recursive: the count, then unlocks and re-entries the owner saw fail. */
void lb_judge_recursive(struct lb_check *out, uint64_t expected, uint64_t observed,
			uint64_t bad_unlocks, uint64_t bad_reentries, unsigned depth);

/* barrier: no thread ever left a phase early (violations), and every
 * thread ran the same number of phases. */
void lb_judge_barrier(struct lb_check *out, uint64_t violations, const uint64_t *phases,
		      unsigned nthreads);

/* trylock. */
struct lb_try_evidence {
	unsigned nthreads;
	uint64_t successes;   /* whole run */
	uint64_t attempts;    /* whole run */
	uint64_t observed;    /* the counter the successes incremented */
	uint64_t bad_unlocks; /* recursive unlocks that returned an error */
	bool free_try_ok;     /* after the run, a try on the free lock succeeded */
};
void lb_judge_trylock(struct lb_check *out, const struct lb_try_evidence *e);

/* prodcons: what each producer pushed and each consumer popped. */
struct lb_pc_consumer {
	uint64_t items, sum, xor_;
	uint64_t order_bad, bad_item, bad_prev; /* FIFO order breaks, the first one */
	uint64_t alien, alien_item;             /* items no producer made */
	const uint64_t *from;                   /* [P]: items from each producer */
};
#define LB_PC_SEQ_BITS 40 /* producer p's i-th item is p << 40 | i, i from 1 */
void lb_judge_prodcons(struct lb_check *out, unsigned P, unsigned C, const uint64_t *pushed,
		       const struct lb_pc_consumer *cons);

/* pool: a semaphore of permits never admitted more than permits holders,
 * and holds exactly permits free ones after the run (free_now; permits
 * when it cannot be counted). */
void lb_judge_pool(struct lb_check *out, uint64_t peak, unsigned permits, unsigned holders_left,
		   unsigned free_now, unsigned nthreads);

/* handoff: each pair's ping-pong. */
struct lb_handoff_pair {
	uint64_t even_ops, odd_ops;   /* round trips / pings handled */
	uint64_t even_bad, odd_bad;   /* wake-ups without a hand-off */
	uint64_t seq;                 /* the pair's sequence word at the end */
};
void lb_judge_handoff(struct lb_check *out, const struct lb_handoff_pair *pairs, unsigned npairs);

/* broadcast: the setter's rounds and each waiter's. */
struct lb_bc_evidence {
	unsigned waiters;
	uint64_t rounds;              /* the setter's completed rounds */
	uint64_t setter_early;        /* setter woken before all acknowledged */
	uint64_t setter_extra;        /* rounds with too many acknowledgements */
	const uint64_t *wakes;        /* [waiters] rounds each waiter handled */
	const uint64_t *bad;          /* [waiters] wake-ups without a new round */
};
void lb_judge_broadcast(struct lb_check *out, const struct lb_bc_evidence *e);

/* readmostly. */
struct lb_rm_evidence {
	uint64_t writes;        /* writes done (whole run) */
	uint64_t oom;           /* RCU copies that could not be allocated */
	uint64_t torn;          /* torn or poisoned reads */
	uint64_t reader_excl;   /* reads that saw a writer inside */
	uint64_t writer_excl;   /* writes that saw another writer inside */
	uint64_t version;       /* the final record's version (word 0) */
	bool final_torn;        /* the final record's words differ */
};
void lb_judge_readmostly(struct lb_check *out, const struct lb_rm_evidence *e);

#endif
