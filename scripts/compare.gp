# compare.gp: the plots of `./bench compare`, one panel per run, side by side.
#
# compare.py runs: gnuplot VARS.gp -e "fmt = 'png'; name = NAME" compare.gp
# with NAME one of
#   compare-throughput  median ops/s vs threads (bars: the run's CI), log y
#   compare-normalised  ops/s / the same run's reference (pthread-mutex), log2 y
# (compare-ratio, a panel per run and kind, is compare-ratio.gp's.)
# VARS.gp (written per comparison) defines, besides what common.gp reads:
# nruns, rlabel[] and rsub[] (panel titles), rpus[] (each host's PUs),
# nseries, stitle[] (key titles: the same implementation has the same colour
# in every panel), sfile[(run - 1) * nseries + series] (one CSV per run and
# series, header kept: columns are picked by name), have_ops[], have_norm[],
# have_ratio[] (per run, the series with data), and the y ranges, shared by
# all panels so that heights compare across hosts.

is_tput = (name eq 'compare-throughput')
is_norm = (name eq 'compare-normalised')
npanels = nruns

# Canvas: panels of equal size, then a column for the key.
panel_px = 440
key_px = 7 * keychars + 80
canvas_w = 90 + panel_px * npanels + key_px
canvas_w = canvas_w < 960 ? 960 : canvas_w   # room for the title
load scriptdir . '/common.gp'

L = 80.0 / canvas_w                 # left of the first panel: room for the y label
R = 1.0 - (key_px + 10.0) / canvas_w   # right of the last panel
gap = 70.0 / canvas_w               # between panels: room for the y tic labels
pw = (R - L - gap * (npanels - 1)) / npanels
T = 1.0 - 150.0 / canvas_h          # two-line title, panel titles, PU labels
B = 70.0 / canvas_h

set xlabel 'threads'
unset key
if (is_tput) {
	what = sprintf('throughput vs threads by host (median, %s)', ci_text)
	set logscale y 10
	set yrange [ops_ymin:ops_ymax]
	set format y '%.0s%c'
	ylab = 'throughput (ops/s)'
	ycol = 'ops_per_sec_median'
	ylo = 'ops_per_sec_ci_lo'
	yhi = 'ops_per_sec_ci_hi'
} else {
	set logscale y 2
	set format y '%g'
	set ytics auto
	what = 'throughput normalised to each run''s own reference (pthread-mutex for mutex-like kinds)'
	set yrange [norm_ymin:norm_ymax]
	ylab = 'ops/s / the same run''s reference at the same threads'
	ycol = 'normalised'
	# The reference level: 1 is "as fast as the reference".
	set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#333333' lw 1 back
}
set multiplot title sprintf("%s: %s\nshaded: more threads than the host's PUs (oversubscribed)", workload, what)

do for [r = 1:nruns] {
	i = r - 1
	set lmargin at screen L + i * (pw + gap)
	set rmargin at screen L + i * (pw + gap) + pw
	set tmargin at screen T
	set bmargin at screen B
	set title sprintf("%s\n%s", rlabel[r], rsub[r]) offset 0, 1.2
	if (i == 0) { set ylabel ylab } else { unset ylabel }
	# This host's PU count, marked as in the single-run plots (common.gp).
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
	h = is_tput ? have_ops[r] : have_norm[r]
	if (words(h) == 0) {
		set label 9 'no data' at graph 0.5, graph 0.5 center front boxed
		plot NaN notitle
		unset label 9
	} else {
		if (is_norm) {
			plot for [s in h] sfile[(r - 1) * nseries + s] \
				using 'threads':(column(ycol)) with linespoints lt (s + 0) notitle
		} else {
			plot for [s in h] sfile[(r - 1) * nseries + s] \
				using 'threads':(column(ycol)):(column(ylo)):(column(yhi)) \
				with yerrorlines lt (s + 0) notitle
		}
	}
}

# The key: one entry per implementation (same colour in every panel), in
# its own column right of the panels, drawn by an empty plot.
unset object 1; unset arrow 1; unset arrow 2; unset label 1; unset title
unset border; unset tics; unset xlabel; unset ylabel; unset grid
unset logscale; set xrange [0:1]; set yrange [0:1]
set lmargin at screen R + 0.002
set rmargin at screen 0.998
set tmargin at screen T
set bmargin at screen B
set key at screen R + 0.01, screen T top left
if (is_norm) {
	plot for [s = 1:nseries] NaN with linespoints lt s title stitle[s]
} else {
	plot for [s = 1:nseries] '+' using (NaN):(NaN):(NaN):(NaN) with yerrorlines lt s title stitle[s]
}
unset multiplot
