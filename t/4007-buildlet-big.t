#!/bin/sh
test_description='buildlet: a 200 MB round trip, uploads and downloads in parallel'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

sha () {
	openssl dgst -sha256 -r "$1" | cut -d" " -f1
}

test_expect_success 'setup: 200 MB of random bytes' '
	start_buildlet bl &&
	head -c 209715200 /dev/urandom >big &&
	sha big >big.sha
'

test_expect_success 'PUT /write of 200 MB, back through /tgz, same SHA-256' '
	curl -sS -T big "$url/write?path=d/big&mode=420" >out &&
	printf OK >expect &&
	test_cmp expect out &&
	curl -sS -o d.tgz "$url/tgz?dir=d" &&
	mkdir back &&
	tar xzf d.tgz -C back &&
	sha back/big >got &&
	test_cmp big.sha got &&
	rm -r back
'

test_expect_success 'PUT /writetgz of that tarball (chunked), same SHA-256' '
	curl -sS -H "Transfer-Encoding: chunked" -T - "$url/writetgz?dir=e" \
	    <d.tgz >out &&
	printf OK >expect &&
	test_cmp expect out &&
	sha "$wd/e/big" >got &&
	test_cmp big.sha got
'

test_expect_success 'an upload and a download at once, both whole' '
	curl -sS -T big "$url/write?path=f/big&mode=420" >up.out &
	up=$! &&
	curl -sS -o e.tgz "$url/tgz?dir=e&pargzip=0" &&
	wait $up &&
	printf OK >expect &&
	test_cmp expect up.out &&
	sha "$wd/f/big" >got &&
	test_cmp big.sha got &&
	gzip -dc e.tgz | tar xf - -O big >e.big &&
	sha e.big >got &&
	test_cmp big.sha got &&
	rm -f e.big e.tgz d.tgz
'

test_expect_success 'a client that dies mid-upload leaves no half file' '
	perl -e "
		use IO::Socket::INET;
		my \$s = IO::Socket::INET->new(\"127.0.0.1:$port\") or die;
		print \$s \"PUT /write?path=half&mode=420 HTTP/1.1\r\n\" .
		    \"Host: x\r\nContent-Length: 1000000\r\n\r\n\" . (q(x) x 5000);
		sleep 1;
		close \$s;
	" &&
	test_wait_until "grep \"PUT /write?path=half&mode=420\" bl.log" &&
	test_path_is_missing "$wd/half"
'

test_expect_success 'stop' '
	stop_daemon bl &&
	rm -f big
'

test_done
