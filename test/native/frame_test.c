/*
 * frame_test.c - unit tests for the pure frame classifier (native/frame.c).
 * Built and run by test/frame.native.test.ts; prints "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "../../native/frame.h"

static int passed, failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (cond) {                                                           \
			passed++;                                                     \
		} else {                                                              \
			failed++;                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                     \
	} while (0)

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

static void test_rx(void)
{
	uint8_t f[60];

	mk(f, VMAC, PEER);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_OTHERHOST) == FRAME_PASS);
	mk(f, BCAST, PEER);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_BROADCAST) == FRAME_PASS);
	mk(f, MCAST6, PEER);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_MULTICAST) == FRAME_PASS);
	/* other stations' unicast, whatever pkttype the parent gave it */
	mk(f, OTHER, PEER);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_OTHERHOST) == FRAME_DROP_NOT_FOR_US);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_HOST) == FRAME_DROP_NOT_FOR_US);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_OUTGOING) == FRAME_DROP_NOT_FOR_US);
	/* our own frames: echo when outgoing, conflict when from the wire; even broadcast (DAD) */
	mk(f, BCAST, VMAC);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_OUTGOING) == FRAME_DROP_OWN_ECHO);
	mk(f, MCAST6, VMAC);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_MULTICAST) == FRAME_DROP_MAC_CONFLICT);
	/* the parent's own host stack talking to the vNIC is delivered, like on a real LAN */
	mk(f, VMAC, PEER);
	CHECK(frame_classify_rx(f, 60, VMAC, FRAME_PKT_OUTGOING) == FRAME_PASS);
	/* runts */
	CHECK(frame_classify_rx(f, 13, VMAC, FRAME_PKT_HOST) == FRAME_DROP_RUNT);
	CHECK(frame_classify_rx(f, 0, VMAC, FRAME_PKT_HOST) == FRAME_DROP_RUNT);
	CHECK(frame_classify_rx(f, 14, VMAC, FRAME_PKT_HOST) == FRAME_PASS);
}

static void test_tx(void)
{
	uint8_t f[60];

	mk(f, PEER, VMAC);
	CHECK(frame_classify_tx(f, 60, VMAC) == FRAME_PASS);
	mk(f, BCAST, VMAC);
	CHECK(frame_classify_tx(f, 60, VMAC) == FRAME_PASS);
	mk(f, PEER, OTHER);
	CHECK(frame_classify_tx(f, 60, VMAC) == FRAME_DROP_SPOOFED);
	/* one bit off is still spoofed */
	mk(f, PEER, VMAC);
	f[11] ^= 0x01;
	CHECK(frame_classify_tx(f, 60, VMAC) == FRAME_DROP_SPOOFED);
	CHECK(frame_classify_tx(f, 5, VMAC) == FRAME_DROP_RUNT);
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
	test_tx();
	test_vlan_insert();
	test_names();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
