/*
 * tap.c - the virtual NIC (see tap.h for the contracts).
 */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* A /dev/net/tun descriptor (O_NONBLOCK, O_CLOEXEC), or -1 with *e filled. */
static int tun_open(const char *name, struct vd_error *e)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	return fd < 0 ? vd_fail(e, name, "cannot open /dev/net/tun", "open", errno) : fd;
}

/* Attach fd to `name` with flags (TUNSETIFF); fd, or -1 with fd closed and *e filled. */
static int tun_setiff(int fd, const char *name, short flags, struct vd_error *e)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		/* IFF_TUN_EXCL: the name was taken after tap_open() looked (a persistent TAP of someone else's) */
		int err = errno == EBUSY && (flags & IFF_TUN_EXCL) ? EEXIST : errno;

		close(fd);
		return vd_fail(e, name, (flags & IFF_MULTI_QUEUE) ? "cannot create multi-queue TAP" : "cannot create TAP",
			       "ioctl(TUNSETIFF)", err);
	}
	return fd;
}

/* The TUNSETIFF flags for our TAP. */
static short tap_flags(int vnet_hdr, int multi_queue)
{
	return IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0) | (multi_queue ? IFF_MULTI_QUEUE : 0);
}

int tap_open(const char *name, int *vnet_hdr, int multi_queue, struct vd_error *e)
{
	unsigned int features = 0;
	int fd;

	if (if_nametoindex(name) != 0)
		return vd_fail(e, name, "cannot create TAP", "if_nametoindex", EEXIST);
	fd = tun_open(name, e);
	if (fd < 0)
		return -1;
	if (ioctl(fd, TUNGETFEATURES, &features) < 0)
		features = IFF_TAP | IFF_NO_PI; /* pre-2.6.27 kernels: no probe, no vnet header */
	if (!(features & IFF_VNET_HDR))
		*vnet_hdr = 0;
	if (multi_queue && !(features & IFF_MULTI_QUEUE)) {
		close(fd);
		return vd_fail(e, name, "cannot create multi-queue TAP (kernel before 3.8)", "ioctl(TUNGETFEATURES)", EINVAL);
	}
	/*
	 * The look above gives the usual error; IFF_TUN_EXCL makes it hold: without
	 * it TUNSETIFF would attach to a persistent TAP made since, adopting a
	 * device that is not ours (and that outlives us with our MAC).
	 */
	return tun_setiff(fd, name, tap_flags(*vnet_hdr, multi_queue) | IFF_TUN_EXCL, e);
}

int tap_open_queue(const char *name, int vnet_hdr, struct vd_error *e)
{
	int fd = tun_open(name, e);

	return fd < 0 ? -1 : tun_setiff(fd, name, tap_flags(vnet_hdr, 1), e);
}

int tap_fd_set_mac(int fd, const char *name, const uint8_t mac[6], struct vd_error *e)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	if (ioctl(fd, SIOCSIFHWADDR, &ifr) < 0)
		return vd_fail(e, name, "cannot set TAP MAC address", "ioctl(SIOCSIFHWADDR)", errno);
	return 0;
}

int tap_fd_get_mac(int fd, const char *name, uint8_t mac[6], struct vd_error *e)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return vd_fail(e, name, "cannot read TAP MAC address", "ioctl(SIOCGIFHWADDR)", errno);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int tap_fd_set_offload(int fd, const char *name, struct vd_error *e)
{
	unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, offload) < 0)
		return vd_fail(e, name, "cannot set TAP offloads", "ioctl(TUNSETOFFLOAD)", errno);
	return 0;
}
