#!/bin/sh
test_description='gomote: progress on stderr only when it is a terminal'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-gomote.sh"

test_lazy_prereq SCRIPT 'script -qec true /dev/null >/dev/null'

# on_tty CMD: run CMD with a terminal as its stdin, stdout and stderr
# (script(1)); what the terminal showed in tty.out
on_tty () {
	script -qec "$1" /dev/null </dev/null >tty.out
}

test_expect_success 'setup' '
	gomote_direct bl &&
	head -c 3000000 /dev/urandom >big &&
	mkdir -p src &&
	cp big src/ &&
	tar -czf big.tgz big
'

for c in "put \$inst big" "puttar \$inst big.tgz" \
    "push -dir src \$inst" "gettar \$inst >/dev/null"
do
	name=${c%% *}
	test_expect_success "$name: silent when stderr is no terminal" "
		gomote $c 2>err &&
		test_must_be_empty err
	"
	test_expect_success SCRIPT "$name: bytes and rate on a terminal" "
		rm -rf \"\$wd/go\" &&
		on_tty \"gomote $c\" &&
		grep \"$name: [0-9.]* [kMG]*B.*, [0-9.]* [kMG]*B/s\" tty.out
	"
done

test_expect_success SCRIPT 'put: of a known size, the total' '
	on_tty "gomote put $inst big" &&
	grep "put: 3.0 MB of 3.0 MB, " tty.out
'

test_expect_success 'stop' '
	stop_daemon bl
'

test_done
