/* Semantics of every registered primitive, through the registry's ops (the
 * same objects the workloads inline).  TAP output, one line per check.
 *
 *   mutex:   mutual exclusion at 1, 2, 4 and 8 threads, by a CK-style
 *            in-section check (count a private word up to K inside the
 *            section, check it reads K, count it back down), by an exact
 *            shared counter and by a plain (non-atomic) shadow counter that
 *            ThreadSanitizer watches; trylock is false while another thread
 *            holds the lock, true when it is free, and never blocks.
 *   counter: exact totals at 1, 2, 4 and 8 threads.
 *   none-racy must lose updates at 2 threads (negative control) and
 *   test-busted must fail the mutual-exclusion check (the checker works).
 *   Other hidden (deliberately broken) implementations run only when named
 *   with --impl.
 *
 * Every case runs in a child process under a hang guard (see run_case), so
 * one hung or crashed implementation fails its case and the rest still run.
 *
 * usage: test_prims [--backend NAME]... [--impl ID]...  (default: all)
 * LB_TEST_GUARD_S=N: seconds a case may run before it counts as hung (60).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "timer.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- TAP, and each case in its own process ----
 * A case (one implementation, one thing checked) runs in a forked child, so
 * that a hang, a crash or a sanitizer report fails that case and the next
 * one still runs.  The child sends each check to the parent down a pipe,
 * one line each ("1 text" passed, "0 text" failed, one write(2) of less
 * than PIPE_BUF, so never torn); the parent numbers them as TAP lines as
 * they come, so a case that hangs half-way still shows what it checked.
 * Anything else the child prints goes to stderr, never into the TAP stream.
 *
 * The parent waits guard_s seconds (60, or LB_TEST_GUARD_S) for the child:
 * a hang guard, not a timing assertion (the slowest case takes a few
 * seconds).  A child still running then is killed after its threads'
 * kernel states are printed; one that dies of a signal (ASan aborts under
 * abort_on_error), exits non-zero (ThreadSanitizer exits 66 after a report,
 * LeakSanitizer 23, a bail-out 1) or reports nothing fails its case too.
 * The parent never starts a thread: fork() from a single-threaded process
 * is what ThreadSanitizer supports. */

static int tap_n, tap_failed;
static int case_fd = -1; /* in a child: the pipe to the parent */
static long guard_s = 60;

static void tap_line(int ok, const char *text)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_n, text);
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + 2, sizeof(buf) - 3, fmt, ap);
	va_end(ap);
	for (char *p = buf + 2; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (case_fd < 0) {
		tap_line(ok, buf + 2);
		return;
	}
	buf[0] = ok ? '1' : '0';
	buf[1] = ' ';
	size_t len = strlen(buf);
	buf[len++] = '\n';
	if (write(case_fd, buf, len) != (ssize_t)len)
		_exit(3); /* the parent is gone */
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Where each thread of a hung child is: its state and kernel wait channel,
 * as TAP comments. */
static void show_tasks(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char state = '?', wchan[64] = "?";
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (f) {
			size_t len = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[len] = '\0';
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ')
				state = p[2];
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/wchan", (int)pid, e->d_name);
		if ((f = fopen(path, "r")) != NULL) {
			size_t len = fread(wchan, 1, sizeof(wchan) - 1, f);
			fclose(f);
			wchan[len] = '\0';
		}
		printf("# thread %s: state %c, waiting in %s\n", e->d_name, state,
		       strcmp(wchan, "0") == 0 ? "user space" : wchan);
	}
	closedir(d);
	fflush(stdout);
}

/* Prints the complete lines in buf[0..*len) as TAP lines and keeps the
 * rest; returns how many it printed. */
static int emit_lines(char *buf, size_t *len)
{
	int n = 0;
	char *start = buf, *nl;
	while ((nl = memchr(start, '\n', *len - (size_t)(start - buf))) != NULL) {
		*nl = '\0';
		if ((start[0] == '0' || start[0] == '1') && start[1] == ' ')
			tap_line(start[0] == '1', start + 2);
		else
			tap_line(0, "a case sent a malformed line");
		n++;
		start = nl + 1;
	}
	*len -= (size_t)(start - buf);
	memmove(buf, start, *len);
	return n;
}

typedef void case_fn(const struct lb_impl *im, unsigned n);

/* Runs fn(im, n) in a child under the hang guard; what names the case in
 * the runner's own lines.  Returns how many of the case's lines failed. */
static int run_case(const struct lb_impl *im, case_fn *fn, unsigned n, const char *what, ...)
	__attribute__((format(printf, 4, 5)));
static int run_case(const struct lb_impl *im, case_fn *fn, unsigned n, const char *what, ...)
{
	char name[256], buf[8192];
	va_list ap;
	int fds[2], failed0 = tap_failed;

	va_start(ap, what);
	vsnprintf(name, sizeof(name), what, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		exit(1);
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (pid == 0) {
		close(fds[0]);
		case_fd = fds[1];
		dup2(STDERR_FILENO, STDOUT_FILENO);
		fn(im, n);
		/* exit, not _exit: the sanitizers report leaks and races, and set
		 * the exit status, from exit's handlers. */
		exit(0);
	}
	close(fds[1]);

	uint64_t deadline = mono_ms() + (uint64_t)guard_s * 1000u;
	size_t len = 0;
	int lines = 0, hung = 0, status = 0;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline) {
			hung = 1;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR) {
			printf("Bail out! poll: %s\n", strerror(errno));
			exit(1);
		}
		if (r <= 0)
			continue;
		ssize_t k = read(fds[0], buf + len, sizeof(buf) - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* end of file: the child is exiting */
		len += (size_t)k;
		lines += emit_lines(buf, &len);
		if (len == sizeof(buf)) { /* one line longer than buf: cannot be ours */
			tap_line(0, "a case sent an over-long line");
			len = 0;
		}
	}
	close(fds[0]);
	/* Its exit handlers (the sanitizers' leak and race checks) are still
	 * under the guard. */
	while (!hung) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			printf("Bail out! waitpid: %s\n", strerror(errno));
			exit(1);
		}
		if (mono_ms() >= deadline)
			hung = 1;
		else
			sleep_ms(2);
	}
	if (hung) {
		show_tasks(pid);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		tap(0, "%s %s: hung (killed after %ld s)", im->id, name, guard_s);
	} else if (WIFSIGNALED(status)) {
		tap(0, "%s %s: killed by signal %d (%s): see its stderr", im->id, name,
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else if (WEXITSTATUS(status) != 0) {
		tap(0, "%s %s: exited with status %d (a sanitizer report or a bail-out): see its "
		    "stderr", im->id, name, WEXITSTATUS(status));
	} else if (lines == 0 || len != 0) {
		tap(0, "%s %s: reported %s", im->id, name, len ? "a truncated line" : "nothing");
	}
	return tap_failed - failed0;
}

/* ---- mutual exclusion ---- */

#define RUN_MS 150
#define IN_SECTION_K 8

struct mx_shared {
	const struct lb_impl *im;
	void *lock;
	int plain; /* whether the plain shadow is kept */
	_Atomic int go, stop;
	_Atomic unsigned ready;
	/* Only touched inside the section: relaxed atomics so that a broken
	 * lock shows up as a failed check, not as undefined behaviour. */
	_Atomic uint64_t in_section, counter;
	_Atomic uint64_t violations;
	/* The shadow: plain, so that ThreadSanitizer reports a lock whose
	 * unlock does not release (or lock does not acquire) as a data race on
	 * it, where the relaxed atomics above would hide the missing order. */
	uint64_t shadow;
};

struct mx_thread {
	struct mx_shared *sh;
	unsigned tid;
	uint64_t ops;
	int err;
};

static void *mx_worker(void *arg)
{
	struct mx_thread *t = arg;
	struct mx_shared *sh = t->sh;
	const struct lb_mutex_ops *ops = sh->im->ops.mutex;
	struct lb_thread_info ti = { .tid = t->tid, .cpu = -1, .cluster = 0 };
	void *tctx;

	if ((t->err = lb_prim_thread_attach(sh->im, sh->lock, &ti, &tctx)) != 0) {
		atomic_fetch_add(&sh->ready, 1);
		return NULL;
	}
	atomic_fetch_add(&sh->ready, 1);
	while (!atomic_load(&sh->go))
		;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		ops->lock(sh->lock, tctx);
		uint64_t v0 = atomic_load_explicit(&sh->in_section, memory_order_relaxed);
		for (int k = 0; k < IN_SECTION_K; k++)
			atomic_store_explicit(&sh->in_section,
				atomic_load_explicit(&sh->in_section, memory_order_relaxed) + 1,
				memory_order_relaxed);
		uint64_t v1 = atomic_load_explicit(&sh->in_section, memory_order_relaxed);
		for (int k = 0; k < IN_SECTION_K; k++)
			atomic_store_explicit(&sh->in_section,
				atomic_load_explicit(&sh->in_section, memory_order_relaxed) - 1,
				memory_order_relaxed);
		if (v0 != 0 || v1 != IN_SECTION_K)
			atomic_fetch_add(&sh->violations, 1);
		atomic_store_explicit(&sh->counter,
			atomic_load_explicit(&sh->counter, memory_order_relaxed) + 1,
			memory_order_relaxed);
		if (sh->plain)
			sh->shadow++;
		ops->unlock(sh->lock, tctx);
		t->ops++;
	}
	lb_prim_thread_detach(sh->im, sh->lock, tctx);
	return NULL;
}

struct mx_result {
	int err;             /* setup or attach error */
	uint64_t ops;        /* lock/unlock pairs */
	uint64_t violations; /* in-section check failures */
	uint64_t counter;    /* the relaxed shared counter */
	uint64_t shadow;     /* the plain shadow (ops when not kept) */
};

static struct mx_result mutex_exclusion(const struct lb_impl *im, unsigned n)
{
	/* A deliberately broken lock would make the plain shadow a data race:
	 * undefined behaviour where the test wants a failed check. */
	struct mx_shared sh = { .im = im, .plain = !(im->caps & LB_CAP_HIDDEN) };
	struct mx_thread t[16];
	pthread_t th[16];
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct mx_result res = { 0 };

	if ((res.err = lb_prim_create(im, &cfg, &sh.lock)) != 0)
		return res;
	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct mx_thread){ .sh = &sh, .tid = i };
		int ret = pthread_create(&th[i], NULL, mx_worker, &t[i]);
		if (ret) {
			printf("Bail out! pthread_create: %s\n", strerror(ret));
			exit(1);
		}
	}
	while (atomic_load(&sh.ready) < n)
		sleep_ms(1);
	atomic_store(&sh.go, 1);
	sleep_ms(RUN_MS);
	atomic_store(&sh.stop, 1);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		res.ops += t[i].ops;
		res.err = res.err ? res.err : t[i].err;
	}
	res.violations = atomic_load(&sh.violations);
	res.counter = atomic_load(&sh.counter);
	res.shadow = sh.plain ? sh.shadow : res.ops;
	lb_prim_destroy(im, sh.lock);
	return res;
}

static uint64_t mx_bad(const struct mx_result *r)
{
	return r->violations + (r->ops - r->counter) + (r->ops - r->shadow);
}

static void case_exclusion(const struct lb_impl *im, unsigned n)
{
	struct mx_result r = mutex_exclusion(im, n);
	tap(!r.err && r.ops > 0 && mx_bad(&r) == 0, "%s: %u threads: mutual exclusion held "
	    "over %llu ops (%llu in-section violations, counter %llu, plain shadow %llu%s%s)",
	    im->id, n, (unsigned long long)r.ops, (unsigned long long)r.violations,
	    (unsigned long long)r.counter, (unsigned long long)r.shadow,
	    r.err ? ", error: " : "", r.err ? strerror(r.err) : "");
}

/* test-busted: the checker must catch it.  If the threads never overlapped
 * (a busy machine), try again, up to 10 times. */
static void case_busted(const struct lb_impl *im, unsigned n)
{
	struct mx_result r = mutex_exclusion(im, n);
	for (int a = 0; !r.err && mx_bad(&r) == 0 && a < 10; a++)
		r = mutex_exclusion(im, n);
	tap(!r.err && mx_bad(&r) > 0, "%s: %u threads: the broken lock is caught (%llu "
	    "violations, counter %llu of %llu ops)", im->id, n, (unsigned long long)r.violations,
	    (unsigned long long)r.counter, (unsigned long long)r.ops);
}

/* ---- trylock ---- */

struct try_arg {
	const struct lb_impl *im;
	void *lock;
	unsigned tid;
	int result;
	_Atomic int done;
};

static void *try_once(void *arg)
{
	struct try_arg *a = arg;
	struct lb_thread_info ti = { .tid = a->tid, .cpu = -1 };
	void *tctx;
	if (lb_prim_thread_attach(a->im, a->lock, &ti, &tctx) != 0) {
		a->result = -1;
	} else {
		a->result = a->im->ops.mutex->trylock(a->lock, tctx);
		if (a->result)
			a->im->ops.mutex->unlock(a->lock, tctx);
		lb_prim_thread_detach(a->im, a->lock, tctx);
	}
	atomic_store(&a->done, 1);
	return NULL;
}

/* Trylock from another thread; -2 if it did not return within 5 s (the
 * thread is leaked: the case has failed and its process ends). */
static int try_from_other_thread(const struct lb_impl *im, void *lock, unsigned tid)
{
	struct try_arg *a = calloc(1, sizeof(*a));
	pthread_t th;
	if (!a) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	*a = (struct try_arg){ .im = im, .lock = lock, .tid = tid };
	pthread_create(&th, NULL, try_once, a);
	for (int i = 0; i < 5000 && !atomic_load(&a->done); i++)
		sleep_ms(1);
	if (!atomic_load(&a->done)) {
		pthread_detach(th);
		return -2;
	}
	pthread_join(th, NULL);
	int r = a->result;
	free(a);
	return r;
}

static void case_trylock(const struct lb_impl *im, unsigned n)
{
	const struct lb_mutex_ops *ops = im->ops.mutex;
	struct lb_prim_cfg cfg = { .nthreads = 4, .nclusters = 1 };
	struct lb_thread_info ti = { .tid = 0, .cpu = -1 };
	void *lock, *tctx;

	(void)n;
	if (lb_prim_create(im, &cfg, &lock) != 0 ||
	    lb_prim_thread_attach(im, lock, &ti, &tctx) != 0) {
		tap(0, "%s: trylock setup", im->id);
		return;
	}
	int r = ops->trylock(lock, tctx);
	tap(r == 1, "%s: trylock on a free lock succeeds", im->id);
	if (r)
		ops->unlock(lock, tctx);

	ops->lock(lock, tctx);
	r = try_from_other_thread(im, lock, 1);
	tap(r == 0, "%s: trylock while another thread holds it returns false without "
	    "blocking (got %s)", im->id, r == -2 ? "blocked" : r == 1 ? "true" : r == 0 ? "false"
									   : "error");
	ops->unlock(lock, tctx);
	if (r == -2)
		return;
	r = try_from_other_thread(im, lock, 2);
	tap(r == 1, "%s: trylock after release succeeds", im->id);
	if (r == -2)
		return;
	lb_prim_thread_detach(im, lock, tctx);
	lb_prim_destroy(im, lock);
}

/* ---- lock-free counters ----
 * Time-based, like the harness: every thread adds until told to stop, and
 * the total must equal the sum of the adds.  The window opens only once
 * every thread is running, so the threads really overlap even when the
 * machine is busy with other tests. */

struct cnt_shared {
	const struct lb_impl *im;
	void *obj;
	_Atomic unsigned started;
	_Atomic int stop;
};

struct cnt_arg {
	struct cnt_shared *sh;
	unsigned tid;
	uint64_t adds;
};

static void *cnt_worker(void *arg)
{
	struct cnt_arg *a = arg;
	struct cnt_shared *sh = a->sh;
	struct lb_thread_info ti = { .tid = a->tid, .cpu = -1 };
	void *tctx;
	if (lb_prim_thread_attach(sh->im, sh->obj, &ti, &tctx) != 0) {
		atomic_fetch_add(&sh->started, 1);
		return NULL;
	}
	atomic_fetch_add(&sh->started, 1);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		sh->im->ops.counter->add(sh->obj, tctx);
		a->adds++;
	}
	lb_prim_thread_detach(sh->im, sh->obj, tctx);
	return NULL;
}

/* Runs n threads for about ms milliseconds of overlap; returns the total
 * and the number of adds made in *adds. */
static uint64_t counter_total(const struct lb_impl *im, unsigned n, long ms, uint64_t *adds)
{
	struct lb_prim_cfg cfg = { .nthreads = n, .nclusters = 1 };
	struct cnt_shared sh = { .im = im };
	struct cnt_arg a[16];
	pthread_t th[16];

	*adds = 0;
	if (lb_prim_create(im, &cfg, &sh.obj) != 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		a[i] = (struct cnt_arg){ .sh = &sh, .tid = i };
		pthread_create(&th[i], NULL, cnt_worker, &a[i]);
	}
	while (atomic_load(&sh.started) < n)
		sleep_ms(1);
	sleep_ms(ms);
	atomic_store(&sh.stop, 1);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		*adds += a[i].adds;
	}
	uint64_t t = im->ops.counter->total(sh.obj);
	lb_prim_destroy(im, sh.obj);
	return t;
}

static void case_counter(const struct lb_impl *im, unsigned n)
{
	uint64_t adds;
	uint64_t t = counter_total(im, n, 30, &adds);
	tap(t == adds && adds > 0, "%s: %u threads: total %llu == %llu adds", im->id, n,
	    (unsigned long long)t, (unsigned long long)adds);
}

/* Negative control: with two threads really running at once, the separate
 * load and store must lose updates.  Retry a few times in case the threads
 * happened not to overlap. */
static void case_racy(const struct lb_impl *im, unsigned n)
{
	uint64_t t = 0, adds = 0;
	for (int attempt = 0; attempt < 10 && t == adds; attempt++)
		t = counter_total(im, n, 50L << (attempt < 4 ? attempt : 4), &adds);
	tap(t < adds, "%s: %u threads lose updates (%llu of %llu survived)", im->id, n,
	    (unsigned long long)t, (unsigned long long)adds);
}

/* ---- selection ---- */

static const char *sel_backends[16], *sel_impls[64];
static int nsel_b, nsel_i;

static int named(const struct lb_impl *im)
{
	for (int i = 0; i < nsel_i; i++)
		if (strcmp(sel_impls[i], im->id) == 0)
			return 1;
	return 0;
}

static int selected(const struct lb_impl *im)
{
	if (!nsel_b && !nsel_i)
		return 1;
	for (int i = 0; i < nsel_b; i++)
		if (strcmp(sel_backends[i], im->backend) == 0)
			return 1;
	return named(im);
}

/* ThreadSanitizer sees C11 atomics and the pthread calls it intercepts, not
 * the inline assembly of CK's ck_pr (or liburcu's uatomic): under it, a
 * correct CK lock would look like a data race on the plain shadow. */
static int tsan_blind(const struct lb_impl *im)
{
	return UNDER_TSAN && (strcmp(im->backend, "ck") == 0 || strcmp(im->backend, "urcu") == 0);
}

int main(int argc, char **argv)
{
	static const unsigned counts[] = { 1, 2, 4, 8 };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc && nsel_b < 16)
			sel_backends[nsel_b++] = argv[++i];
		else if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc && nsel_i < 64)
			sel_impls[nsel_i++] = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--backend NAME]... [--impl ID]...\n", argv[0]);
			return 2;
		}
	}
	const char *g = getenv("LB_TEST_GUARD_S");
	if (g && *g) {
		char *end;
		long v = strtol(g, &end, 10);
		if (*end || v < 1 || v > 86400) {
			fprintf(stderr, "LB_TEST_GUARD_S: not a number of seconds 1..86400: %s\n", g);
			return 2;
		}
		guard_s = v;
	}
	lb_timer_calibrate();

	for (size_t j = 0; j < LB_IMPL_COUNT; j++) {
		const struct lb_impl *im = &lb_impls[j];
		if (!selected(im))
			continue;
		/* The other kinds have their own semantics: tests/test_kinds.c. */
		if (im->kind != LB_KIND_MUTEX && im->kind != LB_KIND_COUNTER &&
		    im->kind != LB_KIND_NONE)
			continue;
		/* test-busted is the checker's negative control; the other
		 * deliberately broken implementations (test-stuck stalls by
		 * design: the watchdog test runs it) only when named. */
		int busted = strcmp(im->id, "test-busted") == 0;
		if ((im->caps & LB_CAP_HIDDEN) && !busted && !named(im))
			continue;
		if (tsan_blind(im)) {
			tap(1, "%s # SKIP ThreadSanitizer cannot see its atomics", im->id);
			continue;
		}
		if (im->kind == LB_KIND_MUTEX) {
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
				if (busted && counts[c] >= 2)
					run_case(im, case_busted, counts[c], "caught, %u threads",
						 counts[c]);
				else if (!busted)
					run_case(im, case_exclusion, counts[c],
						 "mutual exclusion, %u threads", counts[c]);
			}
			if (im->ops.mutex->trylock && !busted)
				run_case(im, case_trylock, 0, "trylock");
		} else if (im->caps & LB_CAP_RACY) {
			run_case(im, case_racy, 2, "loses updates, 2 threads");
		} else {
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
				run_case(im, case_counter, counts[c], "exact total, %u threads",
					 counts[c]);
		}
	}
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
