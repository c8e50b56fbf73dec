# lib-try.sh: what the TryBot tests (t/301*-schedule-try-*.t) share,
# sourced after test-lib.sh, lib-gitmirror.sh, lib-buildlet.sh,
# lib-schedule.sh and fixtures/gerrit/lib.sh.

# try_config: [gerrit "go"] for $url, then the lines on stdin.
try_config () {
	{
		printf '[gerrit "go"]\n\turl = %s\n' "$url" &&
		cat
	} >"$BUILDFARM_DIR/config"
}

# patchset REPO N PS: a commit for patch set PS of change N, on branch
# cl-N-PS of up/REPO (not watched, so mirrored but not built as
# post-submit work); the mirror synced; its id in rev-N-PS and on
# stdout.
patchset () {
	git -C "up/$1" checkout -q -b "cl-$2-$3" master &&
	echo "change $2 patch set $3" >"up/$1/cl-$2.txt" &&
	git -C "up/$1" add . &&
	git -C "up/$1" commit -q -m "change $2 patch set $3" &&
	git -C "up/$1" checkout -q master &&
	gitmirror sync >/dev/null &&
	git -C "up/$1" rev-parse "cl-$2-$3" >"rev-$2-$3" &&
	cat "rev-$2-$3"
}

# trybot REPO N PS: the stream of patch set PS of change N (project
# REPO, commit rev-N-PS) and its Run-TryBot+1, through pollgerrit events.
trybot () {
	{
		event patchset-created project=$1 n=$2 ps=$3 \
		    rev=$(cat "rev-$2-$3") &&
		event comment-added project=$1 n=$2 ps=$3 \
		    rev=$(cat "rev-$2-$3") account=1001 approval=Run-TryBot:1:0
	} | pollgerrit events >>events.out
}

# posts N PS: the reviews posted on patch set PS of change N, one a line
# as "LABELS|MESSAGE" (LABELS "-" when none, newlines as \n), in order.
posts () {
	touch g/reviews.log &&
	N=$1 R=$(cat "rev-$1-$2") perl -MJSON::PP -ne '
		my ($path, $body) = split / /, $_, 2;
		next unless $path =~ m{^(/a)?/changes/$ENV{N}/revisions/$ENV{R}/review};
		my $r = decode_json($body);
		my $l = join ",", map { "$_=$r->{labels}{$_}" }
		    sort keys %{$r->{labels} || {}};
		(my $m = $r->{message} // "") =~ s/\n/\\n/g;
		print +($l eq "" ? "-" : $l), "|$m\n";
	' g/reviews.log
}

# nposts N PS PATTERN: how many posts on N/PS match PATTERN
nposts () {
	posts "$1" "$2" | grep -c -e "$3"
}

# try_state N PS: the state of the try run of N/PS on the daemon's page
try_state () {
	curl -sf "$(addr)/try/$1/$2?json=1" |
	perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{state}, "\n"'
}
