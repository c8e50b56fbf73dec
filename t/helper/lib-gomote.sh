# lib-gomote.sh: sourced by the t/50*-gomote-*.t scripts after
# test-lib.sh and lib-buildlet.sh.
#
#   gomote_direct NAME [flag...]  a buildlet (start_buildlet) with the
#                                 password "pw"; sets inst to the direct
#                                 instance linux-amd64@127.0.0.1:PORT
#                                 and exports BUILDLET_PASSWORD
#   gomote_user LOGIN             LOGIN's token in ~/.config/gomote
#   COORD                         prerequisite: the schedule serve at
#                                 addr (lib-schedule.sh) answers GET
#                                 /buildlet/list (the coordinator side of
#                                 gomote is there)

gomote_direct () {
	gd_name_=$1
	shift
	echo pw >pw &&
	start_buildlet "$gd_name_" -password-file pw "$@" &&
	inst=linux-amd64@127.0.0.1:$port &&
	BUILDLET_PASSWORD=pw &&
	export BUILDLET_PASSWORD
}

# the trash directory sits inside the project's own work tree, whose
# .gitignore must not decide what gomote push sends
GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY
export GIT_CEILING_DIRECTORIES

# gomote_user LOGIN: LOGIN's token (schedule key) where gomote finds it
gomote_user () {
	mkdir -p "$HOME/.config/gomote" &&
	schedule key "user-$1" >"$HOME/.config/gomote/user-$1.token"
}

# prerequisite COORD: a running schedule serve (addr, lib-schedule.sh)
# that has the gomote API, so that these tests run once it is merged
test_lazy_prereq COORD '
	code=$(curl -s -o /dev/null -w "%{http_code}" "$(addr)/buildlet/list") &&
	test "$code" != 404 && test "$code" != 000
'
