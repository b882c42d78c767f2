/* An LD_PRELOAD shim for test_trust: fsync() fails with EIO on every file
 * whose path ends with $LB_TEST_FSYNC_FAIL (say "summary.csv.tmp" or
 * "results.csv.partial"), and is the real fsync() for every other file.
 * A full disk makes write() fail and is tested on a tiny tmpfs; this is
 * the other way a file can fail to reach the disk: the data was accepted,
 * then the device reported an error at fsync (an I/O error, or a delayed
 * ENOSPC on some filesystems).  The mutation exercise showed that
 * ignoring fsync's result went unnoticed without it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fsync(int fd)
{
	static int (*real_fsync)(int);
	const char *want = getenv("LB_TEST_FSYNC_FAIL");

	if (want && *want) {
		char link[64], path[4096];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, path, sizeof(path) - 1);
		size_t lw = strlen(want);
		if (n > 0 && (size_t)n >= lw && memcmp(path + n - lw, want, lw) == 0) {
			errno = EIO;
			return -1;
		}
	}
	if (!real_fsync) /* POSIX's way to store dlsym's object pointer */
		*(void **)&real_fsync = dlsym(RTLD_NEXT, "fsync");
	return real_fsync(fd);
}
