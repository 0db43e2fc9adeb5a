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
#include <stddef.h>
#include <stdint.h>

/* *rxcpu_attach()'s cpu before any frame was accepted. */
#define RXCPU_NONE UINT32_MAX

/*
 * Attach the classic program prog[0..n-1], rewritten into eBPF, to socket
 * sock (SO_ATTACH_BPF); *cpu then points at the CPU number the last accepted
 * frame was received on (RXCPU_NONE before the first; read it with a relaxed
 * atomic load), valid until rxcpu_release(); *map_fd (may be NULL: closed)
 * is the map's descriptor, for rxcpu_reattach() (the caller closes it).
 * Returns 0, or -errno of the step that failed (EPERM without CAP_BPF,
 * EINVAL where the kernel lacks a feature), with nothing left behind and the
 * socket's filter unchanged. When the verifier refused the program, why
 * (whylen bytes, may be NULL) gets the line of its log that says why
 * (rxcpu_log_reason), else "".
 * Thread: set-up.
 */
int rxcpu_attach(int sock, const struct sock_filter *prog, int n, uint32_t **cpu, int *map_fd, char *why, size_t whylen);

/*
 * Replace sock's filter with prog[0..n-1] rewritten as rxcpu_attach() does,
 * recording into the map map_fd that rxcpu_attach() gave, so the mapping a
 * relay thread reads stays where it is (SO_ATTACH_BPF swaps the program
 * atomically: every frame meets the old one or the new one). Returns 0, or
 * -errno with the socket's filter unchanged (EPERM: CAP_BPF was dropped
 * since). Thread: set-up.
 */
int rxcpu_reattach(int sock, const struct sock_filter *prog, int n, int map_fd);

/*
 * rxcpu_attach() without the socket: the map made and mapped (*cpu, as
 * there) and the rewritten program loaded; returns the program's descriptor
 * (the caller closes it), or -errno with nothing left behind, why and map_fd
 * as there. Thread: set-up.
 */
int rxcpu_load(const struct sock_filter *prog, int n, uint32_t **cpu, int *map_fd, char *why, size_t whylen);

/*
 * The line of a verifier log (BPF_PROG_LOAD's log_buf, NUL-terminated) that
 * says why the program was refused, into why (whylen bytes, NUL-terminated,
 * cut to fit; "" for a log with none): the last line before the
 * "processed N insns" summary. At log level 1 the log is the trace of the
 * instructions walked, so its first line is an instruction and the reason is
 * the line after the last one. Pure. Thread: any.
 */
void rxcpu_log_reason(const char *log, char *why, size_t whylen);

/* Unmap what rxcpu_attach() gave; NULL is ignored. Thread: set-up. */
void rxcpu_release(uint32_t *cpu);

#endif
