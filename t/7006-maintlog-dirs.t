#!/bin/sh
test_description='maintlog -d and -L: the state directory or a log directory'
. ./test-lib.sh

rec () {
	echo "{\"type\":\"$1\",\"n\":$2}"
}

test_expect_success '-L corpus and -L results are the farm logs; corpus is the default' '
	rec git 1 | maintlog -L corpus append >out &&
	rec result 2 | maintlog -L results append >>out &&
	rec git 3 | maintlog append >>out &&
	printf "1\n1\n2\n" >expect && test_cmp expect out &&
	test_path_is_file "$BUILDFARM_DIR/corpus/0000.jsonl" &&
	test_path_is_file "$BUILDFARM_DIR/results/0000.jsonl" &&
	maintlog -L results cat | grep -c "\"n\":2" >count &&
	echo 1 >expect && test_cmp expect count
'

test_expect_success '-d STATEDIR -L LOG: the log in that state directory' '
	mkdir state &&
	rec result 4 | maintlog -d state -L results append >out &&
	echo 1 >expect && test_cmp expect out &&
	test_path_is_file state/results/0000.jsonl &&
	test_path_is_missing state/corpus &&
	maintlog -d state -L results cat >out &&
	grep "\"n\":4," out
'

test_expect_success '-d STATEDIR alone: its corpus, once it has one' '
	rec git 5 | maintlog -d state -L corpus append >/dev/null &&
	rec git 6 | maintlog -d state append >out &&
	echo 2 >expect && test_cmp expect out &&
	test_path_is_missing state/0000.jsonl &&
	maintlog -d state cat >out &&
	test_line_count = 2 out
'

test_expect_success '-d LOGDIR alone: the log itself, new or existing, as before' '
	rec git 7 | maintlog -d newlog append >out &&
	test_path_is_file newlog/0000.jsonl &&
	mkdir empty &&
	rec git 8 | maintlog -d empty append >out &&
	test_path_is_file empty/0000.jsonl &&
	maintlog -d newlog cat >out &&
	test_line_count = 1 out
'

test_expect_success 'a log directory that holds a corpus/ directory is still the log' '
	rec git 9 | maintlog -d odd append >/dev/null &&
	mkdir odd/corpus &&
	test_expect_code 100 maintlog -d odd cat 2>err &&
	grep "foreign file .corpus." err
'

test_expect_success '-L with a log directory as -d, or an unknown -L: exit 100' '
	test_expect_code 100 maintlog -d newlog -L corpus cat 2>err &&
	grep "is a log directory, not a state directory" err &&
	test_expect_code 100 maintlog -L buildlogs cat 2>err &&
	grep "unknown log .buildlogs.: want corpus or results" err &&
	test_path_is_missing "$BUILDFARM_DIR/buildlogs"
'

test_done
