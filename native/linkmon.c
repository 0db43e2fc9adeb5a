/*
 * linkmon.c - rtnetlink link events (see linkmon.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "linkmon.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One attribute handler: type, payload d of n bytes, the event being filled. */
typedef void attr_fn(unsigned short type, const void *d, size_t n, struct link_event *ev);

/*
 * Call fn for each attribute in the len bytes at p, stopping at one whose
 * length lies (never reading past len). RTA_NEXT() would wrap the remaining
 * length when the last attribute's aligned length overshoots: step by hand.
 */
static void for_each_attr(const uint8_t *p, size_t len, attr_fn *fn, struct link_event *ev)
{
	size_t left = len;

	while (left >= sizeof(struct rtattr)) {
		const struct rtattr *rta = (const struct rtattr *)p;
		size_t step;

		if (rta->rta_len < sizeof(*rta) || rta->rta_len > left)
			return;
		fn(rta->rta_type, RTA_DATA(rta), rta->rta_len - RTA_LENGTH(0), ev);
		step = RTA_ALIGN(rta->rta_len);
		if (step >= left)
			return;
		p += step;
		left -= step;
	}
}

/* The ifinfomsg attributes we care about: name, operstate, MTU. */
static void link_attr(unsigned short type, const void *d, size_t n, struct link_event *ev)
{
	switch (type) {
	case IFLA_IFNAME:
		if (n > 0 && n <= IF_NAMESIZE && memchr(d, '\0', n)) /* a C string that fits */
			memcpy(ev->name, d, n);
		break;
	case IFLA_OPERSTATE:
		if (n >= 1)
			ev->operstate = *(const uint8_t *)d;
		break;
	case IFLA_MTU:
		if (n >= 4) {
			uint32_t mtu;

			memcpy(&mtu, d, 4);
			ev->mtu = mtu > 0x7fffffff ? -1 : (int)mtu;
		}
		break;
	}
}

/*
 * The ifaddrmsg attributes we care about: the address (IFA_LOCAL wins over
 * IFA_ADDRESS, the peer's on point-to-point links) and IFA_FLAGS.
 * ev->family says the address length.
 */
static void addr_attr(unsigned short type, const void *d, size_t n, struct link_event *ev)
{
	size_t alen = ev->family == AF_INET ? 4 : 16;

	if ((type == IFA_LOCAL || (type == IFA_ADDRESS && !ev->addr_local)) && n >= alen) {
		memcpy(ev->addr, d, alen);
		ev->addr_local |= type == IFA_LOCAL;
	} else if (type == IFA_FLAGS && n >= 4) {
		memcpy(&ev->addr_flags, d, 4);
	}
}

/* One RTM_NEWADDR/RTM_DELADDR message into ev; 0 when it is not IPv4/IPv6 or is cut short. */
static int parse_addr(const struct nlmsghdr *nh, struct link_event *ev)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->type = nh->nlmsg_type == RTM_NEWADDR ? LINK_EVENT_ADDR_NEW : LINK_EVENT_ADDR_DEL;
	ev->ifindex = (int)ifa->ifa_index;
	ev->operstate = -1;
	ev->mtu = -1;
	ev->family = ifa->ifa_family;
	ev->addr_flags = ifa->ifa_flags;
	for_each_attr((const uint8_t *)IFA_RTA(ifa), nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa)), addr_attr, ev);
	return 1;
}

size_t linkmon_parse(const uint8_t *buf, size_t len, struct link_event *out, size_t max)
{
	size_t left = len;
	size_t n = 0;

	/* NLMSG_NEXT() would wrap `left` on a last message whose aligned length overshoots: step by hand. */
	while (n < max && left >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
		const struct ifinfomsg *ifi;
		struct link_event *ev;
		size_t step;

		if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > left)
			break;
		step = NLMSG_ALIGN(nh->nlmsg_len);
		buf += step < left ? step : left;
		left -= step < left ? step : left;
		if (nh->nlmsg_type == RTM_NEWADDR || nh->nlmsg_type == RTM_DELADDR) {
			n += (size_t)parse_addr(nh, &out[n]);
			continue;
		}
		if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
			continue;
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			break;
		ifi = NLMSG_DATA(nh);
		ev = &out[n++];
		memset(ev, 0, sizeof(*ev));
		ev->type = nh->nlmsg_type == RTM_NEWLINK ? LINK_EVENT_NEW : LINK_EVENT_DEL;
		ev->ifindex = ifi->ifi_index;
		ev->flags = ifi->ifi_flags;
		ev->operstate = -1;
		ev->mtu = -1;
		for_each_attr((const uint8_t *)IFLA_RTA(ifi), nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)), link_attr, ev);
	}
	return n;
}

int linkmon_open(int addresses, struct vd_error *e)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | (addresses ? RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR : 0),
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return vd_fail(e, "rtnetlink", "cannot open link-event socket", "socket(AF_NETLINK)", errno);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		return vd_fail(e, "rtnetlink", "cannot subscribe to link events", "bind(RTMGRP_LINK)", err);
	}
	return fd;
}

#define LINKMON_DGRAM_ROOM 8

int linkmon_read(int fd, uint8_t *buf, size_t buflen, struct link_event *out, size_t max)
{
	size_t n = 0;

	/* rtnetlink sends one message per notification; keep room for a few per datagram anyway. */
	while (max - n >= LINKMON_DGRAM_ROOM) {
		ssize_t got = recv(fd, buf, buflen, MSG_DONTWAIT);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno != ENOBUFS)
				return -errno;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].type = LINK_EVENT_RESYNC;
			out[n].operstate = out[n].mtu = -1;
			n++;
			continue;
		}
		n += linkmon_parse(buf, (size_t)got, out + n, max - n);
	}
	return (int)n;
}
