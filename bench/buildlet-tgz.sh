#!/bin/sh
# buildlet-tgz: GET /tgz of the Go source tree (parallel gzip members,
# the default) against "tar czf" of the same tree, both written to a file
# on the same file system.  Target (DESIGN §9): >= 2.2x faster on 2 cores.
# Best of five runs each, interleaved.  Also shown: pargzip=0 (one
# member), and the sizes.
#
# usage: sh bench/buildlet-tgz.sh       (BENCH_DIR=/dev/shm for tmpfs)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

go_tarball
start_buildlet
curl -sS -T "$TRASH/go.tgz" "$URL/writetgz?dir=t" >/dev/null ||
    bench_die "writetgz failed"
echo "tree: $(du -sh "$W/wd/t/go" | cut -f1), $(find "$W/wd/t/go" | wc -l) entries; $(nproc) CPUs" >&2

get() {
	curl -sS -o "$W/$1.tgz" "$URL/tgz?dir=t$2"
}

truns=
bruns=
oruns=
for _ in 1 2 3 4 5; do
	t=$(timeit tar czf "$W/tar.tgz" -C "$W/wd/t" go)
	truns="$truns $t"
	t=$(timeit get par "")
	bruns="$bruns $t"
	t=$(timeit get one "&pargzip=0")
	oruns="$oruns $t"
done
# shellcheck disable=SC2086
tt=$(best $truns)
# shellcheck disable=SC2086
bt=$(best $bruns)
# shellcheck disable=SC2086
ot=$(best $oruns)
for f in tar par one; do
	gzip -t "$W/$f.tgz" || bench_die "$f.tgz is not valid gzip"
done
[ "$(tar tzf "$W/par.tgz" | wc -l)" -eq "$(find "$W/wd/t/go" | wc -l)" ] ||
    bench_die "/tgz lost entries"
echo "tar czf: $tt s, $(wc -c <"$W/tar.tgz") bytes;" \
    "/tgz: $bt s, $(wc -c <"$W/par.tgz") bytes;" \
    "/tgz?pargzip=0: $ot s, $(wc -c <"$W/one.tgz") bytes"
check "buildlet /tgz, times faster than tar czf" "$(ratio "$tt" "$bt")" \
    ">=" 2.2 ""
rm -f "$W/tar.tgz" "$W/par.tgz" "$W/one.tgz"
exit 0
