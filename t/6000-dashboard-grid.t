#!/bin/sh
test_description='dashboard: the grid, its pages and files, from logs'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-dashboard.sh"

test_expect_success 'usage' '
	test_expect_code 100 dashboard -x 2>err &&
	test_grep "^usage: dashboard" err &&
	test_expect_code 100 dashboard extra 2>err &&
	test_usage_is_synopsis dashboard
'

test_expect_success 'no config: exit 100' '
	test_expect_code 100 dashboard 2>err &&
	test_grep "config" err
'

test_expect_success 'setup: 65 commits on master, 2 on a release branch' '
	dash_config &&
	add_commits master 1 65 &&
	add_commits release-branch.go1.8 100 101 "release: fix" &&
	F=$(store_log "FAIL: TestX <b>bold</b>") &&
	for b in linux-amd64 linux-386 openbsd-amd64 linux-amd64-race
	do
		add_record result $b 65 || return 1
	done &&
	add_record result linux-386 64 false "$F" &&
	add_record result linux-amd64 64 &&
	add_record result linux-amd64 1 &&
	add_record result linux-amd64 100 false "$F"
'

test_expect_success 'a first run renders every page' '
	dashboard &&
	test_path_is_file "$WWW/index.html" &&
	test_path_is_file "$WWW/style.css" &&
	test_path_is_file "$WWW/grid/go/master/0.html" &&
	test_path_is_file "$WWW/grid/go/master/2.html" &&
	test_path_is_missing "$WWW/grid/go/master/3.html" &&
	test_path_is_file "$WWW/grid/go/release-branch.go1.8/0.html" &&
	test_path_is_file "$WWW/commit/go/00/$(hashof 65).html" &&
	test_path_is_file "$WWW/builder/linux-386.html" &&
	test_path_is_file "$WWW/builder/linux-386.svg" &&
	test_path_is_file "$WWW/log/$F" &&
	test_cmp "$WWW/grid/go/master/0.html" "$WWW/grid/go/master/0.html"
'

test_expect_success 'the cells: builders by OS priority, unsupported marked' '
	cells "$WWW/grid/go/master/0.html" >actual &&
	head -n 3 actual >top &&
	cat >expect <<-EOF &&
	0000000 ok ok ok ok!
	0000000 fail ok - -!
	0000000 - - - -!
	EOF
	test_cmp expect top &&
	test_line_count = 30 actual &&
	grep -o "title=\"[a-z0-9-]*\"><a" "$WWW/index.html" >cols &&
	cat >expect <<-EOF &&
	title="linux-386"><a
	title="linux-amd64"><a
	title="linux-amd64-race"><a
	title="openbsd-amd64"><a
	EOF
	test_cmp expect cols &&
	test_grep "<th class=\"os\" colspan=\"2\">linux</th><th class=\"os\" colspan=\"1\">race</th><th class=\"os unsupported\" colspan=\"1\">openbsd</th>" "$WWW/index.html"
'

test_expect_success 'links: commit page, failure log, builder page' '
	H=$(hashof 64) &&
	test_grep "<a href=\"../../../commit/go/00/$H.html\">0000000</a>" \
	    "$WWW/grid/go/master/0.html" &&
	test_grep "<td class=\"result fail\"><a href=\"../../../log/$F\">fail</a>" \
	    "$WWW/grid/go/master/0.html" &&
	test_grep "<a href=\"commit/go/00/$H.html\">" "$WWW/index.html" &&
	test_grep "href=\"log/$F\"" "$WWW/index.html" &&
	test_grep "FAIL: TestX <b>bold</b>" "$WWW/log/$F" &&
	test_grep "<a href=\"../../../builder/linux-386.html\">386</a>" \
	    "$WWW/grid/go/master/0.html"
'

test_expect_success 'paging: newer, older, latest' '
	test_grep "href=\"../../../grid/go/master/1.html\">older" \
	    "$WWW/grid/go/master/0.html" &&
	test_grep ! ">newer<" "$WWW/grid/go/master/0.html" &&
	test_grep "href=\"../../../grid/go/master/0.html\">newer" \
	    "$WWW/grid/go/master/1.html" &&
	test_grep "href=\"../../../grid/go/master/2.html\">older" \
	    "$WWW/grid/go/master/1.html" &&
	test_grep "href=\"../../../grid/go/master/0.html\">latest" \
	    "$WWW/grid/go/master/2.html" &&
	test_grep ! ">older<" "$WWW/grid/go/master/2.html" &&
	cells "$WWW/grid/go/master/2.html" >last &&
	test_line_count = 5 last &&
	tail -n 1 last >first &&
	echo "0000000 - ok - -!" >expect &&
	test_cmp expect first
'

test_expect_success 'branches: a page each, and the selector' '
	cells "$WWW/grid/go/release-branch.go1.8/0.html" >actual &&
	cat >expect <<-EOF &&
	0000000 - - - -!
	0000000 - fail - -!
	EOF
	test_cmp expect actual &&
	test_grep "release: fix 101" "$WWW/grid/go/release-branch.go1.8/0.html" &&
	test_grep ! "pkg: change" "$WWW/grid/go/release-branch.go1.8/0.html" &&
	test_grep "<li><a href=\"../../../grid/go/release-branch.go1.8/0.html\">release-branch.go1.8</a></li>" \
	    "$WWW/grid/go/master/0.html"
'

test_expect_success 'index.json and failures.txt' '
	perl -MJSON::PP -e "
		local \$/; my \$j = decode_json(<STDIN>);
		print join(\",\", @{\$j->{builders}}), \"\\n\";
		for my \$r (@{\$j->{revisions}}[0,1]) {
			print \"\$r->{revision} \$r->{branch} @{\$r->{results}}\\n\";
		}
		print scalar(@{\$j->{revisions}}), \"\\n\";
	" <"$WWW/index.json" >actual &&
	cat >expect <<-EOF &&
	linux-amd64,linux-386,openbsd-amd64,linux-amd64-race
	$(hashof 65) master ok ok ok ok
	$(hashof 64) master ok http://farm.example/log/$F  
	32
	EOF
	test_cmp expect actual &&
	cat >expect <<-EOF &&
	$(hashof 64) linux-386 http://farm.example/log/$F
	$(hashof 100) linux-amd64 http://farm.example/log/$F
	EOF
	test_cmp expect "$WWW/failures.txt"
'

test_expect_success 'nothing new: exit 1, nothing written' '
	ls -li --time-style=full-iso "$WWW/grid/go/master" >before &&
	test_expect_code 1 dashboard &&
	echo "{\"type\":\"gerrit\",\"change\":1}" |
	maintlog -L corpus append >/dev/null &&
	test_expect_code 1 dashboard &&
	ls -li --time-style=full-iso "$WWW/grid/go/master" >after &&
	test_cmp before after
'

test_expect_success 'a new result re-renders its page, not the others' '
	add_record result linux-386 1 &&
	dashboard &&
	ls -li --time-style=full-iso "$WWW/grid/go/master" >after &&
	grep " 0.html\$" before >b0 && grep " 0.html\$" after >a0 &&
	test_cmp b0 a0 &&
	grep " 2.html\$" before >b2 && grep " 2.html\$" after >a2 &&
	! test_cmp b2 a2 2>/dev/null &&
	cells "$WWW/grid/go/master/2.html" | tail -n 1 >first &&
	echo "0000000 ok ok - -!" >expect &&
	test_cmp expect first
'

test_expect_success 'a retract empties the cell; an attempt shows on the commit page' '
	add_record retract linux-386 64 &&
	add_record attempt linux-386 64 &&
	dashboard &&
	cells "$WWW/index.html" | sed -n 2p >actual &&
	echo "0000000 - ok - -!" >expect &&
	test_cmp expect actual &&
	test_grep "1: linux-386-9: buildlet &lt;lost&gt;" \
	    "$WWW/commit/go/00/$(hashof 64).html" &&
	test_grep "1 retracted" "$WWW/commit/go/00/$(hashof 64).html" &&
	test_grep ! linux-386 "$WWW/failures.txt"
'

test_expect_success 'a running build: its cell links to the live log' '
	mkdir -p "$BUILDFARM_DIR/spool/work/tmp" "$BUILDFARM_DIR/spool/work/new" \
	    "$BUILDFARM_DIR/spool/work/cur" "$BUILDFARM_DIR/spool/work/done" \
	    "$BUILDFARM_DIR/spool/work/fail" \
	    "$BUILDFARM_DIR/state/schedule/live" &&
	I=1501000000.000001P1Q1.host &&
	printf "{\"builder\":\"linux-386\",\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    "$(hashof 64)" >"$BUILDFARM_DIR/spool/work/cur/$I" &&
	: >"$BUILDFARM_DIR/state/schedule/live/$I.log" &&
	dashboard &&
	cells "$WWW/index.html" | sed -n 2p >actual &&
	echo "0000000 building ok - -!" >expect &&
	test_cmp expect actual &&
	test_grep "<a href=\"http://farm.example/log/$I\" title=\"building\">" \
	    "$WWW/index.html" &&
	rm "$BUILDFARM_DIR/state/schedule/live/$I.log" &&
	dashboard &&
	cells "$WWW/index.html" | sed -n 2p >actual &&
	echo "0000000 - ok - -!" >expect &&
	test_cmp expect actual
'

test_expect_success 'builder page: results, pass rate, SVG plot' '
	test_grep "linux-386" "$WWW/builder/linux-386.html" &&
	test_grep "<img src=\"linux-386.svg\"" "$WWW/builder/linux-386.html" &&
	test_grep "2 of the last 2 builds passed (100%)" \
	    "$WWW/builder/linux-386.html" &&
	test_grep "^<svg xmlns=\"http://www.w3.org/2000/svg\"" \
	    "$WWW/builder/linux-386.svg" &&
	test_grep "<polyline" "$WWW/builder/linux-386.svg"
'

test_expect_success 'a new commit moves every page of its branch' '
	add_commits master 66 66 &&
	dashboard &&
	cells "$WWW/grid/go/master/2.html" >last &&
	test_line_count = 6 last &&
	test_path_is_file "$WWW/commit/go/00/$(hashof 66).html"
'

test_expect_success 'a builder named with markup and a slash' '
	add_record result "linux-amd64-<b>/x" 66 false &&
	dashboard &&
	test_path_is_file "$WWW/builder/linux-amd64-_3Cb_3E_2Fx.html" &&
	test_grep "title=\"linux-amd64-&lt;b&gt;/x\"><a href=\"../../../builder/linux-amd64-_3Cb_3E_2Fx.html\">x64</a>" \
	    "$WWW/grid/go/master/0.html" &&
	test_grep "<h1>linux-amd64-&lt;b&gt;/x</h1>" \
	    "$WWW/builder/linux-amd64-_3Cb_3E_2Fx.html" &&
	test_grep "^$(hashof 66) linux-amd64-<b>/x " "$WWW/failures.txt"
'

test_expect_success 'a repository without commits: an index all the same' '
	mkdir empty &&
	printf "[repo \"x\"]\n\tupstream = https://example.org/x\n" \
	    >empty/config &&
	dashboard -d empty &&
	test_grep "No commits yet" empty/www/index.html &&
	test_expect_code 1 dashboard -d empty
'

test_expect_success 'a results log of many segments: the same grid' '
	mkdir -p many &&
	cp "$BUILDFARM_DIR/config" many/ &&
	cp -R "$BUILDFARM_DIR/corpus" "$BUILDFARM_DIR/buildlogs" many/ &&
	maintlog -L results cat |
	maintlog -d many -L results append -S 1024 >/dev/null &&
	test $(ls many/results/*.jsonl | wc -l) -ge 4 &&
	dashboard -d many &&
	diff -r "$WWW/grid" many/www/grid &&
	test_cmp "$WWW/failures.txt" many/www/failures.txt &&
	test_cmp "$WWW/index.json" many/www/index.json
'

test_expect_success '-o and [dashboard] dir' '
	dashboard -o elsewhere &&
	test_path_is_file elsewhere/index.html &&
	printf "[dashboard]\n\tdir = site\n" >>"$BUILDFARM_DIR/config" &&
	dashboard &&
	test_path_is_file "$BUILDFARM_DIR/site/index.html" &&
	test_path_is_file "$BUILDFARM_DIR/site/grid/go/master/2.html"
'

test_done
