/*
 * buildlet: the agent on a worker machine.  An HTTP server through
 * which the coordinator and gomote users write files and tarballs into
 * a work directory, run commands there with their output streamed
 * back, list, fetch as a tarball and remove files, and halt the agent.
 * It speaks the original Go buildlet's protocol (golang.org/x/build,
 * 2017) byte for byte, so either side may be the original.
 *
 * Design: it runs in the foreground, one thread per connection
 * (libmicrohttpd), and logs one line per request on stderr.  The work
 * directory is emptied at start; every name a request gives is resolved
 * beneath it without following symbolic links.  Commands run as the
 * leaders of their own process groups, which are killed on timeout, on
 * client disconnect and at shutdown.  Running commands is what the
 * buildlet is for, so it is remote code execution by design: without a
 * password it listens only on loopback unless told -insecure, and the
 * password is compared in constant time and never logged.
 *
 * Signals: SIGINT and SIGTERM stop it (commands killed, connections
 * closed, exit 0); /halt stops it the same way a second later and then
 * runs -halt-cmd if one was given.
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"
#include "http.h"
#include "httpd.h"
#include "log.h"
#include "num.h"
#include "rc.h"
#include "sig.h"
#include "strbuf.h"
#include "xmalloc.h"

#define DEFAULT_LISTEN	"127.0.0.1:5936"
#define PASSWORD_MAX	4096
#define STOP_GRACE_S	5

extern char **environ;

static atomic_int stopped;

static void BF_NORETURN
usage(void)
{
	fprintf(stderr,
"usage: buildlet [-h] [-insecure] [-halt-cmd command] [-listen addr]\n"
"                [-min-free size] [-password-file file] [-ssh-port port]\n"
"                [-tls-cert file -tls-key file] [-workdir dir]\n"
"       buildlet -reverse-type type -coordinator url [-ca-file file]\n"
"                [-halt-cmd command] [-hostname name] [-keyfile file]\n"
"                [-min-free size] [-ssh-port port] [-workdir dir]\n");
	exit(RC_PERM);
}

static void BF_NORETURN
help(void)
{
	/* -h: the synopsis on stdout, exit 0 */
	fflush(stdout);
	if (dup2(1, 2) == -1)
		exit(RC_TEMP);
	fprintf(stderr,
"usage: buildlet [-h] [-insecure] [-halt-cmd command] [-listen addr]\n"
"                [-min-free size] [-password-file file] [-ssh-port port]\n"
"                [-tls-cert file -tls-key file] [-workdir dir]\n"
"       buildlet -reverse-type type -coordinator url [-ca-file file]\n"
"                [-halt-cmd command] [-hostname name] [-keyfile file]\n"
"                [-min-free size] [-ssh-port port] [-workdir dir]\n");
	exit(RC_OK);
}

/* The password from -password-file or $BUILDLET_PASSWORD, or NULL. */
static char *
read_password(const char *file, int *errors)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	const char *env = getenv("BUILDLET_PASSWORD");
	char *pw = NULL;
	int fd;

	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
			log_warn("open password file '%s'", esc(file));
			(*errors)++;
			return NULL;
		}
		if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
			log_warnx("password file '%s' can be read by others",
			    esc(file));
		if (strbuf_read_fd(&sb, fd, PASSWORD_MAX) == -1) {
			log_warn("read password file '%s'", esc(file));
			(*errors)++;
		}
		close(fd);
		/* one line: what echo(1) or a secrets mount leaves */
		while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' ||
		    sb.buf[sb.len - 1] == '\r'))
			strbuf_setlen(&sb, sb.len - 1);
		if (*errors == 0 && (sb.len == 0 ||
		    memchr(sb.buf, '\0', sb.len) != NULL ||
		    memchr(sb.buf, '\n', sb.len) != NULL)) {
			log_warnx("password file '%s': want one non-empty "
			    "line", esc(file));
			(*errors)++;
		}
		if (*errors == 0)
			pw = xstrdup(sb.buf);
		if (sb.alloc)
			bf_wipe(sb.buf, sb.alloc);
		strbuf_release(&sb);
	} else if (env != NULL && *env != '\0')
		pw = xstrdup(env);
	/* commands inherit the environment: it must not hold the secret */
	if (env != NULL) {
		bf_wipe((char *)env, strlen(env));
		unsetenv("BUILDLET_PASSWORD");
	}
	return pw;
}

/* "host:port", "[v6]:port" or ":port", port 0-65535. */
static int
valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	int port;

	if (colon == NULL || (s[0] == '[' && colon[-1] != ']'))
		return 0;
	return num_parse_int(colon + 1, 0, 65535, &port) == 0;
}

/* 1 when a is b or a directory above it. */
static int
is_at_or_above(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (strcmp(a, "/") == 0)
		return 1;
	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/*
 * The work directory, absolute, and refused when emptying it would be
 * a disaster: "/", a system directory, the home directory or the
 * current one (or above them), a symbolic link, or where the password
 * and TLS files live.
 */
static char *
check_workdir(const char *arg, const char *const *keep, int *errors)
{
	static const char *const system[] = { "/bin", "/boot", "/dev",
	    "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
	    "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv",
	    "/sys", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
	    "/usr/share", "/var", "/var/lib", "/var/tmp" };
	struct strbuf abs = STRBUF_INIT, dir = STRBUF_INIT;
	char rp[PATH_MAX], cwd[PATH_MAX], *slash, *res = NULL;
	const char *home = getenv("HOME"), *base;
	struct passwd *pw;
	struct stat st;
	size_t i;

	if (arg[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			log_warn("getcwd");
			(*errors)++;
			return NULL;
		}
		strbuf_addf(&dir, "%s/%s", cwd, arg);
	} else
		strbuf_addstr(&dir, arg);
	path_clean(&abs, dir.buf);
	strbuf_reset(&dir);
	/* the parent must exist; it is resolved, the last name is not */
	slash = strrchr(abs.buf, '/');
	base = slash + 1;
	strbuf_add(&dir, abs.buf, slash == abs.buf ? 1 : (size_t)(slash -
	    abs.buf));
	if (*base == '\0' || realpath(dir.buf, rp) == NULL) {
		if (*base == '\0')
			log_warnx("refusing -workdir '%s': it is /", esc(arg));
		else
			log_warn("-workdir '%s': parent '%s'", esc(arg),
			    esc(dir.buf));
		(*errors)++;
		goto out;
	}
	strbuf_reset(&dir);
	strbuf_addf(&dir, "%s/%s", strcmp(rp, "/") == 0 ? "" : rp, base);
	if (lstat(dir.buf, &st) == 0 && !S_ISDIR(st.st_mode)) {
		log_warnx("refusing -workdir '%s': not a directory%s", esc(arg),
		    S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
		(*errors)++;
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(system); i++)
		if (strcmp(dir.buf, system[i]) == 0) {
			log_warnx("refusing -workdir '%s': a system directory",
			    esc(arg));
			(*errors)++;
			goto out;
		}
	if ((home != NULL && realpath(home, rp) != NULL &&
	    is_at_or_above(dir.buf, rp)) ||
	    ((pw = getpwuid(getuid())) != NULL &&
	    realpath(pw->pw_dir, rp) != NULL && is_at_or_above(dir.buf, rp))) {
		log_warnx("refusing -workdir '%s': it would empty the home "
		    "directory", esc(arg));
		(*errors)++;
		goto out;
	}
	if (getcwd(cwd, sizeof(cwd)) != NULL && is_at_or_above(dir.buf, cwd)) {
		log_warnx("refusing -workdir '%s': it would empty the current "
		    "directory", esc(arg));
		(*errors)++;
		goto out;
	}
	for (i = 0; keep[i] != NULL; i++)
		if (realpath(keep[i], rp) != NULL &&
		    is_at_or_above(dir.buf, rp)) {
			log_warnx("refusing -workdir '%s': it holds '%s'",
			    esc(arg), esc(keep[i]));
			(*errors)++;
			goto out;
		}
	res = strbuf_detach(&dir, NULL);
out:
	strbuf_release(&abs);
	strbuf_release(&dir);
	return res;
}

/* Empty the work directory, or make it; 0 or -1. */
static int
wipe_workdir(const char *wd)
{
	struct strbuf err = STRBUF_INIT;
	int fd, ret = 0;

	if (mkdir(wd, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		log_warn("mkdir '%s'", esc(wd));
		return -1;
	}
	if ((fd = open(wd, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("open '%s'", esc(wd));
		return -1;
	}
	if (empty_dir(fd, &err) == -1) {
		log_warnx("emptying the work directory: %s", esc(err.buf));
		ret = -1;
	}
	close(fd);
	strbuf_release(&err);
	return ret;
}

/* The environment commands start from, fixed now (threads come next). */
static void
setup_env(void)
{
	struct strbuf v = STRBUF_INIT;
	const char *p;
	size_t i, n;

	setenv("WORKDIR", bl.workdir, 1);
	strbuf_addf(&v, "%s/go1.4", bl.workdir);
	setenv("GOROOT_BOOTSTRAP", v.buf, 1);
	strbuf_release(&v);
	for (n = 0; environ[n] != NULL; n++)
		;
	bl.env = xreallocarray(NULL, n + 1, sizeof(*bl.env));
	for (i = 0; i < n; i++)
		bl.env[i] = xstrdup(environ[i]);
	bl.env[n] = NULL;
	bl.nenv = n;
	p = getenv("PATH");
	bl.path = xstrdup(p != NULL ? p : "/usr/local/bin:/usr/bin:/bin");
}

/* Many clients, many files: as many descriptors as we may have. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void *
watchdog(void *arg)
{
	(void)arg;
	sleep(STOP_GRACE_S);
	if (atomic_load(&stopped))
		return NULL;
	log_warnx("connections still busy after %d s; exiting", STOP_GRACE_S);
	_exit(RC_TEMP);
}

/*
 * -halt-cmd, through sh -c, started clean by lib/proc (every signal at
 * SIG_DFL, none blocked, only fds 0-2); its status only goes to the log.
 */
static void
run_halt_cmd(const char *cmd)
{
	struct strbuf err = STRBUF_INIT, st = STRBUF_INIT;
	struct proc p = PROC_INIT;

	strvec_pushv(&p.args, (const char *const[]){ "sh", "-c", cmd, NULL });
	p.path = "/bin/sh";
	log_warnx("running -halt-cmd '%s'", esc(cmd));
	if (proc_start(&p, &err) == -1) {
		log_warnx("-halt-cmd: %s", err.buf);
		proc_clear(&p);
	} else if (proc_finish(&p) != 0) {
		proc_state(&p, &st);
		log_warnx("-halt-cmd failed: %s", st.buf);
	}
	strbuf_release(&err);
	strbuf_release(&st);
}

/*
 * Check and complete the reverse mode flags: -coordinator as a URL
 * without a trailing slash (https:// unless given; plain http only to
 * loopback), -hostname, and the key file's name into keyfile (given,
 * or ~/.gobuildkey-TYPE as the original).  0, or -1 after warnings.
 */
static int
reverse_flags(const char *keyfile, struct strbuf *kpath, int *errors)
{
	static struct strbuf url = STRBUF_INIT, auth = STRBUF_INIT;
	static char host[256];
	const char *home = getenv("HOME"), *a, *end;
	int e = *errors;

	if (rv.type == NULL || rv.coordinator == NULL) {
		log_warnx("reverse mode wants both -reverse-type and "
		    "-coordinator");
		(*errors)++;
		return -1;
	}
	if (*rv.type == '\0' || strspn(rv.type, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(rv.type)) {
		log_warnx("bad -reverse-type '%s'", esc(rv.type));
		(*errors)++;
	}
	if (strstr(rv.coordinator, "://") == NULL)
		strbuf_addstr(&url, "https://");
	strbuf_addstr(&url, rv.coordinator);
	while (url.len > 0 && url.buf[url.len - 1] == '/')
		strbuf_setlen(&url, url.len - 1);
	a = strstr(url.buf, "://") + 3;
	end = a + strcspn(a, "/?#");
	strbuf_add(&auth, a, (size_t)(end - a));
	if (strchr(auth.buf, ':') == NULL || auth.buf[auth.len - 1] == ']')
		strbuf_addstr(&auth, ":80");
	if (strncmp(url.buf, "https://", 8) != 0 &&
	    (strncmp(url.buf, "http://", 7) != 0 ||
	    !httpd_listen_is_loopback(auth.buf))) {
		log_warnx("-coordinator '%s': want an https URL (plain http "
		    "only to loopback)", esc(rv.coordinator));
		(*errors)++;
	}
	rv.coordinator = url.buf;
	if (rv.hostname == NULL) {
		if (gethostname(host, sizeof(host) - 1) == -1) {
			log_warn("gethostname");
			(*errors)++;
		}
		rv.hostname = host;
	}
	if (*rv.hostname == '\0' || strlen(rv.hostname) > 64 ||
	    strspn(rv.hostname, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	    strlen(rv.hostname)) {
		log_warnx("bad -hostname '%s': want letters, digits, '.', "
		    "'_' and '-', at most 64", esc(rv.hostname));
		(*errors)++;
	}
	if (keyfile != NULL)
		strbuf_addstr(kpath, keyfile);
	else if (home == NULL || *home == '\0') {
		log_warnx("no -keyfile and no $HOME for ~/.gobuildkey-%s",
		    esc(rv.type));
		(*errors)++;
	} else
		strbuf_addf(kpath, "%s/.gobuildkey-%s", home, rv.type);
	return *errors > e ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "ca-file", required_argument, NULL, 'A' },
		{ "coordinator", required_argument, NULL, 'C' },
		{ "halt-cmd", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "hostname", required_argument, NULL, 'N' },
		{ "insecure", no_argument, NULL, 'i' },
		{ "keyfile", required_argument, NULL, 'K' },
		{ "listen", required_argument, NULL, 'l' },
		{ "min-free", required_argument, NULL, 'm' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "reverse-type", required_argument, NULL, 'R' },
		{ "ssh-port", required_argument, NULL, 's' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "workdir", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct httpd_config cfg = HTTPD_CONFIG_INIT;
	struct strbuf err = STRBUF_INIT, def = STRBUF_INIT;
	const char *listen = DEFAULT_LISTEN, *pwfile = NULL, *cert = NULL,
	    *key = NULL, *wdarg = NULL, *tmp, *keep[5], *keyfile = NULL;
	struct strbuf kdef = STRBUF_INIT;
	int lflag = 0;
	pthread_t wd;
	int ch, errors = 0, insecure = 0, halting, nkeep, sig;
	uint64_t u64 = 0;

	prog_init(argv[0]);
	/*
	 * UTF-8 names: libarchive then writes a non-ASCII name in /tgz as
	 * a plain pax path, as Go did, not with hdrcharset=BINARY.
	 */
	(void)setlocale(LC_CTYPE, "C.UTF-8");
	bl.ssh_port = 22;
	(void)num_parse_size(DEFAULT_MIN_FREE, 0, UINT64_MAX, &u64);
	bl.min_free = u64;
	while ((ch = getopt_long_only(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'A':
			rv.cafile = optarg;
			break;
		case 'C':
			rv.coordinator = optarg;
			break;
		case 'K':
			keyfile = optarg;
			break;
		case 'N':
			rv.hostname = optarg;
			break;
		case 'R':
			rv.type = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'H':
			bl.halt_cmd = optarg;
			break;
		case 'h':
			help();
		case 'i':
			insecure = 1;
			break;
		case 'k':
			key = optarg;
			break;
		case 'l':
			listen = optarg;
			lflag = 1;
			break;
		case 'm':
			if (num_parse_size(optarg, 0, UINT64_MAX, &u64) == -1) {
				log_warnx("bad -min-free '%s': want a size "
				    "such as 512M", esc(optarg));
				errors++;
			} else
				bl.min_free = u64;
			break;
		case 'p':
			pwfile = optarg;
			break;
		case 's':
			if (num_parse_int(optarg, 1, 65535, &bl.ssh_port) ==
			    -1) {
				log_warnx("bad -ssh-port '%s': want 1-65535",
				    esc(optarg));
				errors++;
			}
			break;
		case 'w':
			wdarg = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();

	/* check everything before touching anything */
	if ((cert == NULL) != (key == NULL)) {
		log_warnx("-tls-cert and -tls-key go together");
		errors++;
	}
	if (bl.halt_cmd != NULL && *bl.halt_cmd == '\0') {
		log_warnx("empty -halt-cmd");
		errors++;
	}
	if (!valid_listen(listen)) {
		log_warnx("bad -listen '%s': want host:port, [v6]:port or "
		    ":port", esc(listen));
		errors++;
	}
	if (rv.type != NULL || rv.coordinator != NULL) {
		if (reverse_flags(keyfile, &kdef, &errors) == 0 &&
		    (lflag || pwfile != NULL || cert != NULL || insecure)) {
			log_warnx("reverse mode listens nowhere and takes the "
			    "key for its password: no -listen, "
			    "-password-file, -tls-cert or -insecure");
			errors++;
		}
		if (errors == 0)
			keyfile = kdef.buf;
		/* the key is the password data connections must give */
		rv.key = read_password(keyfile, &errors);
		bl.password = rv.key;
	} else if (keyfile != NULL || rv.cafile != NULL ||
	    rv.hostname != NULL) {
		log_warnx("-keyfile, -ca-file and -hostname are for reverse "
		    "mode (-reverse-type)");
		errors++;
	} else
		bl.password = read_password(pwfile, &errors);
	if (rv.type == NULL && bl.password == NULL && !insecure &&
	    !httpd_listen_is_loopback(listen)) {
		log_warnx("refusing to listen on '%s' without a password: "
		    "use -password-file, $BUILDLET_PASSWORD or -insecure",
		    esc(listen));
		errors++;
	}
	if (wdarg == NULL) {
		/* the original's default: $TMPDIR/workdir */
		tmp = getenv("TMPDIR");
		strbuf_addf(&def, "%s/workdir", tmp != NULL && *tmp == '/' ?
		    tmp : "/tmp");
		wdarg = def.buf;
	}
	/* files that emptying the work directory must not take away */
	nkeep = 0;
	if (pwfile != NULL)
		keep[nkeep++] = pwfile;
	if (cert != NULL)
		keep[nkeep++] = cert;
	if (key != NULL)
		keep[nkeep++] = key;
	if (rv.type != NULL)
		keep[nkeep++] = keyfile;
	keep[nkeep] = NULL;
	bl.workdir = check_workdir(wdarg, keep, &errors);
	if (errors > 0)
		exit(RC_PERM);

	if (wipe_workdir(bl.workdir) == -1)
		exit(RC_TEMP);
	setup_env();
	raise_nofile();

	cfg.listen = rv.type != NULL ? NULL : listen;
	cfg.tls_cert = cert;
	cfg.tls_key = key;
	cfg.handler = serve;
	cfg.body_mode = body_mode;
	cfg.max_body = MAX_FORM;
	cfg.max_conns = MAX_CONNS;
	/* in reverse mode every connection is one we dialled */
	cfg.max_per_addr = rv.type != NULL ? 0 : MAX_CONNS_ADDR;
	cfg.reserve = RESERVE_CONNS;
	cfg.untrusted_timeout_s = UNAUTH_TIMEOUT_S;
	/* blocked in every thread, read by this one; USR1 is /halt's */
	if (sig_init(&err, SIGINT, SIGTERM, SIGUSR1, 0) < 0)
		fatalx(RC_TEMP, "%s", err.buf);
	/* orphans of commands come to us, to be killed: exec.c */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fatal(RC_TEMP, "prctl PR_SET_CHILD_SUBREAPER");
	if ((bl.h = httpd_start(&cfg, &err)) == NULL)
		fatalx(RC_TEMP, "%s", err.buf);
	if (rv.type != NULL) {
		log_warnx("reverse mode: host type %s, coordinator %s, "
		    "work directory '%s'", esc(rv.type), esc(rv.coordinator),
		    esc(bl.workdir));
		if (reverse_start(&err) == -1)
			fatalx(RC_TEMP, "%s", err.buf);
	} else
		/* with port 0, the kernel's choice: buildlet(1) promises it */
		log_warnx("listening on %.*s:%d%s, work directory '%s'%s",
		    (int)(strrchr(listen, ':') - listen), listen,
		    httpd_port(bl.h), cert != NULL ? " with TLS" : "",
		    esc(bl.workdir), bl.password == NULL ? ", no password" :
		    "");
	while ((sig = sig_wait(-1)) == 0)
		;
	halting = sig == SIGUSR1;
	if (!halting)
		log_warnx("stopping on signal %d", sig);

	/* no new connections, then commands, so that theirs end */
	reverse_stop();
	exec_kill_all();
	if (pthread_create(&wd, NULL, watchdog, NULL) == 0)
		pthread_detach(wd);
	httpd_stop(bl.h);
	/* reverse mode's TLS pumps end with their connections: before exit */
	(void)http_upgrade_wait(STOP_GRACE_S * 1000);
	atomic_store(&stopped, 1);
	if (halting && bl.halt_cmd != NULL)
		run_halt_cmd(bl.halt_cmd);
	log_warnx("stopped");
	strbuf_release(&err);
	strbuf_release(&def);
	strbuf_release(&kdef);
	return RC_OK;
}
