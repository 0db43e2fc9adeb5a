/*
 * frame_test.c - unit tests for the pure frame classifier (native/frame.c).
 * Built and run by test/frame.native.test.ts; prints "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "../../native/coalesce.h"
#include "../../native/frame.h"
#include "../../native/vnictab.h"
#include "check.h"

static const uint8_t VMAC[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x03 };
static const uint8_t PEER[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t OTHER[6] = { 0x02, 0x00, 0x00, 0x00, 0x09, 0x09 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST6[6] = { 0x33, 0x33, 0xff, 0x00, 0x02, 0x03 };

/* A 60-byte frame dst, src, EtherType 0x0800. */
static void mk(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	memset(f, 0xab, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
}

/* A table holding one vNIC: VMAC, access port of vid (0: none). */
static const struct vnictab *one(unsigned vid)
{
	static struct vnictab t;

	vnictab_init(&t);
	vnictab_add(&t, VMAC, vid);
	return &t;
}

/* vnictab_route() for a frame from the wire (no VLAN metadata) with the given pkttype. */
static enum frame_verdict route(const struct vnictab *t, const uint8_t *f, size_t len, int pkttype, int *port)
{
	struct frame_rx_meta m = { .pkttype = pkttype };
	unsigned vid = 0;

	return vnictab_route(t, f, len, &m, &vid, port);
}

/* The receive pipeline as relay/rx.c runs it: route, then finish. */
static enum frame_verdict rx_prepare(uint8_t *buf, size_t n, size_t vh, const struct vnictab *t, const struct frame_rx_meta *m,
				     uint8_t **start, size_t *len)
{
	unsigned vid = 0;
	int port;
	enum frame_verdict v = n < vh ? FRAME_DROP_MALFORMED : vnictab_route(t, buf + vh, n - vh, m, &vid, &port);

	return v == FRAME_PASS ? frame_rx_finish(buf, n, vh, m, vid, start, len) : v;
}

static void test_rx(void)
{
	uint8_t f[60];
	int port = 7;

	mk(f, VMAC, PEER);
	CHECK(route(one(0), f, 60, FRAME_PKT_OTHERHOST, &port) == FRAME_PASS && port == 0);
	mk(f, BCAST, PEER);
	CHECK(route(one(0), f, 60, FRAME_PKT_BROADCAST, &port) == FRAME_PASS && port == VNICTAB_GROUP);
	mk(f, MCAST6, PEER);
	CHECK(route(one(0), f, 60, FRAME_PKT_MULTICAST, &port) == FRAME_PASS && port == VNICTAB_GROUP);
	/* other stations' unicast, whatever pkttype the parent gave it */
	mk(f, OTHER, PEER);
	CHECK(route(one(0), f, 60, FRAME_PKT_OTHERHOST, &port) == FRAME_DROP_NOT_FOR_US && port == VNICTAB_NONE);
	CHECK(route(one(0), f, 60, FRAME_PKT_HOST, &port) == FRAME_DROP_NOT_FOR_US);
	CHECK(route(one(0), f, 60, FRAME_PKT_OUTGOING, &port) == FRAME_DROP_NOT_FOR_US);
	/* our own frames: echo when outgoing, conflict when from the wire; even broadcast (DAD); charged to the vNIC */
	mk(f, BCAST, VMAC);
	CHECK(route(one(0), f, 60, FRAME_PKT_OUTGOING, &port) == FRAME_DROP_OWN_ECHO && port == 0);
	mk(f, MCAST6, VMAC);
	CHECK(route(one(0), f, 60, FRAME_PKT_MULTICAST, &port) == FRAME_DROP_MAC_CONFLICT && port == 0);
	/* the parent's own host stack talking to the vNIC is delivered, like on a real LAN */
	mk(f, VMAC, PEER);
	CHECK(route(one(0), f, 60, FRAME_PKT_OUTGOING, &port) == FRAME_PASS && port == 0);
	/* runts */
	CHECK(route(one(0), f, 13, FRAME_PKT_HOST, &port) == FRAME_DROP_RUNT && port == VNICTAB_NONE);
	CHECK(route(one(0), f, 0, FRAME_PKT_HOST, &port) == FRAME_DROP_RUNT);
	CHECK(route(one(0), f, 14, FRAME_PKT_HOST, &port) == FRAME_PASS);
}

/* Several vNICs: O(1) lookups that stay right when home slots collide; VLANs keep them apart. */
static void test_vnictab(void)
{
	static struct vnictab t;
	uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 }, f[60];
	struct frame_rx_meta m = { .pkttype = FRAME_PKT_OTHERHOST };
	unsigned vid = 99;
	int i, port, found = 0;

	vnictab_init(&t);
	for (i = 0; i < VNICTAB_MAX; i++) {
		mac[4] = (uint8_t)(i >> 3), mac[5] = (uint8_t)(i * 8); /* low bits alike: a hash must still spread them */
		CHECK(vnictab_add(&t, mac, i < 60 ? 0 : 100) == i);
	}
	CHECK(vnictab_add(&t, VMAC, 0) == -2); /* full */
	for (i = 0; i < VNICTAB_MAX; i++) {
		mac[4] = (uint8_t)(i >> 3), mac[5] = (uint8_t)(i * 8);
		found += vnictab_find(&t, i < 60 ? 0 : 100, mac) == i;
	}
	CHECK(found == VNICTAB_MAX);
	CHECK(vnictab_find(&t, 100, t.key[0].mac) == -1); /* vNIC 0 is untagged */
	CHECK(vnictab_find(&t, 0, VMAC) == -1);
	CHECK(vnictab_common_vid(&t) == 0 && vnictab_common_vid(one(100)) == 100 && vnictab_common_vid(one(0)) == 0);
	CHECK(vnictab_has_vid(&t, 0) && vnictab_has_vid(&t, 100) && !vnictab_has_vid(&t, 200) && !vnictab_has_vid(&t, 5000));
	/* a unicast frame reaches its vNIC; one from another vNIC of the same VLAN is theirs, not an echo */
	mk(f, t.key[61].mac, t.key[3].mac);
	m.vlan_valid = 1, m.vlan_tci = 0x2064; /* PCP 1, VID 100 */
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_PASS && port == 61 && vid == 100);
	m.vlan_valid = 0;
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_DROP_MAC_CONFLICT && port == 3); /* untagged: vNIC 3's MAC from the wire */
	mk(f, t.key[61].mac, PEER);
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_DROP_NOT_FOR_US); /* untagged: vNIC 61 is on VLAN 100 */
	mk(f, t.key[2].mac, t.key[3].mac);
	m.pkttype = FRAME_PKT_OUTGOING;
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_DROP_OWN_ECHO && port == 3);
	/* a VLAN no vNIC is an access port of goes to the untagged vNICs (the tag put back) */
	m.pkttype = FRAME_PKT_OTHERHOST, m.vlan_valid = 1, m.vlan_tci = 200;
	mk(f, t.key[2].mac, PEER);
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_PASS && port == 2 && vid == 0);
	mk(f, BCAST, PEER);
	m.vlan_tci = 100;
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_PASS && port == VNICTAB_GROUP && vid == 100);
	/* the same MAC in two VLANs is two vNICs; twice in one is refused */
	vnictab_init(&t);
	CHECK(vnictab_add(&t, VMAC, 100) == 0 && vnictab_add(&t, VMAC, 200) == 1 && vnictab_add(&t, VMAC, 100) == -1);
	CHECK(vnictab_add(&t, VMAC, 4095) == -2);
	/* only access ports: an untagged frame has no vNIC */
	m.vlan_valid = 0;
	mk(f, VMAC, PEER);
	CHECK(vnictab_route(&t, f, 60, &m, &vid, &port) == FRAME_DROP_WRONG_VLAN && port == VNICTAB_NONE);
}

#define AS FRAME_TX_ANTISPOOF

static void test_tx(void)
{
	uint8_t f[60];

	mk(f, PEER, VMAC);
	f[12] = 0x88, f[13] = 0xb5; /* not IP: the 0xab fill is no IPv4 header (txguard_test.c has those) */
	CHECK(frame_classify_tx(f, 60, VMAC, AS) == FRAME_PASS);
	mk(f, BCAST, VMAC);
	f[12] = 0x88, f[13] = 0xb5;
	CHECK(frame_classify_tx(f, 60, VMAC, AS) == FRAME_PASS);
	mk(f, PEER, OTHER);
	CHECK(frame_classify_tx(f, 60, VMAC, AS) == FRAME_DROP_SPOOFED);
	/* one bit off is still spoofed */
	mk(f, PEER, VMAC);
	f[11] ^= 0x01;
	CHECK(frame_classify_tx(f, 60, VMAC, AS) == FRAME_DROP_SPOOFED);
	CHECK(frame_classify_tx(f, 5, VMAC, AS) == FRAME_DROP_RUNT);
	/* anti-spoofing off (a vNIC that is a bridge port): any source passes, runts still do not */
	mk(f, PEER, OTHER);
	CHECK(frame_classify_tx(f, 60, VMAC, 0) == FRAME_PASS);
	CHECK(frame_classify_tx(f, 13, VMAC, 0) == FRAME_DROP_RUNT);
}

/* An ARP request from src with sender hardware address sha, after `tags` 802.1Q tags. */
static size_t mk_arp(uint8_t *f, const uint8_t *src, const uint8_t *sha, int tags)
{
	size_t off = 12;
	int i;

	memset(f, 0, 64);
	memcpy(f, BCAST, 6);
	memcpy(f + 6, src, 6);
	for (i = 0; i < tags; i++) {
		f[off] = 0x81, f[off + 1] = 0x00, f[off + 2] = 0x00, f[off + 3] = 0x64;
		off += 4;
	}
	f[off] = 0x08, f[off + 1] = 0x06;
	off += 2;
	f[off + 1] = 1;                  /* htype Ethernet */
	f[off + 2] = 0x08;               /* ptype IPv4 */
	f[off + 4] = 6, f[off + 5] = 4;  /* hlen, plen */
	f[off + 7] = 1;                  /* request */
	memcpy(f + off + 8, sha, 6);
	return off + 28;
}

static void test_tx_arp(void)
{
	uint8_t f[64];
	size_t n;

	n = mk_arp(f, VMAC, VMAC, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_PASS);
	/* right Ethernet source, foreign sender hardware address: ARP cache poisoning */
	n = mk_arp(f, VMAC, OTHER, 0);
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_DROP_SPOOFED_ARP);
	CHECK(frame_classify_tx(f, n, VMAC, 0) == FRAME_PASS);
	/* the same behind one and two VLAN tags */
	n = mk_arp(f, VMAC, OTHER, 1);
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_DROP_SPOOFED_ARP);
	n = mk_arp(f, VMAC, OTHER, 2);
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_DROP_SPOOFED_ARP);
	n = mk_arp(f, VMAC, VMAC, 2);
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_PASS);
	/* cut inside the sender hardware address, or inside a tag: malformed, never read past len */
	n = mk_arp(f, VMAC, VMAC, 0);
	CHECK(frame_classify_tx(f, 14 + 13, VMAC, AS) == FRAME_DROP_MALFORMED);
	CHECK(frame_classify_tx(f, 14 + 14, VMAC, AS) == FRAME_PASS);
	n = mk_arp(f, VMAC, VMAC, 1);
	CHECK(frame_classify_tx(f, 15, VMAC, AS) == FRAME_DROP_MALFORMED);
	/* not Ethernet hardware, or a 4-byte hardware address: not an ARP this relay can vouch for */
	n = mk_arp(f, VMAC, VMAC, 0);
	f[14 + 1] = 6;
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_DROP_MALFORMED);
	n = mk_arp(f, VMAC, VMAC, 0);
	f[14 + 4] = 4;
	CHECK(frame_classify_tx(f, n, VMAC, AS) == FRAME_DROP_MALFORMED);
}

static void test_rx_prepare(void)
{
	uint8_t buf[4 + 10 + 60];
	uint8_t *base = buf + 4, *start = NULL;
	struct frame_rx_meta m = { .pkttype = FRAME_PKT_HOST, .vlan_valid = 1, .vlan_tpid = 0x8100, .vlan_tci = 100 };
	uint16_t v;
	size_t len = 0;

	/* virtio_net_hdr: NEEDS_CSUM, hdr_len 54, csum_start 34; then a frame for us */
	memset(base, 0, 10);
	base[0] = 1;
	v = 54, memcpy(base + 2, &v, 2);
	v = 34, memcpy(base + 6, &v, 2);
	mk(base + 10, VMAC, PEER);
	CHECK(rx_prepare(base, 70, 10, one(0), &m, &start, &len) == FRAME_PASS);
	CHECK(start == buf && len == 74);
	memcpy(&v, start + 2, 2);
	CHECK(v == 58);
	memcpy(&v, start + 6, 2);
	CHECK(v == 38);
	CHECK(start[10 + 12] == 0x81 && start[10 + 13] == 0x00 && start[10 + 15] == 100);
	CHECK(memcmp(start + 10, VMAC, 6) == 0);
	/* no NEEDS_CSUM, hdr_len 0: the offsets stay as they are */
	memset(base, 0, 10);
	mk(base + 10, VMAC, PEER);
	CHECK(rx_prepare(base, 70, 10, one(0), &m, &start, &len) == FRAME_PASS);
	memcpy(&v, start + 2, 2);
	CHECK(v == 0);
	memcpy(&v, start + 6, 2);
	CHECK(v == 0);
	/* shorter than the virtio_net_hdr; not for us; a runt behind the header */
	CHECK(rx_prepare(base, 9, 10, one(0), &m, &start, &len) == FRAME_DROP_MALFORMED);
	mk(base + 10, OTHER, PEER);
	CHECK(rx_prepare(base, 70, 10, one(0), &m, &start, &len) == FRAME_DROP_NOT_FOR_US);
	CHECK(rx_prepare(base, 20, 10, one(0), &m, &start, &len) == FRAME_DROP_RUNT);
	/* fallback mode (no header): a partial checksum on a frame whose IPv4 header is cut short is malformed */
	m.vlan_valid = 0;
	m.csum_not_ready = 1;
	mk(base, VMAC, PEER);
	CHECK(rx_prepare(base, 20, 0, one(0), &m, &start, &len) == FRAME_DROP_MALFORMED);
	CHECK(rx_prepare(base, 14, 0, one(0), &m, &start, &len) == FRAME_DROP_MALFORMED);
	/* --vlan 100: only frames untagged from VLAN 100 pass (any priority), and they stay untagged */
	m.csum_not_ready = 0;
	m.vlan_valid = 1;
	m.vlan_tci = 0xa064; /* PCP 5, VID 100 */
	memset(base, 0, 10);
	mk(base + 10, VMAC, PEER);
	CHECK(rx_prepare(base, 70, 10, one(100), &m, &start, &len) == FRAME_PASS);
	CHECK(start == base && len == 70 && base[10 + 12] == 0x08);
	m.vlan_tci = 200;
	CHECK(rx_prepare(base, 70, 10, one(100), &m, &start, &len) == FRAME_DROP_WRONG_VLAN);
	m.vlan_valid = 0;
	m.vlan_tci = 100;
	CHECK(rx_prepare(base, 70, 10, one(100), &m, &start, &len) == FRAME_DROP_WRONG_VLAN);
	/* towards the wire: frame_vlan_tag() tags it and moves the virtio_net_hdr offsets */
	memset(base, 0, 10);
	base[0] = 1;
	v = 34, memcpy(base + 6, &v, 2);
	mk(base + 10, PEER, VMAC);
	start = frame_vlan_tag(base, 10, 0x8100, 100);
	CHECK(start == buf && start[10 + 12] == 0x81 && start[10 + 15] == 100 && start[10 + 16] == 0x08);
	memcpy(&v, start + 6, 2);
	CHECK(v == 38);
}

static void test_vlan_insert(void)
{
	uint8_t buf[4 + 10 + 60];
	uint8_t *start = buf + 4;
	uint8_t *out;
	int i;

	/* a 10-byte preamble (virtio_net_hdr) then the frame */
	for (i = 0; i < 10; i++)
		start[i] = (uint8_t)(0xa0 + i);
	mk(start + 10, VMAC, PEER);
	out = frame_vlan_insert(start, 10, 0x8100, 0x2064);
	CHECK(out == buf);
	for (i = 0; i < 10; i++)
		CHECK(out[i] == 0xa0 + i);
	CHECK(memcmp(out + 10, VMAC, 6) == 0);
	CHECK(memcmp(out + 16, PEER, 6) == 0);
	CHECK(out[22] == 0x81 && out[23] == 0x00 && out[24] == 0x20 && out[25] == 0x64);
	CHECK(out[26] == 0x08 && out[27] == 0x00); /* original EtherType follows the tag */

	/* no preamble, 802.1ad */
	mk(buf + 4, BCAST, PEER);
	out = frame_vlan_insert(buf + 4, 0, 0x88a8, 0x0005);
	CHECK(memcmp(out, BCAST, 6) == 0 && memcmp(out + 6, PEER, 6) == 0);
	CHECK(out[12] == 0x88 && out[13] == 0xa8 && out[14] == 0x00 && out[15] == 0x05);
}

/* Sum over pseudo-header + L4 segment (checksum included) folds to 0xffff when the checksum is valid. */
static int l4_valid(const uint8_t *ip, int v6, int proto, size_t l4off, size_t l4len)
{
	uint64_t sum = 0;
	size_t i;
	const uint8_t *a = v6 ? ip + 8 : ip + 12;
	size_t alen = v6 ? 32 : 8;

	for (i = 0; i < alen; i += 2)
		sum += (uint64_t)(a[i] << 8 | a[i + 1]);
	sum += (uint64_t)proto + l4len;
	for (i = 0; i < l4len; i += 2)
		sum += (uint64_t)(ip[l4off + i] << 8 | (i + 1 < l4len ? ip[l4off + i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void mk_ipv4_udp(uint8_t *f, size_t payload)
{
	uint8_t *ip = f + 14;

	mk(f, VMAC, PEER);
	memset(ip, 0, 28 + payload);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((28 + payload) >> 8);
	ip[3] = (uint8_t)(28 + payload);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x6f", 8); /* 192.0.2.1 -> 192.0.2.111 */
	ip[20] = 0x00, ip[21] = 0x43, ip[22] = 0x00, ip[23] = 0x44; /* 67 -> 68 */
	ip[24] = (uint8_t)((8 + payload) >> 8);
	ip[25] = (uint8_t)(8 + payload);
	ip[26] = 0x12, ip[27] = 0x34; /* a partial (pseudo-header) sum, as the kernel leaves it */
	for (size_t i = 0; i < payload; i++)
		ip[28 + i] = (uint8_t)(i * 7 + 3);
}

static void test_csum(void)
{
	uint8_t f[256];
	uint8_t *ip = f + 14;

	/* IPv4/UDP, odd payload length */
	mk_ipv4_udp(f, 33);
	CHECK(frame_csum_complete(f, 14 + 28 + 33) == 1);
	CHECK(l4_valid(ip, 0, 17, 20, 8 + 33));
	/* known vector: payload 03 0a 11 18; 0x66bc computed independently (Python, RFC 1071) */
	mk_ipv4_udp(f, 4);
	CHECK(frame_csum_complete(f, 14 + 28 + 4) == 1);
	CHECK(ip[26] == 0x66 && ip[27] == 0xbc);
	CHECK(l4_valid(ip, 0, 17, 20, 12));
	/* a longer frame than the IP datagram (Ethernet padding) is fine */
	mk_ipv4_udp(f, 4);
	CHECK(frame_csum_complete(f, 60) == 1 && l4_valid(ip, 0, 17, 20, 12));
	/* IPv4 total length beyond the frame: malformed */
	mk_ipv4_udp(f, 33);
	CHECK(frame_csum_complete(f, 14 + 28 + 10) == -1);
	/* IPv4 fragment: left alone */
	mk_ipv4_udp(f, 4);
	ip[6] = 0x20; /* MF */
	CHECK(frame_csum_complete(f, 60) == 0 && ip[26] == 0x12);
	/* TCP over IPv4 behind an 802.1Q tag */
	{
		uint8_t g[256];
		uint8_t *gip = g + 18;

		memset(g, 0, sizeof(g));
		memcpy(g, VMAC, 6);
		memcpy(g + 6, PEER, 6);
		g[12] = 0x81, g[13] = 0x00, g[14] = 0x00, g[15] = 0x64, g[16] = 0x08, g[17] = 0x00;
		gip[0] = 0x45, gip[3] = 40 + 5, gip[9] = 6;
		memcpy(gip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x6f", 8);
		gip[32] = 0x50; /* data offset 5 */
		memcpy(gip + 40, "hello", 5);
		CHECK(frame_csum_complete(g, 18 + 45) == 1);
		CHECK(l4_valid(gip, 0, 6, 20, 25));
		CHECK(frame_csum_complete(g, 17) == -1); /* truncated tag */
	}
	/* IPv6/UDP */
	{
		uint8_t h[256];
		uint8_t *hip = h + 14;

		mk(h, VMAC, PEER);
		h[12] = 0x86, h[13] = 0xdd;
		memset(hip, 0, 40 + 8 + 10);
		hip[0] = 0x60, hip[5] = 18, hip[6] = 17, hip[7] = 64;
		hip[8] = 0x20, hip[9] = 0x01, hip[10] = 0x0d, hip[11] = 0xb8, hip[23] = 1;  /* 2001:db8::1 */
		hip[24] = 0x20, hip[25] = 0x01, hip[26] = 0x0d, hip[27] = 0xb8, hip[39] = 0x11; /* 2001:db8::11 */
		hip[45] = 18;
		memcpy(hip + 48, "0123456789", 10);
		CHECK(frame_csum_complete(h, 14 + 58) == 1);
		CHECK(l4_valid(hip, 1, 17, 40, 18));
		CHECK(frame_csum_complete(h, 14 + 50) == -1); /* payload length lies */
		hip[6] = 0; /* hop-by-hop extension header first: not completed */
		CHECK(frame_csum_complete(h, 14 + 58) == 0);
	}
	/* not IP, and runts */
	mk(f, VMAC, PEER);
	f[12] = 0x08, f[13] = 0x06;
	CHECK(frame_csum_complete(f, 60) == 0);
	CHECK(frame_csum_complete(f, 10) == -1);
}

static void test_announce(void)
{
	static const uint8_t ip4[4] = { 192, 0, 2, 50 };
	static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x50 };
	uint8_t f[128];

	memset(f, 0xee, sizeof(f));
	CHECK(frame_build_garp(f, VMAC, ip4) == 60);
	CHECK(memcmp(f, BCAST, 6) == 0 && memcmp(f + 6, VMAC, 6) == 0 && f[12] == 0x08 && f[13] == 0x06);
	CHECK(memcmp(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8) == 0); /* Ethernet/IPv4, request */
	CHECK(memcmp(f + 22, VMAC, 6) == 0 && memcmp(f + 28, ip4, 4) == 0);        /* sender */
	CHECK(memcmp(f + 32, "\0\0\0\0\0\0", 6) == 0 && memcmp(f + 38, ip4, 4) == 0); /* target */
	CHECK(f[42] == 0 && f[59] == 0 && f[60] == 0xee);                           /* zero padding, no overrun */
	/* our own anti-spoofing lets it out */
	CHECK(frame_classify_tx(f, 60, VMAC, FRAME_TX_ANTISPOOF) == FRAME_PASS);

	memset(f, 0xee, sizeof(f));
	CHECK(frame_build_unsol_na(f, VMAC, ip6) == 86);
	CHECK(memcmp(f, "\x33\x33\x00\x00\x00\x01", 6) == 0 && f[12] == 0x86 && f[13] == 0xdd);
	CHECK(f[14] == 0x60 && f[19] == 32 && f[20] == 58 && f[21] == 255);
	CHECK(memcmp(f + 22, ip6, 16) == 0 && f[38] == 0xff && f[39] == 0x02 && f[53] == 1);
	CHECK(f[54] == 136 && f[55] == 0 && f[58] == 0x20);         /* NA, Override only */
	CHECK(memcmp(f + 62, ip6, 16) == 0);                         /* target */
	CHECK(f[78] == 2 && f[79] == 1 && memcmp(f + 80, VMAC, 6) == 0 && f[86] == 0xee);
	CHECK(l4_valid(f + 14, 1, 58, 40, 32));
}

static void test_coalesce(void)
{
	unsigned p = 0, i;

	CHECK(coalesce_next_pause(0, 8, 200, 224) == COALESCE_START_US);  /* a stream starts short */
	for (i = 0; i < 10; i++)
		p = coalesce_next_pause(p, 40, 200, 224);
	CHECK(p == 200);                                                   /* doubles up to the longest */
	CHECK(coalesce_next_pause(200, 113, 200, 224) == 100);             /* more than half the ring: halve */
	CHECK(coalesce_next_pause(200, 112, 200, 224) == 200);
	CHECK(coalesce_next_pause(25, 500, 200, 224) == COALESCE_START_US); /* never below the start */
	CHECK(coalesce_next_pause(0, 8, 10, 224) == 10);                   /* never above the longest */
	CHECK(coalesce_next_pause(100, 100000, 1000, 0) == 200);           /* no slot-counted ring: no limit */
}

static void test_names(void)
{
	CHECK(strcmp(frame_verdict_name(FRAME_DROP_NOT_FOR_US), "not_for_us") == 0);
	CHECK(strcmp(frame_verdict_name(FRAME_DROP_IO_ERROR), "io_error") == 0);
	CHECK(strcmp(frame_verdict_name(FRAME_VERDICT_COUNT), "unknown") == 0);
	for (int v = 0; v < FRAME_VERDICT_COUNT; v++)
		CHECK(frame_verdict_name(v) != NULL && strcmp(frame_verdict_name(v), "unknown") != 0);
}

int main(void)
{
	test_rx();
	test_vnictab();
	test_tx();
	test_tx_arp();
	test_rx_prepare();
	test_vlan_insert();
	test_csum();
	test_announce();
	test_coalesce();
	test_names();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
