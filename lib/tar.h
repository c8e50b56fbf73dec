/*
 * tar.h: tar archives in and out (libarchive behind this module; the
 * gzip layer is gz.h).
 *
 * Extraction never writes outside the directory it is given, whatever
 * the archive holds.  Every entry name is split into components and
 * resolved from that directory one component at a time with
 * openat(O_NOFOLLOW), so that:
 *
 *   - a name that is absolute, has a ".." component or a backslash, or
 *     is empty or longer than PATH_MAX is refused (TAR_XNAME);
 *   - an entry whose path reaches a symbolic link already on disk
 *     (planted by an earlier entry, an earlier archive or a command) is
 *     refused (TAR_XSYMLINK), both for its directories and for the name
 *     itself; nothing is written through the link;
 *   - only regular files and directories are accepted: symbolic and
 *     hard links, devices, FIFOs and sockets are refused (TAR_XTYPE);
 *   - a file is always created as a new inode (O_CREAT|O_EXCL; an
 *     existing non-directory of that name is unlinked first), so a hard
 *     link on disk to a file elsewhere is replaced, never written into.
 *
 * Directories are made 0755 (as the original buildlet did; existing ones
 * are left as they are), files get the entry's permission bits 0777
 * (never set-id or sticky bits) less the umask.  A file's modification
 * and access times are set to the entry's mtime, clamped to the time the
 * extraction began (a sender's clock that runs ahead must not give files
 * from the future: Go issue 19062).
 *
 * Two threads: one reads and decompresses the input into a ring of
 * buffers, the caller's thread parses the tar and creates the files, so
 * decompression and file creation overlap.  After the end-of-archive
 * marker the rest of the compressed input is read and checked too (a
 * gzip stream whose trailer is missing or wrong is an error; zero bytes
 * after the last member are ignored, as gzip(1) does), and the tar
 * data after the marker must be zeros (the padding to a record):
 * anything else, such as a second archive behind the first (two .tgz
 * files concatenated), is TAR_XFORMAT "data after the end of the
 * archive".
 *
 *   struct tar_xopt o = TAR_XOPT_INIT;
 *   struct tar_xres r = TAR_XRES_INIT;
 *   if (tar_extract(fd, dirfd, &o, &r) == -1)
 *           ... r.err says what kind, r.msg why, r.name which entry ...
 *   tar_xres_release(&r);
 *
 * tar_extract returns 0 or -1; it reads fd until the end of the gzip
 * stream (or of the tar, when o.raw) or until it fails, and never closes
 * fd or dirfd.  Files already written when it fails stay.  The failure
 * kinds, and what the buildlet answers for each:
 *
 *   TAR_XGZIP     the input does not start with a gzip header (400);
 *                 r.msg as gz.h words it ("EOF", "gzip: invalid header")
 *   TAR_XFORMAT   corrupt or truncated gzip or tar, an over-long
 *                 header (400)
 *   TAR_XNAME     a bad entry name, in r.name (400)
 *   TAR_XTYPE     an entry that is not a file or a directory (400);
 *                 r.name, and r.mode its type and permission bits as
 *                 st_mode (S_IFLNK, ...), 0 type bits for a hard link
 *   TAR_XSYMLINK  an entry's path goes through a symbolic link (400)
 *   TAR_XLIMIT    more than o.max_bytes of file data (400)
 *   TAR_XREAD     reading fd failed: the sender went away (r.msg)
 *   TAR_XNOSPACE  the file system is full (ENOSPC, EDQUOT), or a file
 *                 would leave less than o.min_free bytes free (507)
 *   TAR_XIO       creating or writing a file failed (500); r.msg names
 *                 the operation and the entry, as "open a/b: ..."
 */
#ifndef BF_TAR_H
#define BF_TAR_H

#include <sys/types.h>
#include <sys/stat.h>
#include <stddef.h>

#include "strbuf.h"

enum tar_xerr {
	TAR_XOK,
	TAR_XGZIP,
	TAR_XFORMAT,
	TAR_XNAME,
	TAR_XTYPE,
	TAR_XSYMLINK,
	TAR_XLIMIT,
	TAR_XREAD,
	TAR_XIO,
	TAR_XNOSPACE,
};

struct tar_xopt {
	int raw;		/* fd holds a plain tar, not gzip'd */
	unsigned long long max_bytes;	/* all files together; 0: none */
	/* extra policy for names, after the built-in checks; NULL: none */
	int (*name_ok)(const char *name);
	/*
	 * Bytes to keep free on dirfd's file system (statvfs f_bavail,
	 * checked at each file with its size and every 8 MiB); 0: none
	 */
	unsigned long long min_free;
};
#define TAR_XOPT_INIT { 0, 0, NULL, 0 }

struct tar_xres {
	enum tar_xerr err;
	struct strbuf msg;
	struct strbuf name;
	mode_t mode;
	unsigned long files, dirs;
	unsigned long long bytes;	/* file data written */
};
#define TAR_XRES_INIT { TAR_XOK, STRBUF_INIT, STRBUF_INIT, 0, 0, 0, 0 }

int tar_extract(int fd, int dirfd, const struct tar_xopt *o,
    struct tar_xres *r);
void tar_xres_release(struct tar_xres *r);

/*
 * The path resolution extraction uses, for callers that create or find
 * single files under the same rules (the buildlet's /write, /ls, /tgz,
 * /removeall):
 *
 * tar_open_dir opens directory rel beneath dirfd (O_RDONLY|O_DIRECTORY,
 * close-on-exec), "" and "." meaning dirfd's own directory, making the
 * missing ones 0755 when create is set.  rel is split on '/'; empty and
 * "." components are skipped.  Returns an fd, or -1 with errno:
 *   EINVAL  rel is absolute or has a ".." component or a backslash
 *   ELOOP   a component is a symbolic link
 *   ENOTDIR a component exists and is not a directory
 *   others  from openat/mkdirat (ENOENT when !create)
 *
 * tar_split_path splits rel into the directory part (copied to dir,
 * normalised: no empty or "." components, no trailing slash) and the
 * last component (copied to leaf), with the same refusals (-1, EINVAL).
 * leaf is empty when rel names the root itself ("", ".", "./").
 *
 * tar_create_file makes leaf in directory dirfd as a new file opened
 * O_WRONLY with the given mode (less the umask): an existing file of
 * that name is unlinked first (so nothing is written through a hard
 * link); a symbolic link there fails with ELOOP, a directory with
 * EISDIR.  Returns an fd or -1 with errno.
 */
int tar_open_dir(int dirfd, const char *rel, int create);
/*
 * tar_space_check: whether writing need more bytes to the file system
 * of fd leaves at least min_free bytes free for unprivileged users
 * (statvfs f_bavail).  0, or -1 with one line in err (ENOSPC in errno).
 */
int tar_space_check(int fd, unsigned long long need,
    unsigned long long min_free, struct strbuf *err);
int tar_split_path(const char *rel, struct strbuf *dir, struct strbuf *leaf);
int tar_create_file(int dirfd, const char *leaf, mode_t mode);

/*
 * Writing.  A tar_writer emits a POSIX tar stream (ustar headers, pax
 * extensions only where ustar cannot say it: long names, large sizes or
 * ids; the layout Go's archive/tar writes) to a callback:
 *
 *   w = tar_writer_new(out, arg);
 *   tar_writer_add(w, "dir", &st, NULL, -1, &err);
 *   tar_writer_add(w, "dir/file", &st, NULL, fd, &err);
 *   tar_writer_add(w, "dir/link", &st, "target", -1, &err);
 *   tar_writer_close(w, &err);
 *   tar_writer_free(w);
 *
 * out(arg, p, n) must take all n bytes and return 0, or -1 to stop the
 * stream (then the add or close that called it fails).  Entries take
 * their type, permission bits, owner ids, size and mtime (whole
 * seconds) from st; directory names get a trailing '/'.  A regular
 * file's st_size bytes are read from fd (which the caller closes): a
 * file that grew is cut at st_size, one that shrank is an error.
 * Other types (devices, FIFOs, sockets) are written as headers only.
 * tar_writer_add_mem adds a regular file whose len bytes are in memory,
 * with permission bits mode and mtime (seconds), owned by 0:0 — what
 * "git archive" writes for a blob.  Each call returns 0 or -1 with a
 * message in err.
 */
struct tar_writer;

struct tar_writer *tar_writer_new(int (*out)(void *arg, const void *p,
    size_t n), void *arg);
int tar_writer_add(struct tar_writer *w, const char *name,
    const struct stat *st, const char *linkname, int fd, struct strbuf *err);
int tar_writer_add_mem(struct tar_writer *w, const char *name, mode_t mode,
    long long mtime, const void *data, size_t len, struct strbuf *err);
int tar_writer_close(struct tar_writer *w, struct strbuf *err);
void tar_writer_free(struct tar_writer *w);

#endif
