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

/* Open the namespace file path (/run/netns/NAME, /proc/PID/ns/net, ...) read-only, O_CLOEXEC; ifname names the error. */
int netns_open(const char *path, const char *ifname, struct vd_error *e);

/*
 * Move the calling thread into the network namespace fd (setns CLONE_NEWNET:
 * needs CAP_SYS_ADMIN; EINVAL when fd is not a network namespace). *saved gets
 * a descriptor of the namespace it left, for netns_leave().
 */
int netns_enter(int fd, int *saved, const char *ifname, struct vd_error *e);

/* Move the calling thread back to saved and close it. */
int netns_leave(int saved, const char *ifname, struct vd_error *e);

#endif
