#!/bin/sh
test_description='buildlet -reverse-type over TLS: a test CA, a wrong CA'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-reverse.sh"

test_lazy_prereq OPENSSL 'openssl version'

test_expect_success OPENSSL 'setup: a test CA, a coordinator certificate it signed' '
	test_ca testca &&
	test_ca otherca &&
	test_cert testca srv 127.0.0.1 &&
	mkdir -p "$BUILDFARM_DIR" &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "rv"]
		pool = reverse
	EOF
	start_coord -tls-cert srv.pem -tls-key srv.key &&
	REV_CURL_FLAGS="--cacert testca.pem" &&
	curl -sSf $REV_CURL_FLAGS "$COORD/status.json" >/dev/null &&
	rev_key rv
'

test_expect_success OPENSSL 'plain http to a non-loopback coordinator is refused' '
	test_expect_code 100 buildlet -reverse-type rv -keyfile rv.key \
	    -coordinator http://192.0.2.1:443 -workdir "$PWD/w" 2>err &&
	test_grep "want an https URL" err
'

test_expect_success OPENSSL 'the test CA: registered over TLS, driven through the bridge' '
	start_rev t1 rv -ca-file testca.pem &&
	rev_wait rv-t1 &&
	test_grep "registered with https://127.0.0.1:$coord_port" t1.log &&
	url=$rurl &&
	bl_exec out -u gomote:$(cat rv.key) -d mode=sys -d cmd=sh \
	    -d cmdArg=-c -d "cmdArg=echo over-tls; exit 3" &&
	echo over-tls >want && test_cmp want out.body &&
	test_grep "Process-State: exit status 3" out.trailers
'

test_expect_success OPENSSL 'a big upload and download through the TLS pump' '
	test_seq 1 200000 >big &&
	tar czf big.tgz big &&
	curl -sSf -u gomote:$(cat rv.key) -T big.tgz \
	    "$rurl/writetgz?dir=up" >out &&
	printf OK >want && test_cmp want out &&
	test_cmp big t1.wd/up/big &&
	curl -sSf -u gomote:$(cat rv.key) "$rurl/tgz?dir=up" >back.tgz &&
	mkdir back && tar xzf back.tgz -C back &&
	test_cmp big back/big
'

test_expect_success OPENSSL 'a wrong CA: refused, never registered, retried' '
	start_rev t2 rv -ca-file otherca.pem &&
	test_wait_until "grep -c \"retry in\" t2.log | grep -q \"^[2-9]\"" &&
	test_grep -i "certificate" t2.log &&
	! grep "registered with" t2.log &&
	test -z "$(rev_field rv-t2 name)" &&
	stop_daemon t2
'

test_expect_success OPENSSL 'no -ca-file: the system store does not know the test CA' '
	start_rev t3 rv &&
	test_wait_until "grep -c \"retry in\" t3.log | grep -q \"^[1-9]\"" &&
	! grep "registered with" t3.log &&
	stop_daemon t3
'

test_expect_success OPENSSL 'stop' '
	stop_daemon t1 &&
	rev_gone rv-t1 &&
	stop_daemon coord
'

test_done
