# lib-reverse.sh: reverse buildlets and the schedule serve they dial
# (sourced after test-lib.sh and lib-schedule.sh).
#
#   start_coord [flag...]       schedule serve on 127.0.0.1:0 of
#                               $BUILDFARM_DIR (its config written
#                               first), as daemon "coord"; sets COORD
#   rev_key TYPE                the host type's key into TYPE.key
#   start_rev NAME TYPE [flag...]  buildlet -reverse-type TYPE of
#                               hostname NAME against $COORD, key
#                               TYPE.key, work directory NAME.wd, as
#                               daemon NAME
#   rev_field MACHINE KEY       KEY of MACHINE in status.json (empty
#                               when MACHINE is not in the table)
#   rev_wait MACHINE            until MACHINE is in the table; sets
#                               rurl to its url
#   rev_gone MACHINE            until it is not
#   test_ca NAME                a self-signed CA: NAME.key, NAME.pem
#   test_cert CA NAME IP        a certificate for IP signed by CA:
#                               NAME.key, NAME.pem

start_coord () {
	start_daemon coord schedule serve -l 127.0.0.1:0 "$@" &&
	coord_port=$(daemon_port coord) &&
	case " $* " in
	*" -tls-cert "*)
		COORD=https://127.0.0.1:$coord_port ;;
	*)
		COORD=http://127.0.0.1:$coord_port ;;
	esac
}

rev_key () {
	schedule key "$1" >"$1.key"
}

start_rev () {
	rev_name_=$1
	rev_type_=$2
	shift 2
	start_daemon "$rev_name_" buildlet -reverse-type "$rev_type_" \
	    -coordinator "${REV_COORD:-$COORD}" -keyfile "$rev_type_.key" \
	    -hostname "$rev_name_" -workdir "$PWD/$rev_name_.wd" "$@"
}

rev_field () {
	curl -sS ${REV_CURL_FLAGS-} "$COORD/status.json" |
	M=$1 K=$2 perl -MJSON::PP -e '
		local $/;
		my $st = decode_json(<STDIN>);
		for my $p (@{$st->{pools}}) {
			for my $m (@{$p->{machines}}) {
				print "$m->{$ENV{K}}\n" if $m->{name} eq $ENV{M};
			}
		}
	'
}

rev_wait () {
	test_wait_until "test -n \"\$(rev_field $1 name)\"" &&
	rurl=$(rev_field "$1" url)
}

rev_gone () {
	test_wait_until "test -z \"\$(rev_field $1 name)\""
}

test_ca () {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
	    -keyout "$1.key" -out "$1.pem" 2>/dev/null
}

test_cert () {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" \
	    -keyout "$2.key" -out "$2.csr" 2>/dev/null &&
	printf "subjectAltName=IP:%s\n" "$3" >"$2.ext" &&
	openssl x509 -req -in "$2.csr" -CA "$1.pem" -CAkey "$1.key" \
	    -CAcreateserial -days 2 -extfile "$2.ext" -out "$2.pem" 2>/dev/null
}
