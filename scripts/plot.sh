#!/bin/sh
# plot.sh DIR: draw every plot of a lockbench run directory, and its page.
#
# Writes into DIR, from DIR/summary.csv (plus results.csv for the host and
# CPU model, and meta.json): throughput, fairness, latency, cpu and speedup,
# each as .png and .svg; extra-COL for each of the workload's own columns
# (meta.json's extra_columns: success_ratio, ...); NAME-top (the 8 fastest
# series and pthread-mutex) when there are more than 8 series; speedup.csv
# (the numbers the speedup plot draws); and report.html, the page showing
# them all with the run's platform, command line and, for a run that ended
# early, its diagnosis. A summary.csv with a header only (the run stopped
# before its first row) gets report.html alone, and exit 0.
#
# Each file appears complete or not at all: everything is drawn in a
# scratch directory inside DIR, checked (gnuplot exits 0 on a full disk),
# and renamed into place; a failure prints one line naming the file and
# leaves no half file and no scratch directory. The files written are
# listed on stderr.
#
# Called by lockbench after a run (spawned with an argument vector, stdout
# to stderr) and by `./bench plot DIR`. The work is done by report.py
# --plots (Python parses the RFC 4180 CSV and quotes every text for gnuplot);
# see its docstring.
#
# Exit status: 0 written; 1 gnuplot missing or failed, or a file could not
# be written; 2 usage error, DIR/summary.csv missing, or malformed input.
set -eu

me=plot.sh
[ $# -eq 1 ] || { echo "$me: usage: $me DIR" >&2; exit 2; }
command -v python3 >/dev/null 2>&1 ||
	{ echo "$me: python3 not found (Debian: apt-get install python3)" >&2; exit 1; }
# A platform fingerprint (./bench --workload fingerprint) has its own page.
if [ -f "$1/fingerprint.csv" ] && [ ! -f "$1/summary.csv" ]; then
	exec python3 "$(dirname "$0")/fingerprint.py" "$1"
fi
exec python3 "$(dirname "$0")/report.py" --plots "$1"
