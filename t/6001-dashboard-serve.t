#!/bin/sh
test_description='dashboard: the site served by schedule serve at /'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-dashboard.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

# get PATH: the body of the daemon's answer to GET PATH, headers in hdr
get () {
	curl -sS -D hdr -o body -w "%{http_code}\n" --path-as-is "$(addr)$1"
}

test_expect_success 'setup: a farm without a dashboard yet' '
	dash_config &&
	add_commits master 1 3 &&
	F=$(store_log "FAIL: TestY") &&
	add_record result linux-amd64 3 false "$F" &&
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	port=$(daemon_port serve)
'

test_expect_success 'no index.html: / is the status page, as before' '
	test "$(get /)" = 200 &&
	test_grep "<h1>schedule</h1>" body &&
	test "$(get /grid/go/master/0.html)" = 404
'

test_expect_success 'with the dashboard: / is its index, /status the status' '
	dashboard &&
	test "$(get /)" = 200 &&
	test_grep -i "^content-type: text/html; charset=utf-8" hdr &&
	test_cmp "$WWW/index.html" body &&
	test "$(get /status)" = 200 &&
	test_grep "<h1>schedule</h1>" body &&
	test "$(get /status.json)" = 200 &&
	test_grep -i "^content-type: application/json" hdr
'

test_expect_success 'pages, with their content types' '
	test "$(get /grid/go/master/0.html)" = 200 &&
	test_cmp "$WWW/grid/go/master/0.html" body &&
	test "$(get /style.css)" = 200 &&
	test_grep -i "^content-type: text/css" hdr &&
	test "$(get /index.json)" = 200 &&
	test_grep -i "^content-type: application/json" hdr &&
	test "$(get /failures.txt)" = 200 &&
	test_grep -i "^content-type: text/plain" hdr &&
	test "$(get /builder/linux-amd64.svg)" = 200 &&
	test_grep -i "^content-type: image/svg+xml" hdr &&
	test_grep -i "^x-content-type-options: nosniff" hdr &&
	test "$(get /log/$F)" = 200 &&
	test_grep "FAIL: TestY" body &&
	test "$(get /grid/go/master/)" = 404 &&
	test "$(get /nosuch.html)" = 404
'

test_expect_success 'nothing outside: no .., no dot-files, no symlinks' '
	echo secret >"$BUILDFARM_DIR/secret.html" &&
	test "$(get /../secret.html)" = 404 &&
	test "$(get /grid/../../secret.html)" = 404 &&
	test "$(get /%2e%2e/secret.html)" = 404 &&
	echo hidden >"$WWW/.hidden.html" &&
	test "$(get /.hidden.html)" = 404 &&
	ln -s "$BUILDFARM_DIR/secret.html" "$WWW/link.html" &&
	test "$(get /link.html)" = 404 &&
	ln -s "$BUILDFARM_DIR" "$WWW/up" &&
	test "$(get /up/secret.html)" = 404 &&
	mkfifo "$WWW/fifo.html" &&
	test "$(get /fifo.html)" = 404 &&
	test "$(get /grid)" = 404
'

test_expect_success 'stop the daemon' '
	stop_daemon serve
'

test_done
