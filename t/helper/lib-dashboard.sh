# lib-dashboard.sh: what the dashboard tests share (sourced after
# test-lib.sh): a farm with records written by the test, and the
# checkers the pages are opened with.

WWW=$BUILDFARM_DIR/www

# dash_config [URL]: one repo "go" with two branches
dash_config () {
	cat >"$BUILDFARM_DIR/config" <<-EOF
	[farm]
		url = ${1:-http://farm.example}
	[repo "go"]
		upstream = https://example.org/go
		branch = master
		branch = release-branch.go1.8
	EOF
}

# hashof N: the commit "N" (40 hex digits)
hashof () {
	printf '%040x\n' "$1"
}

# add_commits BRANCH FROM TO [MSG]: git records of commits FROM..TO, each
# the child of the one before, with the message MSG N
add_commits () {
	B=$1 F=$2 T=$3 M=${4:-"pkg: change"} perl -MJSON::PP -e '
	my $j = JSON::PP->new->canonical;
	for my $i ($ENV{F} .. $ENV{T}) {
		my $h = sprintf("%040x", $i);
		my @p = $i > 1 ? (sprintf("%040x", $i - 1)) : ();
		print $j->encode({ type => "git", repo => "go",
		    branch => $ENV{B}, commit => $h, tree => $h,
		    parents => \@p,
		    author => { name => "Gopher $i", email => "g$i\@example.org",
			time => "2017-07-30T09:09:47-07:00" },
		    committer => { name => "Gopher", email => "g\@example.org",
			time => "2017-07-30T16:09:47Z" },
		    msg => "$ENV{M} $i\n\nThe body.\n" }), "\n";
	}' | maintlog -L corpus append >/dev/null
}

# store_log TEXT: the log in buildlogs/, its hash on stdout
store_log () {
	printf '%s\n' "$1" >log.tmp &&
	h=$(sha256sum log.tmp | cut -c1-64) &&
	mkdir -p "$BUILDFARM_DIR/buildlogs/$(printf %.2s "$h")" &&
	gzip -c log.tmp >"$BUILDFARM_DIR/buildlogs/$(printf %.2s "$h")/$h.gz" &&
	echo "$h"
}

# add_record TYPE BUILDER N [OK LOG]: a result, attempt or retract of
# BUILDER on commit N
add_record () {
	T=$1 B=$2 R=$(hashof "$3") OK=${4:-true} L=${5:-} perl -MJSON::PP -e '
	my $j = JSON::PP->new->canonical;
	my %r = (type => $ENV{T}, builder => $ENV{B}, repo => "go",
	    rev => $ENV{R}, kind => "post");
	if ($ENV{T} eq "result") {
		$r{ok} = $ENV{OK} eq "true" ? JSON::PP::true : JSON::PP::false;
		$r{log} = $ENV{L} || ("0" x 64);
		$r{elapsed_ms} = 61500; $r{buildlet} = "$ENV{B}-1";
		$r{attempt} = 1; $r{item} = "item";
	} elsif ($ENV{T} eq "attempt") {
		$r{buildlet} = "$ENV{B}-9"; $r{reason} = "buildlet <lost>";
		$r{attempt} = 1; $r{item} = "item";
	} else {
		$r{reason} = "flaky";
	}
	print $j->encode(\%r), "\n";' | maintlog -L results append >/dev/null
}

# cells FILE: the grid rows of FILE, one line each: the short hash, then
# each cell as ok, fail, building or "-" (empty), with "!" after
# a cell of a column that is not a first-class port
cells () {
	perl -ne '
		next unless /^<tr class="commit">/;
		my ($h) = /<a href="[^"]*">([0-9a-f]{7})<\/a>/;
		my @c;
		while (/<td class="result([^"]*)">/g) {
			my @w = split " ", $1;
			my $u = grep { $_ eq "unsupported" } @w;
			@w = grep { $_ ne "unsupported" } @w;
			push @c, (@w ? $w[0] : "-") . ($u ? "!" : "");
		}
		print "$h @c\n";
	' "$1"
}

# dash_tools: chromium and tidy, installed through install-deps when
# missing (apt-get may be offline: then the prerequisites are unset)
dash_tools () {
	if ! command -v chromium >/dev/null || ! command -v tidy >/dev/null
	then
		"$BUILDFARM_TOP/scripts/install-deps" dashboard >&2 || true
	fi
	command -v chromium >/dev/null && test_set_prereq CHROMIUM
	command -v tidy >/dev/null && test_set_prereq TIDY
	return 0
}

# chrome ARGS...: headless Chromium, its own profile, no network chatter
chrome () {
	mkdir -p chrome-profile &&
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$TRASH_DIRECTORY/chrome-profile" "$@" 2>chrome.err
}
