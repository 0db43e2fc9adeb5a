/*
 * tap.h - the virtual NIC: a TAP device from /dev/net/tun (see
 * Documentation/networking/tuntap.rst). Like QEMU's net/tap-linux.c:
 * tap_probe_* asks the kernel, tap_fd_* changes a TAP descriptor.
 * All functions run on the set-up (JS) thread and return 0 on success or -1
 * with *e filled.
 */
#ifndef VETHD_TAP_H
#define VETHD_TAP_H

#include <stdint.h>

#include "vderr.h"

/*
 * Create the non-persistent TAP `name` (IFF_TAP | IFF_NO_PI, plus IFF_VNET_HDR
 * when *vnet_hdr is 1 and the kernel offers it; *vnet_hdr says what was got;
 * plus IFF_MULTI_QUEUE when multi_queue is 1, EINVAL where the kernel lacks
 * it). Refuses (EEXIST) a name any interface already has: attaching to
 * someone else's persistent TAP is never what the user meant, and
 * IFF_TUN_EXCL keeps that true for one made after the name was looked up
 * (TUNSETIFF's EBUSY, reported as EEXIST). The descriptor
 * is O_NONBLOCK and O_CLOEXEC and is the TAP's first queue; closing every
 * queue's descriptor deletes the device.
 * Returns the descriptor, or -1 with *e filled.
 */
int tap_open(const char *name, int *vnet_hdr, int multi_queue, struct vd_error *e);

/*
 * Attach one more queue to the multi-queue TAP `name` that tap_open() made,
 * with the same vnet_hdr setting. The kernel answers a flow on the queue its
 * frames were written to (tun's flow table). Returns the descriptor
 * (O_NONBLOCK, O_CLOEXEC), or -1 with *e filled.
 */
int tap_open_queue(const char *name, int vnet_hdr, struct vd_error *e);

/* Set the TAP's MAC (SIOCSIFHWADDR on the TAP descriptor). Must precede link up. */
int tap_fd_set_mac(int fd, const char *name, const uint8_t mac[6], struct vd_error *e);

/* Read the TAP's MAC (SIOCGIFHWADDR) into mac. */
int tap_fd_get_mac(int fd, const char *name, uint8_t mac[6], struct vd_error *e);

/*
 * Tell the kernel which offloads we accept in frames read from the TAP
 * (TUNSETOFFLOAD: TUN_F_CSUM, TSO4/6, TSO_ECN): with a virtio_net_hdr on both
 * sides, TCP leaves the vNIC as 64 KB super-frames with checksums left to the
 * parent. Only meaningful with IFF_VNET_HDR.
 */
int tap_fd_set_offload(int fd, const char *name, struct vd_error *e);

#endif
