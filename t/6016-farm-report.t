#!/bin/sh
test_description='scripts/farm-report: pass rate and median build time per builder'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-retry.sh"

report () {
	"$BUILDFARM_TOP/scripts/farm-report" "$@"
}

# old BUILDER OK ELAPSED: a result of 2017 in the growing segment, as if
# appended then (maintlog append stamps the time of the append)
old_seq=0
old () {
	old_seq=$((old_seq + 1)) &&
	mkdir -p "$BUILDFARM_DIR/results" &&
	: >>"$BUILDFARM_DIR/results/lock" &&
	printf '{"attempt":1,"builder":"%s","buildlet":"h-1","elapsed_ms":%s,"item":"x","kind":"post","log":"%s","ok":%s,"repo":"go","rev":"%s","seq":%s,"time":"2017-07-30T16:10:02.118406221Z","type":"result"}\n' \
	    "$1" "$3" "$(printf %064d 0)" "$2" "$(rev 1)" $old_seq \
	    >>"$BUILDFARM_DIR/results/0000.jsonl"
}

test_expect_success 'usage: -h prints it, bad usage exits 100' '
	report -h >out &&
	echo "usage: farm-report [-d dir] [-h]" >want &&
	test_cmp want out &&
	test_expect_code 100 report -x 2>err &&
	test_grep "^usage: farm-report" err &&
	test_expect_code 100 report extra 2>err &&
	test_grep "^usage: farm-report" err
'

test_expect_success 'no results log: exit 100, maintlog says why' '
	test_expect_code 100 report >out 2>err &&
	test_must_be_empty out &&
	test_grep "^maintlog: " err
'

test_expect_success 'results older than a day only: nothing, exit 1' '
	old linux true 1000 &&
	old linux false 90000 &&
	old gone true 5000 &&
	maintlog -L results verify &&
	test_expect_code 1 report >out &&
	test_must_be_empty out
'

test_expect_success 'the last day: a line per builder, by name' '
	result linux $(rev 2) true "" post go 1000 &&
	result linux $(rev 3) true "" manual go 3000 &&
	result linux $(rev 4) false "" post go 2000 &&
	result arm $(rev 2) true "" post go 1500 &&
	result arm $(rev 3) false "" post go 2600 &&
	result arm $(rev 5) false "" try go 9000 &&
	result zz-slow $(rev 2) true "" post net 61300 &&
	result trybot-only $(rev 2) false "" try &&
	retrybuilds -builder arm >/dev/null &&
	report >out &&
	cat >want <<-\EOF &&
	builder           results  passed  pass   median
	arm                     2       1   50%     2.0s
	linux                   3       2   67%     2.0s
	zz-slow                 1       1  100%    61.3s
	EOF
	test_cmp want out
'

test_expect_success '-d names the state directory' '
	mv "$BUILDFARM_DIR" moved &&
	mkdir "$BUILDFARM_DIR" &&
	report -d moved >out2 &&
	test_cmp want out2 &&
	test_expect_code 100 report >out 2>err &&
	test_must_be_empty out
'

test_done
