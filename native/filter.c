/*
 * filter.c - the packet socket's classic BPF program (see filter.h).
 */
#include "filter.h"

#include <linux/if_packet.h>

/* Offsets in the Ethernet header (a SOCK_RAW packet socket's filter sees it at 0). */
#define OFF_DST 0
#define OFF_SRC 6

static uint32_t mac_hi(const uint8_t m[6])
{
	return (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
}

static uint32_t mac_lo(const uint8_t m[6])
{
	return (uint32_t)m[4] << 8 | m[5];
}

/*
 * At prog[at]: four instructions comparing the MAC at offset off with m;
 * equal jumps to prog[hit], else falls through to prog[at + 4].
 * Jump offsets count instructions after the jump: 0 = next.
 */
static void compare_mac(struct sock_filter *prog, int at, unsigned off, const uint8_t m[6], int hit)
{
	prog[at] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
	prog[at + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mac_hi(m), 0, 2);
	prog[at + 2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, off + 4);
	prog[at + 3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mac_lo(m), (uint8_t)(hit - (at + 4)), 0);
}

/* The program for the n <= FILTER_CHAIN_MAX MACs of t at prog; returns FILTER_CHAIN_LEN(n). */
static int chain(struct sock_filter *prog, const struct vnictab *t)
{
	const int n = t->count;
	const int pt = 3 + 4 * n;      /* packet-type test */
	const int accept = pt + 2 + 4 * n;
	const int drop = accept + 1;
	int i, k;

	prog[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, OFF_DST);
	prog[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x01, (uint8_t)(pt - 2), 0); /* I/G bit */
	for (i = vnictab_next(t, -1), k = 0; i >= 0; i = vnictab_next(t, i), k++)
		compare_mac(prog, 2 + 4 * k, OFF_DST, t->key[i].mac, pt);
	prog[pt - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0); /* another station's unicast */
	prog[pt] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
	prog[pt + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, (uint8_t)(accept - (pt + 2)));
	for (i = vnictab_next(t, -1), k = 0; i >= 0; i = vnictab_next(t, i), k++) /* outgoing: our own echo when the source is a vNIC's */
		compare_mac(prog, pt + 2 + 4 * k, OFF_SRC, t->key[i].mac, drop);
	prog[accept] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu); /* whole frame */
	prog[drop] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	return drop + 1;
}

/* The program for more than FILTER_CHAIN_MAX MACs: drop the parent's own unicast only. */
static int by_pkttype(struct sock_filter *prog)
{
	prog[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
	prog[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 1, 0);
	prog[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
	prog[3] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	return 4;
}

int filter_build(struct sock_filter prog[FILTER_MAX], const struct vnictab *t, uint32_t mark)
{
	const unsigned vid = vnictab_common_vid(t);
	const int vlan = mark ? FILTER_MARK_LEN : 0; /* where the VLAN prefix starts */
	const int pre = vlan + (vid ? FILTER_VLAN_LEN : 0);
	int len = t->count <= FILTER_CHAIN_MAX ? chain(prog + pre, t) : by_pkttype(prog + pre);
	const int drop = pre + len - 1; /* both programs end with a drop */

	if (mark) { /* a copy of a vethd's own frame the host path sent to the host's stack (hostpath.h): never back to a vNIC */
		prog[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK);
		prog[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mark, 0, 2);
		prog[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
		prog[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, (uint8_t)(drop - 4));
	}
	if (vid) {
		prog[vlan] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
		prog[vlan + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, (uint8_t)(drop - (vlan + 2)), 0); /* untagged */
		prog[vlan + 2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG);
		prog[vlan + 3] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x0fff);
		prog[vlan + 4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, vid, 0, (uint8_t)(drop - (vlan + 5))); /* another VLAN */
	}
	return pre + len;
}
