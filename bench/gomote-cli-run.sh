#!/bin/sh
# gomote-cli-run: the round trip of "gomote run INST /bin/true" through
# schedule serve's proxy (X-Buildlet-Proxy) against the same command on
# the same buildlet in direct mode (BUILDER@HOST:PORT).  Target (issue
# 12): through the coordinator <= 2x direct.  Each round runs gomote 20
# times each way, interleaved; medians of BENCH_RUNS rounds, per call.
# Both sides pay gomote's start-up; the coordinator's side adds a hop.
# (bench/gomote-run.sh measures the proxy alone, over kept-alive
# connections.)
# Skipped (exit 0) when schedule serve has no gomote API yet.
#
# usage: sh bench/gomote-cli-run.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"
. "$(dirname "$0")/schedule.inc"

GOMOTE=$TOP/cmd/gomote/gomote
[ -x "$GOMOTE" ] || { echo "bench: $GOMOTE is not built; run make" >&2; exit 100; }
CALLS=20
F=$W/gomote-farm
rm -rf "$F" "$W/wd1" && mkdir -p "$F"
farm_buildlets 1
cat >"$F/config" <<EOF
[hosttype "st"]
	pool = static
	buildlet = ${BLURLS# }
[builder "linux-st"]
	hosttype = st
EOF
farm_serve "$F"
ADDR=$(cat "$F/state/schedule/addr")
code=$(curl -s -o /dev/null -w "%{http_code}" "$ADDR/buildlet/list")
if [ "$code" = 404 ]; then
	echo "gomote run through the coordinator: SKIPPED (schedule serve" \
	    "has no gomote API yet)"
	exit 0
fi
XDG_CONFIG_HOME=$W/xdg
GOMOTE_COORDINATOR=$ADDR
export XDG_CONFIG_HOME GOMOTE_COORDINATOR
mkdir -p "$XDG_CONFIG_HOME/gomote"
"$SCHEDULE" -d "$F" key user-bench \
    >"$XDG_CONFIG_HOME/gomote/user-bench.token" ||
    bench_die "schedule key failed"
INST=$("$GOMOTE" -user bench create linux-st) ||
    bench_die "gomote create failed"
DIRECT=linux-st@${BLURLS#*//}

calls() {
	_n=0
	while [ "$_n" -lt "$CALLS" ]; do
		_n=$((_n + 1))
		"$GOMOTE" -user bench run "$1" /bin/true || return 1
	done
}
direct() {
	calls "$DIRECT"
}
coord() {
	calls "$INST"
}
interleave "$BENCH_RUNS" direct coord
"$GOMOTE" -user bench destroy "$INST" || bench_die "gomote destroy failed"
per_call() {
	awk -v t="$1" -v n="$CALLS" 'BEGIN { printf "%.2f", t * 1000 / n }'
}
# shellcheck disable=SC2086
{
echo "gomote run /bin/true, direct:            $(per_call "$(median $T_direct)") ms a call $(spread $T_direct)"
echo "gomote run /bin/true, through schedule:  $(per_call "$(median $T_coord)") ms a call $(spread $T_coord)"
}
# shellcheck disable=SC2086
check "gomote run through the coordinator, times direct" \
    "$(ratio "$(median $T_coord)" "$(median $T_direct)")" "<=" 2 x
exit 0
