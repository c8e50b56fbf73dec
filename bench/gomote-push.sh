#!/bin/sh
# gomote-push: "gomote push" of the Go source tree (Debian's golang-src,
# 11,700 files, 114 MB) to a buildlet that has it already, after one
# file changed, against "gomote puttar" of the whole tree's tarball
# (27 MB): the bytes that go over the wire and the wall time.  Targets
# (DESIGN §9): >= 20x fewer bytes than puttar, <= 0.5 s.  Interleaved,
# medians of BENCH_RUNS.  The bytes are counted by a relay between gomote
# and the buildlet, in one extra run of each outside the timed ones (the
# relay would slow the timed runs).  push's time includes the buildlet
# hashing its whole copy for /ls and gomote hashing the files of the
# same size locally.
#
# usage: sh bench/gomote-push.sh      (BENCH_DIR=/dev/shm for tmpfs)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/buildlet.inc"

GOMOTE=$TOP/cmd/gomote/gomote
[ -x "$GOMOTE" ] || { echo "bench: $GOMOTE is not built; run make" >&2; exit 100; }
go_tarball
tree=$W/gotree
if [ ! -f "$tree/VERSION" ]; then
	echo "bench: copying $GOSRC to $tree (kept for later runs)" >&2
	rm -rf "$tree" && mkdir -p "$tree" &&
	cp -a "$GOSRC/src" "$GOSRC/api" "$GOSRC/misc" "$GOSRC/test" \
	    "$tree/" && cp /usr/lib/go-1.19/VERSION "$tree/" ||
	    bench_die "copy of $GOSRC failed"
fi
# the scratch tree sits in the project's work tree, whose .gitignore
# would hide it all from push
GIT_CEILING_DIRECTORIES=$W
export GIT_CEILING_DIRECTORIES
rm -rf "$W/wd"
start_buildlet
INST=bench@127.0.0.1:${URL##*:}
_i=0
until "$GOMOTE" ping "$INST" 2>/dev/null; do
	_i=$((_i + 1))
	[ $_i -lt 1200 ] || bench_die "the buildlet does not answer"
	sleep 0.05
done
"$GOMOTE" push -dir "$tree" "$INST" || bench_die "first push failed"
changed=$tree/src/fmt/print.go

# the relay: counts what the client sends, per connection, into $W/sent
relay_pid=
stop_relay() {
	[ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null
	relay_pid=
	stop_buildlet
}
trap stop_relay EXIT
rm -f "$W/relay.port"
: >"$W/sent"
perl -MIO::Socket::INET -e '
	my ($target, $log) = @ARGV;
	my $srv = IO::Socket::INET->new(Listen => 16, LocalAddr => "127.0.0.1",
	    LocalPort => 0, ReuseAddr => 1) or die "listen: $!\n";
	$| = 1;
	print $srv->sockport, "\n";
	$SIG{CHLD} = "IGNORE";
	while (my $c = $srv->accept) {
		next if fork;
		my $s = IO::Socket::INET->new("127.0.0.1:$target") or exit 1;
		my $n = 0;
		if (fork == 0) {
			while (sysread($s, my $b, 65536)) { syswrite($c, $b) }
			shutdown($c, 1);
			exit 0;
		}
		while (my $k = sysread($c, my $b, 65536)) {
			$n += $k;
			syswrite($s, $b);
		}
		shutdown($s, 1);
		open(my $f, ">>", $log);
		print $f "$n\n";
		exit 0;
	}
' "${URL##*:}" "$W/sent" >"$W/relay.port" &
relay_pid=$!
until [ -s "$W/relay.port" ]; do
	kill -0 "$relay_pid" 2>/dev/null || bench_die "the relay did not start"
	sleep 0.05
done
RINST=bench@127.0.0.1:$(cat "$W/relay.port")

# sent CMD...: the bytes CMD sent through the relay
sent() {
	: >"$W/sent"
	"$@" || bench_die "'$*' failed"
	sleep 0.2	# the relay's last count is written as its child ends
	awk '{ n += $1 } END { print n + 0 }' "$W/sent"
}
echo "// changed" >>"$changed"
B_push=$(sent "$GOMOTE" push -dir "$tree" "$RINST")
B_puttar=$(sent "$GOMOTE" puttar -dir full-0 "$RINST" "$TRASH/go.tgz")

prep() {
	rm -rf "$W/wd/full-$(($2 - 1))"
	[ "$1" = push ] && echo "// round $2" >>"$changed"
	sync
}
push() {
	"$GOMOTE" push -dir "$tree" "$INST"
}
puttar() {
	"$GOMOTE" puttar -dir "full-$1" "$INST" "$TRASH/go.tgz"
}
BENCH_BEFORE=prep interleave "$BENCH_RUNS" push puttar
cmp "$changed" "$W/wd/go/src/fmt/print.go" ||
    bench_die "the pushed file differs"
cp "$GOSRC/src/fmt/print.go" "$changed"
rm -rf "$W"/wd/full-*
# shellcheck disable=SC2086
{
echo "gomote push, one file changed: $(stats $T_push), $B_push bytes sent"
echo "gomote puttar of the tree:     $(stats $T_puttar), $B_puttar bytes sent"
}
check "gomote push after a one-file change, times fewer bytes than puttar" \
    "$(ratio "$B_puttar" "$B_push")" ">=" 20 x
# shellcheck disable=SC2086
check "gomote push after a one-file change" "$(median $T_push)" "<=" 0.5 s
exit 0
