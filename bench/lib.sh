# bench/lib.sh: shared by the benchmarks (sourced, not run).
#
# Each benchmark measures one target of the design (DESIGN §9), prints
# one line per measure ending in OK or MISSED, and exits 0 either way:
# a benchmark informs, it does not fail the build.  It exits 100 only
# when it cannot run at all (tools not built), 111 when a step of the
# set-up fails.
#
# Provides:
#   TOP, TRASH, MAINTLOG       the tree, bench/trash/, the maintlog binary
#   now                        wall clock in seconds with nanoseconds
#   timeit cmd...              run cmd (its stdout goes to stderr) and
#                              print its wall-clock seconds: t=$(timeit f)
#   best a b ...               print the smallest of the numbers
#   rate N SECONDS             N/SECONDS as an integer, per second
#   ratio A B                  A/B with two decimals
#   check NAME VALUE OP TARGET UNIT
#                              print "NAME: VALUE UNIT (target OP TARGET)
#                              OK" or "... MISSED"; OP is >= or <=
#   gen_records FIRST LAST     realistic corpus and results records,
#                              numbered FIRST..LAST, one per line
#   big_log DIR N              a log of N records in DIR, built once
#                              and kept in the trash for later runs
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
TRASH=$TOP/bench/trash
MAINTLOG=$TOP/cmd/maintlog/maintlog
export LC_ALL=C

if [ ! -x "$MAINTLOG" ]; then
	echo "bench: '$MAINTLOG' is not built; run make" >&2
	exit 100
fi
mkdir -p "$TRASH"

bench_die() {
	echo "bench: $*" >&2
	exit 111
}

now() {
	date +%s.%N
}

timeit() {
	_t0=$(now)
	"$@" >&2 || bench_die "'$*' failed (exit $?)"
	_t1=$(now)
	awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.6f", b - a }'
}

best() {
	printf '%s\n' "$@" | sort -g | head -n 1
}

rate() {
	awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

check() {
	awk -v name="$1" -v v="$2" -v op="$3" -v t="$4" -v unit="$5" 'BEGIN {
		ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
		printf "%s: %s%s (target %s %s) %s\n", name, v,
		    unit == "" ? "" : " " unit, op, t, ok ? "OK" : "MISSED"
	}'
}

# The mix of a busy corpus: per ten records, four commits, three Gerrit
# updates, two build results and a ref update, with fields of the sizes
# real ones have.  Deterministic, so runs compare.
gen_records() {
	perl -MDigest::SHA=sha1_hex,sha256_hex -e '
	my ($first, $last) = @ARGV;
	my @who = (["Gopher Gordon", "gordon\@example.org", 5190],
	    ["Rita Reviewer", "rita\@example.org", 5976],
	    ["Tess Typo", "tess\@example.org", 6011],
	    ["Bob Builder", "bob\@example.org", 6120]);
	my @pkg = qw(runtime cmd/go net/http cmd/compile os crypto/tls
	    syscall reflect go/types encoding/json);
	my @builders = qw(linux-amd64 linux-386 linux-arm darwin-amd64
	    windows-amd64 freebsd-amd64 openbsd-amd64 linux-amd64-race);
	for my $i ($first .. $last) {
		my $k = $i % 10;
		my $c = sha1_hex("commit $i");
		my $p = sha1_hex("commit " . ($i - 1));
		my $w = $who[$i % 4];
		my $t = 1501430987 + $i * 7;
		my @tm = gmtime($t);
		my $ts = sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ",
		    $tm[5] + 1900, $tm[4] + 1, @tm[3, 2, 1, 0]);
		my $subj = $pkg[$i % 10] . ": fix handling of case " . $i;
		my $cl = 40000 + int($i / 3);
		if ($k < 4) {
			print qq({"type":"git","repo":"go","branch":"master",),
			    qq("commit":"$c","tree":"), sha1_hex("tree $i"),
			    qq(","parents":["$p"],"author":{"name":"$w->[0]",),
			    qq("email":"$w->[1]","time":"$ts"},"committer":),
			    qq({"name":"$w->[0]","email":"$w->[1]","time":"$ts"},),
			    qq("msg":"$subj\\n\\nThe old code did not handle ),
			    qq(this case; now it does, and a test checks it.\\n),
			    qq(\\nFixes #), 20000 + $i % 997,
			    qq(\\n\\nChange-Id: I), sha1_hex("cid $cl"),
			    qq(\\nReviewed-on: https://go-review.googlesource.com/),
			    qq($cl\\n"}\n);
		} elsif ($k < 7) {
			my $r = $who[($i + 1) % 4];
			print qq({"type":"gerrit","server":"https://go-review.googlesource.com",),
			    qq("project":"go","change":$cl,"change_id":"I),
			    sha1_hex("cid $cl"), qq(","patchset":), 1 + $i % 5,
			    qq(,"rev":"$c","status":"NEW","branch":"master",),
			    qq("subject":"$subj","owner":{"account_id":$w->[2],),
			    qq("name":"$w->[0]","email":"$w->[1]"},"labels":),
			    qq({"Code-Review":[{"account_id":$r->[2],"name":"$r->[0]","value":2}],),
			    qq("Run-TryBot":[{"account_id":$r->[2],"name":"$r->[0]","value":1}]},),
			    qq("messages":[{"id":"), substr(sha1_hex("m $i"), 0, 17),
			    qq(","author":{"account_id":$r->[2],"name":"$r->[0]"},),
			    qq("date":"$ts","message":"Patch Set 2: Run-TryBot+1 ),
			    qq(Code-Review+2","patchset":2}],"event":["vote","message"]}\n);
		} elsif ($k < 9) {
			my $b = $builders[$i % 8];
			print qq({"type":"result","builder":"$b","repo":"go",),
			    qq("rev":"$c","ok":), ($i % 13 ? "true" : "false"),
			    qq(,"log":"), sha256_hex("log $i"), qq(","elapsed_ms":),
			    100000 + ($i * 7919) % 500000,
			    qq(,"buildlet":"$b-rev-), $i % 17, qq("}\n);
		} else {
			print qq({"type":"git-ref","repo":"go","ref":"refs/heads/master",),
			    qq("old":"$p","new":"$c"}\n);
		}
	}' "$1" "$2"
}

big_log() {
	_dir=$1
	_n=$2
	# made whole by an earlier run: the stamp is written last
	if [ -f "$_dir.made" ] && [ "$(cat "$_dir.made")" = "$_n" ]; then
		return 0
	fi
	echo "bench: making a log of $_n records in $_dir (kept for later runs)" >&2
	rm -rf "$_dir" "$_dir.made"
	_i=1
	while [ "$_i" -le "$_n" ]; do
		_j=$((_i + 99999))
		[ "$_j" -le "$_n" ] || _j=$_n
		gen_records "$_i" "$_j" >"$TRASH/chunk.jsonl" ||
		    bench_die "generating records failed"
		"$MAINTLOG" -d "$_dir" append -b 100000 <"$TRASH/chunk.jsonl" \
		    >/dev/null || bench_die "append to '$_dir' failed"
		_i=$((_j + 1))
	done
	rm -f "$TRASH/chunk.jsonl"
	echo "$_n" >"$_dir.made"
}
