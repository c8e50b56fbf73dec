/*
 * atomicfile.h: publish a file by temp file, fsync and rename.
 *
 * atomic_write(dirfd, name, data, len, mode, err) replaces dirfd/name
 * with exactly data[0..len):
 *   1. create ".name.XXXXXX" in the same directory (O_EXCL),
 *   2. fchmod to mode, write everything, fsync,
 *   3. rename over name, fsync the directory.
 * Readers see the old file or the new one, never a mix; after it returns
 * 0 the new contents survive a crash or power loss.  On failure it
 * returns -1, unlinks the temporary file, leaves name untouched and
 * describes the problem in err.  dirfd may be AT_FDCWD.
 *
 * fsync_dir(dirfd) and fsync_path(path) flush a directory (after a
 * rename or create in it); both return 0 or -1 with errno set.
 */
#ifndef BF_ATOMICFILE_H
#define BF_ATOMICFILE_H

#include <sys/types.h>
#include <stddef.h>

struct strbuf;

int atomic_write(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, struct strbuf *err);
/*
 * atomic_write_nosync: the same, without the fsyncs: readers still see
 * the old file or the new one, but a crash may lose either.  For many
 * files that can be made again; the caller makes them durable at once
 * with syncfs(2) before it records that they were written.
 */
int atomic_write_nosync(int dirfd, const char *name, const void *data,
    size_t len, mode_t mode, struct strbuf *err);
int fsync_dir(int dirfd);
int fsync_path(const char *dirpath);

/*
 * mkdir -p: create dir and its missing parents with mode 0755.
 * Returns 0 (also when it all existed) or -1 with errno set.
 */
int mkdirs(const char *dir);

/* write(2) all of p, retrying on EINTR and short writes; 0 or -1. */
int write_all(int fd, const void *p, size_t n);
/* pread(2) exactly n bytes at off; returns bytes read (< n at EOF) or -1. */
ssize_t pread_all(int fd, void *p, size_t n, off_t off);

#endif
