/*
 * relay.h - the relay: one packet socket on the parent and the vNICs (TAPs)
 * it serves, with one thread that moves frames both ways, sleeping in
 * poll() on the socket and the TAPs (an epoll set) at once:
 *
 *   parent -> vNICs: packet socket (BPF filter, receive ring) ->
 *              vnictab_route (O(1) by VLAN and destination MAC; a group
 *              address: every vNIC of the VLAN) -> frame_rx_finish -> write() to TAP(s)
 *   vNICs -> parent: each TAP epoll reports readable -> read() -> frame_classify_tx ->
 *              to another vNIC of the same VLAN directly (the switch never sends
 *              a frame back out of the port it came in on), else (and for a
 *              group address, also) tagged with --vlan -> sendmmsg() on the packet socket
 *   (a write() into a TAP runs the vNIC's stack on the writing thread, so the
 *    answer is sent in the same round, with no other thread to wake; relay/loop.c)
 *
 * With --queues N, N such queues, each with its own thread: N packet sockets
 * in one PACKET_FANOUT group, each with its own ring and filter, and
 * multi-queue TAPs with N queues; queue k's thread uses queue k of every TAP.
 *
 * A thread follows its frames (follow_cpu): while traffic is sparse it waits
 * pinned to the CPU its socket's last frame arrived on, which the filter
 * records (rxcpu.h), so a frame wakes it on that busy CPU rather than on an
 * idle one (relay/follow.h).
 *
 * The relay threads allocate nothing, log nothing, call no N-API and never
 * exit the process: they move frames and bump counters that the JS thread
 * reads at any time (relaxed atomics, one writer per counter).
 *
 * vNICs come and go while the threads run (relay_add_vnic,
 * relay_remove_vnic), without a lock, an allocation or a system call on the
 * frame path. Each vNIC lives in a slot, 0..RELAY_MAX_VNICS-1, that it keeps
 * until removed (relay_open() fills 0..nvnics-1; a new vNIC takes the lowest
 * free slot), so counters, epoll data and tables name it by slot. Routing
 * goes by a table of the serving slots, (VLAN, MAC) -> slot, of which there
 * are two: the live one, published through an atomic pointer, and a spare.
 * Each thread loads the pointer (acquire) once a round, at its top, and uses
 * that table for the whole round (receive routing, switching between vNICs,
 * the ports of a group frame); it then stores the change count it had seen
 * (release) in its queue: the round boundary. The JS thread, the only
 * writer, one change at a time, builds the next table in the spare, makes
 * the change in the kernel (TAP, epoll sets, filter, membership), publishes
 * the table (pointer, then change count), writes each queue's sync eventfd
 * (in its epoll set: a sleeping thread wakes and passes a boundary), and
 * before it writes the spare again, closes a removed vNIC's TAP or reuses its
 * slot and counters, waits until every running thread has seen the change
 * (a thread that is not running, or ended on an error, counts as having
 * seen it), polling with sleeps of 20 µs to 1 ms for at most
 * RELAY_LIVE_WAIT_MS. So a thread never meets a closed descriptor, a
 * table being written or a slot that changed owner within a round.
 * In-flight frames: a frame from the parent for a vNIC being removed that
 * a thread handles in a round begun before the change still reaches it
 * (its TAP is open until every thread has moved on); from the next round on
 * it is dropped as not_for_us (unrouted) until the new filter drops it in the
 * kernel; what the vNIC's stack had queued and no thread read goes with the
 * TAP. A new vNIC is routed to from each thread's first round after the
 * change; its events seen in a round with the older table wait for the next
 * round (the epoll sets are level-triggered).
 *
 * The relay itself is opaque (its insides: relay/relay_int.h): it is made
 * with relay_new(), built with relay_open(), changed with relay_add_vnic()
 * and relay_remove_vnic(), described with relay_describe() and
 * relay_describe_vnic(), read with relay_snapshot(), and freed with
 * relay_free(). The code is in native/relay/: setup.c (relay_open's story),
 * live.c (vNICs added and removed) and live.h (its pure policy), rx.c and
 * tx.c (the two directions), loop.c (the thread), follow.c, stats.c and
 * ctl.c (calls from JS).
 */
#ifndef VETHD_RELAY_H
#define VETHD_RELAY_H

#include <net/if.h>
#include <stdint.h>

#include "frame.h"
#include "psock.h"
#include "ring.h"
#include "vderr.h"
#include "vnictab.h"

/* Most frames read from the vNIC and sent with one sendmmsg() (relay_config.tx_batch). */
#define RELAY_TX_BATCH 32
/* relay_config.rx_ring: try TPACKET_V2, then recvmsg(). */
#define RELAY_RING_AUTO (-1)
/* Longest rx coalescing pause a relay_config may ask for, µs. */
#define RELAY_COALESCE_MAX_US 1000
/* Most queues (--queues): packet sockets in the fanout group, TAP queues, relay threads. */
#define RELAY_MAX_QUEUES 16
/* Most vNICs on one parent: the slots 0..RELAY_MAX_VNICS-1. */
#define RELAY_MAX_VNICS VNICTAB_MAX
/* Longest a vNIC change waits for every relay thread to pass a round boundary, ms (ETIMEDOUT after). */
#define RELAY_LIVE_WAIT_MS 1000

/* Counters for one direction; each is written by exactly one relay thread. */
struct relay_dir_counters {
	uint64_t frames;                       /* frames relayed */
	uint64_t bytes;                        /* bytes relayed, Ethernet header and any VLAN tag included, virtio_net_hdr excluded */
	uint64_t drops[FRAME_VERDICT_COUNT];   /* frames not relayed, by enum frame_verdict; [FRAME_PASS] stays 0 */
} __attribute__((aligned(64)));            /* own cache line(s): two queues' threads never share one */

/* One vNIC's counters. */
struct relay_vnic_counters {
	struct relay_dir_counters rx;          /* frames written to the vNIC (from the parent or another vNIC), with the receive drops charged to it */
	struct relay_dir_counters tx;          /* frames read from the vNIC and sent on (to the parent or another vNIC) */
};

/* How frames are spread over the queues' packet sockets (PACKET_FANOUT type). */
enum relay_fanout {
	RELAY_FANOUT_CPU = 0,  /* PACKET_FANOUT_CPU: by the CPU that received the frame; queue k's thread runs on the CPUs c with c % queues == k */
	RELAY_FANOUT_HASH = 1, /* PACKET_FANOUT_HASH: by flow hash; the threads run anywhere */
};

/* How a relay thread learns where its frames arrive, to wait there while traffic is sparse (relay/follow.h). */
enum relay_follow {
	RELAY_FOLLOW_OFF = 0,    /* it does not: the scheduler wakes it where it last ran */
	RELAY_FOLLOW_RXCPU = 1,  /* the filter records each accepted frame's receiving CPU (rxcpu.h): it waits on that CPU */
	RELAY_FOLLOW_FANOUT = 2, /* --queues N --fanout cpu without that filter: it waits on the CPUs its queue takes frames from */
};

/* One vNIC relay_open() or relay_add_vnic() is asked to build. Every value is checked, none clamped (EINVAL). */
struct relay_vnic_config {
	const char *tap;                       /* its name, 1..IF_NAMESIZE-1 bytes */
	const uint8_t *mac;                    /* its MAC, or NULL to keep the one the kernel picked */
	int netns_fd;                          /* network namespace to create it in (--netns), or -1: the caller's */
	int arp_sysctls;                       /* 1: set its arp_ignore=1 and arp_announce=2 (no ARP flux; ip-sysctl.rst) */
	int vlan;                              /* 802.1Q VLAN ID it is an access port of (--vlan), 1..FRAME_VID_MAX; 0: none */
	int antispoof;                         /* 1: drop its frames with a foreign source MAC, ARP sender, ND link-layer address or DHCP chaddr (FRAME_TX_ANTISPOOF) */
	int link_local_pass;                   /* the reserved 802.1 groups 01:80:c2:00:00:0X its frames may go to, bit X, 0..0xffff (FRAME_TX_LL_PASS) */
	int ra_guard;                          /* 1: drop its router advertisements and redirects (FRAME_TX_RA_GUARD) */
	int dhcp_guard;                        /* 1: drop its DHCP/DHCPv6 server and relay messages (FRAME_TX_DHCP_GUARD) */
};

/* What relay_open() is asked to build. Every value is checked, none clamped (EINVAL); the defaults are the TS layer's. */
struct relay_config {
	const char *parent;                    /* parent NIC name, 1..IF_NAMESIZE-1 bytes */
	const struct relay_vnic_config *vnics; /* the vNICs, vnics[0..nvnics-1] */
	int nvnics;                            /* 0..RELAY_MAX_VNICS (0: none yet, vNICs come with relay_add_vnic(): vethd --empty) */
	enum psock_membership membership;      /* how the parent is made to deliver the vNICs' frames */
	int vnet_hdr;                          /* 1: try virtio_net_hdr passthrough (GSO, partial checksums) */
	int rcvbuf;                            /* packet socket receive buffer and ring per queue, bytes, >= 0 (a super-frame ring: at least 16 MiB) */
	int rx_ring;                           /* enum ring_mode to try first (V3 falls back to V2, V2 to recvmsg), or RELAY_RING_AUTO */
	int kernel_filter;                     /* 1: attach the classic BPF filter (filter.h) to the packet socket */
	int tx_batch;                          /* frames per sendmmsg(), 1..RELAY_TX_BATCH */
	int qdisc_bypass;                      /* 1: PACKET_QDISC_BYPASS: send straight to the parent's driver queue */
	int coalesce_us;                       /* longest rx pause after a burst (adaptive, from 25), µs, 0..RELAY_COALESCE_MAX_US (0: wake per frame) */
	int queues;                            /* 1..RELAY_MAX_QUEUES; above 1: a fanout group and multi-queue TAPs */
	enum relay_fanout fanout;              /* how frames are spread when queues > 1 */
	int follow_cpu;                        /* 1: try the filter that records the receiving CPU (needs kernel_filter and CAP_BPF), so each thread waits where its frames arrive */
	uint32_t mark;                         /* SO_MARK on the packet sockets' frames (needs CAP_NET_ADMIN), which the filter drops at ingress (filter.h); 0: none */
	int host_path;                         /* 1: try the host path (hostpath.h; needs mark, kernel_filter, no qdisc bypass, CAP_BPF, tcx: Linux 6.6); its refusal is not an error (relay_info.host_err) */
};

/* The relay as built (relay_describe). */
struct relay_info {
	char parent[IF_NAMESIZE];              /* parent name (relay_rebind() changes it) */
	int parent_ifindex;                    /* ifindex the sockets are bound to */
	int mtu;                               /* MTU given to the vNICs (the parent's), bytes */
	int vnet_hdr;                          /* 1: virtio_net_hdr passthrough is in force */
	enum psock_membership membership;      /* membership in force */
	int ring_mode;                         /* enum ring_mode in force on every queue (RING_OFF: recvmsg) */
	int kernel_filter;                     /* 1: the BPF filter is attached */
	int tx_batch;                          /* frames per sendmmsg() */
	int qdisc_bypass;                      /* 1: PACKET_QDISC_BYPASS is in force */
	int coalesce_us;                       /* longest rx coalescing pause, µs */
	int queues;                            /* queues (threads) in use */
	enum relay_fanout fanout;              /* spreading in force when queues > 1 */
	enum relay_follow follow;              /* how the threads follow their frames */
	int follow_err;                        /* positive errno of the kernel's last refusal of the CPU-recording filter when following was asked for (EPERM without CAP_BPF; also when reloading it for a vNIC change), else 0 */
	const char *follow_why;                /* with follow_err: the verifier's reason when it refused the program, else "" (valid while the relay is) */
	int nvnics;                            /* vNICs, 0..RELAY_MAX_VNICS (relay_nvnics) */
	uint32_t mark;                         /* the mark on the relay's frames, 0: none */
	int host_path;                         /* 1: the host path is in force (its tcx link on the parent) */
	int host_err;                          /* positive errno of the kernel's last refusal of the host path when it was asked for (EPERM without CAP_BPF, EINVAL without tcx), else 0 */
	const char *host_why;                  /* the verifier's reason, or why the host path was not tried although asked for, else "" (valid while the relay is) */
};

/* One vNIC as built (relay_describe_vnic). */
struct relay_vnic_info {
	char tap[IF_NAMESIZE];                 /* its name */
	int tap_ifindex;                       /* its ifindex, in its namespace */
	uint8_t mac[6];                        /* its MAC as the kernel has it */
	unsigned vlan;                         /* the VLAN ID it is an access port of, 0: none */
	unsigned tx_flags;                     /* frame_classify_tx() flags in force (FRAME_TX_ANTISPOOF, _RA_GUARD, _DHCP_GUARD, FRAME_TX_LL_PASS mask in bits 16..31) */
};

struct relay;

/* An empty relay, nothing open (relay_close() and relay_free() may be called on it), or NULL: out of memory. Thread: set-up (JS). */
struct relay *relay_new(void);

/* relay_close(), then free r; NULL is ignored. Thread: set-up. */
void relay_free(struct relay *r);

/*
 * Build the relay in r (from relay_new(), not opened before): every value
 * of cfg checked first (EINVAL, the value named in *e); packet socket bound
 * to the parent; each vNIC's TAP created (in its namespace) with its MAC and
 * the parent's MTU, offloads, ARP settings; the filter for all their MACs;
 * the membership. The TAPs stay down until relay_up(), so a MAC-collision
 * probe can run first. Two vNICs with the same (VLAN, MAC) are refused
 * (EEXIST). On failure everything already made is undone (no TAP, no
 * membership, no descriptor) and *e says which step failed. Returns 0 or -1.
 * Thread: set-up (JS).
 */
int relay_open(struct relay *r, const struct relay_config *cfg, struct vd_error *e);

/*
 * Add vNIC vc to the relay, running or not: checked as relay_open() checks
 * its vNICs (EINVAL naming the value), a (VLAN, MAC) another vNIC has
 * refused (EEXIST naming both; with vc->mac NULL, checked once the kernel
 * picked one), as is a TAP name its namespace already has (tap_open: the
 * relay's own vNICs too), and ENOSPC when RELAY_MAX_VNICS are in use. Its
 * TAP is built as relay_open() builds one (in vc->netns_fd's namespace when
 * >= 0; MAC, the relay's MTU, offloads and virtio_net_hdr as in force, ENOTSUP
 * when the TAP cannot take it; ARP sysctls), its link left down (relay_up()
 * after), then wired in: its MAC in every queue's filter (the form in force:
 * classic, or the CPU-recording eBPF with its map kept; the kernel swaps a
 * filter atomically), in the parent's unicast filter with membership unicast
 * (nothing new with promisc or none), its TAP queues in every queue's epoll
 * set, and the routing table published (relay.h above). On failure nothing is
 * left behind: no TAP, no membership, the filters as they were. Returns its
 * slot (>= 0), or -errno with *e filled (ETIMEDOUT: the threads did not pass
 * a round boundary after the last change within RELAY_LIVE_WAIT_MS; EBADF: r
 * is not open). Thread: set-up (JS).
 */
int relay_add_vnic(struct relay *r, const struct relay_vnic_config *vc, struct vd_error *e);

/*
 * Remove the vNIC in slot: out of the epoll sets and the routing table
 * (published), its MAC out of the filters and the parent's unicast filter,
 * then, once every running thread passed a round boundary (none can touch it
 * any more), its counters into *out (may be NULL; they are also kept in the
 * totals relay_snapshot() gives), zeroed, and its TAP descriptors closed:
 * the TAP is deleted and the slot free for the next relay_add_vnic(). A
 * retired vNIC is removed the same way. Returns 0 or -errno with *e filled:
 * ERANGE (slot outside 0..RELAY_MAX_VNICS-1), ENOENT (no vNIC in it),
 * ETIMEDOUT (the threads did not pass a boundary within RELAY_LIVE_WAIT_MS:
 * the vNIC is out of routing but its TAP still open, in its slot; calling
 * again finishes). Failing to update the filter or the membership is not an
 * error (the old filter lets its frames in to be dropped as not_for_us; a
 * stale unicast entry goes when the relay closes). Thread: set-up (JS).
 */
int relay_remove_vnic(struct relay *r, int slot, struct relay_vnic_counters *out, struct vd_error *e);

/* One past the highest slot holding a vNIC (0: none): relay_snapshot()'s vnics count, the slots to walk. Thread: set-up (JS). */
int relay_vnic_slots(const struct relay *r);

/* 1 when slot holds a vNIC (also one being removed, or retired), else 0 (any slot number). Thread: set-up (JS). */
int relay_vnic_present(const struct relay *r, int slot);

/* Bring the vNIC in slot `vnic` (relay_vnic_present)'s link up (IFF_UP). Returns 0 or -1 with *e filled. Thread: set-up. */
int relay_up(struct relay *r, int vnic, struct vd_error *e);

/* Start every queue's relay thread. Returns 0 or -1 with *e filled. Thread: set-up. */
int relay_start(struct relay *r, struct vd_error *e);

/* Ask every thread to end and join them; idempotent. Thread: set-up. */
void relay_stop(struct relay *r);

/* relay_stop(), then close every descriptor and free the buffers; idempotent. relay_describe() still answers. Thread: set-up. */
void relay_close(struct relay *r);

/*
 * The parent came back as a new device (deleted and re-created, or moved back
 * into this namespace): bind the packet socket to parent/ifindex and add the
 * membership again, without stopping the relay threads (bind() on a packet
 * socket is atomic towards recvmsg()/send()). The device must be Ethernet.
 * The parent's name and ifindex are updated. Returns 0 or -1 with *e filled
 * (EINVAL with several queues: a fanout member cannot be bound again, so the
 * daemon has to be restarted). The host path, when in force or refused
 * by the link alone, follows: a new tcx link on the new device (the program
 * kept; no capability needed), its MAC in the program's map; refused, the
 * relay goes on without it (relay_info.host_err).
 * Thread: set-up (JS).
 */
int relay_rebind(struct relay *r, const char *parent, int ifindex, struct vd_error *e);

/*
 * Read the parent's MAC again (SIOCGIFHWADDR, no capability) and, when it
 * changed, write it into the host path's map, where its program reads it:
 * after a link event on the parent (`ip link set dev eth0 address ...`).
 * Returns 1 when it changed, 0 when not (or no host path), -errno when it
 * cannot be read. Thread: set-up (JS).
 */
int relay_host_refresh(struct relay *r);

/* The vNIC count: slots holding one (0 before relay_open()). Thread: set-up (JS). */
int relay_nvnics(const struct relay *r);

/* The relay as built, into *out. Thread: set-up (JS). */
void relay_describe(const struct relay *r, struct relay_info *out);

/* The vNIC in slot `vnic` (relay_vnic_present) as built, into *out (tx_flags read atomically). Thread: set-up (JS). */
void relay_describe_vnic(const struct relay *r, int vnic, struct relay_vnic_info *out);

/*
 * Fold each socket's receive-buffer drop count (PACKET_STATISTICS, which the
 * kernel resets on every read) into the receive drops that concern no vNIC
 * (FRAME_DROP_OVERRUN). The JS thread is that counter's one writer. Thread: JS.
 */
void relay_collect_overruns(struct relay *r);

/*
 * Every counter at one moment, added up over the queues (each value read
 * atomically; the vNICs' all zero once relay_close() ran): vnics[s] (the
 * caller gives relay_vnic_slots() of them; may be NULL) the vNIC in slot s's
 * (zero for a free slot), rx what reached it (from the parent or another
 * vNIC) with the drops charged to it, tx what it sent; *unrouted the receive
 * drops that concern no vNIC (another station's unicast, another VLAN, runts,
 * socket overruns); *total (may be NULL) every vNIC's added up, the removed
 * ones' last counters included (totals never go back), with the unrouted
 * drops in total->rx. Thread: set-up (JS).
 */
void relay_snapshot(const struct relay *r, struct relay_vnic_counters *vnics, struct relay_dir_counters *unrouted,
		    struct relay_vnic_counters *total);

/* Turn anti-spoofing on (1) or off (0) on the vNIC in slot `vnic`, or on every vNIC with -1, for the frames read from now on. Thread: set-up (JS). */
void relay_set_antispoof(struct relay *r, int vnic, int on);

/*
 * Announce one of the addresses of the vNIC in slot `vnic` on the parent: a gratuitous ARP for
 * family AF_INET (addr: 4 bytes) or an unsolicited neighbour advertisement
 * for AF_INET6 (16 bytes), from its MAC and tagged with its VLAN, sent on
 * queue 0's packet socket (behind a zeroed virtio_net_hdr when one is in
 * force). Not counted with the relayed frames. Returns 0 or -errno
 * (EAFNOSUPPORT: another family; ENETDOWN: the parent is down; ENODEV: the
 * vNIC was retired, or is being removed). Thread: JS.
 */
int relay_announce(struct relay *r, int vnic, int family, const uint8_t *addr);

/*
 * The errno that ended a relay thread, or 0: reading the parent or waiting
 * for frames, the failed system call's name to *call ("recvmsg",
 * "getsockopt(SO_ERROR)", "ppoll", "epoll_wait"; call may be NULL). A vNIC's
 * trouble never ends a thread (relay_vnic_gone). Thread: any.
 */
int relay_thread_error(const struct relay *r, const char **call);

/*
 * The errno of reading the TAP of the vNIC in slot `vnic` that retired it
 * (EBADFD: the TAP was deleted from outside, or its namespace went), else 0
 * (also for a free slot). A retired vNIC is out of every queue's epoll set
 * and no frame is routed to it; the other vNICs never notice. Its descriptors
 * are closed by relay_remove_vnic() or relay_close(). Thread: set-up (JS).
 */
int relay_vnic_gone(const struct relay *r, int vnic);

#endif
