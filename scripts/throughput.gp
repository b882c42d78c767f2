# throughput.gp: operations per second vs threads, one line per series.
# Points are the median over repetitions, bars the confidence interval
# (ci_lo..ci_hi, level in summary.csv's ci_level column).
load scriptdir . '/common.gp'

set title plot_title('throughput (median, ' . ci_text . ')') offset 0, 1.2
set ylabel 'throughput (' . ops_unit . ')'
# Log y: a queue lock oversubscribed does hundreds of ops/s, an uncontended
# atomic a billion; a linear axis would flatten all but the fastest.
set logscale y 10
set format y '%.0s%c'

if (words(have_ops) == 0) {
	eval no_data('no throughput values in summary.csv')
} else {
	plot for [s in have_ops] sfile[s + 0] \
		using 'threads':'ops_per_sec_median':'ops_per_sec_ci_lo':'ops_per_sec_ci_hi' \
		with yerrorlines lt (s + 0) title stitle[s + 0]
}
