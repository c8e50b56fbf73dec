# buildfarm: one portable Makefile (GNU make >= 4, bmake).  See README.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
INSTALL ?= install

CC ?= cc
CFLAGS ?= -g -O2
WARNFLAGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	-Wshadow -Wpointer-arith -Wsign-compare -Wno-missing-field-initializers
ALLCFLAGS = -std=c11 -D_GNU_SOURCE -Ilib $(WARNFLAGS) $(CFLAGS)
ALLLDFLAGS = $(LDFLAGS)
PROVE ?= prove
PROVE_JOBS ?= 2

# DEVELOPER=1 turns warnings into errors; SANITIZE=address,undefined (or
# SANITIZE=thread) adds the sanitizers to every object and link.
DEVELOPER ?=
SANITIZE ?=
DEV_1 = -Werror
ALLCFLAGS += $(DEV_$(DEVELOPER))
SAN_address,undefined = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SAN_thread = -fsanitize=thread -fno-omit-frame-pointer
ALLCFLAGS += $(SAN_$(SANITIZE))
ALLLDFLAGS += $(SAN_$(SANITIZE))

CURL_CFLAGS != pkg-config --cflags libcurl 2>/dev/null || true
CURL_LIBS != pkg-config --libs libcurl 2>/dev/null || echo -lcurl
# lib/git.c checks SSH host keys with libssh2 (libgit2's SSH transport)
GIT2_CFLAGS != pkg-config --cflags libgit2 libssh2 2>/dev/null || true
GIT2_LIBS != pkg-config --libs libgit2 libssh2 2>/dev/null || echo -lgit2 -lssh2
JANSSON_CFLAGS != pkg-config --cflags jansson 2>/dev/null || true
JANSSON_LIBS != pkg-config --libs jansson 2>/dev/null || echo -ljansson
SSL_CFLAGS != pkg-config --cflags libcrypto 2>/dev/null || true
SSL_LIBS != pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto
Z_CFLAGS != pkg-config --cflags zlib 2>/dev/null || true
Z_LIBS != pkg-config --libs zlib 2>/dev/null || echo -lz
# lib/gz.c writes gzip members with libdeflate, reads gzip with ISA-L
DEFLATE_CFLAGS != pkg-config --cflags libdeflate libisal 2>/dev/null || true
DEFLATE_LIBS != pkg-config --libs libdeflate libisal 2>/dev/null || \
	echo -ldeflate -lisal
ARCHIVE_CFLAGS != pkg-config --cflags libarchive 2>/dev/null || true
ARCHIVE_LIBS != pkg-config --libs libarchive 2>/dev/null || echo -larchive
MHD_CFLAGS != pkg-config --cflags libmicrohttpd 2>/dev/null || true
MHD_LIBS != pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd
DEPCFLAGS = $(CURL_CFLAGS) $(GIT2_CFLAGS) $(JANSSON_CFLAGS) $(SSL_CFLAGS) \
	$(Z_CFLAGS) $(ARCHIVE_CFLAGS) $(MHD_CFLAGS) $(DEFLATE_CFLAGS)

TOOLS = cmd/maintlog/maintlog
TOOLS += cmd/buildlet/buildlet
TOOLS += cmd/pollgerrit/pollgerrit
TOOLS += cmd/gitmirror/gitmirror
TOOLS += cmd/schedule/schedule
TOOLS += cmd/dashboard/dashboard
TOOLS += cmd/retrybuilds/retrybuilds
TOOLS += cmd/gomote/gomote
MAN1 = man/maintlog.1
MAN1 += man/buildlet.1
MAN1 += man/pollgerrit.1
MAN1 += man/gitmirror.1
MAN1 += man/schedule.1
MAN1 += man/dashboard.1
MAN1 += man/retrybuilds.1
MAN1 += man/gomote.1
MAN5 = man/maintlog.5
MAN5 += man/buildfarm.conf.5
MAN5 += man/spool.5
MAN7 = man/buildfarm.7

LIBOBJ = lib/atomicfile.o lib/config.o lib/crypto.o lib/farm.o lib/git.o \
	lib/http.o lib/httpd.o lib/json.o lib/lock.o lib/log.o lib/mlog.o \
	lib/num.o lib/sig.o lib/spool.o lib/sshhosts.o lib/strbuf.o lib/timefmt.o \
	lib/xmalloc.o
LIBOBJ += lib/subcmd.o
LIBOBJ += lib/gz.o lib/tar.o
LIBOBJ += lib/workitem.o
LIBOBJ += lib/farmconf.o
LIBOBJ += lib/proc.o lib/strvec.o
LIBOBJ += lib/httpd-reply.o lib/httpd-upgrade.o lib/relay.o
LIBOBJ += lib/httpd-accept.o
LIBOBJ += lib/http-upgrade.o
LIBOBJ += lib/bclient.o
LIBOBJ += lib/utf8.o
LIBOBJ += lib/html.o
LIBHDR = lib/*.h
LIB = lib/libbuildfarm.a

UNITS = t/unit/bin/u-strbuf t/unit/bin/u-num t/unit/bin/u-log \
	t/unit/bin/u-atomicfile t/unit/bin/u-lock t/unit/bin/u-crypto \
	t/unit/bin/u-json t/unit/bin/u-timefmt t/unit/bin/u-spool \
	t/unit/bin/u-mlog t/unit/bin/u-http t/unit/bin/u-farm t/unit/bin/u-config
UNITS += t/unit/bin/u-gz t/unit/bin/u-tar
UNITS += t/unit/bin/u-spool-named
UNITS += t/unit/bin/u-git t/unit/bin/u-sshhosts
UNITS += t/unit/bin/u-sig
UNITS += t/unit/bin/u-workitem
UNITS += t/unit/bin/u-farmconf
UNITS += t/unit/bin/u-strvec t/unit/bin/u-proc
UNITS += t/unit/bin/u-httpd
UNITS += t/unit/bin/u-bclient
UNITS += t/unit/bin/u-subcmd
UNITS += t/unit/bin/u-rc t/unit/bin/u-utf8
UNITS += t/unit/bin/u-html

all: $(TOOLS)

.SUFFIXES: .c .o
.c.o:
	$(CC) $(ALLCFLAGS) $(DEPCFLAGS) -c -o $@ $<

$(LIBOBJ): $(LIBHDR)
$(LIB): $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

# Each tool links only the libraries it uses.
MAINLOG_OBJ = cmd/maintlog/maintlog.o cmd/maintlog/serve.o cmd/maintlog/sync.o \
	cmd/maintlog/grep.o
MAINLOG_OBJ += cmd/maintlog/append.o cmd/maintlog/cat.o cmd/maintlog/stat.o \
	cmd/maintlog/verify.o
$(MAINLOG_OBJ): $(LIBHDR) cmd/maintlog/extern.h
cmd/maintlog/maintlog: $(MAINLOG_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(MAINLOG_OBJ) $(LIB) $(MHD_LIBS) \
	    $(CURL_LIBS) $(JANSSON_LIBS) $(SSL_LIBS) -lpthread

POLLGERRIT_OBJ = cmd/pollgerrit/pollgerrit.o cmd/pollgerrit/change.o \
	cmd/pollgerrit/conf.o cmd/pollgerrit/gerrit.o cmd/pollgerrit/poll.o \
	cmd/pollgerrit/query.o cmd/pollgerrit/state.o cmd/pollgerrit/stream.o \
	cmd/pollgerrit/try.o
$(POLLGERRIT_OBJ): $(LIBHDR) cmd/pollgerrit/extern.h
cmd/pollgerrit/pollgerrit: $(POLLGERRIT_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(POLLGERRIT_OBJ) $(LIB) $(CURL_LIBS) \
	    $(GIT2_LIBS) $(JANSSON_LIBS) $(SSL_LIBS) -lpthread

BUILDLET_OBJ = cmd/buildlet/buildlet.o cmd/buildlet/exec.o \
	cmd/buildlet/files.o cmd/buildlet/list.o cmd/buildlet/serve.o \
	cmd/buildlet/ssh.o cmd/buildlet/util.o
BUILDLET_OBJ += cmd/buildlet/reverse.o
$(BUILDLET_OBJ): $(LIBHDR) cmd/buildlet/extern.h
cmd/buildlet/buildlet: $(BUILDLET_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(BUILDLET_OBJ) $(LIB) $(MHD_LIBS) \
	    $(CURL_LIBS) $(ARCHIVE_LIBS) $(Z_LIBS) $(DEFLATE_LIBS) $(SSL_LIBS) \
	    $(JANSSON_LIBS) -lpthread

GITMIRROR_OBJ = cmd/gitmirror/gitmirror.o cmd/gitmirror/sync.o \
	cmd/gitmirror/archive.o cmd/gitmirror/serve.o \
	cmd/gitmirror/fetchref.o
$(GITMIRROR_OBJ): $(LIBHDR) cmd/gitmirror/extern.h
cmd/gitmirror/gitmirror: $(GITMIRROR_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(GITMIRROR_OBJ) $(LIB) $(MHD_LIBS) \
	    $(GIT2_LIBS) $(JANSSON_LIBS) $(ARCHIVE_LIBS) $(Z_LIBS) \
	    $(DEFLATE_LIBS) $(SSL_LIBS) -lpthread

# schedule: one object per line, so that adding one touches one line
SCHEDULE_OBJ = cmd/schedule/schedule.o
SCHEDULE_OBJ += cmd/schedule/find.o
SCHEDULE_OBJ += cmd/schedule/key.o
SCHEDULE_OBJ += cmd/schedule/work.o
SCHEDULE_OBJ += cmd/schedule/build.o
SCHEDULE_OBJ += cmd/schedule/blog.o
SCHEDULE_OBJ += cmd/schedule/pool.o
SCHEDULE_OBJ += cmd/schedule/serve.o
SCHEDULE_OBJ += cmd/schedule/status.o
SCHEDULE_OBJ += cmd/schedule/www.o
SCHEDULE_OBJ += cmd/schedule/try.o
SCHEDULE_OBJ += cmd/schedule/reverse.o
SCHEDULE_OBJ += cmd/schedule/gomote.o
$(SCHEDULE_OBJ): $(LIBHDR) cmd/schedule/extern.h
cmd/schedule/schedule: $(SCHEDULE_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(SCHEDULE_OBJ) $(LIB) $(MHD_LIBS) \
	    $(CURL_LIBS) $(GIT2_LIBS) $(JANSSON_LIBS) $(ARCHIVE_LIBS) \
	    $(Z_LIBS) $(DEFLATE_LIBS) $(SSL_LIBS) -lpthread

DASHBOARD_OBJ = cmd/dashboard/dashboard.o
DASHBOARD_OBJ += cmd/dashboard/model.o
DASHBOARD_OBJ += cmd/dashboard/render.o
$(DASHBOARD_OBJ): $(LIBHDR) cmd/dashboard/extern.h
cmd/dashboard/dashboard: $(DASHBOARD_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(DASHBOARD_OBJ) $(LIB) $(GIT2_LIBS) \
	    $(JANSSON_LIBS) $(Z_LIBS) $(DEFLATE_LIBS) $(SSL_LIBS) -lpthread

RETRYBUILDS_OBJ = cmd/retrybuilds/retrybuilds.o
RETRYBUILDS_OBJ += cmd/retrybuilds/failed.o
RETRYBUILDS_OBJ += cmd/retrybuilds/branch.o
RETRYBUILDS_OBJ += cmd/retrybuilds/flaky.o
$(RETRYBUILDS_OBJ): $(LIBHDR) cmd/retrybuilds/extern.h
cmd/retrybuilds/retrybuilds: $(RETRYBUILDS_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(RETRYBUILDS_OBJ) $(LIB) $(JANSSON_LIBS) \
	    $(Z_LIBS) $(DEFLATE_LIBS) $(SSL_LIBS) -lpthread
GOMOTE_OBJ = cmd/gomote/gomote.o
GOMOTE_OBJ += cmd/gomote/push.o
GOMOTE_OBJ += cmd/gomote/progress.o
GOMOTE_OBJ += cmd/gomote/ssh.o
$(GOMOTE_OBJ): $(LIBHDR) cmd/gomote/extern.h
cmd/gomote/gomote: $(GOMOTE_OBJ) $(LIB)
	$(CC) $(ALLLDFLAGS) -o $@ $(GOMOTE_OBJ) $(LIB) $(CURL_LIBS) \
	    $(GIT2_LIBS) $(JANSSON_LIBS) $(ARCHIVE_LIBS) $(Z_LIBS) \
	    $(DEFLATE_LIBS) $(SSL_LIBS) -lpthread

# Unit tests and test helpers.
# each unit test binary depends on its own source
t/unit/bin/u-strbuf: t/unit/u-strbuf.c
t/unit/bin/u-num: t/unit/u-num.c
t/unit/bin/u-log: t/unit/u-log.c
t/unit/bin/u-atomicfile: t/unit/u-atomicfile.c
t/unit/bin/u-lock: t/unit/u-lock.c
t/unit/bin/u-crypto: t/unit/u-crypto.c
t/unit/bin/u-json: t/unit/u-json.c
t/unit/bin/u-timefmt: t/unit/u-timefmt.c
t/unit/bin/u-spool: t/unit/u-spool.c
t/unit/bin/u-mlog: t/unit/u-mlog.c
t/unit/bin/u-http: t/unit/u-http.c
t/unit/bin/u-farm: t/unit/u-farm.c
t/unit/bin/u-config: t/unit/u-config.c
t/unit/bin/u-spool-named: t/unit/u-spool-named.c
t/unit/bin/u-gz: t/unit/u-gz.c
t/unit/bin/u-tar: t/unit/u-tar.c
t/unit/bin/u-git: t/unit/u-git.c
t/unit/bin/u-sshhosts: t/unit/u-sshhosts.c
t/unit/bin/u-sig: t/unit/u-sig.c
t/unit/bin/u-workitem: t/unit/u-workitem.c
t/unit/bin/u-farmconf: t/unit/u-farmconf.c
t/unit/bin/u-strvec: t/unit/u-strvec.c
t/unit/bin/u-proc: t/unit/u-proc.c
t/unit/bin/u-httpd: t/unit/u-httpd.c
t/unit/bin/u-subcmd: t/unit/u-subcmd.c
t/unit/bin/u-rc: t/unit/u-rc.c
t/unit/bin/u-utf8: t/unit/u-utf8.c
t/unit/bin/u-html: t/unit/u-html.c

UNITLIBS = $(CURL_LIBS) $(MHD_LIBS) $(GIT2_LIBS) $(JANSSON_LIBS) $(SSL_LIBS) \
	-lpthread
t/unit/tap.o: t/unit/tap.h
# unit tests linked with every library; one per line, so that adding one
# touches one line
UNIT_STD = t/unit/bin/u-strbuf t/unit/bin/u-num t/unit/bin/u-log
UNIT_STD += t/unit/bin/u-atomicfile t/unit/bin/u-lock t/unit/bin/u-crypto
UNIT_STD += t/unit/bin/u-json t/unit/bin/u-timefmt t/unit/bin/u-spool
UNIT_STD += t/unit/bin/u-mlog t/unit/bin/u-http t/unit/bin/u-farm
UNIT_STD += t/unit/bin/u-config t/unit/bin/u-sshhosts
UNIT_STD += t/unit/bin/u-sig
UNIT_STD += t/unit/bin/u-workitem
UNIT_STD += t/unit/bin/u-farmconf
UNIT_STD += t/unit/bin/u-subcmd
UNIT_STD += t/unit/bin/u-rc t/unit/bin/u-utf8
UNIT_STD += t/unit/bin/u-httpd
UNIT_STD += t/unit/bin/u-html
$(UNIT_STD): t/unit/tap.o $(LIB) t/unit/tap.h
	@mkdir -p t/unit/bin
	$(CC) $(ALLCFLAGS) $(DEPCFLAGS) -It/unit -o $@ t/unit/$$(basename $@).c \
	    t/unit/tap.o $(LIB) $(UNITLIBS) $(ALLLDFLAGS)

t/unit/bin/u-spool-named: t/unit/tap.o $(LIB) t/unit/tap.h
	@mkdir -p t/unit/bin
	$(CC) $(ALLCFLAGS) $(DEPCFLAGS) -It/unit -o $@ t/unit/$$(basename $@).c \
	    t/unit/tap.o $(LIB) $(UNITLIBS) $(ALLLDFLAGS)

t/unit/bin/u-git: t/unit/tap.o $(LIB) t/unit/tap.h
	@mkdir -p t/unit/bin
	$(CC) $(ALLCFLAGS) $(DEPCFLAGS) -It/unit -o $@ t/unit/$$(basename $@).c \
	    t/unit/tap.o $(LIB) $(GIT2_LIBS) $(SSL_LIBS) -lpthread $(ALLLDFLAGS)

# u-bclient runs cmd/buildlet/buildlet and t/helper/fixture-buildlet
t/unit/bin/u-bclient: t/unit/u-bclient.c t/unit/tap.o $(LIB) t/unit/tap.h \
    cmd/buildlet/buildlet
	@mkdir -p t/unit/bin
	$(CC) $(ALLCFLAGS) $(DEPCFLAGS) -It/unit -o $@ t/unit/u-bclient.c \
	    t/unit/tap.o $(LIB) $(CURL_LIBS) $(JANSSON_LIBS) $(SSL_LIBS) \
	    -lpthread $(ALLLDFLAGS)

t/unit/bin/u-gz t/unit/bin/u-tar: t/unit/tap.o $(LIB) t/unit/tap.h
	@mkdir -p t/unit/bin
	$(CC) $(ALLCFLAGS) $(DEPCFLAGS) -It/unit -o $@ t/unit/$$(basename $@).c \
	    t/unit/tap.o $(LIB) $(ARCHIVE_LIBS) $(Z_LIBS) $(DEFLATE_LIBS) \
	    -lpthread $(ALLLDFLAGS)

t/unit/bin/u-strvec t/unit/bin/u-proc: t/unit/tap.o $(LIB) t/unit/tap.h
	@mkdir -p t/unit/bin
	$(CC) $(ALLCFLAGS) -It/unit -o $@ t/unit/$$(basename $@).c \
	    t/unit/tap.o $(LIB) -lpthread $(ALLLDFLAGS)

tests: all $(UNITS)

# The README's first command: a local farm demo in a scratch directory.
demo:
	scripts/install-deps
	$(MAKE) all
	scripts/demo

check:
	scripts/install-deps
	$(MAKE) tests
	cd t && $(PROVE) -j$(PROVE_JOBS) --timer *.t unit/bin/*

# Go's make.bash through the whole farm (minutes; not part of check)
check-slow:
	scripts/install-deps slow
	$(MAKE) all
	cd t && $(PROVE) -v --timer slow/*.t

check-asan:
	scripts/install-deps
	$(MAKE) clean
	$(MAKE) SANITIZE=address,undefined tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh -c 'cd t && $(PROVE) -j$(PROVE_JOBS) *.t unit/bin/*'
	$(MAKE) clean

# t/tsan.supp: races inside third-party libraries only, each with why
check-tsan:
	scripts/install-deps
	$(MAKE) clean
	$(MAKE) SANITIZE=thread tests
	TSAN_OPTIONS=suppressions=$$(pwd)/t/tsan.supp:second_deadlock_stack=1 \
	    sh -c 'cd t && $(PROVE) -j$(PROVE_JOBS) *.t unit/bin/*'
	$(MAKE) clean

lint:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)
	$(MAKE) clean
	$(MAKE) DEVELOPER=1 tests

bench: all
	scripts/install-deps bench
	@for b in bench/[a-z]*-*.sh; do echo "== $$b"; sh $$b || exit 1; done

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do $(INSTALL) -m 0755 $$t $(DESTDIR)$(BINDIR)/; done
	$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$(basename $$t); done
	for m in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	for m in $(MAN5); do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done
	for m in $(MAN7); do rm -f $(DESTDIR)$(MANDIR)/man7/$$(basename $$m); done

clean:
	rm -f lib/*.o $(LIB) cmd/*/*.o $(TOOLS) t/unit/*.o
	rm -rf t/unit/bin t/trash.* bench/trash fuzz/bin

.PHONY: all demo tests check check-slow check-asan check-tsan lint bench install uninstall clean

# libFuzzer targets (not part of check): make fuzz, then run for example
# sh fuzz/run.sh 600 (seeds the corpora in fuzz/trash, runs each target)
FUZZCC = clang
FUZZFLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Ilib -Icmd/buildlet \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZLIBSRC = lib/strbuf.c lib/xmalloc.c lib/log.c lib/utf8.c
FUZZ = fuzz/bin/fuzz-path fuzz/bin/fuzz-form fuzz/bin/fuzz-tar
fuzz: $(FUZZ)
fuzz/bin/fuzz-path: fuzz/fuzz-path.c cmd/buildlet/util.c lib/tar.c $(LIBHDR)
	@mkdir -p fuzz/bin
	$(FUZZCC) $(FUZZFLAGS) $(DEPCFLAGS) -o $@ fuzz/fuzz-path.c \
	    cmd/buildlet/util.c lib/tar.c lib/gz.c $(FUZZLIBSRC) \
	    $(ARCHIVE_LIBS) $(Z_LIBS) $(DEFLATE_LIBS) -lpthread
fuzz/bin/fuzz-tar: fuzz/fuzz-tar.c lib/tar.c lib/gz.c $(LIBHDR)
	@mkdir -p fuzz/bin
	$(FUZZCC) $(FUZZFLAGS) $(DEPCFLAGS) -o $@ fuzz/fuzz-tar.c lib/tar.c \
	    lib/gz.c $(FUZZLIBSRC) $(ARCHIVE_LIBS) $(Z_LIBS) $(DEFLATE_LIBS) \
	    -lpthread
fuzz/bin/fuzz-form: fuzz/fuzz-form.c $(BUILDLET_OBJ:.o=.c) $(LIBHDR) \
    cmd/buildlet/extern.h
	@mkdir -p fuzz/bin
	$(FUZZCC) $(FUZZFLAGS) $(DEPCFLAGS) -o $@ fuzz/fuzz-form.c \
	    cmd/buildlet/serve.c cmd/buildlet/exec.c cmd/buildlet/files.c \
	    cmd/buildlet/list.c cmd/buildlet/ssh.c cmd/buildlet/util.c \
	    lib/httpd.c lib/httpd-reply.c lib/httpd-upgrade.c lib/relay.c \
	    lib/httpd-accept.c \
	    lib/http.c lib/tar.c lib/gz.c lib/crypto.c lib/num.c \
	    lib/timefmt.c lib/atomicfile.c lib/proc.c lib/strvec.c \
	    $(FUZZLIBSRC) $(MHD_LIBS) \
	    $(CURL_LIBS) $(ARCHIVE_LIBS) $(Z_LIBS) $(DEFLATE_LIBS) $(SSL_LIBS) \
	    -lpthread
.PHONY: fuzz
