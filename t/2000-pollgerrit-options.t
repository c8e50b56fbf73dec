#!/bin/sh
test_description='pollgerrit: usage, options, configuration checks'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

test_expect_success '-h prints the synopsis on stdout and exits 0' '
	pollgerrit -h >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out >first &&
	echo "usage: pollgerrit [-hnv] [-d dir] poll [-j] [gerrit ...]" >expect &&
	test_cmp expect first &&
	test_line_count = 7 out
'

test_expect_success 'the synopsis is the man page SYNOPSIS' '
	test_usage_is_synopsis pollgerrit
'

test_expect_success 'no command, an unknown command or option: usage, 100' '
	test_expect_code 100 pollgerrit 2>err &&
	grep "^usage: pollgerrit" err &&
	test_expect_code 100 pollgerrit frobnicate 2>err &&
	grep "^usage: pollgerrit" err &&
	test_expect_code 100 pollgerrit -x poll 2>err &&
	grep "^usage: pollgerrit" err &&
	test_expect_code 100 pollgerrit poll -x 2>err &&
	grep "^usage: pollgerrit" err
'

test_expect_success 'a missing config is a permanent failure' '
	test_expect_code 100 pollgerrit poll 2>err &&
	grep "^pollgerrit: .*config.*" err
'

test_expect_success 'a config without [gerrit] sections is refused' '
	printf "[farm]\n\turl = https://farm.example\n" >"$BUILDFARM_DIR/config" &&
	test_expect_code 100 pollgerrit poll 2>err &&
	cat >expect <<-EOF &&
	pollgerrit: config '\''$BUILDFARM_DIR/config'\'': no [gerrit "NAME"] section
	EOF
	test_cmp expect err
'

test_expect_success 'every problem of the config is reported, then 100' '
	mkdir bad &&
	cat >bad/config <<-\EOF &&
	[gerrit "go"]
		url = ftp://x
		timeout = 0
		rate = fast
		overlap = -1
		pagesize = 0
		project = "bad project"
		since = yesterday
		maxbody = 1
		gitcookies = /nonexistent/cookies
	[gerrit ".bad"]
		url = https://user:pw@host/
	[gerrit "dup"]
		url = https://a.example/
		url = https://b.example
	[gerrit "dup2"]
		url = https://b.example/
	[gerrit "nourl"]
		project = go
	EOF
	test_expect_code 100 pollgerrit -d bad poll 2>err &&
	cat >expect <<-\EOF &&
	pollgerrit: config '\''bad/config'\'': gerrit "go": url '\''ftp://x'\'': want http:// or https://
	pollgerrit: config '\''bad/config'\'': gerrit "go": project '\''bad project'\'': not a project name
	pollgerrit: config '\''bad/config'\'': gerrit "go": timeout '\''0'\'': want a duration from 1s to 1h
	pollgerrit: config '\''bad/config'\'': gerrit "go": rate '\''fast'\'': want a whole number from 1 to 1000
	pollgerrit: config '\''bad/config'\'': gerrit "go": overlap '\''-1'\'': want a duration from 0s to 1d
	pollgerrit: config '\''bad/config'\'': gerrit "go": maxbody '\''1'\'': want a size from 4k to 1g
	pollgerrit: config '\''bad/config'\'': gerrit "go": pagesize '\''0'\'': want a whole number from 1 to 10000
	pollgerrit: config '\''bad/config'\'': gerrit "go": since '\''yesterday'\'': want YYYY-MM-DD or '\''YYYY-MM-DD HH:MM:SS'\'' (UTC)
	pollgerrit: config '\''bad/config'\'': gerrit "go": gitcookies '\''/nonexistent/cookies'\'': No such file or directory
	pollgerrit: config '\''bad/config'\'': gerrit ".bad": bad name: want 1 to 64 letters, digits, '\''.'\'', '\''_'\'' or '\''-'\'', not starting with '\''.'\'' or '\''-'\''
	pollgerrit: config '\''bad/config'\'': gerrit ".bad": url: credentials do not belong in the url
	pollgerrit: config '\''bad/config'\'': gerrit "dup": url given 2 times
	pollgerrit: config '\''bad/config'\'': gerrit "nourl": no url
	pollgerrit: config '\''bad/config'\'': gerrit "dup2": url '\''https://b.example'\'': same as gerrit "dup"
	pollgerrit: config '\''bad/config'\'': 14 problems
	EOF
	test_cmp expect err &&
	test_path_is_missing bad/corpus bad/state bad/spool
'

test_expect_success 'a config syntax error is a permanent failure' '
	mkdir syntax &&
	printf "[gerrit \"go\"\n\turl = x\n" >syntax/config &&
	test_expect_code 100 pollgerrit -d syntax poll 2>err &&
	test_line_count = 1 err
'

test_expect_success '-n checks a good config and does nothing' '
	url=https://go-review.example &&
	write_config </dev/null &&
	pollgerrit -n poll >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	pollgerrit -n watch -i 2 -I 30 go &&
	pollgerrit -n events &&
	pollgerrit -n query status:open &&
	pollgerrit -n review -l Code-Review=+1 101 current &&
	test_path_is_missing "$BUILDFARM_DIR/corpus" "$BUILDFARM_DIR/state" \
	    "$BUILDFARM_DIR/spool"
'

test_expect_success '-n checks urls in full: a bad port or host is refused' '
	for u in https://go-review.example:99999 https://go-review.example:0 \
	    "https://go-review.example:8x/r" "https://go^review.example"
	do
		url=$u && write_config </dev/null &&
		test_expect_code 100 pollgerrit -n poll 2>err &&
		grep "url .$u.: bad" err || return 1
	done &&
	url=https://go-review.example:8443/r && write_config </dev/null &&
	pollgerrit -n poll &&
	url=https://go-review.example && write_config </dev/null
'

test_expect_success 'a misspelt key or section is a warning, and the rest still runs' '
	write_config <<-EOF &&
		pagsize = 50
	[gerit "x"]
		url = https://x.example
	EOF
	pollgerrit -n poll >out 2>err &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	pollgerrit: config '"'"'$BUILDFARM_DIR/config'"'"': unknown key '"'"'pagsize'"'"' in [gerrit "go"] (ignored)
	pollgerrit: config '"'"'$BUILDFARM_DIR/config'"'"': unknown section [gerit] (ignored)
	EOF
	test_cmp expect err &&
	write_config </dev/null
'

test_expect_success '-d names the state directory, BUILDFARM_DIR is the default' '
	mkdir other &&
	cp "$BUILDFARM_DIR/config" other/config &&
	rm "$BUILDFARM_DIR/config" &&
	pollgerrit -n -d other poll &&
	test_expect_code 100 pollgerrit -n poll 2>/dev/null &&
	BUILDFARM_DIR=$PWD/other pollgerrit -n poll &&
	cp other/config "$BUILDFARM_DIR/config"
'

test_expect_success 'an unknown gerrit operand is refused' '
	test_expect_code 100 pollgerrit -n poll go nosuch 2>err &&
	cat >expect <<-\EOF &&
	pollgerrit: no [gerrit "nosuch"] in the config
	EOF
	test_cmp expect err &&
	test_expect_code 100 pollgerrit -n review -g nosuch -m hi 1 current \
	    2>err &&
	test_cmp expect err
'

test_expect_success 'events and review need a name when there are several' '
	cat >>"$BUILDFARM_DIR/config" <<-\EOF &&
	[gerrit "other"]
		url = https://other.example
	EOF
	test_expect_code 100 pollgerrit -n events 2>err &&
	cat >expect <<-\EOF &&
	pollgerrit: 2 [gerrit] sections in the config: name one
	EOF
	test_cmp expect err &&
	pollgerrit -n events other &&
	test_expect_code 100 pollgerrit -n events go other 2>err &&
	grep "^usage:" err &&
	test_expect_code 100 pollgerrit -n query is:open 2>err &&
	test_cmp expect err &&
	pollgerrit -n query -g go is:open
'

test_expect_success 'review checks its arguments' '
	test_expect_code 100 pollgerrit -n review -g go 101 2>err &&
	grep "^usage:" err &&
	test_expect_code 100 pollgerrit -n review -g go 101 abc 2>err &&
	cat >expect <<-\EOF &&
	pollgerrit: nothing to post: give -l, -m or -F
	EOF
	test_cmp expect err &&
	test_expect_code 100 pollgerrit -n review -g go -m a -F f 101 abc \
	    2>err &&
	grep "^usage:" err &&
	for bad in "Code-Review" "=1" "Code Review=1" "Code-Review=x" \
	    "Code-Review=+-1" "Code-Review=1001"
	do
		test_expect_code 100 pollgerrit -n review -g go -l "$bad" \
		    101 abc 2>err &&
		grep "bad label" err || return 1
	done &&
	test_expect_code 100 pollgerrit -n review -g go -m hi 101 xyz 2>err &&
	grep "bad revision" err &&
	test_expect_code 100 pollgerrit -n review -g go -F nosuchfile 101 \
	    current 2>err &&
	grep "nosuchfile" err &&
	pollgerrit -n review -g go -l Code-Review=-2 -l TryBot-Result=+1 \
	    -m ok 101 0123abcdef
'

test_expect_success 'watch checks its intervals' '
	test_expect_code 100 pollgerrit -n watch -i 0 2>err &&
	grep "bad interval" err &&
	test_expect_code 100 pollgerrit -n watch -I x 2>err &&
	grep "bad interval" err
'

test_done
