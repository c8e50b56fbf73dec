#!/bin/sh
test_description='schedule serve: gomote instances survive a restart'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-gapi.sh"

# record INST KEY: KEY of the instance's record
record () {
	jfield "$2" <"$BUILDFARM_DIR/state/schedule/gomote/$1"
}

test_expect_success 'setup: a command pool, two instances' '
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "loc"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 2
	[builder "lb"]
		hosttype = loc
	EOF
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null &&
	gcreate alice lb >c0 && test "$(jfield Name <c0)" = user-alice-lb-0 &&
	gcreate alice lb >c1 && test "$(jfield Name <c1)" = user-alice-lb-1 &&
	gproxy alice user-alice-lb-0 /exec -f -d mode=sys -d cmd=sh \
	    -d cmdArg=-c -d "cmdArg=echo kept >file"
'

test_expect_success 'kill -9, restart: the instance and its work dir are back' '
	kill -9 $(cat serve.pid) &&
	test_wait_until "! kill -0 $(cat serve.pid)" &&
	start_daemon serve2 schedule serve -l 127.0.0.1:0 &&
	daemon_port serve2 >/dev/null &&
	gapi alice /buildlet/list -f >list &&
	jfield Name <list >names &&
	printf "user-alice-lb-0\nuser-alice-lb-1\n" >want &&
	test_cmp want names &&
	jfield Lost <list >lost &&
	printf "\n\n" >want && test_cmp want lost &&
	gproxy alice user-alice-lb-0 /exec -f -d mode=sys -d cmd=cat \
	    -d cmdArg=file >out &&
	echo kept >want && test_cmp want out
'

test_expect_success 'a machine gone while the daemon was down: listed as lost' '
	stop_daemon serve2 &&
	m=$(record user-alice-lb-1 machine) &&
	"$ENV_LOCAL/destroy" "$m" &&
	start_daemon serve3 schedule serve -l 127.0.0.1:0 &&
	daemon_port serve3 >/dev/null &&
	gapi alice /buildlet/list -f >list &&
	jfield Name <list >names &&
	printf "user-alice-lb-0\nuser-alice-lb-1\n" >want &&
	test_cmp want names &&
	jfield Lost <list >lost &&
	test -z "$(sed -n 1p lost)" &&
	sed -n 2p lost >l1 && test_grep "did not come back" l1 &&
	test_grep "instance user-alice-lb-1: lost" serve3.log &&
	gproxy alice user-alice-lb-1 /workdir -o out -w "%{http_code}\n" >code &&
	echo 502 >want && test_cmp want code &&
	test_grep "lost" out &&
	gproxy alice user-alice-lb-1 /halt -f -X POST &&
	gapi alice /buildlet/list -f | jfield Name >names &&
	echo user-alice-lb-0 >want && test_cmp want names &&
	gproxy alice user-alice-lb-0 /workdir -f
'

test_expect_success 'restart with TLS: the same instance over HTTPS' '
	stop_daemon serve3 &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem \
	    2>/dev/null &&
	start_daemon serve4 schedule serve -l 127.0.0.1:0 \
	    -tls-cert cert.pem -tls-key key.pem &&
	daemon_port serve4 >/dev/null &&
	case $(addr) in https://*) ;; *) false ;; esac &&
	gproxy alice user-alice-lb-0 /exec -f --cacert cert.pem -d mode=sys \
	    -d cmd=cat -d cmdArg=file >out &&
	echo kept >want && test_cmp want out &&
	gcreate alice lb --cacert cert.pem | jfield Name >name &&
	echo user-alice-lb-1 >want && test_cmp want name
'

test_expect_success 'stop, and the machines are destroyed' '
	stop_daemon serve4 &&
	for f in $(ls "$BUILDFARM_DIR/state/schedule/machines")
	do
		"$ENV_LOCAL/destroy" "$f" || return 1
	done
'

test_done
