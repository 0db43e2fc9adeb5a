/*
 * vderr.h - how the C core reports a failed set-up step: which interface,
 * which operation, which errno. The binding turns it into one line,
 * "<ifname>: <operation>: <strerror> (<ERRNO>)", and a JS Error carrying
 * .code, .errno, .syscall and .ifname.
 */
#ifndef VETHD_VDERR_H
#define VETHD_VDERR_H

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

struct vd_error {
	int err;                /* positive errno; 0 = no error */
	const char *op;         /* what failed, as a user reads it: "cannot bind packet socket" (static string) */
	const char *syscall;    /* the call that failed: "bind", "ioctl(TUNSETIFF)" (static string) */
	char ifname[IF_NAMESIZE]; /* the interface the operation was about */
};

/*
 * Record a failure and return -1, so a step can end with
 * `return vd_fail(e, ifname, "cannot ...", "bind", errno);`.
 * Thread: set-up (the JS thread).
 */
static inline int vd_fail(struct vd_error *e, const char *ifname, const char *op, const char *syscall, int err)
{
	e->err = err ? err : EIO;
	e->op = op;
	e->syscall = syscall;
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname ? ifname : "");
	return -1;
}

#endif
