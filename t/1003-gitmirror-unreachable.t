#!/bin/sh
test_description='gitmirror sync: unreachable and hung remotes'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

test_expect_success 'setup: two repos, both mirrored once' '
	new_upstream go &&
	new_upstream net &&
	new_downstream go &&
	start_git_daemon &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = $daemon_url/up/go/.git
		push = $daemon_url/down/go.git
		branch = master
		timeout = 2
	[repo "net"]
		upstream = $daemon_url/up/net/.git
		branch = master
	EOF
	gitmirror sync >out &&
	test_line_count = 2 out &&
	refs "$BUILDFARM_DIR/mirror/go.git" >go.before &&
	commit_n up/go 1 new &&
	commit_n up/net 1 new
'

test_expect_success 'an unreachable upstream: 111, mirror untouched, others synced' '
	dead=$(free_port) &&
	git config -f "$BUILDFARM_DIR/config" repo.go.upstream \
	    git://127.0.0.1:$dead/up/go/.git &&
	test_expect_code 111 gitmirror sync >out 2>err &&
	grep "^gitmirror: go: fetch git://127.0.0.1:$dead/up/go/.git: " err &&
	echo "net master $(git -C up/net rev-parse master)" >expect &&
	test_cmp expect out &&
	refs "$BUILDFARM_DIR/mirror/go.git" >go.after &&
	test_cmp go.before go.after &&
	gitmirror fsck &&
	test_expect_code 1 gitmirror status >status &&
	grep "^go failed .* error=fetch git://127.0.0.1:$dead/up/go/.git: " status &&
	grep "^net ok " status
'

test_expect_success 'a hung upstream is cut off after the timeout: 111' '
	hang=$(free_port) &&
	start_daemon tcp-hang tcp-hang $hang &&
	wait_for_port $hang &&
	git config -f "$BUILDFARM_DIR/config" repo.go.upstream \
	    git://127.0.0.1:$hang/up/go/.git &&
	start=$(date +%s) &&
	test_expect_code 111 gitmirror sync go >out 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -ge 2 &&
	test $((end - start)) -le 6 &&
	grep "^gitmirror: go: fetch git://127.0.0.1:$hang/up/go/.git: timed out after 2 s\$" err &&
	test_must_be_empty out &&
	test_expect_code 1 gitmirror status go >status &&
	grep "^go failed .* error=fetch git://127.0.0.1:$hang/up/go/.git: timed out after 2 s\$" status &&
	test_expect_code 1 gitmirror status -j go >status.json &&
	grep "^{\"error\":\"fetch git://127.0.0.1:$hang/up/go/.git: timed out after 2 s\",.*\"repo\":\"go\",\"state\":\"failed\"," status.json &&
	refs "$BUILDFARM_DIR/mirror/go.git" >go.after &&
	test_cmp go.before go.after &&
	git -C "$BUILDFARM_DIR/mirror/go.git" fsck --strict &&
	gitmirror fsck
'

test_expect_success 'a hung downstream is cut off too, after the fetch' '
	git config -f "$BUILDFARM_DIR/config" repo.go.upstream \
	    $daemon_url/up/go/.git &&
	git config -f "$BUILDFARM_DIR/config" --add repo.go.push \
	    git://127.0.0.1:$hang/down/go.git &&
	test_expect_code 111 gitmirror sync go >out 2>err &&
	echo "go master $(git -C up/go rev-parse master)" >expect &&
	test_cmp expect out &&
	grep "^gitmirror: go: push git://127.0.0.1:$hang/down/go.git: timed out after 2 s\$" err &&
	test_expect_code 1 gitmirror status go >status &&
	grep "^go failed .* error=push git://127.0.0.1:$hang/down/go.git: timed out" status &&
	refs up/go/.git >expect &&
	refs down/go.git >actual &&
	test_cmp expect actual
'

test_expect_success 'a first sync from an unreachable upstream: 111, no records' '
	git config -f "$BUILDFARM_DIR/config" repo.gone.upstream \
	    git://127.0.0.1:$dead/nothing &&
	git config -f "$BUILDFARM_DIR/config" repo.gone.branch master &&
	test_expect_code 111 gitmirror sync gone >out 2>err &&
	test_must_be_empty out &&
	test_grep ! "\"repo\":\"gone\"" "$BUILDFARM_DIR"/corpus/*.jsonl &&
	gitmirror fsck gone &&
	test_expect_code 1 gitmirror status gone >status &&
	grep "^gone failed synced=- fetched=- pushed=- lag=- error=fetch " status
'

test_expect_success 'after a good sync the state is ok again' '
	git config -f "$BUILDFARM_DIR/config" --unset repo.go.push \
	    "git://127.0.0.1:$hang/down/go.git" &&
	test_expect_code 1 gitmirror sync go >out &&
	gitmirror status go >status &&
	grep "^go ok .* lag=[0-9]*s\$" status &&
	gitmirror status -j go >status.json &&
	grep "^{\"error\":null,\"fetched\":\"[0-9T:-]*Z\",\"lag\":[0-9]*,.*\"repo\":\"go\",\"state\":\"ok\"," status.json
'

test_expect_success 'credentials are never printed' '
	cat >netrc <<-EOF &&
	machine 127.0.0.1 login gopher password s3cret-pw
	EOF
	git config -f "$BUILDFARM_DIR/config" repo.gone.credentials \
	    "$TRASH_DIRECTORY/netrc" &&
	git config -f "$BUILDFARM_DIR/config" repo.gone.upstream \
	    http://127.0.0.1:$dead/nothing &&
	test_expect_code 111 gitmirror -v sync gone >out 2>err &&
	test_grep ! s3cret err out &&
	! grep -r s3cret "$BUILDFARM_DIR/state"
'

test_done
