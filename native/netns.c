/*
 * netns.c - set-up steps in another network namespace (see netns.h).
 */
#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

int netns_open(const char *path, const char *ifname, struct vd_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? vd_fail(e, ifname, "cannot open network namespace", "open", errno) : fd;
}

int netns_enter(int fd, int *saved, const char *ifname, struct vd_error *e)
{
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return vd_fail(e, ifname, "cannot open this thread's network namespace", "open", errno);
	if (setns(fd, CLONE_NEWNET) < 0) {
		int err = errno;

		close(*saved);
		*saved = -1;
		return vd_fail(e, ifname, "cannot enter network namespace", "setns", err);
	}
	return 0;
}

int netns_leave(int saved, const char *ifname, struct vd_error *e)
{
	int rc = setns(saved, CLONE_NEWNET);
	int err = errno;

	close(saved);
	return rc < 0 ? vd_fail(e, ifname, "cannot return to the daemon's network namespace", "setns", err) : 0;
}
