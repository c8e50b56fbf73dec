#!/bin/sh
test_description='scripts/*.cron: crontab lines that run, and say nothing when all is well'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

# Cron mails a job's output, not its exit status: a job is silent when
# all is well (exit 1, "nothing new", included).

# lines FILE: a crontab's entries (comments, blank lines and variables
# skipped); jobs FILE: their commands, the five time fields dropped
lines () {
	grep -v -e "^#" -e "^[A-Z_]*=" -e "^[[:space:]]*$" "$1"
}
jobs () {
	lines "$1" |
	    sed "s/^[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*[^[:space:]]*[[:space:]]*//"
}

# silent JOB: run it as cron would; fails, naming it, unless it exits 0
# or 1 and prints nothing
silent () {
	sh -c "$1" </dev/null >out 2>&1
	rc=$?
	test $rc -le 1 || {
		echo "exit $rc: $1" >&2
		return 1
	}
	test_must_be_empty out
}

test_expect_success 'setup: a farm with a repository and a Gerrit' '
	new_upstream go &&
	start_gerrit &&
	: >g/1/changes.jsonl && : >g/1/try.jsonl &&
	write_config <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	EOF
	maintlog -L results append </dev/null
'

test_expect_success 'every line of farm.cron has five time fields' '
	lines "$BUILDFARM_TOP/scripts/farm.cron" >lines &&
	test_line_count = 7 lines &&
	test_grep ! -v -E "^([^[:space:]]+[[:space:]]+){5}[a-z]" lines
'

test_expect_success 'each job of farm.cron runs, silent, twice over' '
	jobs "$BUILDFARM_TOP/scripts/farm.cron" >jobs &&
	for round in 1 2
	do
		while read -r job
		do
			case $job in
			dashboard*)
				command -v dashboard >/dev/null || continue ;;
			esac
			silent "$job" || return 1
		done <jobs || return 1
	done &&
	test -n "$(commits_recorded)"
'

test_expect_success 'the jobs of gitmirror.cron and pollgerrit.cron run too' '
	for f in gitmirror pollgerrit
	do
		jobs "$BUILDFARM_TOP/scripts/$f.cron" >jobs &&
		while read -r job
		do
			silent "$job" || return 1
		done <jobs || return 1
	done
'

test_expect_success 'the control: a failing job is loud' '
	mkdir -p "$BUILDFARM_DIR/mirror/go.git/refs/heads" &&
	echo 1111111111111111111111111111111111111111 \
	    >"$BUILDFARM_DIR/mirror/go.git/refs/heads/broken" &&
	jobs "$BUILDFARM_TOP/scripts/farm.cron" | grep "gitmirror fsck" >fsck &&
	! sh -c "$(cat fsck)" >out 2>&1 &&
	test -s out
'

test_done
