# fairness.gp: Jain's fairness index of per-thread op counts vs threads.
# 1 = every thread did the same work; 1/n = one thread did all of it.
load scriptdir . '/common.gp'

set title plot_title("fairness: Jain's index of per-thread ops (median, " . ci_text . ')') offset 0, 1.2
set ylabel "Jain's fairness index (1 = equal shares, 1/threads = one thread)"
set yrange [fair_ymin:1.05]
set ytics 0.1
set mytics 2

if (words(have_fair) == 0) {
	eval no_data('no fairness values in summary.csv')
} else {
	plot for [s in have_fair] sfile[s + 0] \
		using 'threads':'fairness_median':'fairness_ci_lo':'fairness_ci_hi' \
		with yerrorlines lt (s + 0) title stitle[s + 0]
}
