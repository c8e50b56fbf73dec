#!/bin/sh
test_description='retrybuilds -redo-flaky: the built-in patterns and DIR/flaky'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-retry.sh"

# the phrases of Go's retrybuilds (isFlaky), each in a log of its own
cat >phrases <<-\EOF
No space left on device
fatal error: error in backend: IO failure on output stream
Boffset: unknown state 0
Bseek: unknown state 0
error exporting repository: exit status 128
remote error: User Is Over Quota
fatal: remote did not send all necessary objects
Failed to schedule "linux-amd64" test: no machine
fatal: destination path 'go' already exists and is not an empty directory.
lookup _xmpp-server._tcp.google.com. on 8.8.8.8:53: dial udp 8.8.8.8:53: i/o timeout
lookup _xmpp-server._tcp.google.com on 10.0.0.1:53: no such host
lookup gmail.com. on 8.8.8.8:53: dial udp 8.8.8.8:53: i/o timeout
lookup gmail.com on 8.8.8.8:53: server misbehaving
lookup www.mit.edu on 10.0.0.1:53: no such host
undefined: runtime.SetMutexProfileFraction
make.bat: The parameter is incorrect.
EOF

test_expect_success 'setup: a flaky failure per phrase, and real failures' '
	i=10 &&
	while read -r phrase
	do
		result flaky $(rev $i) false \
		    "$(printf "builder flaky\n+ make\n%s\nexit 1\n" "$phrase")" ||
		return 1
		i=$((i + 1))
	done <phrases &&
	result real $(rev 1) false "$(printf "+ make\nFAIL: TestSpaceLeft\n")" &&
	result real $(rev 2) false \
	    "$(printf "+ make\nlookup gmailXcom on 8.8.8.8:53\n")" &&
	result real $(rev 3) false \
	    "$(printf "fatal: destination path .x. already exists\n")" &&
	result real $(rev 4) true "No space left on device" &&
	result real $(rev 5) false "No space left on device" try
'

test_expect_success 'built in: every phrase of the original, and nothing else' '
	test_path_is_missing "$BUILDFARM_DIR/flaky" &&
	retrybuilds -n -redo-flaky >out &&
	test_line_count = $(wc -l <phrases) out &&
	! grep " real " out &&
	cut -d" " -f3 out | sort -u >builders &&
	echo flaky >want &&
	test_cmp want builders &&
	sed -n 1p out >first &&
	echo "go $(rev 10) flaky flaky: No space left on device" >want &&
	test_cmp want first
'

test_expect_success 'scripts/flaky.example is the built-in list' '
	cp "$BUILDFARM_TOP/scripts/flaky.example" "$BUILDFARM_DIR/flaky" &&
	retrybuilds -n -redo-flaky >out2 &&
	test_cmp out out2 &&
	grep -v "^#" "$BUILDFARM_TOP/scripts/flaky.example" | grep . >pats &&
	test_line_count = $(wc -l <phrases) pats
'

test_expect_success 'DIR/flaky replaces the built-in patterns' '
	cat >"$BUILDFARM_DIR/flaky" <<-\EOF &&
	# comments and empty lines are skipped

	FAIL: Test[A-Z][a-z]+Left
	^\+ make
	EOF
	retrybuilds -n -redo-flaky >out &&
	cat >want <<-EOF &&
	go $(rev 1) real flaky: FAIL: Test[A-Z][a-z]+Left
	go $(rev 2) real flaky: ^\+ make
	EOF
	test_cmp want out
'

test_expect_success 'patterns match the whole log: ^ is its start' '
	printf "^builder flaky\n" >"$BUILDFARM_DIR/flaky" &&
	retrybuilds -n -redo-flaky >out &&
	test_line_count = $(wc -l <phrases) out &&
	printf "^No space\n" >"$BUILDFARM_DIR/flaky" &&
	test_expect_code 1 retrybuilds -n -redo-flaky >out &&
	printf "make.No space\n" >"$BUILDFARM_DIR/flaky" &&
	retrybuilds -n -redo-flaky >out &&
	test_line_count = 1 out
'

test_expect_success 'a bad pattern: exit 100 naming its line, nothing done' '
	printf "# one\nok\n(unclosed\n" >"$BUILDFARM_DIR/flaky" &&
	test_expect_code 100 retrybuilds -redo-flaky >out 2>err &&
	test_must_be_empty out &&
	test_grep "^retrybuilds: .*/flaky. line 3: bad pattern .(unclosed.: " err &&
	test $(nretracts) = 0
'

test_expect_success 'an empty DIR/flaky matches nothing' '
	: >"$BUILDFARM_DIR/flaky" &&
	test_expect_code 1 retrybuilds -redo-flaky >out &&
	test_must_be_empty out
'

test_expect_success 'retract: the reason names the pattern, -builder narrows' '
	rm "$BUILDFARM_DIR/flaky" &&
	test_expect_code 1 retrybuilds -redo-flaky -builder real >out &&
	test_must_be_empty out &&
	retrybuilds -redo-flaky -hash $(rev 11) >out &&
	echo "go $(rev 11) flaky flaky: fatal error: error in backend: IO failure on output stream" >want &&
	test_cmp want out &&
	retracts >got &&
	test_cmp want got &&
	retrybuilds -redo-flaky >out &&
	test_line_count = $(($(wc -l <phrases) - 1)) out &&
	test_expect_code 1 retrybuilds -redo-flaky >out &&
	test $(nretracts) = $(wc -l <phrases)
'

test_done
