#!/bin/sh
# pollgerrit-poll: polling a Gerrit with 10,000 changes (the pollgerrit
# issue's measure), against the fixture Gerrit of the tests on loopback.
#
#  1. the first poll: all 10,000 changes are new (each with three
#     messages and two votes), pages of 500;
#  2. the poll that matters: 100 of them updated since the cursor (a new
#     message and a vote each, five asking for TryBots): requests made,
#     records appended, wall-clock time; median of five rounds, each with
#     different changes;
#  3. a poll with nothing new.
#
# The times include the fixture's answers (Perl, on the same machine),
# the state file of 10,000 changes read and written, and the fsyncs.
# The design sets no target for this; the checks use generous ones of
# our own (60 s for the first poll, 1 s for the incremental one), so that
# a regression shows.
#
# usage: sh bench/pollgerrit-poll.sh
. "$(dirname "$0")/lib.sh"

PG=$TOP/cmd/pollgerrit/pollgerrit
FIX=$TOP/t/helper/fixture-gerrit
[ -x "$PG" ] || { echo "bench: '$PG' is not built; run make" >&2; exit 100; }

W=$TRASH/pollgerrit-poll
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

# poll: run one poll; prints "SECONDS REQUESTS RECORDS"
poll() {
	_before=$(wc -l <"$W/g/requests.log" 2>/dev/null || echo 0)
	_t0=$(now)
	_rc=0
	"$PG" -d "$W/farm" poll >"$W/out" 2>"$W/err" || _rc=$?
	_t1=$(now)
	[ "$_rc" -le 1 ] || bench_die "pollgerrit poll exited $_rc: $(cat "$W/err")"
	_after=$(wc -l <"$W/g/requests.log")
	awk -v a="$_t0" -v b="$_t1" -v r=$((_after - _before)) \
	    -v n="$(grep -vc '^try ' "$W/out")" \
	    'BEGIN { printf "%.3f %d %d\n", b - a, r, n }'
}

echo "bench: generating 10000 changes" >&2
"$FIX" change n=100001 count=10000 vote=Code-Review:1001:1 \
    vote=Run-TryBot:1002:1 vote=TryBot-Result:1002:1 \
    msg="1000:1:Uploaded patch set 1." \
    msg="1001:1:Patch Set 1: Code-Review+1" \
    msg="1002:1:TryBots are happy." \
    updated="2017-07-01 10:00:00.000000000" >"$W/g/1/changes.jsonl"
: >"$W/g/1/try.jsonl"

set -- $(poll)
echo "first poll: $1 s, $2 requests, $3 records" >&2
check "pollgerrit first poll of 10000 changes" "$1" "<=" 60 s
first_req=$2
[ "$3" = 10000 ] || bench_die "the first poll recorded $3 changes, not 10000"

times=
for r in 2 3 4 5 6; do
	mkdir -p "$W/g/$r"
	from=$((100001 + (r - 2) * 100))
	# 100 changes updated since the cursor; five ask for TryBots
	"$FIX" change n=$from count=95 vote=Code-Review:1001:2 \
	    vote=Run-TryBot:1002:1 vote=TryBot-Result:1002:1 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1001:1:Patch Set 1: Code-Review+1" \
	    msg="1002:1:TryBots are happy." \
	    msg="1001:1:Patch Set 1: Code-Review+2" \
	    updated="2017-07-01 1$r:00:00.000000000" >"$W/g/$r/changes.jsonl"
	"$FIX" change n=$((from + 95)) count=5 ps=2 vote=Code-Review:1001:1 \
	    vote=Run-TryBot:1001:1 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1001:1:Patch Set 1: Code-Review+1" \
	    msg="1002:1:TryBots are happy." \
	    msg="1000:2:Uploaded patch set 2." \
	    updated="2017-07-01 1$r:00:00.000000000" >"$W/g/$r/try.jsonl"
	cat "$W/g/$r/try.jsonl" >>"$W/g/$r/changes.jsonl"
	echo $r >"$W/g/step"
	set -- $(poll)
	echo "round $r: $1 s, $2 requests, $3 records" >&2
	[ "$3" = 100 ] || bench_die "round $r recorded $3 changes, not 100"
	[ "$(ls "$W/farm/spool/try/new" | wc -l)" = $(((r - 1) * 5)) ] ||
	    bench_die "round $r did not queue its 5 try items"
	times="$times $1"
	req=$2
done
t=$(median $times)
echo "pollgerrit poll, 10000 changes, 100 updated: $t s $(spread $times), $req requests, 100 records, 5 try items"
check "pollgerrit poll of 100 updated changes" "$t" "<=" 1 s

echo 6 >"$W/g/step"
set -- $(poll)
echo "pollgerrit poll, nothing new: $1 s, $2 requests"
echo "pollgerrit first poll of 10000 changes: $first_req requests (pages of 500)"
ls -l "$W/farm/state/pollgerrit/go.json" | awk '{ print "state file of 10000 changes: " $5 " bytes" }'
