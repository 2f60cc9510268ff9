#!/usr/bin/env bash
# bench/chart.sh: draws the ratio table of a bench/compare.sh report as a
# PNG bar chart (gnuplot, from Debian's gnuplot-nox).
#
#   bench/chart.sh REPORT.md OUT.png
#
# One group of bars per benchmark: casty/CAF and casty/Erlang (the medians
# of the per-round ratios), on a log scale, with a line at the 3x goal.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: bench/chart.sh REPORT.md OUT.png" >&2; exit 2; }
report=$1
out=$2
command -v gnuplot >/dev/null || { echo "chart.sh: gnuplot is missing (tools/setup.sh bench)" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
# Rows of the first table: | name | casty | caf | erlang | 8.9x (..) | 9.1x (..) |
awk -F'|' '
	/^\| benchmark \| casty msgs/ { on = 1; next }
	on && /^\|---/ { next }
	on && /^\|/ {
		name = $2; caf = $6; erl = $7
		gsub(/ /, "", name)
		sub(/x.*/, "", caf); sub(/x.*/, "", erl)
		gsub(/ /, "", caf); gsub(/ /, "", erl)
		if (caf == "") caf = "NaN"
		if (erl == "") erl = "NaN"
		print name, caf, erl
		next
	}
	on { exit }
' "$report" >"$data"
[ -s "$data" ] || { echo "chart.sh: no ratio table in $report" >&2; exit 1; }

gnuplot <<GP
set terminal pngcairo size 900,480 noenhanced font ",10"
set output "$out"
set title "casty against its peers (ratio of msgs/s, median of alternated rounds)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.5:*]
set ylabel "casty / peer"
set xtics rotate by -20
set grid ytics
set key top left
plot "$data" using 2:xtic(1) title "casty / CAF", \
     "" using 3 title "casty / Erlang", \
     3 with lines lw 2 dt 2 lc rgb "black" title "goal: 3x"
GP
echo "chart written to $out"
