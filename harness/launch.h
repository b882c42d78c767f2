#ifndef LB_LAUNCH_H
#define LB_LAUNCH_H

/* posix_spawn argv[0] (a path) with argv, optionally its stdout on our
 * stderr, and wait: its exit status, 128 + signal, or -errno when it could
 * not be started. */
int lb_spawn_wait(char *const argv[], int stdout_to_stderr);

#endif
