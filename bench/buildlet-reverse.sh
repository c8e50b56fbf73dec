#!/bin/sh
# buildlet-reverse: a reverse buildlet driven through schedule serve's
# loopback bridge (each connection spliced to one the buildlet dialled
# back) against a listen-mode buildlet driven directly, both on this
# machine over loopback, plain HTTP.
#   - POST /exec of /bin/true in mode=sys over one kept-alive
#     connection, 2000 round trips a run (bench/buildlet-execbench.c):
#     the ratio of the p50s.  Target (DESIGN §9): <= 1.5x direct.
#   - PUT /writetgz of the Go source tarball (as buildlet-writetgz.sh)
#     into an empty directory: the ratio of the times.  Target <= 1.1x.
# Interleaved, medians of BENCH_RUNS.
#
# usage: sh bench/buildlet-reverse.sh      (BENCH_DIR=/dev/shm for tmpfs)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

SCHEDULE=$TOP/cmd/schedule/schedule
[ -x "$SCHEDULE" ] || { echo "bench: $SCHEDULE is not built; run make" >&2; exit 100; }
execbench

# the coordinator and the reverse buildlet, stopped at exit with the
# direct one
F=$W/farm
rm -rf "$F" "$W/rwd" && mkdir -p "$F"
printf '[hosttype "rv"]\n\tpool = reverse\n' >"$F/config"
sc_pid=
rb_pid=
stop_all() {
	[ -z "$rb_pid" ] || { kill "$rb_pid" 2>/dev/null; wait "$rb_pid" 2>/dev/null; }
	[ -z "$sc_pid" ] || { kill "$sc_pid" 2>/dev/null; wait "$sc_pid" 2>/dev/null; }
	stop_buildlet
}
trap stop_all EXIT
"$SCHEDULE" -d "$F" serve -l 127.0.0.1:0 2>"$W/schedule.log" &
sc_pid=$!
_i=0
until [ -s "$F/state/schedule/addr" ]; do
	_i=$((_i + 1))
	kill -0 "$sc_pid" 2>/dev/null && [ $_i -lt 1200 ] ||
	    bench_die "schedule serve did not start; see $W/schedule.log"
	sleep 0.05
done
COORD=$(cat "$F/state/schedule/addr")
"$SCHEDULE" -d "$F" key rv >"$W/rv.key" || bench_die "schedule key failed"
KEY=$(cat "$W/rv.key")
"$BUILDLET" -reverse-type rv -coordinator "$COORD" -keyfile "$W/rv.key" \
    -hostname bench -workdir "$W/rwd" 2>"$W/rbuildlet.log" &
rb_pid=$!
_i=0
until RURL=$(curl -sS "$COORD/status.json" 2>/dev/null | perl -MJSON::PP -e '
	local $/;
	my $st = decode_json(<STDIN>);
	for my $p (@{$st->{pools}}) {
		print "$_->{url}\n" for @{$p->{machines}};
	}') && [ -n "$RURL" ]; do
	_i=$((_i + 1))
	kill -0 "$rb_pid" 2>/dev/null && [ $_i -lt 1200 ] ||
	    bench_die "the reverse buildlet did not register; see $W/rbuildlet.log"
	sleep 0.05
done
start_buildlet
echo "direct $URL, reverse through the bridge $RURL" >&2

# /exec round trips
direct=
reverse=
i=0
while [ $i -lt "$BENCH_RUNS" ]; do
	d=$("$EB" "$URL/exec" 2000) || bench_die "execbench (direct) failed"
	r=$("$EB" "http://gomote:$KEY@${RURL#http://}/exec" 2000) ||
	    bench_die "execbench (reverse) failed"
	echo "run: direct $d" >&2
	echo "run: reverse $r" >&2
	direct="$direct $(echo "$d" | awk '{print $2}')"
	reverse="$reverse $(echo "$r" | awk '{print $2}')"
	i=$((i + 1))
done
# shellcheck disable=SC2086
{
echo "/exec of /bin/true, direct:  p50 $(median $direct) ms $(spread $direct)"
echo "/exec of /bin/true, reverse: p50 $(median $reverse) ms $(spread $reverse)"
check "reverse /exec p50, times the direct one" \
    "$(ratio "$(median $reverse)" "$(median $direct)")" "<=" 1.5 x
}

# /writetgz of the Go tree
go_tarball
tgz=$TRASH/go.tgz
put_direct() {
	curl -sS -T "$tgz" "$URL/writetgz?dir=put-$1" >"$W/put.out" &&
	[ "$(cat "$W/put.out")" = OK ]
}
put_reverse() {
	curl -sS -u "gomote:$KEY" -T "$tgz" "$RURL/writetgz?dir=put-$1" \
	    >"$W/put.out" &&
	[ "$(cat "$W/put.out")" = OK ]
}
prep() {
	sync
}
BENCH_BEFORE=prep interleave "$BENCH_RUNS" put_direct put_reverse
diff -r "$W/wd/put-1/go" "$W/rwd/put-1/go" >/dev/null ||
    bench_die "the two extractions differ"
rm -rf "$W"/wd/put-* "$W"/rwd/put-*
# shellcheck disable=SC2086
{
echo "/writetgz direct:  $(stats $T_put_direct)"
echo "/writetgz reverse: $(stats $T_put_reverse)"
check "reverse /writetgz, times the direct one" \
    "$(ratio "$(median $T_put_reverse)" "$(median $T_put_direct)")" "<=" 1.1 x
}
exit 0
