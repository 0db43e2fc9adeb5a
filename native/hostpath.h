/*
 * hostpath.h - the host path: frames a vNIC sends to the parent's own MAC
 * reach the host's own stack, and its group frames (ARP requests, neighbour
 * discovery) reach the host as well as the wire (issue 29).
 *
 * The relay's packet sockets mark every frame they send (SO_MARK, the
 * relay's mark); a tc egress program on the parent (attached with a tcx
 * bpf_link: hostlink.h) acts on those frames only:
 *
 *   destination == the parent's MAC  ->  mark cleared, bpf_redirect(parent,
 *                                        BPF_F_INGRESS): to the host's stack,
 *                                        never to the wire
 *   group destination (I/G bit)      ->  bpf_clone_redirect(parent,
 *                                        BPF_F_INGRESS): a copy, still marked,
 *                                        to the host's stack; the frame goes
 *                                        on to the wire with its mark cleared
 *   anything else                    ->  TCX_NEXT: on to the wire, untouched
 *
 * Unmarked frames (the host's own, anyone else's) are TCX_NEXT after two
 * instructions. TCX_NEXT, not TC_ACT_OK, so the programs after ours on the
 * parent (another tool's tcx program, a classic tc filter) still run.
 *
 * The copy of a group frame keeps the mark so that the packet sockets of
 * vethd (this one and any other on the parent: the mark is one value for
 * them all by default) know it at ingress and drop it in their filter
 * (filter.h): the vNICs had it from the relay already (the switch in tx.c),
 * and its source, a vNIC's MAC, would otherwise count as a MAC conflict.
 * The frame that goes on loses its mark so that a second vethd's program on
 * the same parent does not copy it to the host again. A unicast frame to
 * the host loses its mark before it enters the host's stack, so the host's
 * policy routing and firewall never see it on a connection.
 *
 * The parent's MAC is not in the instructions: it is read from a one-entry
 * array map (two 32-bit words, as hostpath_mac_words() lays them) that user
 * space has mapped, so a parent re-created or given another MAC is followed
 * without loading the program again (which would need CAP_BPF after set-up).
 * The parent's ifindex is the skb's own (__sk_buff.ifindex), so a new link
 * on a re-created parent needs no new program either.
 *
 * Pure: instruction building only, no system call; unit-tested in
 * test/native/hostpath_test.c (as root, the kernel runs it too).
 */
#ifndef VETHD_HOSTPATH_H
#define VETHD_HOSTPATH_H

#include <linux/bpf.h>
#include <stdint.h>

/*
 * The mark vethd puts on the frames it sends (SO_MARK), unless told another
 * one: "VD" in the upper 16 bits, the lower 16 bits clear, where the common
 * fwmark users keep theirs (kube-proxy 0x4000 and 0x8000, Cilium 0x0f00,
 * Istio 0x539, wg-quick 0xca6c). Not 0: 0 is every unmarked frame.
 */
#define HOSTPATH_MARK_DEFAULT 0x56440000u

/* Instructions hostpath_build() writes. */
#define HOSTPATH_INSNS 31

/* tcx return codes (include/uapi/linux/bpf.h since Linux 6.6). */
#define HOSTPATH_TCX_NEXT (-1)

/* The map's value: the parent's MAC as two words, bytes 0-3 and 4-5 (big-endian numbers, as LD_ABS reads them). */
#define HOSTPATH_VALUE_SIZE 8

/*
 * The parent's MAC as the map holds it: words[0] = bytes 0..3, words[1] =
 * bytes 4..5, each as a big-endian number (the values LD_ABS W and H give
 * for those bytes of the frame). Thread: any (pure).
 */
void hostpath_mac_words(const uint8_t mac[6], uint32_t words[2]);

/*
 * The tc program (BPF_PROG_TYPE_SCHED_CLS) for frames marked `mark` (not 0),
 * the parent's MAC read from map map_fd's value (HOSTPATH_VALUE_SIZE bytes at
 * offset 0), into out[0..HOSTPATH_INSNS-1]. Returns HOSTPATH_INSNS, or
 * -EINVAL for mark 0. Thread: any (pure).
 */
int hostpath_build(uint32_t mark, int map_fd, struct bpf_insn out[HOSTPATH_INSNS]);

#endif
