#!/bin/sh
test_description='make check-slow: Go make.bash built through the whole farm'
# Run from t/ (make check-slow): minutes long, so not among t/*.t.
# Debian's Go 1.19 tree (golang-1.19-src) is committed into an upstream
# repository; gitmirror mirrors it and serves its tarball, schedule
# serve builds it on a sandboxed env/local machine with a builder whose
# steps are make.bash and go test -short of a few std packages.  Then
# the same make.bash runs directly, and both times are printed.
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

BOOT=/usr/lib/go-1.19
GOSRC=/usr/share/go-1.19
test -x "$BOOT/bin/go" && test -d "$GOSRC/src" || {
	skip_all='no Go 1.19 (scripts/install-deps slow)'
	test_done
}

test_expect_success 'setup: the Go tree committed upstream, the farm' '
	git init -q -b master up &&
	cp -R "$GOSRC/src" up/src &&
	cp "$BOOT/VERSION" up/ &&
	git -C up add -A &&
	git -C up commit -q -m "go1.19 src" &&
	REV=$(git -C up rev-parse master) &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up
		branch = master
	[hosttype "local"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
	[builder "linux-amd64"]
		hosttype = local
		repo = go
		env = GOROOT_BOOTSTRAP=$BOOT
		run = cd src && ./make.bash
		run = bin/go test -short strings sort errors unicode/utf8
		timeout = 2h
	EOF
	gitmirror sync >/dev/null &&
	start_daemon source gitmirror serve -l 127.0.0.1:0 &&
	git config -f "$BUILDFARM_DIR/config" farm.source \
	    "http://127.0.0.1:$(daemon_port source)"
'

test_expect_success 'make.bash and go test through the farm: ok' '
	start=$(date +%s) &&
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	test_wait_until "test \$(nresults) = 1" 3600 &&
	farm=$(($(date +%s) - start)) &&
	stop_daemon serve &&
	"$ENV_LOCAL/destroy" local-1 &&
	results >out &&
	echo "linux-amd64 $REV ok" >expect &&
	test_cmp expect out &&
	hash=$(cat "$BUILDFARM_DIR"/results/*.jsonl |
	    sed -n "s/.*\"log\":\"\([0-9a-f]*\)\".*/\1/p") &&
	gzip -dc "$BUILDFARM_DIR"/buildlogs/*/$hash.gz >log &&
	test_grep "Installed Go for linux/amd64" log &&
	test_grep "^ok[[:space:]]*strings[[:space:]]" log &&
	test_grep "^ok[[:space:]]*unicode/utf8[[:space:]]" log &&
	echo "# through the farm: $farm s (from the daemon start to the result)" >&7
'

test_expect_success 'the same make.bash directly, for comparison' '
	git clone -q up direct &&
	start=$(date +%s) &&
	(cd direct/src && GOROOT_BOOTSTRAP=$BOOT ./make.bash >../../direct.log 2>&1) &&
	echo "# make.bash directly: $(($(date +%s) - start)) s" >&7 &&
	test_grep "Installed Go for linux/amd64" direct.log
'

test_done
