/* Run a helper script (plot.sh) with an argument vector: no shell ever sees
 * a path, so a run directory named "x'; rm -rf ~; '" is only a name. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "launch.h"

extern char **environ;

int lb_spawn_wait(char *const argv[], int stdout_to_stderr)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ret, st;

	if ((ret = posix_spawn_file_actions_init(&fa)) != 0)
		return -ret;
	if (stdout_to_stderr && (ret = posix_spawn_file_actions_adddup2(&fa, 2, 1)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -ret;
	}
	ret = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0)
		return -ret;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
