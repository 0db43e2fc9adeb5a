/*
 * linkmon.h - rtnetlink link events (RTM_NEWLINK / RTM_DELLINK, group
 * RTMGRP_LINK), so the daemon hears a parent go down, come up, be renamed,
 * deleted and re-created, without polling; and, when asked, address events
 * (RTM_NEWADDR / RTM_DELADDR, RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR), so
 * it can announce the vNIC's addresses. See rtnetlink(7).
 *
 * linkmon_parse() is pure (no system calls) and is fuzzed; linkmon_open() and
 * linkmon_read() are the socket around it. Thread: the JS thread.
 */
#ifndef VETHD_LINKMON_H
#define VETHD_LINKMON_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "vderr.h"

enum link_event_type {
	LINK_EVENT_NEW = 0,   /* RTM_NEWLINK: created, or flags/state/name/MTU changed */
	LINK_EVENT_DEL,       /* RTM_DELLINK: deleted, or moved to another network namespace */
	LINK_EVENT_RESYNC,    /* the kernel dropped events (ENOBUFS): re-read the state you rely on */
	LINK_EVENT_ADDR_NEW,  /* RTM_NEWADDR: an address added, or its flags changed (IPv6 DAD done) */
	LINK_EVENT_ADDR_DEL   /* RTM_DELADDR: an address removed */
};

struct link_event {
	enum link_event_type type;
	int ifindex;              /* 0 for LINK_EVENT_RESYNC */
	unsigned flags;           /* ifi_flags: IFF_UP, IFF_RUNNING, IFF_LOWER_UP, ... */
	int operstate;            /* IFLA_OPERSTATE (IF_OPER_UP = 6, ...), -1 when absent */
	int mtu;                  /* IFLA_MTU, bytes; -1 when absent */
	char name[IF_NAMESIZE];   /* IFLA_IFNAME, "" when absent */
	int family;               /* address events: AF_INET or AF_INET6; else 0 */
	uint8_t addr[16];         /* address events: IFA_LOCAL (else IFA_ADDRESS), 4 or 16 bytes */
	unsigned addr_flags;      /* address events: IFA_FLAGS, else ifa_flags (IFA_F_TENTATIVE, IFA_F_DADFAILED, ...) */
	int addr_local;           /* address events: 1 once addr came from IFA_LOCAL (which wins over IFA_ADDRESS) */
};

/*
 * Parse one netlink datagram (buf, len bytes) into at most max events; other
 * message types are skipped, and a message or attribute whose length lies is
 * the end of the datagram (never read past len). Returns the number of events
 * written. Thread: any (pure).
 */
size_t linkmon_parse(const uint8_t *buf, size_t len, struct link_event *out, size_t max);

/*
 * A non-blocking NETLINK_ROUTE socket subscribed to RTMGRP_LINK, plus the
 * IPv4 and IPv6 address groups when addresses is 1, in the calling thread's
 * network namespace; -1 with *e filled.
 */
int linkmon_open(int addresses, struct vd_error *e);

/*
 * Read what is queued on fd (buf: scratch of buflen bytes, 32 KiB is plenty)
 * into at most max events (max >= 8; reading stops while fewer than 8 slots are
 * left, and the rest stays queued for the next call). Returns the count (0: nothing queued), or -errno
 * for an error other than EAGAIN/EINTR/ENOBUFS; ENOBUFS becomes a
 * LINK_EVENT_RESYNC event.
 */
int linkmon_read(int fd, uint8_t *buf, size_t buflen, struct link_event *out, size_t max);

#endif
