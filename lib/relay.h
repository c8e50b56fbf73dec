/*
 * relay.h: copy bytes both ways between two connected sockets.
 *
 * relay_run(a, b, pre, npre) copies what arrives on a to b and what
 * arrives on b to a, with one poll(2) loop in the calling thread, until
 * both directions are over.  The npre bytes at pre count as already read
 * from a (what an HTTP server read past an upgrade request): b gets them
 * first.
 *
 * Half-close aware: when one side reaches EOF, the other side gets
 * shutdown(SHUT_WR) once everything before the EOF reached it, and the
 * other direction goes on until its own EOF.  Buffers are bounded: each
 * direction holds at most RELAY_BUF bytes, and a side is not read while
 * what it sent still waits for the other side to take it, so a slow
 * reader slows its writer down instead of growing memory.
 *
 * Returns 0 when both directions ended with an EOF, or -1 with errno set
 * when a read or a write failed (a reset, a peer that stopped reading
 * and went away); then both sockets are shut down both ways.  Closes
 * neither fd and leaves their file status flags alone (send and recv
 * with MSG_DONTWAIT, never SIGPIPE).  To stop a relay from another
 * thread, shutdown(2) either socket.
 */
#ifndef BF_RELAY_H
#define BF_RELAY_H

#include <stddef.h>

#define RELAY_BUF	(64 * 1024)

int relay_run(int a, int b, const void *pre, size_t npre);

#endif
