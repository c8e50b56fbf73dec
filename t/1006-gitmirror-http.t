#!/bin/sh
test_description='gitmirror sync over smart HTTP (git http-backend behind lighttpd)'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

test_lazy_prereq LIGHTTPD '
	test -x /usr/sbin/lighttpd &&
	test -x "$(git --exec-path)/git-http-backend"
'

test_expect_success LIGHTTPD 'setup: lighttpd serving git http-backend' '
	new_upstream go &&
	commit_n up/go 2 &&
	git -C up/go tag v1 &&
	git init -q --bare up/priv.git &&
	git -C up/priv.git fetch -q ../go/.git "+refs/*:refs/*" &&
	http_port=$(free_port) &&
	echo "gopher:s3cret-pw" >htpasswd &&
	cat >lighttpd.conf <<-EOF &&
	server.document-root = "$TRASH_DIRECTORY"
	server.bind = "127.0.0.1"
	server.port = $http_port
	server.modules = ( "mod_auth", "mod_authn_file", "mod_cgi", "mod_setenv",
	    "mod_alias" )
	server.errorlog = "$TRASH_DIRECTORY/lighttpd.err"
	setenv.add-environment = (
		"GIT_PROJECT_ROOT" => "$TRASH_DIRECTORY/up",
		"GIT_HTTP_EXPORT_ALL" => "1"
	)
	\$HTTP["url"] =~ "^/git/" {
		cgi.assign = ( "" => "" )
		alias.url = ( "/git/" => "$(git --exec-path)/git-http-backend/" )
	}
	auth.backend = "plain"
	auth.backend.plain.userfile = "$TRASH_DIRECTORY/htpasswd"
	\$HTTP["url"] =~ "^/git/priv" {
		auth.require = ( "" => ( "method" => "basic", "realm" => "git",
		    "require" => "valid-user" ) )
	}
	EOF
	start_daemon lighttpd /usr/sbin/lighttpd -D -f lighttpd.conf &&
	wait_for_port $http_port &&
	git ls-remote http://127.0.0.1:$http_port/git/go/.git >/dev/null
'

test_expect_success LIGHTTPD 'a mirror over smart HTTP' '
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = http://127.0.0.1:$http_port/git/go/.git
		branch = master
	EOF
	gitmirror sync >out &&
	test_line_count = 3 out &&
	refs up/go/.git >expect &&
	refs "$BUILDFARM_DIR/mirror/go.git" >actual &&
	test_cmp expect actual
'

test_expect_success LIGHTTPD 'without credentials a protected repo is refused: 100' '
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "priv"]
		upstream = http://127.0.0.1:$http_port/git/priv.git
		credentials = $TRASH_DIRECTORY/netrc
	EOF
	: >netrc &&
	test_expect_code 100 gitmirror sync >out 2>err &&
	grep "^gitmirror: priv: fetch " err
'

test_expect_success LIGHTTPD 'with a netrc entry it is fetched; the password is never shown' '
	echo "machine 127.0.0.1 login gopher password s3cret-pw" >netrc &&
	gitmirror -v sync >out 2>err &&
	refs up/priv.git >expect &&
	refs "$BUILDFARM_DIR/mirror/priv.git" >actual &&
	test_cmp expect actual &&
	test_grep ! s3cret out err &&
	! grep -r s3cret "$BUILDFARM_DIR/state" "$BUILDFARM_DIR/corpus" \
	    "$BUILDFARM_DIR/mirror/priv.git/config"
'

test_expect_success LIGHTTPD 'a wrong password: 100, named without the secret' '
	echo "machine 127.0.0.1 login gopher password wrong-pw" >netrc &&
	git -C up/priv.git update-ref refs/heads/new HEAD &&
	test_expect_code 100 gitmirror sync >out 2>err &&
	test_grep ! wrong-pw err
'

test_done
