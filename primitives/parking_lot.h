/* A parking lot: where threads that wait on any address sleep, so that the
 * address itself needs no room for a queue (a lock can be one byte).  The
 * design of WebKit's WTF::ParkingLot (Filip Pizlo, "Locking in WebKit",
 * 2016) and of Rust's parking_lot crate (Amanieu d'Antras); our code.
 *
 * One global hash table of buckets, keyed by address.  A bucket holds a
 * lock (futex-mutex) and a FIFO queue of the parked threads whose address
 * hashes there.  Each thread sleeps on a futex word of its own (in
 * thread-local storage), so a wake-up goes to exactly the thread chosen.
 *
 *   lb_park(addr, validate, arg)
 *       Under the bucket's lock, calls validate(arg); if it returns false,
 *       returns LB_PARK_INVALID at once.  Otherwise enqueues the calling
 *       thread at the tail, drops the bucket's lock and sleeps until an
 *       unpark picks it; returns that unpark's token.  Because validate
 *       runs under the same lock as every unpark of addr, a caller that
 *       re-checks its word there cannot miss the wake-up that follows a
 *       change of that word.
 *   lb_unpark_one(addr, callback, arg)
 *       Under the bucket's lock, takes the first thread parked on addr (if
 *       any) off the queue and calls callback(arg, result) with whether one
 *       was taken, whether others remain, and whether it is time to be fair
 *       (result.be_fair: true at most about once per millisecond per bucket,
 *       at a random point in it, as parking_lot's FairTimeout).  The
 *       callback's return value is the token that thread's lb_park returns.
 *       The callback runs before the bucket's lock is dropped, so it can
 *       update the caller's word atomically with respect to lb_park's
 *       validate.  Then the thread is woken (after the bucket's lock is
 *       dropped).
 *
 * Orders: the wake-up is a release store of the sleeper's word (0) after
 * the token is written; the sleeper's loop reads it with an acquire load.
 * So everything the unparking thread did before lb_unpark_one (its whole
 * critical section, for a lock that hands itself over) happens-before
 * lb_park's return.  Every return path of lb_park acquires: the invalid
 * path by the bucket lock's acquire, the parked path by that load.
 *
 * The table has a fixed size (LB_PARK_BUCKETS): WebKit and parking_lot
 * grow theirs with the number of threads; with the few hundred threads
 * lockbench runs at most, a fixed 1024 keeps the chains short.
 */
#ifndef LB_PARKING_LOT_H
#define LB_PARKING_LOT_H

#include <stdbool.h>
#include <stdint.h>

#define LB_PARK_INVALID ((uintptr_t)-1)

struct lb_unpark_result {
	bool unparked;    /* a thread was taken off the queue */
	bool more;        /* others remain parked on the address */
	bool be_fair;     /* the bucket's fair-time is due */
};

uintptr_t lb_park(const void *addr, bool (*validate)(void *arg), void *arg);
/* How many threads are parked on addr now (for tests and diagnostics). */
unsigned lb_parked_on(const void *addr);
void lb_unpark_one(const void *addr,
		   uintptr_t (*callback)(void *arg, struct lb_unpark_result r), void *arg);

#endif
