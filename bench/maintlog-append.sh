#!/bin/sh
# maintlog-append: the append targets of DESIGN §9.
#
#  1. batched: 200,000 records in one "maintlog append -b 1000",
#     target >= 200,000 records/s;
#  2. durable one by one: 5,000 records with "-b 1" against a bare
#     write+fsync loop (bench/fsyncloop.c) of lines of the same mean
#     size on the same file system, target >= 0.70 of the loop's rate.
#
# The records are a realistic mix (gen_records in lib.sh), about 540
# bytes each.  Best of three runs each.
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

# 1. batched
runs=
for _ in 1 2 3; do
	fresh
	t=$(timeit append "$W/in.jsonl" -b 1000)
	[ "$(wc -l <"$W/seqs")" -eq 200000 ] ||
	    bench_die "append printed $(wc -l <"$W/seqs") seqs, not 200000"
	runs="$runs $t"
done
# shellcheck disable=SC2086
t=$(best $runs)
check "maintlog append -b 1000" "$(rate 200000 "$t")" ">=" 200000 records/s

# 1b. the same with small records: git-ref updates alone (about 190
# bytes stored), to show how the rate depends on record size
perl -MDigest::SHA=sha1_hex -e 'for my $i (1 .. 200000) {
	printf qq({"type":"git-ref","repo":"go","ref":"refs/heads/master","old":"%s","new":"%s"}\n),
	    sha1_hex($i - 1), sha1_hex($i) }' >"$W/small.jsonl"
runs=
for _ in 1 2 3; do
	fresh
	t=$(timeit append "$W/small.jsonl" -b 1000)
	runs="$runs $t"
done
# shellcheck disable=SC2086
t=$(best $runs)
check "maintlog append -b 1000 (git-ref records)" "$(rate 200000 "$t")" \
    ">=" 200000 records/s

# 2. one fsync per record, against the bare loop writing lines of the
# mean stored size, the two interleaved so that both see the same disk
mruns=
lruns=
len=
for _ in 1 2 3; do
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
mrate=$(rate 5000 "$(best $mruns)")
# shellcheck disable=SC2086
lrate=$(printf '%s\n' $lruns | sort -g | tail -n 1)
echo "maintlog append -b 1: $mrate records/s; write+fsync loop of" \
    "$len-byte lines: $lrate lines/s"
check "ratio append -b 1 / fsync loop" "$(ratio "$mrate" "$lrate")" ">=" \
    0.70 ""

rm -rf "$W"
exit 0
