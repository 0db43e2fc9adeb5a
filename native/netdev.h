/*
 * netdev.h - interface ioctls (netdevice(7)) issued through any socket
 * descriptor: look-ups and link state. Set-up thread only; each returns 0 or a
 * value >= 0 on success, -1 with *e filled on failure.
 */
#ifndef VETHD_NETDEV_H
#define VETHD_NETDEV_H

#include <stdint.h>

#include "vderr.h"

/* A datagram socket for interface ioctls, made in the calling thread's network namespace; name names the error. */
int netdev_ctl_socket(const char *name, struct vd_error *e);

/* ifindex of name (SIOCGIFINDEX); ENODEV when there is no such interface. */
int netdev_ifindex(int sock, const char *name, const char *op, struct vd_error *e);

/* The device's ARPHRD_* type (SIOCGIFHWADDR sa_family): 1 = ARPHRD_ETHER. */
int netdev_hwtype(int sock, const char *name, struct vd_error *e);

/* The device's hardware address, 6 bytes into mac (SIOCGIFHWADDR; an Ethernet device's MAC). */
int netdev_get_mac(int sock, const char *name, uint8_t mac[6], struct vd_error *e);

/* MTU in bytes, IP payload of one frame (SIOCGIFMTU). */
int netdev_get_mtu(int sock, const char *name, struct vd_error *e);

/* Set the MTU (SIOCSIFMTU). */
int netdev_set_mtu(int sock, const char *name, int mtu, struct vd_error *e);

/* Set IFF_UP (SIOCGIFFLAGS, then SIOCSIFFLAGS). */
int netdev_set_up(int sock, const char *name, struct vd_error *e);

/*
 * Whether the device aggregates received frames: *gro from ETHTOOL_GGRO,
 * *lro from ETHTOOL_GFLAGS (ETH_FLAG_LRO); a device that answers neither
 * (EOPNOTSUPP) has them off. See ethtool(8) -k.
 */
int netdev_get_offloads(int sock, const char *name, int *gro, int *lro, struct vd_error *e);

#endif
