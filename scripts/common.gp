# common.gp: what every lockbench plot shares. Loaded first by each plot script.
#
# report.py (plot.sh) runs, in a scratch directory:
#   gnuplot vars.gp -e "fmt = 'png'; name = 'throughput'" throughput.gp
# where vars.gp (written per run) defines: outdir, workload, host, cpu, pus,
# xmin, xmax, xtics_cmd, ci_level, have_ci, nseries, sfile[] (one CSV per
# series, header kept), stitle[] (key titles), keychars (longest title),
# have_<metric> (space-separated indices of the series with data to draw for
# that metric) and speedup_file. Every text in it is a single-quoted literal.

# Input: tidy CSV with a header; columns are picked by name in the scripts.
# Empty cells are "does not apply": gnuplot skips them instead of drawing 0.
set datafile separator ','
set key autotitle columnhead

# Canvas: the key lists every series outside the plot, so grow with their
# number (about 18 px per key line at 10 pt) instead of squeezing the data.
# A script that lays out its own panels sets canvas_w and canvas_h first.
canvas_w = exists("canvas_w") ? canvas_w : 1100
canvas_h = exists("canvas_h") ? canvas_h : \
	((200 + 18 * nseries > 650) ? 200 + 18 * nseries : 650)
# noenhanced: impl names and hosts may hold '_' or '^', which enhanced text
# would turn into subscripts.
if (fmt eq 'png') {
	set terminal pngcairo size canvas_w, canvas_h noenhanced font 'sans,10' background rgb 'white'
} else {
	set terminal svg size canvas_w, canvas_h dynamic noenhanced font 'sans,10' background rgb 'white'
}
set output outdir . '/' . name . '.' . fmt

# Series styles. Colours: Okabe & Ito's colour-blind-safe set without its
# yellow, which is unreadable on white: 7 colours. Past 7 series the dash
# type changes, and the point type cycles with period 10 (filled shapes,
# then open ones; coprime to 7), so colour, dash and point together stay
# distinct up to 70 series.
okabe_ito = '#0072B2 #D55E00 #009E73 #E69F00 #CC79A7 #56B4E9 #000000'
dashes = '1 2 4 5 3'
points = '7 5 9 13 11 6 4 8 12 10'
# (dt and pt take numbers from variables: dt given a string reads it as a
# dash pattern.)
do for [i = 1:nseries] {
	dt_i = int(word(dashes, ((i - 1) / 7) % 5 + 1))
	pt_i = int(word(points, (i - 1) % 10 + 1))
	set linetype i lc rgb word(okabe_ito, (i - 1) % 7 + 1) \
		dt dt_i pt pt_i lw 1.5 ps 0.9
}
set bars small

# Threads on a log2 axis; plot.sh set xmin/xmax so the PU mark is inside.
set logscale x 2
set xrange [xmin:xmax]
eval xtics_cmd
set xlabel 'threads'
set format x '%g'
set grid xtics ytics mytics lc rgb '#dddddd' lw 1 dt 1
set border 3
set tics nomirror

# Mark the PU count: threads to the right of it share PUs (oversubscribed),
# so a throughput drop there is scheduling, not the lock. The label sits
# just above the border, where no data point can hide it; tmargin here and
# the title offset in each script make room for it under the two-line title.
if (pus > 0) {
	set object 1 rect from first pus, graph 0 to graph 1, graph 1 behind \
		fc rgb '#f0f0f0' fs solid 1.0 noborder
	set arrow 1 from first pus, graph 0 to first pus, graph 1 nohead \
		lc rgb '#555555' dt 2 lw 1.5 back
	set label 1 sprintf('PUs (%d)', pus) at first pus, graph 1 \
		offset 0, 0.7 center tc rgb '#555555'
	set xlabel 'threads (shaded: more threads than PUs, oversubscribed)'
	set tmargin 6
}

# Legend outside on the right so it never covers a line.
set key outside right top vertical Left reverse noenhanced samplen 3 spacing 1.1 \
	box lc rgb '#bbbbbb'

# Title: what is plotted, then where it ran (plots get copied around).
plot_title(what) = sprintf("%s: %s\nhost %s, %s", workload, what, host, cpu)
# What the error bars are: summary.csv's CI of the median, whose level
# depends on the repetitions (3 reps give 75%); ci_level is its lowest.
# A CI cell left empty (one repetition) reaches gnuplot as a zero-length bar,
# which 'set bars small' draws as nothing.
ci_text = (ci_level > 0) ? sprintf('bars: %.0f%% CI', 100 * ci_level) : 'bars: CI'
if (ci_level > 0 && ci_level_varies) { ci_text = sprintf('bars: CI, level >= %.0f%%', 100 * ci_level) }
# One repetition has no interval (empty CI cells): no bars, and say so.
if (exists('have_ci') && !have_ci) { ci_text = 'no bars: one repetition has no interval' }

# Latency tics in readable units; gnuplot shows only those within range.
ns_tics = 'set ytics ("1 ns" 1, "10 ns" 10, "100 ns" 100, "1 us" 1e3, "10 us" 1e4, "100 us" 1e5, "1 ms" 1e6, "10 ms" 1e7, "100 ms" 1e8, "1 s" 1e9, "10 s" 1e10)'

# An empty but labelled plot when no series has the metric (e.g. a workload
# without latency samples): gnuplot would otherwise stop with "all points
# undefined" and the old plot file would silently survive.
# The message sits on an opaque box so the PU line does not strike it out.
set style textbox opaque noborder
no_data(msg) = sprintf("unset key; unset logscale y; set yrange [0:1]; unset ytics; set label 9 '%s' at graph 0.5, 0.5 center front boxed; plot NaN notitle", msg)
