#!/bin/sh
test_description='schedule serve: the gomote API, its proxy and expiry'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-gapi.sh"

machines () {
	ls "$BUILDFARM_DIR/state/schedule/machines" | wc -l | tr -d " "
}

test_expect_success 'setup: a command pool and a static buildlet' '
	start_buildlet bl1 && URL1=$url &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "loc"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 2
	[hosttype "st"]
		pool = static
		buildlet = $URL1
		gomote-idle = 2
	[builder "lb"]
		hosttype = loc
	[builder "sb"]
		hosttype = st
		env = GOOS=linux
		env = GO_TEST_SHORT=two words
	[builder "alb"]
		hosttype = loc
	EOF
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null
'

test_expect_success 'no credentials: 400; a wrong token or user: 401' '
	curl -s -o out -w "%{http_code}\n" -d builderType=lb -d version=20170720 \
	    "$(addr)/buildlet/create" >code &&
	echo 400 >want && test_cmp want code &&
	curl -s -o out -w "%{http_code}\n" -u user-alice:00 \
	    "$(addr)/buildlet/list" >code &&
	echo 401 >want && test_cmp want code &&
	curl -s -o out -w "%{http_code}\n" -u "alice:$(token alice)" \
	    "$(addr)/buildlet/list" >code &&
	test_cmp want code &&
	curl -s -o out -w "%{http_code}\n" -u "user-bob:$(token alice)" \
	    "$(addr)/buildlet/list" >code &&
	test_cmp want code
'

test_expect_success 'builders: 400 without credentials, 401 with wrong ones' '
	curl -s -o out -w "%{http_code}\n" "$(addr)/buildlet/builders" >code &&
	echo 400 >want && test_cmp want code &&
	curl -s -o out -w "%{http_code}\n" -u user-alice:00 \
	    "$(addr)/buildlet/builders" >code &&
	echo 401 >want && test_cmp want code &&
	test_grep "bad username or password" out
'

test_expect_success 'builders: every builder by name, its host type and env' '
	gapi alice /buildlet/builders -f >out &&
	cat >want <<-\EOF &&
	[
	  {
	    "env": [],
	    "hosttype": "loc",
	    "name": "alb"
	  },
	  {
	    "env": [],
	    "hosttype": "loc",
	    "name": "lb"
	  },
	  {
	    "env": [
	      "GOOS=linux",
	      "GO_TEST_SHORT=two words"
	    ],
	    "hosttype": "st",
	    "name": "sb"
	  }
	]
	EOF
	test_cmp want out &&
	gapi alice /buildlet/builders -X POST -o out -w "%{http_code}\n" >code &&
	echo 400 >want && test_cmp want code
'

test_expect_success 'create: bad requests are 400' '
	gapi alice /buildlet/create -o out -w "%{http_code}\n" \
	    -d builderType=nope -d version=20170720 >code &&
	echo 400 >want && test_cmp want code &&
	test_grep "unknown builder type" out &&
	gapi alice /buildlet/create -o out -w "%{http_code}\n" \
	    -d builderType=lb -d version=20150101 >code &&
	test_cmp want code &&
	gapi alice /buildlet/list -o out -w "%{http_code}\n" >code &&
	echo 200 >want && test_cmp want code &&
	echo "[]" >want && test_cmp want out
'

test_expect_success 'create on a command pool: one JSON object, then list' '
	gcreate alice lb >created &&
	jfield Name <created >name &&
	echo user-alice-lb-0 >want && test_cmp want name &&
	jfield User <created >user && echo user-alice >want &&
	test_cmp want user &&
	jfield HostType <created >ht && echo loc >want && test_cmp want ht &&
	jfield Expires <created >exp &&
	test_grep "^20[0-9-]*T[0-9:]*Z$" exp &&
	gcreate alice lb | jfield Name >name2 &&
	echo user-alice-lb-1 >want && test_cmp want name2 &&
	gapi alice /buildlet/list -f >list &&
	jfield Name <list >names &&
	printf "user-alice-lb-0\nuser-alice-lb-1\n" >want &&
	test_cmp want names &&
	test_path_is_file "$BUILDFARM_DIR/state/schedule/gomote/user-alice-lb-0" &&
	curl -sSf "$(addr)/" >page &&
	test_grep "<h2>gomote instances</h2>" page &&
	test_grep "<td>user-alice-lb-1</td><td>loc-" page
'

test_expect_success 'another user sees none of them and touches none: 401' '
	gapi bob /buildlet/list -f >list &&
	echo "[]" >want && test_cmp want list &&
	gproxy bob user-alice-lb-0 /workdir -o out -w "%{http_code}\n" >code &&
	echo 401 >want && test_cmp want code &&
	test_grep "you don.t own that buildlet" out &&
	gproxy bob user-alice-lb-0 /halt -X POST -o out -w "%{http_code}\n" \
	    >code &&
	echo 401 >want && test_cmp want code &&
	test_path_is_file "$BUILDFARM_DIR/state/schedule/gomote/user-alice-lb-0" &&
	gproxy alice user-alice-nope-0 /workdir -o out -w "%{http_code}\n" \
	    >code &&
	echo 502 >want && test_cmp want code &&
	test_grep "unknown or expired buildlet" out
'

test_expect_success 'proxy: /exec streams its output, then its trailers' '
	gproxy alice user-alice-lb-0 /workdir -f >wd &&
	case $(cat wd) in
	"$TRASH_DIRECTORY"/local/loc-*/work) ;;
	*) false ;;
	esac &&
	gproxy alice user-alice-lb-0 /exec --raw -N -o raw \
	    -d mode=sys -d cmd=sh -d cmdArg=-c \
	    -d cmdArg="echo first; until test -e $TRASH_DIRECTORY/gate; do sleep 0.1; done; echo second; exit 3" &
	curl_pid=$! &&
	test_wait_until "unchunk raw | grep first" &&
	! grep second raw &&
	: >gate &&
	wait $curl_pid &&
	unchunk raw >body &&
	printf "first\nsecond\n" >want && test_cmp want body &&
	trailers raw >tr &&
	test_grep "^Process-State: exit status 3" tr &&
	test_grep "^X-Exit-Code: 3" tr
'

test_expect_success 'proxy: writetgz, ls, tgz round trip, streamed' '
	mkdir -p tree/sub &&
	test_seq 1 200000 >tree/sub/big &&
	echo hello >tree/a &&
	tar -C tree -czf tree.tgz a sub &&
	gproxy alice user-alice-lb-0 "/writetgz?dir=d" -f -X PUT \
	    -H "Content-Type: application/octet-stream" \
	    -T tree.tgz >out &&
	gproxy alice user-alice-lb-0 "/ls?dir=d&recursive=true" -f >ls &&
	test_grep "	sub/big	" ls &&
	gproxy alice user-alice-lb-0 "/tgz?dir=d" -f -o back.tgz &&
	mkdir back && tar -C back -xzf back.tgz &&
	test_cmp tree/sub/big back/sub/big &&
	test_cmp tree/a back/a &&
	gproxy alice user-alice-lb-0 /removeall -f -d path=d &&
	gproxy alice user-alice-lb-0 "/ls" -f >ls &&
	test_must_be_empty ls
'

test_expect_success 'POST /halt destroys the instance and its machine' '
	gproxy alice user-alice-lb-1 /halt -f -X POST &&
	gapi alice /buildlet/list -f | jfield Name >names &&
	echo user-alice-lb-0 >want && test_cmp want names &&
	gproxy alice user-alice-lb-1 /workdir -o out -w "%{http_code}\n" >code &&
	echo 502 >want && test_cmp want code &&
	test_path_is_missing "$BUILDFARM_DIR/state/schedule/gomote/user-alice-lb-1" &&
	test_wait_until "test \$(machines) = 1"
'

test_expect_success 'a static machine: idle expiry, renewed by each call' '
	gcreate bob sb >created &&
	test "$(jfield Name <created)" = user-bob-sb-0 &&
	gproxy bob user-bob-sb-0 /exec -f -d mode=sys -d cmd=touch \
	    -d cmdArg=left-behind &&
	test_path_is_file bl1.wd/left-behind &&
	gproxy bob user-bob-sb-0 /exec -f -d mode=sys -d cmd=sleep \
	    -d cmdArg=3 &&
	gproxy bob user-bob-sb-0 /workdir -f >wd &&
	test_wait_until "gapi bob /buildlet/list -f | grep -Fx \"[]\"" &&
	gproxy bob user-bob-sb-0 /workdir -o out -w "%{http_code}\n" >code &&
	echo 502 >want && test_cmp want code &&
	test_grep "unknown or expired buildlet: user-bob-sb-0 expired" out &&
	gcreate bob sb >created &&
	test_path_is_missing bl1.wd/left-behind
'

test_expect_success '/connect-ssh to a machine without sshd: the buildlet'"'"'s 502' '
	gproxy alice user-alice-lb-0 /connect-ssh -X POST -o out \
	    -w "%{http_code}\n" >code &&
	echo 502 >want && test_cmp want code &&
	test_grep "connect-ssh.*502" out
'

test_expect_success 'stop while a proxied /exec runs: the client is cut off' '
	gproxy alice user-alice-lb-0 /exec -N -o long -d mode=sys -d cmd=sh \
	    -d cmdArg=-c -d "cmdArg=echo started; sleep 300" &
	curl_pid=$! &&
	test_wait_until "grep started long" &&
	stop_daemon serve &&
	wait $curl_pid || :
'

test_expect_success 'stop: instances stay, machines too' '
	test_path_is_file "$BUILDFARM_DIR/state/schedule/gomote/user-alice-lb-0" &&
	for f in $(ls "$BUILDFARM_DIR/state/schedule/machines")
	do
		"$ENV_LOCAL/destroy" "$f" || return 1
	done
'

test_done
