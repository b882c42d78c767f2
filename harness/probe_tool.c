/* lockbench-probe: the platform-state probe on its own, to bracket another
 * program's benchmark (a peer's) the way lockbench brackets each of its
 * configurations: the cache-line ping-pong round trip between two CPUs.
 *
 * usage: lockbench-probe [CPU_A CPU_B]   (default: the first two usable PUs)
 * Prints one line: "probe_rtt_ns A B NS".  Exit 2 on a bad CPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockbench.h"

int main(int argc, char **argv)
{
	int cpus[LB_MAX_THREADS];
	uint64_t a, b;

	if (lb_topo_init() != 0) {
		fprintf(stderr, "lockbench-probe: hwloc could not load the topology\n");
		return 1;
	}
	unsigned n = lb_topo_pus(cpus, LB_MAX_THREADS);
	if (argc == 1 && n >= 2) {
		a = (uint64_t)cpus[0];
		b = (uint64_t)cpus[1];
	} else if (argc != 3 || lb_parse_u64(argv[1], &a) || lb_parse_u64(argv[2], &b) ||
		   a == b) {
		fprintf(stderr, "lockbench-probe: usage: lockbench-probe CPU_A CPU_B (two different "
			"usable CPUs; see ./bench --topology)\n");
		return 2;
	}
	lb_timer_calibrate();
	double rtt = lb_probe_rtt((int)a, (int)b);
	if (rtt != rtt) {
		fprintf(stderr, "lockbench-probe: could not pin to CPUs %llu and %llu\n",
			(unsigned long long)a, (unsigned long long)b);
		return 2;
	}
	printf("probe_rtt_ns %llu %llu %.1f\n", (unsigned long long)a, (unsigned long long)b, rtt);
	return 0;
}
