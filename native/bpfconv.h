/*
 * bpfconv.h - the classic BPF filter (filter.h) rewritten as an eBPF socket
 * filter (BPF_PROG_TYPE_SOCKET_FILTER, see bpf(2)) that also records the CPU
 * each accepted frame was received on, in a one-entry array map user space
 * has mapped (BPF_F_MMAPABLE; rxcpu.h). A packet socket records no receiving
 * CPU itself (SO_INCOMING_CPU stays -1), and the filter is the one place that
 * runs on that CPU for every frame.
 *
 * The same rules, instruction for instruction: A is w0 (32 bits), the packet
 * loads are eBPF's legacy LD_ABS (r6 holds the context, as they require),
 * the ancillary loads read struct __sk_buff, the compares are JMP32 (a 32-bit
 * immediate against a 32-bit A, as in classic BPF). Every return that accepts
 * goes through one epilogue that stores bpf_get_smp_processor_id() in the
 * map's value when it differs from what is there (a frame stream on one CPU
 * writes the cache line once), then returns the snap length. Needs Linux 5.2
 * (JMP32, BPF_PSEUDO_MAP_VALUE).
 */
#ifndef VETHD_BPFCONV_H
#define VETHD_BPFCONV_H

#include <linux/bpf.h>
#include <linux/filter.h>

/* Longest eBPF program bpfconv_build() writes for n classic instructions. */
#define BPFCONV_MAX(n) (1 + 2 * (n) + 8)

/*
 * Rewrite the classic program in[0..n-1] into out (room for BPFCONV_MAX(n)),
 * the CPU recorded in map map_fd's value (4 bytes at offset 0). Takes what
 * filter_build() writes: LD|ABS (W, H, B) of the packet and of SKF_AD_PKTTYPE,
 * SKF_AD_VLAN_TAG, SKF_AD_VLAN_TAG_PRESENT, SKF_AD_MARK; ALU with K (ADD, SUB, AND, OR,
 * LSH, RSH); JA, JEQ, JGT, JGE, JSET with K; RET K. Returns the number of
 * instructions, or -EINVAL for any other instruction or a jump out of the
 * program. Thread: any (pure).
 */
int bpfconv_build(const struct sock_filter *in, int n, int map_fd, struct bpf_insn *out);

#endif
