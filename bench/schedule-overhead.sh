#!/bin/sh
# schedule-overhead: what the farm adds to a build (DESIGN §9: <= 20 ms
# a build).  200 builds of "true" on 4 local buildlets (a static pool):
#
#   farm    schedule serve started on a farm whose corpus holds 200
#           commits of one repository and whose one builder (backfill
#           200) runs "true": the wall time from the daemon's start to
#           the 200th result record;
#   direct  the same calls of the buildlet API from one process
#           (bench/schedule-directbench.c, lib/bclient, a thread per
#           buildlet, 50 builds each): POST /removeall of ".", the
#           source, and POST /exec of /bin/sh -c true.
#
# The source comes as the farm's config says, BENCH_SOURCE:
#   serve    (the default) [farm] source names a "gitmirror serve": the
#            buildlet fetches the commit's tarball itself (POST
#            /writetgz with url=); the direct side makes the same call
#            to the same server;
#   archive  no [farm] source: each build child runs "gitmirror
#            archive" and streams it (PUT /writetgz); the direct side
#            PUTs one commit's tarball, made once.
#
# So the overhead holds all the farm does around those calls: the
# daemon's decisions, a build child per build (config, results log,
# the log file and its gzip, the result record, fsynced; with archive
# also a gitmirror process) and the spool.
#
# Rounds alternate (farm direct farm ...; BENCH_RUNS, default 3 here),
# each farm round on a fresh copy of the same synced state.  Prints the
# farm's builds/s and (farm - direct) / 200 per build.
#
# usage: sh bench/schedule-overhead.sh
BENCH_RUNS=${BENCH_RUNS:-3}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"
. "$(dirname "$0")/schedule.inc"

NB=200
SOURCE=${BENCH_SOURCE:-serve}
case $SOURCE in
serve|archive) ;;
*) echo "bench: BENCH_SOURCE='$SOURCE': want serve or archive" >&2; exit 100 ;;
esac
DB=$TRASH/schedule-directbench
if [ ! -x "$DB" ] ||
    [ -n "$(find "$TOP/bench/schedule-directbench.c" \
    "$TOP/lib/libbuildfarm.a" -newer "$DB")" ]; then
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/lib" -o "$DB" \
	    "$TOP/bench/schedule-directbench.c" "$TOP/lib/libbuildfarm.a" \
	    $(pkg-config --libs libcurl jansson libcrypto) -lpthread ||
	    bench_die "cannot compile bench/schedule-directbench.c"
fi
D=$TRASH/schedule-overhead
rm -rf "$D" && mkdir -p "$D/tmpl" || bench_die "mkdir '$D' failed"
echo "bench: making an upstream of $NB commits" >&2
farm_upstream "$D/up" "$NB"
farm_buildlets 4
{
	echo "[repo \"go\"]"
	echo "	upstream = file://$D/up"
	echo "	branch = master"
	echo "	backfill = $NB"
	echo "[hosttype \"st\"]"
	echo "	pool = static"
	for u in $BLURLS; do
		echo "	buildlet = $u"
	done
	echo "[builder \"true\"]"
	echo "	hosttype = st"
	echo "	repo = go"
	echo "	run = true"
	echo "	backfill = $NB"
} >"$D/tmpl/config" || bench_die "cannot write the config"
"$GITMIRROR" -d "$D/tmpl" sync >/dev/null 2>"$D/sync.log" ||
    bench_die "gitmirror sync failed; see $D/sync.log"
[ "$("$SCHEDULE" -d "$D/tmpl" find | wc -l)" -eq "$NB" ] ||
    bench_die "schedule find does not list $NB builds"
if [ "$SOURCE" = serve ]; then
	"$GITMIRROR" -d "$D/tmpl" serve -l 127.0.0.1:0 2>"$D/gitmirror.log" &
	farm_pids="$farm_pids $!"
	_n=0
	until _gp=$(sed -n 's/^gitmirror: listening on [^ ]*:\([0-9]*\).*/\1/p' \
	    "$D/gitmirror.log" 2>/dev/null) && [ -n "$_gp" ]; do
		_n=$((_n + 1))
		[ $_n -lt 1200 ] ||
		    bench_die "gitmirror serve did not start; see $D/gitmirror.log"
		sleep 0.05
	done
	SRCURL=http://127.0.0.1:$_gp
	# the server needed the config first
	printf '[farm]\n\tsource = %s\n' "$SRCURL" >>"$D/tmpl/config" ||
	    bench_die "cannot write the config"
fi
REV=$(git -C "$D/up" rev-parse master)
if [ "$SOURCE" = serve ]; then
	SRC="$SRCURL/go.tar.gz?rev=$REV"
else
	SRC=$D/src.tgz
	"$GITMIRROR" -d "$D/tmpl" archive go "$REV" >"$SRC" ||
	    bench_die "gitmirror archive failed"
fi

# timeit runs it in a subshell, whose exit runs no trap: it stops its
# daemon itself
farm() {
	rm -rf "$D/farm" && cp -a "$D/tmpl" "$D/farm" ||
	    bench_die "cannot copy the farm"
	farm_serve "$D/farm"
	_n=0
	until [ "$(nresults "$D/farm")" -ge "$NB" ]; do
		_n=$((_n + 1))
		if ! kill -0 "$SERVE_PID" 2>/dev/null || [ $_n -ge 15000 ]; then
			kill "$SERVE_PID" 2>/dev/null || :
			bench_die "no $NB results; see $D/farm/serve.log"
		fi
		sleep 0.02
	done
	kill "$SERVE_PID" && wait "$SERVE_PID" || :
	if grep -q '"ok":false' "$D"/farm/results/*.jsonl; then
		bench_die "a build failed; see $D/farm"
	fi
}

direct() {
	# shellcheck disable=SC2086
	"$DB" "$NB" "$SRC" $BLURLS >&2 || bench_die "directbench failed"
}

interleave "$BENCH_RUNS" farm direct
# shellcheck disable=SC2086
tf=$(median $T_farm)
# shellcheck disable=SC2086
td=$(median $T_direct)
over=$(awk -v f="$tf" -v d="$td" -v n="$NB" \
    'BEGIN { printf "%.1f", (f - d) / n * 1000 }')
# shellcheck disable=SC2086
echo "$NB builds of true on 4 buildlets, source by $SOURCE: farm $(stats $T_farm)," \
    "$(rate "$NB" "$tf") builds/s; direct $(stats $T_direct)," \
    "$(rate "$NB" "$td") builds/s"
echo "overhead: $over ms a build"
check "schedule overhead a build" "$over" "<=" 20 ms
exit 0
