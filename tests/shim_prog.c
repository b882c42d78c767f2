/* The shim's test program: an ordinary pthreads program whose output is
 * exactly the same under glibc and under liblbshim.so with any mutex
 * (tests/test_shim.py compares them).  It uses every interposed call and
 * every case the shim must get right:
 *
 *   static   PTHREAD_MUTEX_INITIALIZER, 2 threads x 200000 increments
 *   nested   three locks held at once, released in another order than
 *            taken, by two threads
 *   trylock  EBUSY while another thread holds it, 0 once free
 *   recursive  attr-made and statically made recursive mutexes (the shim
 *            gives them to glibc): nested locks, owner's trylock, another
 *            thread's EBUSY
 *   errorcheck  relock by the owner is EDEADLK
 *   prodcons  a bounded buffer on two condition variables, a producer of
 *            100000 items and a consumer: count and sum
 *   broadcast  three waiters, one broadcast
 *   timed    cond_timedwait (CLOCK_REALTIME and a CLOCK_MONOTONIC condattr)
 *            and cond_clockwait time out and return holding the mutex;
 *            mutex_timedlock on a held mutex times out
 *   reinit   init, lock, unlock, destroy on the same memory, 1000 times
 *   fork     a child that starts threads and locks the static mutex
 *
 * At most two threads contend at once: the spinning FIFO locks (MCS and
 * its kin) collapse when threads outnumber CPUs (results/README: a
 * hand-over per scheduler slice), and CI machines have two.
 *
 * Exit status 0 when every line is as it must be; each line says what it
 * found either way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define SAY(ok, ...) do { printf(__VA_ARGS__); putchar('\n'); if (!(ok)) failures++; } while (0)

static pthread_mutex_t gm = PTHREAD_MUTEX_INITIALIZER;
static long gcount;

static void *static_worker(void *arg)
{
	long n = (long)(intptr_t)arg;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&gm);
		gcount++;
		pthread_mutex_unlock(&gm);
	}
	return NULL;
}

static void run_threads(int n, void *(*fn)(void *), void *arg)
{
	pthread_t th[8];
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, fn, arg);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

/* nested: A, B, C taken in order, released B, A, C */
static pthread_mutex_t la = PTHREAD_MUTEX_INITIALIZER, lb = PTHREAD_MUTEX_INITIALIZER,
		       lc = PTHREAD_MUTEX_INITIALIZER;
static long nested_count;

static void *nested_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50000; i++) {
		pthread_mutex_lock(&la);
		pthread_mutex_lock(&lb);
		pthread_mutex_lock(&lc);
		nested_count++;
		pthread_mutex_unlock(&lb);
		pthread_mutex_unlock(&la);
		pthread_mutex_unlock(&lc);
	}
	return NULL;
}

static int try_result;
static void *try_other(void *arg)
{
	pthread_mutex_t *m = arg;
	try_result = pthread_mutex_trylock(m);
	if (try_result == 0)
		pthread_mutex_unlock(m);
	return NULL;
}

static int try_from_other(pthread_mutex_t *m)
{
	run_threads(1, try_other, m);
	return try_result;
}

/* prodcons */
#define PC_CAP 8
#define PC_ITEMS 100000
static pthread_mutex_t pc_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pc_notfull = PTHREAD_COND_INITIALIZER, pc_notempty = PTHREAD_COND_INITIALIZER;
static long pc_buf[PC_CAP], pc_sum, pc_items;
static int pc_head, pc_n, pc_producers = 1;

static void *pc_producer(void *arg)
{
	long base = (long)(intptr_t)arg;
	for (long i = 1; i <= PC_ITEMS; i++) {
		pthread_mutex_lock(&pc_m);
		while (pc_n == PC_CAP)
			pthread_cond_wait(&pc_notfull, &pc_m);
		pc_buf[(pc_head + pc_n++) % PC_CAP] = base + i;
		pthread_cond_signal(&pc_notempty);
		pthread_mutex_unlock(&pc_m);
	}
	pthread_mutex_lock(&pc_m);
	pc_producers--;
	pthread_cond_broadcast(&pc_notempty);
	pthread_mutex_unlock(&pc_m);
	return NULL;
}

static void *pc_consumer(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&pc_m);
		while (pc_n == 0 && pc_producers > 0)
			pthread_cond_wait(&pc_notempty, &pc_m);
		if (pc_n == 0) {
			pthread_mutex_unlock(&pc_m);
			return NULL;
		}
		long v = pc_buf[pc_head];
		pc_head = (pc_head + 1) % PC_CAP;
		pc_n--;
		pc_sum += v;
		pc_items++;
		pthread_cond_signal(&pc_notfull);
		pthread_mutex_unlock(&pc_m);
	}
}

/* broadcast */
static pthread_mutex_t bc_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bc_c = PTHREAD_COND_INITIALIZER;
static int bc_flag, bc_waiting, bc_woke;

static void *bc_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bc_m);
	bc_waiting++;
	while (!bc_flag)
		pthread_cond_wait(&bc_c, &bc_m);
	bc_woke++;
	pthread_mutex_unlock(&bc_m);
	return NULL;
}

static void deadline(clockid_t clk, long ms, struct timespec *ts)
{
	clock_gettime(clk, ts);
	ts->tv_nsec += ms * 1000000;
	ts->tv_sec += ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

static pthread_mutex_t hold_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t hold_go = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_c = PTHREAD_COND_INITIALIZER;
static int hold_state;

static void *holder(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hold_m);
	pthread_mutex_lock(&hold_go);
	hold_state = 1;
	pthread_cond_signal(&hold_c);
	while (hold_state != 2)
		pthread_cond_wait(&hold_c, &hold_go);
	pthread_mutex_unlock(&hold_go);
	pthread_mutex_unlock(&hold_m);
	return NULL;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);

	run_threads(2, static_worker, (void *)(intptr_t)200000);
	SAY(gcount == 400000, "static: counter %ld (want 400000)", gcount);

	run_threads(2, nested_worker, NULL);
	SAY(nested_count == 100000, "nested: counter %ld (want 100000)", nested_count);

	pthread_mutex_t tm;
	pthread_mutex_init(&tm, NULL);
	pthread_mutex_lock(&tm);
	int busy = try_from_other(&tm);
	pthread_mutex_unlock(&tm);
	int free_ = try_from_other(&tm);
	SAY(busy == EBUSY && free_ == 0, "trylock: held %s, free %s", strerror(busy),
	    free_ ? strerror(free_) : "0");
	pthread_mutex_destroy(&tm);

	pthread_mutexattr_t ra;
	pthread_mutexattr_init(&ra);
	pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_t rm;
	pthread_mutex_init(&rm, &ra);
	static pthread_mutex_t srm = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	pthread_mutex_t *recs[2] = { &rm, &srm };
	for (int k = 0; k < 2; k++) {
		int r = 0;
		for (int i = 0; i < 3; i++)
			r |= pthread_mutex_lock(recs[k]);
		r |= pthread_mutex_trylock(recs[k]);
		int other = try_from_other(recs[k]);
		for (int i = 0; i < 4; i++)
			r |= pthread_mutex_unlock(recs[k]);
		int after = try_from_other(recs[k]);
		SAY(r == 0 && other == EBUSY && after == 0,
		    "recursive (%s): depth 4 then released; another thread's trylock: %s, then %s",
		    k ? "static" : "attr", strerror(other), after ? strerror(after) : "0");
	}
	pthread_mutex_destroy(&rm);

	pthread_mutexattr_settype(&ra, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t em;
	pthread_mutex_init(&em, &ra);
	pthread_mutex_lock(&em);
	int relock = pthread_mutex_lock(&em);
	pthread_mutex_unlock(&em);
	SAY(relock == EDEADLK, "errorcheck: the owner's relock: %s", strerror(relock));
	pthread_mutex_destroy(&em);
	pthread_mutexattr_destroy(&ra);

	pthread_t th[4];
	pthread_create(&th[0], NULL, pc_producer, (void *)(intptr_t)1000000);
	pthread_create(&th[1], NULL, pc_consumer, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	long want_sum = (long)PC_ITEMS * (PC_ITEMS + 1) / 2 + 1000000L * PC_ITEMS;
	SAY(pc_items == PC_ITEMS && pc_sum == want_sum, "prodcons: %ld items, sum %ld (want %d, %ld)",
	    pc_items, pc_sum, PC_ITEMS, want_sum);

	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, bc_waiter, NULL);
	for (;;) {
		pthread_mutex_lock(&bc_m);
		int w = bc_waiting;
		pthread_mutex_unlock(&bc_m);
		if (w == 3)
			break;
		usleep(1000);
	}
	pthread_mutex_lock(&bc_m);
	bc_flag = 1;
	pthread_cond_broadcast(&bc_c);
	pthread_mutex_unlock(&bc_m);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	SAY(bc_woke == 3, "broadcast: %d of 3 waiters woke", bc_woke);

	/* timed waits: nobody signals; each returns ETIMEDOUT holding m */
	pthread_mutex_t m;
	pthread_cond_t c, cm;
	pthread_condattr_t ca;
	pthread_mutex_init(&m, NULL);
	pthread_cond_init(&c, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cm, &ca);
	struct timespec ts;
	int r1, r2, r3, held = 0;
	pthread_mutex_lock(&m);
	deadline(CLOCK_REALTIME, 30, &ts);
	do
		r1 = pthread_cond_timedwait(&c, &m, &ts);
	while (r1 == 0);
	held += try_from_other(&m) == EBUSY;
	deadline(CLOCK_MONOTONIC, 30, &ts);
	do
		r2 = pthread_cond_timedwait(&cm, &m, &ts);
	while (r2 == 0);
	held += try_from_other(&m) == EBUSY;
	deadline(CLOCK_MONOTONIC, 30, &ts);
	do
		r3 = pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts);
	while (r3 == 0);
	held += try_from_other(&m) == EBUSY;
	pthread_mutex_unlock(&m);
	SAY(r1 == ETIMEDOUT && r2 == ETIMEDOUT && r3 == ETIMEDOUT && held == 3,
	    "timed: cond_timedwait %s, monotonic condattr %s, cond_clockwait %s; the mutex held "
	    "on %d of 3 returns", strerror(r1), strerror(r2), strerror(r3), held);
	pthread_cond_destroy(&c);
	pthread_cond_destroy(&cm);
	pthread_condattr_destroy(&ca);
	pthread_mutex_destroy(&m);

	pthread_t h;
	pthread_create(&h, NULL, holder, NULL);
	pthread_mutex_lock(&hold_go);
	while (hold_state != 1)
		pthread_cond_wait(&hold_c, &hold_go);
	pthread_mutex_unlock(&hold_go);
	deadline(CLOCK_REALTIME, 30, &ts);
	int tl = pthread_mutex_timedlock(&hold_m, &ts);
	pthread_mutex_lock(&hold_go);
	hold_state = 2;
	pthread_cond_signal(&hold_c);
	pthread_mutex_unlock(&hold_go);
	pthread_join(h, NULL);
	deadline(CLOCK_REALTIME, 30, &ts);
	int tl2 = pthread_mutex_timedlock(&hold_m, &ts);
	if (tl2 == 0)
		pthread_mutex_unlock(&hold_m);
	SAY(tl == ETIMEDOUT && tl2 == 0, "timedlock: held elsewhere %s, then free %s",
	    strerror(tl), tl2 ? strerror(tl2) : "0");

	int reinit_ok = 0;
	pthread_mutex_t rim;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_init(&rim, NULL);
		reinit_ok += pthread_mutex_lock(&rim) == 0 && pthread_mutex_unlock(&rim) == 0;
		pthread_mutex_destroy(&rim);
	}
	SAY(reinit_ok == 1000, "reinit: %d of 1000 init-lock-unlock-destroy rounds", reinit_ok);

	pid_t pid = fork();
	if (pid == 0) {
		gcount = 0;
		run_threads(2, static_worker, (void *)(intptr_t)10000);
		exit(gcount == 20000 ? 0 : 1); /* exit, not _exit: the shim writes its counts */
	}
	int st = -1;
	waitpid(pid, &st, 0);
	SAY(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "fork: the child's 2 threads counted %s", WIFEXITED(st) && WEXITSTATUS(st) == 0
	    ? "20000" : "wrong");
	return failures ? 1 : 0;
}
