#!/bin/sh
test_description='buildlet: POST /connect-ssh, a byte pipe to the local sshd'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

# ssh_client PORT [EARLY]: POST /connect-ssh by hand (as the Go client
# does), EARLY sent right behind the request; prints the status line
# and headers (sorted, without Date), then what came back for "ping"
# and for 1 MB, and how the connection ended
ssh_client () {
	perl -e '
		use IO::Socket::INET;
		use MIME::Base64;
		my ($port, $early) = @ARGV;
		$early = "" unless defined $early;
		my $s = IO::Socket::INET->new("127.0.0.1:$port") or die "$!\n";
		my $auth = encode_base64("gomote:pw", "");
		syswrite $s, "POST /connect-ssh HTTP/1.1\r\nHost: x\r\n" .
		    "Authorization: Basic $auth\r\n" .
		    "Content-Length: 0\r\n\r\n$early";
		my $in = "";
		sub more { sysread($s, my $b, 65536) or return 0; $in .= $b; 1 }
		more() or die "no answer\n" until $in =~ /\r\n\r\n/;
		my ($head) = $in =~ /^(.*?)\r\n\r\n/s;
		$in = substr($in, length($head) + 4);
		my @l = split /\r\n/, $head;
		print shift(@l), "\n";
		print "$_\n" for sort grep { !/^Date:/ } @l;
		my $want = "SSH-2.0-echo\r\n$early";
		more() or die "eof\n" while length($in) < length($want);
		print $in eq $want ? "greeting ok\n" : "greeting <$in>\n";
		$in = "";
		syswrite $s, "ping\n";
		more() or die "eof\n" while length($in) < 5;
		print "echo: $in";
		$in = "";
		my $big = join "", map { chr(65 + $_ % 26) } 1 .. 1000000;
		my $pid = fork;
		if ($pid == 0) { syswrite($s, $big) or die; exit 0 }
		more() or die "eof\n" while length($in) < length($big);
		waitpid $pid, 0;
		print $in eq $big ? "1 MB ok\n" : "1 MB differs\n";
		shutdown $s, 1;
		$in = "";
		1 while more();
		print "closed, then ", length($in), " bytes\n";
	' "$@"
}

test_expect_success 'setup: an echo server standing in for sshd' '
	eport=$(free_port) &&
	start_daemon echo tcp-echo $eport &&
	wait_for_port $eport &&
	echo pw >pw &&
	start_buildlet bl -ssh-port $eport -password-file pw
'

test_expect_success '101 Switching Protocols, then bytes both ways' '
	ssh_client $port >out &&
	cat >expect <<-\EOF &&
	HTTP/1.1 101 Switching Protocols
	Connection: Upgrade
	Upgrade: ssh
	greeting ok
	echo: ping
	1 MB ok
	closed, then 0 bytes
	EOF
	test_cmp expect out
'

test_expect_success 'bytes sent right behind the request are not lost' '
	ssh_client $port "early bytes
" >out &&
	grep "^greeting ok$" out &&
	grep "^1 MB ok$" out
'

test_expect_success 'bad requests: 400; no password: 403' '
	curl -sS -o body -w "%{http_code}\n" -u gomote:pw -d x=1 \
	    "$url/connect-ssh" >code &&
	cat code body >out &&
	printf "400\nrequires zero Content-Length\n" >expect &&
	test_cmp expect out &&
	curl -sS -o body -w "%{http_code}\n" -u gomote:pw "$url/connect-ssh" \
	    >code &&
	cat code body >out &&
	printf "400\nrequires POST method\n" >expect &&
	test_cmp expect out &&
	curl -sS -o body -w "%{http_code}\n" -X POST "$url/connect-ssh" >code &&
	cat code body >out &&
	printf "403\ninvalid password\n" >expect &&
	test_cmp expect out
'

test_expect_success 'authorized keys: the user must exist, the name must be sane' '
	curl -sS -o body -w "%{http_code}\n" -u gomote:pw -X POST \
	    -H "X-Go-Ssh-User: nosuchuser-$port" \
	    -H "X-Go-Authorized-Key: ssh-ed25519 AAAA test" \
	    "$url/connect-ssh" >code &&
	cat code body >out &&
	printf "400\nadding ssh authorized key: no user nosuchuser-%s\n" \
	    $port >expect &&
	test_cmp expect out &&
	curl -sS -o body -w "%{http_code}\n" -u gomote:pw -X POST \
	    -H "X-Go-Ssh-User: ../../etc" \
	    -H "X-Go-Authorized-Key: ssh-ed25519 AAAA test" \
	    "$url/connect-ssh" >code &&
	cat code body >out &&
	printf "400\nadding ssh authorized key: bad user name\n" >expect &&
	test_cmp expect out
'

# a buildlet as root whose ~root is ./home, in a mount namespace of its
# own; nothing listens on its -ssh-port, so a key added is a 502
test_lazy_prereq MOUNTNS '
	test "$(id -u)" = 0 &&
	unshare -m sh -c "mount --bind /tmp /root"
'

keys_req () {
	curl -sS -o body -w "%{http_code}\n" -u gomote:pw -X POST \
	    -H "X-Go-Ssh-User: root" -H "X-Go-Authorized-Key: $1" \
	    "$nsurl/connect-ssh" >code &&
	cat code body >out
}

test_expect_success MOUNTNS 'authorized_keys: whole lines, one link, the user'"'"'s own' '
	mkdir -p home &&
	start_daemon ns unshare -m sh -c \
	    "mount --bind \"\$0\" /root && exec buildlet \"\$@\"" \
	    "$PWD/home" -listen 127.0.0.1:0 -workdir "$PWD/ns.wd" \
	    -password-file pw -ssh-port $(free_port) &&
	nsport=$(daemon_port ns) &&
	nsurl=http://127.0.0.1:$nsport &&
	test_when_finished "stop_daemon ns" &&
	keys_req "ssh-ed25519 AAAAlong key1" &&
	grep "^502$" code &&
	test_path_is_file home/.ssh/authorized_keys &&
	keys_req "ssh-ed25519 AAAA" &&
	keys_req "ssh-ed25519 AAAAlong key1" &&
	printf "ssh-ed25519 AAAAlong key1\nssh-ed25519 AAAA\n" >expect &&
	test_cmp expect home/.ssh/authorized_keys &&
	printf "no newline" >home/.ssh/authorized_keys &&
	keys_req "k2" &&
	printf "no newline\nk2\n" >expect &&
	test_cmp expect home/.ssh/authorized_keys &&
	keys_req "" &&
	printf "no newline\nk2\n" >expect &&
	test_cmp expect home/.ssh/authorized_keys &&
	echo secret >other &&
	rm home/.ssh/authorized_keys &&
	ln other home/.ssh/authorized_keys &&
	keys_req "k3" &&
	printf "400\nadding ssh authorized key: %s/.ssh/authorized_keys: has more than one link\n" \
	    /root >expect &&
	test_cmp expect out &&
	echo secret >expect &&
	test_cmp expect other &&
	rm home/.ssh/authorized_keys &&
	ln -s ../../other home/.ssh/authorized_keys &&
	keys_req "k3" &&
	printf "400\nadding ssh authorized key: %s/.ssh/authorized_keys: is a symbolic link\n" \
	    /root >expect &&
	test_cmp expect out &&
	rm home/.ssh/authorized_keys &&
	: >home/.ssh/authorized_keys &&
	chown 1:1 home/.ssh/authorized_keys &&
	keys_req "k3" &&
	printf "400\nadding ssh authorized key: %s/.ssh/authorized_keys: not owned by the user\n" \
	    /root >expect &&
	test_cmp expect out &&
	test_must_be_empty home/.ssh/authorized_keys
'

test_expect_success 'no sshd: 502 with the dial error' '
	stop_daemon echo &&
	curl -sS -o body -w "%{http_code}\n" -u gomote:pw -X POST \
	    "$url/connect-ssh" >code &&
	cat code body >out &&
	printf "502\ndial tcp 127.0.0.1:%s: connect: connection refused\n" \
	    $eport >expect &&
	test_cmp expect out
'

test_expect_success 'stop' '
	stop_daemon bl
'

test_done
