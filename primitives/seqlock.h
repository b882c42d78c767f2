/* The seqlock kind: writers serialise and bump a sequence number around
 * every update; readers take no lock at all, read optimistically and
 * retry when the sequence moved (Lameter's seqlock, Linux's seqlock_t).
 *
 *   read_begin()      waits while a writer is inside (an odd sequence)
 *                     and returns the sequence it saw;
 *   read_retry(seq)   after the reads: true if a writer has been inside
 *                     since read_begin returned seq, so what was read may
 *                     be torn and must be read again;
 *   write_lock()      excludes other writers and makes the sequence odd;
 *   write_unlock()    makes it even again, one generation on.
 *
 * The data a seqlock protects is read while writers change it, so every
 * access to it must be an atomic (relaxed is enough): a plain access would
 * be a data race, undefined behaviour in C11.  The orders follow Boehm,
 * "Can Seqlocks Get Along With Programming Language Memory Models?"
 * (MSPC 2012): read_begin's load acquires, read_retry puts an acquire
 * fence before its load of the sequence, write_lock puts a release fence
 * after making the sequence odd, and write_unlock stores it with release.
 * Readers never block writers; writers starve readers that keep retrying.
 * pthread has no seqlock, so the kind has no pthread implementation.
 */
#ifndef LB_SEQLOCK_H
#define LB_SEQLOCK_H

#include "prim.h"

struct lb_seqlock_ops {
	struct lb_prim_ops base;
	unsigned (*read_begin)(void *obj);
	bool (*read_retry)(void *obj, unsigned seq);
	void (*write_lock)(void *obj, void *tctx);
	void (*write_unlock)(void *obj, void *tctx);
};

#endif
