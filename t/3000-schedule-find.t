#!/bin/sh
test_description='schedule find, add, key: the work model and its order'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

# result BUILDER REPO REV / retract BUILDER REPO REV: a record in the
# results log, as schedule build and retrybuilds write them
result () {
	printf '{"attempt":1,"builder":"%s","buildlet":"h-1","elapsed_ms":5,"item":"x","kind":"post","log":"%s","ok":true,"repo":"%s","rev":"%s"}\n' \
	    "$1" "$(printf %064d 0)" "$2" "$3" |
	    maintlog -L results append -t result >/dev/null
}
retract () {
	printf '{"builder":"%s","reason":"flaky","repo":"%s","rev":"%s"}\n' \
	    "$1" "$2" "$3" | maintlog -L results append -t retract >/dev/null
}

test_expect_success 'usage: the synopsis of schedule.1, bad use exits 100' '
	test_usage_is_synopsis schedule &&
	test_expect_code 100 schedule find -x 2>err &&
	test_grep "^usage: schedule" err &&
	test_expect_code 100 schedule find extra 2>err &&
	test_expect_code 100 schedule find -n 0 2>err &&
	test_grep "^schedule: -n .0.: want a count from 1" err &&
	test_expect_code 100 schedule add go 2>err &&
	test_expect_code 100 schedule key 2>err &&
	test_expect_code 100 schedule key a b 2>err
'

test_expect_success 'setup: two upstream repos, mirrored by gitmirror sync' '
	new_upstream go &&
	commit_n up/go 2 &&
	git -C up/go checkout -q -b release-branch.go1 HEAD~1 &&
	commit_n up/go 1 rel &&
	git -C up/go checkout -q master &&
	new_upstream net &&
	commit_n up/net 1 &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
		branch = release-branch.go1
	[repo "net"]
		upstream = file://$TRASH_DIRECTORY/up/net
		branch = master
	[hosttype "h"]
		pool = static
		buildlet = http://127.0.0.1:1
	[builder "g1"]
		hosttype = h
		repo = go
		run = make
		backfill = 2
	[builder "g2"]
		hosttype = h
		repo = go
		run = make
		run = make test
	[builder "gomote-only"]
		hosttype = h
	[builder "n1"]
		hosttype = h
		repo = net
		run = go test
	EOF
	gitmirror sync >out 2>err &&
	test_must_be_empty err &&
	git -C up/go rev-list --reverse master >go.master &&
	git -C up/go rev-parse release-branch.go1 >go.rel &&
	git -C up/net rev-list master >net.master &&
	test_line_count = 3 go.master &&
	test_line_count = 2 net.master &&
	G0=$(sed -n 1p go.master) && G1=$(sed -n 2p go.master) &&
	G2=$(sed -n 3p go.master) && R1=$(cat go.rel) &&
	N2=$(sed -n 1p net.master) && N1=$(sed -n 2p net.master) &&
	cat >revs <<-EOF
	G0=$G0 G1=$G1 G2=$G2 R1=$R1 N1=$N1 N2=$N2
	EOF
'

test_expect_success 'find: release branch first, then round-robin, backfill bound' '
	. ./revs &&
	cat >expect <<-EOF &&
	post go $R1 g1
	post go $R1 g2
	post go $G2 g1
	post net $N2 n1
	post go $G2 g2
	post net $N1 n1
	post go $G1 g1
	post go $G1 g2
	post go $G0 g2
	EOF
	schedule find >actual 2>err &&
	test_must_be_empty err &&
	test_cmp expect actual
'

test_expect_success 'find changes nothing on disk' '
	find "$BUILDFARM_DIR" | sort >before &&
	schedule find >/dev/null &&
	find "$BUILDFARM_DIR" | sort >after &&
	test_cmp before after &&
	test_path_is_missing "$BUILDFARM_DIR/spool" &&
	test_path_is_missing "$BUILDFARM_DIR/results"
'

test_expect_success 'find -n N: the first N' '
	. ./revs &&
	schedule find -n 2 >actual &&
	head -n 2 expect >expect.2 &&
	test_cmp expect.2 actual
'

test_expect_success 'a result takes its pair out, a retraction brings it back' '
	. ./revs &&
	result g1 go $G2 &&
	result n1 net $N1 &&
	result g2 go $G2 &&
	retract g2 go $G2 &&
	result n1 net "$(printf %040d 0)" &&
	cat >expect <<-EOF &&
	post go $R1 g1
	post go $R1 g2
	post go $G2 g2
	post net $N2 n1
	post go $G1 g1
	post go $G1 g2
	post go $G0 g2
	EOF
	schedule find >actual &&
	test_cmp expect actual &&
	result g2 go $G2 &&
	cat >expect.2 <<-EOF &&
	post go $R1 g1
	post go $R1 g2
	post go $G1 g1
	post net $N2 n1
	post go $G1 g2
	post go $G0 g2
	EOF
	schedule find >actual &&
	test_cmp expect.2 actual
'

test_expect_success 'a new upstream commit is work at once, newest first' '
	. ./revs &&
	commit_n up/net 1 new &&
	N3=$(git -C up/net rev-parse master) &&
	gitmirror sync >/dev/null &&
	schedule find -n 5 >actual &&
	cat >expect <<-EOF &&
	post go $R1 g1
	post go $R1 g2
	post go $G1 g1
	post net $N3 n1
	post go $G1 g2
	EOF
	test_cmp expect actual
'

test_expect_success 'find -j: JSON lines with every field' '
	. ./revs &&
	schedule find -j -n 1 >actual &&
	ct=$(git -C up/go log -1 --format=%ct $R1) &&
	cat >expect <<-EOF &&
	{"branch":"release-branch.go1","builder":"g1","change":0,"hosttype":"h","item":null,"kind":"post","patchset":0,"prio":0,"repo":"go","rev":"$R1","time":$ct}
	EOF
	test_cmp expect actual
'

test_expect_success 'add: a manual item in spool/work/new, listed first' '
	. ./revs &&
	schedule add go $G0 g1 >name &&
	schedule add -p 5 net $N1 n1 >name5 &&
	schedule add -p -3 go $G1 g1 >name-3 &&
	test_line_count = 1 name &&
	cat >expect <<-EOF &&
	{"builder":"g1","kind":"manual","repo":"go","rev":"$G0"}
	EOF
	test_cmp expect "$BUILDFARM_DIR/spool/work/new/$(cat name)" &&
	cat >expect <<-EOF &&
	{"builder":"n1","kind":"manual","prio":5,"repo":"net","rev":"$N1"}
	EOF
	test_cmp expect "$BUILDFARM_DIR/spool/work/new/$(cat name5)" &&
	schedule find -n 5 >actual &&
	cat >expect <<-EOF &&
	manual net $N1 n1
	manual go $G0 g1
	manual go $G1 g1
	post go $R1 g1
	post go $R1 g2
	EOF
	test_cmp expect actual &&
	schedule find -j -n 1 >actual &&
	test_grep "\"item\":\"$(cat name5)\",\"kind\":\"manual\"" actual
'

test_expect_success 'a post item in spool/work is not listed twice' '
	. ./revs &&
	w="$BUILDFARM_DIR/spool/work" &&
	rm -f "$w"/new/* &&
	printf "{\"branch\":\"master\",\"builder\":\"g2\",\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    $G1 >"$w/new/1000000000.000000P1Q1.test" &&
	printf "{\"branch\":\"master\",\"builder\":\"g2\",\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    $G0 >"$w/cur/1000000000.000001P1Q1.test" &&
	schedule find >actual &&
	test_grep -c " $G1 g2\$" actual >count &&
	echo 1 >expect && test_cmp expect count &&
	test_grep ! " $G0 g2\$" actual &&
	sed -n 1p actual >first &&
	echo "post go $G1 g2" >expect &&
	test_cmp expect first &&
	rm -f "$w"/new/* "$w"/cur/*
'

test_expect_success 'an item in spool/work/fail settles its pair' '
	. ./revs &&
	w="$BUILDFARM_DIR/spool/work" &&
	schedule find >before &&
	test_grep " $G1 g2\$" before &&
	printf "{\"branch\":\"master\",\"builder\":\"g2\",\"kind\":\"post\",\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    $G1 >"$w/fail/1000000000.000002P1Q1.test" &&
	schedule find >actual &&
	test_grep ! " $G1 g2\$" actual &&
	# the same work but that pair (round-robin may reorder the rest)
	grep -v " $G1 g2\$" before | sort >expect &&
	sort actual >sorted &&
	test_cmp expect sorted &&
	rm -f "$w"/fail/* &&
	schedule find >again &&
	test_cmp before again
'

test_expect_success 'try items of spool/try come first' '
	. ./revs &&
	mkdir -p "$BUILDFARM_DIR/spool/try/new" "$BUILDFARM_DIR/spool/try/cur" \
	    "$BUILDFARM_DIR/spool/try/tmp" "$BUILDFARM_DIR/spool/try/done" \
	    "$BUILDFARM_DIR/spool/try/fail" &&
	printf "{\"builder\":\"\",\"change\":7,\"kind\":\"try\",\"patchset\":2,\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    $G1 >"$BUILDFARM_DIR/spool/try/new/gerrit-7-2" &&
	schedule find -n 2 >actual &&
	cat >expect <<-EOF &&
	try go $G1 - 7/2
	post go $R1 g1
	EOF
	test_cmp expect actual
'

test_expect_success 'a bad item is warned about and left out' '
	echo "{\"kind\":\"manual\"}" >"$BUILDFARM_DIR/spool/work/new/1.000000P1Q9.bad" &&
	schedule find >actual 2>err &&
	test_grep "^schedule: item .*1.000000P1Q9.bad.: .*missing" err &&
	test_grep ! "P1Q9" actual &&
	rm "$BUILDFARM_DIR/spool/work/new/1.000000P1Q9.bad" \
	    "$BUILDFARM_DIR/spool/try/new/gerrit-7-2"
'

test_expect_success 'find exits 1 when there is no work' '
	schedule find >all &&
	while read kind repo rev builder
	do
		result $builder $repo $rev || return 1
	done <all &&
	test_expect_code 1 schedule find >actual &&
	test_must_be_empty actual
'

test_expect_success 'add: bad repo, rev, builder exit 100 and queue nothing' '
	. ./revs &&
	ls "$BUILDFARM_DIR/spool/work/new" >before &&
	test_expect_code 100 schedule add nope $G0 g1 2>err &&
	test_grep "repo .nope. is not in the config" err &&
	test_expect_code 100 schedule add go ${G0%?} g1 2>err &&
	test_grep "want a full commit id" err &&
	test_expect_code 100 schedule add go master g1 2>err &&
	test_expect_code 100 schedule add go $(echo $G0 | tr a-f A-F) g1 2>err &&
	test_expect_code 100 schedule add go $G0 nope 2>err &&
	test_grep "builder .nope. is not in the config" err &&
	test_expect_code 100 schedule add go $G0 n1 2>err &&
	test_grep "builder .n1. does not build repo .go." err &&
	test_expect_code 100 schedule add go $G0 gomote-only 2>err &&
	test_grep "builder .gomote-only. does not build repo .go." err &&
	test_expect_code 100 schedule add -p 1001 go $G0 g1 2>err &&
	ls "$BUILDFARM_DIR/spool/work/new" >after &&
	test_cmp before after
'

test_expect_success 'key: stable 64-hex key, master made once with mode 0600' '
	test_path_is_missing "$BUILDFARM_DIR/keys/master" &&
	schedule key h >k1 &&
	schedule key h >k2 &&
	schedule key user-gopher >k3 &&
	schedule key g1 >k4 &&
	test_cmp k1 k2 &&
	grep -E "^[0-9a-f]{64}\$" k1 &&
	! test_cmp k1 k3 >/dev/null &&
	! test_cmp k3 k4 >/dev/null &&
	test "$(stat -c %a "$BUILDFARM_DIR/keys/master")" = 600 &&
	test "$(stat -c %s "$BUILDFARM_DIR/keys/master")" = 32 &&
	perl -e "
		use Digest::SHA qw(hmac_sha256_hex);
		open my \$f, q(<), q($BUILDFARM_DIR/keys/master) or die;
		local \$/; my \$k = <\$f>;
		print hmac_sha256_hex(q(h), \$k), qq(\n);
	" >expect &&
	test_cmp expect k1
'

test_expect_success 'key: bad names and a bad master key exit 100' '
	test_expect_code 100 schedule key nope 2>err &&
	test_grep "key .nope.: want user-LOGIN" err &&
	test_expect_code 100 schedule key user- 2>err &&
	test_expect_code 100 schedule key "user-a b" 2>err &&
	test_expect_code 100 schedule key "" 2>err &&
	chmod 644 "$BUILDFARM_DIR/keys/master" &&
	test_expect_code 100 schedule key h 2>err &&
	test_grep "mode 644" err &&
	chmod 600 "$BUILDFARM_DIR/keys/master" &&
	printf short >"$BUILDFARM_DIR/keys/master" &&
	test_expect_code 100 schedule key h 2>err &&
	test_grep "5 bytes: want 32" err
'

test_done
