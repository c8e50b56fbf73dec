#!/bin/sh
test_description='env/local: each machine a sandbox; no build sees or signals another'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

BUILDFARM_LOCAL=$TRASH_DIRECTORY/local
export BUILDFARM_LOCAL
ENV_LOCAL=$BUILDFARM_TOP/env/local

test_lazy_prereq BWRAP 'command -v bwrap && bwrap --ro-bind / / true'
test_lazy_prereq UNSHARE '
	test "$(id -u)" = 0 && unshare -m -p -f --mount-proc true
'

# mk NAME...: machines made by env/local/create, destroyed after the test
# (the buildlets must not hold the script's stderr, fd 7)
mk () {
	for mk_
	do
		test_when_finished "\"\$ENV_LOCAL/destroy\" $mk_" &&
		"$ENV_LOCAL/create" "$mk_" >/dev/null 7>&- || return 1
	done
}

# on NAME SCRIPT: run SCRIPT with /bin/sh -c on machine NAME, in its work
# directory; its output in NAME.out.body
on () {
	url=$(cat "local/$1/url") &&
	bl_exec "$1.out" -u "x:$(cat "local/$1/password")" -d mode=sys \
	    -d cmd=/bin/sh -d cmdArg=-c --data-urlencode "cmdArg=$2"
}

# sleeper PATTERN: the host pid of the process whose command line is
# "sleep PATTERN"
sleeper () {
	ps -eo pid=,args= | awk -v a="sleep $1" \
	    '{ p = $1; sub(/^ *[0-9]+ /, ""); if ($0 == a) print p }'
}

# isolation MODE N: the checks (N numbers the sleep of a), with machines made under
# BUILDFARM_LOCAL_ISOLATE=MODE
isolation () {
	BUILDFARM_LOCAL_ISOLATE=$1 &&
	export BUILDFARM_LOCAL_ISOLATE &&
	mk a b &&
	echo content-of-farm >"$BUILDFARM_DIR/secret" &&

	# files: a writes in its work dir and /tmp; b sees neither
	on a "echo content-of-a >mine && echo tmp-of-a >/tmp/a-tmp && pwd" &&
	test "$(cat a.out.body)" = "$TRASH_DIRECTORY/local/a/work" &&
	test_path_is_file local/a/work/mine &&
	test_path_is_missing /tmp/a-tmp &&
	on a "cat /tmp/a-tmp mine" &&
	printf "tmp-of-a\ncontent-of-a\n" >expect && test_cmp expect a.out.body &&
	on b "cat $TRASH_DIRECTORY/local/a/work/mine; ls $TRASH_DIRECTORY/local;
	    cat /tmp/a-tmp; cat $BUILDFARM_DIR/secret; echo end" &&
	test_grep ! -e content-of -e tmp-of b.out.body &&
	printf "b\nend\n" >expect &&
	grep -v "No such file" b.out.body >got && test_cmp expect got &&

	# processes: b sees only its own, and cannot signal a sleep of a
	# that the host can
	(curl -sS -N -u "x:$(cat local/a/password)" -d mode=sys \
	    -d cmd=sleep -d cmdArg=4242.$2 "$(cat local/a/url)/exec" \
	    >/dev/null 2>&1 &) &&
	test_wait_until "test -n \"\$(sleeper 4242.$2)\"" &&
	pid=$(sleeper 4242.$2) &&
	kill -0 "$pid" &&
	on b "ps -eo args; kill -0 $pid && echo SIG=y\"\"es;
	    kill -TERM $pid && echo SIG=y\"\"es" &&
	test_grep ! -e "sleep 4242" -e SIG=yes b.out.body &&
	test_grep "buildlet" b.out.body &&
	kill -0 "$pid" &&

	"$ENV_LOCAL/destroy" a &&
	"$ENV_LOCAL/destroy" b &&
	test_wait_until "! kill -0 $pid" &&
	test_path_is_missing local/a local/b &&
	ps -eo args >ps &&
	test_grep ! -F "$TRASH_DIRECTORY/local" ps
}

test_expect_success 'create -h, bad names, a bad mode' '
	"$ENV_LOCAL/create" -h >out &&
	test_grep "^usage: create name" out &&
	"$ENV_LOCAL/destroy" -h >out &&
	test_grep "^usage: destroy name" out &&
	test_expect_code 100 "$ENV_LOCAL/create" ../x 2>err &&
	test_expect_code 100 "$ENV_LOCAL/create" 2>err &&
	test_expect_code 100 env BUILDFARM_LOCAL_ISOLATE=chroot \
	    "$ENV_LOCAL/create" m 2>err &&
	test_grep "bwrap, unshare or none" err &&
	test_path_is_missing local/m
'

test_expect_success BWRAP 'bwrap: no build reads or signals another' '
	isolation bwrap 1
'

test_expect_success BWRAP 'bwrap: the rest of the file system is read-only' '
	mk c &&
	on c "touch $TRASH_DIRECTORY/outside || echo refused" &&
	case $TRASH_DIRECTORY in
	/tmp/*) ;;	# written in the private /tmp
	*) test_grep refused c.out.body ;;
	esac &&
	test_path_is_missing outside &&
	"$ENV_LOCAL/destroy" c
'

# a checkout under /tmp, which each machine covers with its own: the
# buildlet, and the suppressions file its runtime must read in a
# sanitizer build (make check-tsan), come back into the sandbox, and
# nothing else of it (env/ stays hidden)
under_tmp () {
	t=$(mktemp -d /tmp/buildfarm-8001.XXXXXX) &&
	test_when_finished "rm -rf \"$t\"" &&
	mkdir -p "$t/env/local" "$t/cmd/buildlet" "$t/t" &&
	cp "$ENV_LOCAL/create" "$ENV_LOCAL/destroy" "$t/env/local/" &&
	cp "$BUILDFARM_TOP/cmd/buildlet/buildlet" "$t/cmd/buildlet/" &&
	cp "$TEST_DIRECTORY/tsan.supp" "$t/t/" &&
	TSAN_OPTIONS=$TSAN_OPTIONS:suppressions=$t/t/tsan.supp \
	    BUILDFARM_LOCAL_ISOLATE=$1 "$t/env/local/create" d >/dev/null 7>&- &&
	test_when_finished "\"\$t/env/local/destroy\" d" &&
	on d "ls $t; head -n 1 $t/t/tsan.supp" &&
	printf "cmd\nt\n# ThreadSanitizer suppressions for make check-tsan.\n" \
	    >expect &&
	test_cmp expect d.out.body
}

test_expect_success BWRAP 'bwrap: a buildlet under /tmp starts all the same' '
	under_tmp bwrap
'

test_expect_success UNSHARE 'unshare: no build reads or signals another' '
	isolation unshare 2
'

test_expect_success UNSHARE 'unshare: a buildlet under /tmp starts all the same' '
	under_tmp unshare
'

test_expect_success 'none: the control, where a build sees the others' '
	BUILDFARM_LOCAL_ISOLATE=none &&
	export BUILDFARM_LOCAL_ISOLATE &&
	mk a b &&
	on a "echo a-secret >mine" &&
	on b "cat $TRASH_DIRECTORY/local/a/work/mine" &&
	test_grep a-secret b.out.body &&
	"$ENV_LOCAL/destroy" a &&
	"$ENV_LOCAL/destroy" b
'

test_done
