#!/bin/sh
test_description='buildlet: GET /ls and GET /tgz'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

req () {
	req_out_=$1
	shift
	curl -sS -o "$req_out_.body" -w "%{http_code}\n" "$@" >"$req_out_" &&
	cat "$req_out_.body" >>"$req_out_"
}

test_expect_success 'setup: a tree with known modes and times' '
	start_buildlet bl &&
	mkdir -p "$wd/a/sub" "$wd/skipme" &&
	printf "hello\n" >"$wd/a/f1" &&
	printf x >"$wd/a/sub/x" &&
	printf "#!/bin/sh\n" >"$wd/c.sh" &&
	: >"$wd/skipme/f" &&
	ln -s a/f1 "$wd/b" &&
	chmod 644 "$wd/a/f1" &&
	chmod 700 "$wd/a/sub" &&
	chmod 600 "$wd/a/sub/x" &&
	chmod 4755 "$wd/c.sh" &&
	chmod 1777 "$wd/skipme" &&
	chmod 755 "$wd/a" &&
	touch -d "2017-07-30 12:00:00 UTC" "$wd/a/f1" &&
	touch -d "2017-01-01 00:00:00 UTC" "$wd/a/sub/x" &&
	touch -d "2016-02-29 23:59:59 UTC" "$wd/c.sh" "$wd/skipme/f"
'

test_expect_success '/ls: one level, in byte order, Go mode strings' '
	curl -sS "$url/ls?digest=false&dir=.&recursive=false" >out &&
	printf "%s\t%s\n" drwxr-xr-x a/ Lrwxrwxrwx b >expect &&
	printf "%s\t%s\t%s\t%s\n" urwxr-xr-x c.sh 10 \
	    2016-02-29T23:59:59Z >>expect &&
	printf "%s\t%s\n" dtrwxrwxrwx skipme/ >>expect &&
	test_cmp expect out &&
	curl -sS "$url/ls" >out2 &&
	test_cmp expect out2
'

test_expect_success '/ls: recursive, with digests, skipping a directory' '
	curl -sS "$url/ls?dir=.&recursive=true&digest=true&skip=skipme" >out &&
	{
		printf "%s\t%s\n" drwxr-xr-x a/ &&
		printf "%s\t%s\t%s\t%s\t%s\n" -rw-r--r-- a/f1 6 \
		    2017-07-30T12:00:00Z \
		    $(openssl dgst -sha1 -r "$wd/a/f1" | cut -d" " -f1) &&
		printf "%s\t%s\n" drwx------ a/sub/ &&
		printf "%s\t%s\t%s\t%s\t%s\n" -rw------- a/sub/x 1 \
		    2017-01-01T00:00:00Z \
		    $(printf x | openssl dgst -sha1 -r | cut -d" " -f1) &&
		printf "%s\t%s\n" Lrwxrwxrwx b &&
		printf "%s\t%s\t%s\t%s\t%s\n" urwxr-xr-x c.sh 10 \
		    2016-02-29T23:59:59Z \
		    $(openssl dgst -sha1 -r "$wd/c.sh" | cut -d" " -f1)
	} >expect &&
	test_cmp expect out
'

test_expect_success '/ls: a subdirectory; skip compares whole relative paths' '
	curl -sS "$url/ls?dir=a&recursive=1&skip=sub/x&skip=a/sub" >out &&
	printf "%s\t%s\t%s\t%s\n" -rw-r--r-- f1 6 2017-07-30T12:00:00Z \
	    >expect &&
	printf "%s\t%s\n" drwx------ sub/ >>expect &&
	printf "%s\t%s\t%s\t%s\n" -rw------- sub/x 1 2017-01-01T00:00:00Z \
	    >>expect &&
	test_cmp expect out &&
	curl -sS "$url/ls?dir=a/./sub/../sub&recursive=true&skip=" >out &&
	printf "%s\t%s\t%s\t%s\n" -rw------- x 1 2017-01-01T00:00:00Z \
	    >expect &&
	test_cmp expect out
'

test_expect_success '/ls: errors' '
	req out "$url/ls?dir=nonexist" &&
	printf "500\nWalk error: lstat %s/nonexist: no such file or directory\n" \
	    "$wd" >expect &&
	test_cmp expect out &&
	for d in ../x /etc a/../.. ..
	do
		req out "$url/ls?dir=$d" || return 1
		printf "400\nbogus dir\n" >expect &&
		test_cmp expect out || return 1
	done &&
	req out -X POST "$url/ls" &&
	printf "400\nrequires GET method\n" >expect &&
	test_cmp expect out &&
	ln -s a "$wd/dlink" &&
	for d in b dlink dlink/sub
	do
		req out "$url/ls?dir=$d" &&
		printf "400\nbogus dir: \"%s\" goes through a symbolic link\n" \
		    "$d" >expect &&
		test_cmp expect out || return 1
	done &&
	rm "$wd/dlink" &&
	req out "$url/ls?dir=a/f1/x" &&
	printf "500\nWalk error: lstat %s/a/f1/x: not a directory\n" \
	    "$wd" >expect &&
	test_cmp expect out
'

test_expect_success '/ls and /tgz: a malformed %-escape is the client'"'"'s error' '
	for q in "dir=%zz" "dir=a%2" "digest=%" "%zz=1" "dir=.&skip=%g0"
	do
		req out "$url/ls?$q" || return 1
		bad=$(printf "%s" "${q#*=}" | grep -o "%.\{0,2\}" | head -1) &&
		case $q in %zz=1) bad=%zz ;; esac &&
		printf "400\ninvalid URL escape \"%s\"\n" "$bad" >expect &&
		test_cmp expect out || return 1
	done &&
	req out "$url/tgz?dir=%zz" &&
	printf "400\ninvalid URL escape \"%%zz\"\n" >expect &&
	test_cmp expect out &&
	req out -d "dir=%zz" -X GET "$url/ls" &&
	test_cmp expect out &&
	mkdir "$wd/%zz" &&
	req out "$url/ls?dir=%25zz" &&
	printf "200\n" >expect &&
	test_cmp expect out &&
	rmdir "$wd/%zz"
'

test_expect_success '/ls of a file or a fifo: one line for it, with no name' '
	curl -sS "$url/ls?dir=a/f1&recursive=true" >out &&
	printf "%s\t\t%s\t%s\n" -rw-r--r-- 6 2017-07-30T12:00:00Z >expect &&
	test_cmp expect out &&
	curl -sS "$url/ls?dir=./a/f1&digest=true" >out &&
	printf "%s\t\t%s\t%s\t%s\n" -rw-r--r-- 6 2017-07-30T12:00:00Z \
	    $(openssl dgst -sha1 -r "$wd/a/f1" | cut -d" " -f1) >expect &&
	test_cmp expect out &&
	mkfifo "$wd/a/fifo" &&
	chmod 644 "$wd/a/fifo" &&
	curl -sS "$url/ls?dir=a/fifo" >out &&
	printf "%s\t\n" prw-r--r-- >expect &&
	test_cmp expect out &&
	rm "$wd/a/fifo"
'

test_expect_success '/ls of a big tree streams, and is whole' '
	mkdir "$wd/many" &&
	(cd "$wd/many" && test_seq 3000 | xargs touch) &&
	curl -sS -D h "$url/ls?dir=many" >out &&
	test_line_count = 3000 out &&
	grep -i "^Transfer-Encoding: chunked" h &&
	rm -r "$wd/many"
'

test_expect_success '/tgz: the tree as a tar.gz, links kept, in walk order' '
	curl -sS -D h -o all.tgz "$url/tgz" &&
	grep -i "^Content-Type: application/x-gzip" h &&
	tar tzf all.tgz >names &&
	printf "%s\n" a/ a/f1 a/sub/ a/sub/x b c.sh skipme/ skipme/f >expect &&
	test_cmp expect names &&
	mkdir x &&
	tar xzf all.tgz -C x &&
	cmp x/a/f1 "$wd/a/f1" &&
	test "$(readlink x/b)" = a/f1 &&
	tar tvzf all.tgz >long &&
	grep "^lrwxrwxrwx .* b -> a/f1$" long &&
	awk "{ print \$2 }" long | sed "s|/.*||;s|^|u=|" | sort -u >owners &&
	awk "{ print \$2 }" long | sed "s|.*/|g=|" | sort -u >>owners &&
	printf "u=root\ng=root\n" >expect &&
	test_cmp expect owners &&
	gzip -dc all.tgz | head -c 265 | tail -c 8 >magic &&
	printf "ustar\000%s" 00 >expect &&
	cmp expect magic &&
	grep "^-rw-r--r-- .* 2017-07-30 12:00 a/f1$" long
'

test_expect_success '/tgz of a subdirectory; bad and missing directories' '
	curl -sS "$url/tgz?dir=a/sub" | tar tzf - >names &&
	echo x >expect &&
	test_cmp expect names &&
	req out "$url/tgz?dir=../a" &&
	printf "400\nbogus dir\n" >expect &&
	test_cmp expect out &&
	req out "$url/tgz?dir=gone" &&
	printf "500\nWalk error: lstat %s/gone: no such file or directory\n" \
	    "$wd" >expect &&
	test_cmp expect out &&
	req out -X POST "$url/tgz" &&
	printf "400\nrequires GET method\n" >expect &&
	test_cmp expect out &&
	req out "$url/tgz?dir=b" &&
	printf "400\nbogus dir: \"b\" goes through a symbolic link\n" >expect &&
	test_cmp expect out
'

test_expect_success '/tgz: parallel gzip members by default, one with pargzip=0' '
	head -c 3000000 /dev/urandom >"$wd/a/big" &&
	head -c 3000000 /dev/zero >"$wd/a/zeros" &&
	curl -sS -o par.tgz "$url/tgz?dir=a" &&
	n=$(gzip-members par.tgz) &&
	test $n -ge 6 &&
	curl -sS -o one.tgz "$url/tgz?dir=a&pargzip=0" &&
	echo 1 >expect &&
	gzip-members one.tgz >n1 &&
	test_cmp expect n1 &&
	gzip -dc par.tgz >par.tar &&
	gzip -dc one.tgz >one.tar &&
	cmp par.tar one.tar &&
	mkdir y &&
	tar xf par.tar -C y &&
	cmp y/big "$wd/a/big" &&
	cmp y/zeros "$wd/a/zeros"
'

test_expect_success 'stop' '
	stop_daemon bl
'

test_done
