#!/bin/sh
test_description='buildlet and schedule serve over TLS: plain HTTP, silent clients, limits'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

test_lazy_prereq OPENSSL 'openssl version'

# what Go's net/http answers to plain HTTP on a TLS listener
go400 () {
	printf "HTTP/1.0 400 Bad Request\r\n\r\n%s\n" \
	    "Client sent an HTTP request to an HTTPS server."
}

# plain_is_400 PORT: a plain request, each of the kinds Go recognises,
# gets exactly those bytes, then the connection closes
plain_is_400 () {
	go400 >expect.400 &&
	for req in "GET /status HTTP/1.1" "HEAD / HTTP/1.1" \
	    "POST /exec HTTP/1.1" "PUT /write HTTP/1.1" "OPTIONS * HTTP/1.1"
	do
		printf "%s\nHost: x\n\n" "$req" |
		"$TEST_DIRECTORY/helper/raw-http" -t 30 "$1" >plain.out &&
		test_cmp expect.400 plain.out || return 1
	done
}

# silent NAME PORT: a client that connects and says nothing, as daemon
# NAME; NAME.end appears once the server closed it ("[open]" in
# NAME.out if it was still open after 60 s)
silent () {
	start_daemon "$1" sh -c '"$0" -t 60 "$1" >"$2.out"; date +%s >"$2.end"' \
	    "$TEST_DIRECTORY/helper/raw-http" "$2" "$1"
}

# connected PORT: wait until some client has a connection to PORT
connected () {
	test_wait_until "ss -Htn state established \"( dport = :$1 )\" |
	    grep -q ."
}

test_expect_success OPENSSL 'setup: a buildlet with TLS and a password' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	    -keyout key.pem -out cert.pem 2>/dev/null &&
	printf "secret\n" >pw &&
	chmod 600 pw &&
	start_buildlet bl -tls-cert cert.pem -tls-key key.pem -password-file pw &&
	surl=https://127.0.0.1:$port
'

test_expect_success OPENSSL 'plain HTTP to the TLS port gets the 400 of Go' '
	plain_is_400 $port &&
	curl -sS -o body -w "%{http_code}\n" "$url/status" >code &&
	echo 400 >expect &&
	test_cmp expect code &&
	echo "Client sent an HTTP request to an HTTPS server." >expect &&
	test_cmp expect body
'

test_expect_success OPENSSL 'neither TLS nor HTTP: closed unanswered, as Go does' '
	printf "DELETE /x HTTP/1.1\nHost: x\n\n" |
	"$TEST_DIRECTORY/helper/raw-http" -t 30 $port >out &&
	test_must_be_empty out &&
	printf "\000\001\002\003\004\005" |
	"$TEST_DIRECTORY/helper/raw-http" -n -t 30 $port >out &&
	test_must_be_empty out
'

test_expect_success OPENSSL 'HTTPS still works, keep-alive included' '
	curl -sS --cacert cert.pem -u gomote:secret "$surl/status" \
	    "$surl/status" >out &&
	printf "{\"Version\":15}{\"Version\":15}" >expect &&
	test_cmp expect out &&
	test_must_fail curl -sS "$surl/status" -o /dev/null 2>err &&
	test_grep -i certificate err
'

test_expect_success OPENSSL 'a silent client is closed after 10 s and blocks nobody' '
	t0=$(date +%s) &&
	silent quiet $port &&
	curl -sS --cacert cert.pem -u gomote:secret "$surl/status" >out &&
	printf "{\"Version\":15}" >expect &&
	test_cmp expect out &&
	plain_is_400 $port &&
	test_wait_until "test -s quiet.end" &&
	test_must_be_empty quiet.out &&
	test $(($(cat quiet.end) - t0)) -ge 5
'

test_expect_success OPENSSL 'silent floods: 64 wait per address, 256 in all, others served' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret silent cert.pem >out &&
	cat >expect <<-\EOT &&
	silent from 127.0.0.8: 64
	silent open at most 256: True
	127.0.0.2 meanwhile: HTTP/1.1 200 OK
	all silent closed: True
	EOT
	test_cmp expect out
'

test_expect_success OPENSSL 'limits over TLS: 64 connections per address' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret per-addr cert.pem >out &&
	cat >expect <<-\EOT &&
	open from 127.0.0.1: 64
	127.0.0.2: HTTP/1.1 200 OK
	EOT
	test_cmp expect out
'

test_expect_success OPENSSL 'limits over TLS: the room kept for logged-in addresses' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret reserve cert.pem >out &&
	cat >expect <<-\EOT &&
	127.0.0.2 first: HTTP/1.1 200 OK
	strangers open at most 800: True
	a new stranger closed: True
	127.0.0.2 again: HTTP/1.1 200 OK
	EOT
	test_cmp expect out
'

test_expect_success OPENSSL 'limits over TLS: the short timeout of strangers' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret timeout cert.pem >out &&
	cat >expect <<-\EOT &&
	logged in: HTTP/1.1 200 OK
	idle stranger closed: True
	after 5 s or more: True
	logged in still open: True
	logged in again: HTTP/1.1 200 OK
	EOT
	test_cmp expect out
'

test_expect_success OPENSSL 'stopping closes the connections still waiting' '
	silent waiting $port &&
	connected $port &&
	plain_is_400 $port &&
	stop_daemon bl &&
	test_wait_until "test -s waiting.end" 30 &&
	test_must_be_empty waiting.out
'

test_expect_success OPENSSL 'schedule serve -tls-cert: the same' '
	mkdir -p "$BUILDFARM_DIR" &&
	: >"$BUILDFARM_DIR/config" &&
	start_daemon serve schedule serve -l 127.0.0.1:0 -tls-cert cert.pem \
	    -tls-key key.pem &&
	sport=$(daemon_port serve) &&
	silent squiet $sport &&
	connected $sport &&
	plain_is_400 $sport &&
	curl -sS --cacert cert.pem -o /dev/null -w "%{http_code}\n" \
	    "https://127.0.0.1:$sport/status.json" >code &&
	echo 200 >expect &&
	test_cmp expect code &&
	test_path_is_missing squiet.end &&
	stop_daemon serve &&
	test_wait_until "test -s squiet.end" 30 &&
	test_must_be_empty squiet.out
'

test_done
