#!/bin/sh
test_description='buildlet -reverse-type: flags, registration, keys, backoff, many streams'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-reverse.sh"

test_expect_success 'setup: a farm with two reverse host types' '
	mkdir -p "$BUILDFARM_DIR" &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "rv"]
		pool = reverse
	[hosttype "rw"]
		pool = reverse
	[hosttype "st"]
		pool = static
		buildlet = http://127.0.0.1:1
	EOF
	start_coord &&
	rev_key rv && rev_key rw &&
	test $(wc -c <rv.key) = 65 &&
	! test_cmp rv.key rw.key
'

test_expect_success 'bad flags: exit 100, nothing dialled' '
	W="-workdir $PWD/w" &&
	test_expect_code 100 buildlet -reverse-type rv $W 2>err &&
	test_grep "wants both -reverse-type and -coordinator" err &&
	test_expect_code 100 buildlet -coordinator $COORD $W 2>err &&
	test_grep "wants both" err &&
	test_expect_code 100 buildlet -reverse-type rv -keyfile rv.key \
	    -coordinator http://10.1.2.3:8119 $W 2>err &&
	test_grep "plain http only to loopback" err &&
	test_expect_code 100 buildlet -reverse-type rv -keyfile rv.key \
	    -coordinator $COORD -listen 127.0.0.1:0 $W 2>err &&
	test_grep "listens nowhere" err &&
	test_expect_code 100 buildlet -reverse-type rv -keyfile rv.key \
	    -coordinator $COORD -hostname "a b" $W 2>err &&
	test_grep "bad -hostname" err &&
	test_expect_code 100 buildlet -reverse-type rv \
	    -coordinator $COORD $W 2>err &&
	test_grep "\\.gobuildkey-rv" err &&
	test_expect_code 100 buildlet -keyfile rv.key $W 2>err &&
	test_grep "are for reverse mode" err &&
	test_path_is_missing w
'

test_expect_success 'a good key: registered, reached through its bridge' '
	start_rev h1 rv &&
	rev_wait rv-h1 &&
	test "$(rev_field rv-h1 hostname)" = h1 &&
	test "$(rev_field rv-h1 version)" = 15 &&
	test -n "$(rev_field rv-h1 connected)" &&
	test -n "$(rev_field rv-h1 keepalive_s)" &&
	case $rurl in http://127.0.0.1:*) ;; *) false ;; esac &&
	curl -sSf -u gomote:$(cat rv.key) "$rurl/status" >out &&
	printf "{\"Version\":15}" >want && test_cmp want out &&
	url=$rurl &&
	bl_exec out -u gomote:$(cat rv.key) -d cmd=echo -d cmdArg=hello \
	    -d mode=sys &&
	echo hello >want && test_cmp want out.body &&
	test_grep "Process-State: ok" out.trailers &&
	test_grep "registered with $COORD as h1 of host type rv" h1.log
'

test_expect_success 'the bridge wants the key as the password' '
	curl -sS -o /dev/null -w "%{http_code}\n" -u gomote:wrong \
	    "$rurl/status" >code &&
	echo 403 >want && test_cmp want code &&
	curl -sS -o /dev/null -w "%{http_code}\n" -u gomote:$(cat rw.key) \
	    "$rurl/status" >code &&
	test_cmp want code
'

test_expect_success 'the key of another host type: 412, logged without it' '
	cp rw.key rv-wrong.key &&
	start_daemon bad buildlet -reverse-type rv -coordinator $COORD \
	    -keyfile rv-wrong.key -hostname h9 -workdir "$PWD/bad.wd" &&
	test_wait_until "grep -c \"HTTP 412\" bad.log | grep -q \"^[2-9]\"" &&
	test_grep "bad key for host type \"rv\" (hostname h9)" coord.log &&
	! grep "$(cat rw.key)" coord.log &&
	test -z "$(rev_field rv-h9 name)" &&
	test_grep "retry in" bad.log &&
	stop_daemon bad
'

test_expect_success 'an unknown host type or no key: 412' '
	for h in "X-Go-Host-Type: st" "X-Go-Host-Type: nope" "X-Other: 1"
	do
		curl -sS -o /dev/null -w "%{http_code}\n" \
		    -H "Connection: Upgrade" -H "Upgrade: revdial" -H "$h" \
		    -H "X-Go-Builder-Key: $(cat rv.key)" \
		    -H "X-Go-Builder-Hostname: x" "$COORD/reverse" >>codes ||
		return 1
	done &&
	printf "412\n412\n412\n" >want && test_cmp want codes
'

test_expect_success 'a data path nobody asked for: 404; a bad one: 412' '
	curl -sS -o /dev/null -w "%{http_code}\n" -H "Upgrade: revdial" \
	    -H "Connection: Upgrade" -H "X-Go-Host-Type: rv" \
	    -H "X-Go-Builder-Key: $(cat rv.key)" \
	    "$COORD/reverse/data/0123456789abcdef" >code &&
	echo 404 >want && test_cmp want code &&
	curl -sS -o /dev/null -w "%{http_code}\n" -H "Upgrade: revdial" \
	    -H "Connection: Upgrade" -H "X-Go-Host-Type: rv" \
	    -H "X-Go-Builder-Key: 00" \
	    "$COORD/reverse/data/0123456789abcdef" >code &&
	echo 412 >want && test_cmp want code
'

test_expect_success '20 concurrent /exec streams to one reverse machine' '
	pids= &&
	for i in $(test_seq 1 20)
	do
		curl -sS -u gomote:$(cat rv.key) -d mode=sys -d cmd=sh \
		    -d cmdArg=-c -d "cmdArg=sleep 1; echo stream-$i" \
		    "$rurl/exec" >par.$i &
		pids="$pids $!"
	done &&
	wait $pids &&
	for i in $(test_seq 1 20)
	do
		echo stream-$i >want &&
		test_cmp want par.$i || return 1
	done &&
	test $(grep -c "POST /exec 200" h1.log) -ge 21
'

test_expect_success 'the same hostname again replaces the first' '
	start_rev h1b rv -hostname h1 &&
	test_wait_until "grep \"machine rv-h1: replaced\" coord.log" &&
	test_grep "registered with" h1b.log &&
	test_wait_until "grep \"control connection lost: closed by the coordinator\" h1.log" &&
	schedule status -j >lines &&
	test $(grep -c "\"name\":\"rv-h1\"" lines) = 1 &&
	stop_daemon h1b &&
	test_wait_until "grep -c \"registered with\" h1.log | grep -q \"^[2-9]\"" &&
	rev_wait rv-h1 &&
	curl -sSf -u gomote:$(cat rv.key) "$rurl/status" >out
'

test_expect_success 'the coordinator goes away: backoff, then back by itself' '
	rev_wait rv-h1 &&
	stop_daemon coord &&
	test_wait_until "grep -c \"Couldn.t connect\" h1.log | grep -q \"^[3-9]\"" 90 &&
	perl -ne "
		@d = () if /control connection lost/;
		push @d, \$1 if /retry in (\d+) ms/;
		END {
			# 1 s +-25%, then each about twice the last
			die qq(first @d\n) unless \$d[0] >= 750 && \$d[0] <= 1250;
			die qq(grew @d\n) unless \$d[2] > \$d[1] && \$d[3] > \$d[2];
		}" h1.log &&
	start_daemon coord schedule serve -l 127.0.0.1:$coord_port &&
	rev_wait rv-h1 &&
	kill -0 $(cat h1.pid)
'

test_expect_success 'SIGTERM ends a reverse buildlet cleanly, also while it waits' '
	stop_daemon coord &&
	test_wait_until "grep -c \"Couldn.t connect\" h1.log | grep -q \"^[5-9]\"" 90 &&
	stop_daemon h1 &&
	test_grep "stopping on signal 15" h1.log &&
	test_grep "buildlet: stopped" h1.log
'

test_done
