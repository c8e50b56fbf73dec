#!/bin/sh
# schedule-decide: the time of one scheduling decision with 1,000
# machines and 10,000 queued items (DESIGN §9: <= 1 ms): 10 repos of 2
# branches, 100 builders (10 per repo), each on its own host type of 10
# static machines; per repo 500 old commits and 100 within the builders'
# backfill (60 on master, 40 on the release branch), none built: 10,000
# pairs to build.  bench/schedule-decidebench.c, linked with the work
# model of cmd/schedule, times workq_update after one new record plus
# the walk to the first item whose host type has a free machine.
#
# usage: sh bench/schedule-decide.sh
. "$(dirname "$0")/lib.sh"

DB=$TRASH/schedule-decidebench
WORK_O=$TOP/cmd/schedule/work.o
[ -f "$WORK_O" ] || { echo "bench: '$WORK_O' is not built; run make" >&2; exit 100; }
if [ ! -x "$DB" ] ||
    [ -n "$(find "$TOP/bench/schedule-decidebench.c" "$WORK_O" \
    "$TOP/lib/libbuildfarm.a" -newer "$DB")" ]; then
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I"$TOP/lib" \
	    -I"$TOP/cmd/schedule" -o "$DB" \
	    "$TOP/bench/schedule-decidebench.c" "$WORK_O" \
	    "$TOP/lib/libbuildfarm.a" $(pkg-config --libs libmicrohttpd \
	    libcurl libgit2 jansson libarchive zlib libcrypto) -lssh2 \
	    -lpthread ||
	    bench_die "cannot compile bench/schedule-decidebench.c"
fi

D=$TRASH/schedule-decide
rm -rf "$D"
mkdir -p "$D"
awk 'BEGIN {
	for (r = 0; r < 10; r++)
		printf "[repo \"r%d\"]\n\tupstream = https://example.org/r%d\n\tbranch = master\n\tbranch = release\n", r, r
	for (h = 0; h < 100; h++) {
		printf "[hosttype \"h%d\"]\n\tpool = static\n", h
		for (m = 0; m < 10; m++)
			printf "\tbuildlet = http://127.0.0.1:%d\n", 20000 + h * 10 + m
	}
	for (b = 0; b < 100; b++)
		printf "[builder \"b%d\"]\n\thosttype = h%d\n\trepo = r%d\n\trun = true\n\tbackfill = 60\n", b, b, int(b / 10)
}' >"$D/config"
awk 'BEGIN {
	t = 1500000000
	for (r = 0; r < 10; r++)
		for (c = 0; c < 600; c++) {
			br = (c >= 500 && c % 5 >= 3) ? "release" : "master"
			printf "{\"branch\":\"%s\",\"commit\":\"a%07x%032x\",\"committer\":{\"time\":\"%s\"},\"repo\":\"r%d\"}\n",
			    br, r, c, strftime("%Y-%m-%dT%H:%M:%SZ", t + c, 1), r
		}
}' | "$MAINTLOG" -d "$D/corpus" append -t git >/dev/null ||
	bench_die "cannot write the corpus"

line=$("$DB" "$D" 1000 500) || bench_die "decidebench failed"
echo "decisions: $line" >&2
p50=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($i == "p50") print $(i + 1)}')
p99=$(echo "$line" | awk '{for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1)}')
items=$(echo "$line" | awk '{print $5}')
echo "decision with 1000 machines, $items queued items: p50 $p50 ms, p99 $p99 ms"
check "schedule decision p50" "$p50" "<=" 1 ms
exit 0
