#!/bin/sh
# schedule-latency: a new upstream commit to its build's first step
# (DESIGN §9: <= 2 s, the p50 of 20, with gitmirror's loop at 1 s).  A
# real farm: an upstream repository, "gitmirror sync" run every second
# by a shell loop, "schedule serve" with a static pool of one real
# buildlet, and a builder whose only step writes the time it runs.
# Twenty times: commit upstream, take the time, wait for the step's
# stamp.  The latency holds the wait for the next sync, the sync, the
# daemon's turn, the build child's start, the wipe and the source put
# (gitmirror archive streamed to the buildlet).  A round commits just
# after the last round's build, which came just after a sync, so the
# wait for the next sync is most of the loop's second: the figure is
# close to the worst case, not the average.
#
# usage: sh bench/schedule-latency.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"
. "$(dirname "$0")/schedule.inc"

N=${BENCH_LATENCY_N:-20}
D=$TRASH/schedule-latency
rm -rf "$D" && mkdir -p "$D/farm" || bench_die "mkdir '$D' failed"
farm_upstream "$D/up" 1
start_buildlet
cat >"$D/farm/config" <<EOF || bench_die "cannot write the config"
[repo "go"]
	upstream = file://$D/up
	branch = master
[hosttype "st"]
	pool = static
	buildlet = $URL
[builder "stamp"]
	hosttype = st
	repo = go
	run = date +%s.%N >>$D/stamps
EOF
"$GITMIRROR" -d "$D/farm" sync >/dev/null 2>"$D/sync.log" ||
    bench_die "gitmirror sync failed; see $D/sync.log"
# the loop is killed at exit, and with it its sync of the moment
(
	while :; do
		# exit 1: nothing new
		"$GITMIRROR" -d "$D/farm" sync >/dev/null 2>>"$D/sync.log" || :
		sleep 1
	done
) &
farm_pids="$farm_pids $!"
farm_serve "$D/farm"

# stamps N: wait until the step ran N times, at most 30 s
stamps() {
	_n=0
	until [ "$(cat "$D/stamps" 2>/dev/null | wc -l)" -ge "$1" ]; do
		_n=$((_n + 1))
		[ $_n -lt 3000 ] ||
		    bench_die "no build of commit $1 after 30 s; see $D/farm/serve.log"
		sleep 0.01
	done
}
stamps 1

lats=
i=1
while [ $i -le "$N" ]; do
	echo "$i" >"$D/up/r.txt"
	git -C "$D/up" add r.txt && git -C "$D/up" commit -q -m "round $i" ||
	    bench_die "commit failed"
	t0=$(now)
	stamps $((i + 1))
	lats="$lats $(tail -n 1 "$D/stamps" | awk -v a="$t0" '{ printf "%.3f", $1 - a }')"
	i=$((i + 1))
done
echo "latencies (s):$lats" >&2
# shellcheck disable=SC2086
p50=$(median $lats)
# shellcheck disable=SC2086
p90=$(printf '%s\n' $lats | sort -g | awk '{ v[NR] = $1 }
	END { i = int(NR * 0.9 + 0.999); if (i > NR) i = NR
	printf "%.3f", v[i] }')
# shellcheck disable=SC2086
echo "commit to first step, gitmirror sync every 1 s: p50 $p50 s," \
    "p90 $p90 s $(spread $lats)"
check "schedule commit-to-build p50" "$p50" "<=" 2 s
exit 0
