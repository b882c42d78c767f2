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

ncols = npanels_ratio < 3 ? (npanels_ratio < 1 ? 1 : npanels_ratio) : 3
nrows = (npanels_ratio + ncols - 1) / ncols
nrows = nrows < 1 ? 1 : nrows

# A cell, in pixels: y tic labels and label, the plot, the key; above it
# three title lines, below it the x tic labels and label.
left_px = 80
plot_px = 360
key_px = 7 * keychars + 70
cell_w = left_px + plot_px + key_px
top_px = 70
plot_h = 18 * kmax + 60 > 300 ? 18 * kmax + 60 : 300
bottom_px = 55
cell_h = top_px + plot_h + bottom_px
head_px = 70
canvas_w = ncols * cell_w + 20
canvas_w = canvas_w < 960 ? 960 : canvas_w
canvas_h = head_px + nrows * cell_h
load scriptdir . '/common.gp'

set logscale y 2
set format y '%g'
set ytics auto
set yrange [ratio_ymin:ratio_ymax]
set xlabel 'threads'
# The reference level: 1 is "as fast as the baseline".
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#333333' lw 1 back
set key top left vertical Left reverse noenhanced samplen 3 spacing 1.1 box lc rgb '#bbbbbb'
# Sideways nudge of a panel's n series: +-8% of a doubling at most, so
# that CI bars round 1 stay apart.
dodge(p, n) = n < 2 ? 1 : 2 ** (0.16 * ((p - 1.0) / (n - 1) - 0.5))

set multiplot title sprintf("%s: median ops/s relative to the baseline (%s), per kind; bars: bootstrap 95%% CI\nshaded: more threads than the host's PUs (oversubscribed)", workload, rlabel[1])

if (npanels_ratio == 0) {
	set lmargin at screen 80.0 / canvas_w
	set rmargin at screen 1 - 40.0 / canvas_w
	set tmargin at screen 1 - (head_px + top_px + 0.0) / canvas_h
	set bmargin at screen (bottom_px + 0.0) / canvas_h
	set label 9 'no data' at graph 0.5, graph 0.5 center front boxed
	plot NaN notitle
	unset label 9
}
do for [i = 1:npanels_ratio] {
	c = (i - 1) % ncols
	w = (i - 1) / ncols
	x0 = c * cell_w + 10.0
	y0 = head_px + w * cell_h + 0.0    # from the top
	r = prun[i]
	set lmargin at screen (x0 + left_px) / canvas_w
	set rmargin at screen (x0 + left_px + plot_px) / canvas_w
	set tmargin at screen 1 - (y0 + top_px) / canvas_h
	set bmargin at screen 1 - (y0 + top_px + plot_h) / canvas_h
	set key at screen (x0 + left_px + plot_px + 12) / canvas_w, screen 1 - (y0 + top_px) / canvas_h
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
