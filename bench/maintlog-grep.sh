#!/bin/sh
# maintlog-grep: the grep target of DESIGN §9.
#
# On a log of 1,000,000 records (appended in batches of 100,000 with
# -b 100000, and kept in bench/trash for later runs), time
# "maintlog grep commit=VALUE" against "grep -F VALUE" over the same
# segment files, for a VALUE held by one commit.  Both read from the
# page cache and write their matches to a file (GNU grep stops at the
# first match when its output is /dev/null).  Interleaved, medians of
# BENCH_RUNS;
# target: maintlog grep takes at most 2.0 times as long.
# Then the same for builder=linux-amd64 (2.5% of the records) and
# type=result (20%) against grep -F of the member as canonical JSON
# spells it: every line the literal hits is parsed, so these show what
# a filter that many records pass costs.
#
# usage: sh bench/maintlog-grep.sh
. "$(dirname "$0")/lib.sh"

LOG=$TRASH/big1m
big_log "$LOG" 1000000

value=$(perl -MDigest::SHA=sha1_hex -e 'print sha1_hex("commit 777771")')
set -- "$LOG"/*.jsonl
echo "log: $(cat "$@" | wc -c) bytes in $# segments; commit=$value" >&2

mgrep() {
	"$MAINTLOG" -d "$LOG" grep "commit=$value" >"$TRASH/grep.m"
}
fgrep_() {
	grep -hF "$value" "$LOG"/*.jsonl >"$TRASH/grep.f"
}

cat "$@" >/dev/null	# into the page cache
interleave "$BENCH_RUNS" mgrep fgrep_
[ "$(wc -l <"$TRASH/grep.m")" -eq 1 ] ||
    bench_die "maintlog grep found $(wc -l <"$TRASH/grep.m") records, not 1"
# shellcheck disable=SC2086
m=$(median $T_mgrep)
# shellcheck disable=SC2086
g=$(median $T_fgrep_)
# shellcheck disable=SC2086
echo "maintlog grep commit=VALUE: $(stats $T_mgrep); grep -F VALUE:" \
    "$(stats $T_fgrep_)" \
    "($(wc -l <"$TRASH/grep.f") lines: the commit and its child's parent)"
check "ratio maintlog grep / grep -F" "$(ratio "$m" "$g")" "<=" 2.0 ""

for q in 'builder=linux-amd64 "builder":"linux-amd64"' \
    'type=result "type":"result"'; do
	expr=${q%% *}
	lit=${q#* }
	mg() {
		"$MAINTLOG" -d "$LOG" grep "$expr" >"$TRASH/grep.m"
	}
	fg() {
		grep -hF "$lit" "$LOG"/*.jsonl >"$TRASH/grep.f"
	}
	interleave "$BENCH_RUNS" mg fg
	cmp -s "$TRASH/grep.m" "$TRASH/grep.f" ||
	    bench_die "maintlog grep $expr and grep -F differ"
	# shellcheck disable=SC2086
	echo "maintlog grep $expr: $(stats $T_mg); grep -F: $(stats $T_fg)" \
	    "($(wc -l <"$TRASH/grep.f") lines)"
	# shellcheck disable=SC2086
	check "ratio maintlog grep $expr / grep -F" \
	    "$(ratio "$(median $T_mg)" "$(median $T_fg)")" "<=" 2.0 ""
done
rm -f "$TRASH/grep.m" "$TRASH/grep.f"
exit 0
