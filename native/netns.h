/*
 * netns.h - run set-up steps inside another network namespace (--netns): the
 * calling thread enters it with setns(2) and comes back. A TAP lands in the
 * namespace of the thread that opened /dev/net/tun, and a socket, a
 * /proc/sys/net file or an interface ioctl acts in the namespace it was made
 * in; so the vNIC's steps run inside, the packet socket's outside.
 * Thread: set-up (JS); each call returns 0 (or a descriptor) or -1 with *e filled.
 */
#ifndef VETHD_NETNS_H
#define VETHD_NETNS_H

#include "vderr.h"

/* Open the namespace file path (/run/netns/NAME, /proc/PID/ns/net, ...) read-only, O_CLOEXEC; ifname and path name the error. */
int netns_open(const char *path, const char *ifname, struct vd_error *e);

/* A step to run inside a namespace: 0 or -1 with *e filled. */
typedef int netns_step(void *arg, struct vd_error *e);

/*
 * Run step(arg, e) with the calling thread inside the network namespace fd
 * (setns CLONE_NEWNET: needs CAP_SYS_ADMIN; EINVAL when fd is not a network
 * namespace), then move it back. Returns step's result; -1 with *e filled
 * when entering fails (step never ran) or coming back fails (whatever step
 * made is the caller's to undo).
 */
int netns_call(int fd, const char *ifname, netns_step *step, void *arg, struct vd_error *e);

#endif
