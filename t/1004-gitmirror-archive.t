#!/bin/sh
test_description='gitmirror archive: byte-stable tarballs of a tree'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"

test_expect_success 'setup: a tree with dirs, symlinks, exec bits' '
	new_upstream go &&
	mkdir -p up/go/src/cmd/go up/go/empty-not up/go/misc &&
	echo "package main" >up/go/src/cmd/go/main.go &&
	printf "#!/bin/sh\necho ok\n" >up/go/src/make.bash &&
	chmod +x up/go/src/make.bash &&
	ln -s src/make.bash up/go/make-link &&
	ln -s ../nowhere up/go/misc/dangling &&
	echo x >up/go/empty-not/x &&
	echo "a.b" >up/go/a.b &&
	echo "a-b" >up/go/a-b &&
	mkdir up/go/a && echo in >up/go/a/in &&
	head -c 3000000 /dev/urandom >up/go/misc/big.bin &&
	printf "no newline" >up/go/misc/nonl &&
	: >up/go/misc/empty &&
	git -C up/go add . &&
	GIT_COMMITTER_DATE="1500000500 +0200" git -C up/go commit -q -m tree &&
	git -C up/go tag v1 &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go/.git
	EOF
	gitmirror sync >/dev/null
'

test_expect_success 'extracts to what git archive extracts to' '
	gitmirror archive go master >a.tgz &&
	mkdir ours theirs &&
	tar xzf a.tgz -C ours &&
	git -C up/go archive master | tar xf - -C theirs &&
	diff -r --no-dereference ours theirs &&
	test -x ours/src/make.bash &&
	test ! -x ours/src/cmd/go/main.go &&
	test "$(readlink ours/make-link)" = src/make.bash &&
	test "$(readlink ours/misc/dangling)" = ../nowhere
'

test_expect_success 'entries: tree order, commit time, owner 0, modes' '
	tar tvzf a.tgz --numeric-owner --full-time >list &&
	test_grep ! -v " 0/0 " list &&
	test_grep ! -v " 2017-07-14 02:48:20 " list &&
	awk "{print \$1, \$6}" list >actual &&
	cat >expect <<-\EOF &&
	-rw-r--r-- a-b
	-rw-r--r-- a.b
	drwxr-xr-x a/
	-rw-r--r-- a/in
	drwxr-xr-x empty-not/
	-rw-r--r-- empty-not/x
	-rw-r--r-- first-1.txt
	lrwxrwxrwx make-link
	drwxr-xr-x misc/
	-rw-r--r-- misc/big.bin
	lrwxrwxrwx misc/dangling
	-rw-r--r-- misc/empty
	-rw-r--r-- misc/nonl
	drwxr-xr-x src/
	drwxr-xr-x src/cmd/
	drwxr-xr-x src/cmd/go/
	-rw-r--r-- src/cmd/go/main.go
	-rwxr-xr-x src/make.bash
	EOF
	test_cmp expect actual
'

test_expect_success 'the same bytes twice, whatever the time zone or clock' '
	gitmirror archive go master >b.tgz &&
	cmp a.tgz b.tgz &&
	TZ=Asia/Tokyo gitmirror archive go v1 >c.tgz &&
	cmp a.tgz c.tgz &&
	gitmirror archive go $(git -C up/go rev-parse master) >d.tgz &&
	cmp a.tgz d.tgz &&
	git -C "$BUILDFARM_DIR/mirror/go.git" repack -q -a -d &&
	gitmirror archive go master >e.tgz &&
	cmp a.tgz e.tgz
'

test_expect_success 'gzip: a valid stream, no time stamp in the header' '
	gzip -t a.tgz &&
	od -An -tx1 -N8 a.tgz >hdr &&
	echo " 1f 8b 08 00 00 00 00 00" >expect &&
	test_cmp expect hdr
'

test_expect_success 'a -p prefix puts everything under it' '
	gitmirror archive -p go/ go master >p.tgz &&
	mkdir pre &&
	tar xzf p.tgz -C pre &&
	diff -r --no-dereference pre/go theirs &&
	tar tzf p.tgz | head -1 >first &&
	echo go/ >expect &&
	test_cmp expect first
'

test_expect_success 'submodules: skipped, listed in .gitmirror-submodules' '
	git init -q -b master sub &&
	commit_n sub 1 s &&
	subc=$(git -C sub rev-parse HEAD) &&
	git -C up/go update-index --add --cacheinfo 160000,$subc,lib/sub &&
	git -C up/go commit -q -m "add submodule" &&
	gitmirror sync >/dev/null &&
	gitmirror archive go master >s.tgz &&
	tar tzf s.tgz >names &&
	test_grep ! "lib/sub" names &&
	grep "^lib/\$" names &&
	tar xzf s.tgz -O .gitmirror-submodules >subs &&
	echo "$subc lib/sub" >expect &&
	test_cmp expect subs &&
	! tar tzf a.tgz | grep gitmirror-submodules
'

test_expect_success 'unknown revisions and repos: exit 100, no output' '
	test_expect_code 100 gitmirror archive go nosuchrev >out 2>err &&
	test_must_be_empty out &&
	grep "unknown revision .nosuchrev." err &&
	test_expect_code 100 gitmirror archive go "master:misc" >out &&
	test_must_be_empty out &&
	test_expect_code 100 gitmirror archive nosuch master >out &&
	test_must_be_empty out &&
	test_expect_code 100 gitmirror archive -p ../x go master >out &&
	test_must_be_empty out
'

test_done
