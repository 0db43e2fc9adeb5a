/*
 * hostpath.c - the host path's tc program, built by hand (see hostpath.h).
 */
#include "hostpath.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Registers: r0 the loaded bytes (LD_ABS) and the return value, r1-r3 helper arguments, r6 the context LD_ABS needs. */
#define R0 0
#define R1 1
#define R2 2
#define R3 3
#define R6 6

/* Where the labels are: the group branch and the common TCX_NEXT exit (checked by hostpath_test.c against the layout). */
#define AT_GROUP 23
#define AT_NEXT 29

/* Shortest frame the program reads: an Ethernet header. */
#define ETH_HLEN_MIN 14

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;

	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

/* A jump at index `at` to index `to`, as eBPF's offset (from the next instruction). */
static int16_t rel(int at, int to)
{
	return (int16_t)(to - (at + 1));
}

void hostpath_mac_words(const uint8_t mac[6], uint32_t words[2])
{
	words[0] = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
	words[1] = (uint32_t)mac[4] << 8 | mac[5];
}

/* out[at], out[at + 1]: r1 = the map value's address (BPF_PSEUDO_MAP_VALUE, offset 0). */
static void map_value(struct bpf_insn *out, int at, int map_fd)
{
	out[at] = insn(BPF_LD | BPF_DW | BPF_IMM, R1, BPF_PSEUDO_MAP_VALUE, 0, map_fd);
	out[at + 1] = insn(0, 0, 0, 0, 0); /* second half: offset 0 in the value */
}

int hostpath_build(uint32_t mark, int map_fd, struct bpf_insn out[HOSTPATH_INSNS])
{
	const int16_t f_mark = (int16_t)offsetof(struct __sk_buff, mark);
	const int16_t f_len = (int16_t)offsetof(struct __sk_buff, len);
	const int16_t f_ifindex = (int16_t)offsetof(struct __sk_buff, ifindex);

	if (!mark)
		return -EINVAL;
	out[0] = insn(BPF_ALU64 | BPF_MOV | BPF_X, R6, R1, 0, 0);
	/* Not vethd's frame (the host's own, anyone else's): on to the next program. */
	out[1] = insn(BPF_LDX | BPF_MEM | BPF_W, R0, R6, f_mark, 0);
	out[2] = insn(BPF_JMP32 | BPF_JNE | BPF_K, R0, 0, rel(2, AT_NEXT), (int32_t)mark);
	out[3] = insn(BPF_LDX | BPF_MEM | BPF_W, R0, R6, f_len, 0);
	out[4] = insn(BPF_JMP32 | BPF_JLT | BPF_K, R0, 0, rel(4, AT_NEXT), ETH_HLEN_MIN);
	out[5] = insn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0);
	out[6] = insn(BPF_JMP32 | BPF_JSET | BPF_K, R0, 0, rel(6, AT_GROUP), 0x01); /* I/G bit */
	/* Unicast: the parent's own MAC? (LD_ABS clobbers r1-r5: the map value is loaded after each.) */
	out[7] = insn(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0);
	map_value(out, 8, map_fd);
	out[10] = insn(BPF_LDX | BPF_MEM | BPF_W, R2, R1, 0, 0);
	out[11] = insn(BPF_JMP32 | BPF_JNE | BPF_X, R0, R2, rel(11, AT_NEXT), 0);
	out[12] = insn(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 4);
	map_value(out, 13, map_fd);
	out[15] = insn(BPF_LDX | BPF_MEM | BPF_W, R2, R1, 4, 0);
	out[16] = insn(BPF_JMP32 | BPF_JNE | BPF_X, R0, R2, rel(16, AT_NEXT), 0);
	/* To the host's stack, without our mark (its routing and firewall never see it). */
	out[17] = insn(BPF_ALU | BPF_MOV | BPF_K, R2, 0, 0, 0);
	out[18] = insn(BPF_STX | BPF_MEM | BPF_W, R6, R2, f_mark, 0);
	out[19] = insn(BPF_LDX | BPF_MEM | BPF_W, R1, R6, f_ifindex, 0);
	out[20] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R2, 0, 0, BPF_F_INGRESS);
	out[21] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect);
	out[22] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); /* TC_ACT_REDIRECT (or TC_ACT_SHOT for a bad flag) */
	/* AT_GROUP: a copy, still marked, to the host's stack; the frame goes on unmarked. */
	out[23] = insn(BPF_ALU64 | BPF_MOV | BPF_X, R1, R6, 0, 0);
	out[24] = insn(BPF_LDX | BPF_MEM | BPF_W, R2, R6, f_ifindex, 0);
	out[25] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R3, 0, 0, BPF_F_INGRESS);
	out[26] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_clone_redirect);
	out[27] = insn(BPF_ALU | BPF_MOV | BPF_K, R2, 0, 0, 0);
	out[28] = insn(BPF_STX | BPF_MEM | BPF_W, R6, R2, f_mark, 0);
	/* AT_NEXT */
	out[29] = insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, HOSTPATH_TCX_NEXT);
	out[30] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return HOSTPATH_INSNS;
}
