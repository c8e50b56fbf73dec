#!/bin/sh
test_description='maintlog serve and sync: the maintner /logs protocol'
. ./test-lib.sh

# index_of DIR: the JSON index serve must give for DIR, as jansson
# indents it (keys sorted, two spaces)
index_of () {
	first=1
	echo "["
	for f in $(ls "$1" | grep "^[0-9]*\..*jsonl$" | sort)
	do
		n=${f%%.*}
		n=$(expr "$n" + 0)
		size=$(wc -c <"$1/$f")
		case $f in
		*.*.jsonl)
			sealed=true
			sha=$(echo "$f" | cut -d. -f2) ;;
		*)
			sealed=false
			sha=$(openssl dgst -sha224 -r "$1/$f" | cut -d" " -f1) ;;
		esac
		test $first = 1 || echo "  },"
		first=0
		printf "  {\n"
		printf "    \"number\": %s,\n" $n
		printf "    \"sealed\": %s,\n" $sealed
		printf "    \"sha224\": \"%s\",\n" $sha
		printf "    \"size\": %s,\n" $size
		printf "    \"url\": \"/logs/%s\"\n" $n
	done
	test $first = 1 || echo "  }"
	echo "]"
}

records () {
	perl -e "for (\$ARGV[0]..\$ARGV[1]) { print qq({\"type\":\"git\",\"n\":\$_,\"pad\":\"), q(p) x 60, qq(\"}\n) }" "$@"
}

test_expect_success 'setup: a log with sealed and growing segments, served' '
	records 1 40 | maintlog -d up append -S 2k >/dev/null &&
	start_daemon serve maintlog -d up serve -l 127.0.0.1:0 -w 1 &&
	port=$(daemon_port serve) &&
	url=http://127.0.0.1:$port/logs
'

test_expect_success 'GET /logs gives the index of every segment' '
	curl -sS -D headers -o index $url &&
	index_of up >expect &&
	test_cmp expect index &&
	grep "^HTTP/1.1 200" headers &&
	grep -i "^Content-Type: application/json" headers &&
	sum=$(cat up/[0-9]*.jsonl | wc -c) &&
	grep -i "^X-Sum-Segment-Size: $sum" headers
'

test_expect_success 'an in-place edit of the growing segment changes its sha224 in the index' '
	g=$(ls up | grep "^[0-9]*\.jsonl$") &&
	cp up/$g saved &&
	curl -sS -o index $url &&
	index_of up >expect && test_cmp expect index &&
	perl -e "open(F, q(+<), \$ARGV[0]) or die; seek(F, 20, 0); print F q(9); close F" up/$g &&
	! cmp -s saved up/$g &&
	curl -sS -o index $url &&
	index_of up >expect && test_cmp expect index &&
	cp saved up/$g &&
	curl -sS -o index $url &&
	index_of up >expect && test_cmp expect index
'

test_expect_success 'GET /logs/N gives the segment bytes, with Range' '
	f=$(ls up | grep "^0001\.") &&
	curl -sS -o seg1 $url/1 &&
	test_cmp up/$f seg1 &&
	curl -sS -D h -r 10-19 -o part $url/1 &&
	grep "^HTTP/1.1 206" h &&
	dd if=up/$f bs=1 skip=10 count=10 2>/dev/null >expect &&
	test_cmp expect part &&
	curl -s -o /dev/null -w "%{http_code}\n" -r 100000-100010 $url/1 >code &&
	echo 416 >expect && test_cmp expect code
'

test_expect_success 'the growing segment is served only up to its last newline' '
	g=$(ls up | grep "^[0-9]*\.jsonl$") &&
	cp up/$g saved &&
	printf "{\"type\":\"git\",\"torn" >>up/$g &&
	n=$(expr ${g%%.*} + 0) &&
	curl -sS -o seg $url/$n &&
	test_cmp saved seg &&
	curl -sS -o index $url &&
	cp saved up/$g &&
	index_of up >expect &&
	test_cmp expect index
'

test_expect_success 'bad requests get 400 or 404' '
	for q in "logs?startseg=-1" "logs?waitsizenot=x" "logs?waitsizenot=-2" "logs/abc"
	do
		curl -s -o /dev/null -w "%{http_code}\n" "http://127.0.0.1:$port/$q" || return 1
	done >codes &&
	printf "400\n400\n400\n400\n" >expect &&
	test_cmp expect codes &&
	curl -s -o /dev/null -w "%{http_code}\n" $url/99 >code &&
	echo 404 >expect && test_cmp expect code &&
	curl -s -o /dev/null -w "%{http_code}\n" -X POST $url >code &&
	echo 400 >expect && test_cmp expect code &&
	curl -s -o body -w "%{http_code}\n" -I $url >code &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success 'long poll: 304 after the hold when nothing changes' '
	sum=$(cat up/[0-9]*.jsonl | wc -c) &&
	rm -f body &&
	t0=$(date +%s%N) &&
	curl -s -o body -w "%{http_code}\n" "$url?waitsizenot=$sum" >code &&
	t1=$(date +%s%N) &&
	echo 304 >expect && test_cmp expect code &&
	test_path_is_missing body &&
	ms=$(( (t1 - t0) / 1000000 )) &&
	test $ms -ge 900 && test $ms -lt 3000
'

# Held 60 s, answered well within 30 s: woken by the append, not by the
# hold.  The append waits until the poll's connection is up.
test_expect_success 'long poll: answered as soon as the log grows' '
	port60=$(free_port) &&
	start_daemon serve60 maintlog -d up serve -l 127.0.0.1:$port60 -w 60 &&
	wait_for_port $port60 &&
	sum=$(cat up/[0-9]*.jsonl | wc -c) &&
	t0=$(date +%s) &&
	{
		curl -s -o index -w "%{http_code}\n" \
		    "http://127.0.0.1:$port60/logs?waitsizenot=$sum" >code &
	} &&
	bg=$! &&
	i=0 &&
	until test "$(ss -Htn state established "( sport = :$port60 )" | wc -l)" -ge 1
	do
		i=$((i + 1)) && test $i -lt 300 && sleep 0.1 || return 1
	done &&
	records 41 41 | maintlog -d up append >/dev/null &&
	wait $bg &&
	t1=$(date +%s) &&
	echo 200 >expect && test_cmp expect code &&
	index_of up >expect && test_cmp expect index &&
	test $((t1 - t0)) -lt 30 &&
	stop_daemon serve60
'

test_expect_success 'sync mirrors the log; a second sync finds nothing (exit 1)' '
	maintlog -d down sync $url &&
	maintlog -d up cat >expect &&
	maintlog -d down cat >actual &&
	test_cmp expect actual &&
	(cd up && ls | grep jsonl) >expect &&
	(cd down && ls | grep jsonl) >actual &&
	test_cmp expect actual &&
	maintlog -d down verify &&
	test_expect_code 1 maintlog -d down sync $url
'

test_expect_success 'sync picks up appends and seals' '
	records 42 80 | maintlog -d up append -S 2k >/dev/null &&
	maintlog -d down sync $url &&
	(cd up && ls | grep jsonl) >expect &&
	(cd down && ls | grep jsonl) >actual &&
	test_cmp expect actual &&
	for f in $(cat expect)
	do
		cmp up/$f down/$f || return 1
	done &&
	maintlog -d down verify
'

test_expect_success 'sync resumes a partial download' '
	f=$(ls up | grep "^0000\.") &&
	mkdir resume &&
	head -c 700 up/$f >resume/.0000.0.part &&
	: >serve.log.mark && cp serve.log serve.log.before &&
	maintlog -d resume sync $url &&
	test_path_is_missing resume/.0000.0.part &&
	cmp up/$f resume/$f &&
	maintlog -d resume verify &&
	size=$(wc -c <up/$f) &&
	diff serve.log.before serve.log | grep "GET /logs/0 206 $((size - 700)) "
'

test_expect_success 'a bad partial file is thrown away and fetched again' '
	mkdir resume2 &&
	head -c 700 up/0000.* | tr p q >resume2/.0000.0.part &&
	maintlog -d resume2 sync $url &&
	maintlog -d resume2 verify &&
	ls -A resume2 | grep part >parts;
	test_must_be_empty parts
'

# sync -f long-polls with a hold of 55 s: a record seen within 27 s came
# with the append, not with the end of a hold.
test_expect_success 'sync -f sees each new record as it is appended' '
	start_daemon follower maintlog -d down sync -f $url &&
	for n in 81 82
	do
		before=$(maintlog -d down cat | wc -l) &&
		t0=$(date +%s) &&
		records $n $n | maintlog -d up append >/dev/null &&
		while test $(maintlog -d down cat | wc -l) -le $before
		do
			test $(($(date +%s) - t0)) -lt 27 &&
			sleep 0.05 || return 1
		done || return 1
	done &&
	stop_daemon follower &&
	maintlog -d up cat >expect && maintlog -d down cat >actual &&
	test_cmp expect actual
'

test_expect_success 'a rewritten upstream is refused with 100; the mirror is untouched' '
	cp -r up up2 && chmod -R u+w up2 &&
	g=$(ls up2 | grep "^[0-9]*\.jsonl$") &&
	sed "s/pppp/qqqq/" up2/$g >tmp && mv tmp up2/$g &&
	start_daemon serve2 maintlog -d up2 serve -l 127.0.0.1:0 -w 1 &&
	port2=$(daemon_port serve2) &&
	(cd down && ls -A && cat *) >before &&
	test_expect_code 100 maintlog -d down sync http://127.0.0.1:$port2/logs 2>err &&
	grep "no longer matches the local copy" err &&
	test_line_count = 1 err &&
	(cd down && ls -A && cat *) >after &&
	test_cmp before after &&
	stop_daemon serve2
'

test_expect_success 'a truncated upstream is refused with 100' '
	mkdir up3 &&
	cp up/0000.* up3/ &&
	start_daemon serve3 maintlog -d up3 serve -l 127.0.0.1:0 -w 1 &&
	port3=$(daemon_port serve3) &&
	test_expect_code 100 maintlog -d down sync http://127.0.0.1:$port3/logs 2>err &&
	grep "segment 0001 (it is gone upstream)" err &&
	stop_daemon serve3
'

test_expect_success 'a corrupt sealed segment upstream is not accepted' '
	cp -r up up4 && chmod -R u+w up4 &&
	f=$(ls up4 | grep "^0001\.") &&
	sed "s/pppp/pppq/" up4/$f >tmp && mv tmp up4/$f &&
	test_expect_code 100 maintlog -d up4 verify >out &&
	grep "^segment 0001" out &&
	start_daemon serve4 maintlog -d up4 serve -l 127.0.0.1:0 -w 1 &&
	port4=$(daemon_port serve4) &&
	test_expect_code 100 maintlog -d fresh sync http://127.0.0.1:$port4/logs 2>err &&
	grep "segment 0001 from .* does not match its SHA-224; not accepted" err &&
	test_path_is_missing fresh/0001.* &&
	maintlog -d fresh verify &&
	stop_daemon serve4
'

test_expect_success 'no server: 111; bad url: 100' '
	dead=$(free_port) &&
	test_expect_code 111 maintlog -d down sync http://127.0.0.1:$dead/logs 2>err &&
	test_line_count = 1 err &&
	test_expect_code 100 maintlog -d down sync ftp://x/logs 2>err &&
	grep "bad url" err
'

test_expect_success 'malformed index, 404 and 503 from the server' '
	mkdir fx &&
	fport=$(free_port) &&
	start_daemon fixture fixture-httpd fx $fport &&
	wait_for_port $fport &&
	echo "[{\"number\":0,\"size\":" >fx/bad &&
	test_expect_code 100 maintlog -d m1 sync http://127.0.0.1:$fport/bad 2>err &&
	grep "bad index from" err &&
	echo "[{\"number\":0,\"size\":5,\"sha224\":\"xyz\",\"url\":\"/a\"}]" >fx/bad2 &&
	test_expect_code 100 maintlog -d m1 sync http://127.0.0.1:$fport/bad2 2>err &&
	grep "index entry 0 is malformed" err &&
	test_expect_code 100 maintlog -d m1 sync http://127.0.0.1:$fport/missing 2>err &&
	echo x >fx/busy && echo 503 >fx/busy.status &&
	test_expect_code 111 maintlog -d m1 sync http://127.0.0.1:$fport/busy 2>err &&
	grep 503 err &&
	test_line_count = 1 err
'

test_expect_success 'segment urls off the index origin are refused before any fetch' '
	other=$(free_port) &&
	for u in "http://127.0.0.1:$other/logs/0" "//example.org/logs/0" \
	    "https://127.0.0.1:$fport/logs/0" "http://localhost:$fport/logs/0"
	do
		echo "[{\"number\":0,\"size\":5,\"sha224\":\"$(printf %056d 0)\",\"url\":\"$u\"}]" >fx/evil &&
		: >fx/requests.log &&
		test_expect_code 100 maintlog -d m3 sync http://127.0.0.1:$fport/evil 2>err &&
		grep "index entry 0: segment url .* is not on the index.s origin" err &&
		test_line_count = 1 fx/requests.log || return 1
	done
'

test_expect_success 'a server that ignores Range is named as such' '
	printf "%s\n" "{\"type\":\"git\",\"n\":1}" "{\"type\":\"git\",\"n\":2}" |
		maintlog -d rsrc append >/dev/null &&
	cp rsrc/0000.jsonl fx/seg &&
	head -n 1 fx/seg >first &&
	index () {
		echo "[{\"number\":0,\"size\":$(wc -c <$1),\"sha224\":\"$(openssl dgst -sha224 -r $1 | cut -c1-56)\",\"url\":\"http://127.0.0.1:$fport/seg\",\"sealed\":false}]"
	} &&
	index fx/seg >fx/whole &&
	mkdir rdst && cp first rdst/0000.jsonl &&
	test_expect_code 100 maintlog -d rdst sync http://127.0.0.1:$fport/whole 2>err &&
	grep "/seg.: the server ignored the Range request (HTTP 200, not 206)" err &&
	test_line_count = 1 err &&
	test_cmp first rdst/0000.jsonl
'

test_expect_success 'an index body cut short is a temporary failure (111)' '
	echo "[]" >fx/cut && : >fx/cut.cut &&
	test_expect_code 111 maintlog -d m2 sync http://127.0.0.1:$fport/cut 2>err &&
	test_line_count = 1 err
'

test_expect_success 'serve logs each request as maintlog.1 shows' '
	grep "^maintlog: GET /logs/1 200 1960 [0-9]*ms 127\.0\.0\.1:[0-9]*$" serve.log &&
	grep "^maintlog: GET /logs?waitsizenot=[0-9]* 304 0 [0-9]*ms 127\.0\.0\.1:[0-9]*$" serve.log
'

test_expect_success 'serve stops cleanly on SIGTERM' '
	kill -TERM $(cat serve.pid) &&
	test_wait_until "! kill -0 $(cat serve.pid)"
'

test_done
