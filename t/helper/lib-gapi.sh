# lib-gapi.sh: the gomote API of schedule serve, spoken with curl
# (sourced after test-lib.sh and lib-schedule.sh).
#
#   token LOGIN                 the token of user-LOGIN (schedule key)
#   gapi LOGIN PATH [curl...]   a request to the daemon as user-LOGIN
#   gcreate LOGIN BUILDER [curl...]   POST /buildlet/create as the 2017
#                               client; the answer on stdout
#   gproxy LOGIN INST PATH [curl...]  a request through X-Buildlet-Proxy
#   jfield KEY                  KEY of each JSON object on stdin, a line
#                               each (an array's objects too)

token () {
	schedule key "user-$1"
}

gapi () {
	gapi_u_=$1 gapi_p_=$2
	shift 2
	curl -sS -u "user-$gapi_u_:$(token "$gapi_u_")" "$@" "$(addr)$gapi_p_"
}

gcreate () {
	gcreate_u_=$1 gcreate_b_=$2
	shift 2
	gapi "$gcreate_u_" /buildlet/create -f -d "builderType=$gcreate_b_" \
	    -d version=20170720 "$@"
}

gproxy () {
	gproxy_u_=$1 gproxy_i_=$2
	shift 2
	gapi "$gproxy_u_" "$@" -H "X-Buildlet-Proxy: $gproxy_i_"
}

jfield () {
	K=$1 perl -MJSON::PP -e '
		local $/;
		my $t = <STDIN>;
		my $j = JSON::PP->new;
		while ($t =~ /\S/) {
			my ($v, $n) = $j->decode_prefix($t);
			$t = substr($t, $n);
			for my $o (ref $v eq "ARRAY" ? @$v : ($v)) {
				print defined $o->{$ENV{K}} ? $o->{$ENV{K}} : "",
				    "\n";
			}
		}
	'
}
