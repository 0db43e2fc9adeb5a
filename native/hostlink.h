/*
 * hostlink.h - load the host path's tc program (hostpath.h) and attach it
 * to the parent's egress with a tcx bpf_link (BPF_LINK_CREATE,
 * BPF_TCX_EGRESS; Linux 6.6). The link lives as long as its descriptor: when
 * vethd closes it or dies, even by SIGKILL, the kernel detaches the program,
 * so nothing is left on the parent (no qdisc, no filter, no pinned object).
 *
 * Loading needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN (a SCHED_CLS
 * program), and the bpf() system call; attaching needs CAP_NET_ADMIN. A
 * kernel before 6.6 refuses the link (EINVAL); any refusal leaves nothing
 * behind and the relay runs without the host path (relay.h: host_err).
 */
#ifndef VETHD_HOSTLINK_H
#define VETHD_HOSTLINK_H

#include <stddef.h>
#include <stdint.h>

/* The host path's kernel objects; every descriptor -1 when not open. */
struct hostlink {
	int map_fd;                            /* the one-entry array map holding the parent's MAC (BPF_F_MMAPABLE) */
	int prog_fd;                           /* the loaded program, kept to attach again after a rebind */
	int link_fd;                           /* the tcx link on the parent's egress; closing it detaches the program */
	int ifindex;                           /* the parent the link is on, 0: none */
	uint32_t *mac;                         /* the map's value, mapped: hostpath_mac_words() of the parent's MAC */
};

/* h empty: nothing open (hostlink_close() has nothing to do). Thread: set-up. */
void hostlink_init(struct hostlink *h);

/*
 * Load the program for frames marked `mark` with the parent's MAC mac in its
 * map, and attach it to the egress of the parent with ifindex `ifindex`.
 * Returns 0, or -errno of the step that failed (EPERM: no CAP_BPF, or bpf()
 * filtered; EINVAL or EOPNOTSUPP: no tcx in this kernel) with h empty again;
 * when the verifier refused the program, why (whylen bytes, may be NULL)
 * gets its reason (rxcpu_log_reason), else "". Thread: set-up.
 */
int hostlink_open(struct hostlink *h, uint32_t mark, int ifindex, const uint8_t mac[6], char *why, size_t whylen);

/*
 * The parent came back as ifindex (re-created) with MAC mac: the old link
 * closed (the kernel already detached it when the device went), the MAC
 * written into the map, a new link made with the program kept. Returns 0 or
 * -errno of BPF_LINK_CREATE (h then has no link; hostlink_close() still
 * closes the rest). Thread: set-up (JS).
 */
int hostlink_move(struct hostlink *h, int ifindex, const uint8_t mac[6]);

/*
 * The parent's MAC changed: written into the map, where the program reads
 * it (no system call: a frame sent meanwhile may meet half of it). Thread: set-up (JS).
 */
void hostlink_set_mac(struct hostlink *h, const uint8_t mac[6]);

/* Close the link (detaching the program), the program and the map; idempotent. Thread: set-up. */
void hostlink_close(struct hostlink *h);

#endif
