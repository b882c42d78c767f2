# speedup.gp: throughput relative to the same series at 1 thread, vs threads.
# speedup = ops_per_sec_median(threads) / ops_per_sec_median(1 thread) of the
# same series. It is drawn from speedup_file, the very file that becomes the
# run directory's speedup.csv (series, threads, speedup first; empty where the
# series has no 1-thread row), so what is drawn is what a reader can check.
# Its rows are grouped by series and sorted by threads: each series' rows are
# consecutive, and the NaN of every other row only breaks lines between series.
# The dotted diagonal is ideal linear scaling (y = x): a lock that serialises
# every operation stays at or below 1; a sharded counter can follow the line.
load scriptdir . '/common.gp'

set title plot_title('speedup over 1 thread (ratio of medians; dotted: ideal linear)') offset 0, 1.2
set ylabel 'speedup (ops/s at N threads / ops/s at 1 thread)'
# Log2 y, like x: the ideal line is the diagonal, and a drop to 1/10 reads
# as far below 1 as a 10x gain reads above it.
set logscale y 2
set format y '%.2g'
set samples 200

if (words(have_speedup) == 0) {
	eval no_data('no series with a 1-thread row: no speedup to draw')
} else {
	plot x with lines lc rgb '#888888' dt 3 lw 1.5 title 'ideal (y = threads)', \
		for [s in have_speedup] speedup_file \
		using 'threads':(column('series') == s + 0 ? column('speedup') : NaN) \
		with linespoints lt (s + 0) title stitle[s + 0]
}
