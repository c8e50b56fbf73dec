#!/bin/sh
# pollgerrit-events: from a Run-TryBot+1 vote on "pollgerrit events"'s
# standard input to its work item in spool/try; target <= 50 ms.
#
# The farm has first polled a Gerrit of 10,000 changes (the fixture
# Gerrit of the tests), so the state is of a real size.  Then a driver
# writes comment-added events with a Run-TryBot+1 approval into a pipe
# that "pollgerrit events" reads, and times each from the write to the
# item's appearance in spool/try/new/: 40 events 250 ms apart (each
# alone: the stream's usual case), then 40 back to back (a burst: each
# timed from its own write).  Every item costs an fsynced corpus append
# and an fsynced spool item.
#
# usage: sh bench/pollgerrit-events.sh
. "$(dirname "$0")/lib.sh"

PG=$TOP/cmd/pollgerrit/pollgerrit
FIX=$TOP/t/helper/fixture-gerrit
[ -x "$PG" ] || { echo "bench: '$PG' is not built; run make" >&2; exit 100; }

W=$TRASH/pollgerrit-events
rm -rf "$W"
mkdir -p "$W/g/1" "$W/farm"

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
echo 1 >"$W/g/step"
"$FIX" "$W/g" "$port" 2>"$W/fixture.log" &
fpid=$!
trap 'kill $fpid 2>/dev/null || :' EXIT
perl -MIO::Socket::INET -e 'for (1 .. 200) {
	exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $ARGV[0]);
	select(undef, undef, undef, 0.05) }
	exit 1' "$port" || bench_die "the fixture Gerrit did not start"
cat >"$W/farm/config" <<EOF
[gerrit "go"]
	url = http://127.0.0.1:$port
	project = go
	pagesize = 500
	rate = 1000
EOF

echo "bench: a first poll of 10000 changes" >&2
"$FIX" change n=100001 count=10000 vote=Code-Review:1001:1 \
    msg="1000:1:Uploaded patch set 1." \
    msg="1001:1:Patch Set 1: Code-Review+1" \
    updated="2017-07-01 10:00:00.000000000" >"$W/g/1/changes.jsonl"
: >"$W/g/1/try.jsonl"
"$PG" -d "$W/farm" poll >/dev/null || bench_die "the first poll failed"
kill $fpid 2>/dev/null

i=1
while [ $i -le 80 ]; do
	"$FIX" event comment-added n=$((100000 + i)) ps=1 account=1001 \
	    approval=Code-Review:1 approval=Run-TryBot:1:0 \
	    "comment=Patch Set 1: Run-TryBot+1"
	i=$((i + 1))
done >"$W/events.jsonl"

mkfifo "$W/fifo"
"$PG" -d "$W/farm" events <"$W/fifo" >"$W/out" 2>"$W/err" &
pgpid=$!

perl -MTime::HiRes=time,sleep -e '
	my ($fifo, $events, $spool) = @ARGV;
	open(my $in, "<", $events) or die "$events: $!\n";
	my @ev = <$in>;
	open(my $out, ">", $fifo) or die "$fifo: $!\n";
	select((select($out), $| = 1)[0]);
	my (@alone, @burst);
	sub item { my ($line) = @_; $line =~ /"number":(\d+)/;
		return "$spool/go-$1-1" }
	sub wait_for { my ($f) = @_; my $end = time + 10;
		until (-e $f) { die "no $f\n" if time > $end; sleep(0.0002) } }
	for my $i (0 .. 39) {
		my $t0 = time;
		print $out $ev[$i];
		wait_for(item($ev[$i]));
		push @alone, 1000 * (time - $t0);
		sleep(0.25);
	}
	my @t0;
	for my $i (40 .. 79) {
		$t0[$i] = time;
		print $out $ev[$i];
	}
	for my $i (40 .. 79) {
		wait_for(item($ev[$i]));
		push @burst, 1000 * (time - $t0[$i]);
	}
	close $out;
	sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v;
		return $v[int($p * $#v + 0.5)] }
	printf "alone %.1f %.1f %.1f\n", pct(0.5, @alone), pct(0.9, @alone),
	    pct(1, @alone);
	printf "burst %.1f %.1f %.1f\n", pct(0.5, @burst), pct(0.9, @burst),
	    pct(1, @burst);
' "$W/fifo" "$W/events.jsonl" "$W/farm/spool/try/new" >"$W/times" ||
    bench_die "the driver failed"
wait $pgpid || bench_die "pollgerrit events exited $?: $(cat "$W/err")"
[ "$(grep -c '^try ' "$W/out")" = 80 ] || bench_die "not 80 items queued"

set -- $(grep '^alone' "$W/times")
echo "pollgerrit events, Run-TryBot+1 to its spool item, one at a time: p50 $2 ms, p90 $3 ms, max $4 ms"
check "pollgerrit events latency (p90, one at a time)" "$3" "<=" 50 ms
set -- $(grep '^burst' "$W/times")
echo "pollgerrit events, 40 back to back, each from its own write: p50 $2 ms, p90 $3 ms, max $4 ms"
