/* Result files: complete or absent (files.c). */
#ifndef LB_FILES_H
#define LB_FILES_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/* Marks a directory as taken by one run (created with O_EXCL). */
#define LB_CLAIM_FILE ".lockbench-run"

/* Write buf to dir/name through dir/name.tmp, fsync and rename.  0 or the
 * errno of the first failure (reported once, on stderr, naming the file). */
int lb_write_atomic(const char *dir, const char *name, const char *buf, size_t len);

/* A file written a row at a time: rows go to NAME.partial, flushed after
 * each; commit fsyncs and renames it to NAME. */
struct lb_stream {
	FILE *f;
	char dir[PATH_MAX];
	char path[PATH_MAX + 64];
	char partial[PATH_MAX + 80];
};

int lb_stream_open(struct lb_stream *s, const char *dir, const char *name);
/* After each row: 0, or the error (reported; the partial file is removed). */
int lb_stream_flush(struct lb_stream *s);
int lb_stream_commit(struct lb_stream *s);
void lb_stream_abort(struct lb_stream *s);

/* Report a failed write of path (the first failure only); returns err. */
int lb_write_failed(const char *path, int err);
int lb_write_error_reported(void);

/* Create dir (and parents) and claim it for this run: refused (non-zero,
 * a one-line message in err) when another run has it or it holds one. */
int lb_dir_claim(const char *dir, const char *run_id, char *err, size_t errlen);

/* Take the machine-wide run lock, or warn that another run holds it. */
void lb_machine_lock(void);

#endif
