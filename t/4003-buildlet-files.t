#!/bin/sh
test_description='buildlet: PUT /write, PUT and POST /writetgz, POST /removeall'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

# req OUT curl-args...: "STATUS" and the body in OUT
req () {
	req_out_=$1
	shift
	curl -sS -o "$req_out_.body" -w "%{http_code}\n" "$@" >"$req_out_" &&
	cat "$req_out_.body" >>"$req_out_"
}

# expect STATUS BODY: the file expect, as req writes it (BODY printf'ed)
expect () {
	printf "%s\n$2" "$1" >expect
}

test_expect_success 'setup' '
	start_buildlet bl &&
	mkdir -p src/d/e &&
	echo one >src/d/one &&
	printf "two\n2\n" >src/d/e/two &&
	chmod 755 src/d/e/two &&
	tar czf src.tgz -C src d
'

test_expect_success 'PUT /write: the file, its mode, its parents' '
	printf "hello\n" >f &&
	req out -T f "$url/write?path=a/b/c.txt&mode=420" &&
	expect 200 OK &&
	test_cmp expect out &&
	test_cmp f "$wd/a/b/c.txt" &&
	stat -c %a "$wd/a/b/c.txt" >mode &&
	echo 644 >expect &&
	test_cmp expect mode &&
	stat -c %a "$wd/a" >mode &&
	echo 755 >expect &&
	test_cmp expect mode &&
	req out -T f "$url/write?path=a/b/c.txt&mode=%2B511" &&
	stat -c %a "$wd/a/b/c.txt" >mode &&
	echo 777 >expect &&
	test_cmp expect mode &&
	: >empty &&
	req out -T empty "$url/write?path=empty&mode=384" &&
	test_must_be_empty "$wd/empty" &&
	stat -c %a "$wd/empty" >mode &&
	echo 600 >expect &&
	test_cmp expect mode
'

test_expect_success 'PUT /write: set-uid, set-gid and sticky are dropped' '
	for m in 8389101 4194797 1049069 13632004
	do
		req out -T f "$url/write?path=suid&mode=$m" &&
		expect 200 OK &&
		test_cmp expect out &&
		stat -c %a "$wd/suid" >mode &&
		case $m in
		13632004) echo 4 ;;
		*) echo 755 ;;
		esac >expect &&
		test_cmp expect mode || return 1
	done
'

test_expect_success 'PUT /write: a chunked body with no length' '
	seq 1 100000 >numbers &&
	curl -sS -H "Transfer-Encoding: chunked" -T - \
	    "$url/write?path=numbers&mode=420" <numbers >out &&
	printf OK >expect &&
	test_cmp expect out &&
	test_cmp numbers "$wd/numbers"
'

test_expect_success 'PUT /write: bad requests' '
	req out -X POST --data-binary @f "$url/write?path=x&mode=420" &&
	expect 400 "requires POST method\n" &&
	test_cmp expect out &&
	for p in "" "/etc/x" "../x" "a/../../x" ".." "a/.." "a%5Cb"
	do
		req out -T f "$url/write?path=$p&mode=420" || return 1
		expect 400 "bad path\n" &&
		test_cmp expect out || return 1
	done &&
	for m in "" x 1.5 2147484096 -1 "%2B%2B1" 16777216
	do
		req out -T f "$url/write?path=m&mode=$m" || return 1
		expect 400 "bad mode\n" &&
		test_cmp expect out || return 1
	done &&
	test_path_is_missing "$wd/m" &&
	req out -T f "$url/write?path=a/b&mode=420" &&
	expect 500 "open $wd/a/b: is a directory\n" &&
	test_cmp expect out
'

test_expect_success 'PUT /write never writes through a symbolic link' '
	mkdir outside &&
	echo keep >outside/target &&
	ln -s "$PWD/outside" "$wd/link" &&
	ln -s "$PWD/outside/target" "$wd/leaf" &&
	req out -T f "$url/write?path=link/new&mode=420" &&
	expect 400 "bad path: \"link/new\" goes through a symbolic link\n" &&
	test_cmp expect out &&
	req out -T f "$url/write?path=leaf&mode=420" &&
	expect 400 "bad path: \"leaf\" goes through a symbolic link\n" &&
	test_cmp expect out &&
	ls outside >got &&
	echo target >expect &&
	test_cmp expect got &&
	echo keep >expect &&
	test_cmp expect outside/target &&
	ln outside/target "$wd/hard" &&
	req out -T f "$url/write?path=hard&mode=420" &&
	expect 200 OK &&
	test_cmp expect out &&
	echo keep >expect &&
	test_cmp expect outside/target &&
	test_cmp f "$wd/hard"
'

test_expect_success 'PUT /writetgz: untar into dir, made as needed' '
	req out -T src.tgz "$url/writetgz?dir=x/y" &&
	expect 200 OK &&
	test_cmp expect out &&
	diff -r src/d "$wd/x/y/d" &&
	stat -c %a "$wd/x/y/d/e/two" >mode &&
	echo 755 >expect &&
	test_cmp expect mode &&
	req out -T src.tgz "$url/writetgz" &&
	diff -r src/d "$wd/d" &&
	gzip -dc src.tgz | gzip -1 | gzip -dc >/dev/null &&
	cat src.tgz | curl -sS -H "Transfer-Encoding: chunked" -T - \
	    "$url/writetgz?dir=chunked" >out &&
	printf OK >expect &&
	test_cmp expect out &&
	diff -r src/d "$wd/chunked/d"
'

test_expect_success 'PUT /writetgz: modification times, clamped to now' '
	mkdir -p t/old t/new &&
	echo a >t/old/f &&
	echo b >t/new/f &&
	touch -d "2001-02-03 04:05:06 UTC" t/old/f &&
	touch -d "2099-01-01 00:00:00 UTC" t/new/f &&
	tar czf t.tgz -C t old new &&
	before=$(date +%s) &&
	req out -T t.tgz "$url/writetgz?dir=times" &&
	after=$(date +%s) &&
	stat -c %Y "$wd/times/old/f" >m &&
	echo 981173106 >expect &&
	test_cmp expect m &&
	m=$(stat -c %Y "$wd/times/new/f") &&
	test $m -ge $before && test $m -le $after
'

test_expect_success 'PUT /writetgz: not gzip, or not tar, in the original words' '
	: >empty &&
	req out -T empty "$url/writetgz?dir=g" &&
	expect 400 "requires gzip-compressed body: EOF\n" &&
	test_cmp expect out &&
	printf "short" >short &&
	req out -T short "$url/writetgz?dir=g" &&
	expect 400 "requires gzip-compressed body: unexpected EOF\n" &&
	test_cmp expect out &&
	echo "plainly not a tarball" >plain &&
	req out -T plain "$url/writetgz?dir=g" &&
	expect 400 "requires gzip-compressed body: gzip: invalid header\n" &&
	test_cmp expect out &&
	echo "plainly not a tarball, but gzip" | gzip >notar.gz &&
	req out -T notar.gz "$url/writetgz?dir=g" &&
	head -n 2 out >first &&
	printf "400\ntar error: " >expect &&
	head -c 15 first >got &&
	test_cmp expect got
'

test_expect_success 'PUT /writetgz: data after the end of the tar is refused' '
	mkdir -p second &&
	echo 2 >second/two &&
	tar czf second.tgz -C second two &&
	cat src.tgz second.tgz >both.tgz &&
	req out -T both.tgz "$url/writetgz?dir=both" &&
	expect 400 "tar error: data after the end of the archive\n" &&
	test_cmp expect out &&
	test_path_is_missing "$wd/both/two" &&
	{ gzip -dc src.tgz && echo junk; } | gzip >junk.tgz &&
	req out -T junk.tgz "$url/writetgz?dir=junk" &&
	test_cmp expect out &&
	{ gzip -dc src.tgz && head -c 100000 /dev/zero; } | gzip >pad.tgz &&
	req out -T pad.tgz "$url/writetgz?dir=pad" &&
	expect 200 OK &&
	test_cmp expect out &&
	test_cmp src/d/one "$wd/pad/d/one"
'

test_expect_success 'PUT /writetgz: bad dir and method' '
	req out -T src.tgz "$url/writetgz?dir=../x" &&
	expect 400 "bogus dir\n" &&
	test_cmp expect out &&
	req out -T src.tgz "$url/writetgz?dir=/tmp" &&
	test_cmp expect out &&
	req out "$url/writetgz?dir=x" &&
	expect 400 "requires PUT or POST method\n" &&
	test_cmp expect out &&
	req out -T src.tgz "$url/writetgz?dir=link" &&
	expect 400 "bogus dir: \"link\" goes through a symbolic link\n" &&
	test_cmp expect out
'

test_expect_success 'POST /writetgz: the buildlet fetches the URL' '
	mkdir fx &&
	cp src.tgz fx/src.tgz &&
	fport=$(free_port) &&
	start_daemon fixture fixture-httpd fx $fport &&
	wait_for_port $fport &&
	req out -d "url=http://127.0.0.1:$fport/src.tgz" \
	    "$url/writetgz?dir=fetched" &&
	expect 200 OK &&
	test_cmp expect out &&
	diff -r src/d "$wd/fetched/d" &&
	req out -d "url=http://127.0.0.1:$fport/missing.tgz" \
	    "$url/writetgz?dir=f2" &&
	expect 500 "writetgz: fetching provided URL \"http://127.0.0.1:$fport/missing.tgz\": 404 X\n" &&
	test_cmp expect out &&
	req out -X POST "$url/writetgz?dir=f2" &&
	expect 400 "missing url POST param\n" &&
	test_cmp expect out &&
	dead=$(free_port) &&
	req out -d "url=http://127.0.0.1:$dead/x.tgz" "$url/writetgz?dir=f3" &&
	head -n 2 out >got &&
	printf "500\nfetching URL http://127.0.0.1:$dead/x.tgz: " >expect &&
	head -c $(wc -c <expect) got >got2 &&
	test_cmp expect got2 &&
	echo "this is not a gzip file" >fx/junk.tgz &&
	req out -d "url=http://127.0.0.1:$fport/junk.tgz" "$url/writetgz?dir=f4" &&
	expect 400 "requires gzip-compressed body: gzip: invalid header\n" &&
	test_cmp expect out &&
	head -c 3000000 /dev/zero | tr "\0" j >fx/bigjunk.tgz &&
	req out -d "url=http://127.0.0.1:$fport/bigjunk.tgz" \
	    "$url/writetgz?dir=f5" &&
	test_cmp expect out &&
	stop_daemon fixture
'

test_expect_success 'POST /writetgz to an existing go1.4: SKIP' '
	mkdir "$wd/go1.4" &&
	req out -d url=http://127.0.0.1:1/never.tgz "$url/writetgz?dir=go1.4" &&
	expect 200 SKIP &&
	test_cmp expect out &&
	ls -A "$wd/go1.4" >got &&
	test_must_be_empty got
'

test_expect_success 'POST /removeall: paths, recursively' '
	mkdir -p "$wd/r/a/b" "$wd/r/keep" &&
	echo x >"$wd/r/a/b/f" &&
	echo y >"$wd/r/file" &&
	req out -d path=r/a -d path=r/file -d path=r/absent -d path=no/such \
	    "$url/removeall" &&
	expect 200 "" &&
	test_cmp expect out &&
	ls "$wd/r" >got &&
	echo keep >expect &&
	test_cmp expect got
'

test_expect_success 'POST /removeall: read-only trees go too; links are not followed' '
	mkdir -p "$wd/ro/a" &&
	echo x >"$wd/ro/a/f" &&
	chmod 555 "$wd/ro/a" "$wd/ro" &&
	ln -s "$PWD/outside" "$wd/r/tolink" &&
	req out -d path=ro -d path=r/tolink "$url/removeall" &&
	expect 200 "" &&
	test_cmp expect out &&
	test_path_is_missing "$wd/ro" "$wd/r/tolink" &&
	test_path_is_file outside/target
'

test_expect_success 'POST /removeall: bad requests' '
	req out -X POST "$url/removeall" &&
	expect 400 "requires '\''path'\'' parameter\n" &&
	test_cmp expect out &&
	req out "$url/removeall?path=x" &&
	expect 400 "requires POST method\n" &&
	test_cmp expect out &&
	for p in /etc ../x a/../.. .. "a\\b"
	do
		req out --data-urlencode "path=$p" "$url/removeall" || return 1
		printf "400\nbad '\''path'\'' parameter: \"%s\"\n" \
		    "$(printf %s "$p" | sed "s/\\\\/\\\\\\\\/g")" >expect &&
		test_cmp expect out || return 1
	done &&
	req out -d path=link/target "$url/removeall" &&
	expect 400 "bad '\''path'\'' parameter: \"link/target\" goes through a symbolic link\n" &&
	test_cmp expect out &&
	test_path_is_file outside/target &&
	test_path_is_dir "$wd/r/keep"
'

test_expect_success 'POST /removeall of ".": the work directory is emptied' '
	req out -d path=. "$url/removeall" &&
	expect 200 "" &&
	test_cmp expect out &&
	test_path_is_dir "$wd" &&
	ls -A "$wd" >got &&
	test_must_be_empty got &&
	test_path_is_file outside/target
'

test_expect_success 'a work directory removed behind its back is made again' '
	rm -rf "$wd" &&
	req out -T f "$url/write?path=again&mode=420" &&
	expect 200 OK &&
	test_cmp expect out &&
	test_cmp f "$wd/again"
'

test_expect_success 'stop' '
	stop_daemon bl
'

test_expect_success '-min-free: a write that would leave less is 507' '
	start_buildlet floor -min-free 1000000G &&
	req out -T f "$url/write?path=f&mode=420" &&
	head -n 1 out >status &&
	echo 507 >expect &&
	test_cmp expect status &&
	grep "^write f: not enough free space: [0-9]* bytes free, 6 to write, 1073741824000000 to be kept free$" out &&
	test_path_is_missing "$wd/f" &&
	seq 1 100000 | curl -sS -o out -w "%{http_code}\n" \
	    -H "Transfer-Encoding: chunked" -T - \
	    "$url/write?path=g&mode=420" >status &&
	test_cmp expect status &&
	test_path_is_missing "$wd/g" &&
	req out -T src.tgz "$url/writetgz?dir=t" &&
	head -n 1 out >status &&
	test_cmp expect status &&
	grep "^write d/one: not enough free space: " out &&
	test_path_is_missing "$wd/t/d/one" &&
	stop_daemon floor &&
	start_buildlet floor -min-free 0 &&
	req out -T f "$url/write?path=f&mode=420" &&
	expect 200 OK &&
	test_cmp expect out &&
	stop_daemon floor &&
	test_expect_code 100 buildlet -min-free 12X -workdir "$PWD/x.wd" \
	    2>err &&
	grep "bad -min-free" err
'

test_lazy_prereq TMPFS '
	test "$(id -u)" = 0 &&
	mkdir m &&
	mount -t tmpfs -o size=1m tmpfs m &&
	umount m
'

test_expect_success TMPFS 'a full disk stops a write cleanly with 507' '
	mkdir small &&
	mount -t tmpfs -o size=2m tmpfs small &&
	test_when_finished "stop_daemon full; umount \"$PWD/small\"" &&
	start_buildlet full -min-free 0 -workdir "$PWD/small/wd" &&
	head -c 3000000 /dev/urandom >big &&
	req out -T big "$url/write?path=big&mode=420" &&
	printf "507\nwrite %s/big: no space left on device\n" \
	    "$PWD/small/wd" >expect &&
	test_cmp expect out &&
	test_path_is_missing small/wd/big &&
	mkdir -p bigtree &&
	cp big bigtree/big &&
	tar czf big.tgz bigtree &&
	req out -T big.tgz "$url/writetgz?dir=t" &&
	printf "507\nwrite bigtree/big: No space left on device\n" >expect &&
	test_cmp expect out &&
	req out -d path=t "$url/removeall" &&
	req out -T f "$url/write?path=f&mode=420" &&
	expect 200 OK &&
	test_cmp expect out
'

test_done
