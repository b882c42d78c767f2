# latency.gp: per-operation latency percentiles vs threads, two panels side
# by side on one y range: p50 (the typical op) and p99 (the tail a waiter
# queue produces). One key, right of the p99 panel; both panels share styles.
canvas_w = 1500
load scriptdir . '/common.gp'

# Fixed margins so the two panels line up and the key gets the room its
# longest title needs (about 7 px per character at 10 pt, plus the sample).
keyfrac = (keychars * 7.0 + 90) / canvas_w
right = 1 - (keyfrac > 0.35 ? 0.35 : keyfrac)
set multiplot layout 1, 2 title plot_title('latency per operation (median, ' . ci_text . ')') \
	margins screen 0.08, right, 0.10, 0.86 spacing screen 0.07

# Settings both panels need; no_data overrides some, so set them per panel.
# The 0.1% slack: gnuplot drops a tic label that sits exactly on a log
# range end.
panel_axes = 'set logscale y 10; set format y "%g"; eval ns_tics; unset label 9; ' . \
	(lat_ymax > 0 ? 'set yrange [lat_ymin * 0.999:lat_ymax * 1.001]' : 'set yrange [*:*]')

# p50 panel: its key would repeat the p99 one.
eval panel_axes
set key off
set ylabel 'p50 latency (log scale)'
if (words(have_p50) == 0) {
	eval no_data('no latency samples (lat_p50_ns empty)')
} else {
	plot for [s in have_p50] sfile[s + 0] \
		using 'threads':'lat_p50_ns_median':'lat_p50_ns_ci_lo':'lat_p50_ns_ci_hi' \
		with yerrorlines lt (s + 0) title stitle[s + 0]
}

eval panel_axes
set key on
set ylabel 'p99 latency (log scale)'
if (words(have_p99) == 0) {
	eval no_data('no latency samples (lat_p99_ns empty)')
} else {
	plot for [s in have_p99] sfile[s + 0] \
		using 'threads':'lat_p99_ns_median':'lat_p99_ns_ci_lo':'lat_p99_ns_ci_hi' \
		with yerrorlines lt (s + 0) title stitle[s + 0]
}
unset multiplot
