#!/bin/sh
test_description='buildlet: connection limits per address, for strangers, and their idle timeout'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

test_expect_success 'setup: a buildlet with a password' '
	printf "secret\n" >pw &&
	chmod 600 pw &&
	start_buildlet bl -password-file pw
'

test_expect_success 'one address gets 64 connections; another is served' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret per-addr >out &&
	cat >expect <<-\EOT &&
	open from 127.0.0.1: 64
	127.0.0.2: HTTP/1.1 200 OK
	EOT
	test_cmp expect out
'

test_expect_success 'strangers cannot take the room kept for logged-in addresses' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret reserve >out &&
	cat >expect <<-\EOT &&
	127.0.0.2 first: HTTP/1.1 200 OK
	strangers open at most 800: True
	a new stranger closed: True
	127.0.0.2 again: HTTP/1.1 200 OK
	EOT
	test_cmp expect out
'

test_expect_success 'a connection that never logs in is closed after 10 s idle' '
	"$TEST_DIRECTORY/helper/conn-flood" $port secret timeout >out &&
	cat >expect <<-\EOT &&
	logged in: HTTP/1.1 200 OK
	idle stranger closed: True
	after 5 s or more: True
	logged in still open: True
	logged in again: HTTP/1.1 200 OK
	EOT
	test_cmp expect out
'

test_done
