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
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct vd_error {
	int err;                /* positive errno; 0 = no error */
	const char *op;         /* what failed, as a user reads it: "cannot bind packet socket" (static string); read it with vd_op() */
	const char *syscall;    /* the call that failed: "bind", "ioctl(TUNSETIFF)" (static string) */
	char ifname[IF_NAMESIZE]; /* the interface the operation was about */
	char text[112];         /* vd_failf()'s operation with the bad value in it, "" otherwise (a copy of the struct stays whole) */
};

/* What failed, as a user reads it: vd_failf()'s text, else op. */
static inline const char *vd_op(const struct vd_error *e)
{
	return e->text[0] ? e->text : e->op ? e->op : "";
}

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
	e->text[0] = '\0';
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname ? ifname : "");
	return -1;
}

/*
 * vd_fail() with the operation formatted, so it names the bad value:
 * `return vd_failf(e, parent, "relay_open", EINVAL, "cannot open relay: tx batch %d is outside 1..%d", n, max);`.
 * Thread: set-up.
 */
__attribute__((format(printf, 5, 6)))
static inline int vd_failf(struct vd_error *e, const char *ifname, const char *syscall, int err, const char *fmt, ...)
{
	va_list ap;

	vd_fail(e, ifname, "", syscall, err);
	va_start(ap, fmt);
	(void)vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -1;
}

#endif
