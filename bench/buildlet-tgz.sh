#!/bin/sh
# buildlet-tgz: GET /tgz of the Go source tree (parallel gzip members,
# the default) against "tar -I 'pigz -6' -cf" (the best peer on 2
# cores) and "tar -I 'gzip -6' -cf" (tar czf, the classic one) of the
# same tree, all at level 6 with entries in the same order (names in
# byte order, as the buildlet walks), written to files on the same file
# system.  Interleaved, medians of BENCH_RUNS; the buildlet's CPU time
# per run and its peak memory are shown beside the client's wall time.
# Also shown: pargzip=0 (one member), and the sizes.  Targets (DESIGN
# §9 and issue 17): >= 1.8x faster than tar with pigz -6 on 2 cores,
# output no larger than gzip -6's.
#
# usage: sh bench/buildlet-tgz.sh       (BENCH_DIR=/dev/shm for tmpfs)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

command -v pigz >/dev/null ||
    bench_die "pigz is missing: scripts/install-deps bench"
go_tarball
start_buildlet
curl -sS -T "$TRASH/go.tgz" "$URL/writetgz?dir=t" >/dev/null ||
    bench_die "writetgz failed"
echo "tree: $(du -sh "$W/wd/t/go" | cut -f1), $(find "$W/wd/t/go" | wc -l) entries; $(nproc) CPUs" >&2

get() {
	curl -sS -o "$W/$1.tgz" "$URL/tgz?dir=t$2"
}
tgz() {
	get par ""
}
tgz1() {
	get one "&pargzip=0"
}
pigz6() {
	tar -I 'pigz -6' -cf "$W/pigz.tgz" --sort=name -C "$W/wd/t" go
}
gzip6() {
	tar -I 'gzip -6' -cf "$W/gzip.tgz" --sort=name -C "$W/wd/t" go
}

interleave "$BENCH_RUNS" tgz pigz6 gzip6 tgz1
for f in par one pigz gzip; do
	gzip -t "$W/$f.tgz" || bench_die "$f.tgz is not valid gzip"
done
[ "$(tar tzf "$W/par.tgz" | wc -l)" -eq "$(find "$W/wd/t/go" | wc -l)" ] ||
    bench_die "/tgz lost entries"
size() {
	wc -c <"$W/$1.tgz"
}
# shellcheck disable=SC2086
{
echo "GET /tgz:               $(stats $T_tgz), $(size par) bytes;" \
    "buildlet CPU $(median $S_tgz) s, curl CPU $(median $C_tgz) s"
echo "GET /tgz?pargzip=0:     $(stats $T_tgz1), $(size one) bytes;" \
    "buildlet CPU $(median $S_tgz1) s"
echo "tar -I 'pigz -6' -cf:   $(stats $T_pigz6), $(size pigz) bytes;" \
    "CPU $(median $C_pigz6) s"
echo "tar -I 'gzip -6' -cf:   $(stats $T_gzip6), $(size gzip) bytes;" \
    "CPU $(median $C_gzip6) s"
echo "buildlet peak memory: $(proc_peak "$SERVER_PID") MiB"
}
# shellcheck disable=SC2086
check "buildlet /tgz, times faster than tar with pigz -6" \
    "$(ratio "$(median $T_pigz6)" "$(median $T_tgz)")" ">=" 1.8 x
# shellcheck disable=SC2086
echo "  (times faster than tar czf, gzip -6: $(ratio "$(median $T_gzip6)" "$(median $T_tgz)"); DESIGN §9 asked >= 2.2)"
check "buildlet /tgz size over gzip -6" \
    "$(awk -v a="$(size par)" -v b="$(size gzip)" \
    'BEGIN { printf "%.2f", (a / b - 1) * 100 }')" "<=" 0 "%"
rm -f "$W/par.tgz" "$W/one.tgz" "$W/pigz.tgz" "$W/gzip.tgz"
exit 0
