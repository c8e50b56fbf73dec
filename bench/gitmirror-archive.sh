#!/bin/sh
# gitmirror-archive: "gitmirror archive" against
# "git archive --format=tar REV | pigz -6" (the best peer on 2 cores)
# and "| gzip -6" (the classic one) on a packed repository of Go's
# source tree (the repository of gitmirror-mirror.sh, built here too if
# it is not there yet), all at level 6, entries in Git's tree order on
# both sides.  Then the same tarball from "gitmirror serve" (GET
# /go.tar.gz?rev=, its cache emptied before each run) with the server's
# CPU time, peak memory and time to the first byte (which comes with
# the first gzip member).  Interleaved, medians of BENCH_RUNS, from
# the page cache.  Target (DESIGN §9 and issue 17): >= 1.8x faster than
# git archive | pigz -6 on 2 cores, output no larger than gzip -6's.
#
# usage: sh bench/gitmirror-archive.sh
. "$(dirname "$0")/lib.sh"

GITMIRROR=$TOP/cmd/gitmirror/gitmirror
[ -x "$GITMIRROR" ] || { echo "bench: $GITMIRROR is not built" >&2; exit 100; }
command -v pigz >/dev/null ||
    bench_die "pigz is missing: scripts/install-deps bench"
REPO=$TRASH/gomirror/up/go
if [ ! -f "$REPO/.done" ]; then
	BENCH_MAX_LOAD=1000 sh "$TOP/bench/gitmirror-mirror.sh" >/dev/null ||
	    bench_die "cannot build the repository"
fi
FARM=$TRASH/gomirror/farm-archive
if [ ! -d "$FARM/mirror/go.git" ]; then
	rm -rf "$FARM" && mkdir -p "$FARM"
	printf '[repo "go"]\n\tupstream = file://%s/.git\n' "$REPO" \
	    >"$FARM/config"
	"$GITMIRROR" -d "$FARM" sync >/dev/null || bench_die "sync"
	git -C "$FARM/mirror/go.git" repack -q -a -d
fi
MIRROR=$FARM/mirror/go.git
REV=$(git -C "$MIRROR" rev-parse master)

ours() {
	"$GITMIRROR" -d "$FARM" archive go "$REV" >"$TRASH/ours.tgz"
}
pigz6() {
	git -C "$MIRROR" archive --format=tar "$REV" | pigz -6 \
	    >"$TRASH/pigz.tgz"
}
gzip6() {
	git -C "$MIRROR" archive --format=tar "$REV" | gzip -6 \
	    >"$TRASH/gzip.tgz"
}

ours >/dev/null 2>&1; pigz6 >/dev/null 2>&1	# warm the page cache
interleave "$BENCH_RUNS" ours pigz6 gzip6
# shellcheck disable=SC2086
o=$(median $T_ours)
# shellcheck disable=SC2086
p=$(median $T_pigz6)
os=$(wc -c <"$TRASH/ours.tgz")
ps=$(wc -c <"$TRASH/pigz.tgz")
gs=$(wc -c <"$TRASH/gzip.tgz")
echo "archive of $(git -C "$MIRROR" ls-tree -r "$REV" | wc -l) files on" \
    "$(nproc) cores, level 6:"
# shellcheck disable=SC2086
echo "  gitmirror archive:         $(stats $T_ours), CPU $(median $C_ours) s, $os bytes"
# shellcheck disable=SC2086
echo "  git archive | pigz -6:     $(stats $T_pigz6), CPU $(median $C_pigz6) s, $ps bytes"
# shellcheck disable=SC2086
echo "  git archive | gzip -6:     $(stats $T_gzip6), CPU $(median $C_gzip6) s, $gs bytes"
check "gitmirror archive, times faster than git archive | pigz -6" \
    "$(ratio "$p" "$o")" ">=" 1.8 x
# shellcheck disable=SC2086
echo "  (times faster than git archive | gzip -6: $(ratio "$(median $T_gzip6)" "$o"))"
check "gitmirror archive size over gzip -6" \
    "$(awk -v a="$os" -v b="$gs" 'BEGIN { printf "%.2f", (a / b - 1) * 100 }')" \
    "<=" 0 "%"

# the same tarball through gitmirror serve, made afresh each run
"$GITMIRROR" -d "$FARM" serve -l 127.0.0.1:0 2>"$TRASH/serve.log" &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || :' EXIT
_i=0
until port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' \
    "$TRASH/serve.log") && [ -n "$port" ]; do
	_i=$((_i + 1))
	kill -0 "$SERVER_PID" 2>/dev/null && [ $_i -lt 1200 ] ||
	    bench_die "gitmirror serve did not start; see $TRASH/serve.log"
	sleep 0.05
done
served() {
	rm -rf "$FARM/cache/gitmirror"
	curl -sSf -o "$TRASH/served.tgz" -w '%{time_starttransfer}\n' \
	    "http://127.0.0.1:$port/go.tar.gz?rev=$REV" >>"$TRASH/ttfb"
}
rm -f "$TRASH/ttfb"
interleave "$BENCH_RUNS" served pigz6
cmp -s "$TRASH/served.tgz" "$TRASH/ours.tgz" ||
    bench_die "gitmirror serve and archive gave different bytes"
# shellcheck disable=SC2086
echo "  gitmirror serve (cache miss): $(stats $T_served);" \
    "server CPU $(median $S_served) s a run, peak memory" \
    "$(proc_peak $SERVER_PID) MiB; curl CPU $(median $C_served) s"
# the first byte comes with the first gzip member, not the last
# shellcheck disable=SC2046
echo "  gitmirror serve, first byte: $(stats $(cat "$TRASH/ttfb"))"
check "gitmirror serve, times faster than git archive | pigz -6" \
    "$(ratio "$(median $T_pigz6)" "$(median $T_served)")" ">=" 1.8 x
kill $SERVER_PID 2>/dev/null
rm -f "$TRASH/ours.tgz" "$TRASH/pigz.tgz" "$TRASH/gzip.tgz" "$TRASH/served.tgz" \
    "$TRASH/ttfb"
exit 0
