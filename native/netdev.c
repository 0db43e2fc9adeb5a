/*
 * netdev.c - interface ioctls (see netdev.h for the contracts).
 */
#include "netdev.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static void ifr_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

int netdev_ctl_socket(const char *name, struct vd_error *e)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	return fd < 0 ? vd_fail(e, name, "cannot open a socket for interface ioctls", "socket", errno) : fd;
}

int netdev_ifindex(int sock, const char *name, const char *op, struct vd_error *e)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0)
		return vd_fail(e, name, op, "ioctl(SIOCGIFINDEX)", errno);
	return ifr.ifr_ifindex;
}

int netdev_hwtype(int sock, const char *name, struct vd_error *e)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		return vd_fail(e, name, "cannot read link type", "ioctl(SIOCGIFHWADDR)", errno);
	return ifr.ifr_hwaddr.sa_family;
}

int netdev_get_mac(int sock, const char *name, uint8_t mac[6], struct vd_error *e)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		return vd_fail(e, name, "cannot read MAC", "ioctl(SIOCGIFHWADDR)", errno);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int netdev_get_mtu(int sock, const char *name, struct vd_error *e)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	if (ioctl(sock, SIOCGIFMTU, &ifr) < 0)
		return vd_fail(e, name, "cannot read MTU", "ioctl(SIOCGIFMTU)", errno);
	return ifr.ifr_mtu;
}

int netdev_set_mtu(int sock, const char *name, int mtu, struct vd_error *e)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	ifr.ifr_mtu = mtu;
	if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
		return vd_fail(e, name, "cannot set MTU", "ioctl(SIOCSIFMTU)", errno);
	return 0;
}

int netdev_set_up(int sock, const char *name, struct vd_error *e)
{
	struct ifreq ifr;

	ifr_init(&ifr, name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return vd_fail(e, name, "cannot read link flags", "ioctl(SIOCGIFFLAGS)", errno);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return vd_fail(e, name, "cannot bring link up", "ioctl(SIOCSIFFLAGS)", errno);
	return 0;
}

/* One ETHTOOL_G* value query: 0 with *value, or the errno (EOPNOTSUPP: the driver does not say). */
static int ethtool_get(int sock, const char *name, __u32 cmd, __u32 *value)
{
	struct ethtool_value ev = { .cmd = cmd };
	struct ifreq ifr;

	ifr_init(&ifr, name);
	ifr.ifr_data = (char *)&ev;
	if (ioctl(sock, SIOCETHTOOL, &ifr) < 0)
		return errno;
	*value = ev.data;
	return 0;
}

int netdev_get_offloads(int sock, const char *name, int *gro, int *lro, struct vd_error *e)
{
	__u32 v = 0;
	int err = ethtool_get(sock, name, ETHTOOL_GGRO, &v);

	if (err && err != EOPNOTSUPP)
		return vd_fail(e, name, "cannot read offloads", "ioctl(SIOCETHTOOL)", err);
	*gro = !err && v;
	err = ethtool_get(sock, name, ETHTOOL_GFLAGS, &v);
	if (err && err != EOPNOTSUPP)
		return vd_fail(e, name, "cannot read offloads", "ioctl(SIOCETHTOOL)", err);
	*lro = !err && (v & ETH_FLAG_LRO);
	return 0;
}
