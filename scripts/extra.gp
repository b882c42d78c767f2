# extra.gp: one of the workload's own columns vs threads. report.py loads,
# after vars.gp, a small file setting xcol (the column: success_ratio,
# reader_ops_per_sec, peak_holders, ...) and have_xs (the series with data),
# both as string literals: a column name never becomes gnuplot code.
# Rates (*_per_sec) go on a log axis like throughput; ratios and counts on
# a linear one from 0.
load scriptdir . '/common.gp'

col_med = xcol . '_median'
col_lo = xcol . '_ci_lo'
col_hi = xcol . '_ci_hi'
is_rate = strstrt(xcol, '_per_sec') > 0
is_ns = strstrt(xcol, '_ns') > 0

set title plot_title(xcol . ' (median, ' . ci_text . ')') offset 0, 1.2
if (is_rate) {
	set ylabel xcol . ' (per second)'
	set logscale y 10
	set format y '%.0s%c'
} else {
	if (is_ns) {
		set ylabel xcol . ' (ns)'
		set logscale y 10
	} else {
		set ylabel xcol
		set yrange [0:*]
	}
}

plot for [s in have_xs] sfile[s + 0] \
	using 'threads':col_med:col_lo:col_hi \
	with yerrorlines lt (s + 0) title stitle[s + 0]
