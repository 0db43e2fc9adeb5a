/*
 * bpfconv.c - the classic filter as an eBPF socket filter that records the
 * receiving CPU (see bpfconv.h).
 */
#include "bpfconv.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* eBPF registers used: A, the context LD_ABS needs, the accepting return value across the helper call, scratch. */
#define R_A 0
#define R_MAP 1
#define R_OLD 2
#define R_CTX 6
#define R_RET 7

/* Instructions of the accepting epilogue. */
#define EPILOGUE_LEN 8

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm)
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

/* The __sk_buff field an ancillary load (SKF_AD_OFF + k) reads, or -1 for one not rewritten. */
static int ancillary_field(__u32 k)
{
	switch (k) {
	case SKF_AD_OFF + SKF_AD_PKTTYPE:
		return (int)offsetof(struct __sk_buff, pkt_type);
	case SKF_AD_OFF + SKF_AD_VLAN_TAG:
		return (int)offsetof(struct __sk_buff, vlan_tci);
	case SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT:
		return (int)offsetof(struct __sk_buff, vlan_present);
	case SKF_AD_OFF + SKF_AD_MARK:
		return (int)offsetof(struct __sk_buff, mark);
	default:
		return -1;
	}
}

/* Instructions classic instruction c becomes, or -EINVAL when it is not rewritten. */
static int size_of(const struct sock_filter *c)
{
	switch (BPF_CLASS(c->code)) {
	case BPF_LD:
		if (BPF_MODE(c->code) != BPF_ABS)
			return -EINVAL;
		if (c->k >= (__u32)SKF_AD_OFF)
			return ancillary_field(c->k) < 0 ? -EINVAL : 1;
		return BPF_SIZE(c->code) == BPF_DW ? -EINVAL : 1;
	case BPF_ALU:
		if (BPF_SRC(c->code) != BPF_K)
			return -EINVAL;
		switch (BPF_OP(c->code)) {
		case BPF_ADD: case BPF_SUB: case BPF_AND: case BPF_OR: case BPF_LSH: case BPF_RSH:
			return 1;
		default:
			return -EINVAL;
		}
	case BPF_JMP:
		if (BPF_OP(c->code) == BPF_JA)
			return 1;
		if (BPF_SRC(c->code) != BPF_K)
			return -EINVAL;
		switch (BPF_OP(c->code)) {
		case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET:
			return c->jf ? 2 : 1;
		default:
			return -EINVAL;
		}
	case BPF_RET:
		return BPF_RVAL(c->code) == BPF_K ? 2 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* A jump at out index `at` to out index `to`, as eBPF's offset (from the next instruction). */
static __s16 rel(int at, int to)
{
	return (__s16)(to - (at + 1));
}

/* The epilogue at out[0..EPILOGUE_LEN-1]: record the CPU when it changed, return w7. */
static void epilogue(struct bpf_insn *out, int map_fd)
{
	out[0] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_smp_processor_id);
	out[1] = insn(BPF_LD | BPF_DW | BPF_IMM, R_MAP, BPF_PSEUDO_MAP_VALUE, 0, map_fd);
	out[2] = insn(0, 0, 0, 0, 0); /* second half of the 64-bit load: offset 0 in the value */
	out[3] = insn(BPF_LDX | BPF_MEM | BPF_W, R_OLD, R_MAP, 0, 0);
	out[4] = insn(BPF_JMP32 | BPF_JEQ | BPF_X, R_OLD, R_A, 1, 0);
	out[5] = insn(BPF_STX | BPF_MEM | BPF_W, R_MAP, R_A, 0, 0);
	out[6] = insn(BPF_ALU | BPF_MOV | BPF_X, R_A, R_RET, 0, 0);
	out[7] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int bpfconv_build(const struct sock_filter *in, int n, int map_fd, struct bpf_insn *out)
{
	int pos[BPF_MAXINSNS + 1];
	int i, o, accepts = 0;

	if (n < 1 || n > BPF_MAXINSNS || BPF_CLASS(in[n - 1].code) != BPF_RET)
		return -EINVAL; /* classic BPF ends with a return; nothing may fall into the epilogue */
	/* Pass 1: where each classic instruction starts; pos[n] is the epilogue. */
	pos[0] = 1;
	for (i = 0; i < n; i++) {
		int sz = size_of(&in[i]);

		if (sz < 0)
			return sz;
		pos[i + 1] = pos[i] + sz;
		if (BPF_CLASS(in[i].code) == BPF_RET && in[i].k)
			accepts = 1;
	}
	/* Pass 2. */
	out[0] = insn(BPF_ALU64 | BPF_MOV | BPF_X, R_CTX, 1, 0, 0);
	for (i = 0; i < n; i++) {
		const struct sock_filter *c = &in[i];
		int t, f, field;

		o = pos[i];
		switch (BPF_CLASS(c->code)) {
		case BPF_LD:
			field = c->k >= (__u32)SKF_AD_OFF ? ancillary_field(c->k) : -1;
			out[o] = field >= 0 ? insn(BPF_LDX | BPF_MEM | BPF_W, R_A, R_CTX, (__s16)field, 0)
					    : insn(BPF_LD | BPF_ABS | BPF_SIZE(c->code), 0, 0, 0, (__s32)c->k);
			break;
		case BPF_ALU:
			out[o] = insn(BPF_ALU | BPF_OP(c->code) | BPF_K, R_A, 0, 0, (__s32)c->k);
			break;
		case BPF_JMP:
			if (BPF_OP(c->code) == BPF_JA) {
				if ((long long)i + 1 + c->k > n - 1)
					return -EINVAL;
				out[o] = insn(BPF_JMP | BPF_JA, 0, 0, rel(o, pos[i + 1 + c->k]), 0);
				break;
			}
			t = i + 1 + c->jt;
			f = i + 1 + c->jf;
			if (t > n - 1 || f > n - 1)
				return -EINVAL;
			out[o] = insn(BPF_JMP32 | BPF_OP(c->code) | BPF_K, R_A, 0, rel(o, pos[t]), (__s32)c->k);
			if (c->jf)
				out[o + 1] = insn(BPF_JMP | BPF_JA, 0, 0, rel(o + 1, pos[f]), 0);
			break;
		case BPF_RET:
			if (c->k) { /* accept: through the epilogue */
				out[o] = insn(BPF_ALU | BPF_MOV | BPF_K, R_RET, 0, 0, (__s32)c->k);
				out[o + 1] = insn(BPF_JMP | BPF_JA, 0, 0, rel(o + 1, pos[n]), 0);
			} else {
				out[o] = insn(BPF_ALU | BPF_MOV | BPF_K, R_A, 0, 0, 0);
				out[o + 1] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
			}
			break;
		}
	}
	o = pos[n];
	if (!accepts)
		return o; /* an epilogue nothing reaches would be refused by the verifier */
	epilogue(out + o, map_fd);
	return o + EPILOGUE_LEN;
}
