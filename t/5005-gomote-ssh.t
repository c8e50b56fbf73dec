#!/bin/sh
test_description='gomote ssh: OpenSSH through /connect-ssh to a real sshd'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-gomote.sh"

# sshd logs in as the user who runs it (root); the buildlet adds the key
# to ~root/.ssh/authorized_keys, so it runs in a mount namespace whose
# /root is ./home, and sshd reads the keys from there
test_lazy_prereq SSHD '
	test -x /usr/sbin/sshd && command -v ssh-keygen >/dev/null &&
	command -v ssh >/dev/null && test "$(id -u)" = 0 &&
	unshare -m sh -c "mount --bind /tmp /root"
'

test_expect_success SSHD 'setup: sshd, a buildlet whose ~root is ./home, a key' '
	mkdir -p -m 755 /run/sshd &&
	mkdir home &&
	ssh-keygen -q -t ed25519 -N "" -C host -f hostkey &&
	mkdir -m 700 .ssh &&
	ssh-keygen -q -t ed25519 -N "" -C gomote-user -f .ssh/id_ed25519 &&
	ssh_port=$(free_port) &&
	cat >sshd_config <<-EOF &&
	Port $ssh_port
	ListenAddress 127.0.0.1
	HostKey $TRASH_DIRECTORY/hostkey
	PidFile none
	AuthorizedKeysFile $TRASH_DIRECTORY/home/.ssh/authorized_keys
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
	echo pw >pw &&
	start_daemon bl unshare -m sh -c \
	    "mount --bind \"\$0\" /root && exec buildlet \"\$@\"" \
	    "$PWD/home" -listen 127.0.0.1:0 -workdir "$PWD/bl.wd" \
	    -password-file pw -ssh-port $ssh_port &&
	inst=linux-amd64@127.0.0.1:$(daemon_port bl) &&
	BUILDLET_PASSWORD=pw &&
	export BUILDLET_PASSWORD
'

test_expect_success SSHD 'ssh: the key installed, a shell, its exit status' '
	echo "echo hello from \$(id -un) in \$PWD; exit 7" >script &&
	test_expect_code 7 gomote ssh $inst <script >out 2>err &&
	echo "hello from root in /root" >expect &&
	test_cmp expect out &&
	test_cmp .ssh/id_ed25519.pub home/.ssh/authorized_keys &&
	grep "Accepted publickey for root" sshd.log
'

test_expect_success SSHD 'ssh again: the key is not added twice' '
	echo "exit 0" | gomote ssh $inst &&
	test_cmp .ssh/id_ed25519.pub home/.ssh/authorized_keys
'

test_expect_success SSHD 'no public key: 100, saying how to make one' '
	mkdir nokey &&
	HOME=$PWD/nokey test_expect_code 100 gomote ssh $inst </dev/null \
	    2>err &&
	grep "no public key in $PWD/nokey/.ssh: make one with ssh-keygen" err
'

# through schedule serve: once its proxy passes /connect-ssh on (it
# answered 501 before it did)
test_lazy_prereq COORD_SSH '
	code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 -X POST \
	    -u "user-alice:$(schedule key user-alice)" \
	    -H "X-Buildlet-Proxy: user-alice-linux-st-0" \
	    "$(addr)/connect-ssh")
	test "$code" != 501 && test "$code" != 000 && test "$code" != 404
'

test_expect_success SSHD 'setup: schedule serve with the buildlet as a static machine' '
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "st"]
		pool = static
		buildlet = http://${inst#*@}
		password-file = $PWD/pw
	[builder "linux-st"]
		hosttype = st
	EOF
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null &&
	gomote_user alice &&
	GOMOTE_COORDINATOR=$(addr) &&
	export GOMOTE_COORDINATOR
'

test_expect_success SSHD,COORD 'an instance of the sshd machine' '
	gomote -user alice create linux-st >name &&
	echo user-alice-linux-st-0 >expect &&
	test_cmp expect name
'

test_expect_success SSHD,COORD,COORD_SSH 'ssh through the coordinator: a shell' '
	test_expect_code 7 gomote -user alice ssh user-alice-linux-st-0 \
	    <script >out &&
	echo "hello from root in /root" >expect &&
	test_cmp expect out &&
	gomote -user alice destroy user-alice-linux-st-0
'

test_expect_success SSHD 'stop schedule serve' '
	stop_daemon serve
'

test_expect_success SSHD 'no sshd: 111 with the buildlet'"'"'s 502' '
	stop_daemon sshd &&
	test_expect_code 111 gomote ssh $inst </dev/null 2>err &&
	grep "connect-ssh: POST .*: HTTP 502: dial tcp 127.0.0.1:$ssh_port" err
'

test_expect_success SSHD 'stop' '
	stop_daemon bl
'

test_done
