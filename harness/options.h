/* The command line (options.c): argv in, struct lb_opts out.
 *
 *   options (here) -> plan (plan.c) -> sweep (sweep.c) -> sinks (sinks.c)
 */
#ifndef LB_OPTIONS_H
#define LB_OPTIONS_H

#include <stddef.h>

#include "plan.h"

/* Fill o from argv.  Returns only when there is something to run:
 * --help, --version, --list and --topology print their answer and exit
 * (0, or 1 when hwloc cannot load the topology); a usage error exits 2. */
void lb_options_parse(int argc, char **argv, struct lb_opts *o);

/* "lockbench: " and the message, one line on stderr; exit status 2. */
void lb_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Append s to buf (a string), shell-quoted where it needs to be: as is
 * when every character is plain, else in single quotes (a quote inside as
 * '\'').  Truncated, still terminated, when buf is full. */
void lb_shell_word(const char *s, char *buf, size_t len);

/* The command as the user typed it, to paste back into a shell: ./bench
 * sets LB_INVOKED_AS to its own $0, so the program shows as ./bench, not
 * as build/lockbench; every argument shell-quoted where it needs it. */
void lb_command_line(int argc, char **argv, char *buf, size_t len);

#endif
