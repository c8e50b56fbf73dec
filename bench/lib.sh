# bench/lib.sh: shared by the benchmarks (sourced, not run).
#
# Each benchmark measures one target of the design (DESIGN §9) against
# a peer doing the same work (same compression level, same entry order),
# prints one line per measure ending in OK or MISSED, and exits 0
# either way: a benchmark informs, it does not fail the build.  It exits
# 100 when it cannot run at all (tools not built), 111 when a step of
# the set-up fails or when the machine is too loaded to judge: sourcing
# this file prints the load average and stops with a FAILED line when
# the 1-minute load is above BENCH_MAX_LOAD (default 3; raise it only to
# get figures you know to be noisy).
#
# Runs are interleaved (A B A B ...: both sides see the same machine)
# and reported as the median with the min and max, never the best.
#
# Provides:
#   TOP, TRASH, MAINTLOG       the tree, bench/trash/, the maintlog binary
#   BENCH_RUNS                 rounds of interleave (default 5)
#   now                        wall clock in seconds with nanoseconds
#   timeit cmd...              run cmd (its stdout goes to stderr) and
#                              print its wall-clock seconds: t=$(timeit f)
#   interleave N F G ...       N rounds of the shell functions F G ...
#                              in turn, each given the round (1..N) and
#                              timed, after an untimed "$BENCH_BEFORE F
#                              ROUND" if that is set: F's wall-clock
#                              seconds in $T_F, the CPU seconds of the
#                              processes it ran (user + system, waited
#                              for) in $C_F, and with SERVER_PID set the
#                              CPU seconds that server spent in $S_F
#   median a b ...             the median of the numbers
#   spread a b ...             "(min MIN, max MAX, N runs)"
#   stats a b ...              "MEDIAN s (min MIN, max MAX, N runs)"
#   proc_cpu PID               user + system CPU seconds of PID so far
#   proc_peak PID              its peak resident memory (VmHWM), MiB
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

BENCH_MAX_LOAD=${BENCH_MAX_LOAD:-3}
BENCH_RUNS=${BENCH_RUNS:-5}

_load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average: $_load on $(nproc) CPUs (limit $BENCH_MAX_LOAD)"
if awk -v l="${_load%% *}" -v m="$BENCH_MAX_LOAD" 'BEGIN { exit !(l > m) }'
then
	echo "bench: FAILED: load average ${_load%% *} > $BENCH_MAX_LOAD:" \
	    "too loaded to judge; rerun on a quiet machine" \
	    "(BENCH_MAX_LOAD=N overrides)"
	exit 111
fi
if awk -v l="${_load%% *}" 'BEGIN { exit !(l > 3) }'; then
	echo "bench: warning: load average above 3 (BENCH_MAX_LOAD=$BENCH_MAX_LOAD):" \
	    "the figures below are noisy"
fi

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

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.6g", m }'
}

spread() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	END { printf "(min %s, max %s, %d runs)", v[1], v[NR], NR }'
}

stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.3f s (min %.3f, max %.3f, %d runs)", m, v[1], v[NR], NR }'
}

# The CPU seconds of this shell's waited-for children into _cpu: the
# times builtin, run in this shell (in $(...) it would count a
# subshell's)
_child_cpu() {
	times >"$TRASH/times"
	_cpu=$(awk 'NR == 2 {
		n = 0
		for (i = 1; i <= 2; i++) {
			split($i, a, "m")
			n += a[1] * 60 + a[2]
		}
		printf "%.3f", n
	}' "$TRASH/times")
}

proc_cpu() {
	# after the ")" that ends the name: utime and stime are fields 12, 13
	sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" \
	    '{ printf "%.3f", ($12 + $13) / hz }'
}

proc_peak() {
	awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

interleave() {
	_n=$1
	shift
	for _f; do
		eval "T_$_f= C_$_f= S_$_f="
	done
	_r=0
	while [ "$_r" -lt "$_n" ]; do
		_r=$((_r + 1))
		for _f; do
			[ -z "${BENCH_BEFORE:-}" ] || "$BENCH_BEFORE" "$_f" "$_r"
			_child_cpu
			_c0=$_cpu
			[ -z "${SERVER_PID:-}" ] || _s0=$(proc_cpu "$SERVER_PID")
			_t=$(timeit "$_f" "$_r")
			_child_cpu
			_c=$(awk -v a="$_c0" -v b="$_cpu" \
			    'BEGIN { printf "%.3f", b - a }')
			eval "T_$_f=\"\$T_$_f $_t\" C_$_f=\"\$C_$_f $_c\""
			if [ -n "${SERVER_PID:-}" ]; then
				_s=$(awk -v a="$_s0" -v b="$(proc_cpu "$SERVER_PID")" \
				    'BEGIN { printf "%.3f", b - a }')
				eval "S_$_f=\"\$S_$_f $_s\""
			fi
		done
	done
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
