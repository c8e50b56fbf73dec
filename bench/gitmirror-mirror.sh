#!/bin/sh
# gitmirror-mirror: the initial mirror of a large repository against
# "git clone --mirror", and a no-op sync of 10, 50 and 200
# repositories, in parallel (the default -j) and one by one (-j 1).
#
# The repository is Go's source tree from Debian's golang-src
# (/usr/share/go-1.19, installed here if missing) committed in 300
# commits, packed, and served by git daemon on 127.0.0.1; it is built
# once and kept in the trash.  Both clients fetch it over git://.
# Interleaved, medians of BENCH_RUNS.  Targets (DESIGN §9 and the gitmirror issue):
# initial mirror <= 1.1x git clone --mirror; no-op sync of 50 repos
# <= 1 s.  The other sizes show how the cost grows.
#
# usage: sh bench/gitmirror-mirror.sh
. "$(dirname "$0")/lib.sh"

GITMIRROR=$TOP/cmd/gitmirror/gitmirror
[ -x "$GITMIRROR" ] || { echo "bench: $GITMIRROR is not built" >&2; exit 100; }
GOSRC=/usr/share/go-1.19
NCOMMITS=300
export GIT_AUTHOR_NAME=Gopher GIT_AUTHOR_EMAIL=gopher@example.org \
    GIT_COMMITTER_NAME=Gopher GIT_COMMITTER_EMAIL=gopher@example.org \
    GIT_CONFIG_NOSYSTEM=1

[ -d "$GOSRC/src" ] || bench_die "no $GOSRC: scripts/install-deps bench"

# go_repo DIR: the Go tree in NCOMMITS commits, packed, built once
go_repo() {
	[ -f "$1/.done" ] && return 0
	rm -rf "$1"
	git init -q -b master "$1"
	cp -r "$GOSRC"/. "$1/"
	(cd "$1" && find . -path ./.git -prune -o -type f -print | sort) \
	    >"$TRASH/files"
	n=$(wc -l <"$TRASH/files")
	per=$(( (n + NCOMMITS - 1) / NCOMMITS ))
	split -l "$per" "$TRASH/files" "$TRASH/chunk."
	i=0
	for c in "$TRASH"/chunk.*; do
		i=$((i + 1))
		(cd "$1" && xargs git add -f -- <"$c" &&
		    GIT_COMMITTER_DATE="$((1500000000 + i * 60)) +0000" \
		    GIT_AUTHOR_DATE="$((1500000000 + i * 60)) +0000" \
		    git commit -q -m "import part $i") ||
		    bench_die "commit $i"
	done
	rm -f "$TRASH"/chunk.* "$TRASH/files"
	git -C "$1" gc -q --aggressive --prune=now 2>/dev/null ||
	    git -C "$1" repack -q -a -d
	touch "$1/.done"
}

REPO=$TRASH/gomirror/up/go
go_repo "$REPO"
port=$(perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(
    LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1) or die;
    print $s->sockport')
git daemon --listen=127.0.0.1 --port="$port" --export-all \
    --base-path="$TRASH/gomirror" --reuseaddr "$TRASH/gomirror" \
    2>"$TRASH/gomirror/daemon.log" &
dpid=$!
trap 'kill $dpid 2>/dev/null || :' EXIT
perl -MIO::Socket::INET -MTime::HiRes=sleep -e '
    for (1..500) { exit 0 if IO::Socket::INET->new(PeerAddr =>
    "127.0.0.1:$ARGV[0]"); sleep 0.02 } exit 1' "$port" ||
    bench_die "git daemon did not start"
URL=git://127.0.0.1:$port/up/go/.git

FARM=$TRASH/gomirror/farm
gm_initial() {
	rm -rf "$FARM" && mkdir -p "$FARM" &&
	printf '[repo "go"]\n\tupstream = %s\n\tbranch = master\n' "$URL" \
	    >"$FARM/config" &&
	"$GITMIRROR" -d "$FARM" sync >/dev/null
}
git_initial() {
	rm -rf "$TRASH/gomirror/clone.git" &&
	git clone -q --mirror "$URL" "$TRASH/gomirror/clone.git"
}

interleave "$BENCH_RUNS" git_initial gm_initial
# shellcheck disable=SC2086
g=$(median $T_gm_initial)
# shellcheck disable=SC2086
c=$(median $T_git_initial)
[ "$(git -C "$FARM/mirror/go.git" rev-parse master)" = \
    "$(git -C "$REPO" rev-parse master)" ] || bench_die "mirror differs"
# shellcheck disable=SC2086
echo "initial mirror ($NCOMMITS commits, $(du -sk "$REPO/.git" | cut -f1) KiB" \
    "packed): gitmirror sync $(stats $T_gm_initial), CPU" \
    "$(median $C_gm_initial) s (backfill 100 records included);" \
    "git clone --mirror $(stats $T_git_initial), CPU $(median $C_git_initial) s"
check "gitmirror sync / git clone --mirror" "$(ratio "$g" "$c")" "<=" 1.1 x

# N small repositories, each mirrored once; then a sync of all that
# finds nothing new, with the default -j and one by one (-j 1)
noop_farm() {
	farm=$TRASH/gomirror/farm$1
	rm -rf "$farm" "$TRASH/gomirror/up$1"
	mkdir -p "$farm" "$TRASH/gomirror/up$1"
	: >"$farm/config"
	for i in $(seq 1 "$1"); do
		r=$TRASH/gomirror/up$1/r$i
		git init -q -b master "$r"
		echo "$i" >"$r/f"
		git -C "$r" add f && git -C "$r" commit -q -m "r$i"
		printf '[repo "r%s"]\n\tupstream = git://127.0.0.1:%s/up%s/r%s/.git\n\tbranch = master\n' \
		    "$i" "$port" "$1" "$i" >>"$farm/config"
	done
	"$GITMIRROR" -d "$farm" sync >/dev/null || bench_die "first sync of $1"
}
noop_sync() {
	rc=0
	"$GITMIRROR" -d "$farm" sync "$@" || rc=$?
	[ "$rc" = 1 ] || bench_die "no-op sync of $farm exited $rc"
}
noop() { noop_sync; }
noop_j1() { noop_sync -j 1; }
for nrepos in 10 50 200; do
	noop_farm "$nrepos"
	interleave "$BENCH_RUNS" noop noop_j1
	# shellcheck disable=SC2086
	echo "no-op sync of $nrepos repos: default -j $(stats $T_noop)," \
	    "CPU $(median $C_noop) s; -j 1 $(stats $T_noop_j1)," \
	    "CPU $(median $C_noop_j1) s"
	# shellcheck disable=SC2086
	[ "$nrepos" = 50 ] && n50=$(median $T_noop)
done
check "no-op sync of 50 repos" "$n50" "<=" 1 s
