#!/bin/sh
test_description='gitmirror sync: crashes lose nothing and repeat nothing'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

# set_upstream URL
set_upstream () {
	git config -f "$BUILDFARM_DIR/config" repo.go.upstream "$1"
}

mirror="$BUILDFARM_DIR/mirror/go.git"

test_expect_success 'setup' '
	new_upstream go &&
	commit_n up/go 3 &&
	start_git_daemon &&
	cat >"$BUILDFARM_DIR/config" <<-EOF
	[repo "go"]
		upstream = $daemon_url/up/go/.git
		branch = master
	EOF
'

test_expect_success 'killed after the fetch: the next sync records it all' '
	test_expect_code 137 env GITMIRROR_TEST_CRASH_AT=after-fetch \
	    gitmirror sync >out &&
	test_must_be_empty out &&
	test_path_is_missing "$BUILDFARM_DIR/corpus/0000.jsonl" &&
	gitmirror sync >out &&
	test_line_count = 4 out &&
	commits_recorded >rec &&
	test_line_count = 4 rec
'

test_expect_success 'killed after the append: nothing recorded twice, the lines come next' '
	commit_n up/go 2 a &&
	test_expect_code 137 env GITMIRROR_TEST_CRASH_AT=after-append \
	    gitmirror sync >out &&
	test_line_count = 0 out &&
	gitmirror sync >out &&
	git -C up/go rev-list --reverse master~2..master |
	    sed "s/^/go master /" >expect &&
	test_cmp expect out &&
	test_expect_code 1 gitmirror sync >out &&
	test_must_be_empty out &&
	commits_recorded >rec &&
	test_line_count = 6 rec &&
	sort rec | uniq -d >dups &&
	test_must_be_empty dups
'

test_expect_success 'a torn batch (commits kept, ref moves lost): no repeats' '
	commit_n up/go 3 b &&
	test_expect_code 137 env GITMIRROR_TEST_CRASH_AT=after-append \
	    gitmirror sync >out &&
	seg=$(ls "$BUILDFARM_DIR"/corpus/0*.jsonl) &&
	tail -n 1 "$seg" | grep "\"ref\":\"refs/heads/master\".*\"type\":\"git-ref\"" &&
	n=$(grep -c . "$seg") &&
	head -n $((n - 1)) "$seg" >kept &&
	cat kept >"$seg" &&
	gitmirror sync >out &&
	git -C up/go rev-list --reverse master~3..master |
	    sed "s/^/go master /" >expect &&
	test_cmp expect out &&
	commits_recorded >rec &&
	test_line_count = 9 rec &&
	sort rec | uniq -d >dups &&
	test_must_be_empty dups &&
	m=$(git -C up/go rev-parse master) &&
	corpus_lines git-ref | grep -c "\"new\":\"$m\"" >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	maintlog -d "$BUILDFARM_DIR/corpus" verify
'

test_expect_success 'killed after the print: the lines come again, once more' '
	commit_n up/go 2 p &&
	git -C up/go rev-list --reverse master~2..master |
	    sed "s/^/go master /" >expect &&
	test_expect_code 137 env GITMIRROR_TEST_CRASH_AT=after-print \
	    gitmirror sync >out &&
	test_cmp expect out &&
	gitmirror sync >out &&
	test_cmp expect out &&
	test_expect_code 1 gitmirror sync >out &&
	test_must_be_empty out
'

test_expect_success 'sync -q records and prints nothing; the next sync prints' '
	commit_n up/go 2 q &&
	git -C up/go rev-list --reverse master~2..master |
	    sed "s/^/go master /" >expect &&
	gitmirror sync -q >out &&
	test_must_be_empty out &&
	commits_recorded | tail -n 2 >rec &&
	test_cmp expect rec &&
	gitmirror sync >out &&
	test_cmp expect out
'

# the whole lines of the files named (a kill may cut the last one)
whole_lines () {
	cat "$@" | grep -E "^go master [0-9a-f]{40}\$" || true
}

test_expect_success 'kill -9 at random points: every commit printed at least once' '
	rm -f killed.* &&
	start=$(git -C up/go rev-parse master) &&
	for round in $(test_seq 1 12)
	do
		commit_n up/go 15 r$round || return 1
		gitmirror sync >killed.$round 2>/dev/null &
		pid=$!
		sleep $(perl -e "printf q(%.3f), rand(0.4)")
		kill -9 $pid 2>/dev/null
		wait $pid
		echo "$round $?" >>killed.rc
		case $round in
		3) point=after-fetch ;;
		6) point=after-append ;;
		9) point=after-print ;;
		*) continue ;;
		esac
		commit_n up/go 3 k$round &&
		env GITMIRROR_TEST_CRASH_AT=$point gitmirror sync \
		    >killed.$round.$point 2>/dev/null
		test $? = 137 || return 1
	done &&
	gitmirror sync >killed.last 2>/dev/null
	test $? -le 1 &&
	commits_recorded | sort >rec &&
	sort -u rec >rec.u &&
	test_cmp rec.u rec &&
	git -C up/go rev-list master | sed "s/^/go master /" | sort >all &&
	test_cmp all rec &&
	git -C up/go rev-list $start..master | sed "s/^/go master /" |
	    sort >new &&
	whole_lines killed.[0-9]* killed.last | sort -u >printed &&
	test_cmp new printed
'

test_expect_success 'setup: a big change behind a slow link' '
	old=$(git -C up/go rev-parse master) &&
	echo $old >old &&
	for i in 1 2 3 4
	do
		head -c 400000 /dev/urandom >up/go/blob$i &&
		git -C up/go add blob$i &&
		git -C up/go commit -q -m "blob $i" || return 1
	done &&
	commit_n up/go 20 late &&
	proxy_port=$(free_port) &&
	start_daemon slow-proxy slow-proxy $proxy_port $daemon_port 0.01 \
	    "$TRASH_DIRECTORY/mark" &&
	wait_for_port $proxy_port &&
	set_upstream git://127.0.0.1:$proxy_port/up/go/.git
'

test_expect_success 'kill -9 mid-fetch: mirror unchanged, usable and clean' '
	refs "$mirror" >before &&
	gitmirror sync >out 2>err &
	pid=$! &&
	wait_for_file mark 30 &&
	sleep 0.3 &&
	kill -9 $pid &&
	{ wait $pid; echo $? >rc; } &&
	echo 137 >expect &&
	test_cmp expect rc &&
	test_wait_until "! ps -eo ppid,pid,args | grep \"^ *1 .*gitmirror sync\"" &&
	refs "$mirror" >after &&
	test_cmp before after &&
	git -C "$mirror" fsck --strict &&
	gitmirror fsck &&
	git -C "$mirror" archive master >/dev/null
'

test_expect_success 'the next sync completes and records each commit once' '
	set_upstream $daemon_url/up/go/.git &&
	gitmirror sync >out &&
	git -C up/go rev-list --reverse --topo-order $(cat old)..master |
	    sed "s/^/go master /" >expect &&
	test_cmp expect out &&
	refs up/go/.git >expect &&
	refs "$mirror" >actual &&
	test_cmp expect actual &&
	git -C "$mirror" fsck --strict &&
	gitmirror fsck &&
	commits_recorded | sort | uniq -d >dups &&
	test_must_be_empty dups &&
	git -C up/go rev-list master | sort >all &&
	commits_recorded | cut -d" " -f3 | sort >rec &&
	test_cmp all rec
'

test_expect_success 'fsck names the repo and ref of a missing object' '
	mkdir packs &&
	mv "$mirror"/objects/pack/* packs/ &&
	for p in packs/*.pack
	do
		git -C "$mirror" unpack-objects -q <"$p" || return 1
	done &&
	obj=$(git -C up/go rev-parse master:late-20.txt) &&
	loose="$mirror/objects/$(echo $obj | cut -c1-2)/$(echo $obj | cut -c3-)" &&
	mv "$loose" saved &&
	test_expect_code 100 gitmirror fsck go 2>err &&
	grep "^gitmirror: fsck go: refs/heads/master: .*$obj" err &&
	test_expect_code 100 gitmirror fsck 2>err &&
	grep "^gitmirror: fsck go: refs/heads/master: " err
'

test_expect_success 'fsck finds an object whose bytes do not hash to its id' '
	other=$(git -C up/go rev-parse master:late-19.txt) &&
	cp "$mirror/objects/$(echo $other | cut -c1-2)/$(echo $other | cut -c3-)" \
	    "$loose" &&
	test_expect_code 100 gitmirror fsck go 2>err &&
	grep "^gitmirror: fsck go: refs/heads/master: .*$obj" err &&
	mv saved "$loose" &&
	gitmirror fsck go 2>err &&
	test_must_be_empty err &&
	gitmirror -v fsck go 2>err &&
	echo "gitmirror: fsck go: ok" >expect &&
	test_cmp expect err
'

test_done
