#!/bin/sh
test_description='dashboard: valid HTML, opened in a real headless Chromium'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-dashboard.sh"

test_expect_success 'setup: a <script> in a commit message, a failure' '
	dash_tools &&
	dash_config &&
	add_commits master 1 2 "<script>document.title=\"pwned\"</script> net: x & y" &&
	F=$(store_log "FAIL: <script>alert(1)</script>") &&
	add_record result linux-amd64 2 &&
	add_record result openbsd-amd64 2 &&
	add_record result linux-amd64 1 false "$F" &&
	add_commits master 3 3 &&
	dashboard
'

if ! test_have_prereq TIDY
then
	echo "# tidy missing and install-deps could not install it (offline?)" >&2
fi
test_expect_success TIDY 'every page passes tidy -errors' '
	find "$WWW" -name "*.html" >pages &&
	test_line_count = 8 pages &&
	while read -r p
	do
		tidy -errors -q "$p" || { echo "tidy: $p" >&2; return 1; }
	done <pages
'

if ! test_have_prereq CHROMIUM
then
	echo "# chromium missing and install-deps could not install it (offline?)" >&2
fi
test_expect_success CHROMIUM 'the DOM: cell classes, link targets, text' '
	chrome --dump-dom "file://$WWW/index.html" >dom &&
	test_grep "<title>go master" dom &&
	perl -ne "print \"\$1\\n\" while /<td class=\"(result[^\"]*)\"/g" dom >classes &&
	cat >expect <<-EOF &&
	result
	result unsupported
	result ok
	result ok unsupported
	result fail
	result unsupported
	EOF
	test_cmp expect classes &&
	test_grep "<a href=\"log/$F\">fail</a>" dom &&
	test_grep "<td class=\"desc\">&lt;script&gt;document.title=\"pwned\"&lt;/script&gt; net: x &amp; y 2</td>" dom &&
	test_grep ! "<script" dom
'

test_expect_success CHROMIUM 'the title is the page'"'"'s, not the message'"'"'s' '
	chrome --dump-dom "file://$WWW/commit/go/00/$(hashof 2).html" >dom &&
	test_grep "<title>go 000000000000 " dom &&
	test_grep "&lt;script&gt;document.title" dom &&
	test_grep ! "<script" dom
'

# the pages hold no script at all (checked above): the toggle is CSS
test_expect_success CHROMIUM 'first-class ports only, without JavaScript' '
	chrome --window-size=900,400 \
	    --screenshot="$TRASH_DIRECTORY/all.png" \
	    "file://$WWW/index.html" &&
	chrome --window-size=900,400 \
	    --screenshot="$TRASH_DIRECTORY/short.png" \
	    "file://$WWW/index.html#short" &&
	test -s all.png && test -s short.png &&
	! cmp -s all.png short.png &&
	chrome --window-size=900,400 \
	    --screenshot="$TRASH_DIRECTORY/again.png" \
	    "file://$WWW/index.html" &&
	cmp all.png again.png
'

test_expect_success CHROMIUM 'the builder page shows its SVG plot' '
	chrome --dump-dom "file://$WWW/builder/linux-amd64.html" >dom &&
	test_grep "<img src=\"linux-amd64.svg\"" dom &&
	chrome --dump-dom "file://$WWW/builder/linux-amd64.svg" >svg &&
	test_grep "<polyline" svg &&
	test_grep "<circle" svg
'

test_done
