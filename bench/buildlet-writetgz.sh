#!/bin/sh
# buildlet-writetgz: PUT /writetgz of the Go source tree (the tarball of
# Debian's golang-src, 13,000 entries, 27 MB) into an empty directory,
# against "tar xzf" of the same file into an empty directory on the same
# file system, and "tar -I pigz -xf" (pigz decompresses on one thread
# but reads, writes and checks on others).  Target (DESIGN §9): >= 1.8x
# faster than tar -I pigz -xf.  Interleaved, medians of BENCH_RUNS, the disk
# synced before each run.  The time of the buildlet includes curl
# sending the file over loopback; its CPU time per run and peak memory
# are shown too.
#
# usage: sh bench/buildlet-writetgz.sh      (BENCH_DIR=/dev/shm for tmpfs)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

command -v pigz >/dev/null ||
    bench_die "pigz is missing: scripts/install-deps bench"
go_tarball
start_buildlet
tgz=$TRASH/go.tgz
echo "input: $tgz, $(wc -c <"$tgz") bytes; scratch in $W" >&2

# Each run into a new directory, and nothing removed until the end: a
# file system that has just removed thousands of files can be much
# slower to create them (ext4 skips recently freed inodes), which would
# measure the removal instead.
rm -rf "$W/x" && mkdir "$W/x"
prep() {
	# the buildlet makes its own directory: dir=put-ROUND in $W/wd
	[ "$1" = put ] || mkdir "$W/x/$1-$2"
	sync
}
put() {
	curl -sS -T "$tgz" "$URL/writetgz?dir=put-$1" >"$W/put.out" &&
	[ "$(cat "$W/put.out")" = OK ]
}
txzf() {
	tar xzf "$tgz" -C "$W/x/txzf-$1"
}
tpigz() {
	tar -I pigz -xf "$tgz" -C "$W/x/tpigz-$1"
}
BENCH_BEFORE=prep interleave "$BENCH_RUNS" txzf put tpigz
diff -r "$W/x/txzf-1/go" "$W/wd/put-1/go" >/dev/null ||
    bench_die "the two extractions differ"
rm -rf "$W/x" "$W"/wd/put-*
# shellcheck disable=SC2086
{
echo "tar xzf:             $(stats $T_txzf), CPU $(median $C_txzf) s"
echo "tar -I pigz -xf:     $(stats $T_tpigz), CPU $(median $C_tpigz) s"
echo "buildlet /writetgz:  $(stats $T_put), buildlet CPU" \
    "$(median $S_put) s a run, peak memory $(proc_peak "$SERVER_PID") MiB;" \
    "curl CPU $(median $C_put) s"
}
# shellcheck disable=SC2086
check "buildlet /writetgz, times faster than tar -I pigz -xf" \
    "$(ratio "$(median $T_tpigz)" "$(median $T_put)")" ">=" 1.8 x
# shellcheck disable=SC2086
echo "  (times faster than tar xzf: $(ratio "$(median $T_txzf)" "$(median $T_put)"))"
exit 0
