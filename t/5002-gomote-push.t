#!/bin/sh
test_description='gomote push: a delta by SHA-1, what git ignores left out'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-gomote.sh"

# tree_of DIR: every file under DIR with its contents' SHA-1, sorted
tree_of () {
	(cd "$1" && find . -type f -exec sha1sum {} + | sort -k2)
}

test_expect_success 'setup: a buildlet, a git work tree with ignored files' '
	gomote_direct bl &&
	mkdir -p src/a/b src/build src/empty &&
	echo one >src/one &&
	echo deep >src/a/b/deep &&
	printf "#!/bin/sh\necho run\n" >src/a/run.sh &&
	chmod 755 src/a/run.sh &&
	git -C src init -q &&
	printf "*.o\n/build/\n" >src/.gitignore &&
	echo obj >src/a/x.o &&
	echo out >src/build/out &&
	ln -s one src/link
'

test_expect_success 'push -dry-run to nothing: every file, nothing sent' '
	gomote push -dry-run -dir src $inst >out &&
	cat >expect <<-\EOF &&
	put .gitignore
	put a/b/deep
	put a/run.sh
	put one
	EOF
	sort out >actual &&
	test_cmp expect actual &&
	test_path_is_missing "$wd/go"
'

test_expect_success 'push: the tree under go/, modes kept, no ignored files' '
	gomote push -dir src $inst &&
	tree_of "$wd/go" >actual &&
	rm -rf want && mkdir want &&
	cp -p src/one src/.gitignore want/ &&
	mkdir -p want/a/b &&
	cp -p src/a/b/deep want/a/b/ &&
	cp -p src/a/run.sh want/a/ &&
	tree_of want >expect &&
	test_cmp expect actual &&
	test -x "$wd/go/a/run.sh" &&
	test_path_is_missing "$wd/go/link" &&
	test_path_is_missing "$wd/go/build"
'

test_expect_success 'push again: nothing to do, no tarball sent' '
	gomote push -dry-run -dir src $inst >out &&
	test_must_be_empty out &&
	n=$(grep -c "PUT /writetgz" bl.log) &&
	gomote push -dir src $inst &&
	test "$(grep -c "PUT /writetgz" bl.log)" = "$n"
'

test_expect_success 'one change, one file gone: one put, one rm' '
	echo changed >src/one &&
	rm src/a/b/deep &&
	gomote push -dry-run -dir src $inst >out &&
	printf "rm a/b/deep\nput one\n" >expect &&
	test_cmp expect out &&
	gomote push -dir src $inst &&
	echo changed >expect &&
	test_cmp expect "$wd/go/one" &&
	test_path_is_missing "$wd/go/a/b/deep" &&
	test_path_is_dir "$wd/go/a/b"
'

test_expect_success 'a same-size change is found by its SHA-1' '
	echo chanGed >src/one &&
	gomote push -dry-run -dir src $inst >out &&
	echo "put one" >expect &&
	test_cmp expect out
'

test_expect_success 'remote files that git ignores stay; a dir gone goes whole' '
	mkdir -p "$wd/go/build" "$wd/go/gone/sub" &&
	echo remote >"$wd/go/build/made" &&
	echo remote >"$wd/go/a/y.o" &&
	echo x >"$wd/go/gone/sub/f" &&
	gomote push -dry-run -dir src $inst >out &&
	printf "rm gone/\nput one\n" >expect &&
	test_cmp expect out &&
	gomote push -dir src $inst &&
	test_path_is_missing "$wd/go/gone" &&
	test_path_is_file "$wd/go/build/made" &&
	test_path_is_file "$wd/go/a/y.o"
'

test_expect_success 'outside a git work tree nothing is ignored; -dest' '
	mkdir plain &&
	echo o >plain/x.o &&
	GIT_CEILING_DIRECTORIES=$PWD gomote push -dir plain \
	    -dest elsewhere/p $inst &&
	test_cmp plain/x.o "$wd/elsewhere/p/x.o"
'

test_expect_success '-dest with a trailing slash is the same directory' '
	GIT_CEILING_DIRECTORIES=$PWD gomote push -dry-run -dir plain \
	    -dest elsewhere/p/ $inst >out &&
	test_must_be_empty out
'

test_expect_success 'GOROOT is the default -dir' '
	GOROOT=$PWD/plain GIT_CEILING_DIRECTORIES=$PWD \
	    gomote push -dry-run -dest elsewhere/p $inst >out &&
	test_must_be_empty out
'

test_expect_success 'bad -dest and a missing -dir: 100' '
	test_expect_code 100 gomote push -dir src -dest /abs $inst 2>err &&
	grep "want a directory relative" err &&
	test_expect_code 100 gomote push -dir nonexist $inst 2>err &&
	grep "nonexist" err
'

test_expect_success 'stop' '
	stop_daemon bl
'

test_done
