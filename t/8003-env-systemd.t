#!/bin/sh
test_description='env/systemd: a unit for every daemon, clean under systemd-analyze verify'
. ./test-lib.sh

test_lazy_prereq SYSTEMD_ANALYZE 'command -v systemd-analyze'

# the units, with /usr/local/bin/TOOL made a stub in bin/ (verify wants
# each command to exist), in units/
test_expect_success 'setup: the units, their commands stubbed' '
	mkdir bin units &&
	for t in schedule gitmirror maintlog pollgerrit buildlet dashboard
	do
		write_script bin/$t <<-\EOF || return 1
		exit 0
		EOF
	done &&
	for f in "$BUILDFARM_TOP"/env/systemd/*
	do
		sed "s#/usr/local/bin/#$TRASH_DIRECTORY/bin/#g" "$f" \
		    >"units/${f##*/}" || return 1
	done
'

test_expect_success 'a unit for every daemon' '
	cat >expect <<-\EOF &&
	buildlet-reverse@.service
	buildlet.service
	dashboard.service
	gitmirror-serve.service
	gitmirror-sync.service
	gitmirror-sync.timer
	maintlog-serve.service
	pollgerrit-watch.service
	schedule.service
	EOF
	ls units >got &&
	test_cmp expect got
'

test_expect_success 'the farm daemons are hardened alike' '
	for u in schedule gitmirror-serve gitmirror-sync maintlog-serve \
	    pollgerrit-watch dashboard
	do
		f=units/$u.service &&
		test_grep "^User=buildfarm$" $f &&
		test_grep "^ProtectSystem=strict$" $f &&
		test_grep "^ReadWritePaths=/var/lib/buildfarm$" $f &&
		test_grep "^NoNewPrivileges=true$" $f &&
		test_grep "^Environment=BUILDFARM_DIR=/var/lib/buildfarm$" $f ||
		return 1
	done &&
	for u in buildlet buildlet-reverse@
	do
		test_grep "^ProtectSystem=strict$" units/$u.service &&
		test_grep "^ReadWritePaths=/var/lib/buildlet$" units/$u.service ||
		return 1
	done
'

test_expect_success SYSTEMD_ANALYZE 'systemd-analyze verify says nothing' '
	(cd units && cp buildlet-reverse@.service buildlet-reverse@t.service &&
	systemd-analyze verify --man=no *.service *.timer >../out 2>&1) &&
	test_must_be_empty out
'

test_expect_success SYSTEMD_ANALYZE 'the control: verify reports a bad key' '
	mkdir bad &&
	sed "s/^ProtectSystem=strict/ProtectSystem=stric/" \
	    units/schedule.service >bad/schedule.service &&
	(cd bad && systemd-analyze verify --man=no schedule.service >../out 2>&1);
	test_grep "protect system value" out
'

test_done
