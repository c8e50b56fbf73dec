#!/bin/sh
# buildlet-writetgz: PUT /writetgz of the Go source tree (the tarball of
# Debian's golang-src, 13,000 entries, 27 MB) into an empty directory,
# against "tar xzf" of the same file into an empty directory on the same
# file system.  Target (DESIGN §9): >= 1.2x faster.  Best of five runs
# each, interleaved, the disk synced before each.  The time of the
# buildlet includes curl sending the file over loopback.
#
# usage: sh bench/buildlet-writetgz.sh      (BENCH_DIR=/dev/shm for tmpfs)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

go_tarball
start_buildlet
tgz=$TRASH/go.tgz
echo "input: $tgz, $(wc -c <"$tgz") bytes; scratch in $W" >&2

put() {
	curl -sS -T "$tgz" "$URL/writetgz?dir=$1" >"$W/put.out" &&
	[ "$(cat "$W/put.out")" = OK ]
}

# Each run into a new directory, and nothing removed until the end: a
# file system that has just removed thousands of files can be much
# slower to create them (ext4 skips recently freed inodes), which would
# measure the removal instead.
rm -rf "$W/x" && mkdir "$W/x"
truns=
bruns=
for i in 1 2 3 4 5; do
	mkdir "$W/x/$i" && sync
	t=$(timeit tar xzf "$tgz" -C "$W/x/$i")
	truns="$truns $t"
	sync
	t=$(timeit put "r$i")
	bruns="$bruns $t"
done
# shellcheck disable=SC2086
tt=$(best $truns)
# shellcheck disable=SC2086
bt=$(best $bruns)
diff -r "$W/x/1/go" "$W/wd/r1/go" >/dev/null ||
    bench_die "the two extractions differ"
rm -rf "$W/x" "$W/wd"
echo "tar xzf: $tt s; buildlet /writetgz: $bt s (runs:$truns /$bruns)"
check "buildlet /writetgz, times faster than tar xzf" "$(ratio "$tt" "$bt")" \
    ">=" 1.2 ""
exit 0
