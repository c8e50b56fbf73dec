#!/bin/sh
test_description='maintlog serve: 200 long polls at once, all woken by one append'
. ./test-lib.sh

# until CMD succeeds, at most $1 seconds of wall clock
wait_until () {
	wu_end=$(($(date +%s) + $1))
	shift
	until "$@"
	do
		test "$(date +%s)" -lt "$wu_end" || return 1
		sleep 0.1
	done
}

# established connections to the server
nconns () {
	ss -Htn state established "( sport = :$port )" | wc -l
}

at_least () {
	test "$(nconns)" -ge "$1"
}

test_expect_success 'setup: a served log held 60 s per long poll' '
	echo "{\"type\":\"git\",\"n\":1}" | maintlog -d up append >/dev/null &&
	port=$(free_port) &&
	start_daemon serve maintlog -d up serve -l 127.0.0.1:$port -w 60 &&
	wait_for_port $port &&
	url=http://127.0.0.1:$port/logs
'

# One inotify watch serves every waiter: the kernel allows a user few
# inotify instances (often 128), so one per long poll failed with 503.
test_expect_success '200 concurrent long polls are all answered with the new index' '
	sum=$(cat up/[0-9]*.jsonl | wc -c) &&
	set -- &&
	for i in $(test_seq 1 200)
	do
		set -- "$@" -o "poll.$i" "$url?waitsizenot=$sum" || return 1
	done &&
	t0=$(date +%s) &&
	{
		curl -s --parallel --parallel-immediate --parallel-max 200 \
		    -w "%{http_code}\n" "$@" >codes 2>curl.err &
	} &&
	curl_pid=$! &&
	wait_until 30 at_least 200 &&
	echo "{\"type\":\"git\",\"n\":2}" | maintlog -d up append >/dev/null &&
	wait $curl_pid &&
	t1=$(date +%s) &&
	# woken by the append, not by the 60 s hold
	test $((t1 - t0)) -lt 30 &&
	sort codes | uniq -c | sed "s/^ *//" >summary &&
	echo "200 200" >expect &&
	test_cmp expect summary &&
	curl -sS -o index "$url" &&
	for i in $(test_seq 1 200)
	do
		cmp index "poll.$i" || return 1
	done &&
	grep "\"size\": $(cat up/[0-9]*.jsonl | wc -c)" index
'

test_expect_success 'the server is still well: a plain request works' '
	curl -s -o /dev/null -w "%{http_code}\n" "$url" >code &&
	echo 200 >expect && test_cmp expect code &&
	stop_daemon serve
'

test_done
