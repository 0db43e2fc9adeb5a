/*
 * rxcpu.h - the packet socket's filter as an eBPF program that records the
 * CPU each accepted frame was received on (bpfconv.h), in a map the relay
 * thread reads without a system call. Loading it needs CAP_BPF (or
 * CAP_SYS_ADMIN) while kernel.unprivileged_bpf_disabled is set, as it is by
 * default; without it the caller attaches the classic filter instead.
 */
#ifndef VETHD_RXCPU_H
#define VETHD_RXCPU_H

#include <linux/filter.h>
#include <stdint.h>

/* *rxcpu_attach()'s cpu before any frame was accepted. */
#define RXCPU_NONE UINT32_MAX

/*
 * Attach the classic program prog[0..n-1], rewritten into eBPF, to socket
 * sock (SO_ATTACH_BPF); *cpu then points at the CPU number the last accepted
 * frame was received on (RXCPU_NONE before the first; read it with a relaxed
 * atomic load), valid until rxcpu_release(). Returns 0, or -errno of the step
 * that failed (EPERM without CAP_BPF, EINVAL where the kernel lacks a
 * feature), with nothing left behind and the socket's filter unchanged.
 * Thread: set-up.
 */
int rxcpu_attach(int sock, const struct sock_filter *prog, int n, uint32_t **cpu);

/*
 * rxcpu_attach() without the socket: the map made and mapped (*cpu, as
 * there) and the rewritten program loaded; returns the program's descriptor
 * (the caller closes it), or -errno with nothing left behind. Thread: set-up.
 */
int rxcpu_load(const struct sock_filter *prog, int n, uint32_t **cpu);

/* Unmap what rxcpu_attach() gave; NULL is ignored. Thread: set-up. */
void rxcpu_release(uint32_t *cpu);

#endif
