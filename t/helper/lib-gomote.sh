# lib-gomote.sh: sourced by the t/50*-gomote-*.t scripts after
# test-lib.sh and lib-buildlet.sh.
#
#   gomote_direct NAME [flag...]  a buildlet (start_buildlet) with the
#                                 password "pw"; sets inst to the direct
#                                 instance linux-amd64@127.0.0.1:PORT
#                                 and exports BUILDLET_PASSWORD
#   have_coordinator_api          prerequisite COORD: schedule serve
#                                 answers GET /buildlet/list (the
#                                 coordinator side of gomote is there)

gomote_direct () {
	gd_name_=$1
	shift
	echo pw >pw &&
	start_buildlet "$gd_name_" -password-file pw "$@" &&
	inst=linux-amd64@127.0.0.1:$port &&
	BUILDLET_PASSWORD=pw &&
	export BUILDLET_PASSWORD
}

# schedule's usage names the API once it serves it
test_lazy_prereq COORD '
	schedule -h 2>&1 | grep -q . &&
	grep -q "/buildlet/list" "$BUILDFARM_TOP/cmd/schedule/"*.c
'

# the trash directory sits inside the project's own work tree, whose
# .gitignore must not decide what gomote push sends
GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY
export GIT_CEILING_DIRECTORIES
