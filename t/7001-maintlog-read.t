#!/bin/sh
test_description='maintlog cat, grep and stat'
. ./test-lib.sh

notime () {
	sed 's/"time":"[^"]*"/"time":T/' "$@"
}

test_expect_success 'setup: a log of three types over several segments' '
	cat >in <<-\EOF &&
	{"type":"git","repo":"go","commit":"aaa","parents":["p1","p2"],"msg":"cmd/go: fix"}
	{"type":"git","repo":"net","commit":"bbb","parents":["p3"],"msg":"http2: more"}
	{"type":"gerrit","project":"go","change":1001,"labels":{"Run-TryBot":{"value":1}},"status":"NEW"}
	{"type":"gerrit","project":"go","change":1002,"labels":{"Run-TryBot":{"value":0}},"status":"MERGED"}
	{"type":"result","builder":"linux-amd64","repo":"go","rev":"aaa","ok":true,"elapsed_ms":1200}
	{"type":"result","builder":"linux-386","repo":"go","rev":"aaa","ok":false,"elapsed_ms":900,"note":null}
	{"type":"git","repo":"go","commit":"ccc","parents":["aaa"],"msg":"runtime: \"quoted\" / slash"}
	EOF
	sed "s/^{/{\"pad\":\"$(printf "%0200d" 0)\",/" in >padded &&
	maintlog -d log append -S 1k -b 2 <padded >seqs &&
	test_seq 1 7 >expect && test_cmp expect seqs &&
	test $(ls log | grep -c "\.[0-9a-f]\{56\}\.jsonl$") -ge 1
'

test_expect_success 'cat prints every record in order across segments' '
	maintlog -d log cat >out &&
	test_line_count = 7 out &&
	sed "s/.*\"seq\":\([0-9]*\).*/\1/" out >seqs &&
	test_seq 1 7 >expect && test_cmp expect seqs &&
	cat log/[0-9]*.jsonl >raw && test_cmp raw out
'

test_expect_success 'cat -s starts at a seq, in any segment' '
	for s in 1 3 5 7
	do
		maintlog -d log cat -s $s >out &&
		test_line_count = $((8 - s)) out &&
		head -n 1 out | grep "\"seq\":$s," || return 1
	done &&
	maintlog -d log cat -s 8 >out &&
	test_must_be_empty out &&
	test_expect_code 100 maintlog -d log cat -s 0 >out 2>err &&
	test_must_be_empty out &&
	grep "bad seq .0." err &&
	test_expect_code 100 maintlog -d log grep -s 0 type 2>err &&
	grep "bad seq .0." err
'

test_expect_success 'cat -t keeps only one type (not nested look-alikes)' '
	echo "{\"type\":\"other\",\"inner\":{\"type\":\"git\"}}" | maintlog -d log append >/dev/null &&
	maintlog -d log cat -t git >out &&
	test_line_count = 3 out &&
	test_grep ! "\"type\":\"other\"" out
'

test_expect_success 'grep field=value matches exact strings and numbers' '
	maintlog -d log grep repo=go type=git >out &&
	notime out | sed "s/.*\"commit\":\"\([a-z]*\)\".*/\1/" >commits &&
	printf "aaa\nccc\n" >expect && test_cmp expect commits &&
	maintlog -d log grep change=1002 >out &&
	test_line_count = 1 out && grep "\"change\":1002" out &&
	maintlog -d log grep ok=false >out && grep linux-386 out &&
	test_line_count = 1 out &&
	maintlog -d log grep note=null >out && test_line_count = 1 out
'

test_expect_success 'grep with a dotted path into nested objects' '
	maintlog -d log grep labels.Run-TryBot.value=1 >out &&
	test_line_count = 1 out && grep "\"change\":1001" out
'

test_expect_success 'grep: an array field matches when any element does; index paths' '
	maintlog -d log grep parents=p2 >out &&
	test_line_count = 1 out && grep "\"commit\":\"aaa\"" out &&
	maintlog -d log grep parents.0=p3 >out &&
	test_line_count = 1 out && grep "\"commit\":\"bbb\"" out
'

test_expect_success 'grep field={json} matches an object or array by its canonical form' '
	maintlog -d log grep "labels={ \"Run-TryBot\": {\"value\": 1} }" >out &&
	test_line_count = 1 out && grep "\"change\":1001" out &&
	maintlog -d log grep "parents=[\"p1\", \"p2\"]" >out &&
	test_line_count = 1 out && grep "\"commit\":\"aaa\"" out &&
	test_expect_code 1 maintlog -d log grep "parents=[\"p2\"]" >out
'

test_expect_success 'grep field~regex and field presence' '
	maintlog -d log grep "msg~^(cmd|runtime)/?[a-z]*:" >out &&
	test_line_count = 2 out &&
	maintlog -d log grep "builder~386$" >out && test_line_count = 1 out &&
	maintlog -d log grep labels >out && test_line_count = 2 out &&
	maintlog -d log grep note >out && test_line_count = 1 out
'

test_expect_success 'grep matches values with quotes and slashes exactly' '
	maintlog -d log grep "msg=runtime: \"quoted\" / slash" >out &&
	test_line_count = 1 out
'

test_expect_success 'grep exits 1 when nothing matched, -c counts' '
	test_expect_code 1 maintlog -d log grep repo=nope >out &&
	test_must_be_empty out &&
	maintlog -d log grep -c type=git >out &&
	echo 3 >expect && test_cmp expect out &&
	test_expect_code 1 maintlog -d log grep -c repo=nope >out &&
	echo 0 >expect && test_cmp expect out &&
	maintlog -d log grep -t result ok=true >out && test_line_count = 1 out &&
	maintlog -d log grep -s 4 -t git repo=go >out && test_line_count = 1 out
'

test_expect_success 'grep over many segments keeps the order of the log' '
	for i in $(test_seq 1 400)
	do
		echo "{\"type\":\"t$((i % 3))\",\"n\":$i}"
	done >many.in &&
	maintlog -d many append -S 2k -b 7 <many.in >/dev/null &&
	test $(ls many | grep -c "jsonl$") -gt 10 &&
	maintlog -d many cat | grep "\"type\":\"t1\"" >expect &&
	maintlog -d many grep type=t1 >out &&
	test_cmp expect out &&
	maintlog -d many grep -c type=t1 >out &&
	wc -l <expect | tr -d " " >expect.c &&
	test_cmp expect.c out &&
	maintlog -d many cat -s 200 | grep "\"type\":\"t1\"" >expect &&
	maintlog -d many grep -s 200 type=t1 >out &&
	test_cmp expect out
'

test_expect_success 'grep decides top-level members from the canonical text' '
	cat >kinds.in <<-\EOF &&
	{"type":"k","v":"5"}
	{"type":"k","v":5}
	{"type":"k","v":["5","6"]}
	{"type":"k","v":{"k":"5"}}
	{"type":"k","v":"a\"b\\"}
	{"type":"k","n":{"v":"5"},"w":"v"}
	{"type":"k","v":"\u00e9"}
	{"type":"k","v":"x\ny"}
	{"type":"k","v":true}
	{"type":"j","v":"5"}
	EOF
	maintlog -d kinds append -S 1k <kinds.in >/dev/null &&
	seqs () {
		maintlog -d kinds grep "$@" >out &&
		sed "s/.*\"seq\":\([0-9]*\).*/\1/" out | tr "\n" " "
	} &&
	test "$(seqs v=5)" = "1 2 3 10 " &&
	test "$(seqs -t k v=5)" = "1 2 3 " &&
	test "$(seqs type=k v=6)" = "3 " &&
	test "$(seqs "v=[ \"5\", \"6\" ]")" = "3 " &&
	test "$(seqs "v={ \"k\": \"5\" }")" = "4 " &&
	test "$(seqs "v=a\"b\\")" = "5 " &&
	test "$(seqs "v=$(printf "\303\251")")" = "7 " &&
	test "$(seqs "v=x
y")" = "8 " &&
	test "$(seqs v=true)" = "9 " &&
	test "$(seqs v type=k)" = "1 2 3 4 5 7 8 9 " &&
	test "$(seqs n.v=5)" = "6 " &&
	test "$(seqs "v~^[0-9]$")" = "1 2 3 10 " &&
	test_expect_code 1 maintlog -d kinds grep v=k &&
	test_expect_code 1 maintlog -d kinds grep "v=$(printf "\351")"
'

test_expect_success 'grep rejects bad expressions with 100' '
	test_expect_code 100 maintlog -d log grep "msg~(" 2>err &&
	grep "bad regular expression" err &&
	test_expect_code 100 maintlog -d log grep "=x" 2>err &&
	grep "no field name" err &&
	test_expect_code 100 maintlog -d log grep 2>err
'

test_expect_success 'stat shows segments and counts by type' '
	maintlog -d log stat >out &&
	grep "^segment 0000 sealed [0-9]* [0-9a-f]\{56\} 1-[0-9]*$" out &&
	tail -n 5 out >tail &&
	n=$(ls log | grep -c jsonl) &&
	cat >expect <<-EOF &&
	type gerrit 2
	type git 3
	type other 1
	type result 2
	total $n segments 8 records
	EOF
	test_cmp expect tail &&
	maintlog -d log stat -j >json &&
	grep "^{\"first\":1,\"last\":[0-9]*,\"records\":[0-9]*,\"segment\":0,\"sha224\":\"[0-9a-f]\{56\}\",\"size\":[0-9]*,\"state\":\"sealed\"}$" json &&
	tail -n 1 json >last &&
	echo "{\"records\":8,\"segments\":$n}" >expect && test_cmp expect last
'

test_expect_success 'a growing segment with a torn tail: readers stop at the last newline' '
	cp -r log torn &&
	g=$(ls torn | grep "^[0-9]*\.jsonl$") &&
	printf "{\"type\":\"git\",\"half" >>torn/$g &&
	maintlog -d torn cat >out &&
	maintlog -d log cat >expect &&
	test_cmp expect out &&
	maintlog -d torn grep -c type=git >out && echo 3 >expect && test_cmp expect out
'

test_expect_success 'cat gives the same bytes to a file, a pipe and a file opened to append' '
	maintlog -d log cat >expect &&
	maintlog -d torn cat >file &&
	maintlog -d torn cat | cat >piped &&
	echo first >appended &&
	maintlog -d torn cat >>appended &&
	maintlog -d torn cat -s 2 >from2 &&
	test_cmp expect file &&
	test_cmp expect piped &&
	{ echo first && cat expect; } >expect.app &&
	test_cmp expect.app appended &&
	sed 1d expect >expect.2 &&
	test_cmp expect.2 from2
'

test_expect_success 'reading a missing log directory is a permanent error' '
	test_expect_code 100 maintlog -d nonexistent cat 2>err &&
	grep "open log directory .nonexistent." err
'

test_done
