#!/bin/sh
# maintlog-append: the append targets of DESIGN §9.
#
#  1. batched: 200,000 records in one "maintlog append -b 1000",
#     target >= 50 MB/s of input on 2 cores, against sqlite3 importing
#     the same lines into a table in one transaction with
#     synchronous=FULL; and 200,000 git-ref records (about 190 bytes
#     stored), target >= 200,000 records/s;
#  2. durable one by one: 5,000 records with "-b 1" against a bare
#     write+fsync loop (bench/fsyncloop.c) of lines of the same mean
#     size on the same file system, target >= 0.70 of the loop's rate;
#  3. memory: the peak RSS of "maintlog append" (GNU time's %M) for
#     50,000 and 200,000 records, with -b 1000 and -b 100000, target
#     <= 32 MiB whatever the input and batch size.
#
# The records are a realistic mix (gen_records in lib.sh), about 540
# bytes each.  Interleaved, medians of BENCH_RUNS.
#
# usage: sh bench/maintlog-append.sh
. "$(dirname "$0")/lib.sh"

W=$TRASH/append
rm -rf "$W"
mkdir -p "$W"

# the fsync loop, built here so that "make" needs nothing from bench/
LOOP=$TRASH/fsyncloop
if [ ! -x "$LOOP" ] ||
    [ -n "$(find "$TOP/bench/fsyncloop.c" -newer "$LOOP")" ]; then
	${CC:-cc} -O2 -o "$LOOP" "$TOP/bench/fsyncloop.c" ||
	    bench_die "cannot compile bench/fsyncloop.c"
fi

gen_records 1 200000 >"$W/in.jsonl" || bench_die "generating records failed"
head -n 5000 "$W/in.jsonl" >"$W/in5k.jsonl"
echo "input: 200000 records, $(wc -c <"$W/in.jsonl") bytes" >&2

# fresh: an empty log directory, and nothing left for the disk to write
fresh() {
	rm -rf "$W/log"
	sync
}

# append FILE [options]: into the log, seqs to $W/seqs
append() {
	_in=$1
	shift
	"$MAINTLOG" -d "$W/log" append "$@" <"$_in" >"$W/seqs"
}

command -v sqlite3 >/dev/null ||
    bench_die "sqlite3 is missing: scripts/install-deps bench"
[ -x /usr/bin/time ] ||
    bench_die "/usr/bin/time is missing: scripts/install-deps bench"

# 1. batched, against sqlite3
prep() {
	fresh
	rm -f "$W/db"
}
batched() {
	append "$W/in.jsonl" -b 1000
}
sqlite() {
	# ascii mode: no quoting, one line a row; .import is one transaction
	sqlite3 "$W/db" 'PRAGMA synchronous=FULL;' \
	    'CREATE TABLE r(line TEXT);' '.mode ascii' \
	    '.separator "\037" "\n"' ".import $W/in.jsonl r"
}
BENCH_BEFORE=prep interleave "$BENCH_RUNS" batched sqlite
[ "$(wc -l <"$W/seqs")" -eq 200000 ] ||
    bench_die "append printed $(wc -l <"$W/seqs") seqs, not 200000"
[ "$(sqlite3 "$W/db" 'SELECT count(*) FROM r')" = 200000 ] ||
    bench_die "sqlite3 imported other than 200000 rows"
# shellcheck disable=SC2086
t=$(median $T_batched)
mb=$(awk -v b="$(wc -c <"$W/in.jsonl")" -v t="$t" \
    'BEGIN { printf "%.1f", b / t / 1e6 }')
# shellcheck disable=SC2086
echo "maintlog append -b 1000: $(stats $T_batched), $mb MB/s;" \
    "sqlite3 import, synchronous=FULL: $(stats $T_sqlite);" \
    "ratio $(ratio "$t" "$(median $T_sqlite)")"
check "maintlog append -b 1000" "$mb" ">=" 50 MB/s

# 1b. the same with small records: git-ref updates alone (about 190
# bytes stored), to show how the rate depends on record size
perl -MDigest::SHA=sha1_hex -e 'for my $i (1 .. 200000) {
	printf qq({"type":"git-ref","repo":"go","ref":"refs/heads/master","old":"%s","new":"%s"}\n),
	    sha1_hex($i - 1), sha1_hex($i) }' >"$W/small.jsonl"
small() {
	append "$W/small.jsonl" -b 1000
}
BENCH_BEFORE=prep interleave "$BENCH_RUNS" small
# shellcheck disable=SC2086
t=$(median $T_small)
check "maintlog append -b 1000 (git-ref records)" "$(rate 200000 "$t")" \
    ">=" 200000 records/s

# 2. one fsync per record, against the bare loop writing lines of the
# mean stored size, the two interleaved so that both see the same disk
mruns=
lruns=
len=
i=0
while [ $i -lt "$BENCH_RUNS" ]; do
	i=$((i + 1))
	fresh
	t=$(timeit append "$W/in5k.jsonl" -b 1)
	mruns="$mruns $t"
	[ -n "$len" ] || len=$(awk -v b="$(cat "$W"/log/*.jsonl | wc -c)" \
	    'BEGIN { printf "%d", b / 5000 + 0.5 }')
	sync
	r=$("$LOOP" "$W/loop.out" 5000 "$len") || bench_die "fsyncloop failed"
	lruns="$lruns $r"
done
# shellcheck disable=SC2086
mrate=$(rate 5000 "$(median $mruns)")
# shellcheck disable=SC2086
lrate=$(median $lruns)
# shellcheck disable=SC2086
echo "maintlog append -b 1: $mrate records/s (5000 in $(stats $mruns));" \
    "write+fsync loop of $len-byte lines: $lrate lines/s $(spread $lruns)"
check "ratio append -b 1 / fsync loop" "$(ratio "$mrate" "$lrate")" ">=" \
    0.70 ""

# 3. peak memory, growing the input and the batch
head -n 50000 "$W/in.jsonl" >"$W/in50k.jsonl"
peak=0
for n in 50k 200k; do
	in=$W/in$n.jsonl
	[ "$n" != 200k ] || in=$W/in.jsonl
	for b in 1000 100000; do
		fresh
		/usr/bin/time -f %M -o "$W/rss" \
		    "$MAINTLOG" -d "$W/log" append -b "$b" <"$in" >"$W/seqs" ||
		    bench_die "append of $n records with -b $b failed"
		kb=$(tail -n 1 "$W/rss")
		echo "maintlog append -b $b of $n records" \
		    "($(wc -c <"$in") bytes): peak RSS" \
		    "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
		[ "$kb" -le "$peak" ] || peak=$kb
	done
done
check "maintlog append peak memory" \
    "$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')" "<=" 32 MiB

rm -rf "$W"
exit 0
