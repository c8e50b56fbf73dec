# lib-schedule.sh: what the schedule tests share (sourced after
# test-lib.sh): this script's own env/local machines, and readers of
# the results log and the daemon's state.

# the env/local machines of this script, and nobody else's
BUILDFARM_LOCAL=$TRASH_DIRECTORY/local
export BUILDFARM_LOCAL
ENV_LOCAL=$BUILDFARM_TOP/env/local

# results [BUILDER]: "BUILDER REV OK" per result record, sorted
results () {
	cat "$BUILDFARM_DIR"/results/*.jsonl 2>/dev/null |
	B=${1-} perl -MJSON::PP -ne '
		my $r = decode_json($_);
		next unless $r->{type} eq "result";
		next if length $ENV{B} && $r->{builder} ne $ENV{B};
		print "$r->{builder} $r->{rev} ",
		    ($r->{ok} ? "ok" : "failed"), "\n";
	' | sort
}
# nresults [BUILDER]: how many result records (of BUILDER)
nresults () {
	results "$@" | wc -l | tr -d " "
}
# addr: the running daemon's URL
addr () {
	cat "$BUILDFARM_DIR/state/schedule/addr"
}
