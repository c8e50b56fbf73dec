#!/bin/sh
# dashboard-render: the dashboard target of DESIGN §9.
#
# A farm of 10,000 commits on master and 40 builders, each with a
# result on every commit (400,000 result records, 2% failures over 20
# distinct logs), built once and kept in bench/trash/dashboard-farm.  Then:
#   1. from scratch: "dashboard -o NEW" with no state, BENCH_RUNS times
#      (medians; each round into a new directory); target <= 10 s;
#   2. one new result: "dashboard -f" running, one result appended at a
#      time (BENCH_RUNS x 5, on commits of different pages), each timed
#      by dashboard -v from the loop's wake-up to the saved state
#      (reading the record, rendering its pages, syncfs, the state
#      file); target <= 100 ms (median);
#   3. for information: a first run into a tmpfs (what the disk's file
#      system costs: creating ten thousand files is much of a first
#      run), and a run without -f after one new result, which reads
#      both logs again but rewrites only the pages it touches.
#
# usage: sh bench/dashboard-render.sh
. "$(dirname "$0")/lib.sh"

DASH=$TOP/cmd/dashboard/dashboard
[ -x "$DASH" ] || { echo "bench: build the tools first (make)" >&2; exit 100; }
FARM=$TRASH/dashboard-farm
NC=10000
NB=40

if [ ! -f "$FARM/.built" ]; then
	rm -rf "$FARM"
	mkdir -p "$FARM"
	printf '[repo "go"]\n\tupstream = https://example.org/go\n\tbranch = master\n' \
	    >"$FARM/config"
	NC=$NC perl -MDigest::SHA=sha1_hex -e '
	for my $i (1 .. $ENV{NC}) {
		my $h = sha1_hex("commit $i");
		my $p = $i > 1 ? "\"" . sha1_hex("commit " . ($i - 1)) . "\"" : "";
		print "{\"author\":{\"email\":\"gopher$i\@example.org\",",
		    "\"name\":\"Gopher $i\",\"time\":\"2017-07-30T09:09:47-07:00\"},",
		    "\"branch\":\"master\",\"commit\":\"$h\",\"committer\":{",
		    "\"email\":\"g\@example.org\",\"name\":\"G\",",
		    "\"time\":\"2017-07-30T16:09:47Z\"},\"msg\":\"runtime: ",
		    "change number $i to make things faster\\n\\nA body of a ",
		    "few lines, as commit messages have.\\n\\nChange-Id: I",
		    "0c6e0a2b7f4d8e9a1b3c5d7e9f1a3b5c7d9e1f30\\n\",",
		    "\"parents\":[$p],\"repo\":\"go\",\"tree\":\"$h\",",
		    "\"type\":\"git\"}\n";
	}' | "$MAINTLOG" -d "$FARM" -L corpus append -b 100000 >/dev/null ||
	    bench_die "corpus"
	for i in $(seq 1 20); do
		printf 'FAIL: TestThing%d\nexit status 1\n' "$i" >"$TRASH/log.txt"
		h=$(sha256sum "$TRASH/log.txt" | cut -c1-64)
		mkdir -p "$FARM/buildlogs/$(printf %.2s "$h")"
		gzip -c "$TRASH/log.txt" >"$FARM/buildlogs/$(printf %.2s "$h")/$h.gz"
		echo "$h"
	done >"$TRASH/fail-logs"
	NC=$NC NB=$NB perl -MDigest::SHA=sha1_hex -e '
	open(my $f, "<", "'"$TRASH/fail-logs"'") or die; chomp(my @fl = <$f>);
	my @os = qw(linux darwin windows freebsd openbsd netbsd plan9 solaris);
	my @arch = qw(amd64 386 arm arm64 mips);
	my @b = map { $os[$_ % 8] . "-" . $arch[int($_ / 8)] } 0 .. $ENV{NB} - 1;
	my $n = 0;
	for my $i (1 .. $ENV{NC}) {
		my $h = sha1_hex("commit $i");
		for my $b (@b) {
			$n++;
			my $ok = $n % 50 ? "true" : "false";
			my $log = $n % 50 ? sprintf("%064x", $n) : $fl[$n % 20];
			print "{\"attempt\":1,\"builder\":\"$b\",\"buildlet\":",
			    "\"$b-3\",\"elapsed_ms\":", 60000 + ($n * 7919) % 90000,
			    ",\"item\":\"1501000000.000001P1Q$n.host\",",
			    "\"kind\":\"post\",\"log\":\"$log\",\"ok\":$ok,",
			    "\"repo\":\"go\",\"rev\":\"$h\",\"type\":\"result\"}\n";
		}
	}' | "$MAINTLOG" -d "$FARM" -L results append -b 100000 >/dev/null ||
	    bench_die "results"
	: >"$FARM/.built"
fi
echo "farm: $NC commits x $NB builders; results log" \
    "$(cat "$FARM"/results/*.jsonl | wc -c) bytes" >&2

# each round into a new directory, as a first run writes: the trees are
# removed after the rounds, since ext4 allocating inodes right after
# tens of thousands were freed costs kernel time a first run never pays
rm -rf "$TRASH"/dash-www*
clean() {
	rm -rf "$FARM/state/dashboard"
}
scratch() {
	OUT=$TRASH/dash-www.$1
	"$DASH" -d "$FARM" -o "$OUT"
}
BENCH_BEFORE=clean interleave "$BENCH_RUNS" scratch
OUT=$TRASH/dash-www.$BENCH_RUNS
[ -f "$OUT/grid/go/master/333.html" ] || bench_die "no page 333"
# shellcheck disable=SC2086
echo "from scratch: $(stats $T_scratch); $(find "$OUT" -type f | wc -l) files"
mv "$OUT" "$TRASH/dash-www"
OUT=$TRASH/dash-www
rm -rf "$TRASH"/dash-www.*
# shellcheck disable=SC2086
check "dashboard from scratch" "$(median $T_scratch)" "<=" 10 s
# for information: how much of it the file system takes
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/dash-bench.XXXXXX)
	clean
	t=$(timeit "$DASH" -d "$FARM" -o "$SHM/www")
	rm -rf "$SHM"
	echo "from scratch into a tmpfs (for information): $t s"
fi

# one new result at a time, followed
: >"$TRASH/dash-f.log"
"$DASH" -v -d "$FARM" -o "$OUT" -f 2>"$TRASH/dash-f.log" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
n=0
until grep -q 'following' "$TRASH/dash-f.log"; do
	sleep 0.1; n=$((n + 1)); [ $n -lt 600 ] || bench_die "-f never rendered"
done
: >"$TRASH/dash-times"
runs=$((BENCH_RUNS * 5))
for i in $(seq 1 "$runs"); do
	before=$(grep -c 'rendered in' "$TRASH/dash-f.log")
	rev=$(perl -MDigest::SHA=sha1_hex -e 'print sha1_hex("commit $ARGV[0]")' \
	    $((NC - i * 97)))
	printf '{"attempt":1,"builder":"plan9-arm","buildlet":"b","elapsed_ms":1,"item":"x","kind":"post","log":"%064d","ok":false,"repo":"go","rev":"%s","type":"result"}\n' \
	    0 "$rev" | "$MAINTLOG" -d "$FARM" -L results append >/dev/null
	n=0
	until [ "$(grep -c 'rendered in' "$TRASH/dash-f.log")" -gt "$before" ]; do
		sleep 0.02; n=$((n + 1)); [ $n -lt 1500 ] || bench_die "no render"
	done
	grep 'rendered in' "$TRASH/dash-f.log" | tail -n 1 |
	    awk '{ printf "%.3f\n", $(NF - 1) / 1000 }' >>"$TRASH/dash-times"
done
kill $pid
wait $pid 2>/dev/null || true
trap - EXIT
# shellcheck disable=SC2046
echo "one new result, -f: $(stats $(cat "$TRASH/dash-times"))"
# shellcheck disable=SC2046
check "dashboard -f, one new result" \
    "$(median $(cat "$TRASH/dash-times") | awk '{ print $1 * 1000 }')" \
    "<=" 100 ms

rev=$(perl -MDigest::SHA=sha1_hex -e 'print sha1_hex("commit $ARGV[0]")' "$NC")
printf '{"attempt":1,"builder":"plan9-arm","buildlet":"b","elapsed_ms":1,"item":"x","kind":"post","log":"%064d","ok":true,"repo":"go","rev":"%s","type":"result"}\n' \
    0 "$rev" | "$MAINTLOG" -d "$FARM" -L results append >/dev/null
t=$(timeit "$DASH" -d "$FARM" -o "$OUT")
echo "one new result, a run without -f (reads both logs): $t s"
