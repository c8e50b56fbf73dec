# lib-gitmirror.sh: upstream and downstream repositories for the
# gitmirror tests, made with the git CLI and served by git daemon.

GIT_AUTHOR_NAME='Gopher Gordon'
GIT_AUTHOR_EMAIL=gordon@example.org
GIT_COMMITTER_NAME='Rita Reviewer'
GIT_COMMITTER_EMAIL=rita@example.org
GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME \
    GIT_COMMITTER_EMAIL GIT_CONFIG_NOSYSTEM

# commit_n DIR N [NAME]: N commits in the work tree DIR, each adding a
# file; commit times advance one second per commit from a fixed start
commit_n () {
	for cn_i in $(test_seq 1 "$2")
	do
		cn_t=$((1500000000 + $(git -C "$1" rev-list --all --count \
		    2>/dev/null || echo 0)))
		echo "${3:-c} $cn_i" >"$1/${3:-c}-$cn_i.txt" &&
		git -C "$1" add . &&
		GIT_AUTHOR_DATE="$cn_t -0700" GIT_COMMITTER_DATE="$cn_t +0000" \
		    git -C "$1" commit -q -m "${3:-c} $cn_i" || return 1
	done
}

# new_upstream NAME: a work tree up/NAME with one commit on master,
# served (as up/NAME/.git) by the daemon started with start_git_daemon
new_upstream () {
	mkdir -p up &&
	git init -q -b master "up/$1" &&
	commit_n "up/$1" 1 first
}

# start_git_daemon: git daemon on a free port serving the trash
# directory; pushes allowed; $daemon_port, $daemon_url (git://.../)
start_git_daemon () {
	daemon_port=$(free_port) &&
	start_daemon git-daemon git daemon --listen=127.0.0.1 \
	    --port="$daemon_port" --export-all --enable=receive-pack \
	    --base-path="$TRASH_DIRECTORY" --reuseaddr "$TRASH_DIRECTORY" \
	    >/dev/null &&
	wait_for_port "$daemon_port" &&
	daemon_url="git://127.0.0.1:$daemon_port"
}

# new_downstream NAME: an empty bare repository down/NAME.git
new_downstream () {
	mkdir -p down &&
	git init -q --bare "down/$1.git"
}

# refs DIR: "sha ref" for every ref of repository DIR, sorted
refs () {
	git -C "$1" for-each-ref --format='%(objectname) %(refname)' | sort
}

# corpus_lines TYPE: the corpus records of TYPE, raw
corpus_lines () {
	cat "$BUILDFARM_DIR"/corpus/*.jsonl 2>/dev/null |
	    grep "\"type\":\"$1\"" || true
}

# commits_recorded: "repo branch commit" of every git record, in order
commits_recorded () {
	corpus_lines git | perl -ne '
		my %f;
		$f{$1} = $2 while /"(repo|branch|commit)":"([^"]*)"/g;
		print "$f{repo} $f{branch} $f{commit}\n"'
}
