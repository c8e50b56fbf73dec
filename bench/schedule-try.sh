#!/bin/sh
# schedule-try: a Run-TryBot+1 vote to "TryBots beginning", and to the
# TryBot-Result vote (DESIGN §9: p50 <= 1 s and <= 3 s, over 20 runs).
# A real farm: the fixture Gerrit of the tests, "pollgerrit events"
# reading a pipe as it reads "gerrit stream-events", "schedule serve"
# with a static pool of one real buildlet, and one TryBot builder whose
# step is "true".  Twenty times, one at a time: a patch set's commit is
# pushed to a branch upstream and mirrored (untimed), its
# patchset-created event written (untimed), then its comment-added
# event with Run-TryBot+1, from whose write both latencies are timed to
# the post's arrival at the fixture (its reviews.log).  They hold
# pollgerrit's record and item, the daemon's wake-up and claim, the
# pollgerrit review child and its HTTP post; the vote also the build
# child, the wipe, the source put (gitmirror archive streamed to the
# buildlet), the step and the result record.
#
# usage: sh bench/schedule-try.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"
. "$(dirname "$0")/schedule.inc"

PG=$TOP/cmd/pollgerrit/pollgerrit
FIX=$TOP/t/helper/fixture-gerrit
[ -x "$PG" ] || { echo "bench: '$PG' is not built; run make" >&2; exit 100; }
PATH=$TOP/cmd/pollgerrit:$PATH

N=${BENCH_TRY_N:-20}
D=$TRASH/schedule-try
rm -rf "$D" && mkdir -p "$D/farm" "$D/g/1" || bench_die "mkdir '$D' failed"
farm_upstream "$D/up" 1
i=1
while [ $i -le "$N" ]; do
	git -C "$D/up" checkout -q -b "cl-$i" master &&
	echo "$i" >"$D/up/cl.txt" &&
	git -C "$D/up" add cl.txt &&
	git -C "$D/up" commit -q -m "change $i" &&
	git -C "$D/up" checkout -q master || bench_die "commit failed"
	i=$((i + 1))
done

port=$(perl -MIO::Socket::INET -e '
	srand($$ ^ time);
	for (1 .. 200) {
		my $p = 20000 + int(rand(12000));
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		    LocalPort => $p, Listen => 1) or next;
		close $s;
		print "$p\n";
		exit 0;
	}
	exit 1') || bench_die "no free port"
echo 1 >"$D/g/step"
echo "{}" >"$D/g/review.json"
"$FIX" "$D/g" "$port" 2>"$D/fixture.log" &
farm_pids="$farm_pids $!"
perl -MIO::Socket::INET -e 'for (1 .. 200) {
	exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $ARGV[0]);
	select(undef, undef, undef, 0.05) }
	exit 1' "$port" || bench_die "the fixture Gerrit did not start"

start_buildlet
cat >"$D/farm/config" <<EOF || bench_die "cannot write the config"
[gerrit "go"]
	url = http://127.0.0.1:$port
[repo "go"]
	upstream = file://$D/up
	branch = master
[hosttype "st"]
	pool = static
	buildlet = $URL
[builder "true"]
	hosttype = st
	repo = go
	run = true
	try = true
	backfill = 0
EOF
"$GITMIRROR" -d "$D/farm" sync >/dev/null 2>"$D/sync.log" ||
    bench_die "gitmirror sync failed; see $D/sync.log"
farm_serve "$D/farm"

i=1
while [ $i -le "$N" ]; do
	rev=$(git -C "$D/up" rev-parse "cl-$i") || bench_die "no cl-$i"
	"$FIX" event patchset-created n=$((1000 + i)) ps=1 rev="$rev"
	"$FIX" event comment-added n=$((1000 + i)) ps=1 rev="$rev" \
	    account=1001 approval=Run-TryBot:1:0
	i=$((i + 1))
done >"$D/events.jsonl"

mkfifo "$D/fifo"
"$PG" -d "$D/farm" events <"$D/fifo" >"$D/out" 2>"$D/err" &
farm_pids="$farm_pids $!"

perl -MTime::HiRes=time,sleep -e '
	my ($fifo, $events, $reviews) = @ARGV;
	open(my $in, "<", $events) or die "$events: $!\n";
	my @ev = <$in>;
	open(my $out, ">", $fifo) or die "$fifo: $!\n";
	select((select($out), $| = 1)[0]);
	my (@begin, @vote);
	# the time the first line matching re arrives, at most 30 s on
	sub wait_for { my ($re) = @_; my $end = time + 30;
		for (;;) {
			if (open(my $fh, "<", $reviews)) {
				while (<$fh>) { return time if /$re/ }
			}
			die "no post matching $re after 30 s\n" if time > $end;
			sleep(0.001);
		} }
	for (my $i = 0; $i < @ev; $i += 2) {
		my ($n) = $ev[$i] =~ /"number":(\d+)/;
		print $out $ev[$i];
		sleep(0.1);
		my $t0 = time;
		print $out $ev[$i + 1];
		push @begin, wait_for(qr{/changes/$n/.*TryBots beginning}) -
		    $t0;
		push @vote, wait_for(qr{/changes/$n/.*TryBot-Result}) - $t0;
	}
	close $out;
	sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v;
		my $k = int($p * @v + 0.999); $k = @v if $k > @v;
		return $v[$k - 1] }
	sub med { my @v = sort { $a <=> $b } @_; my $m = int(@v / 2);
		return @v % 2 ? $v[$m] : ($v[$m - 1] + $v[$m]) / 2 }
	printf "begin %.3f %.3f %.3f %.3f\n", med(@begin), pct(0.9, @begin),
	    (sort { $a <=> $b } @begin)[0, -1];
	printf "vote %.3f %.3f %.3f %.3f\n", med(@vote), pct(0.9, @vote),
	    (sort { $a <=> $b } @vote)[0, -1];
' "$D/fifo" "$D/events.jsonl" "$D/g/reviews.log" >"$D/times" ||
    bench_die "the driver failed; see $D/farm/serve.log"

# shellcheck disable=SC2046
set -- $(grep '^begin ' "$D/times")
echo "Run-TryBot+1 to \"TryBots beginning\" posted: p50 $2 s, p90 $3 s" \
    "(min $4, max $5, $N runs)"
b50=$2
# shellcheck disable=SC2046
set -- $(grep '^vote ' "$D/times")
echo "Run-TryBot+1 to TryBot-Result posted (one builder, run = true):" \
    "p50 $2 s, p90 $3 s (min $4, max $5, $N runs)"
check "try: vote to beginning p50" "$b50" "<=" 1 s
check "try: vote to TryBot-Result p50" "$2" "<=" 3 s
exit 0
