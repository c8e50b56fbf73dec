#!/bin/sh
test_description='dashboard -f: follows the logs and the running builds'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-dashboard.sh"

test_expect_success 'setup, and dashboard -f on logs that do not exist yet' '
	dash_config &&
	start_daemon follow dashboard -f &&
	test_wait_until "test -f \"$WWW/index.html\"" &&
	test_expect_code 111 dashboard 2>err &&
	test_grep "another dashboard runs" err
'

test_expect_success 'a commit, then a result, show up' '
	add_commits master 1 2 &&
	test_wait_until "grep -q \"pkg: change 2\" \"$WWW/index.html\"" &&
	add_record result linux-amd64 2 &&
	test_wait_until "cells \"$WWW/index.html\" | grep -q \"ok\"" &&
	cells "$WWW/index.html" >actual &&
	cat >expect <<-EOF &&
	0000000 ok
	0000000 -
	EOF
	test_cmp expect actual
'

test_expect_success 'a build starts and ends' '
	mkdir -p "$BUILDFARM_DIR/spool/work/tmp" "$BUILDFARM_DIR/spool/work/new" \
	    "$BUILDFARM_DIR/spool/work/cur" "$BUILDFARM_DIR/spool/work/done" \
	    "$BUILDFARM_DIR/spool/work/fail" \
	    "$BUILDFARM_DIR/state/schedule/live" &&
	I=1501000000.000002P1Q1.host &&
	printf "{\"builder\":\"linux-amd64\",\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    "$(hashof 1)" >"$BUILDFARM_DIR/spool/work/cur/$I" &&
	: >"$BUILDFARM_DIR/state/schedule/live/$I.log" &&
	test_wait_until "cells \"$WWW/index.html\" | grep -q building" &&
	rm "$BUILDFARM_DIR/state/schedule/live/$I.log" &&
	add_record result linux-amd64 1 false &&
	test_wait_until "cells \"$WWW/index.html\" | grep -q fail" &&
	cells "$WWW/index.html" >actual &&
	cat >expect <<-EOF &&
	0000000 ok
	0000000 fail
	EOF
	test_cmp expect actual
'

test_expect_success 'SIGTERM: exit 0, and a later run has nothing to do' '
	stop_daemon follow &&
	test_expect_code 1 dashboard
'

test_done
