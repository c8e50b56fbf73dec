#!/bin/sh
# fuzz/run.sh: seed the corpora and run each libFuzzer target for a while.
# usage: sh fuzz/run.sh [seconds-per-target] [target...]
# Needs "make fuzz" first.  Corpora grow in fuzz/trash/corpus/NAME and
# crashes land in fuzz/trash/crash/NAME-* (neither is kept in git); one
# line per target at the end says how many runs it made and whether it
# found anything.  Targets run one after the other.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"path form tar"}
corpus=$top/fuzz/trash/corpus
crash=$top/fuzz/trash/crash
mkdir -p "$corpus/path" "$corpus/form" "$corpus/tar" "$crash"

# seeds: names, forms and archives of the kinds the tests use
i=0
for s in "a/b/c" "../x" "a/.." "./a//b/" "/etc" "a\\b" ".." "" "1.5" \
    "$(printf 'A=1\nB=2\nA=3\n=x\nC')" "tr\`ue" "é/\001"; do
	i=$((i + 1))
	printf '%s' "$s" >"$corpus/path/seed$i"
done
printf '\000cmd=/bin/true&mode=sys&env=A=1&env=A=2&path=$WORKDIR/bin&path=$PATH' \
    >"$corpus/form/seed1"
printf '\000cmd=bin/x.sh&dir=sub&cmdArg=a+b&cmdArg=%%41&debug=true&timeout=1.5' \
    >"$corpus/form/seed2"
printf '\001path=a&path=b/c&path=..&path=a%%2F..' >"$corpus/form/seed3"
printf '\002cmd=x&env=ZED' >"$corpus/form/seed4"
for k in ok dotdot abs backslash symlink hardlink chardev fifo nul-pax \
    badsum; do
	{ printf '\000'; "$top/t/helper/hostile-tar" $k /tmp; } \
	    >"$corpus/tar/raw-$k"
	{ printf '\001'; "$top/t/helper/hostile-tar" $k /tmp | gzip; } \
	    >"$corpus/tar/gz-$k"
done

for t in $targets; do
	bin=$top/fuzz/bin/fuzz-$t
	[ -x "$bin" ] || { echo "fuzz: $bin is not built; make fuzz" >&2; exit 100; }
	log=$crash/$t.log
	set +e
	"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
	    -artifact_prefix="$crash/$t-" -print_final_stats=1 \
	    "$corpus/$t" >"$log" 2>&1
	rc=$?
	set -e
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ]; then
		echo "fuzz-$t: $secs s, ${runs:-?} runs, nothing found"
	else
		echo "fuzz-$t: exit $rc after ${runs:-?} runs; see $log"
	fi
done
