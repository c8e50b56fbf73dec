#!/bin/sh
# gomote-run: "gomote run INST true" as the coordinator serves it:
# POST /exec of /bin/true in mode=sys through schedule serve's
# X-Buildlet-Proxy (HTTP Basic user-bench and its token checked, the
# instance renewed, a thread and a fresh connection to the buildlet per
# request), against the same /exec sent to the buildlet directly; both
# over one kept-alive client connection (bench/buildlet-execbench.c),
# BENCH_RUNS interleaved runs of 1000 round trips each.  Target
# (issue 12): the proxied p50 <= 2x the direct p50.
#
# usage: sh bench/gomote-run.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

SCHEDULE=$TOP/cmd/schedule/schedule
[ -x "$SCHEDULE" ] || { echo "bench: $SCHEDULE is not built; run make" >&2; exit 100; }
EB=$TRASH/buildlet-execbench
if [ ! -x "$EB" ] ||
    [ -n "$(find "$TOP/bench/buildlet-execbench.c" "$TOP/lib/libbuildfarm.a" \
    -newer "$EB")" ]; then
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/lib" -o "$EB" \
	    "$TOP/bench/buildlet-execbench.c" "$TOP/lib/libbuildfarm.a" \
	    $(pkg-config --libs libcurl) -lpthread ||
	    bench_die "cannot compile bench/buildlet-execbench.c"
fi
start_buildlet

F=$TRASH/gomote-farm
rm -rf "$F"
mkdir -p "$F"
cat >"$F/config" <<EOF2
[hosttype "st"]
	pool = static
	buildlet = $URL
[builder "b"]
	hosttype = st
EOF2
sd_pid=
stop_all() {
	if [ -n "$sd_pid" ]; then
		kill "$sd_pid" 2>/dev/null
		wait "$sd_pid" 2>/dev/null
		sd_pid=
	fi
	stop_buildlet
}
trap stop_all EXIT
"$SCHEDULE" -d "$F" serve -l 127.0.0.1:0 2>"$F/serve.log" &
sd_pid=$!
_i=0
until [ -s "$F/state/schedule/addr" ]; do
	_i=$((_i + 1))
	kill -0 "$sd_pid" 2>/dev/null && [ $_i -lt 1200 ] ||
	    bench_die "schedule serve did not start; see $F/serve.log"
	sleep 0.05
done
ADDR=$(cat "$F/state/schedule/addr")
EXECBENCH_USER=user-bench
EXECBENCH_PASSWORD=$("$SCHEDULE" -d "$F" key user-bench)
EXECBENCH_PROXY=$(curl -sSf -u "$EXECBENCH_USER:$EXECBENCH_PASSWORD" \
    -d builderType=b -d version=20170720 "$ADDR/buildlet/create" |
    sed -n 's/^ *"Name": "\(.*\)",*$/\1/p')
[ -n "$EXECBENCH_PROXY" ] || bench_die "POST /buildlet/create failed"

direct=
proxied=
i=0
while [ $i -lt "$BENCH_RUNS" ]; do
	line=$("$EB" "$URL/exec" 1000) || bench_die "execbench failed"
	echo "direct: $line" >&2
	direct="$direct $(echo "$line" | awk '{print $2}')"
	line=$(EXECBENCH_USER=$EXECBENCH_USER \
	    EXECBENCH_PASSWORD=$EXECBENCH_PASSWORD \
	    EXECBENCH_PROXY=$EXECBENCH_PROXY "$EB" "$ADDR/exec" 1000) ||
	    bench_die "execbench through the proxy failed"
	echo "proxied: $line" >&2
	proxied="$proxied $(echo "$line" | awk '{print $2}')"
	i=$((i + 1))
done
# shellcheck disable=SC2086
d=$(median $direct)
# shellcheck disable=SC2086
p=$(median $proxied)
# shellcheck disable=SC2086
echo "/exec of /bin/true: direct p50 $d ms $(spread $direct)," \
    "through schedule p50 $p ms $(spread $proxied)"
check "gomote run through the coordinator vs direct" "$(ratio "$p" "$d")" \
    "<=" 2 x
exit 0
