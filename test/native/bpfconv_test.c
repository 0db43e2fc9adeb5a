/*
 * bpfconv_test.c - unit tests for the classic -> eBPF filter rewrite
 * (native/bpfconv.c) and, as root, for the loaded program itself: the kernel
 * runs it on frames (BPF_PROG_TEST_RUN) and we check its verdicts and the CPU
 * it records (native/rxcpu.c). Built and run by test/bpfconv.native.test.ts;
 * prints "N passed, N failed" and "kernel: run" or "kernel: skipped (...)".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../native/bpfconv.h"
#include "../../native/filter.h"
#include "../../native/rxcpu.h"
#include "../../native/vnictab.h"
#include "check.h"

static const uint8_t VMAC[6] = { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x03 };
static const uint8_t HIGH[6] = { 0x82, 0x00, 0xc0, 0x00, 0x02, 0x04 }; /* first word >= 2^31: a sign-extended compare would miss it */
static const uint8_t OTHER[6] = { 0x02, 0x00, 0x00, 0x00, 0x09, 0x09 };
static const uint8_t PEER[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* filter_build() for the given MACs (vid: every vNIC an access port of it, 0: none), with the relay's mark `build_mark` (0: none). */
static uint32_t build_mark;

static int build(struct sock_filter prog[FILTER_MAX], const uint8_t (*macs)[6], int n, unsigned vid)
{
	static struct vnictab t;
	int i;

	vnictab_init(&t);
	for (i = 0; i < n; i++)
		vnictab_add(&t, macs[i], vid);
	return filter_build(prog, &t, build_mark);
}

static void test_rewrite(void)
{
	const uint8_t macs[2][6] = { { 0x02, 0, 0xc0, 0, 2, 3 }, { 0x82, 0, 0xc0, 0, 2, 4 } };
	struct sock_filter prog[FILTER_MAX];
	struct bpf_insn out[BPFCONV_MAX(FILTER_MAX)];
	uint8_t many[FILTER_CHAIN_MAX + 1][6];
	int n, len, i;

	/* Every program filter_build() writes is rewritten, within BPFCONV_MAX. */
	n = build(prog, macs, 2, 0);
	len = bpfconv_build(prog, n, 3, out);
	CHECK(len > n && len <= BPFCONV_MAX(n));
	CHECK(out[0].code == (BPF_ALU64 | BPF_MOV | BPF_X) && out[0].dst_reg == 6 && out[0].src_reg == 1); /* r6 = ctx, for LD_ABS */
	CHECK(out[len - 1].code == (BPF_JMP | BPF_EXIT));
	n = build(prog, macs, 1, 100);
	CHECK(bpfconv_build(prog, n, 3, out) > n);
	for (i = 0; i <= FILTER_CHAIN_MAX; i++) {
		memcpy(many[i], VMAC, 6);
		many[i][5] = (uint8_t)i;
	}
	n = build(prog, (const uint8_t(*)[6])many, FILTER_CHAIN_MAX + 1, 0); /* by packet type */
	CHECK(bpfconv_build(prog, n, 3, out) > n);
	/* The longest program (the mark prefix, the VLAN prefix, the whole chain) too. */
	build_mark = 0x56440000u;
	n = build(prog, (const uint8_t(*)[6])many, FILTER_CHAIN_MAX, 100);
	CHECK(n == FILTER_MAX);
	CHECK(bpfconv_build(prog, n, 3, out) > n);
	n = build(prog, macs, 1, 0);
	CHECK(n == FILTER_MARK_LEN + FILTER_CHAIN_LEN(1));
	CHECK(prog[0].k == (__u32)(SKF_AD_OFF + SKF_AD_MARK) && prog[1].k == 0x56440000u);
	build_mark = 0;

	/* The map value is addressed through the map descriptor given. */
	n = build(prog, macs, 1, 0);
	len = bpfconv_build(prog, n, 42, out);
	for (i = 0; i < len && out[i].code != (BPF_LD | BPF_DW | BPF_IMM); i++)
		;
	CHECK(i < len && out[i].src_reg == BPF_PSEUDO_MAP_VALUE && out[i].imm == 42 && out[i + 1].imm == 0);

	/* A program that never accepts has no epilogue (the verifier refuses unreachable code). */
	{
		struct sock_filter drop[] = { BPF_STMT(BPF_RET | BPF_K, 0) };

		CHECK(bpfconv_build(drop, 1, 3, out) == 3);
	}
	/* What it does not rewrite: refused, not guessed. */
	{
		struct sock_filter ldx[] = { BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_RET | BPF_K, 1) };
		struct sock_filter cpu[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_CPU), BPF_STMT(BPF_RET | BPF_K, 1) };
		struct sock_filter reta[] = { BPF_STMT(BPF_RET | BPF_A, 0) };
		struct sock_filter noret[] = { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0) };
		struct sock_filter far[] = { BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 5, 0), BPF_STMT(BPF_RET | BPF_K, 0) };

		CHECK(bpfconv_build(ldx, 2, 3, out) == -EINVAL);
		CHECK(bpfconv_build(cpu, 2, 3, out) == -EINVAL);
		CHECK(bpfconv_build(reta, 1, 3, out) == -EINVAL);
		CHECK(bpfconv_build(noret, 1, 3, out) == -EINVAL);
		CHECK(bpfconv_build(far, 2, 3, out) == -EINVAL);
		CHECK(bpfconv_build(ldx, 0, 3, out) == -EINVAL);
	}
}

/*
 * The program's return for a frame, run by the kernel (BPF_PROG_TEST_RUN),
 * or -errno. A socket filter's test run sees the data after a 14-byte
 * Ethernet header that the kernel consumes (eth_type_trans: it sets the
 * packet type, from its destination, as received on loopback); so the frame
 * the filter sees goes after such a header with destination link_dst.
 */
static uint32_t run_mark; /* the skb mark run() gives the frame */

static long long run(int prog_fd, const uint8_t link_dst[6], const uint8_t dst[6], const uint8_t src[6])
{
	uint8_t data[14 + 60];
	struct __sk_buff ctx;
	union bpf_attr a;

	memset(data, 0, sizeof(data));
	memcpy(data, link_dst, 6);
	memcpy(data + 6, PEER, 6);
	data[12] = 0x88; /* local experimental EtherType 0x88b5, both headers */
	data[13] = 0xb5;
	memcpy(data + 14, dst, 6);
	memcpy(data + 20, src, 6);
	data[26] = 0x88;
	data[27] = 0xb5;
	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (__u32)prog_fd;
	a.test.data_in = (__u64)(unsigned long)data;
	a.test.data_size_in = sizeof(data);
	a.test.repeat = 1;
	if (run_mark) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.mark = run_mark;
		a.test.ctx_in = (__u64)(unsigned long)&ctx;
		a.test.ctx_size_in = sizeof(ctx);
	}
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &a, sizeof(a)) < 0)
		return -errno;
	return a.test.retval;
}

static int on_cpu(int c)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(c, &s);
	return sched_setaffinity(0, sizeof(s), &s);
}

/* As root: the rewritten program, loaded, keeps the classic program's verdicts and records the CPU. Returns 0 when run. */
static int test_kernel(char *why, size_t whylen)
{
	const uint8_t macs[2][6] = { { 0x02, 0, 0xc0, 0, 2, 3 }, { 0x82, 0, 0xc0, 0, 2, 4 } };
	struct sock_filter prog[FILTER_MAX];
	uint32_t *cpu;
	int n = build(prog, macs, 2, 0), fd = rxcpu_load(prog, n, &cpu, NULL, NULL, 0), two = sysconf(_SC_NPROCESSORS_ONLN) >= 2;

	if (fd < 0) {
		snprintf(why, whylen, "cannot load: %s", strerror(-fd));
		return -1;
	}
	CHECK(*cpu == RXCPU_NONE);
	if (run(fd, OTHER, OTHER, PEER) < 0) {
		snprintf(why, whylen, "BPF_PROG_TEST_RUN: %s", strerror((int)-run(fd, OTHER, OTHER, PEER)));
		close(fd);
		rxcpu_release(cpu);
		return -1;
	}
	CHECK(*cpu == RXCPU_NONE); /* nothing accepted yet */
	/* Verdicts: the vNICs' unicast and group addresses pass whole; another station's unicast is dropped. */
	CHECK(run(fd, OTHER, VMAC, PEER) == 0xffffffffLL);
	CHECK(run(fd, OTHER, HIGH, PEER) == 0xffffffffLL);
	CHECK(run(fd, BCAST, BCAST, PEER) == 0xffffffffLL);
	CHECK(run(fd, OTHER, OTHER, PEER) == 0);
	/* The CPU of the last accepted frame; a dropped frame leaves it. */
	if (two) {
		CHECK(on_cpu(1) == 0);
		CHECK(run(fd, OTHER, VMAC, PEER) == 0xffffffffLL);
		CHECK(__atomic_load_n(cpu, __ATOMIC_RELAXED) == 1);
		CHECK(on_cpu(0) == 0);
		CHECK(run(fd, OTHER, OTHER, PEER) == 0);
		CHECK(__atomic_load_n(cpu, __ATOMIC_RELAXED) == 1);
		CHECK(run(fd, OTHER, HIGH, PEER) == 0xffffffffLL);
		CHECK(__atomic_load_n(cpu, __ATOMIC_RELAXED) == 0);
	}
	close(fd);
	rxcpu_release(cpu);

	/* Access ports of VLAN 100: an untagged frame is dropped, even to a vNIC's MAC. */
	n = build(prog, macs, 1, 100);
	fd = rxcpu_load(prog, n, &cpu, NULL, NULL, 0);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(run(fd, OTHER, VMAC, PEER) == 0);
		close(fd);
		rxcpu_release(cpu);
	}

	/* With the relay's mark: a frame carrying it that is not outgoing (the host path's copy) is dropped, even to a group. */
	build_mark = 0x56440000u;
	n = build(prog, macs, 2, 0);
	fd = rxcpu_load(prog, n, &cpu, NULL, NULL, 0);
	CHECK(fd >= 0);
	if (fd >= 0) {
		run_mark = 0x56440000u;
		CHECK(run(fd, BCAST, BCAST, VMAC) == 0);
		CHECK(run(fd, OTHER, VMAC, PEER) == 0);
		run_mark = 0x56440001u; /* another mark: as unmarked */
		CHECK(run(fd, BCAST, BCAST, PEER) == 0xffffffffLL);
		run_mark = 0;
		CHECK(run(fd, BCAST, BCAST, PEER) == 0xffffffffLL);
		CHECK(run(fd, OTHER, VMAC, PEER) == 0xffffffffLL);
		CHECK(run(fd, OTHER, OTHER, PEER) == 0);
		close(fd);
		rxcpu_release(cpu);
	}
	build_mark = 0;
	return 0;
}

/* The verifier's reason out of its log: the line before the summary, cut to fit. */
static void test_log_reason(void)
{
	char why[32];

	rxcpu_log_reason("0: (bf) r6 = r1\n1: (61) r0 = *(u32 *)(r6 +0)\ninvalid bpf_context access off=0 size=4\n"
			 "processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n",
			 why, sizeof(why));
	CHECK(strcmp(why, "invalid bpf_context access off=") == 0);
	rxcpu_log_reason("unknown opcode 8d\n", why, sizeof(why));
	CHECK(strcmp(why, "unknown opcode 8d") == 0);
	rxcpu_log_reason("back-edge from insn 3 to 1\nverification time 5 usec\nstack depth 0\n", why, sizeof(why));
	CHECK(strcmp(why, "back-edge from insn 3 to 1") == 0);
	rxcpu_log_reason("", why, sizeof(why));
	CHECK(why[0] == '\0');
	rxcpu_log_reason("processed 0 insns\n", why, sizeof(why));
	CHECK(why[0] == '\0');
}

int main(void)
{
	char why[128] = "not root";

	test_rewrite();
	test_log_reason();
	if (geteuid() == 0 && test_kernel(why, sizeof(why)) == 0)
		printf("kernel: run\n");
	else
		printf("kernel: skipped (%s)\n", why);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
