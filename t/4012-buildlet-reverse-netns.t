#!/bin/sh
test_description='buildlet -reverse-type in a network namespace nobody can dial into'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-reverse.sh"

# A veth pair whose far end lives in a network namespace of its own:
# the worker there reaches the coordinator at 10.X.Y.1, and has no
# other way in or out.  Needs root and a kernel that allows both.  The
# pair goes with the namespace, when its holder (daemon ns) ends.
n=$(( $$ % 60000 ))
VA=rv${n}a
VB=rv${n}b
NET=10.$((100 + n / 250 % 100)).$((n % 250))
test_lazy_prereq NETNS '
	test "$(id -u)" = 0 &&
	unshare -n true &&
	ip link add rvp$$a type veth peer name rvp$$b &&
	ip link del rvp$$a
'
test_lazy_prereq OPENSSL 'openssl version'
if ! test_have_prereq NETNS
then
	echo "# skipping: needs root, unshare -n and veth pairs (ip link add type veth)"
fi

test_expect_success NETNS,OPENSSL 'setup: the namespace, the veth pair, a TLS coordinator on its near end' '
	start_daemon ns unshare -n sleep 3600 &&
	NSPID=$(cat ns.pid) &&
	test_wait_until "test \"\$(readlink /proc/$NSPID/ns/net)\" != \"\$(readlink /proc/self/ns/net)\"" &&
	ip link add $VA type veth peer name $VB &&
	ip addr add $NET.1/30 dev $VA &&
	ip link set $VA up &&
	ip link set $VB netns $NSPID &&
	nsenter -t $NSPID -n ip addr add $NET.2/30 dev $VB &&
	nsenter -t $NSPID -n ip link set $VB up &&
	nsenter -t $NSPID -n ip link set lo up &&
	test_ca ca &&
	test_cert ca srv $NET.1 &&
	mkdir -p "$BUILDFARM_DIR" &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "rv"]
		pool = reverse
	EOF
	start_daemon coord schedule serve -l $NET.1:0 -tls-cert srv.pem \
	    -tls-key srv.key &&
	coord_port=$(daemon_port coord) &&
	COORD=https://$NET.1:$coord_port &&
	REV_CURL_FLAGS="--cacert ca.pem" &&
	rev_key rv
'

test_expect_success NETNS,OPENSSL 'the namespace reaches the coordinator, and nothing else' '
	nsenter -t $NSPID -n curl -sSf --cacert ca.pem "$COORD/status.json" \
	    >/dev/null &&
	test_must_fail nsenter -t $NSPID -n curl -sS --max-time 5 \
	    "http://127.0.0.1:$coord_port/" 2>err
'

test_expect_success NETNS,OPENSSL 'a buildlet in the namespace registers and is driven' '
	start_daemon w1 nsenter -t $NSPID -n buildlet -reverse-type rv \
	    -coordinator "$COORD" -ca-file ca.pem -keyfile rv.key \
	    -hostname w1 -workdir "$PWD/w1.wd" &&
	rev_wait rv-w1 &&
	url=$rurl &&
	bl_exec out -u gomote:$(cat rv.key) -d mode=sys -d cmd=sh \
	    -d cmdArg=-c -d "cmdArg=echo from-the-namespace" &&
	echo from-the-namespace >want && test_cmp want out.body
'

test_expect_success NETNS,OPENSSL 'nothing ever dialled the worker: it listens nowhere' '
	W1=$(cat w1.pid) &&
	test "$(readlink /proc/$W1/ns/net)" = "$(readlink /proc/$NSPID/ns/net)" &&
	nsenter -t $NSPID -n ss -Htln >listening &&
	test_must_be_empty listening &&
	nsenter -t $NSPID -n ss -Htn state established >conns &&
	test -s conns &&
	# every connection of the namespace was made by it, to the coordinator
	awk -v c="$NET.1:$coord_port" "\$4 != c { print; bad = 1 } END { exit bad }" conns
'

test_expect_success NETNS,OPENSSL 'the link goes down: the machine goes, and comes back with it' '
	nsenter -t $NSPID -n ip link set $VB down &&
	stop_daemon coord &&
	start_daemon coord schedule serve -l $NET.1:$coord_port \
	    -tls-cert srv.pem -tls-key srv.key &&
	daemon_port coord >/dev/null &&
	test_wait_until "grep -c \"retry in\" w1.log | grep -q \"^[2-9]\"" &&
	test -z "$(rev_field rv-w1 name)" &&
	nsenter -t $NSPID -n ip link set $VB up &&
	rev_wait rv-w1 &&
	stop_daemon w1 &&
	stop_daemon coord &&
	stop_daemon ns
'

test_expect_success NETNS 'cleanup: the veth pair is gone' '
	ip link del $VA 2>/dev/null
	test_must_fail ip link show $VA 2>/dev/null
'

test_done
