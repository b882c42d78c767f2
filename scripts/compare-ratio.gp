# compare-ratio.gp: `./bench compare`'s ratio plot, small multiples: one
# panel per run after the baseline and kind (the controls last), each with
# its own key, so that a panel holds a handful of lines of one kind.
#
# compare.py runs: gnuplot VARS.gp -e "fmt = 'png'; name = 'compare-ratio'" compare-ratio.gp
# VARS.gp is compare.gp's (see there) plus: npanels_ratio; per panel i
# pkind[i] (its kind), prun[i] (its run), pseries[i] (the series of that
# kind with a ratio in that run) and pcount[i] (the kind's series in all);
# spos[s] (series s's place within its kind: its line type, so colours
# differ within a panel); kmax (the most series of one kind). The y range
# (ratio_ymin..ratio_ymax) is shared by every panel so heights compare.

npanels = npanels_ratio
load scriptdir . '/panels.gp'
load scriptdir . '/common.gp'

set logscale y 2
set format y '%g'
set ytics auto
set yrange [ratio_ymin:ratio_ymax]
set xlabel 'threads'
# The reference level: 1 is "as fast as the baseline".
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#333333' lw 1 back
# Sideways nudge of a panel's n series: +-8% of a doubling at most, so
# that CI bars round 1 stay apart.
dodge(p, n) = n < 2 ? 1 : 2 ** (0.16 * ((p - 1.0) / (n - 1) - 0.5))

set multiplot title sprintf("%s: median ops/s relative to the baseline (%s), per kind; bars: bootstrap 95%% CI\nshaded: more threads than the host's PUs (oversubscribed)", workload, rlabel[1])

if (npanels_ratio == 0) {
	i = 1
	eval panel_cmd
	set label 9 'no data' at graph 0.5, graph 0.5 center front boxed
	plot NaN notitle
	unset label 9
}
do for [i = 1:npanels_ratio] {
	eval panel_cmd
	r = prun[i]
	set title sprintf("%s\n%s\n%s", pkind[i], rlabel[r], rsub[r]) offset 0, 0.6
	set ylabel 'ratio to the baseline (1 = same)'
	p = rpus[r]
	if (p > 0) {
		set object 1 rect from first p, graph 0 to graph 1, graph 1 behind \
			fc rgb '#f0f0f0' fs solid 1.0 noborder
		set arrow 1 from first p, graph 0 to first p, graph 1 nohead \
			lc rgb '#555555' dt 2 lw 1.5 back
		set label 1 sprintf('PUs (%d)', p) at first p, graph 1 \
			offset 0, 0.7 center tc rgb '#555555'
	} else {
		unset object 1; unset arrow 1; unset label 1
	}
	h = pseries[i]
	n = pcount[i]
	if (words(h) == 0) {
		set label 9 'no data' at graph 0.5, graph 0.5 center front boxed
		plot NaN notitle
		unset label 9
	} else {
		plot for [s in h] sfile[(r - 1) * nseries + s] \
			using (column('threads') * dodge(spos[s + 0], n)):(column('ratio')):(column('ratio_ci_lo')):(column('ratio_ci_hi')) \
			with yerrorlines lt spos[s + 0] title stitle[s + 0]
	}
}
unset multiplot
