#!/bin/sh
test_description='pollgerrit poll: TryBot work, one item per change and patch set, ever'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

# try_change N PS [ARGS]: a change asking for a TryBot run, as both
# queries show it (the try query is not detailed, but the fixture does
# not mind giving more).
try_change () {
	n=$1 ps=$2 &&
	shift 2 &&
	change n=$n ps=$ps vote=Run-TryBot:1001:1 "$@"
}

test_expect_success 'setup' '
	start_gerrit &&
	write_config </dev/null
'

test_expect_success 'a TryBot request appears: one item' '
	try_change 101 1 updated="2017-07-01 10:00:00.000000000" \
	    >g/1/changes.jsonl &&
	cp g/1/changes.jsonl g/1/try.jsonl &&
	pollgerrit poll >out 2>err &&
	test_must_be_empty err &&
	cat >expect <<-EOF &&
	new-change go 101 1 go master NEW
	try go 101 1 go master $(rev 101 1)
	EOF
	test_cmp expect out &&
	items >actual &&
	echo new/go-101-1 >expect &&
	test_cmp expect actual
'

test_expect_success 'the item says what to build' '
	cat >expect <<-EOF &&
	{"branch":"master","builder":"","change":101,"change_id":"I$(printf "change 101" | openssl dgst -sha1 -r | cut -d" " -f1)","gerrit":"go","kind":"try","patchset":1,"repo":"go","rev":"$(rev 101 1)","server":"$url","subject":"change 101"}
	EOF
	test_cmp expect "$BUILDFARM_DIR/spool/try/new/go-101-1"
'

test_expect_success 'asked again: never a second item, wherever the first is' '
	test_expect_code 1 pollgerrit poll >out &&
	test_must_be_empty out &&
	mv "$BUILDFARM_DIR/spool/try/new/go-101-1" "$BUILDFARM_DIR/spool/try/cur/" &&
	test_expect_code 1 pollgerrit poll >out &&
	test_must_be_empty out &&
	mv "$BUILDFARM_DIR/spool/try/cur/go-101-1" "$BUILDFARM_DIR/spool/try/done/" &&
	test_expect_code 1 pollgerrit poll >out &&
	mv "$BUILDFARM_DIR/spool/try/done/go-101-1" "$BUILDFARM_DIR/spool/try/fail/" &&
	test_expect_code 1 pollgerrit poll >out &&
	test_must_be_empty out &&
	items >actual &&
	echo fail/go-101-1 >expect &&
	test_cmp expect actual
'

test_expect_success 'TryBot-Result voted: the request disappears' '
	step 2 &&
	try_change 101 1 vote=TryBot-Result:1002:-1 \
	    msg="1002:1:1 of 3 TryBots failed" \
	    updated="2017-07-01 10:30:00.000000000" >g/2/changes.jsonl &&
	: >g/2/try.jsonl &&
	pollgerrit poll >out &&
	echo "vote,message go 101 1 go master NEW" >expect &&
	test_cmp expect out &&
	items >actual &&
	echo fail/go-101-1 >expect &&
	test_cmp expect actual
'

test_expect_success 'and reappears on a new patch set: a new item' '
	step 3 &&
	try_change 101 2 msg="1002:1:1 of 3 TryBots failed" \
	    msg="1000:2:Uploaded patch set 2." \
	    updated="2017-07-01 11:00:00.000000000" >g/3/changes.jsonl &&
	cp g/3/changes.jsonl g/3/try.jsonl &&
	pollgerrit poll >out &&
	cat >expect <<-EOF &&
	new-patchset,vote,message go 101 2 go master NEW
	try go 101 2 go master $(rev 101 2)
	EOF
	test_cmp expect out &&
	items >actual &&
	cat >expect <<-\EOF &&
	fail/go-101-1
	new/go-101-2
	EOF
	test_cmp expect actual
'

test_expect_success 'work items of several changes; a leftover in tmp/ is replaced' '
	step 4 &&
	cp g/3/changes.jsonl g/4/changes.jsonl &&
	try_change 102 3 updated="2017-07-01 11:10:00.000000000" \
	    >>g/4/changes.jsonl &&
	try_change 103 1 project=net updated="2017-07-01 11:20:00.000000000" \
	    >>g/4/changes.jsonl &&
	grep -v "\"_number\":103," g/4/changes.jsonl >g/4/try.jsonl &&
	echo "{half" >"$BUILDFARM_DIR/spool/try/tmp/go-102-3" &&
	pollgerrit poll >out &&
	cat >expect <<-EOF &&
	new-change go 102 3 go master NEW
	new-change go 103 1 net master NEW
	try go 102 3 go master $(rev 102 3)
	EOF
	test_cmp expect out &&
	items >actual &&
	cat >expect <<-\EOF &&
	fail/go-101-1
	new/go-101-2
	new/go-102-3
	EOF
	test_cmp expect actual &&
	grep "\"rev\":\"$(rev 102 3)\"" "$BUILDFARM_DIR/spool/try/new/go-102-3"
'

test_expect_success '-j prints the item with its name' '
	step 5 &&
	cp g/4/changes.jsonl g/5/changes.jsonl &&
	try_change 104 1 updated="2017-07-01 11:00:00.000000000" \
	    >g/5/try.jsonl &&
	pollgerrit poll -j >out &&
	cat >expect <<-EOF &&
	{"branch":"master","builder":"","change":104,"change_id":"I$(printf "change 104" | openssl dgst -sha1 -r | cut -d" " -f1)","event":"try","gerrit":"go","item":"go-104-1","kind":"try","patchset":1,"repo":"go","rev":"$(rev 104 1)","server":"$url","subject":"change 104"}
	EOF
	test_cmp expect out
'

test_done
