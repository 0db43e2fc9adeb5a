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

	return fd < 0 ? vd_failf(e, ifname, "open", errno, "cannot open network namespace %s", path) : fd;
}

/* Move the calling thread into fd; *saved gets a descriptor of the namespace it left. */
static int netns_enter(int fd, int *saved, const char *ifname, struct vd_error *e)
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

/* Move the calling thread back to saved and close it. */
static int netns_leave(int saved, const char *ifname, struct vd_error *e)
{
	int rc = setns(saved, CLONE_NEWNET);
	int err = errno;

	close(saved);
	return rc < 0 ? vd_fail(e, ifname, "cannot return to the daemon's network namespace", "setns", err) : 0;
}

int netns_call(int fd, const char *ifname, netns_step *step, void *arg, struct vd_error *e)
{
	struct vd_error leave_err;
	int saved, rc;

	if (netns_enter(fd, &saved, ifname, e) < 0)
		return -1;
	rc = step(arg, e);
	if (netns_leave(saved, ifname, &leave_err) < 0) {
		*e = leave_err;
		return -1;
	}
	return rc;
}
