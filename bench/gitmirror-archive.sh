#!/bin/sh
# gitmirror-archive: "gitmirror archive" against
# "git archive --format=tar REV | gzip -6" on a packed repository of Go's
# source tree (the repository of gitmirror-mirror.sh, built here too if
# it is not there yet).  Best of three each, from the page cache.
# Target (DESIGN §9): >= 1.8x faster on 2 cores, output <= 3% larger.
#
# usage: sh bench/gitmirror-archive.sh
. "$(dirname "$0")/lib.sh"

GITMIRROR=$TOP/cmd/gitmirror/gitmirror
[ -x "$GITMIRROR" ] || { echo "bench: $GITMIRROR is not built" >&2; exit 100; }
REPO=$TRASH/gomirror/up/go
if [ ! -f "$REPO/.done" ]; then
	sh "$TOP/bench/gitmirror-mirror.sh" >/dev/null ||
	    bench_die "cannot build the repository"
fi
FARM=$TRASH/gomirror/farm-archive
if [ ! -d "$FARM/mirror/go.git" ]; then
	rm -rf "$FARM" && mkdir -p "$FARM"
	printf '[repo "go"]\n\tupstream = file://%s/.git\n' "$REPO" \
	    >"$FARM/config"
	"$GITMIRROR" -d "$FARM" sync >/dev/null || bench_die "sync"
	git -C "$FARM/mirror/go.git" repack -q -a -d
fi
MIRROR=$FARM/mirror/go.git
REV=$(git -C "$MIRROR" rev-parse master)

ours() {
	"$GITMIRROR" -d "$FARM" archive go "$REV" >"$TRASH/ours.tgz"
}
theirs() {
	git -C "$MIRROR" archive --format=tar "$REV" | gzip -6 \
	    >"$TRASH/theirs.tgz"
}

ours >/dev/null 2>&1; theirs >/dev/null 2>&1	# warm the page cache
oruns=
truns=
for _ in 1 2 3; do
	oruns="$oruns $(timeit ours)"
	truns="$truns $(timeit theirs)"
done
# shellcheck disable=SC2086
o=$(best $oruns)
# shellcheck disable=SC2086
t=$(best $truns)
os=$(wc -c <"$TRASH/ours.tgz")
ts=$(wc -c <"$TRASH/theirs.tgz")
echo "archive of $(git -C "$MIRROR" ls-tree -r "$REV" | wc -l) files on" \
    "$(nproc) cores: gitmirror $o s ($os bytes), git archive | gzip -6" \
    "$t s ($ts bytes)"
check "speed-up over git archive | gzip -6" "$(ratio "$t" "$o")" ">=" 1.8 x
check "size over git archive | gzip -6" \
    "$(awk -v a="$os" -v b="$ts" 'BEGIN { printf "%.2f", (a / b - 1) * 100 }')" \
    "<=" 3 "%"
