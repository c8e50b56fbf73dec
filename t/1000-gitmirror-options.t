#!/bin/sh
test_description='gitmirror: usage, configuration, dry run, locks, status'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

test_expect_success 'usage: -h on stdout, exit 0; nothing or junk: 100' '
	gitmirror -h >out &&
	grep "^usage: gitmirror \[-hv\] \[-d dir\] sync \[-nq\] \[-j jobs\] \[repo ...\]" out &&
	test_expect_code 100 gitmirror 2>err &&
	grep "^usage:" err &&
	test_expect_code 100 gitmirror frob 2>err &&
	grep "unknown command .frob." err &&
	test_expect_code 100 gitmirror sync -x 2>err &&
	test_expect_code 100 gitmirror archive onlyrepo 2>err &&
	grep "^usage:" err
'

test_expect_success 'a missing config is a permanent failure' '
	test_expect_code 100 gitmirror sync 2>err &&
	grep "config" err
'

test_expect_success 'bad config: every problem reported, exit 100' '
	cat >"$BUILDFARM_DIR/config" <<-\EOF &&
	[repo "go"]
		upstream = not a url
		push = ftp:/x
		branch = bad..name
		backfill = lots
		timeout = 0
	[repo "-x"]
		upstream = git://h/x
	[repo "net"]
		branch = master
	EOF
	test_expect_code 100 gitmirror sync 2>err &&
	sed "s|^gitmirror: config .$BUILDFARM_DIR/config.: ||" err >msgs &&
	cat >expect <<-\EOF &&
	repo "go": upstream '"'"'not a url'"'"': want a URL git can fetch: https, http, git, ssh, file or user@host:path
	repo "go": push '"'"'ftp:/x'"'"': want a URL git can fetch: https, http, git, ssh, file or user@host:path
	repo "go": branch '"'"'bad..name'"'"': not a branch name
	repo "go": backfill '"'"'lots'"'"': want a whole number from 0 to 1000000
	repo "go": timeout '"'"'0'"'"': want a duration from 1s to 1d
	repo "-x": bad name: want 1 to 64 letters, digits, '"'"'.'"'"', '"'"'_'"'"' or '"'"'-'"'"', not starting with '"'"'.'"'"' or '"'"'-'"'"'
	repo "net": no upstream
	7 problems
	EOF
	test_cmp expect msgs &&
	test_path_is_missing "$BUILDFARM_DIR/mirror" &&
	test_path_is_missing "$BUILDFARM_DIR/corpus"
'

test_expect_success 'a section with two bad keys reports both' '
	cat >"$BUILDFARM_DIR/config" <<-\EOF &&
	[repo "go"]
		upstream = git://h/go
		interval = forever
		mirror = maybe
	EOF
	test_expect_code 100 gitmirror status 2>err &&
	sed "s|^gitmirror: config .$BUILDFARM_DIR/config.: ||" err >msgs &&
	cat >expect <<-\EOF &&
	repo "go": mirror '"'"'maybe'"'"': want true or false
	repo "go": interval '"'"'forever'"'"': want a duration from 1s to 30d
	2 problems
	EOF
	test_cmp expect msgs
'

test_expect_success 'a syntax error is exit 100 too' '
	printf "[repo \"go\"\n" >"$BUILDFARM_DIR/config" &&
	test_expect_code 100 gitmirror sync 2>err &&
	test_line_count = 1 err
'

test_expect_success 'setup: a good config' '
	new_upstream go &&
	new_downstream go &&
	cat >"$BUILDFARM_DIR/config" <<-EOF
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go/.git
		push = file://$TRASH_DIRECTORY/down/go.git
		branch = master
	EOF
'

test_expect_success 'a misspelt key is a warning; the repo still syncs as configured' '
	cp "$BUILDFARM_DIR/config" config.good &&
	git config -f "$BUILDFARM_DIR/config" repo.go.mirorr true &&
	gitmirror sync -n >out 2>err &&
	test_line_count = 3 out &&
	echo "gitmirror: config '"'"'$BUILDFARM_DIR/config'"'"': unknown key '"'"'mirorr'"'"' in [repo \"go\"] (ignored)" >expect &&
	test_cmp expect err &&
	cp config.good "$BUILDFARM_DIR/config"
'

test_expect_success 'an unknown repo operand is exit 100' '
	test_expect_code 100 gitmirror sync nosuch 2>err &&
	grep "no \[repo \"nosuch\"\]" err
'

test_expect_success 'sync -n says what it would do and does nothing' '
	gitmirror sync -n >out &&
	cat >expect <<-EOF &&
	go: fetch file://$TRASH_DIRECTORY/up/go/.git into $BUILDFARM_DIR/mirror/go.git (clone)
	go: record new commits of master
	go: push to file://$TRASH_DIRECTORY/down/go.git
	EOF
	test_cmp expect out &&
	test_path_is_missing "$BUILDFARM_DIR/mirror" &&
	test_path_is_missing "$BUILDFARM_DIR/corpus"
'

test_expect_success 'status before any sync: never, exit 1' '
	test_expect_code 1 gitmirror status >out &&
	grep "^go never synced=- fetched=- pushed=- lag=-\$" out
'

test_expect_success 'a sync that finds the repo locked skips it: exit 1' '
	mkdir -p "$BUILDFARM_DIR/state/gitmirror" &&
	flock "$BUILDFARM_DIR/state/gitmirror/go.lock" \
	    sh -c "gitmirror sync >out; echo \$? >rc" &&
	echo 1 >expect &&
	test_cmp expect rc &&
	test_must_be_empty out &&
	test_path_is_missing "$BUILDFARM_DIR/corpus"
'

test_expect_success 'then it syncs: status ok, exit 0' '
	gitmirror sync >out &&
	test_line_count = 1 out &&
	gitmirror status >out &&
	grep "^go ok synced=[0-9T:-]*Z fetched=[0-9T:-]*Z pushed=[0-9T:-]*Z lag=[0-9]*s\$" out
'

test_expect_success 'status: a repo not synced within its interval is hung' '
	git config -f "$BUILDFARM_DIR/config" repo.go.interval 1 &&
	test_wait_until "test_expect_code 1 gitmirror status >out" &&
	grep "^go hung " out &&
	git config -f "$BUILDFARM_DIR/config" repo.go.interval 600
'

test_expect_success 'concurrent syncs record every commit once' '
	commit_n up/go 30 &&
	for i in 1 2 3 4
	do
		gitmirror sync >out.$i 2>err.$i &
	done &&
	wait &&
	cat out.1 out.2 out.3 out.4 | sort >all &&
	git -C up/go rev-list -30 master | sed "s/^/go master /" | sort >expect &&
	test_cmp expect all &&
	commits_recorded | sort | uniq -d >dups &&
	test_must_be_empty dups &&
	commits_recorded | wc -l >n &&
	echo 31 >expect &&
	test_cmp expect n
'

test_expect_success 'the usage is the man page SYNOPSIS, word for word' '
	test_usage_is_synopsis gitmirror
'

test_done
