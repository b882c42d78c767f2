/* lbtap: the per-case TAP runner of test_prims and test_kinds.  How it
 * works and what it promises: lbtap.h. */
#include "lbtap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"

static int tap_n, tap_failed;
static int case_fd = -1; /* in a child: the pipe to the parent */
static long guard_s = 60;

static const char *sel_backends[16], *sel_impls[64];
static int nsel_b, nsel_i;

/* ---- helpers ---- */

void tap_bail(const char *fmt, ...)
{
	va_list ap;
	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

void tap_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

uint64_t tap_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the hang guard (lbtap.h) ---- */

/* Reads a small /proc file into buf; its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, size - 1);
	close(fd);
	if (r >= 0)
		buf[r] = '\0';
	return r;
}

/* Whether a watched thread is starved now: runnable, and its run time has
 * not moved for TAP_STARVED_MS. */
static int guard_scan(struct tap_guard *g, uint64_t now)
{
	char dir[64], path[96], buf[512];
	int starved = 0;
	snprintf(dir, sizeof(dir), g->pid ? "/proc/%d/task" : "/proc/self/task", (int)g->pid);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		pid_t tid = (pid_t)atoi(e->d_name);
		snprintf(path, sizeof(path), "%s/%d/stat", dir, (int)tid);
		if (read_small(path, buf, sizeof(buf)) <= 0)
			continue; /* gone */
		const char *p = strrchr(buf, ')');
		char state = p && p[1] == ' ' ? p[2] : '?';
		snprintf(path, sizeof(path), "%s/%d/schedstat", dir, (int)tid);
		unsigned long long run = 0;
		if (read_small(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%llu", &run) != 1)
			continue;
		unsigned i = 0;
		while (i < g->n && g->t[i].tid != tid)
			i++;
		if (i == g->n) {
			if (g->n == TAP_GUARD_TIDS)
				continue; /* unwatched: counts as running */
			g->n++;
			g->t[i].tid = tid;
			g->t[i].run_ns = run;
			g->t[i].seen_ms = now;
			continue;
		}
		if (state != 'R' || run != g->t[i].run_ns) {
			g->t[i].run_ns = run;
			g->t[i].seen_ms = now;
		} else if (now - g->t[i].seen_ms > TAP_STARVED_MS) {
			starved = 1;
		}
	}
	closedir(d);
	return starved;
}

void tap_guard_start(struct tap_guard *g, pid_t pid, long ms)
{
	g->pid = pid;
	g->left_ms = ms > 0 ? (uint64_t)ms : 0;
	g->n = 0;
	g->starved = 0;
	/* No scan yet: most waits end within a poll or two, and a thread
	 * first seen at a later scan is starved only TAP_STARVED_MS after. */
	g->last_ms = g->scan_ms = tap_now_ms();
}

void tap_guard_reset(struct tap_guard *g, long ms)
{
	g->left_ms = ms > 0 ? (uint64_t)ms : 0;
	g->last_ms = tap_now_ms();
}

/* Scans at most every TAP_GUARD_SCAN_MS: the polls come every 1-10 ms, a
 * scan reads two files per thread, and starvation is a matter of
 * TAP_STARVED_MS.  (Scanning every 20 ms, and at every restart of the
 * barrier case's guard, made test_kinds half as slow again under TSan.) */
int tap_guard_over(struct tap_guard *g)
{
	uint64_t now = tap_now_ms(), dt = now - g->last_ms;
	g->last_ms = now;
	if (now - g->scan_ms >= TAP_GUARD_SCAN_MS) {
		g->starved = guard_scan(g, now);
		g->scan_ms = now;
	}
	if (dt > TAP_GUARD_STEP_MS || g->starved)
		dt = 0;
	g->left_ms = dt >= g->left_ms ? 0 : g->left_ms - dt;
	return g->left_ms == 0;
}

void *tap_xcalloc(size_t size)
{
	void *p = calloc(1, size);
	if (!p)
		tap_bail("out of memory");
	return p;
}

void tap_spawn(pthread_t *th, void *(*fn)(void *), void *arg)
{
	int ret = pthread_create(th, NULL, fn, arg); /* returns the error, sets no errno */
	if (ret)
		tap_bail("pthread_create: %s", strerror(ret));
}

/* The state letter of a /proc/.../stat file: the field after the command
 * name, which is in parentheses and may itself hold spaces and ')'. */
static char stat_state(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

char tap_task_state(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	return stat_state(path);
}

int tap_shadow_ok(const struct lb_impl *im)
{
	return !(im->caps & LB_CAP_HIDDEN);
}

/* ---- TAP lines ---- */

static void tap_line(int ok, const char *text)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_n, text);
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

void tap(int ok, const char *fmt, ...)
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

/* Ends the case's process here, its results already sent: for a case
 * whose helper threads are stuck and leaked.  It must not return, as the
 * helpers may still touch its stack frame (one that started 20 s late, on
 * a loaded machine, wrote into a returned frame: an ASan
 * stack-use-after-return).  No exit handlers: the leak is deliberate. */
void tap_abandon(void)
{
	fflush(stdout);
	fflush(stderr);
	_exit(case_fd >= 0 ? 0 : 1);
}

int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/* ---- selection ---- */

void tap_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc && nsel_b < 16)
			sel_backends[nsel_b++] = argv[++i];
		else if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc && nsel_i < 64)
			sel_impls[nsel_i++] = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--backend NAME]... [--impl ID]...\n", argv[0]);
			exit(2);
		}
	}
	const char *g = getenv("LB_TEST_GUARD_S");
	if (g && *g) {
		char *end;
		long v = strtol(g, &end, 10);
		if (*end || v < 1 || v > 86400) {
			fprintf(stderr, "LB_TEST_GUARD_S: not a number of seconds 1..86400: %s\n",
				g);
			exit(2);
		}
		guard_s = v;
	}
}

int tap_named(const struct lb_impl *im)
{
	for (int i = 0; i < nsel_i; i++)
		if (strcmp(sel_impls[i], im->id) == 0)
			return 1;
	return 0;
}

static int chosen(const struct lb_impl *im)
{
	if (!nsel_b && !nsel_i)
		return 1;
	for (int i = 0; i < nsel_b; i++)
		if (strcmp(sel_backends[i], im->backend) == 0)
			return 1;
	return tap_named(im);
}

int tap_selected(const struct lb_impl *im)
{
	if (!chosen(im))
		return 0;
	if (lb_impl_unavailable(im)) {
		/* never silently missing: a SKIP with the reason */
		tap(1, "%s # SKIP unavailable here: %s", im->id, lb_impl_unavailable(im));
		return 0;
	}
	return 1;
}

/* ---- each case in its own process ---- */

/* Where each thread of a hung child is: its state and kernel wait channel,
 * as TAP comments. */
static void show_tasks(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char wchan[64] = "?";
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int)pid, e->d_name);
		char state = stat_state(path);
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/wchan", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (f) {
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

int tap_run(const struct lb_impl *im, tap_case_fn *fn, unsigned n, unsigned x,
	    const char *what, ...)
{
	char name[256], buf[8192];
	va_list ap;
	int fds[2], failed0 = tap_failed;

	va_start(ap, what);
	vsnprintf(name, sizeof(name), what, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	if (pipe2(fds, O_CLOEXEC) != 0)
		tap_bail("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		case_fd = fds[1];
		dup2(STDERR_FILENO, STDOUT_FILENO);
		fn(im, n, x);
		/* exit, not _exit: the sanitizers report leaks and races, and set
		 * the exit status, from exit's handlers. */
		exit(0);
	}
	close(fds[1]);

	/* The child's threads, starvation-aware (tap_guard): a stalled vCPU
	 * must not kill a correct case. */
	struct tap_guard guard;
	tap_guard_start(&guard, pid, guard_s * 1000);
	size_t len = 0;
	int lines = 0, hung = 0, status = 0;
	for (;;) {
		if (tap_guard_over(&guard)) {
			hung = 1;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int r = poll(&pfd, 1, 10);
		if (r < 0 && errno != EINTR)
			tap_bail("poll: %s", strerror(errno));
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
		if (w < 0 && errno != EINTR)
			tap_bail("waitpid: %s", strerror(errno));
		if (tap_guard_over(&guard))
			hung = 1;
		else
			tap_sleep_ms(2);
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
