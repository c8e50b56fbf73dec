/*
 * ssh: POST /connect-ssh, a byte pipe to the machine's sshd.
 *
 * With X-Go-Ssh-User and X-Go-Authorized-Key the key is first added
 * (once) to that user's ~/.ssh/authorized_keys, as the original did;
 * the user must exist (its home comes from the password database, not
 * from a guess at /home/NAME), the key must be one line, and the file
 * must be the user's own regular file with one link (see open_keys);
 * a key is there when it is a whole line of the file.  Then the
 * buildlet connects to 127.0.0.1 on the -ssh-port (22), answers 101
 * Switching Protocols with "Upgrade: ssh", and copies bytes both ways
 * (lib/relay, one thread per connection) until both directions have
 * ended.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "extern.h"
#include "httpd.h"
#include "log.h"
#include "relay.h"
#include "strbuf.h"
#include "xmalloc.h"

#define KEY_MAX		(16 * 1024)
#define AUTH_KEYS_MAX	(1024 * 1024)

static int
valid_user(const char *u)
{
	size_t i;

	if (u[0] == '\0' || u[0] == '-' || strlen(u) > 32)
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if (!((u[i] >= 'a' && u[i] <= 'z') ||
		    (u[i] >= 'A' && u[i] <= 'Z') ||
		    (u[i] >= '0' && u[i] <= '9') || u[i] == '_' ||
		    u[i] == '-' || u[i] == '.'))
			return 0;
	return 1;
}

/* Whether key is one of the lines of have (a trailing '\r' ignored). */
static int
has_line(const struct strbuf *have, const char *key)
{
	const char *p = have->buf, *end = have->buf + have->len, *e;
	size_t k = strlen(key), n;

	for (; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == k && memcmp(p, key, k) == 0)
			return 1;
	}
	return 0;
}

/*
 * The user's authorized_keys in .ssh directory sfd, opened for reading
 * and appending: made (and given to the user) when missing; refused
 * when it is a symbolic link, not a regular file, has another hard link
 * (appending would write into some other file), or belongs to another
 * user.  An fd, or -1 with err.
 */
static int
open_keys(int sfd, const struct passwd *pw, struct strbuf *err)
{
	char ebuf[128];
	struct stat st;
	int fd;

	fd = openat(sfd, "authorized_keys", O_RDWR | O_APPEND | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		fd = openat(sfd, "authorized_keys", O_RDWR | O_APPEND |
		    O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 && geteuid() == 0 &&
		    fchown(fd, pw->pw_uid, pw->pw_gid) == -1) {
			close(fd);
			fd = -1;
		}
	}
	if (fd == -1 || fstat(fd, &st) == -1) {
		strbuf_addf(err, "%s/.ssh/authorized_keys: %s", pw->pw_dir,
		    errno == ELOOP ? "is a symbolic link" :
		    go_strerror(errno, ebuf, sizeof(ebuf)));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != pw->pw_uid) {
		strbuf_addf(err, "%s/.ssh/authorized_keys: %s", pw->pw_dir,
		    !S_ISREG(st.st_mode) ? "not a regular file" :
		    st.st_nlink != 1 ? "has more than one link" :
		    "not owned by the user");
		close(fd);
		return -1;
	}
	return fd;
}

/* Append key to user's authorized_keys unless there; 0 or -1 + err. */
static int
add_key(const char *user, const char *key, struct strbuf *err)
{
	struct strbuf have = STRBUF_INIT, line = STRBUF_INIT;
	struct passwd pw, *res = NULL;
	char pwbuf[4096], ebuf[128];
	int hfd = -1, sfd = -1, fd = -1, ret = -1;

	if (!valid_user(user)) {
		strbuf_addstr(err, "bad user name");
		return -1;
	}
	if (strlen(key) > KEY_MAX || strpbrk(key, "\r\n") != NULL) {
		strbuf_addstr(err, "bad key: one line, at most 16 KiB");
		return -1;
	}
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &res) != 0 ||
	    res == NULL) {
		strbuf_addf(err, "no user %s", user);
		return -1;
	}
	if ((hfd = open(pw.pw_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		strbuf_addf(err, "open %s: %s", pw.pw_dir,
		    go_strerror(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (mkdirat(hfd, ".ssh", 0700) == -1 && errno != EEXIST) {
		strbuf_addf(err, "mkdir %s/.ssh: %s", pw.pw_dir,
		    go_strerror(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	sfd = openat(hfd, ".ssh", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (sfd == -1 || fchmod(sfd, 0700) == -1 ||
	    (geteuid() == 0 && fchown(sfd, pw.pw_uid, pw.pw_gid) == -1)) {
		strbuf_addf(err, "%s/.ssh: %s", pw.pw_dir,
		    go_strerror(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	if ((fd = open_keys(sfd, &pw, err)) == -1)
		goto out;
	if (strbuf_read_fd(&have, fd, AUTH_KEYS_MAX) == -1) {
		strbuf_addf(err, "%s/.ssh/authorized_keys: %s", pw.pw_dir,
		    go_strerror(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	/* whole lines: a key that is part of another one is not there */
	if (!has_line(&have, key)) {
		/* a last line without its newline must not swallow the key */
		if (have.len > 0 && have.buf[have.len - 1] != '\n')
			strbuf_addch(&line, '\n');
		strbuf_addf(&line, "%s\n", key);
		if (write(fd, line.buf, line.len) != (ssize_t)line.len) {
			strbuf_addf(err, "write %s/.ssh/authorized_keys: %s",
			    pw.pw_dir, go_strerror(errno, ebuf, sizeof(ebuf)));
			goto out;
		}
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
	if (hfd >= 0)
		close(hfd);
	strbuf_release(&have);
	strbuf_release(&line);
	return ret;
}

/* An upgraded /connect-ssh: the client's connection and sshd's. */
struct sshconn {
	struct httpd_upgrade *up;
	int fd, s;
};

/* One thread per connection, one poll loop in it. */
static void *
ssh_main(void *arg)
{
	struct sshconn *c = arg;
	const void *extra;
	size_t n;

	extra = httpd_upgrade_extra(c->up, &n);
	(void)relay_run(c->fd, c->s, extra, n);
	close(c->s);
	httpd_upgrade_close(c->up);
	free(c);
	return NULL;
}

static void
on_upgraded(struct httpd_upgrade *up, int fd, void *arg)
{
	int s = (int)(intptr_t)arg;
	struct sshconn *c;
	pthread_attr_t attr;
	pthread_t thr;
	int rc;

	if (up == NULL) {
		close(s);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->up = up;
	c->fd = fd;
	c->s = s;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thr, &attr, ssh_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		log_warnx("connect-ssh: pthread_create: %s", strerror(rc));
		close(s);
		httpd_upgrade_close(up);
		free(c);
	}
}

void
handle_connect_ssh(struct httpd_req *req)
{
	struct strbuf err = STRBUF_INIT, m = STRBUF_INIT;
	struct sockaddr_in sin;
	const char *user, *key, *cl, *te;
	char ebuf[128];
	int s;

	if (strcmp(httpd_method(req), "POST") != 0) {
		httpd_error(req, 400, "requires POST method");
		goto out;
	}
	cl = httpd_header(req, "Content-Length");
	te = httpd_header(req, "Transfer-Encoding");
	if ((cl != NULL && strcmp(cl, "0") != 0) || te != NULL) {
		httpd_error(req, 400, "requires zero Content-Length");
		goto out;
	}
	user = httpd_header(req, "X-Go-Ssh-User");
	key = httpd_header(req, "X-Go-Authorized-Key");
	if (user != NULL && *user != '\0' && key != NULL && *key != '\0' &&
	    add_key(user, key, &err) == -1) {
		strbuf_addf(&m, "adding ssh authorized key: %s", err.buf);
		httpd_error(req, 400, m.buf);
		goto out;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)bl.ssh_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		strbuf_addf(&m, "dial tcp 127.0.0.1:%d: connect: %s",
		    bl.ssh_port, go_strerror(errno, ebuf, sizeof(ebuf)));
		if (s >= 0)
			close(s);
		httpd_error(req, 502, m.buf);
		goto out;
	}
	/* libmicrohttpd adds "Connection: Upgrade" */
	httpd_reply_upgrade(req, "ssh", on_upgraded, (void *)(intptr_t)s);
out:
	strbuf_release(&err);
	strbuf_release(&m);
}
