/*
 * fsyncloop: the floor for durable appends, to compare maintlog with.
 *
 * Writes n lines of len bytes each (len - 1 bytes of 'x' and a newline)
 * to file, with one write(2) and one fsync(2) per line, as an append of
 * one record per batch must at least do, and prints the rate in lines
 * per second.  The file is created or truncated first and opened with
 * O_APPEND, as a log segment is.
 *
 * usage: fsyncloop file n len
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long
arg(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "fsyncloop: bad number '%s'\n", s);
		exit(100);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	char *line;
	long n, len, i;
	double s;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: fsyncloop file n len\n");
		return 100;
	}
	n = arg(argv[2], 1, 100000000);
	len = arg(argv[3], 1, 1 << 20);
	if ((line = malloc((size_t)len)) == NULL) {
		perror("fsyncloop: malloc");
		return 111;
	}
	memset(line, 'x', (size_t)len - 1);
	line[len - 1] = '\n';
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0 || fsync(fd) < 0) {
		fprintf(stderr, "fsyncloop: open '%s': %s\n", argv[1],
		    strerror(errno));
		return 111;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (write(fd, line, (size_t)len) != (ssize_t)len ||
		    fsync(fd) < 0) {
			fprintf(stderr, "fsyncloop: write '%s': %s\n", argv[1],
			    strerror(errno));
			return 111;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	free(line);
	s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f\n", s > 0 ? (double)n / s : 0);
	return 0;
}
