#!/bin/sh
test_description='gitmirror: change refs fetched on demand (fetch-ref, serve ref=)'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

hex40=0123456789abcdef0123456789abcdef01234567
mirror="$BUILDFARM_DIR/mirror/go.git"

# change N P [PARENT]: a commit on top of PARENT (default master) made
# upstream as Gerrit would: reachable from refs/changes/NN/N/P alone
change () {
	ch_nn=$(printf %02d $(($1 % 100))) &&
	git -C up/go checkout -q --detach "${3:-master}" &&
	commit_n up/go 1 "ch$1-$2" &&
	git -C up/go update-ref "refs/changes/$ch_nn/$1/$2" HEAD &&
	git -C up/go checkout -q master
}

# code QUERY: the HTTP status of the tarball of go with QUERY
code () {
	curl -s -o /dev/null -w "%{http_code}" "$url/go.tar.gz?$1"
}

test_expect_success 'setup: a mirror synced before the changes, a server' '
	new_upstream go &&
	commit_n up/go 2 &&
	new_downstream go &&
	# a pack-objects that waits while the file gate exists (a minute
	# at most): a fetch held open on demand
	cat >hold.sh <<-EOF &&
	#!/bin/sh
	if test -f "$TRASH_DIRECTORY/gate"
	then
		: >"$TRASH_DIRECTORY/entered"
		n=0
		while test -f "$TRASH_DIRECTORY/gate" && test \$n -lt 600
		do
			sleep 0.1
			n=\$((n + 1))
		done
	fi
	exec "\$@"
	EOF
	chmod +x hold.sh &&
	git config -f global.gitconfig uploadpack.packObjectsHook \
	    "$TRASH_DIRECTORY/hold.sh" &&
	GIT_CONFIG_GLOBAL="$TRASH_DIRECTORY/global.gitconfig" &&
	export GIT_CONFIG_GLOBAL &&
	start_git_daemon &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = $daemon_url/up/go/.git
		push = $daemon_url/down/go.git
		mirror = true
		branch = master
	EOF
	gitmirror sync >/dev/null &&
	change 1 1 &&
	git -C up/go checkout -q --detach refs/changes/01/1/1 &&
	commit_n up/go 1 mid &&
	git -C up/go checkout -q master &&
	change 2 1 $(git -C up/go rev-parse HEAD@{1}) &&
	change 3 1 &&
	change 5 1 &&
	start_daemon serve gitmirror -v serve -l 127.0.0.1:0 -s 5m &&
	url=http://127.0.0.1:$(daemon_port serve)
'

test_expect_success 'ref=: the change commit, fetched alone, as archive has it' '
	c1=$(git -C up/go rev-parse refs/changes/01/1/1) &&
	test_must_fail git -C "$mirror" cat-file -e $c1 &&
	curl -sS -f -o got.tgz -D hdr \
	    "$url/go.tar.gz?rev=$c1&ref=refs/changes/01/1/1" &&
	grep -i "^x-gitmirror-commit: $c1" hdr &&
	gitmirror archive go $c1 >want.tgz &&
	cmp want.tgz got.tgz &&
	mkdir got && tar -C got -xzf got.tgz &&
	mkdir want && git -C up/go archive $c1 | tar -C want -xf - &&
	diff -r want got &&
	test_path_is_file got/ch1-1-1.txt &&
	echo "$c1 refs/buildfarm/changes/01/1/1" >expect &&
	refs "$mirror" | grep -e " refs/buildfarm/" -e " refs/changes/" >actual &&
	test_cmp expect actual &&
	test $(grep -c "go: fetching refs/changes/01/1/1$" serve.log) = 1
'

test_expect_success 'an ancestor of the ref is served; an unknown rev is 404' '
	c2=$(git -C up/go rev-parse refs/changes/02/2/1) &&
	mid=$(git -C up/go rev-parse refs/changes/02/2/1^) &&
	c3=$(git -C up/go rev-parse refs/changes/03/3/1) &&
	test_must_fail git -C "$mirror" cat-file -e $mid &&
	test $(code "rev=$mid&ref=refs/changes/02/2/1") = 200 &&
	test $(code "rev=$c2&ref=refs/changes/02/2/1") = 200 &&
	test $(code "rev=$c3&ref=refs/changes/02/2/1") = 404 &&
	test_must_fail git -C "$mirror" cat-file -e $c3
'

test_expect_success 'a ref missing upstream is 404, after one fetch' '
	test $(code "rev=$hex40&ref=refs/changes/09/9/1") = 404 &&
	test $(grep -c "go: fetching refs/changes/09/9/1$" serve.log) = 1 &&
	test_must_fail git -C "$mirror" rev-parse -q --verify \
	    refs/buildfarm/changes/09/9/1
'

test_expect_success 'a ref of any other shape is 400, and fetches nothing' '
	for ref in refs/changes/3/3/1 refs/changes/003/3/1 \
	    refs/changes/04/3/1 refs/changes/03/03/1 refs/changes/03/3/01 \
	    refs/changes/03/3/0 refs/changes/03/3 refs/changes/03/3/1/ \
	    refs/changes/03/3/1/x refs/changes/03/3/1x refs/changes/03/-3/1 \
	    refs/changes/03/3/+1 refs/changes/01/1234567801/1 \
	    refs/changes//3/1 refs/heads/master refs/buildfarm/changes/03/3/1 \
	    "refs/changes/03/3/1 " "" refs/changes/03/3/1%00
	do
		c=$(curl -s -o /dev/null -w "%{http_code}" -G \
		    --data-urlencode "rev=$c3" --data-urlencode "ref=$ref" \
		    "$url/go.tar.gz") &&
		test "$c" = 400 || { echo "ref=$ref: $c"; return 1; }
	done &&
	test_must_fail git -C "$mirror" cat-file -e $c3 &&
	test_grep ! "fetching refs/changes/0[34]/" serve.log
'

test_expect_success 'sync keeps the fetched refs, out of the corpus and downstream' '
	gitmirror sync >out &&
	git -C "$mirror" rev-parse refs/buildfarm/changes/01/1/1 >actual &&
	echo $c1 >expect &&
	test_cmp expect actual &&
	git -C "$mirror" rev-parse refs/buildfarm/changes/02/2/1 &&
	refs down/go.git >down.refs &&
	test_grep ! " refs/buildfarm/" down.refs &&
	test_grep " refs/heads/master" down.refs &&
	cat "$BUILDFARM_DIR"/corpus/*.jsonl >corpus &&
	test_grep ! "refs/buildfarm" corpus &&
	test_grep ! "\"commit\":\"$c1\"" corpus &&
	test_grep ! "\"commit\":\"$c2\"" corpus &&
	test_grep ! "$c1" out
'

test_expect_success 'two requests for a ref being fetched: one fetch' '
	change 4 2 &&
	c4=$(git -C up/go rev-parse refs/changes/04/4/2) &&
	query4="rev=$c4&ref=refs/changes/04/4/2" &&
	: >gate || return 1
	curl -sS -o a.tgz -w "%{http_code}\n" "$url/go.tar.gz?$query4" >a.code &
	a=$! &&
	test_wait_until "test -f entered" || return 1
	curl -sS -o b.tgz -w "%{http_code}\n" "$url/go.tar.gz?$query4" >b.code &
	b=$! &&
	test_wait_until "test \$(grep -c -e \"fetching refs/changes/04/4/2\$\" \
	    -e \"waiting for the fetch of refs/changes/04/4/2\$\" serve.log) = 2" &&
	rm gate &&
	wait $a &&
	wait $b &&
	echo 200 >expect &&
	test_cmp expect a.code &&
	test_cmp expect b.code &&
	cmp a.tgz b.tgz &&
	gitmirror archive go $c4 >want4.tgz &&
	cmp want4.tgz a.tgz &&
	test $(grep -c "go: fetching refs/changes/04/4/2$" serve.log) = 1 &&
	grep "go: waiting for the fetch of refs/changes/04/4/2$" serve.log
'

test_expect_success 'fetch-ref prints the commit; 100 for a missing or bad ref' '
	gitmirror fetch-ref go refs/changes/05/5/1 >out &&
	git -C up/go rev-parse refs/changes/05/5/1 >expect &&
	test_cmp expect out &&
	git -C "$mirror" rev-parse refs/buildfarm/changes/05/5/1 >actual &&
	test_cmp expect actual &&
	test_expect_code 100 gitmirror fetch-ref go refs/changes/09/9/1 2>err &&
	test_grep "no ref refs/changes/09/9/1 upstream" err &&
	test_expect_code 100 gitmirror fetch-ref go refs/heads/master 2>err &&
	test_grep "bad ref .refs/heads/master." err &&
	test_expect_code 100 gitmirror fetch-ref nope refs/changes/05/5/1 &&
	test_expect_code 100 gitmirror fetch-ref go
'

test_expect_success 'sync deletes the change refs not fetched for 7 days' '
	git -C "$mirror" update-ref -d refs/buildfarm/changes/01/1/1 &&
	GIT_COMMITTER_DATE="$(($(date +%s) - 8 * 86400)) +0000" \
	    git -C "$mirror" update-ref --create-reflog \
	    refs/buildfarm/changes/01/1/1 $c1 &&
	GIT_COMMITTER_DATE="$(($(date +%s) - 6 * 86400)) +0000" \
	    git -C "$mirror" update-ref --create-reflog \
	    refs/buildfarm/changes/03/3/1 $c1 &&
	gitmirror -v sync >/dev/null 2>err &&
	test_grep "go: deleted 1 change refs not fetched for 7 days" err &&
	test_must_fail git -C "$mirror" rev-parse -q --verify \
	    refs/buildfarm/changes/01/1/1 &&
	git -C "$mirror" rev-parse refs/buildfarm/changes/03/3/1 &&
	git -C "$mirror" rev-parse refs/buildfarm/changes/05/5/1 &&
	test $(code "rev=$c1") = 200
'

test_expect_success 'serve stops cleanly' '
	stop_daemon serve
'

test_done
