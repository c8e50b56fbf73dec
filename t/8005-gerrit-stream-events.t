#!/bin/sh
test_description='scripts/gerrit-stream-events: the stream into pollgerrit events, reconnecting'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

GSE=$BUILDFARM_TOP/scripts/gerrit-stream-events

test_expect_success 'setup: a Gerrit, a config, an ssh stand-in' '
	start_gerrit &&
	write_config </dev/null &&
	: >g/1/changes.jsonl && : >g/1/try.jsonl &&
	# ssh: logs its arguments, prints the stream, and then, with
	# HANG set, holds the connection open
	write_script ssh <<-EOF &&
	echo "\$*" >>"$TRASH_DIRECTORY/ssh.log"
	cat "$TEST_DIRECTORY/fixtures/gerrit/stream-events.jsonl"
	test -z "\$HANG" || exec sleep \$HANG
	EOF
	GERRIT_SSH=$TRASH_DIRECTORY/ssh &&
	export GERRIT_SSH
'

test_expect_success '-h, bad usage' '
	"$GSE" -h >out &&
	test_grep "^usage: gerrit-stream-events \[-h\] \[-p port\] \[-r seconds\] user@host gerrit$" out &&
	test_expect_code 100 "$GSE" 2>err &&
	test_expect_code 100 "$GSE" -x gobot@h go 2>err &&
	test_expect_code 100 "$GSE" -r 0 gobot@h go 2>err
'

test_expect_success 'the stream is recorded; a dropped one is dialled again' '
	start_daemon gse "$GSE" -r 1 -p 2222 gobot@gerrit.example go >gse.out &&
	test_wait_until "test \$(wc -l <ssh.log) -ge 2" &&
	test_grep "^-o BatchMode=yes -o ServerAliveInterval=30 -p 2222 gobot@gerrit.example gerrit stream-events$" ssh.log &&
	records >actual &&
	test_line_count = 10 actual &&
	items >actual &&
	echo new/go-201-1 >expect &&
	test_cmp expect actual &&
	test_grep "stream from gobot@gerrit.example ended; again in 2s" gse.log &&
	stop_daemon gse
'

test_expect_success 'SIGTERM stops it and both ends of the stream' '
	HANG=4243 start_daemon gse "$GSE" gobot@gerrit.example go &&
	test_wait_until "ps -eo args | grep -q \"^sleep 4243\$\"" &&
	stop_daemon gse &&
	test_wait_until "! ps -eo args | grep -q \"^sleep 4243\$\"" &&
	ps -eo args >ps &&
	test_grep ! "^pollgerrit events go$" ps
'

test_expect_success 'a gerrit not in the config: exit 100' '
	test_expect_code 100 "$GSE" gobot@gerrit.example nosuch 2>err &&
	test_grep "failed for good" err
'

test_done
