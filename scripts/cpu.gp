# cpu.gp: operations per CPU-second vs threads. Unlike throughput this
# charges a lock for the CPU its waiters burn: spinning keeps ops/s but
# wastes CPU, sleeping saves it.
load scriptdir . '/common.gp'

set title plot_title('efficiency: ops per CPU-second (median, ' . ci_text . ')') offset 0, 1.2
set ylabel 'ops per CPU-second (ops / CPU-s, user+sys)'
set logscale y 10	# spans as many decades as throughput
set format y '%.0s%c'

if (words(have_cpu) == 0) {
	eval no_data('no ops_per_cpu_s values in summary.csv')
} else {
	plot for [s in have_cpu] sfile[s + 0] \
		using 'threads':'ops_per_cpu_s_median':'ops_per_cpu_s_ci_lo':'ops_per_cpu_s_ci_hi' \
		with yerrorlines lt (s + 0) title stitle[s + 0]
}
