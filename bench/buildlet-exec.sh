#!/bin/sh
# buildlet-exec: POST /exec of /bin/true in mode=sys over one kept-alive
# connection, BENCH_RUNS runs of 2000 round trips
# (bench/buildlet-execbench.c, lib/http.c as the client): the median
# of the runs' p50 (with min and max) and of their p99, the buildlet's
# CPU time per round trip and its peak memory.  Target (DESIGN §9): p50
# <= 0.7 ms.  The floor on this machine is printed beside it, its runs
# interleaved with the others: posix_spawn and waitpid of /bin/true
# with no HTTP at all (the design assumed about 0.5 ms).
#
# usage: sh bench/buildlet-exec.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

execbench
start_buildlet

p50s=
p99s=
floors=
cpus=
i=0
while [ $i -lt "$BENCH_RUNS" ]; do
	s0=$(proc_cpu "$SERVER_PID")
	line=$("$EB" "$URL/exec" 2000) || bench_die "execbench failed"
	cpus="$cpus $(awk -v a="$s0" -v b="$(proc_cpu "$SERVER_PID")" \
	    'BEGIN { printf "%.4f", (b - a) / 2000 * 1000 }')"
	echo "run: $line" >&2
	p50s="$p50s $(echo "$line" | awk '{print $2}')"
	p99s="$p99s $(echo "$line" | awk '{print $6}')"
	floors="$floors $("$EB" -spawn 2000 | awk '{print $2}')"
	i=$((i + 1))
done
# shellcheck disable=SC2086
p50=$(median $p50s)
# shellcheck disable=SC2086
echo "/exec of /bin/true: p50 $p50 ms $(spread $p50s)," \
    "p99 $(median $p99s) ms; bare posix_spawn+waitpid p50 $(median $floors) ms"
# shellcheck disable=SC2086
echo "buildlet CPU $(median $cpus) ms a round trip, peak memory" \
    "$(proc_peak "$SERVER_PID") MiB"
check "buildlet /exec p50" "$p50" "<=" 0.7 ms
exit 0
