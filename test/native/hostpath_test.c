/*
 * hostpath_test.c - unit tests for the host path's tc program
 * (native/hostpath.c) and, as root, for the program itself: loaded and
 * attached by native/hostlink.c to lo's egress in a network namespace of its
 * own (unshare), the kernel runs it on frames (BPF_PROG_TEST_RUN) and we
 * check its verdicts and what it does to the mark. Built and run by
 * test/native/hostpath.native.test.ts; prints "N passed, N failed" and
 * "kernel: run" or "kernel: skipped (...)".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../native/hostlink.h"
#include "../../native/hostpath.h"
#include "check.h"

static const uint8_t PARENT[6] = { 0x82, 0x00, 0x00, 0x00, 0x0f, 0x01 }; /* first word >= 2^31: a sign-extended compare would miss it */
static const uint8_t VNIC[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x40 };
static const uint8_t PEER[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ND[6] = { 0x33, 0x33, 0xff, 0x00, 0x02, 0x40 };
#define MARK HOSTPATH_MARK_DEFAULT

/* Where jump i of out lands, or -1 when it is not a jump. */
static int target(const struct bpf_insn *out, int i)
{
	const unsigned cls = BPF_CLASS(out[i].code), op = BPF_OP(out[i].code);

	if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT)
		return -1;
	return i + 1 + out[i].off;
}

static void test_build(void)
{
	struct bpf_insn out[HOSTPATH_INSNS];
	uint32_t w[2];
	int i, len, calls = 0, exits = 0;

	hostpath_mac_words(PARENT, w);
	CHECK(w[0] == 0x82000000u && w[1] == 0x0f01u);

	CHECK(hostpath_build(0, 3, out) == -EINVAL); /* 0 is every unmarked frame */
	len = hostpath_build(MARK, 7, out);
	CHECK(len == HOSTPATH_INSNS);
	CHECK(out[0].code == (BPF_ALU64 | BPF_MOV | BPF_X) && out[0].dst_reg == 6 && out[0].src_reg == 1); /* r6 = ctx, for LD_ABS */
	/* The mark is compared as a 32-bit immediate, first: unmarked frames cost two instructions. */
	CHECK(out[1].code == (BPF_LDX | BPF_MEM | BPF_W) && out[1].off == (int16_t)offsetof(struct __sk_buff, mark));
	CHECK(out[2].code == (BPF_JMP32 | BPF_JNE | BPF_K) && (uint32_t)out[2].imm == MARK);
	/* Every jump lands inside the program, forwards; the program ends with an exit. */
	for (i = 0; i < len; i++) {
		int t = target(out, i);

		if (t >= 0)
			CHECK(t > i && t < len);
		if (out[i].code == (BPF_JMP | BPF_CALL))
			calls++;
		if (out[i].code == (BPF_JMP | BPF_EXIT))
			exits++;
	}
	CHECK(calls == 2 && exits == 2);
	CHECK(out[len - 1].code == (BPF_JMP | BPF_EXIT));
	CHECK(out[len - 2].code == (BPF_ALU64 | BPF_MOV | BPF_K) && out[len - 2].imm == HOSTPATH_TCX_NEXT);
	/* The map value is addressed through the map descriptor given, twice (LD_ABS clobbers r1). */
	for (i = 0, calls = 0; i < len; i++)
		if (out[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
			CHECK(out[i].src_reg == BPF_PSEUDO_MAP_VALUE && out[i].imm == 7 && out[i + 1].imm == 0);
			calls++;
		}
	CHECK(calls == 2);
	/* Both helpers take BPF_F_INGRESS: to the host's stack, never back out. */
	for (i = 0; i < len; i++)
		if (out[i].code == (BPF_JMP | BPF_CALL)) {
			CHECK(out[i].imm == BPF_FUNC_redirect || out[i].imm == BPF_FUNC_clone_redirect);
			CHECK(out[i - 1].code == (BPF_ALU64 | BPF_MOV | BPF_K) && out[i - 1].imm == BPF_F_INGRESS);
		}
}

/* The program's return for a frame dst <- src with skb mark *mark, run by the kernel; *mark gets the mark it left. -errno on failure. */
static long long run(int prog_fd, const uint8_t dst[6], const uint8_t src[6], uint32_t *mark, size_t len)
{
	uint8_t data[64];
	struct __sk_buff ctx;
	union bpf_attr a;

	memset(data, 0, sizeof(data));
	memcpy(data, dst, 6);
	memcpy(data + 6, src, 6);
	data[12] = 0x88; /* local experimental EtherType 0x88b5 */
	data[13] = 0xb5;
	memset(&ctx, 0, sizeof(ctx));
	ctx.mark = *mark;
	ctx.ifindex = 1; /* lo, in this namespace: where a redirect would go */
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)prog_fd;
	a.test.data_in = (__u64)(unsigned long)data;
	a.test.data_size_in = (__u32)(len < 14 ? 14 : len);
	a.test.ctx_in = (__u64)(unsigned long)&ctx;
	a.test.ctx_size_in = sizeof(ctx);
	a.test.ctx_out = (__u64)(unsigned long)&ctx;
	a.test.ctx_size_out = sizeof(ctx);
	a.test.repeat = 1;
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &a, sizeof(a)) < 0)
		return -errno;
	*mark = ctx.mark;
	return (int)a.test.retval;
}

/* As root, in a namespace of its own: loaded, attached to lo's egress, run. Returns 0 when run. */
static int test_kernel(char *why, size_t whylen)
{
	struct hostlink h;
	uint32_t mark;
	long long rc;
	int err;

	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(why, whylen, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return -1;
	}
	err = hostlink_open(&h, MARK, 1, PARENT, why, whylen);
	if (err < 0) {
		snprintf(why + strlen(why), whylen - strlen(why), "%shostlink_open: %s", why[0] ? ": " : "", strerror(-err));
		return -1;
	}
	CHECK(h.link_fd >= 0 && h.prog_fd >= 0 && h.map_fd >= 0 && h.ifindex == 1);
	mark = MARK;
	rc = run(h.prog_fd, PARENT, VNIC, &mark, 60);
	if (rc < -1 && rc != HOSTPATH_TCX_NEXT) {
		snprintf(why, whylen, "BPF_PROG_TEST_RUN: %s", strerror((int)-rc));
		hostlink_close(&h);
		return -1;
	}
	/* Ours, to the parent's MAC: redirected to the host's stack, the mark cleared first. */
	CHECK(rc == TC_ACT_REDIRECT && mark == 0);
	/* Ours, to a group: a copy to the host (not seen here), the frame goes on (TCX_NEXT) unmarked. */
	mark = MARK;
	CHECK(run(h.prog_fd, BCAST, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == 0);
	mark = MARK;
	CHECK(run(h.prog_fd, ND, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == 0);
	/* Ours, to another station: untouched. */
	mark = MARK;
	CHECK(run(h.prog_fd, PEER, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == MARK);
	/* Half the parent's MAC is not the parent's MAC. */
	{
		uint8_t near[6];

		memcpy(near, PARENT, 6);
		near[5] ^= 1;
		mark = MARK;
		CHECK(run(h.prog_fd, near, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == MARK);
		memcpy(near, PARENT, 6);
		near[1] ^= 1;
		mark = MARK;
		CHECK(run(h.prog_fd, near, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == MARK);
	}
	/* Not ours (the host's own, another mark): untouched, whatever the destination. */
	mark = 0;
	CHECK(run(h.prog_fd, PARENT, PEER, &mark, 60) == HOSTPATH_TCX_NEXT && mark == 0);
	mark = 0;
	CHECK(run(h.prog_fd, BCAST, PEER, &mark, 60) == HOSTPATH_TCX_NEXT && mark == 0);
	mark = MARK | 1;
	CHECK(run(h.prog_fd, PARENT, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == (MARK | 1));
	/* The MAC is read from the map: another one written there is followed at once. */
	hostlink_set_mac(&h, PEER);
	mark = MARK;
	CHECK(run(h.prog_fd, PEER, VNIC, &mark, 60) == TC_ACT_REDIRECT && mark == 0);
	mark = MARK;
	CHECK(run(h.prog_fd, PARENT, VNIC, &mark, 60) == HOSTPATH_TCX_NEXT && mark == MARK);
	/* A new link (the parent re-created) with the program kept. */
	CHECK(hostlink_move(&h, 1, PARENT) == 0 && h.link_fd >= 0 && h.ifindex == 1);
	CHECK(hostlink_move(&h, 9999, PARENT) == -ENODEV && h.link_fd < 0 && h.ifindex == 0);
	hostlink_close(&h);
	hostlink_close(&h); /* idempotent */
	CHECK(h.link_fd < 0 && h.prog_fd < 0 && h.map_fd < 0 && !h.mac);
	/* A mark of 0 is refused, nothing left behind. */
	CHECK(hostlink_open(&h, 0, 1, PARENT, NULL, 0) == -EINVAL && h.map_fd < 0);
	return 0;
}

int main(void)
{
	char why[256] = "not root";

	test_build();
	if (geteuid() == 0 && test_kernel(why, sizeof(why)) == 0)
		printf("kernel: run\n");
	else
		printf("kernel: skipped (%s)\n", why);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
