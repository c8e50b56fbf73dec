/*
 * pool.c: the machines, one table for every host type.
 *
 * Static pools list their buildlets; each is HOSTTYPE-N in file order
 * and lives as long as the daemon.  Command pools make machines with
 * their create command and unmake them with destroy.  A record
 * state/schedule/machines/NAME is written before create runs and
 * completed after, so that a crash anywhere leaves a trace: pool_init
 * adopts the machines whose buildlets answer and destroys the rest.
 *
 * Idle machines get a heartbeat (GET /status) every HEARTBEAT_MS from
 * a thread of their own, since a buildlet that does not answer takes
 * seconds to give up on and the loop must not wait for it.
 */
#include "compat.h"

#include <sys/eventfd.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "bclient.h"
#include "extern.h"
#include "farm.h"
#include "farmconf.h"
#include "json.h"
#include "log.h"
#include "proc.h"
#include "rc.h"
#include "strbuf.h"
#include "timefmt.h"
#include "xmalloc.h"

#define HEARTBEAT_MS	10000
#define HEARTBEAT_TIMEOUT_MS 5000
#define MAX_MISSES	3
#define BACKOFF_MAX_S	60
#define CMD_TIMEOUT_MS	(10 * 60 * 1000)
#define CMD_OUT_MAX	4096

struct pool {
	const struct hosttype_conf *ht;
	char *error;		/* the last create failure, or NULL */
	int backoff_s;
	long long retry_at;	/* mono_ms: no create before */
};

static struct pool *pools;
static size_t npools;
static struct machine **mv;
static size_t nm, am;
static int mdirfd = -1;		/* state/schedule/machines */
static int wakefd = -1;		/* eventfd: the heartbeat thread changed one */
static pthread_t beat_thread;
static int beat_started;
static volatile sig_atomic_t beat_stop;

static const char *const state_names[] = {
	"creating", "idle", "busy", "dead", "destroying", "gomote", "held",
};

const char *
machine_state_name(enum machine_state s)
{
	return state_names[s];
}

static struct pool *
pool_of(const struct hosttype_conf *ht)
{
	size_t i;

	for (i = 0; i < npools; i++)
		if (pools[i].ht == ht)
			return &pools[i];
	return NULL;
}

static struct machine *
machine_new(const char *name, const struct hosttype_conf *ht)
{
	struct machine *m = xcalloc(1, sizeof(*m));

	m->name = xstrdup(name);
	m->ht = ht;
	m->cmd_out = -1;
	strbuf_init(&m->out, 0);
	m->idle_since = time(NULL);
	m->created = m->idle_since;
	if (nm == am) {
		am = am ? 2 * am : 16;
		mv = xreallocarray(mv, am, sizeof(*mv));
	}
	mv[nm++] = m;
	return m;
}

static void
machine_free(struct machine *m)
{
	size_t i;

	for (i = 0; i < nm; i++)
		if (mv[i] == m) {
			mv[i] = mv[--nm];
			break;
		}
	free(m->name);
	free(m->url);
	free(m->pwfile);
	if (m->password != NULL) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->item);
	strbuf_release(&m->out);
	free(m);
}

struct machine *
pool_find(const char *name)
{
	size_t i;

	for (i = 0; i < nm; i++)
		if (strcmp(mv[i]->name, name) == 0)
			return mv[i];
	return NULL;
}

/* The first line of file, or NULL with err. */
static char *
read_password(const char *file, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *nl;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		strbuf_addf(err, "open password file '%s': %s", esc(file),
		    strerror(errno));
		return NULL;
	}
	if (strbuf_read_fd(&sb, fd, 4096) < 0) {
		strbuf_addf(err, "read password file '%s': %s", esc(file),
		    strerror(errno));
		close(fd);
		strbuf_release(&sb);
		return NULL;
	}
	close(fd);
	if ((nl = strchr(sb.buf, '\n')) != NULL)
		strbuf_setlen(&sb, nl - sb.buf);
	strbuf_rtrim(&sb);
	return strbuf_detach(&sb, NULL);
}

static void
set_url(struct machine *m, const char *url, const char *pwfile,
    struct strbuf *err)
{
	free(m->url);
	m->url = xstrdup(url);
	free(m->pwfile);
	m->pwfile = pwfile != NULL && *pwfile != '\0' ? xstrdup(pwfile) : NULL;
	if (m->pwfile != NULL && m->password == NULL)
		m->password = read_password(m->pwfile, err);
}

/* state/schedule/machines/NAME, replaced atomically */
static int
record_write(const struct machine *m, struct strbuf *err)
{
	struct json *o = json_new_object();
	struct strbuf sb = STRBUF_INIT;
	int rc;

	json_set_str(o, "name", m->name);
	json_set_str(o, "hosttype", m->ht->name);
	json_set_str(o, "url", m->url != NULL ? m->url : "");
	json_set_str(o, "password_file", m->pwfile != NULL ? m->pwfile : "");
	json_set_int(o, "created", m->created);
	json_dump(&sb, o);
	strbuf_addch(&sb, '\n');
	json_free(o);
	rc = atomic_write(mdirfd, m->name, sb.buf, sb.len, 0644, err);
	strbuf_release(&sb);
	return rc;
}

static void
record_remove(const struct machine *m)
{
	if (unlinkat(mdirfd, m->name, 0) == -1 && errno != ENOENT)
		log_warn("remove machine record '%s'", esc(m->name));
	else
		fsync_dir(mdirfd);
}

static int
start_cmd(struct machine *m, const char *what, const char *line)
{
	struct strbuf sh = STRBUF_INIT, err = STRBUF_INIT;
	struct proc_var var = { 'n', m->name };
	struct proc *p;

	if (proc_expand(&sh, line, &var, 1, &err) == -1) {
		log_warnx("%s: hosttype \"%s\" %s: %s", esc(cx.conf->path),
		    esc(m->ht->name), what, err.buf);
		strbuf_release(&err);
		return -1;
	}
	p = xmalloc(sizeof(*p));
	proc_init(p);
	strvec_pushv(&p->args, (const char *const[]){ "/bin/sh", "-c",
	    sh.buf, NULL });
	p->io[0].how = PROC_DEVNULL;
	p->io[1].how = PROC_PIPE;
	p->group = PROC_SESSION;
	p->timeout_ms = CMD_TIMEOUT_MS;
	strbuf_release(&sh);
	if (proc_start(p, &err) == -1) {
		log_warnx("machine %s: %s: %s", esc(m->name), what, err.buf);
		proc_clear(p);
		free(p);
		strbuf_release(&err);
		return -1;
	}
	fcntl(p->io[1].fd, F_SETFL, O_NONBLOCK);
	m->cmd = p;
	m->cmd_out = p->io[1].fd;
	strbuf_setlen(&m->out, 0);
	strbuf_release(&err);
	return 0;
}

static void
backoff(int *s, long long *at)
{
	*s = *s == 0 ? 1 : *s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : *s * 2;
	*at = mono_ms() + *s * 1000LL;
}

static void
destroy(struct machine *m)
{
	m->state = MACHINE_DESTROYING;
	free(m->item);
	m->item = NULL;
	m->retry_at = 0;
}

/* The command pools' destroy, when it is due. */
static void
destroy_tick(struct machine *m)
{
	if (m->cmd != NULL || mono_ms() < m->retry_at)
		return;
	if (m->ht->destroy == NULL) {
		log_warnx("machine %s: no destroy command for hosttype \"%s\"; "
		    "%s left as it is", esc(m->name), esc(m->ht->name),
		    m->url != NULL ? esc(m->url) : "it");
		record_remove(m);
		machine_free(m);
		return;
	}
	log_info("machine %s: destroying", esc(m->name));
	if (start_cmd(m, "destroy", m->ht->destroy) == -1) {
		backoff(&m->backoff_s, &m->retry_at);
		return;
	}
}

static void
create_failed(struct machine *m, struct pool *pl, const char *why)
{
	free(pl->error);
	pl->error = xstrdup(why);
	backoff(&pl->backoff_s, &pl->retry_at);
	log_warnx("%s; retry in %d s", why, pl->backoff_s);
	/* it may have made half a machine: destroy undoes that */
	destroy(m);
}

/* The create command ended: its first line is "URL [PASSWORD-FILE]". */
static void
create_done(struct machine *m, int code)
{
	struct pool *pl = pool_of(m->ht);
	struct strbuf why = STRBUF_INIT, err = STRBUF_INIT;
	char *line = m->out.buf, *nl, *sp, *pw = NULL;

	strbuf_addf(&why, "%s: hosttype \"%s\" create", esc(cx.conf->path),
	    esc(m->ht->name));
	if ((nl = strchr(line, '\n')) != NULL)
		*nl = '\0';
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp = '\0';
		pw = sp + 1;
	}
	if (code != 0) {
		strbuf_addf(&why, ": exit status %d for %s", code,
		    esc(m->name));
		create_failed(m, pl, why.buf);
	} else if ((strncmp(line, "http://", 7) != 0 &&
	    strncmp(line, "https://", 8) != 0) || line[7] == '\0' ||
	    (pw != NULL && (*pw == '\0' || strchr(pw, ' ') != NULL))) {
		if (sp != NULL)
			*sp = ' ';
		strbuf_addf(&why, ": printed '%s' for %s, want URL "
		    "[PASSWORD-FILE]", escn(line, strlen(line) > 200 ? 200 :
		    strlen(line)), esc(m->name));
		create_failed(m, pl, why.buf);
	} else {
		set_url(m, line, pw, &err);
		if (err.len > 0 || record_write(m, &err) == -1) {
			strbuf_addf(&why, ": %s", err.buf);
			create_failed(m, pl, why.buf);
		} else {
			log_info("machine %s: created at %s", esc(m->name),
			    esc(m->url));
			free(pl->error);
			pl->error = NULL;
			pl->backoff_s = 0;
			m->state = MACHINE_IDLE;
			m->idle_since = time(NULL);
			m->next_beat = mono_ms() + HEARTBEAT_MS;
		}
	}
	strbuf_release(&why);
	strbuf_release(&err);
}

static void
destroy_done(struct machine *m, int code)
{
	if (code != 0) {
		backoff(&m->backoff_s, &m->retry_at);
		log_warnx("%s: hosttype \"%s\" destroy: exit status %d for "
		    "%s; retry in %d s", esc(cx.conf->path), esc(m->ht->name),
		    code, esc(m->name), m->backoff_s);
		return;
	}
	log_info("machine %s: destroyed", esc(m->name));
	record_remove(m);
	machine_free(m);
}

/* Read what the command printed; reap it when it has ended. */
static void
cmd_tick(struct machine *m)
{
	char buf[512];
	ssize_t n;
	int code;

	while (m->cmd_out >= 0 && (n = read(m->cmd_out, buf,
	    sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			n = 0;
		}
		if (n == 0 || m->out.len + n > CMD_OUT_MAX) {
			close(m->cmd_out);	/* it may block on a full pipe */
			m->cmd_out = -1;
			break;
		}
		strbuf_add(&m->out, buf, n);
	}
	proc_tick(m->cmd);
	if (proc_reap(m->cmd, 0) == 0)
		return;
	/* whatever it printed before it ended is in the pipe by now */
	if (m->cmd_out >= 0) {
		while ((n = read(m->cmd_out, buf, sizeof(buf))) > 0 &&
		    m->out.len + n <= CMD_OUT_MAX)
			strbuf_add(&m->out, buf, n);
		close(m->cmd_out);
		m->cmd_out = -1;
	}
	code = proc_exit_code(m->cmd);
	proc_clear(m->cmd);
	free(m->cmd);
	m->cmd = NULL;
	if (m->state == MACHINE_CREATING)
		create_done(m, code);
	else
		destroy_done(m, code);
}

static int
machine_ok(const struct machine *m, int timeout_ms, struct strbuf *err)
{
	struct bclient c = BCLIENT_INIT;
	int version;

	c.url = m->url;
	c.name = m->name;
	c.password = m->password;
	c.timeout_ms = timeout_ms;
	c.cancel = &beat_stop;
	return bclient_status(&c, &version, err);
}

/*
 * The heartbeat thread: copies what it needs under the lock, asks
 * without it, and tells the loop through wakefd when a machine came
 * back or died.
 */
static void *
beat_main(void *arg)
{
	struct strbuf err = STRBUF_INIT;
	struct machine tmp;
	char *name;
	size_t i;
	int rc;

	(void)arg;
	while (!__atomic_load_n(&beat_stop, __ATOMIC_RELAXED)) {
		name = NULL;
		memset(&tmp, 0, sizeof(tmp));
		pthread_mutex_lock(&sched_mu);
		for (i = 0; i < nm; i++) {
			struct machine *m = mv[i];

			if ((m->state != MACHINE_IDLE &&
			    m->state != MACHINE_DEAD) || m->url == NULL ||
			    m->next_beat > mono_ms())
				continue;
			name = xstrdup(m->name);
			tmp.name = name;
			tmp.url = xstrdup(m->url);
			tmp.password = m->password != NULL ?
			    xstrdup(m->password) : NULL;
			m->beating = 1;
			break;
		}
		pthread_mutex_unlock(&sched_mu);
		if (name == NULL) {
			struct timespec ts = { 0, 200 * 1000000L };

			nanosleep(&ts, NULL);
			continue;
		}
		strbuf_setlen(&err, 0);
		rc = machine_ok(&tmp, HEARTBEAT_TIMEOUT_MS, &err);
		pthread_mutex_lock(&sched_mu);
		struct machine *m = pool_find(name);
		if (m != NULL && m->beating) {
			m->beating = 0;
			m->next_beat = mono_ms() + HEARTBEAT_MS;
			if (rc == RC_OK) {
				if (m->state == MACHINE_DEAD) {
					log_info("machine %s: answers again",
					    esc(m->name));
					m->state = MACHINE_IDLE;
					m->idle_since = time(NULL);
				}
				m->misses = 0;
			} else if (m->state == MACHINE_IDLE &&
			    !__atomic_load_n(&beat_stop, __ATOMIC_RELAXED) &&
			    ++m->misses >= MAX_MISSES) {
				log_warnx("machine %s: dead: %s", esc(m->name),
				    err.buf);
				if (m->ht->pool == POOL_COMMAND)
					destroy(m);
				else
					m->state = MACHINE_DEAD;
			}
		}
		pthread_mutex_unlock(&sched_mu);
		if (wakefd >= 0) {
			uint64_t one = 1;

			/* EAGAIN: a wake-up is pending already */
			(void)!write(wakefd, &one, sizeof(one));
		}
		free(name);
		free(tmp.url);
		if (tmp.password != NULL) {
			explicit_bzero(tmp.password, strlen(tmp.password));
			free(tmp.password);
		}
	}
	strbuf_release(&err);
	return NULL;
}

/* Adopt the machine of a record whose buildlet answers, else destroy it. */
static void
adopt(const char *file)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	const struct hosttype_conf *ht;
	const char *name, *htname, *url, *pw;
	struct machine *m;
	struct json *o = NULL;
	int64_t created;
	int fd;

	if ((fd = openat(mdirfd, file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    strbuf_read_fd(&sb, fd, 65536) < 0) {
		log_warn("read machine record '%s'", esc(file));
		goto out;
	}
	if ((o = json_parse(sb.buf, sb.len, &err)) == NULL ||
	    (name = json_str(json_get(o, "name"), NULL)) == NULL ||
	    strcmp(name, file) != 0 ||
	    (htname = json_str(json_get(o, "hosttype"), NULL)) == NULL) {
		log_warnx("machine record '%s': not a record%s%s; left alone",
		    esc(file), err.len ? ": " : "", err.buf);
		goto out;
	}
	url = json_str(json_get(o, "url"), NULL);
	pw = json_str(json_get(o, "password_file"), NULL);
	if ((ht = farmconf_hosttype(cx.conf, htname)) == NULL ||
	    ht->pool != POOL_COMMAND) {
		log_warnx("machine record '%s': hosttype \"%s\" is no command "
		    "pool in %s; left alone", esc(file), esc(htname),
		    esc(cx.conf->path));
		goto out;
	}
	m = machine_new(name, ht);
	if (json_get_int(json_get(o, "created"), &created))
		m->created = created;
	if (url != NULL && *url != '\0') {
		set_url(m, url, pw, &err);
		strbuf_setlen(&err, 0);
		if (machine_ok(m, HEARTBEAT_TIMEOUT_MS, &err) == RC_OK) {
			log_info("machine %s: adopted at %s", esc(name),
			    esc(url));
			m->state = MACHINE_IDLE;
			m->next_beat = mono_ms() + HEARTBEAT_MS;
			goto out;
		}
		log_warnx("machine %s: %s", esc(name), err.buf);
	}
	destroy(m);
out:
	if (fd >= 0)
		close(fd);
	json_free(o);
	strbuf_release(&sb);
	strbuf_release(&err);
}

int
pool_init(struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, e = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	size_t i, j;

	pools = xcalloc(cx.conf->nhosttypes + 1, sizeof(*pools));
	npools = cx.conf->nhosttypes;
	for (i = 0; i < npools; i++) {
		const struct hosttype_conf *ht = &cx.conf->hosttypes[i];

		pools[i].ht = ht;
		if (ht->pool != POOL_STATIC)
			continue;
		for (j = 0; j < ht->nbuildlet; j++) {
			struct machine *m;

			strbuf_setlen(&path, 0);
			strbuf_addf(&path, "%s-%zu", ht->name, j + 1);
			m = machine_new(path.buf, ht);
			strbuf_setlen(&e, 0);
			set_url(m, ht->buildlet[j], ht->password_file, &e);
			if (e.len > 0) {
				strbuf_addf(err, "%s: hosttype \"%s\" "
				    "password-file: %s", esc(cx.conf->path),
				    esc(ht->name), e.buf);
				goto fail;
			}
			m->state = MACHINE_IDLE;
		}
	}
	strbuf_setlen(&path, 0);
	farm_placef(&path, cx.dir, FARM_STATE, "schedule/machines");
	if (mkdirs(path.buf) == -1 || (mdirfd = open(path.buf,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		strbuf_addf(err, "open '%s': %s", esc(path.buf),
		    strerror(errno));
		goto fail;
	}
	if ((wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		strbuf_addf(err, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((d = fdopendir(dup(mdirfd))) == NULL) {
		strbuf_addf(err, "read '%s': %s", esc(path.buf),
		    strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			adopt(de->d_name);
	closedir(d);
	if (pthread_create(&beat_thread, NULL, beat_main, NULL) != 0) {
		strbuf_addstr(err, "cannot start the heartbeat thread");
		goto fail;
	}
	beat_started = 1;
	strbuf_release(&path);
	strbuf_release(&e);
	return RC_OK;
fail:
	strbuf_release(&path);
	strbuf_release(&e);
	return RC_TEMP;
}

void
pool_shutdown(void)
{
	/* atomic: the heartbeat thread and lib/http read it */
	__atomic_store_n(&beat_stop, 1, __ATOMIC_RELAXED);
	if (beat_started)
		pthread_join(beat_thread, NULL);
	beat_started = 0;
}

struct machine *
pool_idle(const struct hosttype_conf *ht)
{
	size_t i;

	for (i = 0; i < nm; i++)
		if (mv[i]->ht == ht && mv[i]->state == MACHINE_IDLE &&
		    !mv[i]->beating)
			return mv[i];
	return NULL;
}

void
pool_want(const struct hosttype_conf *ht, size_t n)
{
	struct pool *pl = pool_of(ht);
	struct strbuf name = STRBUF_INIT, err = STRBUF_INIT;
	size_t i, total = 0, creating = 0;
	long k;

	if (pl == NULL || ht->pool != POOL_COMMAND || mono_ms() < pl->retry_at)
		return;
	for (i = 0; i < nm; i++)
		if (mv[i]->ht == ht) {
			total++;
			creating += mv[i]->state == MACHINE_CREATING;
		}
	while (creating < n && total < (size_t)ht->max) {
		/* the lowest free number */
		for (k = 1;; k++) {
			strbuf_setlen(&name, 0);
			strbuf_addf(&name, "%s-%ld", ht->name, k);
			if (pool_find(name.buf) == NULL &&
			    faccessat(mdirfd, name.buf, F_OK, 0) == -1)
				break;
		}
		struct machine *m = machine_new(name.buf, ht);

		m->state = MACHINE_CREATING;
		strbuf_setlen(&err, 0);
		if (record_write(m, &err) == -1) {
			log_warnx("machine %s: %s", esc(m->name), err.buf);
			machine_free(m);
			break;
		}
		log_info("machine %s: creating", esc(m->name));
		if (start_cmd(m, "create", ht->create) == -1) {
			create_failed(m, pl, "create did not start");
			break;
		}
		creating++;
		total++;
	}
	strbuf_release(&name);
	strbuf_release(&err);
}

void
pool_busy(struct machine *m, const char *item)
{
	m->state = MACHINE_BUSY;
	free(m->item);
	m->item = xstrdup(item);
}

void
pool_release(struct machine *m, int infra)
{
	free(m->item);
	m->item = NULL;
	if (m->state != MACHINE_BUSY)
		return;
	m->idle_since = time(NULL);
	m->next_beat = mono_ms() + HEARTBEAT_MS;
	if (!infra) {
		m->state = MACHINE_IDLE;
		return;
	}
	log_warnx("machine %s: failed a build; left out until it answers",
	    esc(m->name));
	if (m->ht->pool == POOL_COMMAND)
		destroy(m);
	else {
		m->state = MACHINE_DEAD;
		m->misses = MAX_MISSES;
		m->next_beat = mono_ms() + 1000;
	}
}

void
pool_lease(struct machine *m, const char *what)
{
	m->state = MACHINE_LEASED;
	free(m->item);
	m->item = xstrdup(what);
}

void
pool_hold(struct machine *m, const char *item)
{
	m->state = MACHINE_HELD;
	if (item != NULL) {
		free(m->item);
		m->item = xstrdup(item);
	}
}

void
pool_unlease(struct machine *m, int unmake)
{
	if (m->state != MACHINE_LEASED && m->state != MACHINE_HELD)
		return;
	if (unmake && m->ht->pool == POOL_COMMAND) {
		destroy(m);
		return;
	}
	free(m->item);
	m->item = NULL;
	m->state = MACHINE_IDLE;
	m->idle_since = time(NULL);
	m->next_beat = mono_ms() + 1000;
}

void
pool_wake(void)
{
	uint64_t one = 1;

	/* EAGAIN: a wake-up is pending already */
	if (wakefd >= 0)
		(void)!write(wakefd, &one, sizeof(one));
}

void
pool_count(const struct hosttype_conf *ht, size_t n[MACHINE_NSTATES])
{
	size_t i;

	memset(n, 0, MACHINE_NSTATES * sizeof(*n));
	for (i = 0; i < nm; i++)
		if (mv[i]->ht == ht)
			n[mv[i]->state]++;
}

size_t
pool_pollfds(struct pollfd *pfd, size_t max)
{
	size_t i, n = 0;

	if (wakefd >= 0 && n < max) {
		pfd[n].fd = wakefd;
		pfd[n++].events = POLLIN;
	}
	for (i = 0; i < nm && n + 2 <= max; i++) {
		if (mv[i]->cmd == NULL)
			continue;
		if (mv[i]->cmd_out >= 0) {
			pfd[n].fd = mv[i]->cmd_out;
			pfd[n++].events = POLLIN;
		}
		if (mv[i]->cmd->pidfd >= 0) {
			pfd[n].fd = mv[i]->cmd->pidfd;
			pfd[n++].events = POLLIN;
		}
	}
	return n;
}

int
pool_timeout(void)
{
	int t = 1000, x;
	size_t i;

	for (i = 0; i < nm; i++)
		if (mv[i]->cmd != NULL) {
			if (mv[i]->cmd->pidfd < 0)
				t = t > 20 ? 20 : t;
			if ((x = proc_timeout(mv[i]->cmd)) >= 0 && x < t)
				t = x;
		}
	return t;
}

void
pool_tick(void)
{
	uint64_t v;
	long long now = time(NULL);
	size_t i;

	if (wakefd >= 0)
		(void)!read(wakefd, &v, sizeof(v));	/* EAGAIN: none */
	/* backwards: a machine may leave the table (machine_free swaps) */
	for (i = nm; i-- > 0;) {
		struct machine *m = mv[i];

		if (m->cmd != NULL)
			cmd_tick(m);
		else if (m->state == MACHINE_DESTROYING)
			destroy_tick(m);
		else if (m->state == MACHINE_IDLE && !m->beating &&
		    m->ht->pool == POOL_COMMAND &&
		    now - m->idle_since >= m->ht->idle_s) {
			log_info("machine %s: idle for %lld s", esc(m->name),
			    now - m->idle_since);
			destroy(m);
			destroy_tick(m);
		}
	}
}

struct machine *
pool_add(const struct hosttype_conf *ht, const char *name, const char *url,
    const char *pwfile, const char *password)
{
	struct machine *m = machine_new(name, ht);

	m->url = xstrdup(url);
	m->pwfile = xstrdup(pwfile);
	m->password = xstrdup(password);
	m->state = MACHINE_IDLE;
	m->next_beat = mono_ms() + HEARTBEAT_MS;
	return m;
}

void
pool_remove(struct machine *m)
{
	machine_free(m);
}

static const char *const pool_names[] = { "static", "command", "reverse" };

struct json *
pool_status(void)
{
	struct json *arr = json_new_array(), *p, *ms, *o;
	long long now = time(NULL), mono = mono_ms();
	size_t i, j;

	for (i = 0; i < npools; i++) {
		const struct hosttype_conf *ht = pools[i].ht;

		p = json_new_object();
		json_set_str(p, "hosttype", ht->name);
		json_set_str(p, "pool", pool_names[ht->pool]);
		if (ht->pool == POOL_COMMAND) {
			json_set_int(p, "max", ht->max);
			json_set_int(p, "idle_s", ht->idle_s);
		}
		if (pools[i].error != NULL) {
			json_set_str(p, "error", pools[i].error);
			json_set_int(p, "retry_s", pools[i].retry_at > mono ?
			    (pools[i].retry_at - mono + 999) / 1000 : 0);
		}
		ms = json_new_array();
		for (j = 0; j < nm; j++) {
			const struct machine *m = mv[j];

			if (m->ht != ht)
				continue;
			o = json_new_object();
			json_set_str(o, "name", m->name);
			json_set_str(o, "state", state_names[m->state]);
			if (m->url != NULL)
				json_set_str(o, "url", m->url);
			if (m->item != NULL)
				json_set_str(o, "item", m->item);
			if (m->state == MACHINE_IDLE)
				json_set_int(o, "idle_s", now - m->idle_since);
			if (m->rev != NULL)
				reverse_status(m, o);
			json_append(ms, o);
		}
		json_set(p, "machines", ms);
		json_append(arr, p);
	}
	return arr;
}
