#!/bin/sh
# maintlog-cat: what reading through maintlog costs over cat(1).
#
# On the 1,000,000-record log of maintlog-grep.sh (made here if it is
# not there yet), time "maintlog cat | wc -c" against
# "cat SEGMENTS | wc -c": both from the page cache and both through a
# pipe, so that neither can skip the copy.  Interleaved, medians of
# BENCH_RUNS; target (DESIGN §9): maintlog cat takes at most 1.1 times
# as long.
#
# usage: sh bench/maintlog-cat.sh
. "$(dirname "$0")/lib.sh"

LOG=$TRASH/big1m
big_log "$LOG" 1000000

mcat() {
	"$MAINTLOG" -d "$LOG" cat | wc -c >"$TRASH/cat.m"
}
ccat() {
	cat "$LOG"/*.jsonl | wc -c >"$TRASH/cat.c"
}

cat "$LOG"/*.jsonl >/dev/null	# into the page cache
interleave "$BENCH_RUNS" mcat ccat
[ "$(cat "$TRASH/cat.m")" = "$(cat "$TRASH/cat.c")" ] ||
    bench_die "maintlog cat gave $(cat "$TRASH/cat.m") bytes, cat" \
    "$(cat "$TRASH/cat.c")"
# shellcheck disable=SC2086
m=$(median $T_mcat)
# shellcheck disable=SC2086
c=$(median $T_ccat)
# shellcheck disable=SC2086
echo "maintlog cat | wc -c: $(stats $T_mcat); cat SEGMENTS | wc -c:" \
    "$(stats $T_ccat)" \
    "($(cat "$TRASH/cat.c") bytes)"
check "ratio maintlog cat / cat" "$(ratio "$m" "$c")" "<=" 1.1 ""
rm -f "$TRASH/cat.m" "$TRASH/cat.c"
exit 0
