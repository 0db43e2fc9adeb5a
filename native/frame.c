/*
 * frame.c - the pure frame classifier (see frame.h for the contracts).
 */
#include "frame.h"

#include <string.h>

enum frame_verdict frame_classify_rx(const uint8_t *frame, size_t len, const uint8_t vmac[FRAME_ETH_ALEN],
				     int pkttype)
{
	const uint8_t *dst = frame;
	const uint8_t *src = frame + FRAME_ETH_ALEN;

	if (len < FRAME_ETH_HLEN)
		return FRAME_DROP_RUNT;
	/* Source check first: our own frames must never come back, even broadcast ones (IPv6 DAD). */
	if (frame_mac_equal(src, vmac))
		return pkttype == FRAME_PKT_OUTGOING ? FRAME_DROP_OWN_ECHO : FRAME_DROP_MAC_CONFLICT;
	if (frame_mac_is_group(dst) || frame_mac_equal(dst, vmac))
		return FRAME_PASS;
	return FRAME_DROP_NOT_FOR_US;
}

enum frame_verdict frame_classify_tx(const uint8_t *frame, size_t len, const uint8_t vmac[FRAME_ETH_ALEN])
{
	if (len < FRAME_ETH_HLEN)
		return FRAME_DROP_RUNT;
	if (!frame_mac_equal(frame + FRAME_ETH_ALEN, vmac))
		return FRAME_DROP_SPOOFED;
	return FRAME_PASS;
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

static const char *const verdict_names[FRAME_VERDICT_COUNT] = {
	[FRAME_PASS] = "pass",
	[FRAME_DROP_RUNT] = "runt",
	[FRAME_DROP_NOT_FOR_US] = "not_for_us",
	[FRAME_DROP_OWN_ECHO] = "own_echo",
	[FRAME_DROP_MAC_CONFLICT] = "mac_conflict",
	[FRAME_DROP_SPOOFED] = "spoofed_source",
	[FRAME_DROP_OVERSIZE] = "oversize",
	[FRAME_DROP_MALFORMED] = "malformed",
	[FRAME_DROP_TAP_DOWN] = "tap_down",
	[FRAME_DROP_PARENT_DOWN] = "parent_down",
	[FRAME_DROP_NO_BUFFER] = "no_buffer",
	[FRAME_DROP_IO_ERROR] = "io_error",
};

const char *frame_verdict_name(enum frame_verdict v)
{
	if ((unsigned)v >= FRAME_VERDICT_COUNT)
		return "unknown";
	return verdict_names[v];
}
