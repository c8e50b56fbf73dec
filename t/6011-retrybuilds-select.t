#!/bin/sh
test_description='retrybuilds: which failures -builder, -hash, -branch and -loghash select'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-retry.sh"

# git REPO REV BRANCH: a git record in the corpus log
git_rec () {
	printf '{"author":{"email":"a@example.org","name":"A","time":"2017-07-30T09:09:47-07:00"},"branch":"%s","commit":"%s","committer":{"email":"a@example.org","name":"A","time":"2017-07-30T16:09:47Z"},"msg":"m\\n","parents":[],"repo":"%s","tree":"%s"}\n' \
	    "$3" "$2" "$1" "$(rev 9)" |
	    maintlog -L corpus append -t git >/dev/null
}

A1=$(rev 1a1) A2=$(rev 1a2) B=$(rev 2b) C=$(rev 3c) D=$(rev 4d)

test_expect_success 'setup: results of four commits on three builders' '
	result linux $A1 false &&
	result linux $A2 false "log two" &&
	result linux $B true &&
	result arm $B false "arm log" &&
	result arm $C false "" post net &&
	result linux $C false "try log" try &&
	result linux $D false "first failure" &&
	result linux $D true &&
	result arm $D false "manual" manual &&
	git_rec go $A1 master &&
	git_rec go $A2 master &&
	git_rec go $B release &&
	git_rec net $C master &&
	git_rec go $D master &&
	cp -R "$BUILDFARM_DIR/results" results.before
'

test_expect_success '-builder: every failure of the builder, in log order' '
	retrybuilds -n -builder linux >out &&
	cat >want <<-EOF &&
	go $A1 linux retrybuilds -builder linux
	go $A2 linux retrybuilds -builder linux
	EOF
	test_cmp want out &&
	retrybuilds -n -builder arm >out &&
	cat >want <<-EOF &&
	go $B arm retrybuilds -builder arm
	net $C arm retrybuilds -builder arm
	go $D arm retrybuilds -builder arm
	EOF
	test_cmp want out
'

test_expect_success 'a success after a failure, and try results, do not count' '
	test_expect_code 1 retrybuilds -n -hash $D -builder linux >out &&
	test_must_be_empty out &&
	test_expect_code 1 retrybuilds -n -hash $C -builder linux >out &&
	test_must_be_empty out
'

test_expect_success '-n changes nothing' '
	diff -r results.before "$BUILDFARM_DIR/results"
'

test_expect_success '-hash: a full hash, or a unique prefix, every builder' '
	retrybuilds -n -hash $B >out &&
	echo "go $B arm retrybuilds -hash $B" >want &&
	test_cmp want out &&
	retrybuilds -n -hash 2B >out &&
	echo "go $B arm retrybuilds -hash 2b" >want &&
	test_cmp want out &&
	retrybuilds -n -hash 1a2 >out &&
	echo "go $A2 linux retrybuilds -hash 1a2" >want &&
	test_cmp want out
'

test_expect_success '-hash: an ambiguous prefix exits 100 with the candidates' '
	test_expect_code 100 retrybuilds -hash 1a >out 2>err &&
	test_must_be_empty out &&
	cat >want <<-EOF &&
	retrybuilds: ambiguous -hash '"'1a'"': 2 failed commits start with it
	retrybuilds: candidate go $A1
	retrybuilds: candidate go $A2
	EOF
	test_cmp want err &&
	diff -r results.before "$BUILDFARM_DIR/results"
'

test_expect_success '-hash: the prefix is unique among the failures selected' '
	test_expect_code 1 retrybuilds -n -hash 1a -builder arm >out &&
	test_must_be_empty out &&
	test_expect_code 1 retrybuilds -n -hash 5 >out &&
	test_must_be_empty out
'

test_expect_success '-branch: commits first seen on the branch' '
	retrybuilds -n -branch master -builder arm >out &&
	cat >want <<-EOF &&
	net $C arm retrybuilds -builder arm -branch master
	go $D arm retrybuilds -builder arm -branch master
	EOF
	test_cmp want out &&
	retrybuilds -n -branch release -hash 2b >out &&
	echo "go $B arm retrybuilds -hash 2b -branch release" >want &&
	test_cmp want out &&
	test_expect_code 1 retrybuilds -n -branch nosuch -builder arm >out &&
	test_must_be_empty out
'

test_expect_success '-loghash: a prefix of the failed log hash' '
	h=$(printf "%s\n" "log two" | sha256sum | cut -c1-12) &&
	retrybuilds -n -loghash $h >out &&
	echo "go $A2 linux retrybuilds -loghash $h" >want &&
	test_cmp want out
'

test_expect_success 'retract: one record per failure, printed once appended' '
	retrybuilds -builder linux -reason "bad machine" >out &&
	cat >want <<-EOF &&
	go $A1 linux bad machine
	go $A2 linux bad machine
	EOF
	test_cmp want out &&
	retracts >got &&
	test_cmp want got &&
	maintlog -L results grep -t retract rev=$A2 >rec &&
	h=$(printf "%s\n" "log two" | sha256sum | cut -c1-64) &&
	test_grep "\"log\":\"$h\"" rec &&
	test_grep "\"builder\":\"linux\"" rec &&
	test_grep "\"repo\":\"go\"" rec
'

test_expect_success 'a retracted failure is not retracted again' '
	test_expect_code 1 retrybuilds -builder linux >out &&
	test_must_be_empty out &&
	test $(nretracts) = 2
'

test_expect_success 'a later failure of a retracted triple can be retracted' '
	result linux $A1 false "failed again" &&
	retrybuilds -builder linux >out &&
	echo "go $A1 linux retrybuilds -builder linux" >want &&
	test_cmp want out &&
	test $(nretracts) = 3
'

test_expect_success 'runs at once retract each failure once' '
	for i in 1 2 3 4 5 6 7 8 9
	do
		result many $(rev 7$i) false "many $i" || return 1
	done &&
	for i in 1 2 3 4
	do
		{ retrybuilds -builder many >par.$i; echo $? >par.$i.rc; } &
	done &&
	wait &&
	cat par.1 par.2 par.3 par.4 | sort >all &&
	test_line_count = 9 all &&
	sort -u all >uniq &&
	test_cmp all uniq &&
	retracts | grep " many " >recs &&
	test_line_count = 9 recs
'

test_done
