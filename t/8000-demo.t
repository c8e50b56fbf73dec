#!/bin/sh
test_description='scripts/demo: a whole local farm builds this checkout, and stops'
. ./test-lib.sh

DEMO=$BUILDFARM_TOP/scripts/demo
# the builds of make check: a part of the tree that builds quickly,
# not all of it (make -j2 of the whole tree, six times over, is the
# interactive demo's)
STEP='make -j2 cmd/maintlog/maintlog'
DEMO_TIMEOUT=1200
export DEMO_TIMEOUT

# left DIR: processes whose command line names the scratch directory DIR
left () {
	ps -eo pid=,args= | grep -F -- "$TRASH_DIRECTORY/$1/" |
	    grep -v "grep -F" >"$1.left"
	test_must_be_empty "$1.left"
}

# built DIR: the commits the demo in DIR built, what its first sync
# recorded and the new one
built () {
	cut -d" " -f3 "$1/commits" &&
	git -C "$1/upstream" rev-parse main
}

# grid_rows OUT: the rows of the grid the demo printed, without the header
grid_rows () {
	awk '/^commit  *subject  *local-make  *reverse-make$/ { g = 1; next }
	    g && !/^[0-9a-f]+ / { g = 0 } g' "$1"
}

test_expect_success 'usage: -h, bad options, a directory not its own' '
	"$DEMO" -h >out &&
	test_grep "^usage: demo \[-h\] \[-once\] \[-r command\] \[dir\]$" out &&
	test_expect_code 100 "$DEMO" -x 2>err &&
	test_grep "^usage: demo" err &&
	test_expect_code 100 "$DEMO" a b 2>err &&
	test_expect_code 100 "$DEMO" -r 2>err &&
	mkdir full && : >full/mine &&
	test_expect_code 100 "$DEMO" -once full 2>err &&
	test_grep "not empty and was not made by demo" err &&
	test_path_is_file full/mine
'

test_expect_success 'demo -once: this checkout built, then a new commit' '
	git -C "$BUILDFARM_TOP" rev-parse -q --verify HEAD >/dev/null &&
	"$DEMO" -once -r "$STEP" demo >out 2>err 7>&- &&
	tail -n 1 out >last &&
	echo "scratch: $TRASH_DIRECTORY/demo" >expect &&
	test_cmp expect last
'

test_expect_success 'every expected build recorded, ok, in the grid' '
	grid_rows out >rows &&
	test_line_count = 6 rows &&
	head -n 1 rows >first &&
	test_grep "^[0-9a-f]\{10\} demo: a new commit, built within seconds  *ok  *ok$" first &&
	sed -n 2p rows >second &&
	test_grep " ok  *ok$" second &&
	sed 1,2d rows >older &&
	test_grep ! -v " ok  *-$" older &&
	built demo | cut -c1-10 | sort >want &&
	cut -d" " -f1 rows | sort >got &&
	test_cmp want got &&
	cat demo/farm/results/*.jsonl | grep -c "\"type\":\"result\"" >n &&
	echo 8 >eight && test_cmp eight n
'

test_expect_success 'the events: mirrored, started on both machines, done' '
	test_grep "mirror: new commit buildfarm main $(git -C demo/upstream rev-parse main)" out &&
	test_grep "build: local-make [0-9a-f]* started on local-1" out &&
	test_grep "build: local-make [0-9a-f]* started on local-2" out &&
	test_grep "build: reverse-make [0-9a-f]* started on reverse-demo" out &&
	test_grep "dashboard     http://127.0.0.1:[0-9]*/ " out &&
	test_grep "status page   http://127.0.0.1:[0-9]*/status$" out &&
	test $(grep -c "build: local-make [0-9a-f]* ok in .* s, log http" out) = 6 &&
	test $(grep -c "build: reverse-make [0-9a-f]* ok in .* s, log http" out) = 2
'

test_expect_success 'the build logs hold the step and its make' '
	for f in demo/farm/buildlogs/*/*.gz
	do
		gzip -dc "$f" || return 1
	done >logs &&
	test $(grep -c "^+ $STEP$" logs) = 8 &&
	test $(grep -c "(step 1: ok, " logs) = 8
'

test_expect_success 'every process it started is gone, every machine too' '
	left demo &&
	test_path_is_missing demo/local/local-1 demo/local/local-2
'

test_expect_success 'the dashboard page holds the commits' '
	test_grep "dashboard: drawn, with the new commit" out &&
	test_path_is_file demo/farm/www/index.html &&
	for c in $(built demo)
	do
		grep "${c%${c#??????????}}" demo/farm/www/index.html || return 1
	done
'

test_expect_success 'a gomote instance borrowed, used and given back' '
	test_grep "gomote: created user-demo-local-make-0$" out &&
	test_grep "^    Linux x86_64$" out &&
	test_grep "gomote: destroyed user-demo-local-make-0$" out &&
	test_grep "gomote -user demo create local-make$" out
'

test_expect_success 'without a .git: a generated repository; TERM stops all' '
	mkdir -p fake/scripts fake/env &&
	cp "$DEMO" fake/scripts/ &&
	cp -R "$BUILDFARM_TOP/env/local" fake/env/ &&
	for t in gitmirror schedule maintlog buildlet dashboard gomote
	do
		mkdir -p fake/cmd/$t &&
		ln -s "$BUILDFARM_TOP/cmd/$t/$t" fake/cmd/$t/$t || return 1
	done &&
	GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY fake/scripts/demo -r make \
	    gen >gen.out 2>gen.err 7>&- &
	pid=$! &&
	test_when_finished "kill $pid 2>/dev/null; true" &&
	test_wait_until "grep \"runs on\" gen.out" 600 &&
	kill -TERM $pid &&
	{ wait $pid; echo $? >rc; } &&
	echo 111 >expect && test_cmp expect rc &&
	test_grep "no .git here; a small generated repository" gen.out &&
	grid_rows gen.out >rows &&
	test_line_count = 6 rows &&
	test_grep "hello: version 5  *ok  *ok$" rows &&
	test "$(tail -n 1 gen.out)" = "scratch: $TRASH_DIRECTORY/gen" &&
	left gen
'

test_expect_success 'a second run in the same directory starts afresh' '
	test_path_is_file gen/.buildfarm-demo &&
	: >gen/farm/leftover &&
	GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY fake/scripts/demo -once \
	    -r make gen >gen2.out 2>gen2.err 7>&- &&
	test_path_is_missing gen/farm/leftover &&
	grid_rows gen2.out >rows &&
	test_line_count = 6 rows &&
	left gen
'

test_done
