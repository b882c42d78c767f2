#!/bin/sh
# plot.sh DIR: redraw every plot of a lockbench run directory.
#
# Reads DIR/summary.csv (and DIR/results.csv for the host and CPU model) and
# writes into DIR: throughput, fairness, latency, cpu and speedup, each as .png
# and .svg, plus extra-COL for each of the workload's own columns
# (success_ratio, ...), plus throughput-top (the 8 fastest series and
# pthread-mutex) when there are more than 8 series; then report.html
# (scripts/report.py) showing them all.
# Called by lockbench after a run ('scripts/plot.sh' 'DIR' >&2) and by
# `./bench plot DIR`.
#
# Exit status: 0 plots written; 1 nothing to plot, gnuplot missing or failed;
# 2 usage error, DIR/summary.csv missing, or a malformed line in it.
#
# How it works: gnuplot draws one line per data file most reliably, so awk
# splits summary.csv into one CSV per series (header kept, so the .gp scripts
# still select columns by name) and writes vars.gp, which names those files,
# their key titles and which of them have data for each metric. Each .gp
# script loads vars.gp and common.gp and loops over the series. Everything is
# drawn in a mktemp directory and moved into DIR only once gnuplot succeeded,
# so a failed redraw never leaves half-written plots behind.
set -eu

me=plot.sh
SCRIPTS=$(cd "$(dirname "$0")" && pwd)

[ $# -eq 1 ] || { echo "$me: usage: $me DIR" >&2; exit 2; }
DIR=$1
SUMMARY=$DIR/summary.csv
RESULTS=$DIR/results.csv

[ -f "$SUMMARY" ] || { echo "$me: $SUMMARY: no such file (not a lockbench run directory?)" >&2; exit 2; }
[ -r "$SUMMARY" ] || { echo "$me: $SUMMARY: not readable" >&2; exit 2; }
command -v gnuplot >/dev/null 2>&1 || { echo "$me: gnuplot not found (Debian: apt-get install gnuplot-nox)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockbench-plot.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mkdir "$TMP/series" "$TMP/out"

# Host and CPU model: first data row of results.csv, looked up by header name.
# Optional: a summary copied without its results.csv still plots.
host=unknown-host
cpu=unknown-cpu
if [ -r "$RESULTS" ]; then
	hc=$(awk -F, '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		NR == 2 { print (("host" in col) ? $col["host"] : ""); print (("cpu_model" in col) ? $col["cpu_model"] : ""); exit }
	' "$RESULTS")
	h=$(printf '%s\n' "$hc" | sed -n 1p)
	c=$(printf '%s\n' "$hc" | sed -n 2p)
	[ -n "$h" ] && host=$h
	[ -n "$c" ] && cpu=$c
fi

# Split summary.csv per series and write vars.gp for the gnuplot scripts.
# awk exits 3 on a missing column, 4 on a header without rows.
# Values go in through the environment: awk -v would eat backslashes.
rc=0
LB_TMP=$TMP LB_SCRIPTS=$SCRIPTS LB_HOST=$host LB_CPU=$cpu LB_SUMMARY=$SUMMARY \
awk -F, '
BEGIN {
	tmp = ENVIRON["LB_TMP"]; scripts = ENVIRON["LB_SCRIPTS"]
	host = ENVIRON["LB_HOST"]; cpu = ENVIRON["LB_CPU"]
	summary = ENVIRON["LB_SUMMARY"]; me = "plot.sh"
}
# Quote s as a gnuplot single-quoted string (a quote inside is doubled).
function gq(s) { gsub(/\047/, "\047\047", s); return "\047" s "\047" }
# A value gnuplot can draw: present and, for a log axis, positive.
function ok(v, logaxis) { return v != "" && (!logaxis || v + 0 > 0) }

NR == 1 {
	header = $0
	hnf = NF
	for (i = 1; i <= NF; i++) col[$i] = i
	# Every column this script or a .gp script reads: name the missing one
	# here rather than let gnuplot fail on it halfway through.
	need = "workload impl threads pus pin cs_ns think_ns param"
	n = split("ops_per_sec ops_per_cpu_s fairness lat_p50_ns lat_p99_ns", m, " ")
	for (i = 1; i <= n; i++)
		need = need " " m[i] "_median " m[i] "_ci_lo " m[i] "_ci_hi"
	n = split(need, w, " ")
	for (i = 1; i <= n; i++)
		if (!(w[i] in col)) {
			printf "%s: %s: no column \"%s\" in the header\n", me, summary, w[i] > "/dev/stderr"
			bad = 3; exit bad
		}
	nlc = split("lat_p50_ns_median lat_p50_ns_ci_lo lat_p50_ns_ci_hi " \
	            "lat_p99_ns_median lat_p99_ns_ci_lo lat_p99_ns_ci_hi", lc, " ")
	# The workload own columns (anything with a _median that is not one
	# of the common metrics) get a plot each.
	n = split("ops_per_sec ops_per_cpu_s fairness thread_ops_min thread_ops_max " \
	          "lat_p50_ns lat_p99_ns lat_p999_ns lat_max_ns cpu_s ctx_voluntary " \
	          "ctx_involuntary probe_rtt_ns duration_s", cm, " ")
	for (i = 1; i <= n; i++) common[cm[i]] = 1
	for (i = 1; i <= NF; i++)
		if ($i ~ /_median$/) {
			x = substr($i, 1, length($i) - 7)
			if (!(x in common) && ((x "_ci_lo") in col) && ((x "_ci_hi") in col))
				xcol[++nx] = x
		}
	next
}
$0 == "" { next }
NF != hnf {
	printf "%s: %s line %d: %d fields, but the header has %d\n", me, summary, NR, NF, hnf > "/dev/stderr"
	bad = 5; exit bad
}
{
	nrows++
	wl = $col["workload"]
	combo = $col["param"] SUBSEP $col["cs_ns"] SUBSEP $col["think_ns"] SUBSEP $col["pin"]
	key = wl SUBSEP $col["impl"] SUBSEP combo
	if (!(key in sid)) {
		sid[key] = ++ns
		s_wl[ns] = wl; s_impl[ns] = $col["impl"]
		s_param[ns] = $col["param"]; s_cs[ns] = $col["cs_ns"]
		s_think[ns] = $col["think_ns"]; s_pin[ns] = $col["pin"]
	}
	s = sid[key]
	rows[s, ++cnt[s]] = $0
	thr[s, cnt[s]] = $col["threads"] + 0

	# What varies decides what the key titles must show.
	if (!(wl in wls)) { wls[wl] = 1; nwl++; wllist = wllist (nwl > 1 ? ", " : "") wl }
	if (!(combo in combos)) { combos[combo] = 1; ncombo++ }
	seen["param", $col["param"]]; seen["cs", $col["cs_ns"]]
	seen["think", $col["think_ns"]]; seen["pin", $col["pin"]]

	# x range: all thread counts and the PU mark must be inside it.
	t = $col["threads"] + 0
	if (!(t in tset)) { tset[t] = 1; nt++ }
	if (xmin == "" || t < xmin) xmin = t
	if (xmax == "" || t > xmax) xmax = t
	p = $col["pus"] + 0
	if (p > 0 && (pus == "" || p > pus)) pus = p

	# Lowest CI level, for the plot titles; empty with one repetition.
	if ("ci_level" in col && $col["ci_level"] != "") {
		l = $col["ci_level"] + 0
		if (cil != "" && l != cil) cilv = 1
		if (cil == "" || l < cil) cil = l
	}

	# One y range for both latency panels, so p50 and p99 compare by eye.
	for (i = 1; i <= nlc; i++)
		if ((lc[i] in col) && ok($col[lc[i]], 1)) {
			l = $col[lc[i]] + 0
			if (latlo == "" || l < latlo) latlo = l
			if (lathi == "" || l > lathi) lathi = l
		}

	# Which series have something to draw for each metric.
	if (ok($col["ops_per_sec_median"], 1)) {
		has_ops[s] = 1
		opsv[s, t] = $col["ops_per_sec_median"] + 0
		if (t == 1) base[s] = opsv[s, t]	# the speedup denominator
	}
	if (ok($col["ops_per_cpu_s_median"], 1)) has_cpu[s] = 1
	if (ok($col["fairness_median"], 0))      has_fair[s] = 1
	if (ok($col["lat_p50_ns_median"], 1))    has_p50[s] = 1
	if (ok($col["lat_p99_ns_median"], 1))    has_p99[s] = 1
	for (i = 1; i <= nx; i++)
		if (ok($col[xcol[i] "_median"], 0)) has_x[i, s] = 1
}
# floor and ceiling of log10(x), a hair of slack for log() rounding.
function dec_lo(x,   e) { e = log(x) / log(10) + 1e-9; return (e >= 0 || e == int(e)) ? int(e) : int(e) - 1 }
function dec_hi(x,   e) { e = log(x) / log(10) - 1e-9; return (e <= 0 || e == int(e)) ? int(e) : int(e) + 1 }
function count_dim(d,   k, m, a) {
	m = 0
	for (k in seen) { split(k, a, SUBSEP); if (a[1] == d) m++ }
	return m
}
# The top series (tsel[1..nt2], in rank order) that are in set h.
function top_of(h,   i, out) {
	out = ""
	for (i = 1; i <= nt2; i++) if ((tsel[i] + 0) in h) out = out (out == "" ? "" : " ") tsel[i]
	return out
}
function idx_list(h,   s, out) {
	out = ""
	for (s = 1; s <= ns; s++) if (s in h) out = out (out == "" ? "" : " ") s
	return out
}
END {
	if (bad) exit bad
	if (nrows == 0) {
		printf "%s: %s: header only, no rows to plot\n", me, summary > "/dev/stderr"
		exit 4
	}
	# Top-N: rank the series by throughput at the largest thread count
	# that does not oversubscribe (the largest run if all do); computed
	# before the PU count joins tset for the tics.
	tref = ""
	for (t in tset) if (pus != "" && t + 0 <= pus && (tref == "" || t + 0 > tref)) tref = t + 0
	if (tref == "") tref = xmax
	vp = count_dim("param") > 1; vc = count_dim("cs") > 1
	vt = count_dim("think") > 1; vpin = count_dim("pin") > 1

	v = tmp "/vars.gp"
	print "scriptdir = " gq(scripts) > v
	print "outdir = " gq(tmp "/out") > v
	print "workload = " gq(wllist) > v
	print "host = " gq(host) > v
	print "cpu = " gq(cpu) > v
	print "pus = " (pus == "" ? 0 : pus) > v
	lo = xmin; if (pus != "" && pus < lo) lo = pus
	hi = xmax; if (pus != "" && pus > hi) hi = pus
	# A quarter octave of room either side keeps end points off the border.
	printf "xmin = %.6g\nxmax = %.6g\n", lo / 1.19, hi * 1.19 > v
	# Label every thread count we ran when there are few, and the PU count;
	# else powers of two.
	if (pus != "" && !(pus in tset)) { tset[pus] = 1; nt++ }
	if (nt <= 12) {
		n = 0; tl = ""
		for (t in tset) tv[++n] = t + 0
		for (i = 2; i <= n; i++)	# insertion sort: a dozen values
			for (j = i; j > 1 && tv[j - 1] > tv[j]; j--) { x = tv[j]; tv[j] = tv[j - 1]; tv[j - 1] = x }
		for (i = 1; i <= n; i++) tl = tl (i > 1 ? ", " : "") tv[i]
		print "xtics_cmd = " gq("set xtics (" tl ")") > v
	} else
		print "xtics_cmd = " gq("set xtics 2") > v
	print "ci_level = " (cil == "" ? 0 : cil) > v
	print "ci_level_varies = " (cilv + 0) > v
	# Whole decades, as the gnuplot log autoscale would pick.
	if (latlo != "") printf "lat_ymin = 1e%d\nlat_ymax = 1e%d\n", dec_lo(latlo), dec_hi(lathi) > v
	else print "lat_ymin = 0\nlat_ymax = 0" > v
	print "nseries = " ns > v
	print "array sfile[" ns "]" > v
	print "array stitle[" ns "]" > v
	for (s = 1; s <= ns; s++) {
		f = sprintf("%s/series/s%03d.csv", tmp, s)
		# Rows arrive sorted by series then threads; sort again anyway so
		# a hand-edited summary still draws monotone lines.
		for (i = 2; i <= cnt[s]; i++)
			for (j = i; j > 1 && thr[s, j - 1] > thr[s, j]; j--) {
				x = thr[s, j]; thr[s, j] = thr[s, j - 1]; thr[s, j - 1] = x
				x = rows[s, j]; rows[s, j] = rows[s, j - 1]; rows[s, j - 1] = x
			}
		# An extra column, speedup: this row ops/s divided by the 1-thread
		# ops/s of the same series (medians); empty without a 1-thread row.
		print header ",speedup" > f
		for (i = 1; i <= cnt[s]; i++) {
			sp = ""
			if ((s in base) && base[s] > 0 && ((s, thr[s, i]) in opsv)) {
				sp = sprintf("%.6g", opsv[s, thr[s, i]] / base[s])
				has_sp[s] = 1
			}
			print rows[s, i] "," sp > f
		}
		close(f)

		# Key title: the impl, plus only the settings that vary in this run.
		t = s_impl[s]
		if (nwl > 1) t = s_wl[s] " " t
		if (ncombo > 1) {
			if (vp)   t = t " param=" s_param[s]
			if (vc)   t = t " cs=" s_cs[s] "ns"
			if (vt)   t = t " think=" s_think[s] "ns"
			if (vpin) t = t " pin=" s_pin[s]
		}
		print "sfile[" s "] = " gq(f) > v
		print "stitle[" s "] = " gq(t) > v
		if (length(t) > keychars) keychars = length(t)
	}
	print "keychars = " keychars + 0 > v
	print "have_ops = " gq(idx_list(has_ops)) > v
	print "have_cpu = " gq(idx_list(has_cpu)) > v
	print "have_fair = " gq(idx_list(has_fair)) > v
	print "have_p50 = " gq(idx_list(has_p50)) > v
	print "have_p99 = " gq(idx_list(has_p99)) > v
	print "have_speedup = " gq(idx_list(has_sp)) > v
	xl = ""
	for (i = 1; i <= nx; i++) {
		hl = ""
		for (s = 1; s <= ns; s++) if ((i, s) in has_x) hl = hl (hl == "" ? "" : " ") s
		if (hl == "") continue	# nothing to draw: no plot
		xl = xl (xl == "" ? "" : " ") xcol[i]
		print "have_x_" xcol[i] " = " gq(hl) > v
	}
	print "extras = " gq(xl) > v
	close(v)
	print xl > (tmp "/extras")

	# throughput-top: more than topn series make a spaghetti chart, so a
	# second plot shows the topn fastest at tref threads, plus pthread-mutex
	# as the reference. top.gp, loaded after vars.gp, narrows have_ops (in
	# rank order: the key reads fastest first) and retitles; the series keep
	# their indices, so colours match the full plot.
	topn = 8
	if (ns > topn) {
		nr = 0
		for (s = 1; s <= ns; s++)
			if ((s, tref) in opsv) { rk[++nr] = s }
		for (i = 2; i <= nr; i++)	# insertion sort, fastest first
			for (j = i; j > 1 && opsv[rk[j - 1], tref] < opsv[rk[j], tref]; j--) {
				x = rk[j]; rk[j] = rk[j - 1]; rk[j - 1] = x
			}
		tl = ""; k = 0
		for (i = 1; i <= nr && i <= topn; i++) { tl = tl (tl == "" ? "" : " ") rk[i]; intop[rk[i]] = 1; k++ }
		ref = ""
		for (s = 1; s <= ns; s++)
			if (s_impl[s] == "pthread-mutex" && !(s in intop) && (s in has_ops)) {
				tl = tl (tl == "" ? "" : " ") s; ref = " + pthread-mutex for reference"
			}
		if (k > 0) {
			tv2 = tmp "/top.gp"
			print "have_ops = " gq(tl) > tv2
			# The same series for the other -top plots, where they have data.
			nt2 = split(tl, tsel, " ")
			print "have_cpu = " gq(top_of(has_cpu)) > tv2
			print "have_fair = " gq(top_of(has_fair)) > tv2
			print "have_p50 = " gq(top_of(has_p50)) > tv2
			print "have_p99 = " gq(top_of(has_p99)) > tv2
			print "have_speedup = " gq(top_of(has_sp)) > tv2
			print "workload = " gq(sprintf("%s (top %d of %d series by ops/s at %d threads%s)", \
				wllist, k, ns, tref, ref)) > tv2
			close(tv2)
		}
	}
}
' "$SUMMARY" || rc=$?
case $rc in
0) ;;
3) exit 1 ;;	# awk named the missing column
5) exit 2 ;;	# awk named the malformed line
4) exit 1 ;;	# awk said: header only
*) echo "$me: $SUMMARY: could not split into series (awk status $rc)" >&2; exit 1 ;;
esac

# Draw each plot twice, once per format; gnuplot reads vars.gp first.
# extra-COL plots draw a workload's own column COL with extra.gp.
written=""
plots="throughput fairness latency cpu speedup"
[ -f "$TMP/top.gp" ] && plots="$plots throughput-top fairness-top latency-top cpu-top speedup-top"
for x in $(cat "$TMP/extras"); do
	plots="$plots extra-$x"
done
for plot in $plots; do
	case $plot in
	extra-*) script=extra.gp; xcolname=${plot#extra-} ;;
	*) script=$plot.gp; xcolname= ;;
	esac
	# NAME-top: NAME.gp with top.gp's narrower series lists.
	topvars=
	case $plot in
	*-top) script=${plot%-top}.gp; topvars=$TMP/top.gp ;;
	esac
	for fmt in png svg; do
		if ! gnuplot "$TMP/vars.gp" ${topvars:+"$topvars"} -e "fmt = '$fmt'; name = '$plot'; xcol = '$xcolname'" \
		    "$SCRIPTS/$script" 2>"$TMP/gnuplot.err"; then
			cat "$TMP/gnuplot.err" >&2
			echo "$me: gnuplot failed on $SCRIPTS/$script ($fmt) for $SUMMARY" >&2
			exit 1
		fi
		# gnuplot warns on stderr without failing; pass that on, it is rare.
		[ -s "$TMP/gnuplot.err" ] && cat "$TMP/gnuplot.err" >&2
		[ -s "$TMP/out/$plot.$fmt" ] || {
			echo "$me: gnuplot wrote no $plot.$fmt for $SUMMARY" >&2
			exit 1
		}
	done
done

# All drawn: only now replace the plots in DIR. A throughput-top left from an
# earlier draw that no longer needs one would mislead: drop it.
case " $plots " in
*" throughput-top "*) ;;
*) for t in throughput fairness latency cpu speedup; do
	rm -f "$DIR/$t-top.png" "$DIR/$t-top.svg"
   done ;;
esac
for plot in $plots; do
	for fmt in png svg; do
		mv -f "$TMP/out/$plot.$fmt" "$DIR/$plot.$fmt"
		written="$written $DIR/$plot.$fmt"
	done
done
echo "$me: wrote$written" >&2

# The HTML report (report.html: platform, command line, table, these plots).
if command -v python3 >/dev/null 2>&1; then
	python3 "$SCRIPTS/report.py" "$DIR" || {
		echo "$me: report.py failed for $DIR (the plots are written)" >&2
		exit 1
	}
else
	echo "$me: python3 not found: no report.html" >&2
fi
