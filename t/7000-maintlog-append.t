#!/bin/sh
test_description='maintlog append: seqs, validation, sealing, limits'
. ./test-lib.sh

# strip the time stamps, which differ on every run
notime () {
	sed 's/"time":"[^"]*"/"time":T/' "$@"
}

test_expect_success 'append assigns seqs from 1 and prints them' '
	printf "%s\n" "{\"repo\":\"go\",\"b\":1}" "{\"a\":[1,2],\"repo\":\"x\"}" |
		maintlog -d log append -t git >out &&
	printf "1\n2\n" >expect &&
	test_cmp expect out &&
	printf "1\n2\n3\n" >expect &&
	echo "{\"type\":\"gerrit\",\"change\":5}" | maintlog -d log append >>out &&
	test_cmp expect out
'

test_expect_success 'records are canonical: compact, keys sorted, envelope added' '
	notime log/0000.jsonl >actual &&
	cat >expect <<-\EOF &&
	{"b":1,"repo":"go","seq":1,"time":T,"type":"git"}
	{"a":[1,2],"repo":"x","seq":2,"time":T,"type":"git"}
	{"change":5,"seq":3,"time":T,"type":"gerrit"}
	EOF
	test_cmp expect actual &&
	grep -Eq "\"time\":\"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z\"" log/0000.jsonl
'

test_expect_success 'seq and time in the input are replaced; -t does not override a type' '
	echo "{\"seq\":99,\"time\":\"x\",\"type\":\"git\"}" |
		maintlog -d log append -t gerrit >out &&
	echo 4 >expect && test_cmp expect out &&
	tail -n 1 log/0000.jsonl | notime >actual &&
	echo "{\"seq\":4,\"time\":T,\"type\":\"git\"}" >expect &&
	test_cmp expect actual
'

test_expect_success 'malformed JSON rejects the whole input, naming the line' '
	cp log/0000.jsonl before &&
	printf "%s\n" "{\"type\":\"git\"}" "{\"type\":\"git\"" "{\"type\":\"git\"}" >in &&
	test_expect_code 100 maintlog -d log append <in 2>err >out &&
	test_must_be_empty out &&
	grep "^maintlog: line 2: malformed JSON" err &&
	test_line_count = 1 err &&
	test_cmp before log/0000.jsonl
'

test_expect_success 'not an object, no type, bad type, empty line: exit 100, nothing appended' '
	echo "[1,2]" >in1 &&
	echo "{\"x\":1}" >in2 &&
	echo "{\"type\":\"Bad Type\"}" >in3 &&
	echo "{\"type\":7}" >in4 &&
	printf "{\"type\":\"git\"}\n\n" >in5 &&
	for i in 1 2 3 4 5
	do
		test_expect_code 100 maintlog -d log append <in$i 2>err$i || return 1
	done &&
	grep "line 1: not a JSON object" err1 &&
	grep "line 1: record has no \"type\" (use -t)" err2 &&
	grep "line 1: bad type" err3 &&
	grep "line 1: \"type\" is not a string" err4 &&
	grep "line 2: malformed JSON" err5 &&
	test_cmp before log/0000.jsonl
'

test_expect_success 'a bad line past the first 8 MiB in memory stops the append there' '
	perl -e "for (1..100000) { print qq({\"type\":\"git\",\"n\":\$_,\"pad\":\"), q(p) x 60, qq(\"}\n) }
		print qq({\"type\":\"git\"\n)" >long &&
	test_expect_code 100 maintlog -d longlog append <long >acked 2>err &&
	grep "^maintlog: line 100001: malformed JSON: .*; records of lines 1..100000 were appended, the rest were not$" err &&
	test_line_count = 1 err &&
	test_seq 1 100000 >expect &&
	test_cmp expect acked &&
	maintlog -d longlog verify &&
	test $(maintlog -d longlog cat | wc -l) = 100000
'

test_expect_success 'lines of every size keep their order and bytes across chunks and batches' '
	perl -e "for my \$i (1..20000) {
		my \$n = \$i % 1000 == 0 ? 300000 + \$i : \$i % 7 * 50;
		\$n = 1000000 if \$i == 10000;
		print qq({\"n\":\$i,\"pad\":\"), q(x) x \$n, qq(\",\"type\":\"x\"}\n) }" >sizes &&
	maintlog -d sizelog append -b 700 <sizes >acked &&
	test_seq 1 20000 >expect &&
	test_cmp expect acked &&
	maintlog -d sizelog cat >stored &&
	sed "s/,\"seq\":[0-9]*,\"time\":\"[^\"]*\"//" stored >got &&
	test_cmp sizes got &&
	sed "s/.*\"seq\":\([0-9]*\).*/\1/" stored >seqs &&
	test_cmp expect seqs
'

# a sanitizer's shadow memory counts in the RSS: measure only plain builds
test_lazy_prereq NOT_SANITIZED '
	! ldd "$(command -v maintlog)" | grep -q "libasan\|libtsan"
'

test_expect_success NOT_SANITIZED 'memory stays within 32 MiB with 1 MB lines among small ones' '
	cat >peak.pl <<-\EOF &&
	# peak.pl IN OUT CMD...: CMD <IN >OUT, then its peak RSS in kB
	my ($in, $out, @cmd) = @ARGV;
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open STDIN, "<", $in or die "$in: $!";
		open STDOUT, ">", $out or die "$out: $!";
		exec @cmd or die "exec: $!";
	}
	my $peak = 0;
	while (waitpid($pid, 1) == 0) {
		if (open my $f, "<", "/proc/$pid/status") {
			while (<$f>) {
				$peak = $1 if /^VmHWM:\s+(\d+)/ && $1 > $peak;
			}
		}
		select undef, undef, undef, 0.005;
	}
	exit 1 if $?;
	print "$peak\n";
	EOF
	perl -e "for (1..40) { print qq({\"type\":\"x\",\"pad\":\"), q(y) x 1000000,
		qq(\"}\n), map qq({\"type\":\"x\",\"n\":\$_}\n), 1..2000 }" >huge &&
	perl peak.pl huge acked maintlog -d hugelog append -b 100000 >peak &&
	test_line_count = 80040 acked &&
	echo "peak RSS $(cat peak) kB" &&
	test $(cat peak) -gt 0 &&
	test $(cat peak) -le 32768
'

test_expect_success 'a record over 1 MiB is refused; one of just under is taken' '
	perl -e "print q({\"type\":\"git\",\"x\":\"), q(a) x (1048576 - 20), qq(\"}\n)" >big &&
	test_expect_code 100 maintlog -d log append <big 2>err &&
	grep "line 1: record longer than 1048576 bytes" err &&
	test_cmp before log/0000.jsonl &&
	perl -e "print q({\"type\":\"git\",\"x\":\"), q(a) x (1048576 - 30), qq(\"}\n)" >ok &&
	maintlog -d log append <ok >out &&
	echo 5 >expect && test_cmp expect out
'

test_expect_success 'empty input appends nothing and succeeds' '
	maintlog -d log append </dev/null >out &&
	test_must_be_empty out
'

test_expect_success 'segments seal at the -S size; names carry the SHA-224' '
	for i in $(test_seq 1 100)
	do
		echo "{\"type\":\"git\",\"n\":$i,\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"
	done >in &&
	maintlog -d seal append -S 2k -b 7 <in >out &&
	test_line_count = 100 out &&
	ls seal >files &&
	test $(grep -c "^[0-9][0-9][0-9][0-9]\.[0-9a-f]\{56\}\.jsonl$" files) -ge 4 &&
	for f in seal/[0-9]*.*.jsonl
	do
		h=$(openssl dgst -sha224 -r "$f" | cut -d" " -f1) &&
		n=$(basename "$f") &&
		test "$n" = "${n%%.*}.$h.jsonl" &&
		test $(wc -c <"$f") -le 2048 &&
		test "$(stat -c %a "$f")" = 444 || return 1
	done &&
	cat seal/*.jsonl | sed "s/.*\"n\":\([0-9]*\).*\"seq\":\([0-9]*\).*/\1 \2/" >pairs &&
	test_seq 1 100 | sed "s/.*/& &/" >expect &&
	test_cmp expect pairs &&
	maintlog -d seal verify
'

test_expect_success 'a segment left growing by an earlier append seals with the hash of all of it' '
	ls seal/[0-9][0-9][0-9][0-9].jsonl >growing &&
	test_line_count = 1 growing &&
	test -s $(cat growing) &&
	maintlog -d seal append -S 2k -b 7 <in >out &&
	test_line_count = 100 out &&
	! test -e $(cat growing) &&
	for f in seal/[0-9]*.*.jsonl
	do
		h=$(openssl dgst -sha224 -r "$f" | cut -d" " -f1) &&
		n=$(basename "$f") &&
		test "$n" = "${n%%.*}.$h.jsonl" || return 1
	done &&
	maintlog -d seal verify
'

test_expect_success 'a foreign file in the log directory is an error (100)' '
	cp -r log foreign && echo hi >foreign/notes.txt &&
	echo "{\"type\":\"git\"}" >in &&
	test_expect_code 100 maintlog -d foreign append <in 2>err &&
	grep "foreign file .notes.txt." err &&
	test_line_count = 1 err &&
	test_expect_code 100 maintlog -d foreign cat 2>err &&
	test_expect_code 100 maintlog -d foreign verify >out 2>err
'

test_expect_success 'a file larger than the limit (RLIMIT_FSIZE) gives 111 and keeps the log valid' '
	maintlog -d fsz append -t git <in >/dev/null &&
	perl -e "for (1..3000) { print qq({\"type\":\"git\",\"n\":\$_,\"pad\":\"), q(y) x 100, qq(\"}\n) }" >many &&
	(trap "" XFSZ; ulimit -f 64; maintlog -d fsz append -b 100 <many >acked 2>err; echo $? >rc) &&
	echo 111 >expect && test_cmp expect rc &&
	grep "File too large" err &&
	maintlog -d fsz verify &&
	maintlog -d fsz cat >all &&
	n=$(wc -l <acked) && test $n -gt 0 &&
	test $(wc -l <all) -eq $((n + 1))
'

test_lazy_prereq TMPFS '
	mkdir -p mnt-probe && mount -t tmpfs -o size=64k tmpfs mnt-probe &&
	umount mnt-probe
'

test_expect_success TMPFS 'a full disk gives 111, a one-line error, and loses nothing acknowledged' '
	mkdir -p mnt &&
	mount -t tmpfs -o size=256k tmpfs mnt &&
	test_when_finished "umount mnt" &&
	perl -e "for (1..4000) { print qq({\"type\":\"git\",\"n\":\$_,\"pad\":\"), q(z) x 100, qq(\"}\n) }" >many &&
	test_expect_code 111 maintlog -d mnt/log append -b 50 <many >acked 2>err &&
	grep "No space left on device" err &&
	maintlog -d mnt/log verify &&
	maintlog -d mnt/log cat >all &&
	test $(wc -l <acked) -gt 0 &&
	test $(wc -l <all) -eq $(wc -l <acked) &&
	tail -n 1 acked >last && sed -n "\$s/.*\"seq\":\([0-9]*\).*/\1/p" all >lastseq &&
	test_cmp last lastseq
'

test_expect_success 'bad options and operands: usage, exit 100' '
	test_expect_code 100 maintlog -d log append -b 0 </dev/null 2>err &&
	grep "bad batch size" err &&
	test_expect_code 100 maintlog -d log append -S 10x </dev/null 2>err &&
	test_expect_code 100 maintlog -d log append extra </dev/null 2>err &&
	grep "^usage: maintlog" err &&
	test_expect_code 100 maintlog -d log frobnicate 2>err &&
	grep "unknown command .frobnicate." err &&
	test_expect_code 100 maintlog 2>err &&
	grep "^usage: maintlog" err
'

test_expect_success '-h prints the usage on stdout and exits 0' '
	maintlog -h >out 2>err &&
	test_must_be_empty err &&
	head -n 1 out | grep "^usage: maintlog \[-hv\] \[-d dir\] \[-L log\] append" &&
	test_line_count = 7 out
'

test_expect_success 'the usage is the man page SYNOPSIS, word for word' '
	test_usage_is_synopsis maintlog
'

test_expect_success 'the default log directory is $BUILDFARM_DIR/corpus' '
	BUILDFARM_DIR=$PWD/farm maintlog append -t git <in >out &&
	test_path_is_file farm/corpus/0000.jsonl &&
	echo 1 >expect && test_cmp expect out
'

test_expect_success 'a non-integer number is refused, naming its field; integers are kept' '
	echo "{\"type\":\"git\"}" | maintlog -d num append >out &&
	cp num/0000.jsonl before &&
	printf "%s\n" "{\"type\":\"git\",\"n\":1}" "{\"type\":\"git\",\"f\":[0.1]}" >in1 &&
	echo "{\"type\":\"git\",\"o\":{\"b\":1e3}}" >in2 &&
	echo "{\"type\":\"git\",\"x\":1.0}" >in3 &&
	for i in 1 2 3
	do
		test_expect_code 100 maintlog -d num append <in$i 2>err$i || return 1
	done &&
	grep "line 2: field .f\.0. is not an integer: records hold integers only; nothing appended" err1 &&
	grep "line 1: field .o\.b. is not an integer" err2 &&
	grep "line 1: field .x. is not an integer" err3 &&
	test_cmp before num/0000.jsonl &&
	echo "{\"type\":\"git\",\"i\":[-9223372036854775808,9223372036854775807,-0]}" |
		maintlog -d num append >out &&
	tail -n 1 num/0000.jsonl | grep "\"i\":\[-9223372036854775808,9223372036854775807,0\]"
'

test_expect_success 'records nest at most 2048 levels deep, the record itself included' '
	open=$(printf "%2047s" "" | tr " " "[") && close=$(printf "%2047s" "" | tr " " "]") &&
	echo "{\"type\":\"git\",\"a\":$open$close}" | maintlog -d num append >out &&
	echo "{\"type\":\"git\",\"a\":[$open$close]}" >deep &&
	test_expect_code 100 maintlog -d num append <deep 2>err &&
	grep "line 1: malformed JSON: .*maximum parsing depth reached" err
'

test_done
