/* The parking lot's table and its two operations (parking_lot.h). */
#include "parking_lot.h"

#include <stddef.h>
#include <time.h>

#include "futex.h"
#include "mutex_futex.h"
#include "prim.h"

#define LB_PARK_BITS 10
#define LB_PARK_BUCKETS (1u << LB_PARK_BITS)
/* Be fair at a random point of each next millisecond: 0.5 ms apart on
 * average, as parking_lot's FairTimeout. */
#define LB_PARK_FAIR_NS 1000000

/* A parked thread: one record per thread, in thread-local storage (a
 * thread parks on one address at a time).  word is 1 while it sleeps, 0
 * once an unpark picked it. */
struct lb_parked {
	const void *addr;
	struct lb_parked *next;
	uintptr_t token;
	_Atomic uint32_t word;
};

struct lb_park_bucket {
	struct lb_futex_mutex lock;
	struct lb_parked *head, *tail; /* FIFO; guarded by lock */
	uint64_t fair_at;              /* ns; guarded by lock */
	uint32_t seed;                 /* xorshift32 state; guarded by lock */
} __attribute__((aligned(LB_CACHELINE)));

/* Zero-initialised: every lock unlocked (futex-mutex's 0), queues empty. */
static struct lb_park_bucket lb_park_table[LB_PARK_BUCKETS];
static _Thread_local struct lb_parked lb_park_self;

static struct lb_park_bucket *bucket_of(const void *addr)
{
	/* Fibonacci hashing (Knuth 6.4): the top bits of addr * 2^64/phi. */
	uint64_t h = (uint64_t)(uintptr_t)addr * 0x9E3779B97F4A7C15ull;
	return &lb_park_table[h >> (64 - LB_PARK_BITS)];
}

uintptr_t lb_park(const void *addr, bool (*validate)(void *arg), void *arg)
{
	struct lb_park_bucket *b = bucket_of(addr);
	struct lb_parked *me = &lb_park_self;

	lb_futex_mutex_lock(&b->lock, NULL);
	if (!validate(arg)) {
		lb_futex_mutex_unlock(&b->lock, NULL);
		return LB_PARK_INVALID;
	}
	me->addr = addr;
	me->next = NULL;
	me->token = 0;
	/* relaxed: only unparkers read it, under the bucket lock we hold. */
	atomic_store_explicit(&me->word, 1, memory_order_relaxed);
	if (b->tail)
		b->tail->next = me;
	else
		b->head = me;
	b->tail = me;
	lb_futex_mutex_unlock(&b->lock, NULL);

	/* acquire: pairs with the release store of 0 in lb_unpark_one, which
	 * follows the token's write and the unparker's own work. */
	while (atomic_load_explicit(&me->word, memory_order_acquire) == 1)
		lb_futex_wait(&me->word, 1, NULL);
	return me->token;
}

unsigned lb_parked_on(const void *addr)
{
	struct lb_park_bucket *b = bucket_of(addr);
	unsigned n = 0;
	lb_futex_mutex_lock(&b->lock, NULL);
	for (struct lb_parked *t = b->head; t; t = t->next)
		n += t->addr == addr;
	lb_futex_mutex_unlock(&b->lock, NULL);
	return n;
}

void lb_unpark_one(const void *addr,
		   uintptr_t (*callback)(void *arg, struct lb_unpark_result r), void *arg)
{
	struct lb_park_bucket *b = bucket_of(addr);
	struct lb_unpark_result r = { 0 };
	struct lb_parked *prev = NULL, *t;

	lb_futex_mutex_lock(&b->lock, NULL);
	for (t = b->head; t && t->addr != addr; t = t->next)
		prev = t;
	if (t) {
		if (prev)
			prev->next = t->next;
		else
			b->head = t->next;
		if (b->tail == t)
			b->tail = prev;
		r.unparked = true;
		for (struct lb_parked *o = t->next; o && !r.more; o = o->next)
			r.more = o->addr == addr;
		uint64_t now = lb_mono_ns();
		if (now >= b->fair_at) {
			r.be_fair = true;
			/* the next fair point: a random time in the next ms */
			uint32_t x = b->seed ? b->seed : (uint32_t)(uintptr_t)b | 1u;
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b->seed = x;
			b->fair_at = now + x % LB_PARK_FAIR_NS;
		}
	}
	uintptr_t token = callback(arg, r);
	if (t)
		t->token = token;
	lb_futex_mutex_unlock(&b->lock, NULL);
	if (t) {
		/* release: the token and everything before this call, for the
		 * sleeper's acquire load.  After the store the record may be
		 * reused (the thread parks again) or gone (it exited): only its
		 * address goes to FUTEX_WAKE, harmless either way (futex.h). */
		_Atomic uint32_t *w = &t->word;
		atomic_store_explicit(w, 0, memory_order_release);
		lb_futex_wake(w, 1);
	}
}
