# test-lib.sh: the library every t/NNNN-<tool>-<topic>.t sources.
#
# The API follows git's t/test-lib.sh (the code is our own):
#
#	#!/bin/sh
#	test_description='what this script covers'
#	. ./test-lib.sh
#	test_expect_success 'title' '
#		tool args >actual &&
#		test_cmp expect actual
#	'
#	test_done
#
# Each script runs in a fresh t/trash.<script>/ (HOME too), with the tools
# of cmd/*/ and the helpers of t/helper first in PATH, BUILDFARM_TOP the
# top of the tree and BUILDFARM_DIR an empty state directory in the trash.
# Test bodies are eval'ed in the script's shell (variables they set are
# seen by later tests; cd only inside subshells), with stdin from
# /dev/null and their output in a log shown (as "# " lines on stderr) when
# they fail.  The trash directory is removed when every test passed and
# kept for inspection otherwise.  TAP goes to stdout, and nothing else
# does.
#
# Options: -v (--verbose) shows the tests' output as they run; -x traces
# the test bodies (into the log, so failing tests show their trace; with
# -v, live); -i (--immediate) stops at the first failure; -d (--debug)
# keeps the trash directory; --root=DIR puts trash directories in DIR;
# --stress[=N] runs the script in N (default: twice the CPUs) parallel
# jobs over and over, each with -v -i, until one run fails, and shows
# that run's output (--stress-limit=M: at most M runs a job).
#
# Sanitizer builds: ASan, UBSan, LSan and TSan errors make a program exit
# 126, which test_must_fail and test_expect_code refuse, so a crash on an
# error path is not taken for the expected failure.

# ---------------------------------------------------------------- options

test_verbose_=
test_trace_=
test_immediate_=
test_debug_=
test_root_=
test_stress_=
test_stress_limit_=
for test_arg_
do
	case $test_arg_ in
	-v|--verbose)
		test_verbose_=t ;;
	-x|--trace)
		test_trace_=t ;;
	-i|--immediate)
		test_immediate_=t ;;
	-d|--debug)
		test_debug_=t ;;
	--root=*)
		test_root_=${test_arg_#--root=} ;;
	--stress)
		test_stress_=$(($(getconf _NPROCESSORS_ONLN 2>/dev/null ||
		    echo 1) * 2)) ;;
	--stress=*)
		test_stress_=${test_arg_#--stress=} ;;
	--stress-limit=*)
		test_stress_limit_=${test_arg_#--stress-limit=} ;;
	-h|--help)
		printf '%s\n' "$test_description"
		exit 0 ;;
	*)
		printf 'error: unknown test option: %s\n' "$test_arg_" >&2
		exit 1 ;;
	esac
done

# ------------------------------------------------------------ environment

# TEST_DIRECTORY is inherited by scripts a test runs (0000-test-lib.t
# runs whole scripts as subtests); otherwise the script was started in t/.
if test -z "$TEST_DIRECTORY"
then
	TEST_DIRECTORY=$(pwd)
else
	TEST_DIRECTORY=$(cd "$TEST_DIRECTORY" && pwd)
fi
if ! test -f "$TEST_DIRECTORY/test-lib.sh"
then
	printf 'error: no test-lib.sh in %s; run the tests from t/\n' \
	    "$TEST_DIRECTORY" >&2
	exit 1
fi
BUILDFARM_TOP=$(cd "$TEST_DIRECTORY/.." && pwd)

this_test=${0##*/}
this_test=${this_test%.t}
test -n "$test_root_" || test_root_=$TEST_DIRECTORY
mkdir -p "$test_root_" && test_root_=$(cd "$test_root_" && pwd) || exit 1
TRASH_DIRECTORY=$test_root_/trash.$this_test

# --stress: this script, over and over in parallel jobs, until a run fails
# (or each job did --stress-limit runs); job N runs with --root=DIR/N and
# its output in DIR/N.out, DIR being stress.<script> beside the trash
if test -n "$test_stress_"
then
	case $test_stress_$test_stress_limit_ in
	*[!0-9]*)
		printf 'error: --stress=N and --stress-limit=N want numbers\n' >&2
		exit 1 ;;
	esac
	test_stress_dir_=$test_root_/stress.$this_test
	rm -rf "$test_stress_dir_" && mkdir -p "$test_stress_dir_" || exit 1
	trap 'printf "stopping after the runs under way\n" >&2
	    : >"$test_stress_dir_/stop"' INT TERM HUP
	test_job_=1
	while test "$test_job_" -le "$test_stress_"
	do
		(
			# ^C: the runs under way finish (a run must not see
			# TERM ignored: tests send it); then the jobs stop
			trap '' INT
			n=1
			while ! test -e "$test_stress_dir_/stop"
			do
				# no -x: its trace would land in the stderr that
				# tests capture (2>err) and compare
				if ! sh "$0" -v -i \
				    --root="$test_stress_dir_/$test_job_" \
				    >"$test_stress_dir_/$test_job_.out" 2>&1 \
				    </dev/null
				then
					mv "$test_stress_dir_/$test_job_.out" \
					    "$test_stress_dir_/failed.out"
					echo "$test_job_.$n" \
					    >"$test_stress_dir_/failed"
					: >"$test_stress_dir_/stop"
					printf 'FAIL job %d run %d\n' "$test_job_" "$n"
					exit 1
				fi
				printf 'OK   job %d run %d\n' "$test_job_" "$n"
				test "$n" = "$test_stress_limit_" && exit 0
				n=$((n + 1))
			done
		) &
		test_job_=$((test_job_ + 1))
	done
	wait
	# wait returns early on a trapped signal: wait again for the jobs
	wait
	if test -f "$test_stress_dir_/failed"
	then
		test_job_=$(cat "$test_stress_dir_/failed")
		printf 'run %s failed; its output (in %s):\n' "$test_job_" \
		    "$test_stress_dir_/failed.out"
		tail -n 200 "$test_stress_dir_/failed.out"
		printf 'its trash is kept under %s/%s\n' "$test_stress_dir_" \
		    "${test_job_%.*}"
		exit 1
	fi
	if test -e "$test_stress_dir_/stop"
	then
		exit 1
	fi
	rm -rf "$test_stress_dir_"
	printf 'no run failed\n'
	exit 0
fi

# our own files (per-test output, daemons, ports), outside the trash so
# that tests see only what they made
test_lib_dir_=$test_root_/trash.$this_test.lib
test_out_=$test_lib_dir_/out

# nothing from the user's environment changes what a tool does
for test_var_ in $(env | sed -n 's/^\(BUILDFARM_[A-Za-z0-9_]*\)=.*/\1/p')
do
	unset "$test_var_"
done
unset CDPATH XDG_CONFIG_HOME XDG_STATE_HOME XDG_CACHE_HOME XDG_DATA_HOME \
    NETRC http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy \
    ftp_proxy GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
    GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG GIT_NAMESPACE
LC_ALL=C
LANG=C
TZ=UTC
HOME=$TRASH_DIRECTORY
BUILDFARM_DIR=$TRASH_DIRECTORY/farm
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME='A U Thor'
GIT_AUTHOR_EMAIL=author@example.com
GIT_COMMITTER_NAME='C O Mitter'
GIT_COMMITTER_EMAIL=committer@example.com
ASAN_OPTIONS=exitcode=126${ASAN_OPTIONS:+:$ASAN_OPTIONS}
UBSAN_OPTIONS=exitcode=126${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
LSAN_OPTIONS=exitcode=126${LSAN_OPTIONS:+:$LSAN_OPTIONS}
TSAN_OPTIONS=exitcode=126${TSAN_OPTIONS:+:$TSAN_OPTIONS}
export TEST_DIRECTORY BUILDFARM_TOP TRASH_DIRECTORY BUILDFARM_DIR HOME \
    LC_ALL LANG TZ GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
    GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL ASAN_OPTIONS UBSAN_OPTIONS \
    LSAN_OPTIONS TSAN_OPTIONS
umask 022

test_path_=
for test_var_ in "$BUILDFARM_TOP"/cmd/*/
do
	test -d "$test_var_" && test_path_=$test_path_${test_var_%/}:
done
PATH=$test_path_$TEST_DIRECTORY/helper:$PATH
export PATH

# ---------------------------------------------------------- trash, traps

test_rm_rf_ () {
	for test_rm_
	do
		if test -e "$test_rm_"
		then
			chmod -R u+rwx "$test_rm_" 2>/dev/null
			rm -rf "$test_rm_"
		fi
	done
	! test -e "$1" && ! test -e "$2"
}

if ! test_rm_rf_ "$TRASH_DIRECTORY" "$test_lib_dir_"
then
	printf 'error: cannot remove the old %s\n' "$TRASH_DIRECTORY" >&2
	exit 1
fi
mkdir -p "$TRASH_DIRECTORY/farm" "$test_lib_dir_" || exit 1
: >"$test_lib_dir_/daemons"
: >"$test_lib_dir_/ports"
: >"$test_out_"
cd "$TRASH_DIRECTORY" || exit 1

test_count_=0
test_fail_=0
test_fixed_=0
test_broken_=0
test_skipped_=0
test_prereqs_=,
test_lazy_done_=,
test_in_test_=
test_cleanup_=
test_done_called_=
test_bugged_=
test_ec_stack_=
test_main_pid_=$$

# fd 7 is the script's stderr: an exit inside a test body runs the trap
# with the body's output redirections still in place (dash)
exec 7>&2

test_exit_trap_ () {
	{ set +x; } 2>/dev/null
	# bash sometimes runs it in a subshell too: only the script's own
	# shell stops the daemons and reports
	test "$(exec sh -c 'echo $PPID')" = "$test_main_pid_" || return 0
	test_stop_all_daemons_
	if test -z "$test_done_called_" && test -z "$test_bugged_"
	then
		{
			if test -n "$test_in_test_"
			then
				printf '# FATAL: unexpected exit with code %s in test %d: %s\n' \
				    "$1" "$test_count_" "$test_title_"
				test -n "$test_verbose_" || sed 's/^/# /' "$test_out_"
			else
				printf '# FATAL: unexpected exit with code %s after test %d\n' \
				    "$1" "$test_count_"
			fi
			printf '# trash kept: %s\n' "$TRASH_DIRECTORY"
		} >&7
		test "$1" != 0 || exit 1
	fi
}
trap 'test_exit_trap_ $?' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

test_bug_ () {
	printf 'error: bug in the test script: %s\n' "$*" >&2
	test_bugged_=t
	exit 1
}

# ------------------------------------------------------------ prerequisites

test_set_prereq () {
	case $1 in
	''|*[!A-Za-z0-9_]*)
		test_bug_ "bad prerequisite name '$1'" ;;
	esac
	test_prereqs_=$test_prereqs_$1,
}

# test_lazy_prereq NAME 'script': NAME holds when script succeeds; it runs
# once, the first time a test asks for NAME, in a scratch directory.
test_lazy_prereq () {
	case $1 in
	''|*[!A-Za-z0-9_]*)
		test_bug_ "bad prerequisite name '$1'" ;;
	esac
	eval "test_lazy_$1=\$2"
}

test_lazy_eval_ () {
	case $test_lazy_done_ in
	*,"$1",*)
		return 0 ;;
	esac
	test_lazy_done_=$test_lazy_done_$1,
	eval "test_lazy_script_=\${test_lazy_$1-}"
	test -n "$test_lazy_script_" || return 0
	mkdir -p "$test_lib_dir_/prereq-$1" &&
	if (cd "$test_lib_dir_/prereq-$1" && eval "$test_lazy_script_") \
	    </dev/null >/dev/null 2>&1
	then
		test_set_prereq "$1"
	fi
	rm -rf "$test_lib_dir_/prereq-$1"
}

# test_have_prereq 'A,!B': A is set and B is not.  Sets
# test_missing_prereq_ to the ones that failed.
test_have_prereq () {
	test_missing_prereq_=
	test_save_ifs_=$IFS
	IFS=,
	set -- $*
	IFS=$test_save_ifs_
	for test_p_
	do
		test_neg_=
		test_name_=$test_p_
		case $test_p_ in
		'')
			continue ;;
		!*)
			test_neg_=t
			test_name_=${test_p_#!} ;;
		esac
		case $test_name_ in
		''|*[!A-Za-z0-9_]*)
			test_bug_ "bad prerequisite name '$test_p_'" ;;
		esac
		test_lazy_eval_ "$test_name_"
		case $test_prereqs_ in
		*,"$test_name_",*)
			test_lacks_= ;;
		*)
			test_lacks_=t ;;
		esac
		# missing: "A" that we lack, or "!A" that we have
		if test "$test_lacks_" != "$test_neg_"
		then
			test_missing_prereq_=${test_missing_prereq_:+$test_missing_prereq_,}
			test_missing_prereq_=$test_missing_prereq_$test_p_
		fi
	done
	test -z "$test_missing_prereq_"
}

if command -v perl >/dev/null 2>&1
then
	test_set_prereq PERL
fi
if test "$(id -u)" = 0
then
	test_set_prereq ROOT
else
	test_set_prereq NOT_ROOT
fi

# ------------------------------------------------------------- running tests

test_eval_ () {
	# a function, so that a body may "return 1" out of a loop
	eval "${test_trace_:+set -x
}$1"
}

# test_run_ body: run it and its cleanups; status 0 when both passed.
test_run_ () {
	: >"$test_out_"
	test_cleanup_=:
	test_in_test_=t
	if test -n "$test_verbose_"
	then
		test_eval_ "$1" </dev/null >&2
	else
		test_eval_ "$1" </dev/null >>"$test_out_" 2>&1
	fi
	{ test_run_ret_=$?; set +x; } 2>/dev/null
	cd "$TRASH_DIRECTORY" ||
	    test_bug_ "cannot go back to the trash directory"
	test_cleanup_failed_=
	test_cleanup_ret_=0
	if test "$test_cleanup_" != :
	then
		if test -n "$test_verbose_"
		then
			test_eval_ "$test_cleanup_" </dev/null >&2
		else
			test_eval_ "$test_cleanup_" </dev/null \
			    >>"$test_out_" 2>&1
		fi
		{ test_cleanup_ret_=$?; set +x; } 2>/dev/null
		cd "$TRASH_DIRECTORY" ||
		    test_bug_ "cannot go back to the trash directory"
	fi
	test_in_test_=
	test_cleanup_=
	test "$test_run_ret_" = 0 && test "$test_cleanup_ret_" = 0 &&
	    test -z "$test_cleanup_failed_"
}

# test_start_ args...: common start of test_expect_*; sets test_title_,
# test_body_, and returns 1 when the test is to be skipped.
test_start_ () {
	if test "$test_count_" = 0 && test -n "$skip_all"
	then
		test_done
	fi
	test_prereq_=
	if test $# = 3
	then
		test_prereq_=$1
		shift
	fi
	test $# = 2 || test_bug_ "test_expect_* wants [PREREQ] 'title' 'body'"
	test_title_=$1
	test_body_=$2
	test_count_=$((test_count_ + 1))
	if ! test_have_prereq "$test_prereq_"
	then
		test_skipped_=$((test_skipped_ + 1))
		printf 'ok %d # skip %s (missing %s)\n' "$test_count_" \
		    "$test_title_" "$test_missing_prereq_"
		return 1
	fi
	if test -n "$test_verbose_"
	then
		printf '# test %d: %s\n' "$test_count_" "$test_title_" >&2
		printf '%s\n' "$test_body_" | sed 's/^/#	/' >&2
	fi
	return 0
}

# test_report_failure_: the body, then what it printed, on stderr.
test_report_failure_ () {
	{
		printf '# failed test %d: %s\n' "$test_count_" "$test_title_"
		printf '%s\n' "$test_body_" | sed 's/^/#	/'
		if test -z "$test_verbose_" && test -s "$test_out_"
		then
			cp "$test_out_" "$test_out_.$test_count_"
			test_n_=$(wc -l <"$test_out_")
			if test "$test_n_" -gt 200
			then
				printf '# output (last 200 of %d lines; all in %s):\n' \
				    "$test_n_" "$test_out_.$test_count_"
			else
				printf '# output:\n'
			fi
			tail -n 200 "$test_out_" | sed 's/^/# /'
		fi
	} >&2
}

test_expect_success () {
	test_start_ "$@" || return 0
	if test_run_ "$test_body_"
	then
		printf 'ok %d - %s\n' "$test_count_" "$test_title_"
	else
		test_fail_=$((test_fail_ + 1))
		printf 'not ok %d - %s\n' "$test_count_" "$test_title_"
		test_report_failure_
		if test -n "$test_immediate_"
		then
			test_finish_
		fi
	fi
}

# A known breakage: its failure is TAP TODO and does not fail the script.
test_expect_failure () {
	test_start_ "$@" || return 0
	if test_run_ "$test_body_"
	then
		test_fixed_=$((test_fixed_ + 1))
		printf 'ok %d - %s # TODO known breakage vanished\n' \
		    "$test_count_" "$test_title_"
	else
		test_broken_=$((test_broken_ + 1))
		printf 'not ok %d - %s # TODO known breakage\n' \
		    "$test_count_" "$test_title_"
	fi
}

# test_when_finished 'cmd': run cmd after the current test, whatever
# became of it; cleanups run last registered first, and one that fails
# fails the test.
test_when_finished () {
	test -n "$test_in_test_" ||
	    test_bug_ "test_when_finished outside a test"
	test "$(exec sh -c 'echo $PPID')" = "$test_main_pid_" ||
	    test_bug_ "test_when_finished in a subshell would do nothing"
	test_cleanup_="{ $*
} || test_cleanup_failed_=t
$test_cleanup_"
}

# test_sanitizer_reports_: a daemon's exit status and its log are
# thrown away when the script stops it at the end, so a sanitizer's
# report there would pass unseen.  Any in a *.log of the trash fails
# the script with one more test.
test_sanitizer_reports_ () {
	test -d "$TRASH_DIRECTORY" || return 0
	test_sr_hits_=$(find "$TRASH_DIRECTORY" -name '*.log' -type f \
	    -exec grep -l -E '^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|WARNING: ThreadSanitizer|: runtime error: ' {} + \
	    2>/dev/null)
	test -n "$test_sr_hits_" || return 0
	test_count_=$((test_count_ + 1))
	test_fail_=$((test_fail_ + 1))
	printf 'not ok %d - no sanitizer report in the logs of the daemons\n' \
	    "$test_count_"
	for test_sr_f_ in $test_sr_hits_
	do
		printf '# %s:\n' "$test_sr_f_"
		grep -E -A12 '^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|WARNING: ThreadSanitizer|: runtime error: ' \
		    "$test_sr_f_" | head -n 40 | sed 's/^/#   /'
	done
}

# test_finish_: plan, summary, trash, exit.
test_finish_ () {
	test_done_called_=t
	test_stop_all_daemons_
	test_sanitizer_reports_
	if test "$test_count_" = 0 && test -n "$skip_all"
	then
		printf '1..0 # SKIP %s\n' "$skip_all"
	else
		if test "$test_fixed_" != 0
		then
			printf '# %d known breakage(s) vanished; update the tests\n' \
			    "$test_fixed_"
		fi
		if test "$test_broken_" != 0
		then
			printf '# still have %d known breakage(s)\n' "$test_broken_"
		fi
		if test "$test_fail_" = 0
		then
			printf '# passed all %d test(s)\n' "$test_count_"
		else
			printf '# failed %d among %d test(s)\n' "$test_fail_" \
			    "$test_count_"
		fi
		printf '1..%d\n' "$test_count_"
	fi
	if test "$test_fail_" != 0
	then
		printf '# trash kept: %s\n' "$TRASH_DIRECTORY" >&2
		exit 1
	fi
	if test -z "$test_debug_"
	then
		cd "$test_root_" || exit 1
		if ! test_rm_rf_ "$TRASH_DIRECTORY" "$test_lib_dir_"
		then
			printf 'error: cannot remove %s\n' "$TRASH_DIRECTORY" >&2
			exit 1
		fi
	fi
	exit 0
}

test_done () {
	test_finish_
}

# ------------------------------------------------------------ assertions

# test_must_fail cmd args...: cmd fails the way a program means to
# (exit 1-125), not by a crash, a signal, 126 (not executable, or a
# sanitizer error) or 127 (not found).
test_must_fail () {
	"$@"
	test_mf_rc_=$?
	if test "$test_mf_rc_" = 0
	then
		printf 'test_must_fail: command succeeded: %s\n' "$*" >&2
		return 1
	elif test "$test_mf_rc_" -le 125
	then
		return 0
	elif test "$test_mf_rc_" = 126
	then
		printf 'test_must_fail: exit 126 (not executable, or a sanitizer error): %s\n' \
		    "$*" >&2
	elif test "$test_mf_rc_" = 127
	then
		printf 'test_must_fail: command not found: %s\n' "$*" >&2
	elif test "$test_mf_rc_" -gt 128
	then
		printf 'test_must_fail: died of signal %d: %s\n' \
		    $((test_mf_rc_ - 128)) "$*" >&2
	else
		printf 'test_must_fail: exit %d: %s\n' "$test_mf_rc_" "$*" >&2
	fi
	return 1
}

# test_expect_code N cmd args...: cmd exits with exactly N.
test_expect_code () {
	case $1 in
	''|*[!0-9]*)
		test_bug_ "test_expect_code wants a number, not '$1'" ;;
	esac
	# a stack, not one variable: cmd may itself use test_expect_code
	test_ec_stack_="$1 $test_ec_stack_"
	shift
	"$@"
	test_ec_got_=$?
	test_ec_want_=${test_ec_stack_%% *}
	test_ec_stack_=${test_ec_stack_#* }
	test "$test_ec_got_" = "$test_ec_want_" && return 0
	printf 'test_expect_code: exit %s, want %s: %s\n' "$test_ec_got_" \
	    "$test_ec_want_" "$*" >&2
	return 1
}

test_cmp () {
	test $# = 2 || test_bug_ "test_cmp wants 2 files"
	diff -u "$1" "$2"
}

# test_line_count OP N FILE: e.g. test_line_count = 3 out
test_line_count () {
	test $# = 3 || test_bug_ "test_line_count wants OP N FILE"
	if ! test -f "$3"
	then
		printf 'test_line_count: no file %s\n' "$3" >&2
		return 1
	fi
	test_lc_n_=$(($(wc -l <"$3")))
	if ! test "$test_lc_n_" "$1" "$2"
	then
		printf 'test_line_count: %s has %d lines, want %s %s:\n' "$3" \
		    "$test_lc_n_" "$1" "$2" >&2
		sed 's/^/| /' "$3" >&2
		return 1
	fi
}

# test_grep [!] [grep options] PATTERN FILE: as grep, but the last
# argument must be a file that exists (a negative grep of a file that
# was never written must not pass); when it fails, it shows the file.
test_grep () {
	eval "test_grep_file_=\${$#}"
	if test $# -lt 2 || { test "x$1" = "x!" && test $# -lt 3; }
	then
		test_bug_ "test_grep wants [!] [options] PATTERN FILE"
	fi
	if ! test -f "$test_grep_file_"
	then
		printf 'test_grep: no file %s\n' "$test_grep_file_" >&2
		return 1
	fi
	if test "x$1" = "x!"
	then
		shift
		grep "$@" >/dev/null || return 0
		printf "test_grep: '! grep %s' found a match in:\n" "$*" >&2
	else
		grep "$@" && return 0
		printf "test_grep: 'grep %s' found no match in:\n" "$*" >&2
	fi
	if test -s "$test_grep_file_"
	then
		tail -n 50 "$test_grep_file_" | sed 's/^/| /' >&2
	else
		printf '| (%s is empty)\n' "$test_grep_file_" >&2
	fi
	return 1
}

# test_wait_until 'CMD' [SECS]: run the shell command CMD (eval'ed, with
# its output discarded) until it succeeds, at most SECS (default 60)
# seconds: a generous bound, for a loaded machine.  Fails when it never
# did, saying so.
test_wait_until () {
	test $# -ge 1 && test $# -le 2 ||
	    test_bug_ "test_wait_until wants 'CMD' [SECS]"
	case ${2:-60} in
	''|*[!0-9]*)
		test_bug_ "test_wait_until wants seconds, not '$2'" ;;
	esac
	test_wu_end_=$(($(date +%s) + ${2:-60}))
	until eval "$1" >/dev/null 2>&1
	do
		if test "$(date +%s)" -ge "$test_wu_end_"
		then
			printf "test_wait_until: '%s' still fails after %s s\n" \
			    "$1" "${2:-60}" >&2
			return 1
		fi
		sleep 0.05
	done
}

# test_usage_is_synopsis TOOL: the usage "TOOL -h" prints is the
# SYNOPSIS of man/TOOL.1, word for word (spacing aside).
test_usage_is_synopsis () {
	test $# = 1 || test_bug_ "test_usage_is_synopsis wants TOOL"
	mandoc -Tascii "$BUILDFARM_TOP/man/$1.1" | col -b |
	    sed -n "/^SYNOPSIS/,/^DESCRIPTION/p" | sed "1d;\$d" |
	    tr -s " \n\t" "   " | sed "s/^ //; s/ \$//" >"$1.synopsis" &&
	"$1" -h >"$1.usage" 2>&1
	test_us_rc_=$?
	if test "$test_us_rc_" != 0
	then
		printf 'test_usage_is_synopsis: %s -h exited %s\n' "$1" \
		    "$test_us_rc_" >&2
		return 1
	fi
	sed "s/^usage: //" "$1.usage" | tr -s " \n\t" "   " |
	    sed "s/^ //; s/ \$//" >"$1.usage.flat" &&
	test -s "$1.synopsis" &&
	test_cmp "$1.synopsis" "$1.usage.flat"
}

test_path_is_file () {
	test $# = 1 || test_bug_ "test_path_is_file wants 1 path"
	test -f "$1" && return 0
	printf 'test_path_is_file: not a file: %s\n' "$1" >&2
	return 1
}

test_path_is_dir () {
	test $# = 1 || test_bug_ "test_path_is_dir wants 1 path"
	test -d "$1" && return 0
	printf 'test_path_is_dir: not a directory: %s\n' "$1" >&2
	return 1
}

# test_path_is_missing path...: none of them exists (an unmatched glob
# stays a literal, missing, path).
test_path_is_missing () {
	test $# -ge 1 || test_bug_ "test_path_is_missing wants paths"
	for test_pm_
	do
		if test -e "$test_pm_" || test -L "$test_pm_"
		then
			printf 'test_path_is_missing: exists: %s\n' "$test_pm_" >&2
			return 1
		fi
	done
}

test_must_be_empty () {
	test $# = 1 || test_bug_ "test_must_be_empty wants 1 file"
	if ! test -f "$1"
	then
		printf 'test_must_be_empty: no file %s\n' "$1" >&2
		return 1
	fi
	test -s "$1" || return 0
	printf 'test_must_be_empty: %s is not empty:\n' "$1" >&2
	sed 's/^/| /' "$1" >&2
	return 1
}

# test_seq [FIRST] LAST: the integers FIRST (default 1) to LAST, one a line
test_seq () {
	case $# in
	1)
		set -- 1 "$1" ;;
	2)
		;;
	*)
		test_bug_ "test_seq wants [FIRST] LAST" ;;
	esac
	test_seq_i_=$1
	while test "$test_seq_i_" -le "$2"
	do
		echo "$test_seq_i_"
		test_seq_i_=$((test_seq_i_ + 1))
	done
}

# write_script FILE [INTERPRETER] <body: an executable script
write_script () {
	{
		printf '#!%s\n' "${2:-/bin/sh}"
		cat
	} >"$1" && chmod +x "$1"
}

# ---------------------------------------------------------------- servers

# free_port: a TCP port nobody listens on at 127.0.0.1.  Ports are drawn
# at random below the kernel's ephemeral range (32768-60999 on Linux),
# so that scripts running in parallel, and their outgoing connections,
# are unlikely to get the same one; a script never gets one port twice.
free_port () {
	perl -MIO::Socket::INET -e '
		my $used = $ARGV[0];
		my %seen;
		if (open(my $f, "<", $used)) {
			chomp(my @p = <$f>);
			@seen{@p} = ();
		}
		srand($$ ^ time);
		for (1 .. 500) {
			my $p = 20000 + int(rand(12768));
			next if exists $seen{$p};
			my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
			    LocalPort => $p, Proto => "tcp", Listen => 1)
			    or next;
			close($s);
			open(my $f, ">>", $used) or die "$used: $!\n";
			print $f "$p\n";
			close($f);
			print "$p\n";
			exit 0;
		}
		print STDERR "free_port: no free port found\n";
		exit 1;
	' "$test_lib_dir_/ports"
}

# wait_for_port PORT [TIMEOUT_S]: until something accepts connections on
# 127.0.0.1:PORT, at most TIMEOUT_S (default 10) seconds.
wait_for_port () {
	case $1 in
	''|*[!0-9]*)
		test_bug_ "wait_for_port wants a port, not '$1'" ;;
	esac
	perl -MIO::Socket::INET -MTime::HiRes=time,sleep -e '
		my ($port, $t) = @ARGV;
		my $end = time + $t;
		for (;;) {
			exit 0 if IO::Socket::INET->new(PeerAddr => "127.0.0.1",
			    PeerPort => $port, Proto => "tcp", Timeout => 1);
			exit 1 if time >= $end;
			sleep(0.02);
		}
	' "$1" "${2:-10}" && return 0
	printf 'wait_for_port: nothing listens on 127.0.0.1:%s after %s s\n' \
	    "$1" "${2:-10}" >&2
	return 1
}

# wait_for_file FILE [TIMEOUT_S]: until FILE exists, at most TIMEOUT_S
# (default 10) seconds.
wait_for_file () {
	test_wf_n_=$((${2:-10} * 20))
	while ! test -e "$1"
	do
		if test "$test_wf_n_" -le 0
		then
			printf 'wait_for_file: no %s after %s s\n' "$1" \
			    "${2:-10}" >&2
			return 1
		fi
		test_wf_n_=$((test_wf_n_ - 1))
		sleep 0.05
	done
}

# daemon_port NAME: the port of a daemon of ours that start_daemon NAME
# started listening on port 0: waits for the "TOOL: listening on
# HOST:PORT" line the daemon writes to NAME.log once it listens, and
# prints PORT.  Fails at once when the daemon exits first.
daemon_port () {
	test $# = 1 || test_bug_ "daemon_port wants NAME"
	test_dp_pid_=$(cat "$1.pid") || return 1
	test_dp_end_=$(($(date +%s) + 60))
	test_dp_re_='^[^ ]*: listening on [^ ,]*:\([0-9][0-9]*\)\([ ,].*\)\{0,1\}$'
	until test_dp_port_=$(sed -n "s/$test_dp_re_/\1/p" "$1.log" |
	    sed -n 1p) && test -n "$test_dp_port_"
	do
		if ! test_pid_alive_ "$test_dp_pid_"
		then
			printf 'daemon_port: %s exited before it listened:\n' \
			    "$1" >&2
			tail -n 20 "$1.log" | sed 's/^/| /' >&2
			return 1
		fi
		if test "$(date +%s)" -ge "$test_dp_end_"
		then
			printf 'daemon_port: %s does not listen after 60 s\n' \
			    "$1" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "$test_dp_port_"
}

# start_daemon NAME cmd args...: run cmd in the background with stdin
# from /dev/null and stderr to NAME.log, its pid in NAME.pid (both in the
# current directory); stdout is the caller's, so redirect it:
#	start_daemon follow tool -f >followed
# cmd should be a program (use "sh -c 'exec ...'" for a pipeline): the
# pid is what stop_daemon and the end of the script kill.  Every daemon
# is stopped when the script ends, however it ends.
start_daemon () {
	test $# -ge 2 || test_bug_ "start_daemon wants NAME cmd [args...]"
	case $1 in
	''|*/*)
		test_bug_ "bad daemon name '$1'" ;;
	esac
	test_sd_name_=$1
	shift
	if test -n "$test_in_test_"
	then
		"$@" </dev/null 2>"$test_sd_name_.log" 7>&- &
	else
		# never on the TAP stream
		"$@" </dev/null >>"$test_sd_name_.out" 2>"$test_sd_name_.log" \
		    7>&- &
	fi
	test_sd_pid_=$!
	printf '%s\n' "$test_sd_pid_" >"$test_sd_name_.pid"
	printf '%s %s\n' "$test_sd_pid_" "$test_sd_name_" \
	    >>"$test_lib_dir_/daemons"
}

# test_pid_alive_ PID: it runs (a zombie does not: nothing may reap the
# orphans of a container whose init is not a real one)
test_pid_alive_ () {
	kill -0 "$1" 2>/dev/null || return 1
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*)
		return 1 ;;
	esac
	return 0
}

# test_stop_pid_ PID: TERM it, KILL it after 5 s, and wait for it.  Sets
# test_sp_status_ to its exit status when it is our child, "unknown"
# when it is not, "gone" when it was no longer running ("gone:N" when it
# was our child and exited with N).
test_stop_pid_ () {
	if ! test_pid_alive_ "$1"
	then
		wait "$1" 2>/dev/null
		test_sp_status_=$?
		if test "$test_sp_status_" = 127
		then
			test_sp_status_=gone
		else
			test_sp_status_=gone:$test_sp_status_
		fi
		return 0
	fi
	kill -TERM "$1" 2>/dev/null
	(
		i=0
		while test $i -lt 50 && test_pid_alive_ "$1"
		do
			sleep 0.1
			i=$((i + 1))
		done
		test $i -lt 50 || kill -KILL "$1" 2>/dev/null
	) </dev/null >/dev/null 2>&1 &
	test_sp_wd_=$!
	# a child of ours: wait gives its status; anything else: 127 at once
	wait "$1" 2>/dev/null
	test_sp_status_=$?
	if test "$test_sp_status_" = 127
	then
		test_sp_status_=unknown
		while test_pid_alive_ "$1"
		do
			sleep 0.1
		done
	fi
	kill "$test_sp_wd_" 2>/dev/null
	wait "$test_sp_wd_" 2>/dev/null
	return 0
}

# stop_daemon NAME: stop what start_daemon NAME started.  Fails when it
# had exited before (a daemon runs until it is stopped), or exits with a
# status other than 0 or that of the TERM signal (143), and then shows
# the end of NAME.log.
stop_daemon () {
	test $# = 1 || test_bug_ "stop_daemon wants NAME"
	if ! test -f "$1.pid"
	then
		printf 'stop_daemon: no %s.pid here\n' "$1" >&2
		return 1
	fi
	test_sd_pid_=$(cat "$1.pid")
	test_stop_pid_ "$test_sd_pid_"
	rm -f "$1.pid"
	grep -v "^$test_sd_pid_ " "$test_lib_dir_/daemons" \
	    >"$test_lib_dir_/daemons.new"
	mv "$test_lib_dir_/daemons.new" "$test_lib_dir_/daemons"
	case $test_sp_status_ in
	0|143|unknown)
		return 0 ;;
	gone)
		printf 'stop_daemon: %s (pid %s) had already exited\n' "$1" \
		    "$test_sd_pid_" >&2 ;;
	gone:*)
		printf 'stop_daemon: %s (pid %s) had already exited with %s\n' \
		    "$1" "$test_sd_pid_" "${test_sp_status_#gone:}" >&2 ;;
	*)
		printf 'stop_daemon: %s (pid %s) exited with %s\n' "$1" \
		    "$test_sd_pid_" "$test_sp_status_" >&2 ;;
	esac
	if test -s "$1.log"
	then
		printf 'stop_daemon: end of %s.log:\n' "$1" >&2
		tail -n 20 "$1.log" | sed 's/^/| /' >&2
	fi
	return 1
}

test_stop_all_daemons_ () {
	test -s "$test_lib_dir_/daemons" || return 0
	while read -r test_sa_pid_ test_sa_name_
	do
		test_stop_pid_ "$test_sa_pid_"
	done <"$test_lib_dir_/daemons"
	: >"$test_lib_dir_/daemons"
}
