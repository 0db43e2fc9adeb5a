/* peercred.c - SO_PEERCRED (see peercred.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "peercred.h"

#include <errno.h>
#include <sys/socket.h>

int peercred_get(int fd, struct peercred *out)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	out->pid = uc.pid;
	out->uid = uc.uid;
	out->gid = uc.gid;
	return 0;
}
