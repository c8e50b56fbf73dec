# lib-retry.sh: what the retrybuilds tests share (sourced after
# test-lib.sh): results logs and build logs written as schedule writes
# them, and readers of the retractions.
#
#   rev N                          a made-up commit hash: N (digits) then
#                                  zeros, 40 hex digits
#   store_log TEXT                 TEXT as a stored build log
#                                  (buildlogs/AB/HASH.gz); prints HASH
#   result BUILDER REV OK [TEXT] [KIND] [REPO] [ELAPSED]
#                                  a result record (OK true or false), its
#                                  log the stored TEXT (default "log of
#                                  BUILDER"), KIND default post, REPO
#                                  default go, ELAPSED default 1000 (ms)
#   retracts                       "REPO REV BUILDER REASON" per retract
#                                  record, in log order
#   nretracts                      how many retract records

rev () {
	printf '%s%0*d\n' "$1" $((40 - ${#1})) 0
}

store_log () {
	printf '%s\n' "$1" >log.txt &&
	sl_hash_=$(sha256sum <log.txt | cut -c1-64) &&
	mkdir -p "$BUILDFARM_DIR/buildlogs/$(echo "$sl_hash_" | cut -c1-2)" &&
	gzip -c <log.txt \
	    >"$BUILDFARM_DIR/buildlogs/$(echo "$sl_hash_" | cut -c1-2)/$sl_hash_.gz" &&
	echo "$sl_hash_"
}

result () {
	res_log_=$(store_log "${4:-log of $1}") &&
	printf '{"attempt":1,"builder":"%s","buildlet":"h-1","elapsed_ms":%s,"item":"x","kind":"%s","log":"%s","ok":%s,"repo":"%s","rev":"%s"}\n' \
	    "$1" "${7:-1000}" "${5:-post}" "$res_log_" "$3" "${6:-go}" "$2" |
	    maintlog -L results append -t result >/dev/null
}

retracts () {
	cat "$BUILDFARM_DIR"/results/*.jsonl 2>/dev/null |
	perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print "$r->{repo} $r->{rev} $r->{builder} $r->{reason}\n"
		    if $r->{type} eq "retract";
	'
}

nretracts () {
	retracts | wc -l | tr -d " "
}
