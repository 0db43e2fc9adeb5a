/*
 * frame.c - the pure frame classifier (see frame.h for the contracts).
 */
#include "frame.h"

#include <string.h>

#include "txguard.h"

#define ETH_P_ARP_ 0x0806
#define ETH_P_RARP_ 0x8035
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88a8
#define ETH_P_QINQ1_ 0x9100 /* the pre-802.1ad QinQ TPID some switches still take as a tag */
#define ETH_P_PAUSE_ 0x8808 /* MAC control */
#define ETH_P_SLOW_ 0x8809  /* slow protocols */
/* ARP (RFC 826) for Ethernet/IPv4: htype 1, hlen 6; the sender hardware address is at offset 8. */
#define ARP_SHA_OFF 8

static int is_tpid(uint16_t type)
{
	return type == ETH_P_8021Q_ || type == ETH_P_8021AD_ || type == ETH_P_QINQ1_;
}

size_t frame_eth_payload(const uint8_t *frame, size_t len, uint16_t *type)
{
	size_t off = 2 * FRAME_ETH_ALEN;

	for (;;) {
		if (off + 2 > len)
			return 0;
		*type = frame_be16(frame + off);
		off += 2;
		if (!is_tpid(*type))
			return off;
		off += 2; /* the TCI; the next EtherType (or TPID) follows */
	}
}

/* An ARP packet at arp (avail bytes): FRAME_PASS when its sender hardware address is vmac. */
static enum frame_verdict arp_check(const uint8_t *arp, size_t avail, const uint8_t *vmac)
{
	if (avail < ARP_SHA_OFF + FRAME_ETH_ALEN)
		return FRAME_DROP_MALFORMED;
	if (frame_be16(arp) != 1 || arp[4] != FRAME_ETH_ALEN)
		return FRAME_DROP_MALFORMED;
	return frame_mac_equal(arp + ARP_SHA_OFF, vmac) ? FRAME_PASS : FRAME_DROP_SPOOFED_ARP;
}

/*
 * 1 when a frame to dst with EtherType type (0: unknown, a tag cut short) is
 * link-local control traffic that pass (FRAME_TX_LL_PASS's mask) does not let
 * through: a reserved 802.1 group address (802.1Q-2018 8.6.3: a bridge never
 * forwards them; they speak to the switch port itself), MAC control or slow
 * protocols to any address.
 */
static int link_local_blocked(const uint8_t *dst, uint16_t type, unsigned pass)
{
	static const uint8_t reserved[5] = { 0x01, 0x80, 0xc2, 0x00, 0x00 };

	if (!memcmp(dst, reserved, sizeof(reserved)) && dst[5] < 16)
		return !(pass & (1u << dst[5]));
	if (type == ETH_P_PAUSE_)
		return !(pass & (1u << FRAME_LL_PAUSE));
	if (type == ETH_P_SLOW_)
		return !(pass & (1u << FRAME_LL_SLOW));
	return 0;
}

enum frame_verdict frame_classify_tx(const uint8_t *frame, size_t len, const uint8_t vmac[FRAME_ETH_ALEN],
				     unsigned flags)
{
	uint16_t type = 0;
	size_t off;

	if (len < FRAME_ETH_HLEN)
		return FRAME_DROP_RUNT;
	off = frame_eth_payload(frame, len, &type);
	if (link_local_blocked(frame, off ? type : 0, flags >> 16))
		return FRAME_DROP_LINK_LOCAL;
	if ((flags & FRAME_TX_ACCESS) && is_tpid(frame_be16(frame + 2 * FRAME_ETH_ALEN)))
		return FRAME_DROP_VLAN_HOP; /* the relay tags it with the port's VLAN: a tag inside would hop */
	if ((flags & FRAME_TX_ANTISPOOF) && !frame_mac_equal(frame + FRAME_ETH_ALEN, vmac))
		return FRAME_DROP_SPOOFED;
	if (!(flags & (FRAME_TX_ANTISPOOF | FRAME_TX_RA_GUARD | FRAME_TX_DHCP_GUARD)))
		return FRAME_PASS;
	if (!off)
		return FRAME_DROP_MALFORMED; /* a VLAN tag cut short */
	if (type == ETH_P_ARP_ || type == ETH_P_RARP_)
		return (flags & FRAME_TX_ANTISPOOF) ? arp_check(frame + off, len - off, vmac) : FRAME_PASS;
	return txguard_ip(frame, len, type, off, vmac, flags);
}

uint8_t *frame_vlan_insert(uint8_t *start, size_t pre, uint16_t tpid, uint16_t tci)
{
	uint8_t *out = start - FRAME_VLAN_HLEN;
	uint8_t *tag = out + pre + 2 * FRAME_ETH_ALEN;

	memmove(out, start, pre + 2 * FRAME_ETH_ALEN);
	tag[0] = (uint8_t)(tpid >> 8);
	tag[1] = (uint8_t)tpid;
	tag[2] = (uint8_t)(tci >> 8);
	tag[3] = (uint8_t)tci;
	return out;
}

/* One's-complement sum of len bytes (big-endian 16-bit words), added to sum; not folded. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += frame_be16(p + i);
	if (len & 1)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An Ethernet header: dst, src, EtherType; returns the bytes after it. */
static uint8_t *eth_header(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(buf, dst, FRAME_ETH_ALEN);
	memcpy(buf + FRAME_ETH_ALEN, src, FRAME_ETH_ALEN);
	buf[12] = (uint8_t)(type >> 8);
	buf[13] = (uint8_t)type;
	return buf + FRAME_ETH_HLEN;
}

size_t frame_build_garp(uint8_t *buf, const uint8_t mac[FRAME_ETH_ALEN], const uint8_t ip[4])
{
	static const uint8_t bcast[FRAME_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	/* htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4, op 1 (request) */
	static const uint8_t head[8] = { 0, 1, 0x08, 0, 6, 4, 0, 1 };
	uint8_t *arp = eth_header(buf, bcast, mac, 0x0806);

	memset(arp, 0, FRAME_GARP_LEN - FRAME_ETH_HLEN);
	memcpy(arp, head, sizeof(head));
	memcpy(arp + 8, mac, FRAME_ETH_ALEN);  /* sender hardware address */
	memcpy(arp + 14, ip, 4);               /* sender protocol address */
	memcpy(arp + 24, ip, 4);               /* target protocol address; target hardware address stays zero */
	return FRAME_GARP_LEN;
}

size_t frame_build_unsol_na(uint8_t *buf, const uint8_t mac[FRAME_ETH_ALEN], const uint8_t ip6[16])
{
	static const uint8_t all_nodes_mac[FRAME_ETH_ALEN] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	const size_t icmp_len = 32; /* NA (24) + target link-layer address option (8) */
	uint8_t *ip = eth_header(buf, all_nodes_mac, mac, 0x86dd);
	uint8_t *icmp = ip + 40;
	uint8_t proto[4] = { 0, 0, 0, 58 };
	uint8_t len_be[4] = { 0, 0, 0, (uint8_t)icmp_len };
	uint64_t acc;
	uint16_t sum;

	memset(ip, 0, 40 + icmp_len);
	ip[0] = 0x60;                  /* version 6 */
	ip[5] = (uint8_t)icmp_len;     /* payload length */
	ip[6] = 58;                    /* next header: ICMPv6 */
	ip[7] = 255;                   /* hop limit: RFC 4861 requires 255 */
	memcpy(ip + 8, ip6, 16);
	memcpy(ip + 24, all_nodes, 16);
	icmp[0] = 136;                 /* Neighbor Advertisement */
	icmp[4] = 0x20;                /* Override; Router and Solicited clear */
	memcpy(icmp + 8, ip6, 16);     /* target address */
	icmp[24] = 2;                  /* option: target link-layer address */
	icmp[25] = 1;                  /* its length in units of 8 bytes */
	memcpy(icmp + 26, mac, FRAME_ETH_ALEN);
	/* RFC 8200 8.1 pseudo-header: source, destination, upper-layer length, next header */
	acc = csum_add(0, ip + 8, 32);
	acc = csum_add(acc, len_be, 4);
	acc = csum_add(acc, proto, 4);
	sum = csum_fold(csum_add(acc, icmp, icmp_len));
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	return FRAME_ETH_HLEN + 40 + icmp_len;
}

int frame_csum_complete(uint8_t *frame, size_t len)
{
	size_t off;
	const uint8_t *addrs;
	size_t addrs_len, l4len, field;
	uint8_t *l4;
	uint16_t type, sum;
	uint64_t acc;
	int proto;

	off = frame_eth_payload(frame, len, &type);
	if (!off)
		return -1;
	if (type == 0x0800) {
		uint8_t *ip = frame + off;
		size_t ihl, total;

		if (off + 20 > len)
			return -1;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		total = frame_be16(ip + 2);
		if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || off + total > len)
			return -1;
		if (frame_be16(ip + 6) & 0x3fff)
			return 0; /* a fragment: the checksum covers the whole datagram */
		proto = ip[9];
		addrs = ip + 12;
		addrs_len = 8;
		l4 = ip + ihl;
		l4len = total - ihl;
	} else if (type == 0x86dd) {
		uint8_t *ip = frame + off;

		if (off + 40 > len)
			return -1;
		l4len = frame_be16(ip + 4);
		if ((ip[0] >> 4) != 6 || off + 40 + l4len > len)
			return -1;
		proto = ip[6];
		addrs = ip + 8;
		addrs_len = 32;
		l4 = ip + 40;
	} else {
		return 0;
	}
	if (proto == 6 && l4len >= 20)
		field = 16;
	else if (proto == 17 && l4len >= 8)
		field = 6;
	else if (proto == 6 || proto == 17)
		return -1;
	else
		return 0;

	l4[field] = l4[field + 1] = 0;
	acc = csum_add(0, addrs, addrs_len);
	acc += (uint64_t)proto + l4len;
	acc = csum_add(acc, l4, l4len);
	sum = csum_fold(acc);
	if (proto == 17 && sum == 0)
		sum = 0xffff; /* RFC 768: zero means "no checksum" */
	l4[field] = (uint8_t)(sum >> 8);
	l4[field + 1] = (uint8_t)sum;
	return 1;
}

static const char *const verdict_names[FRAME_VERDICT_COUNT] = {
	[FRAME_PASS] = "pass",
	[FRAME_DROP_RUNT] = "runt",
	[FRAME_DROP_NOT_FOR_US] = "not_for_us",
	[FRAME_DROP_OWN_ECHO] = "own_echo",
	[FRAME_DROP_MAC_CONFLICT] = "mac_conflict",
	[FRAME_DROP_SPOOFED] = "spoofed_source",
	[FRAME_DROP_SPOOFED_ARP] = "spoofed_arp",
	[FRAME_DROP_OVERSIZE] = "oversize",
	[FRAME_DROP_MALFORMED] = "malformed",
	[FRAME_DROP_TAP_DOWN] = "tap_down",
	[FRAME_DROP_PARENT_DOWN] = "parent_down",
	[FRAME_DROP_NO_BUFFER] = "no_buffer",
	[FRAME_DROP_OVERRUN] = "socket_overrun",
	[FRAME_DROP_IO_ERROR] = "io_error",
	[FRAME_DROP_WRONG_VLAN] = "wrong_vlan",
	[FRAME_DROP_VLAN_HOP] = "vlan_hop",
	[FRAME_DROP_LINK_LOCAL] = "link_local",
	[FRAME_DROP_BAD_VNET_HDR] = "bad_vnet_hdr",
	[FRAME_DROP_SPOOFED_ND] = "spoofed_nd",
	[FRAME_DROP_SPOOFED_DHCP] = "spoofed_dhcp",
	[FRAME_DROP_RA_GUARD] = "ra_guard",
	[FRAME_DROP_DHCP_GUARD] = "dhcp_guard",
};

/* virtio_net_hdr fields (native-endian on the packet socket and the TAP as we set them up). */
#define VNET_F_NEEDS_CSUM 1
#define VNET_OFF_FLAGS 0
#define VNET_OFF_HDR_LEN 2
#define VNET_OFF_CSUM_START 6

static void add16(uint8_t *p, uint16_t by)
{
	uint16_t v;

	memcpy(&v, p, 2);
	v = (uint16_t)(v + by);
	memcpy(p, &v, 2);
}

static int get16_nonzero(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v != 0;
}

uint8_t *frame_vlan_tag(uint8_t *start, size_t vh, uint16_t tpid, uint16_t tci)
{
	uint8_t *out = frame_vlan_insert(start, vh, tpid, tci);

	/* The tag moves the headers 4 bytes on: so must the virtio_net_hdr's offsets. */
	if (vh && out[VNET_OFF_FLAGS] & VNET_F_NEEDS_CSUM)
		add16(out + VNET_OFF_CSUM_START, FRAME_VLAN_HLEN);
	if (vh && get16_nonzero(out + VNET_OFF_HDR_LEN))
		add16(out + VNET_OFF_HDR_LEN, FRAME_VLAN_HLEN);
	return out;
}

enum frame_verdict frame_rx_finish(uint8_t *buf, size_t n, size_t vh, const struct frame_rx_meta *m, unsigned vid,
				   uint8_t **start, size_t *len)
{
	if (n < vh + FRAME_ETH_HLEN)
		return FRAME_DROP_MALFORMED;
	/* No virtio_net_hdr to carry a partial checksum: complete it here (the fallback mode). */
	if (!vh && m->csum_not_ready && frame_csum_complete(buf, n) < 0)
		return FRAME_DROP_MALFORMED;
	*start = buf;
	*len = n;
	if (m->vlan_valid && !vid) {
		*start = frame_vlan_tag(buf, vh, m->vlan_tpid, m->vlan_tci);
		*len += FRAME_VLAN_HLEN;
	}
	return FRAME_PASS;
}

const char *frame_verdict_name(enum frame_verdict v)
{
	if ((unsigned)v >= FRAME_VERDICT_COUNT)
		return "unknown";
	return verdict_names[v];
}
