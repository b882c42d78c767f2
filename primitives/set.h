/* The set kind: a concurrent map from 64-bit keys to 64-bit values (a set
 * with values), the structure people ask "lock-free, RCU, or behind which
 * lock?" about.
 *
 * lookup() returns true and the key's value in *val while the key is
 * present; insert() adds key -> val and returns true, or returns false
 * and changes nothing when the key is present; remove() deletes the key
 * and returns true, or returns false when it is absent.  All three are
 * linearizable.  Keys are below 2^62; values are what the caller stored,
 * never anything else: memory that held a removed entry is poisoned
 * (LB_SET_POISON over its key and value) before it is freed, so a lookup
 * that read freed memory returns a poisoned value and the workload's
 * check counts it.
 *
 * quiescent(), where not NULL, is called between operations (QSBR: a
 * quiescent state; the caller calls it after every op).
 *
 * After the threads are done, with nobody else running: count() is the
 * number of keys present, and foreach() visits each present key once
 * (the workload's check matches them against its logs).  resizes() counts
 * the table's resizes so far, or is NULL where the structure does not
 * expose them.
 *
 * Reclamation (smr.h; NULL where the structure frees nothing it unlinked
 * while readers may hold it): unreclaimed() is the bytes unlinked and not
 * yet freed, read by the workload's sampler from another thread during
 * the run; hold() calls fn(arg) inside one read-side section (HP: naming
 * the nodes on the path to key 0), the stalled reader of --param stall_ms
 * and of the tests.
 *
 * Capacity hint: lb_prim_cfg.permits is the key range (--param keys): a
 * fixed-size table sizes its buckets from it, a resizing one starts
 * there.
 */
#ifndef LB_SET_H
#define LB_SET_H

#include <stdint.h>

#include "prim.h"

#define LB_SET_POISON UINT64_C(0xdeadbeefdeadbeef)

struct lb_set_ops {
	struct lb_prim_ops base;
	bool (*lookup)(void *obj, void *tctx, uint64_t key, uint64_t *val);
	bool (*insert)(void *obj, void *tctx, uint64_t key, uint64_t val);
	bool (*remove)(void *obj, void *tctx, uint64_t key);
	void (*quiescent)(void *obj, void *tctx);
	uint64_t (*count)(void *obj);
	void (*foreach)(void *obj, void (*fn)(void *arg, uint64_t key, uint64_t val), void *arg);
	uint64_t (*resizes)(void *obj);
	uint64_t (*unreclaimed)(void *obj);
	void (*hold)(void *obj, void *tctx, void (*fn)(void *arg), void *arg);
};

/* foreach()'s callback that counts: count() for structures without their
 * own (arg: a uint64_t). */
static inline void lb_set_count_one(void *arg, uint64_t key, uint64_t val)
{
	(void)key;
	(void)val;
	(*(uint64_t *)arg)++;
}

/* A hash of a key for the tables (Stafford's mix 13, as splitmix64). */
static inline uint64_t lb_set_hash(uint64_t k)
{
	k = (k ^ (k >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	k = (k ^ (k >> 27)) * UINT64_C(0x94d049bb133111eb);
	return k ^ (k >> 31);
}

#endif
