/*
 * frame_fuzz.c - libFuzzer target over the pure C frame path: the receive
 * pipeline (routing by the vNIC table, checksum completion, VLAN reinsertion,
 * virtio_net_hdr offsets), the transmit classifier (anti-spoofing, ARP, VLAN tags, link-local
 * groups, access ports, ND and DHCP identities, RA and DHCP guards) and the transmit
 * virtio_net_hdr check (txguard_vnet), and the rtnetlink link-event parser. Built with -fsanitize=fuzzer,address,undefined
 * by test/fuzz.native.test.ts and scripts/fuzz.sh.
 *
 * Input layout: byte 0 picks the mode bits (pkttype, virtio_net_hdr or not,
 * partial checksum, VLAN metadata, anti-spoofing), bytes 1-4 are the VLAN
 * TPID and TCI (on transmit: the low bits of the TPID pick the access port,
 * RA and DHCP guard flags, the TCI is the link-local pass mask), the rest is
 * the received bytes (on transmit, with a virtio_net_hdr: its first 10). Every buffer is allocated at
 * exactly its size, so a read or write past it is an ASan report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../native/frame.h"
#include "../../native/linkmon.h"
#include "../../native/txguard.h"
#include "../../native/vnictab.h"

static const uint8_t VMAC[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x03 };

/* Three vNICs: untagged VMAC, and (mode bit 6) VMAC again plus a neighbour as access ports of VLAN 100. */
static const struct vnictab *table(uint8_t mode)
{
	static struct vnictab t[2];
	static int ready;
	static const uint8_t NEXT[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x04 };

	if (!ready) {
		vnictab_init(&t[0]);
		vnictab_add(&t[0], VMAC, 0);
		vnictab_init(&t[1]);
		vnictab_add(&t[1], VMAC, 100);
		vnictab_add(&t[1], NEXT, 100);
		vnictab_add(&t[1], NEXT, 0);
		ready = 1;
	}
	return &t[(mode & 0x40) != 0];
}

static void fuzz_rx(const uint8_t *data, size_t size, uint8_t mode, uint16_t tpid, uint16_t tci)
{
	struct frame_rx_meta m = {
		.pkttype = mode & 0x7,
		.csum_not_ready = (mode >> 4) & 1,
		.vlan_valid = (mode >> 5) & 1,
		.vlan_tpid = tpid,
		.vlan_tci = tci,
	};
	const struct vnictab *t = table(mode);
	size_t vh = (mode & 0x8) ? FRAME_VNET_HLEN : 0;
	uint8_t *buf = malloc(FRAME_VLAN_HLEN + size + 1);
	uint8_t *start = NULL;
	size_t len = 0;
	unsigned vid = 0;
	int port = 0;
	enum frame_verdict v;

	if (!buf)
		return;
	memcpy(buf + FRAME_VLAN_HLEN, data, size);
	v = size < vh ? FRAME_DROP_MALFORMED : vnictab_route(t, buf + FRAME_VLAN_HLEN + vh, size - vh, &m, &vid, &port);
	if (v == FRAME_PASS && (port >= t->count || port < VNICTAB_GROUP || (port >= 0 && t->key[port].vid != vid)))
		abort(); /* routed to a vNIC that is not there, or not in the frame's VLAN */
	if (v == FRAME_PASS && frame_rx_finish(buf + FRAME_VLAN_HLEN, size, vh, &m, vid, &start, &len) == FRAME_PASS) {
		/* What would be written to the TAP lies inside the buffer: touch every byte. */
		volatile uint8_t sink = 0;
		size_t i;

		if (start < buf || start + len > buf + FRAME_VLAN_HLEN + size)
			abort();
		for (i = 0; i < len; i++)
			sink ^= start[i];
		(void)sink;
	}
	free(buf);
}

static void fuzz_csum(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size + 1);

	if (!buf)
		return;
	memcpy(buf, data, size);
	if (frame_csum_complete(buf, size) == 1 && frame_csum_complete(buf, size) != 1)
		abort(); /* completing twice must succeed twice */
	free(buf);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void fuzz_tx(const uint8_t *data, size_t size, uint8_t mode, uint16_t tpid, uint16_t tci)
{
	const unsigned flags = ((mode & 0x40) ? FRAME_TX_ANTISPOOF : 0) |
			       (tpid & (FRAME_TX_ACCESS | FRAME_TX_RA_GUARD | FRAME_TX_DHCP_GUARD)) | FRAME_TX_LL_PASS(tci);
	uint8_t *buf = malloc(size + 1);
	enum frame_verdict v;

	if (!buf)
		return;
	memcpy(buf, data, size);
	v = frame_classify_tx(buf, size, VMAC, flags);
	if (v >= FRAME_VERDICT_COUNT)
		abort();
	if (v == FRAME_PASS) {
		/* A frame that passes anti-spoofing carries our source MAC. */
		if ((flags & FRAME_TX_ANTISPOOF) && memcmp(buf + 6, VMAC, 6) != 0)
			abort();
		/* An access port's frame carries no tag of its own. */
		const unsigned type = (unsigned)buf[12] << 8 | buf[13];

		if ((flags & FRAME_TX_ACCESS) && (type == 0x8100 || type == 0x88a8 || type == 0x9100))
			abort();
		/* A reserved 802.1 group only when its bit lets it pass. */
		if (buf[0] == 0x01 && buf[1] == 0x80 && buf[2] == 0xc2 && !buf[3] && !buf[4] && buf[5] < 16 && !(tci & (1u << buf[5])))
			abort();
	}
	free(buf);
}

/* txguard_vnet() over the first 10 bytes as the header and the rest as the frame. */
static void fuzz_tx_vnet(const uint8_t *data, size_t size)
{
	uint8_t *hdr, *frame;
	size_t len;

	if (size < FRAME_VNET_HLEN)
		return;
	len = size - FRAME_VNET_HLEN;
	hdr = malloc(FRAME_VNET_HLEN);
	frame = malloc(len + 1);
	if (hdr && frame) {
		memcpy(hdr, data, FRAME_VNET_HLEN);
		memcpy(frame, data + FRAME_VNET_HLEN, len);
		/* A checksum request that passes lands inside the frame, past the Ethernet and IP headers. */
		if (txguard_vnet(hdr, frame, len) == FRAME_PASS && (hdr[0] & 1) &&
		    ((size_t)rd16(hdr + 6) + rd16(hdr + 8) + 2 > len || rd16(hdr + 6) < FRAME_ETH_HLEN + 20))
			abort();
	}
	free(hdr);
	free(frame);
}

static void fuzz_netlink(const uint8_t *data, size_t size)
{
	struct link_event ev[8];
	uint8_t *buf = malloc(size + 1);
	size_t i, n;

	if (!buf)
		return;
	memcpy(buf, data, size); /* malloc: aligned as a netlink buffer is */
	n = linkmon_parse(buf, size, ev, 8);
	for (i = 0; i < n; i++)
		if (strnlen(ev[i].name, sizeof(ev[i].name)) >= sizeof(ev[i].name))
			abort(); /* a name that is not NUL-terminated */
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;
	uint16_t tpid, tci;

	if (size < 5)
		return 0;
	mode = data[0];
	tpid = (uint16_t)(data[1] << 8 | data[2]);
	tci = (uint16_t)(data[3] << 8 | data[4]);
	data += 5;
	size -= 5;
	fuzz_rx(data, size, mode, tpid, tci);
	fuzz_csum(data, size);
	fuzz_tx(data, size, mode, tpid, tci);
	fuzz_tx_vnet(data, size);
	fuzz_netlink(data, size);
	return 0;
}
