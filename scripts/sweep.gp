# sweep.gp: throughput against one axis of a --cs or --param list sweep,
# at the thread count the tables rank at; small multiples, a panel per
# kind (the controls last), each with its own key.
#
# report.py runs: gnuplot vars.gp sw-AXIS.gp -e "fmt = ...; name = 'sweep-AXIS'" sweep.gp
# sw-AXIS.gp (report.py's PlotData.sweep_plot) defines: sweep_what (the
# title, a %s for the bars' text), sweep_xlabel, sweep_n (the axis' values)
# and sweep_xtics (each value's label at its place 1..sweep_n: values are
# evenly spaced, in the order given), sweep_ymin/ymax, nlines, per line
# lfile[] (pos,ops_per_sec_median,ops_per_sec_ci_lo,ops_per_sec_ci_hi),
# ltitle[] and lpos[] (its place within its kind: its line type); per
# panel pkind[] and plines[] (its lines); kmax, keychars; pus = 0 (no PU
# mark: x is not threads).

load scriptdir . '/panels.gp'
load scriptdir . '/common.gp'

unset logscale x
set xrange [0.6:sweep_n + 0.4]
eval sweep_xtics
set xlabel sweep_xlabel
set logscale y 10
set yrange [sweep_ymin:sweep_ymax]
set format y '%.0s%c'
set ylabel 'throughput (' . ops_unit . ')'

set multiplot title sprintf("%s\nhost %s, %s", sprintf(sweep_what, ci_text), host, cpu)
do for [i = 1:npanels] {
	eval panel_cmd
	set title pkind[i] offset 0, 0.6
	plot for [l in plines[i]] lfile[l + 0] \
		using 'pos':'ops_per_sec_median':'ops_per_sec_ci_lo':'ops_per_sec_ci_hi' \
		with yerrorlines lt lpos[l + 0] title ltitle[l + 0]
}
unset multiplot
