#!/bin/sh
# pollgerrit-poll: polling a Gerrit that holds 10k, 100k and 1M changes
# (the pollgerrit scale issue), against the fixture Gerrit of the tests
# on loopback, which makes the changes on the fly (t/fixtures/gerrit/
# README, .gen responses).  At each size, in a fresh farm:
#
#  1. the first poll: every change is new (each with three messages and
#     two votes), pages of 500: wall-clock time and peak memory (VmHWM,
#     from /usr/bin/time);
#  2. the poll that matters: 100 of them updated since the cursor (a new
#     message and a vote each, five asking for TryBots), the newest
#     numbers, as on a real server: median of five rounds, each with
#     different changes;
#  3. a poll with nothing new (the overlap re-reads the last 100): median
#     of five.
#
# The times include the fixture's answers (Perl, on the same machine)
# and the fsyncs.  Targets: the incremental poll <= 0.5 s at 1M and in
# proportion to the changes updated (not to those known), nothing new
# <= 0.2 s at any size, the first poll's peak memory <= 64 MiB at 1M.
# The first poll of 1M changes takes minutes (3 GB of JSON to make,
# send and parse, 1M records to append).
#
# usage: sh bench/pollgerrit-poll.sh
#   PG_SIZES="10000 100000" for fewer sizes, PG_BIN=PATH to measure
#   another pollgerrit binary
. "$(dirname "$0")/lib.sh"

PG=${PG_BIN:-$TOP/cmd/pollgerrit/pollgerrit}
FIX=$TOP/t/helper/fixture-gerrit
SIZES=${PG_SIZES:-10000 100000 1000000}
FIRST=100001
[ -x "$PG" ] || { echo "bench: '$PG' is not built; run make" >&2; exit 100; }
[ -x /usr/bin/time ] ||
    bench_die "no /usr/bin/time: scripts/install-deps bench installs it"

W=$TRASH/pollgerrit-poll
rm -rf "$W"
mkdir -p "$W"

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
mkdir -p "$W/g"
echo 1 >"$W/g/step"
"$FIX" "$W/g" "$port" 2>"$W/fixture.log" &
fpid=$!
trap 'kill $fpid 2>/dev/null || :' EXIT
perl -MIO::Socket::INET -e 'for (1 .. 200) {
	exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $ARGV[0]);
	select(undef, undef, undef, 0.05) }
	exit 1' "$port" || bench_die "the fixture Gerrit did not start"

# poll: run one poll; prints "SECONDS REQUESTS RECORDS PEAK_MIB"
poll() {
	_before=$(wc -l <"$W/g/requests.log" 2>/dev/null || echo 0)
	_t0=$(now)
	_rc=0
	/usr/bin/time -f %M -o "$W/rss" "$PG" -d "$W/farm" poll >"$W/out" \
	    2>"$W/err" || _rc=$?
	_t1=$(now)
	[ "$_rc" -le 1 ] || bench_die "pollgerrit poll exited $_rc: $(cat "$W/err")"
	_after=$(wc -l <"$W/g/requests.log")
	awk -v a="$_t0" -v b="$_t1" -v r=$((_after - _before)) \
	    -v n="$(grep -vc '^try ' "$W/out")" -v m="$(tail -n 1 "$W/rss")" \
	    'BEGIN { printf "%.3f %d %d %.1f\n", b - a, r, n, m / 1024 }'
}

# gen FILE ARG...: a .gen line (tab-separated arguments of "change")
gen() {
	_f=$1
	shift
	_sep=
	for _a; do
		printf '%s%s' "$_sep" "$_a"
		_sep='	'
	done >>"$_f"
	echo >>"$_f"
}

table=
for N in $SIZES; do
	echo "bench: $N changes" >&2
	rm -rf "$W/farm" "$W/g"/[0-9]*
	: >"$W/g/requests.log"
	mkdir -p "$W/farm" "$W/g/1"
	cat >"$W/farm/config" <<-EOF
	[gerrit "go"]
		url = http://127.0.0.1:$port
		project = go
		pagesize = 500
		rate = 1000
	EOF
	gen "$W/g/1/changes.gen" n=$FIRST count=$N \
	    vote=Code-Review:1001:1 vote=Run-TryBot:1002:1 \
	    vote=TryBot-Result:1002:1 msg="1000:1:Uploaded patch set 1." \
	    msg="1001:1:Patch Set 1: Code-Review+1" \
	    msg="1002:1:TryBots are happy." \
	    updated="2017-07-01 10:00:00.000000000"
	: >"$W/g/1/try.jsonl"
	echo 1 >"$W/g/step"

	set -- $(poll)
	echo "first poll of $N: $1 s, $2 requests, $3 records, peak $4 MiB" >&2
	[ "$3" = "$N" ] || bench_die "the first poll recorded $3 changes, not $N"
	first_t=$1 first_m=$4

	times= peaks=
	for r in 2 3 4 5 6; do
		mkdir -p "$W/g/$r"
		# the newest 500 changes, 100 a round
		from=$((FIRST + N - 500 + (r - 2) * 100))
		"$FIX" change n=$from count=95 vote=Code-Review:1001:2 \
		    vote=Run-TryBot:1002:1 vote=TryBot-Result:1002:1 \
		    msg="1000:1:Uploaded patch set 1." \
		    msg="1001:1:Patch Set 1: Code-Review+1" \
		    msg="1002:1:TryBots are happy." \
		    msg="1001:1:Patch Set 1: Code-Review+2" \
		    updated="2017-07-01 1$r:00:00.000000000" \
		    >"$W/g/$r/changes.jsonl"
		"$FIX" change n=$((from + 95)) count=5 ps=2 \
		    vote=Code-Review:1001:1 vote=Run-TryBot:1001:1 \
		    msg="1000:1:Uploaded patch set 1." \
		    msg="1001:1:Patch Set 1: Code-Review+1" \
		    msg="1002:1:TryBots are happy." \
		    msg="1000:2:Uploaded patch set 2." \
		    updated="2017-07-01 1$r:00:00.000000000" \
		    >"$W/g/$r/try.jsonl"
		cat "$W/g/$r/try.jsonl" >>"$W/g/$r/changes.jsonl"
		echo $r >"$W/g/step"
		set -- $(poll)
		echo "round $r: $1 s, $2 requests, $3 records, peak $4 MiB" >&2
		[ "$3" = 100 ] || bench_die "round $r recorded $3 changes, not 100"
		[ "$(ls "$W/farm/spool/try/new" | wc -l)" = $(((r - 1) * 5)) ] ||
		    bench_die "round $r did not queue its 5 try items"
		times="$times $1"
		peaks="$peaks $4"
	done
	inc_t=$(median $times)
	echo "pollgerrit poll, $N changes, 100 updated: $inc_t s $(spread $times), $2 requests, peak $(median $peaks) MiB"

	times=
	for r in 1 2 3 4 5; do
		set -- $(poll)
		[ "$3" = 0 ] || bench_die "a poll with nothing new recorded $3"
		times="$times $1"
	done
	none_t=$(median $times)
	echo "pollgerrit poll, $N changes, nothing new: $none_t s $(spread $times), $2 requests, peak $4 MiB"
	echo "pollgerrit first poll of $N changes: $first_t s, peak $first_m MiB"
	state=$(du -sk "$W/farm/state/pollgerrit" | cut -f1)
	table="$table
$N $first_t $first_m $inc_t $none_t $state"

	check "pollgerrit poll with nothing new, $N changes" "$none_t" "<=" 0.2 s
	if [ "$N" -ge 1000000 ]; then
		check "pollgerrit poll of 100 updated, $N changes" "$inc_t" "<=" 0.5 s
		check "pollgerrit first poll peak memory, $N changes" "$first_m" "<=" 64 MiB
	fi
done

echo "pollgerrit growth (seconds; MiB; state in KiB):"
echo "$table" | awk 'NF { if (!base) { base = $4; bn = $1 }
	printf "  %8d known: first poll %8.1f s, peak %6.1f MiB; 100 updated %.3f s (x%.2f for x%d known); nothing new %.3f s; state %d KiB\n",
	    $1, $2, $3, $4, $4 / base, $1 / bn, $5, $6 }'
