/*
 * filter.c - the packet socket's classic BPF program (see filter.h).
 */
#include "filter.h"

#include <linux/if_packet.h>

/* Offsets in the Ethernet header (a SOCK_RAW packet socket's filter sees it at 0). */
#define OFF_DST 0
#define OFF_SRC 6

int filter_build(struct sock_filter prog[FILTER_MAX], const uint8_t m[6], unsigned vid)
{
	/* With a VLAN ID: this prefix, then the program below, whose last instruction drops. */
	const struct sock_filter vlan[FILTER_MAX - FILTER_LEN] = {
		/* v0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
		/* v1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, FILTER_MAX - 3, 0),     /* untagged: drop */
		/* v2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG),
		/* v3 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x0fff),
		/* v4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, vid, 0, FILTER_MAX - 6),  /* another VLAN: drop */
	};
	const uint32_t hi = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
	const uint32_t lo = (uint32_t)m[4] << 8 | m[5];
	/* Jump offsets count instructions after the jump: 0 = next. */
	const struct sock_filter p[FILTER_LEN] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, OFF_DST),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x01, 4, 0),             /* I/G bit: to 6 */
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_DST),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 9),                /* else drop */
		/* 4 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, OFF_DST + 4),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 7),                /* else drop */
		/* 6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 4),   /* not outgoing: accept */
		/* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_SRC),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 2),                /* another source: accept */
		/* 10 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, OFF_SRC + 4),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 1, 0),               /* our own echo: drop */
		/* 12 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),                      /* accept, whole frame */
		/* 13 */ BPF_STMT(BPF_RET | BPF_K, 0),                                /* drop */
	};
	int i, n = 0;

	if (vid)
		for (i = 0; i < FILTER_MAX - FILTER_LEN; i++)
			prog[n++] = vlan[i];
	for (i = 0; i < FILTER_LEN; i++)
		prog[n++] = p[i];
	return n;
}
