# lib-buildlet.sh: sourced by the t/4*-buildlet-*.t scripts after
# test-lib.sh.
#
#   start_buildlet NAME [flag...]  a buildlet on port 0 of 127.0.0.1
#                                  with work directory $PWD/NAME.wd (unless
#                                  a -workdir is given), as daemon NAME;
#                                  sets port, url and wd
#   bl_exec OUT [curl args...]     POST /exec with --raw; the raw chunked
#                                  body in OUT, the trailers in OUT.trailers
#   trailers RAW                   the trailer lines of a raw chunked body
#   unchunk RAW                    the body of a raw chunked response
#   pgroup_gone PGID [SECONDS]     until no process is in group PGID

start_buildlet () {
	bl_name_=$1
	shift
	wd=$PWD/$bl_name_.wd
	case " $* " in
	*" -workdir "*)
		start_daemon "$bl_name_" buildlet -listen 127.0.0.1:0 "$@" ;;
	*)
		start_daemon "$bl_name_" buildlet -listen 127.0.0.1:0 \
		    -workdir "$wd" "$@" ;;
	esac
	port=$(daemon_port "$bl_name_") || return 1
	url=http://127.0.0.1:$port
}

# The trailers of a chunked body: the lines after the last chunk.
trailers () {
	perl -e '
		binmode STDIN;
		local $/;
		my $b = <STDIN>;
		while ($b =~ s/\A([0-9a-fA-F]+)\r\n//) {
			my $n = hex $1;
			last if $n == 0;
			substr($b, 0, $n, "");
			$b =~ s/\A\r\n// or die "bad chunk end\n";
		}
		$b =~ s/\r//g;
		$b =~ s/\n+\z//;
		print "$b\n" if length $b;
	' <"$1"
}

# The body of a chunked response (what --raw showed), chunks joined.
unchunk () {
	perl -e '
		binmode STDIN;
		binmode STDOUT;
		local $/;
		my $b = <STDIN>;
		while ($b =~ s/\A([0-9a-fA-F]+)\r\n//) {
			my $n = hex $1;
			last if $n == 0;
			print substr($b, 0, $n, "");
			$b =~ s/\A\r\n// or die "bad chunk end\n";
		}
	' <"$1"
}

bl_exec () {
	bl_out_=$1
	shift
	curl -sS --raw "$@" "$url/exec" >"$bl_out_" &&
	trailers "$bl_out_" >"$bl_out_.trailers" &&
	unchunk "$bl_out_" >"$bl_out_.body"
}

# pgroup_gone PGID [SECONDS]: wait until no live process is in group PGID,
# at most SECONDS (test_wait_until's default).
pgroup_gone () {
	test_wait_until "! pgroup_live_ $1" $2 && return 0
	echo "process group $1 still has processes:" >&2
	ps -eo pid,pgid,stat,args | awk -v g="$1" '$2 == g' >&2
	return 1
}

pgroup_live_ () {
	ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | grep -q .
}
