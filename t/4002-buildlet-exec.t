#!/bin/sh
test_description='buildlet: POST /exec, streamed output, trailers, process groups'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

# sh_exec OUT SCRIPT [curl args]: /bin/sh -c SCRIPT in mode=sys
sh_exec () {
	sh_out_=$1
	sh_script_=$2
	shift 2
	bl_exec "$sh_out_" -d mode=sys -d cmd=/bin/sh -d cmdArg=-c \
	    --data-urlencode "cmdArg=$sh_script_" "$@"
}

# state OUT: the expected trailers, "Process-State: $1", "X-Exit-Code: $2"
state () {
	printf "Process-State: %s\nX-Exit-Code: %s\n" "$1" "$2" >expect.t
}

# wait_pgid PATTERN: the process group of the process whose command
# line matches PATTERN (an awk regex), once it exists
pgid_of () {
	ps -eo pgid=,args= | awk -v p="$1" '{
		g = $1; sub(/^ *[0-9]+ /, "")
		if ($0 ~ p) { print g; exit }
	}'
}

wait_pgid () {
	wp_pattern_=$1
	test_wait_until 'pgid=$(pgid_of "$wp_pattern_") && test -n "$pgid"'
}

# The buildlet starts with signals ignored, as under nohup or make:
# its commands must not inherit that.
test_expect_success 'setup' '
	trap "" HUP USR2 34 &&
	start_buildlet bl &&
	trap - HUP USR2 34
'

test_expect_success 'stdout and stderr stream in one pipe, then the trailers' '
	sh_exec out "echo one; echo two >&2; echo three" -D headers &&
	printf "one\ntwo\nthree\n" >expect &&
	test_cmp expect out.body &&
	state ok 0 &&
	test_cmp expect.t out.trailers &&
	tr -d "\r" <headers >h &&
	grep "^HTTP/1.1 200 OK$" h &&
	grep "^Trailer: Process-State, X-Exit-Code$" h &&
	grep "^Transfer-Encoding: chunked$" h
'

test_expect_success 'exit statuses and signals, in Go words and as numbers' '
	sh_exec out "echo bye; exit 3" &&
	echo bye >expect &&
	test_cmp expect out.body &&
	state "exit status 3" 3 &&
	test_cmp expect.t out.trailers &&
	sh_exec out "kill -TERM \$\$" &&
	test_must_be_empty out.body &&
	state "signal: terminated" 143 &&
	test_cmp expect.t out.trailers &&
	sh_exec out "kill -KILL \$\$" &&
	state "signal: killed" 137 &&
	test_cmp expect.t out.trailers
'

test_expect_success 'a command that cannot start: 200, the error in the trailer' '
	bl_exec out -d mode=sys -d cmd=no-such-command &&
	test_must_be_empty out.body &&
	state "exec: \"no-such-command\": executable file not found in \$PATH" \
	    127 &&
	test_cmp expect.t out.trailers &&
	bl_exec out -d mode=sys -d cmd=/no/such/file &&
	state "fork/exec /no/such/file: no such file or directory" 127 &&
	test_cmp expect.t out.trailers &&
	bl_exec out -d mode=sys -d cmd=/bin/true -d dir=nodir &&
	state "chdir $wd/nodir: no such file or directory" 127 &&
	test_cmp expect.t out.trailers &&
	echo "echo hi" >script &&
	curl -sS -T script "$url/write?path=noexec.sh&mode=420" &&
	bl_exec out -d cmd=noexec.sh &&
	state "fork/exec $wd/noexec.sh: permission denied" 126 &&
	test_cmp expect.t out.trailers
'

test_expect_success 'relative commands run in the work directory' '
	printf "#!/bin/sh\necho \"\$(pwd) \$*\"\n" >script &&
	curl -sS -T script "$url/write?path=bin/where.sh&mode=493" >out &&
	printf OK >expect &&
	test_cmp expect out &&
	bl_exec out -d cmd=bin/where.sh -d cmdArg=a -d "cmdArg=b c" &&
	echo "$wd/bin a b c" >expect &&
	test_cmp expect out.body &&
	bl_exec out -d cmd=bin/where.sh -d dir=. &&
	echo "$wd " >expect &&
	test_cmp expect out.body &&
	mkdir "$wd/sub" &&
	bl_exec out -d mode=sys -d cmd=/bin/pwd &&
	echo "$wd" >expect &&
	test_cmp expect out.body &&
	bl_exec out -d mode=sys -d cmd=pwd -d dir=sub &&
	echo "$wd/sub" >expect &&
	test_cmp expect out.body &&
	bl_exec out -d mode=sys -d cmd=/bin/pwd -d dir=/ &&
	echo / >expect &&
	test_cmp expect out.body
'

test_expect_success 'cmd and dir never go through a symbolic link (400)' '
	mkdir -p outside &&
	printf "#!/bin/sh\necho escaped\n" >outside/evil.sh &&
	chmod 755 outside/evil.sh &&
	ln -s "$PWD/outside" "$wd/link" &&
	ln -s "$PWD/outside/evil.sh" "$wd/evil.sh" &&
	for args in "-d cmd=link/evil.sh|cmd|link/evil.sh" \
	    "-d cmd=evil.sh|cmd|evil.sh" \
	    "-d cmd=bin/where.sh -d dir=link|dir|link" \
	    "-d cmd=bin/where.sh -d dir=link/.|dir|link/." \
	    "-d mode=sys -d cmd=/bin/pwd -d dir=link|dir|link"
	do
		a=${args%%|*} &&
		rest=${args#*|} &&
		printf "400\nbad '\''%s'\'' parameter: \"%s\" goes through a symbolic link\n" \
		    "${rest%|*}" "${rest#*|}" >expect &&
		curl -sS -o body -w "%{http_code}\n" $a "$url/exec" >code &&
		cat code body >out &&
		test_cmp expect out || return 1
	done &&
	rm "$wd/link" "$wd/evil.sh"
'

test_expect_success 'bad requests get a plain 400 before anything runs' '
	for args in "-G -d cmd=/bin/true -d mode=sys|requires POST method" \
	    "-d mode=sys|requires '\''cmd'\'' parameter" \
	    "-d cmd=/bin/true|requires '\''cmd'\'' parameter" \
	    "-d cmd=../x|requires '\''cmd'\'' parameter" \
	    "-d cmd=..|requires '\''cmd'\'' parameter" \
	    "-d cmd=./|requires '\''cmd'\'' parameter" \
	    "-d cmd=bin/where.sh -d dir=../x|bogus '\''dir'\'' parameter" \
	    "-d cmd=bin/where.sh -d dir=/tmp|bogus '\''dir'\'' parameter" \
	    "-d cmd=/bin/true -d mode=sys -d timeout=x|bad '\''timeout'\'' parameter" \
	    "-d cmd=/bin/true -d mode=sys -d timeout=0|bad '\''timeout'\'' parameter" \
	    "--http1.0 -d cmd=/bin/true -d mode=sys|HTTP/1.1 or higher required"
	do
		a=${args%|*} &&
		printf "400\n%s\n" "${args#*|}" >expect &&
		curl -sS -o body -w "%{http_code}\n" $a "$url/exec" >code &&
		cat code body >out &&
		test_cmp expect out || return 1
	done
'

test_expect_success 'errors after the method check are chunked, Trailer declared' '
	printf "POST /exec HTTP/1.1\nHost: x\nConnection: close\nContent-Type: application/x-www-form-urlencoded\nContent-Length: 8\n\ncmd=../x" |
	"$TEST_DIRECTORY/helper/raw-http" -n -t 10 "$port" >raw.bin &&
	perl -0777 -ne "/\\A(.*?\r\n)\r\n(.*)\z/s or die; print \$1" \
	    raw.bin | grep -v "^Date: " | LC_ALL=C sort >head &&
	perl -0777 -ne "/\r\n\r\n(.*)\z/s and print \$1" raw.bin >body &&
	printf "%s\r\n" "Connection: close" "Content-Type: text/plain; charset=utf-8" \
	    "HTTP/1.1 400 Bad Request" "Trailer: Process-State" \
	    "Transfer-Encoding: chunked" "X-Content-Type-Options: nosniff" \
	    >expect &&
	test_cmp expect head &&
	printf "19\r\nrequires '\''cmd'\'' parameter\n\r\n0\r\n\r\n" >expect &&
	test_cmp expect body
'

test_expect_success 'size limits: 10 MiB of form, 65536 values, 1 MiB a value' '
	perl -e "print q(mode=sys&cmd=/bin/true&cmdArg=), q(x) x (10 << 20)" \
	    >huge &&
	curl -sS -o body -w "%{http_code}\n" --data-binary @huge \
	    "$url/exec" >code &&
	cat code body >out &&
	printf "413\nrequest body too large\n" >expect &&
	test_cmp expect out &&
	perl -e "print q(mode=sys&cmd=/bin/true), q(&env=A) x 65537" >many &&
	curl -sS -D hdr -o body -w "%{http_code}\n" --data-binary @many \
	    "$url/exec" >code &&
	cat code body >out &&
	printf "400\ntoo many '\''env'\'' parameters (at most 65536)\n" \
	    >expect &&
	test_cmp expect out &&
	tr -d "\r" <hdr >h &&
	test_grep "^Transfer-Encoding: chunked$" h &&
	test_grep "^Trailer: Process-State$" h &&
	perl -e "print q(mode=sys&cmd=/bin/true&cmdArg=), q(x) x (1 << 20), q(y)" \
	    >long &&
	curl -sS -o body -w "%{http_code}\n" --data-binary @long \
	    "$url/exec" >code &&
	cat code body >out &&
	printf "400\n'\''cmdArg'\'' parameter longer than 1048576 bytes\n" \
	    >expect &&
	test_cmp expect out &&
	rm huge many long
'

test_expect_success 'debug=true: the command line first, in Go %q form' '
	bl_exec out -d mode=sys -d cmd=/bin/echo -d cmdArg=hi \
	    -d "cmdArg=a \"q\"" -d debug=true -d env=ZED=1 &&
	head -n 1 out.body >line &&
	grep "^:: Running /bin/echo with args \[\"/bin/echo\" \"hi\" \"a \\\\\"q\\\\\"\"\] and env \[.*\] in dir $wd\$" line &&
	grep "\"WORKDIR=$wd\"" line &&
	grep "\"GOROOT_BOOTSTRAP=$wd/go1.4\"" line &&
	grep "\"ZED=1\"\]" line &&
	sed 1d out.body >rest &&
	printf "\nhi a \"q\"\n" >expect &&
	test_cmp expect rest
'

test_expect_success 'env: later values win, in the place of the first' '
	bl_exec out -d mode=sys -d cmd=/usr/bin/env -d env=FOO=1 \
	    -d env=BAR=2 -d env=FOO=3 -d env=HOME=/elsewhere &&
	grep "^FOO=\|^BAR=\|^HOME=\|^WORKDIR=" out.body >got &&
	printf "HOME=/elsewhere\nWORKDIR=%s\nFOO=3\nBAR=2\n" "$wd" >expect &&
	sort expect >expect.sorted &&
	sort got >got.sorted &&
	test_cmp expect.sorted got.sorted &&
	grep -n "^FOO=3" out.body | cut -d: -f1 >a &&
	grep -n "^BAR=2" out.body | cut -d: -f1 >b &&
	test $(cat a) -lt $(cat b) &&
	test_line_count = 1 a
'

test_expect_success 'path: $WORKDIR and $PATH expand; $EMPTY removes PATH' '
	sh_exec out "echo \"\$PATH\"" -d "path=\$WORKDIR/bin" -d "path=\$PATH" \
	    -d path=/opt/x &&
	echo "$wd/bin:$PATH:/opt/x" >expect &&
	test_cmp expect out.body &&
	bl_exec out -d mode=sys -d cmd=/usr/bin/env -d "path=\$EMPTY" &&
	test_grep ! "^PATH=" out.body &&
	grep "^WORKDIR=" out.body
'

test_expect_success 'stdin is /dev/null; big binary output arrives whole' '
	bl_exec out -d mode=sys -d cmd=/bin/cat &&
	test_must_be_empty out.body &&
	state ok 0 &&
	test_cmp expect.t out.trailers &&
	sh_exec out "head -c 5000000 /dev/urandom | tee \"$PWD/sent\"" &&
	cmp sent out.body
'

test_expect_success 'a command starts clean: no signal blocked or ignored' '
	bl_exec out -d mode=sys -d cmd=/bin/cat -d cmdArg=/proc/self/status &&
	grep -E "^Sig(Blk|Ign):" out.body >got &&
	printf "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a command runs on all CPUs, and so does the thread that ran it' '
	grep "^Cpus_allowed_list:" out.body >got &&
	grep "^Cpus_allowed_list:" /proc/self/status >expect &&
	test_cmp expect got &&
	# the thread that ran it, its connection still open, has all too
	perl -MIO::Socket::INET -e "
		my \$s = IO::Socket::INET->new(PeerAddr => \"127.0.0.1\",
		    PeerPort => \$ARGV[0]) or die \"connect: \$!\";
		my \$b = \"mode=sys&cmd=/bin/true\";
		print \$s \"POST /exec HTTP/1.1\\r\\nHost: x\\r\\n\" .
		    \"Content-Type: application/x-www-form-urlencoded\\r\\n\" .
		    \"Content-Length: \" . length(\$b) . \"\\r\\n\\r\\n\$b\";
		my \$r = \"\";
		while (\$r !~ /\\r\\n0\\r\\n.*\\r\\n\\r\\n/s) {
			sysread(\$s, \$r, 4096, length(\$r)) or die \"eof\";
		}
		# a thread may end between the glob and the open
		for my \$t (glob(\"/proc/\$ARGV[1]/task/*/status\")) {
			open(my \$f, \"<\", \$t) or next;
			print <\$f>;
		}
		close(\$s);
	" $port $(cat bl.pid) >status &&
	grep "^Cpus_allowed_list:" status | sort -u >got &&
	test_cmp expect got
'

test_expect_success 'a command starts with fds 0-2 only' '
	bl_exec out -d mode=sys -d cmd=/bin/ls -d cmdArg=/proc/self/fd &&
	printf "0\n1\n2\n3\n" >expect &&
	test_cmp expect out.body
'

test_expect_success 'a command leads its own process group in our session' '
	bl_exec out -d mode=sys -d cmd=/bin/cat -d cmdArg=/proc/self/stat &&
	# the session from stat, as the command saw its own: ps pads it
	# with blanks, and it is 0 where the leader is in an outer pid namespace
	sid=$(awk "{ print \$6 }" /proc/$(cat bl.pid)/stat) &&
	awk -v sid="$sid" "{ print (\$1 == \$5 && \$6 == sid) ? \"leader\" : \$0 }" \
	    out.body >got &&
	echo leader >expect &&
	test_cmp expect got
'

# The command holds 10 s between its lines: each bound is half of that.
test_expect_success 'headers come before the command starts; output as it comes' '
	curl -sS -N --raw -o raw -w "%{time_starttransfer}\n" -d mode=sys \
	    -d cmd=/bin/sh -d cmdArg=-c \
	    --data-urlencode "cmdArg=echo first; sleep 10; echo second" \
	    "$url/exec" >ttfb &&
	awk "{ exit !(\$1 < 5) }" ttfb &&
	perl -e "
		use IO::Socket::INET;
		use Time::HiRes qw(time);
		my \$b = \"mode=sys&cmd=/bin/sh&cmdArg=-c&cmdArg=\" .
		    \"echo+first%3B+sleep+10%3B+echo+second\";
		my \$s = IO::Socket::INET->new(\"127.0.0.1:$port\") or die;
		my \$t0 = time;
		print \$s \"POST /exec HTTP/1.1\r\nHost: x\r\n\" .
		    \"Content-Type: application/x-www-form-urlencoded\r\n\" .
		    \"Content-Length: \" . length(\$b) . \"\r\n\r\n\$b\";
		my \$got = q();
		while (sysread(\$s, my \$buf, 4096)) {
			\$got .= \$buf;
			printf qq(%.2f first\n), time - \$t0
			    if \$buf =~ /first/;
			printf qq(%.2f second\n), time - \$t0
			    if \$buf =~ /second/;
			last if \$got =~ /X-Exit-Code: 0\r\n\r\n/;
		}
	" >stamps &&
	awk "/first/ { exit !(\$1 < 5) }" stamps &&
	awk "/second/ { exit !(\$1 >= 9.9) }" stamps &&
	test_line_count = 2 stamps
'

test_expect_success 'timeout kills the whole process group' '
	t0=$(date +%s) &&
	sh_exec out "sleep 300.$port & sleep 301.$port; echo never" -d timeout=1 &&
	t1=$(date +%s) &&
	test $((t1 - t0)) -lt 5 &&
	test_must_be_empty out.body &&
	state "signal: killed" 137 &&
	test_cmp expect.t out.trailers &&
	ps -eo args >ps.out &&
	test_grep ! "^sleep 30[01].$port" ps.out &&
	grep "killed after the 1000 ms timeout" bl.log
'

test_expect_success 'a client that goes away leaves no process behind' '
	curl -sS -N -d mode=sys -d cmd=/bin/sh -d cmdArg=-c \
	    --data-urlencode "cmdArg=sleep 310.$port & sleep 311.$port; echo done" \
	    "$url/exec" >/dev/null 2>&1 &
	cpid=$! &&
	wait_pgid "^sleep 311.$port" &&
	ps -eo pgid=,args= | awk -v g=$pgid "\$1 == g" >members &&
	test_line_count = 3 members &&
	kill $cpid &&
	wait $cpid;
	pgroup_gone $pgid &&
	test_wait_until "grep \"client went away; process group $pgid killed\" bl.log"
'

# escaped PATTERN: the processes whose command line matches PATTERN
escaped () {
	ps -eo pid=,args= | awk -v p="$1" '{
		pid = $1; sub(/^ *[0-9]+ /, "")
		if ($0 ~ p) print pid
	}'
}

test_expect_success 'nothing a command started outlives its request: setsid, double fork, SIGTERM ignored' '
	test_when_finished "kill -9 \$(escaped \"^sleep 32[0-4].$port\") 2>/dev/null; :" &&
	sh_exec out "setsid sleep 320.$port </dev/null >/dev/null 2>&1 &
	    ( (sleep 321.$port </dev/null >/dev/null 2>&1 &) & )
	    setsid sh -c \"trap \\\"\\\" TERM; sleep 322.$port; :\" </dev/null >/dev/null 2>&1 &
	    setsid sh -c \"setsid sleep 323.$port & sleep 324.$port\" </dev/null >/dev/null 2>&1 &
	    sleep 0.5; echo started" &&
	echo started >expect &&
	test_cmp expect out.body &&
	state ok 0 &&
	test_cmp expect.t out.trailers &&
	test_wait_until "test -z \"\$(escaped \"^sleep 32[0-4].$port\")\"" 10 &&
	ps -eo ppid=,stat= | awk -v p=$(cat bl.pid) "\$1 == p && \$2 ~ /^Z/" >zombies &&
	test_must_be_empty zombies
'

test_expect_success 'a running command keeps what it started, even when another ends' '
	sh_exec out "( (sleep 2.$port; echo late) & ); sleep 3.$port; echo done" \
	    >/dev/null 2>&1 &
	cpid=$! &&
	test_wait_until "test -n \"\$(escaped \"^sleep 3.$port\")\"" &&
	sh_exec out2 "setsid sleep 325.$port </dev/null >/dev/null 2>&1 & echo x" &&
	test_wait_until "test -z \"\$(escaped \"^sleep 325.$port\")\"" 10 &&
	wait $cpid &&
	printf "late\ndone\n" >expect &&
	test_cmp expect out.body
'

# Each command holds 10 s; the bounds leave half of that for a loaded
# machine, and still fail when commands or answers wait for each other.
test_expect_success '20 commands at once, and /status answers meanwhile' '
	t0=$(date +%s) &&
	pids= &&
	for n in $(test_seq 20)
	do
		sh_exec "c$n" "sleep 10.0$port; echo n$n" &
		pids="$pids $!"
	done &&
	wait_pgid "^sleep 10.0$port\$" &&
	curl -sS -o status -w "%{time_total}\n" "$url/status" >tt &&
	awk "{ exit !(\$1 < 5) }" tt &&
	for p in $pids
	do
		wait $p || return 1
	done &&
	t1=$(date +%s) &&
	test $((t1 - t0)) -lt 15 &&
	state ok 0 &&
	for n in $(test_seq 20)
	do
		echo "n$n" >expect &&
		test_cmp expect "c$n.body" &&
		test_cmp expect.t "c$n.trailers" || return 1
	done
'

test_expect_success 'stop' '
	stop_daemon bl
'

test_done
