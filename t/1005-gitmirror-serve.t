#!/bin/sh
test_description='gitmirror serve: tarballs, status page, health'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

test_expect_success 'setup: a mirrored repo and a server' '
	new_upstream go &&
	head -c 2000000 /dev/urandom >up/go/big &&
	git -C up/go add big &&
	git -C up/go commit -q -m big &&
	commit_n up/go 3 &&
	start_git_daemon &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = $daemon_url/up/go/.git
		branch = master
	EOF
	gitmirror sync >/dev/null &&
	start_daemon serve gitmirror serve -f 30 -l 127.0.0.1:0 -s 5m &&
	port=$(daemon_port serve) &&
	url=http://127.0.0.1:$port
'

# headers NAME: the lower-cased names of the headers in file NAME
headers () {
	tr -d "\r" <"$1" | sed -n "s/^\([A-Za-z-]*\):.*/\1/p" |
	    tr A-Z a-z | sort
}

test_expect_success 'GET /REPO.tar.gz?rev=: the bytes of archive' '
	gitmirror archive go master >want.tgz &&
	curl -sS -f -o got.tgz -D hdr "$url/go.tar.gz?rev=master" &&
	cmp want.tgz got.tgz &&
	grep -i "^content-type: application/x-compressed" hdr &&
	grep -i "^x-gitmirror-commit: $(git -C up/go rev-parse master)" hdr &&
	curl -sS -f -o again.tgz -D hdr2 "$url/go.tar.gz?rev=$(git -C up/go rev-parse HEAD)" &&
	cmp want.tgz again.tgz &&
	ls "$BUILDFARM_DIR/cache/gitmirror" >cached &&
	echo "$(git -C up/go rev-parse master^{tree})-$(git -C up/go log -1 --format=%ct master).tar.gz" >expect &&
	test_cmp expect cached
'

# The miss followed the file as it was made; the hit is the file.
test_expect_success 'a tarball being made is sent chunked, a made one with its length' '
	headers hdr >got &&
	printf "%s\n" content-type date transfer-encoding \
	    x-gitmirror-commit >expect &&
	test_cmp expect got &&
	grep -i "^transfer-encoding: chunked" hdr &&
	headers hdr2 >got &&
	printf "%s\n" accept-ranges content-length content-type date \
	    x-gitmirror-commit >expect &&
	test_cmp expect got &&
	grep -i "^content-length: $(wc -c <want.tgz)" hdr2
'

test_expect_success 'HEAD, ranges and HTTP/1.0 of a tarball not yet made wait for the file' '
	commit_n up/go 1 head &&
	gitmirror sync >/dev/null &&
	rev=$(git -C up/go rev-parse master) &&
	gitmirror archive go $rev >want3.tgz &&
	curl -sS -f -I -o /dev/null -D hhead "$url/go.tar.gz?rev=$rev" &&
	grep -i "^content-length: $(wc -c <want3.tgz)" hhead &&
	commit_n up/go 1 http10 &&
	gitmirror sync >/dev/null &&
	rev=$(git -C up/go rev-parse master) &&
	gitmirror archive go $rev >want5.tgz &&
	curl -sS -f -0 -o got5.tgz -D h10 "$url/go.tar.gz?rev=$rev" &&
	grep -i "^content-length: $(wc -c <want5.tgz)" h10 &&
	cmp want5.tgz got5.tgz &&
	commit_n up/go 1 range &&
	gitmirror sync >/dev/null &&
	rev=$(git -C up/go rev-parse master) &&
	gitmirror archive go $rev >want4.tgz &&
	curl -sS -f -r 100-199 -o part -D hrange "$url/go.tar.gz?rev=$rev" &&
	grep "^HTTP/1.1 206" hrange &&
	grep -i "^content-range: bytes 100-199/$(wc -c <want4.tgz)" hrange &&
	dd if=want4.tgz bs=100 skip=1 count=1 2>/dev/null >want-part &&
	cmp want-part part
'

test_expect_success 'many concurrent downloads, all whole' '
	git -C up/go rev-parse master~2 >rev &&
	gitmirror archive go $(cat rev) >want2.tgz &&
	pids= &&
	for i in $(test_seq 1 20)
	do
		curl -sS -f -o c$i.tgz "$url/go.tar.gz?rev=$(cat rev)" &
		pids="$pids $!"
	done &&
	for p in $pids
	do
		wait $p || return 1
	done &&
	for i in $(test_seq 1 20)
	do
		cmp want2.tgz c$i.tgz || return 1
	done &&
	tree=$(git -C up/go rev-parse "$(cat rev)^{tree}") &&
	ls -a "$BUILDFARM_DIR/cache/gitmirror" | grep -c "$tree" >n &&
	echo 1 >expect &&
	test_cmp expect n
'

# A commit made in the mirror whose second blob is gone: the walk
# fails after 12 MB of the first, most often after the first bytes went
# out, so the client gets a 500 or a body cut short, never a tarball.
test_expect_success 'a tarball that cannot be made: 500 or cut short, nothing cached' '
	m=$BUILDFARM_DIR/mirror/go.git &&
	head -c 12000000 /dev/urandom >a.bin &&
	a=$(git -C "$m" hash-object -w --stdin <a.bin) &&
	z=$(echo "lost $$" | git -C "$m" hash-object -w --stdin) &&
	tree=$(printf "100644 blob %s\ta.bin\n100644 blob %s\tz.txt\n" \
	    $a $z | git -C "$m" mktree) &&
	c=$(git -C "$m" commit-tree -m broken $tree) &&
	rm "$m/objects/$(echo $z | cut -c1-2)/$(echo $z | cut -c3-)" &&
	{
		curl -sS -o broken.tgz -w "%{http_code}\n" \
		    "$url/go.tar.gz?rev=$c" >code 2>curl.err
		echo "$(cat code) $?" >got
	} &&
	case $(cat got) in
	"500 0"|"200 18") ;;
	*) cat got curl.err; false ;;
	esac &&
	test_grep "^gitmirror: go $c: " serve.log &&
	ls -a "$BUILDFARM_DIR/cache/gitmirror" >cached &&
	test_grep ! "$tree" cached &&
	curl -sS -f -o again2.tgz "$url/go.tar.gz?rev=$(cat rev)" &&
	cmp want2.tgz again2.tgz
'

test_expect_success 'an unknown rev is fetched from upstream first' '
	commit_n up/go 1 fresh &&
	new=$(git -C up/go rev-parse master) &&
	test_must_fail git -C "$BUILDFARM_DIR/mirror/go.git" cat-file -e $new &&
	curl -sS -f -o new.tgz "$url/go.tar.gz?rev=$new" &&
	gitmirror archive go $new >want3.tgz &&
	cmp want3.tgz new.tgz &&
	echo "go master $new" >expect &&
	commits_recorded | tail -1 >actual &&
	test_cmp expect actual &&
	gitmirror sync >out &&
	test_cmp expect out
'

test_expect_success 'parallel requests for a commit being fetched all get it' '
	commit_n up/go 1 par &&
	new=$(git -C up/go rev-parse master) &&
	gitmirror archive go $new >/dev/null 2>&1 && return 1
	pids= &&
	for i in $(test_seq 1 6)
	do
		curl -sS -o par$i.tgz -w "%{http_code}\n" \
		    "$url/go.tar.gz?rev=$new" >code$i &
		pids="$pids $!"
	done &&
	for p in $pids
	do
		wait $p || return 1
	done &&
	gitmirror archive go $new >want.par &&
	for i in $(test_seq 1 6)
	do
		echo 200 >expect &&
		test_cmp expect code$i &&
		cmp want.par par$i.tgz || return 1
	done
'

test_expect_success 'a repo added to the config is served without a restart' '
	new_upstream net &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$url/net.tar.gz?rev=master")" = 404 &&
	git config -f "$BUILDFARM_DIR/config" repo.net.upstream \
	    "$daemon_url/up/net/.git" &&
	git config -f "$BUILDFARM_DIR/config" repo.net.branch master &&
	test_wait_until "grep \"config read again (changed): 2 repos\" serve.log" &&
	curl -sS -f -o net.tgz "$url/net.tar.gz?rev=master" &&
	gitmirror archive net master >want.net &&
	cmp want.net net.tgz &&
	curl -sS -f "$url/" >page &&
	grep "^net " page
'

test_expect_success 'SIGHUP reads the config again; a bad one is kept out' '
	kill -HUP $(cat serve.pid) &&
	test_wait_until "grep \"config read again (SIGHUP): 2 repos\" serve.log" &&
	cp "$BUILDFARM_DIR/config" config.good &&
	git config -f "$BUILDFARM_DIR/config" repo.net.timeout never &&
	git config -f "$BUILDFARM_DIR/config" repo.net.backfill lots &&
	kill -HUP $(cat serve.pid) &&
	test_wait_until "grep \"config not read again (SIGHUP): kept the one before\" serve.log" &&
	grep "repo \"net\": timeout .never.: want a duration" serve.log &&
	grep "repo \"net\": backfill .lots.: want a whole number" serve.log &&
	curl -sS -f -o net.tgz "$url/net.tar.gz?rev=master" &&
	cp config.good "$BUILDFARM_DIR/config" &&
	kill -HUP $(cat serve.pid) &&
	test_wait_until "test \$(grep -c \"config read again (SIGHUP)\" serve.log) = 2"
'

test_expect_success 'errors: 400 without rev, 404 unknown repo or rev' '
	test "$(curl -s -o /dev/null -w "%{http_code}" "$url/go.tar.gz")" = 400 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$url/nope.tar.gz?rev=master")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$url/go.tar.gz?rev=nosuchrev")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$url/go.tar.gz?rev=master:big")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$url/other")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X POST "$url/")" = 405
'

test_expect_success 'GET /healthz and the status page' '
	curl -sS -f "$url/healthz" >out &&
	echo ok >expect &&
	test_cmp expect out &&
	curl -sS -f "$url/" >page &&
	grep "^go ok synced=" page
'

test_expect_success 'the cache stays within its size' '
	for i in 1 2 3 4
	do
		head -c 2000000 /dev/urandom >up/go/big &&
		git -C up/go commit -q -a -m "big $i" &&
		curl -sS -f -o /dev/null "$url/go.tar.gz?rev=$(git -C up/go rev-parse HEAD)" ||
		return 1
	done &&
	test $(du -sk "$BUILDFARM_DIR/cache/gitmirror" | cut -f1) -le 5200 &&
	ls "$BUILDFARM_DIR/cache/gitmirror" >cached &&
	grep "^$(git -C up/go rev-parse HEAD^{tree})-" cached
'

test_expect_success 'tarballs left unfinished an hour ago are removed' '
	c="$BUILDFARM_DIR/cache/gitmirror" &&
	: >"$c/.abc-1.tar.gz.Xy12Zw" &&
	touch -d "2 hours ago" "$c/.abc-1.tar.gz.Xy12Zw" &&
	: >"$c/.abc-2.tar.gz.Pq34Rs" &&
	: >"$c/.keep" &&
	touch -d "2 hours ago" "$c/.keep" &&
	commit_n up/go 1 tmp &&
	curl -sS -f -o /dev/null "$url/go.tar.gz?rev=$(git -C up/go rev-parse HEAD)" &&
	test_path_is_missing "$c/.abc-1.tar.gz.Xy12Zw" &&
	test_path_is_file "$c/.abc-2.tar.gz.Pq34Rs" &&
	test_path_is_file "$c/.keep" &&
	grep "removed .\.abc-1\.tar\.gz\.Xy12Zw., left by a tarball that was never finished" serve.log
'

test_expect_success 'at most -f fetches a minute per repo, then 503' '
	start_daemon limited gitmirror serve -f 1 -l 127.0.0.1:0 -s 5m &&
	lurl=http://127.0.0.1:$(daemon_port limited) &&
	commit_n up/go 1 lim &&
	one=$(git -C up/go rev-parse master) &&
	curl -sS -f -o /dev/null "$lurl/go.tar.gz?rev=$one" &&
	commit_n up/go 1 lim2 &&
	two=$(git -C up/go rev-parse master) &&
	curl -s -o body -D hdr -w "%{http_code}\n" \
	    "$lurl/go.tar.gz?rev=$two" >code &&
	echo 503 >expect &&
	test_cmp expect code &&
	grep -i "^retry-after: [1-9][0-9]*" hdr &&
	test_must_fail git -C "$BUILDFARM_DIR/mirror/go.git" cat-file -e $two &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$lurl/go.tar.gz?rev=$one")" = 200 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$lurl/net.tar.gz?rev=master")" = 200 &&
	stop_daemon limited &&
	start_daemon never gitmirror serve -f 0 -l 127.0.0.1:0 -s 5m &&
	nurl=http://127.0.0.1:$(daemon_port never) &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$nurl/go.tar.gz?rev=$two")" = 503 &&
	test_must_fail git -C "$BUILDFARM_DIR/mirror/go.git" cat-file -e $two &&
	stop_daemon never
'

test_expect_success 'serve stops cleanly' '
	stop_daemon serve
'

test_expect_success 'and sweeps them when it starts' '
	touch -d "2 hours ago" "$c/.abc-2.tar.gz.Pq34Rs" &&
	start_daemon serve2 gitmirror serve -l 127.0.0.1:0 -s 5m &&
	daemon_port serve2 &&
	test_path_is_missing "$c/.abc-2.tar.gz.Pq34Rs" &&
	test_path_is_file "$c/.keep" &&
	stop_daemon serve2
'

test_done
