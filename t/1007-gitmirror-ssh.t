#!/bin/sh
test_description='gitmirror over SSH: a real sshd, key login, known_hosts'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

# sshd logs in as the user who runs it; as root it wants /run/sshd
test_lazy_prereq SSHD '
	test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null &&
	command -v ssh-keyscan >/dev/null && test "$(id -u)" = 0
'

# fp KEYFILE: the SHA256 fingerprint of a public key, as ssh-keygen
# prints it
fp () {
	ssh-keygen -l -f "$1" | awk "{ print \$2 }"
}

test_expect_success SSHD 'setup: sshd on a free port, keys, repositories' '
	# where the ssh service would make it at boot; left in place
	mkdir -p -m 755 /run/sshd &&
	ssh-keygen -q -t ed25519 -N "" -C host -f hostkey &&
	ssh-keygen -q -t ed25519 -N "" -C impostor -f otherhost &&
	ssh-keygen -q -t ed25519 -N "" -C gitmirror -f id_gm &&
	ssh-keygen -q -t ed25519 -N "" -C stranger -f id_other &&
	cp id_gm.pub authorized_keys &&
	ssh_port=$(free_port) &&
	cat >sshd_config <<-EOF &&
	Port $ssh_port
	ListenAddress 127.0.0.1
	HostKey $TRASH_DIRECTORY/hostkey
	PidFile none
	AuthorizedKeysFile $TRASH_DIRECTORY/authorized_keys
	PermitRootLogin prohibit-password
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	UsePAM no
	StrictModes no
	LogLevel VERBOSE
	EOF
	start_daemon sshd /usr/sbin/sshd -D -e -f "$TRASH_DIRECTORY/sshd_config" &&
	wait_for_port $ssh_port &&
	new_upstream go &&
	commit_n up/go 2 &&
	git -C up/go update-ref refs/changes/01/1/1 HEAD &&
	new_downstream go &&
	base="ssh://root@127.0.0.1:$ssh_port$TRASH_DIRECTORY" &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = $base/up/go/.git
		push = $base/down/go.git
		sshkey = $TRASH_DIRECTORY/id_gm
		branch = master
		timeout = 30
	EOF
	mkdir -m 700 .ssh
'

test_expect_success SSHD 'a host not in known_hosts is refused before our key is offered: 100' '
	test_expect_code 100 gitmirror sync >out 2>err &&
	test_must_be_empty out &&
	echo "gitmirror: go: fetch $base/up/go/.git: fetch: ssh: no ssh-ed25519 host key for [127.0.0.1]:$ssh_port in known_hosts (it offers $(fp hostkey.pub))" >expect &&
	test_cmp expect err &&
	test_grep ! "Accepted publickey\|Failed publickey" sshd.log &&
	test_must_fail git -C "$BUILDFARM_DIR/mirror/go.git" rev-parse -q --verify refs/heads/master
'

test_expect_success SSHD 'a host whose key changed is refused: 100' '
	echo "[127.0.0.1]:$ssh_port $(cat otherhost.pub)" >.ssh/known_hosts &&
	test_expect_code 100 gitmirror sync 2>err &&
	grep "fetch: ssh: the ssh-ed25519 host key of \[127.0.0.1\]:$ssh_port ($(fp hostkey.pub)) is not the one known_hosts has: changed, or someone in the middle$" err &&
	test_must_fail git -C "$BUILDFARM_DIR/mirror/go.git" rev-parse -q --verify refs/heads/master
'

test_expect_success SSHD 'known host, our key: fetch and push over SSH' '
	ssh-keyscan -p $ssh_port -t ed25519 127.0.0.1 >.ssh/known_hosts 2>/dev/null &&
	grep "^\[127.0.0.1\]:$ssh_port ssh-ed25519 " .ssh/known_hosts &&
	gitmirror sync >out 2>err &&
	test_line_count = 3 out &&
	refs up/go/.git >expect &&
	refs "$BUILDFARM_DIR/mirror/go.git" >actual &&
	test_cmp expect actual &&
	grep -v " refs/changes/" expect >expect.down &&
	refs down/go.git >actual.down &&
	test_cmp expect.down actual.down &&
	grep "Accepted publickey for root" sshd.log
'

test_expect_success SSHD 'hashed known_hosts entries match too' '
	ssh-keygen -q -H -f .ssh/known_hosts &&
	rm -f .ssh/known_hosts.old &&
	test_grep ! 127.0.0.1 .ssh/known_hosts &&
	commit_n up/go 1 more &&
	gitmirror sync >out &&
	echo "go master $(git -C up/go rev-parse HEAD)" >expect &&
	test_cmp expect out &&
	test "$(git -C down/go.git rev-parse master)" = \
	    "$(git -C up/go rev-parse HEAD)"
'

test_expect_success SSHD 'knownhosts = FILE names another file; the default is not read then' '
	mv .ssh/known_hosts hosts.mine &&
	echo "[127.0.0.1]:$ssh_port $(cat otherhost.pub)" >.ssh/known_hosts &&
	git config -f "$BUILDFARM_DIR/config" repo.go.knownhosts "$TRASH_DIRECTORY/hosts.mine" &&
	commit_n up/go 1 again &&
	gitmirror sync >out &&
	test_line_count = 1 out
'

test_expect_success SSHD 'a revoked host key is refused even when listed: 100' '
	echo "@revoked [127.0.0.1]:$ssh_port $(cat hostkey.pub)" >>hosts.mine &&
	test_expect_code 100 gitmirror sync 2>err &&
	grep "fetch: ssh: the ssh-ed25519 host key of \[127.0.0.1\]:$ssh_port ($(fp hostkey.pub)) is revoked$" err &&
	grep -v "^@revoked" hosts.mine >hosts.new &&
	mv hosts.new hosts.mine
'

test_expect_success SSHD 'a key the server does not take: 100, and no key material shown' '
	git config -f "$BUILDFARM_DIR/config" repo.go.sshkey "$TRASH_DIRECTORY/id_other" &&
	commit_n up/go 1 late &&
	test_expect_code 100 gitmirror sync >out 2>err &&
	test_must_be_empty out &&
	grep "^gitmirror: go: fetch $base/up/go/.git: fetch: " err &&
	sed -n 2p id_other >secret &&
	test_grep ! -F -f secret err &&
	! grep -r -F -f secret "$BUILDFARM_DIR/state" "$BUILDFARM_DIR/corpus"
'

test_expect_success SSHD 'stop' '
	stop_daemon sshd
'

test_done
