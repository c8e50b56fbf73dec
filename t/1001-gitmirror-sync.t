#!/bin/sh
test_description='gitmirror sync: mirror, push downstream, record commits'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

hex40=0123456789abcdef0123456789abcdef01234567

test_expect_success 'setup: upstream and downstream behind git daemon' '
	new_upstream go &&
	commit_n up/go 4 &&
	git -C up/go tag -a -m "go1" go1 &&
	git -C up/go branch release-branch.go1 HEAD~2 &&
	git -C up/go update-ref refs/changes/01/1/1 HEAD~1 &&
	git -C up/go update-ref refs/users/01/1/edit HEAD~1 &&
	git -C up/go update-ref refs/cache-automerge/ab HEAD~1 &&
	git -C up/go update-ref refs/pull/7/head HEAD~1 &&
	git -C up/go update-ref refs/heads/$hex40 HEAD~1 &&
	git -C up/go update-ref refs/tags/$hex40 HEAD~1 &&
	git -C up/go update-ref refs/meta/config HEAD~3 &&
	new_downstream go &&
	start_git_daemon &&
	cat >"$BUILDFARM_DIR/config" <<-EOF
	[repo "go"]
		upstream = $daemon_url/up/go/.git
		push = $daemon_url/down/go.git
		branch = master
		branch = release-branch.go1
		backfill = 3
	EOF
'

test_expect_success 'first sync: clone, push, backfill oldest first' '
	gitmirror sync >out 2>err &&
	test_must_be_empty err &&
	git -C up/go rev-list --reverse --topo-order -3 master >m &&
	{ sed "s/^/go master /" m &&
	  git -C up/go rev-parse release-branch.go1 >/dev/null; } >expect &&
	test_cmp expect out &&
	commits_recorded >actual &&
	test_cmp expect actual
'

test_expect_success 'the mirror has every upstream ref' '
	refs up/go/.git >expect &&
	refs "$BUILDFARM_DIR/mirror/go.git" >actual &&
	test_cmp expect actual &&
	git -C "$BUILDFARM_DIR/mirror/go.git" fsck --strict 2>&1 &&
	gitmirror fsck
'

test_expect_success 'downstream has upstream minus the filtered refs' '
	refs up/go/.git | grep -v -e " refs/changes/" -e " refs/users/" \
	    -e " refs/cache-auto" -e " refs/pull/" -e "/$hex40\$" >expect &&
	refs down/go.git >actual &&
	test_cmp expect actual &&
	grep refs/meta/config actual &&
	git -C down/go.git fsck --strict
'

test_expect_success 'git-ref records: one per ref, in maintlog(5) form' '
	corpus_lines git-ref >raw &&
	test_line_count = $(refs up/go/.git | wc -l) raw &&
	m=$(git -C up/go rev-parse master) &&
	grep "^{\"new\":\"$m\",\"old\":\"\",\"ref\":\"refs/heads/master\",\"repo\":\"go\",\"seq\":[0-9]*,\"time\":\"[0-9T:.-]*Z\",\"type\":\"git-ref\"}\$" raw
'

test_expect_success 'a git record has the commit as Git has it' '
	c=$(git -C up/go rev-parse master) &&
	corpus_lines git | grep "\"commit\":\"$c\"" |
	    sed "s/\"seq\":[0-9]*,\"time\":\"[^\"]*\",//" >actual &&
	p=$(git -C up/go rev-parse master^) &&
	t=$(git -C up/go rev-parse master^{tree}) &&
	ct=$(git -C up/go log -1 --format=%ct master) &&
	at=$(TZ=UTC0 date -d @$((ct - 7 * 3600)) +%Y-%m-%dT%H:%M:%S) &&
	cat >expect <<-EOF &&
	{"author":{"email":"gordon@example.org","name":"Gopher Gordon","time":"$at-07:00"},"branch":"master","commit":"$c","committer":{"email":"rita@example.org","name":"Rita Reviewer","time":"$(TZ=UTC0 date -d @$ct +%Y-%m-%dT%H:%M:%SZ)"},"msg":"c 4\n","parents":["$p"],"repo":"go","tree":"$t","type":"git"}
	EOF
	test_cmp expect actual &&
	maintlog -d "$BUILDFARM_DIR/corpus" verify
'

test_expect_success 'nothing new: exit 1, nothing recorded or printed' '
	cp -r "$BUILDFARM_DIR/corpus" corpus.before &&
	test_expect_code 1 gitmirror sync >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	diff -r corpus.before "$BUILDFARM_DIR/corpus"
'

test_expect_success 'new commits on both branches: each recorded once' '
	last=$(git -C "$BUILDFARM_DIR/mirror/go.git" rev-parse master) &&
	commit_n up/go 2 more &&
	git -C up/go checkout -q release-branch.go1 &&
	commit_n up/go 1 rel &&
	git -C up/go checkout -q master &&
	git -C up/go merge -q --no-edit release-branch.go1 &&
	gitmirror sync >out &&
	git -C up/go rev-list --topo-order $last..master >want.unsorted &&
	sort want.unsorted >want &&
	cut -d" " -f3 out | sort >got &&
	test_cmp want got &&
	test_grep ! -v "^go master " out &&
	commits_recorded | sort | uniq -d >dups &&
	test_must_be_empty dups &&
	refs up/go/.git >expect &&
	refs "$BUILDFARM_DIR/mirror/go.git" >actual &&
	test_cmp expect actual
'

test_expect_success 'a commit only on the second branch is recorded there' '
	git -C up/go checkout -q release-branch.go1 &&
	commit_n up/go 1 rel2 &&
	git -C up/go checkout -q master &&
	gitmirror sync >out &&
	echo "go release-branch.go1 $(git -C up/go rev-parse release-branch.go1)" >expect &&
	test_cmp expect out
'

test_expect_success 'a parent is always recorded before its child' '
	commits_recorded | cut -d" " -f3 >order &&
	while read c
	do
		for p in $(git -C up/go rev-list --parents -1 $c | cut -d" " -f2-)
		do
			if grep -q "^$p\$" order
			then
				pl=$(grep -n "^$p\$" order | cut -d: -f1) &&
				cl=$(grep -n "^$c\$" order | cut -d: -f1) &&
				test "$pl" -lt "$cl" || return 1
			fi
		done
	done <order
'

test_expect_success 'a deleted and a rewound ref: recorded, pushed, pruned' '
	git -C up/go tag -d go1 >/dev/null &&
	old=$(git -C up/go rev-parse release-branch.go1) &&
	git -C up/go branch -f release-branch.go1 master~3 &&
	gitmirror sync >out &&
	test_must_be_empty out &&
	corpus_lines git-ref | grep "\"ref\":\"refs/tags/go1\"" | tail -1 |
	    grep "\"new\":\"\"" &&
	corpus_lines git-ref | grep "\"old\":\"$old\"" |
	    grep "refs/heads/release-branch.go1" &&
	refs up/go/.git >expect &&
	refs "$BUILDFARM_DIR/mirror/go.git" >actual &&
	test_cmp expect actual &&
	git -C down/go.git rev-parse release-branch.go1 >actual &&
	git -C up/go rev-parse master~3 >expect &&
	test_cmp expect actual &&
	git -C down/go.git rev-parse --verify -q refs/tags/go1 &&
	test_path_is_missing "$BUILDFARM_DIR/mirror/go.git/refs/tags/go1"
'

test_expect_success 'mirror = true: downstream loses what upstream lost' '
	git config -f "$BUILDFARM_DIR/config" repo.go.mirror true &&
	git -C down/go.git update-ref refs/heads/only-down HEAD &&
	git -C down/go.git update-ref refs/changes/99/99/1 HEAD &&
	gitmirror sync >out &&
	test_must_fail git -C down/go.git rev-parse --verify -q refs/tags/go1 &&
	test_must_fail git -C down/go.git rev-parse --verify -q \
	    refs/heads/only-down &&
	git -C down/go.git rev-parse --verify -q refs/changes/99/99/1 &&
	git -C down/go.git update-ref -d refs/changes/99/99/1 &&
	refs up/go/.git | grep -v -e " refs/changes/" -e " refs/users/" \
	    -e " refs/cache-auto" -e " refs/pull/" -e "/$hex40\$" >expect &&
	refs down/go.git >actual &&
	test_cmp expect actual
'

test_expect_success 'pushes go in batches of at most 200 refs' '
	for i in $(test_seq 1 450)
	do
		echo "create refs/tags/t$i HEAD"
	done | git -C up/go update-ref --stdin &&
	gitmirror sync >out &&
	test $(git -C down/go.git for-each-ref refs/tags | wc -l) = 450 &&
	refs up/go/.git | grep -v -e " refs/changes/" -e " refs/users/" \
	    -e " refs/cache-auto" -e " refs/pull/" -e "/$hex40\$" >expect &&
	refs down/go.git >actual &&
	test_cmp expect actual
'

test_expect_success 'first sync of a new branch over file://, backfill 0' '
	git init -q -b main up/net &&
	commit_n up/net 5 &&
	git config -f "$BUILDFARM_DIR/config" repo.net.upstream \
	    "file://$TRASH_DIRECTORY/up/net/.git" &&
	git config -f "$BUILDFARM_DIR/config" repo.net.branch main &&
	git config -f "$BUILDFARM_DIR/config" repo.net.backfill 0 &&
	gitmirror sync net >out &&
	test_must_be_empty out &&
	commit_n up/net 2 late &&
	gitmirror sync net >out &&
	git -C up/net rev-list --reverse main~2..main |
	    sed "s/^/net main /" >expect &&
	test_cmp expect out
'

test_expect_success 'a watched branch that upstream lacks is no error' '
	git config -f "$BUILDFARM_DIR/config" --add repo.net.branch nope &&
	test_expect_code 1 gitmirror sync net >out &&
	test_must_be_empty out
'

# par_config FARM: repos p1..p6 with backfill 20, and "bad" (no such
# repository on the daemon) in the middle
par_config () {
	mkdir -p "$1" &&
	for i in 1 2 3 bad 4 5 6
	do
		printf "[repo \"p%s\"]\n\tupstream = %s/up/p%s/.git\n" \
		    "$i" "$daemon_url" "$i" &&
		printf "\tbranch = master\n\tbackfill = 20\n" || return 1
	done >"$1/config"
}

# par_recs FARM: the git and git-ref records without seq and time, sorted
par_recs () {
	cat "$1"/corpus/*.jsonl |
	    sed "s/\"seq\":[0-9]*,\"time\":\"[^\"]*\",//" | sort
}

# contiguous FILE: each repo's lines form one run, and each is whole
contiguous () {
	cut -d" " -f1 "$1" | uniq | sort | uniq -d >runs &&
	test_must_be_empty runs &&
	test_grep ! -v -E "^p[1-6] master [0-9a-f]{40}\$" "$1"
}

test_expect_success 'setup: six repos of 12 commits, and one that fails' '
	for i in 1 2 3 4 5 6
	do
		new_upstream p$i &&
		commit_n up/p$i 11 p$i || return 1
	done &&
	par_config seq &&
	par_config par
'

test_expect_success 'sync -j 4: same records and lines as -j 1, whole' '
	test_expect_code 111 gitmirror -d seq sync -j 1 >out.seq 2>err.seq &&
	test_expect_code 111 gitmirror -d par sync -j 4 >out.par 2>err.par &&
	test_line_count = 72 out.seq &&
	contiguous out.par &&
	sort out.seq >expect &&
	sort out.par >actual &&
	test_cmp expect actual &&
	par_recs seq >expect &&
	par_recs par >actual &&
	test_cmp expect actual &&
	test_line_count = 78 actual &&
	for e in err.seq err.par
	do
		test_line_count = 1 $e &&
		grep "^gitmirror: pbad: fetch " $e || return 1
	done
'

test_expect_success 'sync -j 1 goes in the order named' '
	for i in 1 2 3 4 5 6
	do
		git -C up/p$i rev-list --reverse master | sed "s/^/p$i master /" ||
		    return 1
	done >expect &&
	test_cmp expect out.seq
'

test_expect_success 'sync -j 4: new commits printed once; then nothing new' '
	commit_n up/p2 3 more &&
	commit_n up/p5 2 more &&
	gitmirror -d par sync -j 4 p1 p2 p3 p4 p5 p6 >out 2>err &&
	test_must_be_empty err &&
	{ git -C up/p2 rev-list --reverse master~3..master |
	    sed "s/^/p2 master /" &&
	  git -C up/p5 rev-list --reverse master~2..master |
	    sed "s/^/p5 master /"; } | sort >expect &&
	contiguous out &&
	sort out >actual &&
	test_cmp expect actual &&
	test_expect_code 1 gitmirror -d par sync -j 4 p1 p2 p3 p4 p5 p6 >out &&
	test_must_be_empty out &&
	test_expect_code 111 gitmirror -d par sync -j 3 >out &&
	test_must_be_empty out
'

test_expect_success 'sync -j: a bad count is a usage error' '
	test_expect_code 100 gitmirror -d par sync -j 0 2>err &&
	grep "bad job count .0." err &&
	test_expect_code 100 gitmirror -d par sync -j x 2>err &&
	test_expect_code 100 gitmirror -d par sync -j 1001 2>err
'

test_done
