/*
 * txguard.c - pure checks on a vNIC's IP control traffic and virtio_net_hdr
 * (see txguard.h for the contracts).
 */
#include "txguard.h"

#include <string.h>

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86dd
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
/* IPv6 extension headers walked to the upper-layer header (RFC 8200 4.1). */
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_DSTOPTS 60
#define IPV6_EXT_MAX 8

/* ICMPv6 neighbour discovery (RFC 4861 4): types and where each one's options start. */
#define ND_ROUTER_SOLICIT 133
#define ND_ROUTER_ADVERT 134
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_REDIRECT 137
#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_TARGET_LLADDR 2

/* DHCP (RFC 2131) and DHCPv6 (RFC 8415) ports, and where a BOOTP header's fields are. */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP6_SERVER_PORT 547
#define DHCP6_CLIENT_PORT 546
#define BOOTP_OP_REQUEST 1
#define BOOTP_CHADDR_OFF 28
#define BOOTP_MIN 44 /* op .. chaddr's 16 bytes */

/* virtio_net_hdr (include/uapi/linux/virtio_net.h). */
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5
#define VNET_GSO_ECN 0x80

static uint16_t ne16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static int ipv4(const uint8_t *frame, size_t len, size_t off, struct txguard_l4 *l)
{
	const uint8_t *ip = frame + off;
	size_t ihl, total;
	uint16_t frag;

	if (off + 20 > len)
		return -1;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	total = frame_be16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || off + total > len)
		return -1; /* ip_rcv drops it, but a DHCP server on a packet socket may not look */
	frag = frame_be16(ip + 6);
	l->ipv6 = 0;
	l->proto = ip[9];
	l->off = off + ihl;
	l->end = off + total;
	l->fragment = (frag & 0x3fff) != 0; /* MF or an offset */
	l->first = (frag & 0x1fff) == 0;
	return 1;
}

static int ipv6(const uint8_t *frame, size_t len, size_t off, struct txguard_l4 *l)
{
	const uint8_t *ip = frame + off;
	size_t p, end;
	int nh, i;

	if (off + 40 > len)
		return -1;
	end = off + 40 + frame_be16(ip + 4);
	if ((ip[0] >> 4) != 6 || end > len)
		return -1; /* ipv6_rcv drops it (jumbograms included), a packet-socket reader may not */
	l->ipv6 = 1;
	l->fragment = 0;
	l->first = 1;
	nh = ip[6];
	p = off + 40;
	for (i = 0;; i++) {
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS && nh != NH_FRAGMENT)
			break;
		if (i == IPV6_EXT_MAX)
			return -1; /* a receiver walks on: so would an RA behind the ninth */
		if (nh != NH_FRAGMENT) {
			if (p + 2 > end)
				return -1;
			nh = frame[p];
			p += ((size_t)frame[p + 1] + 1) * 8;
		} else if (nh == NH_FRAGMENT) {
			if (p + 8 > end)
				return -1;
			l->fragment = 1;
			l->first = (frame_be16(frame + p + 2) & 0xfff8) == 0;
			nh = frame[p];
			p += 8;
			if (!l->first)
				break; /* what follows is payload, not headers */
		}
		if (p > end)
			return -1;
	}
	l->proto = nh;
	l->off = p;
	l->end = end;
	return 1;
}

int txguard_l4(const uint8_t *frame, size_t len, uint16_t type, size_t off, struct txguard_l4 *l)
{
	if (type == ETH_P_IP_)
		return ipv4(frame, len, off, l);
	if (type == ETH_P_IPV6_)
		return ipv6(frame, len, off, l);
	return 0;
}

/* Where a neighbour discovery message's options start (from its ICMPv6 header), 0: not one that carries link-layer addresses. */
static size_t nd_options_at(int type)
{
	switch (type) {
	case ND_ROUTER_SOLICIT:
		return 8;
	case ND_ROUTER_ADVERT:
		return 16;
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT:
		return 24;
	case ND_REDIRECT:
		return 40;
	default:
		return 0;
	}
}

/*
 * The link-layer address options of the ND message at frame + at (end: the
 * datagram's end): FRAME_DROP_SPOOFED_ND when one names another MAC than
 * vmac, FRAME_DROP_MALFORMED when an option is cut short, has length 0, or
 * is a link-layer address that is not 6 bytes (an Ethernet one is, RFC 2464 6).
 */
static enum frame_verdict nd_options(const uint8_t *frame, size_t at, size_t end, const uint8_t *vmac)
{
	while (at < end) {
		size_t olen;

		if (at + 2 > end)
			return FRAME_DROP_MALFORMED;
		olen = (size_t)frame[at + 1] * 8;
		if (olen == 0 || at + olen > end)
			return FRAME_DROP_MALFORMED;
		if (frame[at] == ND_OPT_SOURCE_LLADDR || frame[at] == ND_OPT_TARGET_LLADDR) {
			if (olen != 8)
				return FRAME_DROP_MALFORMED;
			if (!frame_mac_equal(frame + at + 2, vmac))
				return FRAME_DROP_SPOOFED_ND;
		}
		at += olen;
	}
	return FRAME_PASS;
}

static enum frame_verdict icmpv6_check(const uint8_t *frame, const struct txguard_l4 *l, const uint8_t *vmac, unsigned flags)
{
	int type;
	size_t opts;

	if (l->off + 4 > l->end)
		return FRAME_DROP_MALFORMED;
	type = frame[l->off];
	if ((flags & FRAME_TX_RA_GUARD) && (type == ND_ROUTER_ADVERT || type == ND_REDIRECT))
		return FRAME_DROP_RA_GUARD;
	opts = nd_options_at(type);
	if (!opts || !(flags & FRAME_TX_ANTISPOOF))
		return FRAME_PASS;
	if (l->fragment)
		return FRAME_DROP_MALFORMED; /* RFC 6980: ND is never fragmented; options in a later fragment would go unseen */
	if (l->off + opts > l->end)
		return FRAME_DROP_MALFORMED;
	return nd_options(frame, l->off + opts, l->end, vmac);
}

static enum frame_verdict udp_check(const uint8_t *frame, const struct txguard_l4 *l, const uint8_t *vmac, unsigned flags)
{
	const uint8_t *bootp;
	unsigned sport, dport;

	if (l->off + 8 > l->end)
		return FRAME_DROP_MALFORMED;
	sport = frame_be16(frame + l->off);
	dport = frame_be16(frame + l->off + 2);
	/* A server or relay speaks from its port, or to a client's (a rogue one may pick any source port). */
	if ((flags & FRAME_TX_DHCP_GUARD) &&
	    (l->ipv6 ? sport == DHCP6_SERVER_PORT || dport == DHCP6_CLIENT_PORT : sport == DHCP_SERVER_PORT || dport == DHCP_CLIENT_PORT))
		return FRAME_DROP_DHCP_GUARD;
	if (l->ipv6 || dport != DHCP_SERVER_PORT || !(flags & (FRAME_TX_ANTISPOOF | FRAME_TX_DHCP_GUARD)))
		return FRAME_PASS;
	/* A message to a DHCP server: a client's BOOTREQUEST (from port 68, or 67 through a relay) names the client by chaddr. */
	if (l->fragment) /* a client never fragments (RFC 2131 2: 576 bytes); chaddr could hide in a later fragment */
		return (flags & FRAME_TX_ANTISPOOF) ? FRAME_DROP_SPOOFED_DHCP : FRAME_PASS;
	if (l->off + 8 + BOOTP_MIN > l->end)
		return FRAME_DROP_MALFORMED;
	bootp = frame + l->off + 8;
	if (bootp[0] != BOOTP_OP_REQUEST) /* a BOOTREPLY to a relay's port 67 */
		return (flags & FRAME_TX_DHCP_GUARD) ? FRAME_DROP_DHCP_GUARD : FRAME_PASS;
	if (!(flags & FRAME_TX_ANTISPOOF))
		return FRAME_PASS;
	if (bootp[1] != 1 || bootp[2] != FRAME_ETH_ALEN || !frame_mac_equal(bootp + BOOTP_CHADDR_OFF, vmac))
		return FRAME_DROP_SPOOFED_DHCP; /* htype 1 / hlen 6: an Ethernet client's chaddr is its MAC */
	return FRAME_PASS;
}

enum frame_verdict txguard_ip(const uint8_t *frame, size_t len, uint16_t type, size_t off,
			      const uint8_t vmac[FRAME_ETH_ALEN], unsigned flags)
{
	struct txguard_l4 l;
	int rc;

	if (!(flags & (FRAME_TX_ANTISPOOF | FRAME_TX_RA_GUARD | FRAME_TX_DHCP_GUARD)))
		return FRAME_PASS;
	rc = txguard_l4(frame, len, type, off, &l);
	if (rc <= 0)
		return rc < 0 ? FRAME_DROP_MALFORMED : FRAME_PASS;
	if (!l.first)
		return FRAME_PASS; /* a later fragment: its datagram's first one was checked */
	if (l.ipv6 && l.proto == PROTO_ICMPV6)
		return icmpv6_check(frame, &l, vmac, flags);
	if (l.proto == PROTO_UDP)
		return udp_check(frame, &l, vmac, flags);
	return FRAME_PASS;
}

enum frame_verdict txguard_vnet(const uint8_t *vnet, const uint8_t *frame, size_t len)
{
	const unsigned flags = vnet[0], gso = vnet[1] & ~VNET_GSO_ECN, ecn = vnet[1] & VNET_GSO_ECN;
	const unsigned gso_size = ne16(vnet + 4), csum_start = ne16(vnet + 6), csum_offset = ne16(vnet + 8);
	struct txguard_l4 l;
	uint16_t type = 0;
	size_t off;

	if (flags & ~(unsigned)(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID))
		return FRAME_DROP_BAD_VNET_HDR;
	if (!(flags & VNET_F_NEEDS_CSUM))
		return vnet[1] == VNET_GSO_NONE ? FRAME_PASS : FRAME_DROP_BAD_VNET_HDR; /* segmentation needs the checksum request */
	off = frame_eth_payload(frame, len, &type);
	if (!off || txguard_l4(frame, len, type, off, &l) != 1 || l.fragment || csum_start != l.off)
		return FRAME_DROP_BAD_VNET_HDR;
	if (l.proto == PROTO_TCP) {
		if (csum_offset != 16 || l.off + 20 > l.end)
			return FRAME_DROP_BAD_VNET_HDR;
	} else if (l.proto == PROTO_UDP) {
		if (csum_offset != 6 || l.off + 8 > l.end)
			return FRAME_DROP_BAD_VNET_HDR;
	} else {
		return FRAME_DROP_BAD_VNET_HDR;
	}
	if (gso == VNET_GSO_NONE)
		return ecn ? FRAME_DROP_BAD_VNET_HDR : FRAME_PASS;
	if (!gso_size)
		return FRAME_DROP_BAD_VNET_HDR;
	if (gso == VNET_GSO_TCPV4 && !l.ipv6 && l.proto == PROTO_TCP)
		return FRAME_PASS;
	if (gso == VNET_GSO_TCPV6 && l.ipv6 && l.proto == PROTO_TCP)
		return FRAME_PASS;
	if (gso == VNET_GSO_UDP_L4 && !ecn && l.proto == PROTO_UDP)
		return FRAME_PASS;
	return FRAME_DROP_BAD_VNET_HDR;
}
