/* Result files that appear complete or not at all.
 *
 * Whole files (summary.csv, meta.json) are written to NAME.tmp, flushed,
 * fsync'ed and renamed over NAME; then the directory is fsync'ed so the
 * rename itself survives a crash.  Streamed files (results.csv and
 * threads.csv, a row at a time as repetitions complete) are written to
 * NAME.partial and renamed to NAME only when the run ends, completely
 * written; a kill -9 leaves NAME.partial (the rows so far, for the curious)
 * and never a half NAME.  Every write, flush, fsync and close is checked:
 * the first failure is reported in one line naming the file, and the
 * caller stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

static int reported;

int lb_write_failed(const char *path, int err)
{
	if (!reported)
		fprintf(stderr, "lockbench: cannot write %s: %s; the run stops (no file is left "
			"half-written)\n", path, strerror(err));
	reported = 1;
	return err;
}

int lb_write_error_reported(void)
{
	return reported;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int ret = fsync(fd) == 0 || errno == EINVAL ? 0 : errno;
	close(fd);
	return ret;
}

static void join(char *out, size_t len, const char *dir, const char *name, const char *suffix)
{
	snprintf(out, len, "%s/%s%s", dir, name, suffix);
}

int lb_write_atomic(const char *dir, const char *name, const char *buf, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, err = 0;

	join(path, sizeof(path), dir, name, "");
	join(tmp, sizeof(tmp), dir, name, ".tmp");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return lb_write_failed(path, errno);
	for (size_t done = 0; done < len && !err;) {
		ssize_t w = write(fd, buf + done, len - done);
		if (w < 0 && errno != EINTR)
			err = errno;
		else if (w > 0)
			done += (size_t)w;
	}
	if (!err && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		return lb_write_failed(path, err);
	}
	if ((err = fsync_dir(dir)) != 0)
		return lb_write_failed(path, err);
	return 0;
}

int lb_stream_open(struct lb_stream *s, const char *dir, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	join(s->path, sizeof(s->path), dir, name, "");
	join(s->partial, sizeof(s->partial), dir, name, ".partial");
	int fd = open(s->partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0 || !(s->f = fdopen(fd, "w"))) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return lb_write_failed(s->path, err);
	}
	return 0;
}

int lb_stream_flush(struct lb_stream *s)
{
	if (!s->f)
		return EBADF;
	if (fflush(s->f) != 0 || ferror(s->f)) {
		int err = errno ? errno : EIO;
		lb_stream_abort(s);
		return lb_write_failed(s->path, err);
	}
	return 0;
}

int lb_stream_commit(struct lb_stream *s)
{
	int err = 0;
	if (!s->f)
		return EBADF;
	if (fflush(s->f) != 0 || ferror(s->f))
		err = errno ? errno : EIO;
	if (!err && fsync(fileno(s->f)) != 0)
		err = errno;
	if (fclose(s->f) != 0 && !err)
		err = errno;
	s->f = NULL;
	if (!err && rename(s->partial, s->path) != 0)
		err = errno;
	if (!err)
		err = fsync_dir(s->dir);
	if (err) {
		unlink(s->partial);
		return lb_write_failed(s->path, err);
	}
	return 0;
}

void lb_stream_abort(struct lb_stream *s)
{
	if (s->f)
		fclose(s->f);
	s->f = NULL;
	if (s->partial[0])
		unlink(s->partial);
}

int lb_dir_claim(const char *dir, const char *run_id, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	int fd;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "--out: the path is too long");
		return ENAMETOOLONG;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		goto fail;
	struct stat st;
	if (stat(buf, &st) != 0)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	/* A run directory from before claim files existed. */
	join(buf, sizeof(buf), dir, "results.csv", "");
	if (access(buf, F_OK) == 0) {
		snprintf(err, errlen, "--out: '%s' already holds a run (results.csv); choose a "
			 "new directory", dir);
		return EEXIST;
	}
	/* The claim: O_EXCL makes exactly one of two runs started at the same
	 * instant win; the other is refused before it writes anything. */
	join(buf, sizeof(buf), dir, LB_CLAIM_FILE, "");
	fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		snprintf(err, errlen, "--out: '%s' is taken by another lockbench run (%s exists); "
			 "choose a new directory", dir, LB_CLAIM_FILE);
		return EEXIST;
	}
	if (fd < 0)
		goto fail;
	dprintf(fd, "%s %d\n", run_id, (int)getpid());
	if (close(fd) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "--out: cannot write to '%s': %s; give a writable directory", dir,
		 strerror(errno));
	return errno ? errno : EIO;
}

/* A machine-wide advisory lock: two benchmark runs at once measure each
 * other.  The file holds the holder's pid; the lock dies with the process. */
void lb_machine_lock(void)
{
	const char *path = "/tmp/lockbench.machine.lock";
	static int fd = -1;
	char holder[64] = "";

	if (fd >= 0)
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	fchmod(fd, 0666); /* so another user's run can take it too */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (ftruncate(fd, 0) == 0)
			dprintf(fd, "%d\n", (int)getpid());
		return;
	}
	ssize_t r = pread(fd, holder, sizeof(holder) - 1, 0);
	holder[r > 0 ? r : 0] = '\0';
	holder[strcspn(holder, "\n")] = '\0';
	fprintf(stderr, "lockbench: warning: another lockbench run%s%s%s is using this machine; "
		"each will measure the other's load\n", holder[0] ? " (pid " : "", holder,
		holder[0] ? ")" : "");
	close(fd);
	fd = -2;
}
