/*
 * ssh: the user's own OpenSSH client, connected to the buildlet's sshd
 * through POST /connect-ssh (directly or through the coordinator).
 *
 * The buildlet adds the user's public key (the first of
 * ~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub) to the
 * authorized_keys of the account it runs as (asked with "id -un"), then
 * answers 101 and pipes to its sshd.  gomote listens on a loopback port
 * of its own, runs ssh(1) against it, and relays the one connection
 * that ssh makes to the pipe.  The host key is not checked
 * (UserKnownHostsFile=/dev/null): the pipe itself is authenticated, by
 * the buildlet's password or the user's token.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bclient.h"
#include "extern.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "rc.h"
#include "relay.h"
#include "strbuf.h"
#include "xmalloc.h"

#define KEY_MAX		(16 * 1024)
#define ACCEPT_MS	60000

/* The user's public key line and the private key's file, or exit. */
static void
public_key(struct strbuf *line, struct strbuf *priv)
{
	static const char *const names[] = { "id_ed25519", "id_ecdsa",
	    "id_rsa" };
	const char *home = getenv("HOME");
	struct passwd *pw;
	size_t i;
	int fd;

	if ((home == NULL || *home == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		strbuf_reset(priv);
		strbuf_addf(priv, "%s/.ssh/%s.pub", home, names[i]);
		if ((fd = open(priv->buf, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		strbuf_reset(line);
		if (strbuf_read_fd(line, fd, KEY_MAX) < 0)
			fatal(RC_TEMP, "read %s", esc(priv->buf));
		close(fd);
		if (memchr(line->buf, '\n', line->len) != NULL)
			strbuf_setlen(line, (size_t)((char *)memchr(line->buf,
			    '\n', line->len) - line->buf));
		strbuf_rtrim(line);
		strbuf_setlen(priv, priv->len - 4);
		return;
	}
	fatalx(RC_PERM, "no public key in %s/.ssh: make one with ssh-keygen",
	    esc(home != NULL ? home : ""));
}

/* Output of a short command on the buildlet, trimmed. */
static int
remote_user(const struct bclient *c, const char *inst, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	struct bclient_exec x = BCLIENT_EXEC_INIT;
	struct bclient_result res;
	static const char *const args[] = { "-un", NULL };
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal(RC_TEMP, "pipe");
	x.cmd = "id";
	x.sys = 1;
	x.args = args;
	x.out.fd = p[1];
	rc = bclient_exec(c, &x, &res, &err);
	close(p[1]);
	if (strbuf_read_fd(out, p[0], 4096) < 0)
		rc = RC_TEMP;
	close(p[0]);
	strbuf_rtrim(out);
	if (rc != RC_OK)
		rc = call_failed(inst, rc, &err);
	else if (res.code != 0 || out->len == 0) {
		log_warnx("cannot tell the buildlet's user: id -un: %s",
		    esc(res.state));
		rc = RC_PERM;
	}
	strbuf_release(&err);
	return rc;
}

/* A listening socket on 127.0.0.1, its port in *port. */
static int
listen_local(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(s, 1) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) == -1)
		fatal(RC_TEMP, "listen on 127.0.0.1");
	*port = ntohs(sa.sin_port);
	return s;
}

int
cmd_ssh(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT, key = STRBUF_INIT, priv = STRBUF_INIT;
	struct strbuf user = STRBUF_INIT;
	struct proc p = PROC_INIT;
	struct pollfd pfd[2];
	struct bclient c;
	const char *inst, *ssh;
	int rc, ls, port, conn = -1, pipefd = -1, r;

	if (getopt(argc, argv, "+") != -1 || optind + 1 != argc)
		usage();
	inst = argv[optind];
	public_key(&key, &priv);
	instance(inst, &c);
	c.timeout_ms = 60000;
	if ((rc = remote_user(&c, inst, &user)) != RC_OK)
		goto out;
	if ((rc = bclient_connect_ssh(&c, user.buf, key.buf, &pipefd, &err))
	    != RC_OK) {
		rc = call_failed(inst, rc, &err);
		goto out;
	}
	ls = listen_local(&port);
	ssh = getenv("GOMOTE_SSH") != NULL ? getenv("GOMOTE_SSH") : "ssh";
	strvec_push(&p.args, ssh);
	strvec_pushf(&p.args, "-p%d", port);
	strvec_pushv(&p.args, (const char *[]){ "-o",
	    "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
	    "-o", "LogLevel=ERROR", "-i", priv.buf, NULL });
	strvec_pushf(&p.args, "%s@127.0.0.1", user.buf);
	/*
	 * The terminal's ^C and ^\ are ssh's to handle (as system(3)
	 * leaves them to its child): the child starts with them at
	 * SIG_DFL (proc.h)
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	if (proc_start(&p, &err) == -1) {
		log_warnx("%s", err.buf);
		close(ls);
		rc = RC_TEMP;
		goto out;
	}
	/* the one connection ssh makes, unless ssh gives up first */
	pfd[0] = (struct pollfd){ ls, POLLIN, 0 };
	pfd[1] = (struct pollfd){ p.pidfd, POLLIN, 0 };
	while ((r = poll(pfd, p.pidfd >= 0 ? 2 : 1, ACCEPT_MS)) == -1 &&
	    errno == EINTR)
		;
	if (r > 0 && (pfd[0].revents & POLLIN))
		conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	close(ls);
	if (conn != -1) {
		(void)relay_run(conn, pipefd, NULL, 0);
		close(conn);
	} else if (r == 0)
		log_warnx("ssh did not connect within %d s", ACCEPT_MS / 1000);
	close(pipefd);
	pipefd = -1;
	rc = proc_finish(&p);
	if (rc < 0)
		rc = RC_TEMP;
out:
	if (pipefd != -1)
		close(pipefd);
	/* an https pump still running would race the TLS exit handlers */
	(void)http_upgrade_wait(5000);
	strbuf_release(&err);
	strbuf_release(&key);
	strbuf_release(&priv);
	strbuf_release(&user);
	return rc;
}
