#!/bin/sh
test_description='pollgerrit events: gerrit stream-events on stdin'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

stream=$TEST_DIRECTORY/fixtures/gerrit/stream-events.jsonl

test_expect_success 'setup' '
	start_gerrit &&
	write_config </dev/null
'

test_expect_success 'every event type, and garbage lines skipped' '
	pollgerrit events <"$stream" >out 2>err &&
	cat >expect <<-EOF &&
	new-change go 201 1 go master NEW
	vote go 201 1 go master NEW
	vote go 201 1 go master NEW
	try go 201 1 go master $(rev 201 1)
	ref-updated go go refs/heads/master $(rev 201 1)
	new-patchset,vote go 201 2 go master NEW
	vote go 201 2 go master NEW
	vote go 201 2 go master NEW
	status go 201 2 go master ABANDONED
	status go 201 2 go master NEW
	status go 201 2 go master MERGED
	new-change go 202 1 go master NEW
	EOF
	test_cmp expect out &&
	cat >expect <<-\EOF &&
	pollgerrit: stdin line 3: not a stream event: line 1 column 4: invalid token near '\''this'\''; skipped
	pollgerrit: stdin line 8: comment-added without change number, project or branch; skipped
	pollgerrit: stdin line 9: not a stream event; skipped
	EOF
	test_cmp expect err &&
	records >actual &&
	cat >expect <<-\EOF &&
	1 201 1 NEW new-change - -
	2 201 1 NEW vote Code-Review:rita@example.com=+1 -
	3 201 1 NEW vote Code-Review:rita@example.com=+1,Run-TryBot:rita@example.com=+1 -
	4 201 2 NEW new-patchset,vote Code-Review:rita@example.com=+1 -
	5 201 2 NEW vote Code-Review:rita@example.com=+1,TryBot-Result:gobot@golang.org=-1 -
	6 201 2 NEW vote TryBot-Result:gobot@golang.org=-1 -
	7 201 2 ABANDONED status TryBot-Result:gobot@golang.org=-1 -
	8 201 2 NEW status TryBot-Result:gobot@golang.org=-1 -
	9 201 2 MERGED status TryBot-Result:gobot@golang.org=-1 -
	10 202 1 NEW new-change Code-Review:dan@example.com=+1 -
	EOF
	test_cmp expect actual &&
	items >actual &&
	echo new/go-201-1 >expect &&
	test_cmp expect actual &&
	test_path_is_file "$BUILDFARM_DIR/state/pollgerrit/go.json"
'

test_expect_success 'a vote whose account no poll has shown has its e-mail instead' '
	grep "\"seq\":2," records.raw >rec2 &&
	grep -F "\"labels\":{\"Code-Review\":[{\"email\":\"rita@example.com\",\"name\":\"Rita Reviewer\",\"value\":1}]}" rec2 &&
	grep -F "\"owner\":{\"email\":\"gopher@example.com\",\"name\":\"Gopher\"}" rec2
'

test_expect_success 'the same stream again: nothing new, exit 1' '
	test_expect_code 1 pollgerrit events <"$stream" >out 2>/dev/null &&
	echo "ref-updated go go refs/heads/master $(rev 201 1)" >expect &&
	test_cmp expect out &&
	records >actual &&
	test_line_count = 10 actual
'

test_expect_success 'a poll after the stream records the messages, and only them' '
	change n=201 ps=2 status=MERGED vote=TryBot-Result:1002:-1 \
	    reviewer=1001 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1001:1:Patch Set 1: Code-Review+1\n\nNice." \
	    msg="1001:1:Patch Set 1: Run-TryBot+1" \
	    msg="1000:2:Uploaded patch set 2." \
	    msg="1002:2:Patch Set 2: TryBot-Result-1" \
	    msg="1000:2:Removed Code-Review+1 by Rita Reviewer" \
	    msg="1000:2:Abandoned" msg="1000:2:Restored" \
	    msg="1001:2:Change has been successfully merged" \
	    updated="2017-07-01 12:00:00.000000000" >g/1/changes.jsonl &&
	change n=202 owner=1003 vote=Code-Review:1003:1 \
	    msg="1003:1:Uploaded patch set 1." \
	    updated="2017-07-01 12:01:00.000000000" >>g/1/changes.jsonl &&
	: >g/1/try.jsonl &&
	pollgerrit poll >out &&
	cat >expect <<-\EOF &&
	message go 201 2 go master MERGED
	message go 202 1 go master NEW
	EOF
	test_cmp expect out &&
	records | tail -n 2 >actual &&
	cat >expect <<-\EOF &&
	11 201 2 MERGED message TryBot-Result:1002=-1 Uploaded patch set 1.|Patch Set 1: Code-Review+1\n\nNice.|Patch Set 1: Run-TryBot+1|Uploaded patch set 2.|Patch Set 2: TryBot-Result-1|Removed Code-Review+1 by Rita Reviewer|Abandoned|Restored|Change has been successfully merged
	12 202 1 NEW message Code-Review:1003=+1 Uploaded patch set 1.
	EOF
	test_cmp expect actual &&
	test_expect_code 1 pollgerrit poll
'

test_expect_success 'accounts polls have seen get their ids in stream votes' '
	event comment-added n=202 ps=1 account=1001 owner=1003 \
	    approval=Code-Review:1 approval=Run-TryBot:1:0 >ev &&
	pollgerrit events <ev >out &&
	cat >expect <<-EOF &&
	vote go 202 1 go master NEW
	try go 202 1 go master $(rev 202 1)
	EOF
	test_cmp expect out &&
	records | tail -n 1 >actual &&
	echo "13 202 1 NEW vote Code-Review:1001=+1,Code-Review:1003=+1,Run-TryBot:1001=+1 -" >expect &&
	test_cmp expect actual
'

test_expect_success 'votes on an old patch set do not count' '
	event comment-added n=201 ps=1 account=1001 approval=Code-Review:2 >ev &&
	test_expect_code 1 pollgerrit events <ev >out &&
	test_must_be_empty out
'

test_expect_success 'a line over 1 MiB is skipped, the next one read' '
	perl -e "print q({\"type\":\"x\",\"pad\":\"), q(p) x 1100000, qq(\"}\n)" >long &&
	event patchset-created n=203 >>long &&
	pollgerrit events <long >out 2>err &&
	echo "new-change go 203 1 go master NEW" >expect &&
	test_cmp expect out &&
	echo "pollgerrit: stdin line 1: longer than 1048576 bytes; skipped" >expect &&
	test_cmp expect err
'

test_expect_success 'a last line without a newline counts' '
	event patchset-created n=203 ps=2 | tr -d "\n" >ev &&
	pollgerrit events <ev >out &&
	echo "new-patchset go 203 2 go master NEW" >expect &&
	test_cmp expect out
'

test_expect_success '-j prints records as stored; other servers by name' '
	cat >>"$BUILDFARM_DIR/config" <<-\EOF &&
	[gerrit "other"]
		url = https://other.example
	EOF
	event patchset-created n=204 >ev &&
	event ref-updated n=204 ref=refs/heads/dev >>ev &&
	last=$(records | tail -n 1 | cut -d" " -f1) &&
	pollgerrit events -j go <ev >out &&
	maintlog -d "$BUILDFARM_DIR/corpus" cat -s $((last + 1)) >expect &&
	test_line_count = 1 expect &&
	echo "{\"event\":\"ref-updated\",\"gerrit\":\"go\",\"new\":\"$(rev 204 1)\",\"old\":\"0000000000000000000000000000000000000000\",\"project\":\"go\",\"ref\":\"refs/heads/dev\",\"server\":\"$url\"}" >>expect &&
	test_cmp expect out &&
	event patchset-created n=204 >ev &&
	pollgerrit events other <ev >out &&
	echo "new-change other 204 1 go master NEW" >expect &&
	test_cmp expect out
'

test_done
