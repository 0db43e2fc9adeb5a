/*
 * peercred.h - who is at the other end of a connected AF_UNIX stream socket:
 * SO_PEERCRED (unix(7)), the credentials the peer had when it called
 * connect(2) (the kernel records them then; they do not change afterwards).
 * The control socket checks them before it reads a request.
 */
#ifndef VETHD_PEERCRED_H
#define VETHD_PEERCRED_H

#include <sys/types.h>

struct peercred {
	pid_t pid; /* the peer's process ID (in this process's pid namespace; 0 when it is outside it) */
	uid_t uid; /* its effective user ID at connect() */
	gid_t gid; /* its effective group ID at connect() */
};

/* Fill *out with fd's peer credentials. Returns 0, or -errno of getsockopt() (ENOTSOCK, EBADF...). Thread: JS. */
int peercred_get(int fd, struct peercred *out);

#endif
