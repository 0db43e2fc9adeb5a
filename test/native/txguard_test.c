/*
 * txguard_test.c - unit tests for what a vNIC may send beyond its source MAC
 * and ARP sender: link-local control frames, tags on an access port, IPv6
 * neighbour discovery and DHCP identities, the RA and DHCP server guards
 * (frame_classify_tx, txguard_ip) and the virtio_net_hdr (txguard_vnet).
 * Built and run by test/frame.native.test.ts; prints "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "../../native/frame.h"
#include "../../native/txguard.h"
#include "check.h"

static const uint8_t VMAC[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x03 };
static const uint8_t OTHER[6] = { 0x02, 0x00, 0x00, 0x00, 0x09, 0x09 };
static const uint8_t PEER[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define AS FRAME_TX_ANTISPOOF
#define LL FRAME_TX_LL_PASS(FRAME_LL_PASS_DEFAULT)

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An Ethernet header dst, VMAC, type at f; returns 14. */
static size_t eth(uint8_t *f, const uint8_t *dst, unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, VMAC, 6);
	put16(f + 12, type);
	return 14;
}

/* An IPv4 header at p: proto, payload bytes, fragment word; returns 20. */
static size_t ip4(uint8_t *p, int proto, size_t payload, unsigned frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, (unsigned)(20 + payload));
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	return 20;
}

/* An IPv6 header at p: next header, payload bytes; returns 40. */
static size_t ip6(uint8_t *p, int nh, size_t payload)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	put16(p + 4, (unsigned)payload);
	p[6] = (uint8_t)nh;
	p[7] = 255;
	return 40;
}

/*
 * An ICMPv6 ND message of `type` (its fixed part: optoff bytes), with one
 * link-layer address option (opt: 1 source, 2 target; 0 none) naming lladdr,
 * behind `ext` hop-by-hop headers. Returns the frame's length.
 */
static size_t nd(uint8_t *f, int type, size_t optoff, int opt, const uint8_t *lladdr, int ext)
{
	size_t off = eth(f, (const uint8_t *)"\x33\x33\x00\x00\x00\x01", 0x86dd), l4len = optoff + (opt ? 8 : 0);
	uint8_t *ip = f + off;
	int i;

	off += ip6(ip, ext ? 0 : 58, (size_t)ext * 8 + l4len);
	for (i = 0; i < ext; i++) {
		memset(f + off, 0, 8);
		f[off] = i + 1 < ext ? 0 : 58; /* hop-by-hop chained: RFC 8200 allows only one, receivers walk on */
		off += 8;
	}
	memset(f + off, 0, l4len);
	f[off] = (uint8_t)type;
	if (opt) {
		f[off + optoff] = (uint8_t)opt;
		f[off + optoff + 1] = 1;
		memcpy(f + off + optoff + 2, lladdr, 6);
	}
	return off + l4len;
}

static void test_nd(void)
{
	uint8_t f[256];
	size_t n;

	n = nd(f, 135, 24, 1, VMAC, 0); /* NS, source link-layer address ours */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	n = nd(f, 135, 24, 1, OTHER, 0); /* NS naming another MAC: neighbour cache poisoning */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ND);
	CHECK(frame_classify_tx(f, n, VMAC, LL) == FRAME_PASS); /* anti-spoofing off: a bridge port */
	n = nd(f, 136, 24, 2, OTHER, 0); /* NA, target link-layer address */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ND);
	n = nd(f, 133, 8, 1, OTHER, 0); /* RS */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ND);
	n = nd(f, 137, 40, 2, OTHER, 0); /* redirect */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ND);
	n = nd(f, 135, 24, 0, NULL, 0); /* DAD: no option */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	n = nd(f, 135, 24, 1, OTHER, 1); /* behind a hop-by-hop header */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ND);
	n = nd(f, 135, 24, 1, OTHER, 8); /* behind 8 extension headers: still walked */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ND);
	n = nd(f, 135, 24, 1, VMAC, 8);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	n = nd(f, 135, 24, 1, OTHER, 9); /* behind more extension headers than the walk takes */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	n = nd(f, 135, 24, 1, VMAC, 0);
	f[14] = 0x50; /* IP version 5 */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	{
		/* a later fragment whose payload starts with a byte that reads as destination options: payload, not headers */
		size_t off = eth(f, PEER, 0x86dd);

		off += ip6(f + off, 44, 8 + 16);
		memset(f + off, 0, 24);
		f[off] = 60;
		put16(f + off + 2, 80); /* offset 80 */
		f[off + 8] = 0xff, f[off + 9] = 0xff; /* would claim 2048 bytes of options */
		CHECK(frame_classify_tx(f, off + 24, VMAC, AS | LL | FRAME_TX_RA_GUARD) == FRAME_PASS);
	}
	n = nd(f, 135, 24, 1, VMAC, 0);
	f[14 + 40 + 24 + 1] = 0; /* an option of length 0 (RFC 4861 4.6: discard) */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	n = nd(f, 135, 24, 1, VMAC, 0);
	f[14 + 40 + 24 + 1] = 2; /* runs past the packet */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	/* cut anywhere: never a read past len (ASan); a cut IPv6 packet is no packet to a receiver */
	n = nd(f, 135, 24, 1, OTHER, 1);
	for (size_t cut = 14; cut < n; cut++)
		CHECK(frame_classify_tx(f, cut, VMAC, AS | LL) != FRAME_DROP_SPOOFED_ND);
	/* RA guard: router advertisements and redirects, whatever their options */
	n = nd(f, 134, 16, 1, VMAC, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL | FRAME_TX_RA_GUARD) == FRAME_DROP_RA_GUARD);
	CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_RA_GUARD) == FRAME_DROP_RA_GUARD);
	n = nd(f, 134, 16, 1, VMAC, 2); /* hidden behind extension headers (RFC 7113) */
	CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_RA_GUARD) == FRAME_DROP_RA_GUARD);
	n = nd(f, 137, 40, 0, NULL, 0);
	CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_RA_GUARD) == FRAME_DROP_RA_GUARD);
	n = nd(f, 135, 24, 1, VMAC, 0);
	CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_RA_GUARD) == FRAME_PASS);
}

/* A DHCPv4 message over UDP sport -> dport, op, chaddr, IPv4 fragment word frag. Returns the frame's length. */
static size_t dhcp(uint8_t *f, unsigned sport, unsigned dport, int op, const uint8_t *chaddr, unsigned frag)
{
	const size_t bootp = 240;
	size_t off = eth(f, BCAST, 0x0800);
	uint8_t *udp;

	off += ip4(f + off, 17, 8 + bootp, frag);
	udp = f + off;
	memset(udp, 0, 8 + bootp);
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (unsigned)(8 + bootp));
	udp[8] = (uint8_t)op;
	udp[9] = 1;
	udp[10] = 6;
	memcpy(udp + 8 + 28, chaddr, 6);
	return off + 8 + bootp;
}

static void test_dhcp(void)
{
	uint8_t f[400];
	size_t n;

	n = dhcp(f, 68, 67, 1, VMAC, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	n = dhcp(f, 68, 67, 1, OTHER, 0); /* a DISCOVER for another MAC: pool exhaustion */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_DHCP);
	CHECK(frame_classify_tx(f, n, VMAC, LL) == FRAME_PASS);
	n = dhcp(f, 68, 67, 1, VMAC, 0);
	f[14 + 20 + 8 + 2] = 16; /* hlen 16: not an Ethernet client */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_DHCP);
	n = dhcp(f, 68, 67, 1, VMAC, 0x2000); /* a first fragment (MF) */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_SPOOFED_DHCP);
	n = dhcp(f, 68, 67, 1, OTHER, 0x0010); /* a later fragment: no UDP header to read */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	n = dhcp(f, 68, 67, 1, VMAC, 0);
	put16(f + 16, 20 + 8 + 20); /* IPv4 total length ends inside the BOOTP header */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	/* a total length that does not describe the frame: ip_rcv would drop it, a DHCP server on a packet socket may not */
	n = dhcp(f, 68, 67, 1, OTHER, 0);
	put16(f + 16, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	put16(f + 16, 65535);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	n = dhcp(f, 68, 67, 1, OTHER, 0);
	f[14] = 0x55; /* version 5 */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_DROP_MALFORMED);
	CHECK(frame_classify_tx(f, n, VMAC, LL) == FRAME_PASS); /* no check applies */
	/* the DHCP server guard: replies from port 67, DHCPv6 from 547 */
	n = dhcp(f, 67, 68, 2, OTHER, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL | FRAME_TX_DHCP_GUARD) == FRAME_DROP_DHCP_GUARD);
	n = dhcp(f, 68, 67, 1, VMAC, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL | FRAME_TX_DHCP_GUARD) == FRAME_PASS);
	n = dhcp(f, 1234, 68, 2, OTHER, 0); /* a rogue server picks its source port */
	CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
	CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_DHCP_GUARD) == FRAME_DROP_DHCP_GUARD);
	n = dhcp(f, 1234, 67, 2, OTHER, 0); /* a BOOTREPLY to a relay's port */
	CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_DHCP_GUARD) == FRAME_DROP_DHCP_GUARD);
	{
		size_t off = eth(f, PEER, 0x86dd);

		off += ip6(f + off, 17, 8 + 4);
		memset(f + off, 0, 12);
		put16(f + off, 547);
		put16(f + off + 2, 546);
		n = off + 12;
		CHECK(frame_classify_tx(f, n, VMAC, AS | LL) == FRAME_PASS);
		CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_DHCP_GUARD) == FRAME_DROP_DHCP_GUARD);
		put16(f + off, 1234); /* to a client's port, from any */
		CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_DHCP_GUARD) == FRAME_DROP_DHCP_GUARD);
		put16(f + off, 546); /* a DHCPv6 client */
		put16(f + off + 2, 547);
		CHECK(frame_classify_tx(f, n, VMAC, LL | FRAME_TX_DHCP_GUARD) == FRAME_PASS);
	}
}

static void test_rarp(void)
{
	uint8_t f[64];
	size_t off = eth(f, BCAST, 0x8035);

	memset(f + off, 0, 28);
	f[off + 1] = 1, f[off + 2] = 0x08, f[off + 4] = 6, f[off + 5] = 4, f[off + 7] = 3; /* reverse request */
	memcpy(f + off + 8, OTHER, 6);
	CHECK(frame_classify_tx(f, off + 28, VMAC, AS | LL) == FRAME_DROP_SPOOFED_ARP);
	memcpy(f + off + 8, VMAC, 6);
	CHECK(frame_classify_tx(f, off + 28, VMAC, AS | LL) == FRAME_PASS);
}

static void test_link_local(void)
{
	uint8_t f[64], g[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };
	unsigned grp;

	memset(f, 0, sizeof(f));
	for (grp = 0; grp < 16; grp++) {
		g[5] = (uint8_t)grp;
		eth(f, g, 0x0027); /* an 802.3 length field, as STP BPDUs carry */
		/* by default only EAPOL's and LLDP's groups, with or without anti-spoofing */
		CHECK(frame_classify_tx(f, 60, VMAC, LL) == ((grp == 0x3 || grp == 0xe) ? FRAME_PASS : FRAME_DROP_LINK_LOCAL));
		CHECK(frame_classify_tx(f, 60, VMAC, AS | LL) == ((grp == 0x3 || grp == 0xe) ? FRAME_PASS : FRAME_DROP_LINK_LOCAL));
		CHECK(frame_classify_tx(f, 60, VMAC, FRAME_TX_LL_PASS(1u << grp)) == FRAME_PASS);
	}
	g[5] = 0x10; /* past the reserved range */
	eth(f, g, 0x0800);
	CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_PASS);
	g[5] = 0x01;
	eth(f, g, 0x8808); /* PAUSE */
	CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_DROP_LINK_LOCAL);
	eth(f, PEER, 0x8808); /* MAC control to any address */
	CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_DROP_LINK_LOCAL);
	CHECK(frame_classify_tx(f, 60, VMAC, FRAME_TX_LL_PASS(1u << FRAME_LL_PAUSE)) == FRAME_PASS);
	eth(f, PEER, 0x8809); /* slow protocols (LACP) to any address */
	CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_DROP_LINK_LOCAL);
	CHECK(frame_classify_tx(f, 60, VMAC, FRAME_TX_LL_PASS(1u << FRAME_LL_SLOW)) == FRAME_PASS);
	eth(f, PEER, 0x8100); /* ... and behind a tag */
	put16(f + 16, 0x8809);
	CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_DROP_LINK_LOCAL);
	eth(f, PEER, 0x888e); /* EAPOL to a unicast address */
	CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_PASS);
}

static void test_access_port(void)
{
	static const unsigned tpids[] = { 0x8100, 0x88a8, 0x9100 };
	uint8_t f[64];
	size_t i;

	memset(f, 0, sizeof(f));
	for (i = 0; i < 3; i++) {
		eth(f, PEER, tpids[i]);
		put16(f + 14, 200);
		put16(f + 16, 0x0800);
		CHECK(frame_classify_tx(f, 60, VMAC, LL | FRAME_TX_ACCESS) == FRAME_DROP_VLAN_HOP);
		CHECK(frame_classify_tx(f, 60, VMAC, AS | LL | FRAME_TX_ACCESS) == FRAME_DROP_VLAN_HOP);
		CHECK(frame_classify_tx(f, 60, VMAC, LL) == FRAME_PASS); /* a trunk-side vNIC may tag */
	}
	eth(f, PEER, 0x0800);
	CHECK(frame_classify_tx(f, 60, VMAC, LL | FRAME_TX_ACCESS) == FRAME_PASS);
}

/* A virtio_net_hdr (native-endian, as the TAP gives it). */
static void vnet(uint8_t *h, unsigned flags, unsigned gso, unsigned gso_size, unsigned start, unsigned off)
{
	uint16_t v[4] = { 0, (uint16_t)gso_size, (uint16_t)start, (uint16_t)off };

	h[0] = (uint8_t)flags;
	h[1] = (uint8_t)gso;
	memcpy(h + 2, v, sizeof(v));
}

/* A TCP (proto 6) or UDP (17) frame over IPv4 (v6 0) or IPv6, behind `tags` 802.1Q tags; returns its length. */
static size_t l4frame(uint8_t *f, int proto, int v6, int tags, unsigned frag)
{
	size_t off = eth(f, PEER, tags ? 0x8100 : (v6 ? 0x86dd : 0x0800)), l4 = proto == 6 ? 20 : 8;
	int i;

	for (i = 0; i < tags; i++) {
		put16(f + off, 100);
		put16(f + off + 2, i + 1 < tags ? 0x8100 : (v6 ? 0x86dd : 0x0800));
		off += 4;
	}
	off += v6 ? ip6(f + off, proto, l4 + 100) : ip4(f + off, proto, l4 + 100, frag);
	memset(f + off, 0x5a, l4 + 100);
	return off + l4 + 100;
}

static void test_vnet(void)
{
	uint8_t h[FRAME_VNET_HLEN], f[256];
	size_t n;

	/* the attack: a checksum request on an ARP frame, aimed at its sender hardware address */
	memset(f, 0, sizeof(f));
	n = eth(f, BCAST, 0x0806) + 28;
	vnet(h, 1, 0, 0, 26, 0);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 0, 0, 0, 26, 0); /* no request: csum_start means nothing */
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 2, 0, 0, 0, 0); /* DATA_VALID, as tun_put_user sets it */
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 4, 0, 0, 0, 0); /* a flag the kernel does not define for us */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);

	n = l4frame(f, 6, 0, 0, 0);
	vnet(h, 1, 0, 0, 34, 16);
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 0, 0, 34, 6); /* the UDP field's place in a TCP header */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 0, 0, 30, 16); /* inside the IP header */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 0, 0, 6, 0); /* the source MAC */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 1, 1448, 34, 16); /* TSO over IPv4 */
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 0x81, 1448, 34, 16); /* with ECN */
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 1, 0, 34, 16); /* gso_size 0 */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 4, 1448, 34, 16); /* TCPV6 on IPv4 */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 3, 1448, 34, 16); /* UFO */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 0, 1, 1448, 34, 16); /* segmentation without the checksum request */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 0x80, 0, 34, 16); /* ECN without segmentation */
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	n = l4frame(f, 6, 0, 0, 0x2000); /* a fragment */
	vnet(h, 1, 0, 0, 34, 16);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	n = l4frame(f, 6, 0, 0, 0);
	CHECK(txguard_vnet(h, f, 34 + 17) == FRAME_DROP_BAD_VNET_HDR); /* the TCP header cut short */

	n = l4frame(f, 17, 0, 0, 0);
	vnet(h, 1, 0, 0, 34, 6);
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 0, 0, 34, 16);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	vnet(h, 1, 5, 1472, 34, 6); /* USO */
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 0x85, 1472, 34, 6);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);

	n = l4frame(f, 6, 1, 0, 0);
	vnet(h, 1, 4, 1428, 54, 16); /* TSO over IPv6 */
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 1, 1428, 54, 16);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
	n = l4frame(f, 17, 1, 0, 0);
	vnet(h, 1, 5, 1452, 54, 6);
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);

	n = l4frame(f, 6, 0, 1, 0); /* behind a tag: csum_start counts it */
	vnet(h, 1, 1, 1448, 38, 16);
	CHECK(txguard_vnet(h, f, n) == FRAME_PASS);
	vnet(h, 1, 1, 1448, 34, 16);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);

	n = l4frame(f, 1, 0, 0, 0); /* ICMP: no checksum to offload */
	vnet(h, 1, 0, 0, 34, 2);
	CHECK(txguard_vnet(h, f, n) == FRAME_DROP_BAD_VNET_HDR);
}

static void test_names(void)
{
	CHECK(strcmp(frame_verdict_name(FRAME_DROP_BAD_VNET_HDR), "bad_vnet_hdr") == 0);
	CHECK(strcmp(frame_verdict_name(FRAME_DROP_DHCP_GUARD), "dhcp_guard") == 0);
}

int main(void)
{
	test_nd();
	test_dhcp();
	test_rarp();
	test_link_local();
	test_access_port();
	test_vnet();
	test_names();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
