/* The workloads, in the order --list shows them: one line each.
 *
 * A new workload is its file workloads/<name>.c, which defines
 * `const struct lb_workload lb_wl_<name>` (see workload.h), and one line
 * here.  registry.c builds the table from this list, and meson.build reads
 * this file too: each X(name) compiles workloads/<name>.c, so nothing else
 * needs the name.  tests/test_cli.py holds the README's workload sections
 * to the list. */
#ifndef LB_WORKLOAD_LIST_H
#define LB_WORKLOAD_LIST_H

#define LB_WORKLOAD_LIST(X) \
	X(counter) \
	X(barrier) \
	X(deadlock) \
	X(livelock) \
	X(readmostly) \
	X(pool) \
	X(trylock) \
	X(recursive) \
	X(handoff) \
	X(broadcast) \
	X(prodcons) \
	X(stack) \
	X(map)

#endif
