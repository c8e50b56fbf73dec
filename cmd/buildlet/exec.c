/*
 * exec: POST /exec, run a command and stream its output.
 *
 * The request is checked and turned into an exec_spec first, so that
 * parameter errors are plain 400s.  Then the 200 and its headers
 * (Trailer: Process-State, X-Exit-Code) go out, and only then, from the
 * first call of the stream's read function, does the command start: so
 * a client sees the headers before the command runs, as with the
 * original.  Its standard output and standard error share one pipe,
 * whose bytes are sent as they come; its standard input is /dev/null.
 *
 * The command is the leader of a new process group, in the buildlet's
 * session.  The group is killed with SIGKILL when the timeout parameter
 * expires, when the client goes away (seen as POLLRDHUP on the
 * connection while waiting for output), and when the buildlet stops.
 * A process that makes its own session or group, or outlives its
 * parent, is killed when the request ends: see kill_orphans.
 *
 * Not a new session: with the kernel's autogroup on (the default of
 * most distributions), setsid gives the command a CFS group of its own,
 * created and torn down for each /exec, and on a busy machine the new
 * group often waits a scheduler tick or more for a CPU that a child in
 * the buildlet's own group gets at once.  Next to one CPU-bound job,
 * /exec of /bin/true had 1.5 times the p99 (2.5 times the p50) with a
 * session per command than with a process group, and more than the
 * original, which ran commands in its own group; bare posix_spawn with
 * and without POSIX_SPAWN_SETSID shows the same.
 *
 * Completion is "the pipe reached EOF and the command was reaped", as
 * Go's cmd.Wait waits for its output copier: a background process that
 * keeps the pipe open keeps the request open.  After a timeout kill the
 * pipe gets two more seconds, then the answer goes out regardless.
 */
#include "compat.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "extern.h"
#include "httpd.h"
#include "log.h"
#include "proc.h"
#include "strbuf.h"
#include "tar.h"
#include "timefmt.h"
#include "xmalloc.h"

#define KILL_GRACE_MS	2000	/* pipe wait after a timeout kill */
#define NOPIDFD_POLL_MS	20

struct run {
	struct httpd_req *req;
	struct exec_spec spec;
	struct proc p;		/* the command, with its deadline */
	int out;		/* the pipe's read end */
	int conn;		/* the client's socket */
	int started, eof, dead, finished;	/* dead: exited, unreaped */
	long long t0, grace;	/* mono_ms(); 0: none */
	int timed_out, gone;
	struct strbuf pre;	/* the debug text, sent first */
	size_t prepos;
	struct run *next, **prevp;	/* the running list */
};

static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
/* one kill_orphans at a time: a pid another reaped may be reused */
static pthread_mutex_t orphan_mu = PTHREAD_MUTEX_INITIALIZER;
static struct run *running;

void
exec_spec_free(struct exec_spec *spec)
{
	size_t i;

	free(spec->path);
	free(spec->start_err);
	for (i = 0; spec->argv != NULL && spec->argv[i] != NULL; i++)
		free(spec->argv[i]);
	free(spec->argv);
	/* envp points into bl.env, the request and pathenv: build_env */
	free(spec->envp);
	free(spec->pathenv);
	free(spec->dir);
	free(spec->reldir);
	free(spec->relcmd);
	memset(spec, 0, sizeof(*spec));
}

/* filepath.Join(a, b): a + "/" + b, cleaned. */
static char *
join(const char *a, const char *b)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;

	strbuf_addf(&in, "%s/%s", a, b);
	path_clean(&out, in.buf);
	strbuf_release(&in);
	return strbuf_detach(&out, NULL);
}

/*
 * The environment: the base, the request's env (deduplicated, the
 * last value of a key at the place of the first), then the request's
 * path list in place of PATH.  The strings of envp belong to bl.env,
 * to the request, or (the new PATH) to spec->pathenv; all live as long
 * as the run.
 */
static void
build_env(struct exec_spec *spec, const char *const *env, size_t nenv,
    const char *const *path, size_t npath)
{
	struct strbuf np = STRBUF_INIT, *newpath = &np;
	size_t n = bl.nenv + nenv, i, pi;
	char **v = xreallocarray(NULL, n + 2, sizeof(*v));
	const char *orig = "";
	const char *s;

	for (i = 0; i < bl.nenv; i++)
		v[i] = bl.env[i];
	for (i = 0; i < nenv; i++)
		v[bl.nenv + i] = (char *)env[i];
	n = env_dedup(v, n);
	if (npath > 0) {
		for (pi = 0; pi < n; pi++)
			if (strncmp(v[pi], "PATH=", 5) == 0)
				break;
		if (pi < n)
			orig = v[pi] + 5;
		if (npath == 1 && strcmp(path[0], "$EMPTY") == 0) {
			if (pi < n) {
				memmove(v + pi, v + pi + 1,
				    (n - pi - 1) * sizeof(*v));
				n--;
			}
		} else {
			strbuf_addstr(newpath, "PATH=");
			for (i = 0; i < npath; i++) {
				if (i > 0)
					strbuf_addch(newpath, ':');
				if (strcmp(path[i], "$PATH") == 0) {
					strbuf_addstr(newpath, orig);
					continue;
				}
				for (s = path[i]; *s != '\0';) {
					if (strncmp(s, "$WORKDIR", 8) == 0) {
						strbuf_addstr(newpath,
						    bl.workdir);
						s += 8;
					} else
						strbuf_addch(newpath, *s++);
				}
			}
			spec->pathenv = strbuf_detach(newpath, NULL);
			if (pi < n)
				v[pi] = spec->pathenv;
			else
				v[n++] = spec->pathenv;
		}
	}
	v[n] = NULL;
	spec->envp = v;
}

int
exec_prepare(struct httpd_req *req, struct exec_spec *spec, int *status,
    struct strbuf *msg)
{
	const char *const *args, *const *env, *const *path;
	const char *cmd, *dir, *mode, *s;
	ssize_t nargs, nenv, npath;
	char *abscmd = NULL;
	size_t i;
	int sys;

	memset(spec, 0, sizeof(*spec));
	*status = 400;
	cmd = (s = httpd_form(req, "cmd")) != NULL ? s : "";
	dir = (s = httpd_form(req, "dir")) != NULL ? s : "";
	mode = (s = httpd_form(req, "mode")) != NULL ? s : "";
	sys = strcmp(mode, "sys") == 0;
	if ((s = httpd_form(req, "debug")) == NULL || parse_bool(s,
	    &spec->debug) == -1)
		spec->debug = 0;
	if ((s = httpd_form(req, "timeout")) != NULL && *s != '\0' &&
	    parse_timeout(s, &spec->timeout_ms) == -1) {
		strbuf_addstr(msg, "bad 'timeout' parameter");
		return -1;
	}
	if (sys) {
		if (*cmd == '\0') {
			strbuf_addstr(msg, "requires 'cmd' parameter");
			return -1;
		}
		if (*dir == '\0')
			spec->dir = xstrdup(bl.workdir);
		else if (dir[0] == '/')
			spec->dir = xstrdup(dir);
		else {
			spec->dir = join(bl.workdir, dir);
			if (valid_rel_path(dir))
				spec->reldir = xstrdup(dir);
		}
		abscmd = xstrdup(cmd);
	} else {
		if (!valid_rel_path(cmd)) {
			strbuf_addstr(msg, "requires 'cmd' parameter");
			return -1;
		}
		abscmd = join(bl.workdir, cmd);
		if (strcmp(abscmd, bl.workdir) == 0) {
			/*
			 * "." or "./": no program, and its directory would
			 * be the work directory's parent
			 */
			free(abscmd);
			exec_spec_free(spec);
			strbuf_addstr(msg, "requires 'cmd' parameter");
			return -1;
		}
		spec->relcmd = xstrdup(cmd);
		if (*dir == '\0') {
			spec->dir = xstrdup(abscmd);
			*strrchr(spec->dir, '/') = '\0';
			if (spec->dir[0] == '\0') {
				free(spec->dir);
				spec->dir = xstrdup("/");
			}
		} else if (!valid_rel_path(dir)) {
			free(abscmd);
			exec_spec_free(spec);
			strbuf_addstr(msg, "bogus 'dir' parameter");
			return -1;
		} else {
			spec->dir = join(bl.workdir, dir);
			spec->reldir = xstrdup(dir);
		}
	}
	/* cmdArg, env and path come from the form body only */
	if ((nargs = form_values(req, "cmdArg", &args, msg)) == -1 ||
	    (nenv = form_values(req, "env", &env, msg)) == -1 ||
	    (npath = form_values(req, "path", &path, msg)) == -1) {
		free(abscmd);
		exec_spec_free(spec);
		return -1;
	}
	if (nargs + nenv + npath > MAX_VALUES) {
		free(abscmd);
		exec_spec_free(spec);
		strbuf_addf(msg, "more than %d cmdArg, env and path "
		    "parameters", MAX_VALUES);
		return -1;
	}

	spec->argv = xreallocarray(NULL, (size_t)nargs + 2,
	    sizeof(*spec->argv));
	spec->argv[0] = abscmd;
	for (i = 0; i < (size_t)nargs; i++)
		spec->argv[i + 1] = xstrdup(args[i]);
	spec->argv[nargs + 1] = NULL;
	build_env(spec, env, (size_t)nenv, path, (size_t)npath);

	/* a name without a slash is looked up as exec.Command did */
	if (strchr(abscmd, '/') == NULL) {
		struct strbuf found = STRBUF_INIT;

		if (proc_lookpath(&found, abscmd, bl.path, NULL) == 0)
			spec->path = strbuf_detach(&found, NULL);
		else {
			struct strbuf e = STRBUF_INIT;

			strbuf_addstr(&e, "exec: ");
			go_quote(&e, abscmd);
			strbuf_addstr(&e, ": executable file not found in "
			    "$PATH");
			spec->start_err = strbuf_detach(&e, NULL);
		}
	} else
		spec->path = xstrdup(abscmd);
	*status = 200;
	return 0;
}

static void
confine_msg(struct strbuf *msg, const char *what, const char *name)
{
	strbuf_addf(msg, "bad '%s' parameter: ", what);
	go_quote(msg, name);
	strbuf_addstr(msg, " goes through a symbolic link");
}

/*
 * The rule of every other endpoint (tar_open_dir): one component at a
 * time, no symbolic link.  A name that does not exist (yet) is left to
 * the start, whose error goes into the trailer as before.  The check
 * is made when the request arrives: a command of the client's own
 * that swaps a directory for a link in between wins the race, which
 * buys it nothing it could not run directly.
 */
int
exec_confine(const struct exec_spec *spec, int wfd, struct strbuf *msg)
{
	struct strbuf d = STRBUF_INIT, leaf = STRBUF_INIT;
	struct stat st;
	int fd, rc = 0;

	if (spec->reldir != NULL) {
		if ((fd = tar_open_dir(wfd, spec->reldir, 0)) >= 0)
			close(fd);
		else if (errno == ELOOP) {
			confine_msg(msg, "dir", spec->reldir);
			return -1;
		}
	}
	if (spec->relcmd == NULL || tar_split_path(spec->relcmd, &d,
	    &leaf) == -1)
		goto out;
	if ((fd = tar_open_dir(wfd, d.buf, 0)) == -1) {
		if (errno == ELOOP)
			rc = -1;
		goto out;
	}
	if (leaf.len > 0 && fstatat(fd, leaf.buf, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		rc = -1;
	close(fd);
out:
	if (rc == -1)
		confine_msg(msg, "cmd", spec->relcmd);
	strbuf_release(&d);
	strbuf_release(&leaf);
	return rc;
}

/* ---- running ---- */

static void
running_add(struct run *x)
{
	pthread_mutex_lock(&running_mu);
	x->next = running;
	if (running != NULL)
		running->prevp = &x->next;
	x->prevp = &running;
	running = x;
	pthread_mutex_unlock(&running_mu);
}

static void
running_del_locked(struct run *x)
{
	if (x->prevp != NULL) {
		*x->prevp = x->next;
		if (x->next != NULL)
			x->next->prevp = x->prevp;
		x->prevp = NULL;
	}
}

static void
running_del(struct run *x)
{
	pthread_mutex_lock(&running_mu);
	running_del_locked(x);
	pthread_mutex_unlock(&running_mu);
}

void
exec_kill_all(void)
{
	struct run *x;

	pthread_mutex_lock(&running_mu);
	for (x = running; x != NULL; x = x->next)
		proc_kill(&x->p, SIGKILL);
	pthread_mutex_unlock(&running_mu);
	kill_orphans(1);
}

/* ---- orphans ---- */

/*
 * The main thread's children: with the buildlet a child subreaper,
 * these are the orphans (see kill_orphans).  Their count, or -1 when
 * the kernel has no children file (CONFIG_PROC_CHILDREN).
 */
static ssize_t
orphans(pid_t **out)
{
	char path[64], buf[4096];
	struct strbuf sb = STRBUF_INIT;
	pid_t *v = NULL;
	size_t n = 0, alloc = 0;
	const char *s;
	char *end;
	ssize_t r;
	long pid;
	int fd;

	if (snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid()) >= (int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0 ||
	    (r == -1 && errno == EINTR))
		if (r > 0)
			strbuf_add(&sb, buf, (size_t)r);
	close(fd);
	for (s = sb.buf; *s != '\0'; s = end) {
		pid = strtol(s, &end, 10);
		if (end == s)
			break;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 16;
			v = xreallocarray(v, alloc, sizeof(*v));
		}
		v[n++] = (pid_t)pid;
	}
	strbuf_release(&sb);
	*out = v;
	return (ssize_t)n;
}

/*
 * main() makes the buildlet a child subreaper (PR_SET_CHILD_SUBREAPER),
 * so a process whose parent dies -- what a command leaves running when
 * it exits, a daemon that left by setsid and a double fork -- becomes
 * a child of the buildlet; of its main thread, since the kernel hands
 * orphans to the first live thread, while commands are children of the
 * connection threads that started them.  So the main thread's children
 * are the orphans.  When an /exec ends, every orphan that is not in the
 * process group of a command still running is killed with SIGKILL and
 * reaped; its children are then orphans in turn, and so on until none
 * is left.  Only unreaped children are signalled, so no process id can
 * have been reused.  all (on shutdown): every orphan.
 */
void
kill_orphans(int all)
{
	pid_t *v = NULL, *pgids = NULL, pgid;
	size_t npgids = 0, i, j, alloc = 0;
	ssize_t n;
	int round, killed;
	struct run *x;

	if (!all) {
		pthread_mutex_lock(&running_mu);
		for (x = running; x != NULL; x = x->next) {
			if (npgids == alloc) {
				alloc = alloc ? 2 * alloc : 8;
				pgids = xreallocarray(pgids, alloc,
				    sizeof(*pgids));
			}
			pgids[npgids++] = x->p.pid;	/* a group leader */
		}
		pthread_mutex_unlock(&running_mu);
	}
	pthread_mutex_lock(&orphan_mu);
	for (round = 0; round < 1000; round++) {
		free(v);
		v = NULL;
		if ((n = orphans(&v)) <= 0)
			break;
		killed = 0;
		for (i = 0; i < (size_t)n; i++) {
			/* our unreaped child: its id is not reused */
			pgid = getpgid(v[i]);
			for (j = 0; j < npgids && pgids[j] != pgid; j++)
				;
			if (pgid != -1 && j < npgids) {
				/* a running command's; a zombie is reaped */
				(void)waitpid(v[i], NULL, WNOHANG);
				continue;
			}
			kill(v[i], SIGKILL);
			while (waitpid(v[i], NULL, 0) == -1 && errno == EINTR)
				;
			killed++;
		}
		if (killed == 0)
			break;
	}
	pthread_mutex_unlock(&orphan_mu);
	free(v);
	free(pgids);
}

/*
 * Start the command through lib/proc (clone on a stack in its frame,
 * the child on this thread's CPU until the exec, every signal at
 * SIG_DFL, only fds 0-2): in a new process group to kill as one, with
 * SIGKILL at the timeout.  A failure to start is
 * Go's words in the trailer.
 */
static void
start(struct run *x)
{
	struct strbuf err = STRBUF_INIT;
	struct proc *p = &x->p;

	x->started = 1;
	x->t0 = mono_ms();
	if (x->spec.start_err != NULL)
		return;
	strvec_pushv(&p->args, (const char *const *)x->spec.argv);
	strvec_pushv(&p->env, (const char *const *)x->spec.envp);
	p->env_replace = 1;
	p->path = x->spec.path;
	p->dir = x->spec.dir;
	p->io[0].how = PROC_DEVNULL;
	p->io[1].how = PROC_PIPE;
	p->io[2].how = PROC_STDOUT;
	p->group = PROC_PGRP;	/* not a session: see the top */
	p->timeout_ms = x->spec.timeout_ms;
	p->kill_grace_ms = 0;
	if (proc_start(p, &err) == -1) {
		free(x->spec.start_err);
		x->spec.start_err = strbuf_detach(&err, NULL);
		return;
	}
	strbuf_release(&err);
	x->out = p->io[1].fd;
	running_add(x);
}

/*
 * Kill the command's group and reap the command.  It leaves the
 * running list first, so that exec_kill_all never signals a process
 * group whose leader was reaped (its id could be reused).
 */
static void
reap(struct run *x)
{
	if (!x->started || x->p.pid <= 0 || x->p.exited)
		return;
	proc_kill(&x->p, SIGKILL);
	running_del(x);
	proc_reap(&x->p, 1);
}

/*
 * Whether the command has exited, reaping it if so.  Called only once
 * the pipe is at EOF: until then an exited leader stays a zombie, so
 * that its id still names its group for a timeout's kill.
 */
static int
try_reap(struct run *x)
{
	if (x->p.exited)
		return 1;
	pthread_mutex_lock(&running_mu);
	if (proc_reap(&x->p, 0) != 0)
		running_del_locked(x);
	pthread_mutex_unlock(&running_mu);
	return x->p.exited;
}

static void
set_trailers(struct run *x)
{
	struct strbuf st = STRBUF_INIT;
	char code[16];
	int c;

	if (x->spec.start_err != NULL) {
		strbuf_addstr(&st, x->spec.start_err);
		c = x->spec.path == NULL || strstr(x->spec.start_err,
		    "no such file") != NULL ? 127 : 126;
	} else {
		proc_state(&x->p, &st);
		c = proc_exit_code(&x->p);
	}
	snprintf(code, sizeof(code), "%d", c);
	httpd_stream_trailer(x->req, "Process-State", st.buf);
	httpd_stream_trailer(x->req, "X-Exit-Code", code);
	if (x->p.timed_out)
		log_warnx("exec: %s: killed after the %lld ms timeout",
		    esc(x->spec.argv[0]), x->spec.timeout_ms);
	strbuf_release(&st);
}

static ssize_t
exec_read(void *arg, char *buf, size_t max)
{
	struct run *x = arg;
	struct pollfd pfd[3];
	int npfd, ipipe, ipid, iconn, tmo;
	long long now;
	ssize_t n;
	size_t k;

	if (x->prepos < x->pre.len) {
		k = x->pre.len - x->prepos;
		if (k > max)
			k = max;
		memcpy(buf, x->pre.buf + x->prepos, k);
		x->prepos += k;
		return (ssize_t)k;
	}
	if (!x->started)
		start(x);
	if (x->finished)
		return 0;
	if (x->spec.start_err != NULL) {
		x->finished = 1;
		set_trailers(x);
		return 0;
	}
	for (;;) {
		if (x->eof && try_reap(x)) {
			x->finished = 1;
			set_trailers(x);
			return 0;
		}
		npfd = 0;
		ipipe = ipid = iconn = -1;
		if (!x->eof) {
			pfd[npfd].fd = x->out;
			pfd[npfd].events = POLLIN;
			ipipe = npfd++;
		}
		if (!x->dead && x->p.pidfd >= 0) {
			pfd[npfd].fd = x->p.pidfd;
			pfd[npfd].events = POLLIN;
			ipid = npfd++;
		}
		if (x->conn >= 0) {
			pfd[npfd].fd = x->conn;
			pfd[npfd].events = POLLRDHUP;
			iconn = npfd++;
		}
		now = mono_ms();
		tmo = proc_timeout(&x->p);
		if (x->grace > 0)
			tmo = x->grace > now ? (int)(x->grace - now) : 0;
		if (x->eof && x->p.pidfd < 0 && (tmo == -1 ||
		    tmo > NOPIDFD_POLL_MS))
			tmo = NOPIDFD_POLL_MS;
		if (poll(pfd, (nfds_t)npfd, tmo) == -1 && errno != EINTR) {
			log_warn("exec: poll");
			return -1;
		}
		if (iconn >= 0 && pfd[iconn].revents != 0) {
			/* the client went away: no orphans */
			x->gone = 1;
			reap(x);
			log_warnx("exec: %s: client went away; process group "
			    "%d killed", esc(x->spec.argv[0]), (int)x->p.pid);
			return -1;
		}
		if (ipipe >= 0 && pfd[ipipe].revents != 0) {
			n = read(x->out, buf, max);
			if (n > 0)
				return n;
			if (n == -1 && errno == EINTR)
				continue;
			x->eof = 1;	/* EOF, or an error we cannot help */
		}
		if (ipid >= 0 && pfd[ipid].revents != 0)
			x->dead = 1;	/* reaped at EOF */
		now = mono_ms();
		if (proc_tick(&x->p))
			x->grace = now + KILL_GRACE_MS;
		else if (x->grace > 0 && now >= x->grace) {
			/* something outside the group holds the pipe */
			x->eof = 1;
			reap(x);
		}
	}
}

static void
exec_done(void *arg, int closed)
{
	struct run *x = arg;

	if (x->started && x->p.pid > 0 && !x->p.exited) {
		/* the client went away while we were sending */
		reap(x);
		if (closed && !x->gone)
			log_warnx("exec: %s: client went away; process group "
			    "%d killed", esc(x->spec.argv[0]), (int)x->p.pid);
	}
	running_del(x);
	if (x->started)
		kill_orphans(0);
	if (x->out >= 0)
		close(x->out);
	proc_clear(&x->p);
	strbuf_release(&x->pre);
	exec_spec_free(&x->spec);
	free(x);
}

/* An error sent as the original sent it once its trailer was declared. */
struct err_body {
	struct strbuf b;
	size_t off;
};

static ssize_t
err_read(void *arg, char *buf, size_t max)
{
	struct err_body *e = arg;
	size_t n = e->b.len - e->off < max ? e->b.len - e->off : max;

	memcpy(buf, e->b.buf + e->off, n);
	e->off += n;
	return (ssize_t)n;
}

static void
err_done(void *arg, int closed)
{
	struct err_body *e = arg;

	(void)closed;
	strbuf_release(&e->b);
	free(e);
}

/*
 * Go's http.Error after the handler declared "Trailer: Process-State":
 * net/http then sends the body chunked, with no trailer after it.
 */
static void
exec_error(struct httpd_req *req, int status, const char *msg)
{
	struct err_body *e = xcalloc(1, sizeof(*e));

	strbuf_init(&e->b, 0);
	strbuf_addf(&e->b, "%s\n", msg);
	httpd_add_header(req, "Trailer", "Process-State");
	httpd_add_header(req, "X-Content-Type-Options", "nosniff");
	httpd_reply_stream(req, status, NULL, err_read, err_done, e);
}

void
handle_exec(struct httpd_req *req)
{
	struct strbuf msg = STRBUF_INIT;
	struct run *x;
	int status, fd;

	/* the original's checks before it declared its trailer */
	if (strcmp(httpd_method(req), "POST") != 0) {
		httpd_error(req, 400, "requires POST method");
		return;
	}
	if (strcmp(httpd_version(req), "HTTP/1.0") == 0 ||
	    strcmp(httpd_version(req), "HTTP/0.9") == 0) {
		/* the trailer needs HTTP/1.1 */
		httpd_error(req, 400, "HTTP/1.1 or higher required");
		return;
	}
	x = xcalloc(1, sizeof(*x));
	proc_init(&x->p);
	x->out = -1;
	strbuf_init(&x->pre, 0);
	if (exec_prepare(req, &x->spec, &status, &msg) == -1) {
		if (status != 0)
			exec_error(req, status, msg.buf);
		goto fail;
	}
	if ((fd = workdir_open(req)) == -1)
		goto fail;
	if (exec_confine(&x->spec, fd, &msg) == -1) {
		close(fd);
		exec_error(req, 400, msg.buf);
		goto fail;
	}
	close(fd);
	x->req = req;
	x->conn = httpd_client_fd(req);
	if (x->spec.debug) {
		strbuf_addstr(&x->pre, ":: Running ");
		strbuf_addstr(&x->pre, x->spec.path != NULL ? x->spec.path :
		    x->spec.argv[0]);
		strbuf_addstr(&x->pre, " with args ");
		go_quote_list(&x->pre, x->spec.argv);
		strbuf_addstr(&x->pre, " and env ");
		go_quote_list(&x->pre, x->spec.envp);
		strbuf_addf(&x->pre, " in dir %s\n\n", x->spec.dir);
	}
	httpd_add_header(req, "Trailer", "Process-State, X-Exit-Code");
	httpd_reply_stream(req, 200, NULL, exec_read, exec_done, x);
	strbuf_release(&msg);
	return;
fail:
	strbuf_release(&msg);
	strbuf_release(&x->pre);
	exec_spec_free(&x->spec);
	free(x);
}
