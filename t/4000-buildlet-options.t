#!/bin/sh
test_description='buildlet: flags, start-up checks, exit codes, stopping'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

cat >usage <<\EOF
usage: buildlet [-h] [-insecure] [-halt-cmd command] [-listen addr]
                [-min-free size] [-password-file file] [-ssh-port port]
                [-tls-cert file -tls-key file] [-workdir dir]
       buildlet -reverse-type type -coordinator url [-ca-file file]
                [-halt-cmd command] [-hostname name] [-keyfile file]
                [-min-free size] [-ssh-port port] [-workdir dir]
EOF

test_expect_success '-h and -help print the usage on stdout and exit 0' '
	buildlet -h >out 2>err &&
	test_cmp usage out &&
	test_must_be_empty err &&
	buildlet -help >out 2>err &&
	test_cmp usage out &&
	buildlet --help >out &&
	test_cmp usage out
'

test_expect_success 'an unknown flag or an operand: usage on stderr, 100' '
	test_expect_code 100 buildlet -nosuchflag >out 2>err &&
	test_must_be_empty out &&
	grep "^buildlet: unrecognized option" err &&
	tail -n 6 err >err.usage &&
	test_cmp usage err.usage &&
	test_expect_code 100 buildlet -workdir "$PWD/w" extra 2>err &&
	tail -n 6 err >err.usage &&
	test_cmp usage err.usage &&
	test_expect_code 100 buildlet -listen 2>err &&
	test_path_is_missing w
'

test_expect_success 'no password: loopback only, unless -insecure' '
	for a in 0.0.0.0:5936 :5936 "[::]:5936" 10.1.2.3:80 example.org:80
	do
		test_expect_code 100 buildlet -listen "$a" \
		    -workdir "$PWD/w" 2>err || return 1
		grep "refusing to listen on .* without a password" err ||
		    return 1
	done &&
	test_path_is_missing w &&
	start_daemon open buildlet -insecure -listen 0.0.0.0:0 \
	    -workdir "$PWD/open.wd" &&
	p=$(daemon_port open) &&
	curl -sS http://127.0.0.1:$p/status >out &&
	printf "{\"Version\":15}" >expect &&
	test_cmp expect out &&
	stop_daemon open &&
	grep "no password" open.log
'

test_expect_success 'a bad -listen is 100; a port in use is 111' '
	test_expect_code 100 buildlet -listen nonsense -workdir "$PWD/w" \
	    2>err &&
	grep "bad -listen" err &&
	test_expect_code 100 buildlet -listen 127.0.0.1:99999 \
	    -workdir "$PWD/w" 2>err &&
	start_buildlet busy &&
	test_expect_code 111 buildlet -listen 127.0.0.1:$port \
	    -workdir "$PWD/w2" 2>err &&
	grep "Address already in use" err &&
	stop_daemon busy
'

test_expect_success 'bad -ssh-port, lone TLS file, empty -halt-cmd: all said, 100' '
	test_expect_code 100 buildlet -ssh-port 0 -tls-cert c.pem \
	    -halt-cmd "" -workdir "$PWD/w" 2>err &&
	grep "bad -ssh-port" err &&
	grep "tls-cert and -tls-key go together" err &&
	grep "empty -halt-cmd" err &&
	test_expect_code 100 buildlet -ssh-port 70000 -workdir "$PWD/w" \
	    2>err &&
	test_expect_code 100 buildlet -tls-key k.pem -workdir "$PWD/w" 2>err &&
	test_path_is_missing w
'

test_expect_success 'password file: missing, empty, or more than one line' '
	test_expect_code 100 buildlet -password-file nope \
	    -workdir "$PWD/w" 2>err &&
	grep "open password file .nope." err &&
	: >empty &&
	test_expect_code 100 buildlet -password-file empty \
	    -workdir "$PWD/w" 2>err &&
	grep "want one non-empty line" err &&
	printf "a\nb\n" >two &&
	test_expect_code 100 buildlet -password-file two \
	    -workdir "$PWD/w" 2>err &&
	grep "want one non-empty line" err &&
	test_path_is_missing w
'

test_expect_success 'dangerous work directories are refused' '
	mkdir -p sub/deeper &&
	for d in / /usr /etc /tmp /var "$HOME" "$HOME/.." . .. "$PWD/sub/.." \
	    /nonexistent/w
	do
		test_expect_code 100 buildlet -workdir "$d" 2>err ||
		    return 1
		grep "workdir" err || return 1
	done &&
	(cd sub && test_expect_code 100 buildlet -workdir ..) &&
	ln -s sub link &&
	test_expect_code 100 buildlet -workdir link 2>err &&
	grep "a symbolic link" err &&
	: >file &&
	test_expect_code 100 buildlet -workdir file 2>err &&
	grep "not a directory" err &&
	echo secret >sub/pw &&
	test_expect_code 100 buildlet -workdir sub -password-file sub/pw \
	    2>err &&
	grep "it holds .sub/pw." err &&
	test_path_is_dir sub/deeper &&
	test_path_is_file sub/pw
'

test_expect_success 'the work directory is emptied at start, or made' '
	mkdir -p wd/a/b &&
	echo x >wd/a/b/f &&
	chmod 0555 wd/a/b &&
	ln -s /etc wd/etc &&
	start_buildlet w1 -workdir "$PWD/wd" &&
	ls -A wd >out &&
	test_must_be_empty out &&
	test_path_is_file /etc/passwd &&
	stop_daemon w1 &&
	start_buildlet w2 -workdir "$PWD/new" &&
	test_path_is_dir new &&
	stop_daemon w2 &&
	test_expect_code 100 buildlet -workdir "$PWD/no/wd" 2>err &&
	grep "parent .*/no.: No such file or directory" err
'

test_expect_success 'the default work directory is $TMPDIR/workdir' '
	mkdir tmp &&
	mkdir tmp/workdir &&
	: >tmp/workdir/old &&
	TMPDIR=$PWD/tmp start_daemon dflt buildlet -listen 127.0.0.1:0 &&
	p=$(daemon_port dflt) &&
	curl -sS http://127.0.0.1:$p/workdir >out &&
	printf "%s" "$PWD/tmp/workdir" >expect &&
	test_cmp expect out &&
	test_path_is_missing tmp/workdir/old &&
	stop_daemon dflt
'

# sleeper_pgid ARG: the process group of "/bin/sleep ARG", if it runs
sleeper_pgid () {
	ps -eo pgid=,args= | awk -v a="/bin/sleep $1" \
	    '{ g = $1; sub(/^ *[0-9]+ /, ""); if ($0 == a) print g }'
}

test_expect_success 'SIGTERM stops it: exit 0, commands killed' '
	start_buildlet term &&
	(curl -sS -N -d mode=sys -d cmd=/bin/sleep -d cmdArg=4242.$port \
	    "$url/exec" >/dev/null 2>&1 &) &&
	test_wait_until "pgid=\$(sleeper_pgid 4242.$port) && test -n \"\$pgid\"" &&
	pid=$(cat term.pid) &&
	kill -TERM $pid &&
	test_wait_until "! kill -0 $pid" &&
	wait $pid;
	echo $? >rc &&
	echo 0 >expect &&
	test_cmp expect rc &&
	pgroup_gone $pgid &&
	grep "stopping on signal 15" term.log &&
	grep "stopped$" term.log &&
	rm term.pid
'

# -halt-cmd starts clean although the buildlet runs with signals ignored
test_expect_success '-halt-cmd runs after /halt, then the buildlet exits 0' '
	trap "" HUP USR2 &&
	start_buildlet halt -halt-cmd "{ echo halted; grep -E \"^Sig(Blk|Ign):\" /proc/self/status; } >\"$PWD/halted.tmp\" && mv \"$PWD/halted.tmp\" \"$PWD/halted\"" &&
	trap - HUP USR2 &&
	curl -sS -o out -w "%{http_code}\n" -X POST "$url/halt" >code &&
	echo 200 >expect &&
	test_cmp expect code &&
	test_must_be_empty out &&
	wait_for_file halted 5 &&
	printf "halted\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n" \
	    >expect &&
	test_cmp expect halted &&
	pid=$(cat halt.pid) &&
	test_wait_until "! kill -0 $pid" &&
	wait $pid;
	echo $? >rc &&
	echo 0 >expect &&
	test_cmp expect rc &&
	grep "halting: /halt was called" halt.log &&
	rm halt.pid
'

test_expect_success 'without -halt-cmd /halt only ends the process' '
	start_buildlet halt2 &&
	curl -sS -X POST "$url/halt" &&
	pid=$(cat halt2.pid) &&
	test_wait_until "! kill -0 $pid" &&
	wait $pid;
	echo $? >rc &&
	echo 0 >expect &&
	test_cmp expect rc &&
	test_grep ! "halt-cmd" halt2.log &&
	rm halt2.pid
'

test_expect_success '$BUILDLET_PASSWORD is the password and commands do not see it' '
	BUILDLET_PASSWORD=s3cret start_buildlet envpw &&
	curl -s -o /dev/null -w "%{http_code}\n" "$url/status" >code &&
	echo 403 >expect &&
	test_cmp expect code &&
	curl -sS --raw -u gomote:s3cret -d mode=sys -d cmd=/usr/bin/env \
	    "$url/exec" >out &&
	grep "Process-State: ok" out &&
	test_grep ! BUILDLET_PASSWORD out &&
	test_grep ! s3cret envpw.log &&
	stop_daemon envpw
'

test_expect_success 'the usage is the man page SYNOPSIS, word for word' '
	test_usage_is_synopsis buildlet
'

test_done
