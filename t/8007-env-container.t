#!/bin/sh
test_description='env/container: the buildlet image installs what the buildlet links'
. ./test-lib.sh

CF=$BUILDFARM_TOP/env/container/Containerfile

test_lazy_prereq TOOLS 'command -v readelf && command -v dpkg-query'

# the packages the runtime stage installs: the words of its apt-get
# install, after the last FROM
test_expect_success 'setup: the runtime packages of the Containerfile' '
	awk "/^FROM /{ s = \"\" } { s = s \$0 \"\\n\" } END { printf \"%s\", s }" \
	    "$CF" >final &&
	test_grep "apt-get install" final &&
	tr " \\\\\\t" "\\n\\n\\n" <final | grep "^[a-z0-9][a-z0-9.+-]*$" | sort -u >pkgs &&
	test -s pkgs
'

test_expect_success TOOLS 'every library the buildlet needs comes from one of them' '
	readelf -d "$BUILDFARM_TOP/cmd/buildlet/buildlet" |
	    sed -n "s/.*(NEEDED).*\[\(.*\)\]/\1/p" >needed &&
	test -s needed &&
	while read -r so
	do
		case $so in
		libc.so.*|libm.so.*|libpthread.so.*)
			continue ;;	# libc6, in every Debian image
		libasan.so.*|libubsan.so.*|libtsan.so.*)
			continue ;;	# a sanitizer build (make check-asan)
		esac
		path=$(ldconfig -p | awk -v s="$so" "\$1 == s && /x86-64/ { print \$NF; exit }") &&
		test -n "$path" &&
		pkg=$(dpkg-query -S "$(readlink -f "$path")" 2>/dev/null ||
		    dpkg-query -S "$path") &&
		pkg=${pkg%%:*} &&
		grep -qx "$pkg" pkgs || {
			echo "$so is in $pkg, which the image does not install" >&2
			return 1
		}
	done <needed
'

test_expect_success 'a non-root user; reverse mode by default, arguments replace it' '
	test_grep "^USER buildlet$" "$CF" &&
	test_grep "useradd .*buildlet" "$CF" &&
	test_grep "^ENTRYPOINT \[.*-reverse-type .*-coordinator .*-keyfile /etc/buildlet/key" "$CF" &&
	grep "^ENTRYPOINT" "$CF" >ep &&
	test_grep -F '"'"'exec /usr/local/bin/buildlet \"$@\"'"'"' ep
'

test_done
