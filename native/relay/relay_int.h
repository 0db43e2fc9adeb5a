/*
 * relay_int.h - the relay's insides, private to the files of native/relay/ (relay.h
 * is the public face): the structs, the helpers every file uses on the frame
 * path (counting, writing a frame, the vNICs of a VLAN) as static inlines so
 * each stays in the caller's code as it was when the relay was one file, and the
 * calls one file makes into another.
 */
#ifndef VETHD_RELAY_INT_H
#define VETHD_RELAY_INT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../frame.h"
#include "../hostlink.h"
#include "../relay.h"
#include "../ring.h"
#include "../vnictab.h"

/* Room for a 64 KiB GSO super-frame, its virtio_net_hdr and a reinserted VLAN tag. */
#define RELAY_FRAME_MAX (65536 + 64)
/* Largest GSO super-frame (the kernel's default gso_max_size), bytes; bigger ones (BIG TCP) take the V2 copy path. */
#define RELAY_GSO_MAX 65536
/* Least V2 ring size with super-frame slots (seven 64 KiB slots to a 512 KiB block): 224 slots, bytes. */
#define RELAY_GSO_RING_BYTES (16 << 20)
/* Bytes kept free before each buffer so a VLAN tag can be reinserted in place. */
#define RELAY_HEADROOM 64
#define VNET_HLEN ((size_t)sizeof(struct virtio_net_hdr))
/* Frames from the parent handled in one round of the relay loop, before it looks at the vNICs and the stop flag. */
#define RX_BUDGET 256
/* epoll data of the stop eventfd and of a queue's sync eventfd (a vNIC's is its slot). */
#define TOKEN_STOP UINT32_MAX
#define TOKEN_SYNC (UINT32_MAX - 1)
_Static_assert(sizeof(struct virtio_net_hdr) == FRAME_VNET_HLEN, "frame.c's virtio_net_hdr layout");

/*
 * One vNIC, in its slot of r->vnics: a TAP with a queue per relay queue. Its
 * MAC (as the kernel has it) and VLAN ID (frames from the parent must carry
 * it and reach the vNIC untagged, frames to the parent get it; 0: none) are
 * its key, r->key[slot], in the routing tables. The JS thread writes a
 * slot's fields only while no table a relay thread may hold has the slot
 * (live.c), except tx_flags and gone, which are atomic.
 */
struct relay_vnic {
	char tap[IF_NAMESIZE];                 /* its name */
	int tap_ifindex;                       /* its ifindex, in its namespace */
	int tap_ctl;                           /* datagram socket made in its namespace, for its interface ioctls */
	int tap_fd[RELAY_MAX_QUEUES];          /* queue k's /dev/net/tun descriptor; closing them all deletes the vNIC */
	unsigned tx_flags;                     /* frame_classify_tx() flags; FRAME_TX_ANTISPOOF changed by relay_set_antispoof() (atomic) */
	int gone;                              /* errno of reading its TAP that retired it (EBADFD: deleted from outside), 0 while it serves (atomic; set once, by the first queue's thread to see it) */
};

/*
 * One queue: a packet socket on the parent and queue `index` of every TAP,
 * with the thread that relays between them. With one queue this is the
 * whole relay.
 */
struct relay_queue {
	struct relay *r;                       /* the relay it belongs to */
	int index;                             /* 0..r->queues-1 */
	int sock_fd;                           /* packet socket bound to the parent; queue 0's holds the membership */
	int epoll_fd;                          /* its thread's epoll set: every serving vNIC's tap_fd[index] (data: its slot), r->stop_fd and sync_fd (loop.c: relay_wait) */
	int sync_fd;                           /* eventfd the JS thread writes after a change, so a sleeping thread passes a round boundary (live.c) */
	const struct vnictab *tab;             /* the routing table of its thread's current round (its own; round_begin) */
	uint64_t seen;                         /* r->gen as its thread loaded it at its last round boundary (atomic; written by it, read by the JS thread) */
	struct rx_ring ring;                   /* receive ring in force; ring.mode RING_OFF: recvmsg() per frame */
	cpu_set_t cpus;                        /* CPUs its frames arrive on under PACKET_FANOUT_CPU (none set otherwise), where its thread waits while traffic is sparse when rx_cpu does not say (follow.h) */
	uint32_t *rx_cpu;                      /* the CPU its socket's last accepted frame arrived on (rxcpu.h; relaxed atomic reads), or NULL: the classic filter, or none */
	int rx_map_fd;                         /* with rx_cpu: the map's descriptor, to load the filter again for other MACs (rxcpu_reattach), else -1 */
	pthread_t tid;                         /* its relay thread */
	int rx_error;                          /* errno of reading the parent, or of waiting, that ended the thread, 0 while it runs (atomic) */
	const char *rx_error_call;             /* the system call rx_error came from: "recvmsg", "getsockopt(SO_ERROR)", "ppoll" or "epoll_wait" (written before rx_error) */
	uint8_t *rx_buf;                       /* RELAY_HEADROOM + RELAY_FRAME_MAX bytes: a frame from the socket's queue */
	uint8_t *tx_buf;                       /* tx_batch * RELAY_FRAME_MAX bytes: frames read from the TAPs */
	struct relay_vnic_counters *c;         /* [RELAY_MAX_VNICS]: the thread's counters per vNIC slot (zeroed when a vNIC leaves it) */
	struct relay_dir_counters unrouted;    /* receive drops that concern no vNIC: the thread's, but drops[FRAME_DROP_OVERRUN] the JS thread's */
};

struct relay {
	char parent[IF_NAMESIZE];              /* parent name */
	uint64_t used;                         /* bit s: slot s holds a vNIC, its TAP open (JS thread only) */
	uint64_t serving;                      /* bit s: slot s's vNIC is in the live routing table; used and not serving: being removed (JS thread only) */
	struct relay_vnic vnics[RELAY_MAX_VNICS]; /* by slot */
	struct vnictab_key key[RELAY_MAX_VNICS]; /* by slot: each vNIC's (VLAN, MAC), the routing tables' source */
	struct vnictab tabs[2];                /* (VLAN, MAC) -> slot: the live table and the spare the next change is built in (live.c) */
	const struct vnictab *tab;             /* the live one, of the serving slots (atomic: the JS thread publishes with release, each relay thread loads it once a round: round_begin) */
	uint64_t gen;                          /* changes published so far (atomic; bumped with release after r->tab changed) */
	int synced;                            /* 1: every running thread passed a round boundary since the last change, so the spare table is nobody's (JS thread only) */
	struct relay_vnic_counters departed;   /* the removed vNICs' last counters, added up (written by the JS thread): totals never go back */
	int stop_fd;                           /* eventfd: written once to wake every thread for shutdown */
	int parent_ifindex;                    /* ifindex the sockets are bound to; changed by relay_rebind() */
	int mtu;                               /* MTU given to the vNICs (the parent's), bytes */
	int vnet_hdr;                          /* 1: a virtio_net_hdr precedes every frame on every descriptor */
	enum psock_membership membership;      /* membership in force */
	int rcvbuf;                            /* receive buffer asked for, bytes (again at rebind); also each ring's size (setup.c: ring_bytes) */
	int kernel_filter;                     /* 1: the BPF filter is attached */
	int tx_batch;                          /* frames per sendmmsg() */
	int qdisc_bypass;                      /* 1: PACKET_QDISC_BYPASS is in force */
	int coalesce_us;                       /* rx pause after a burst of frames, µs (coalesce.h) */
	int queues;                            /* queues in use, 1..RELAY_MAX_QUEUES */
	enum relay_fanout fanout;              /* spreading in force when queues > 1 */
	int fanout_group;                      /* PACKET_FANOUT group id, -1 with one queue */
	enum relay_follow follow;              /* how the threads follow their frames (follow.h: follow_mode_with over the queues) */
	int follow_err;                        /* why the filter that records the receiving CPU was not attached when following was asked for (positive errno of the last refusal: EPERM without CAP_BPF), else 0 */
	char follow_why[128];                  /* with follow_err: the verifier's reason when it refused the program, else "" */
	uint32_t mark;                         /* SO_MARK on every packet socket, and the filter's mark prefix (filter.h); 0: none */
	int host_want;                         /* 1: the host path was asked for (relay_config.host_path) */
	struct hostlink host;                  /* the host path's program, map and tcx link (hostlink.h); host.link_fd >= 0 while it is in force */
	uint8_t parent_mac[6];                 /* the parent's MAC as the host path's map has it */
	int host_err;                          /* positive errno of the last refusal of the host path (at set-up, a rebind), else 0 */
	char host_why[160];                    /* the verifier's reason, or why the host path was not tried (qdisc bypass, no kernel filter), else "" */
	cpu_set_t allowed;                     /* the CPUs the process may run on at set-up: each following thread's affinity while traffic is dense, and the only CPUs it waits on */
	long long dense_ns;                    /* when a following thread last saw dense traffic, CLOCK_MONOTONIC ns, 0: never (atomic; follow.c) */
	int running;                           /* threads started and not joined; set-up thread only */
	int stop;                              /* 1 asks the relay threads to end (atomic) */
	struct relay_queue q[RELAY_MAX_QUEUES];/* q[0..queues-1] */
};

/* The batch handed to sendmmsg(), on the relay thread's stack; the frames themselves are in q->tx_buf. */
struct tx_batch {
	struct mmsghdr msgs[RELAY_TX_BATCH];   /* one per frame */
	struct iovec iov[RELAY_TX_BATCH];      /* one per msgs[] entry */
};

/* One writer per counter: a relaxed load + store is enough and costs no lock prefix. */
#define COUNTER_ADD(p, n) __atomic_store_n((p), __atomic_load_n((p), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)

/* Count one frame not relayed, for reason v. Thread: the counter's one writer. */
static inline void count_drop(struct relay_dir_counters *c, enum frame_verdict v)
{
	COUNTER_ADD(&c->drops[v], 1);
}

/* Count one frame relayed, of `bytes` bytes. Thread: the counter's one writer. */
static inline void count_pass(struct relay_dir_counters *c, size_t bytes)
{
	COUNTER_ADD(&c->frames, 1);
	COUNTER_ADD(&c->bytes, bytes);
}

/* 1 once the relay threads are asked to end. Thread: any. */
static inline int stop_asked(const struct relay *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

/*
 * A round boundary of queue q's thread: it takes the live routing table for
 * the round (q->tab; acquire: what a table routes to was set up before it
 * was published) and says which change it has seen (q->seen; release:
 * whatever it did with the tables it held before is done, so the JS thread
 * may reuse them and close what they routed to: live.c). The gen is loaded
 * first: a thread that saw change g holds a table at least as new as g's.
 * Two loads and a store, no system call. Thread: relay.
 */
static inline void round_begin(struct relay_queue *q)
{
	const uint64_t gen = __atomic_load_n(&q->r->gen, __ATOMIC_ACQUIRE);

	q->tab = __atomic_load_n(&q->r->tab, __ATOMIC_ACQUIRE);
	__atomic_store_n(&q->seen, gen, __ATOMIC_RELEASE);
}

/* 1 while vNIC i serves (not retired). Thread: any. */
static inline int vnic_serves(const struct relay *r, int i)
{
	return __atomic_load_n(&r->vnics[i].gone, __ATOMIC_RELAXED) == 0;
}

/* The next vNIC of table t after i that serves VLAN vid, other than skip (-1: none), or -1. Thread: any. */
static inline int vlan_next(const struct relay *r, const struct vnictab *t, unsigned vid, int skip, int i)
{
	for (i = vnictab_next(t, i); i >= 0; i = vnictab_next(t, i))
		if (t->key[i].vid == vid && i != skip && vnic_serves(r, i))
			return i;
	return -1;
}

/* Every serving vNIC i of table t in VLAN vid but skip (-1: none): a group frame's ports. */
#define FOR_EACH_VLAN_VNIC(r, t, vid, skip, i) \
	for ((i) = vlan_next((r), (t), (vid), (skip), -1); (i) >= 0; (i) = vlan_next((r), (t), (vid), (skip), (i)))

/* Map a failed write()/send() errno to the reason it is counted under. */
static inline enum frame_verdict write_error_verdict(int err)
{
	switch (err) {
	case EIO: /* TAP administratively down */
		return FRAME_DROP_TAP_DOWN;
	case ENETDOWN:
	case ENXIO:
	case ENODEV:
		return FRAME_DROP_PARENT_DOWN;
	case ENOBUFS:
	case EAGAIN:
		return FRAME_DROP_NO_BUFFER;
	case EMSGSIZE:
		return FRAME_DROP_OVERSIZE;
	case EINVAL:
		return FRAME_DROP_MALFORMED;
	default:
		return FRAME_DROP_IO_ERROR;
	}
}

/* write() one frame, retrying EINTR: 0, or the errno. Thread: any. */
static inline int write_frame(int fd, const uint8_t *buf, size_t len)
{
	while (write(fd, buf, len) < 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

/*
 * Write one frame (write() on the TAP, the same as send() on the bound packet
 * socket), retrying EINTR; count it as relayed (counted bytes) or as dropped
 * by the errno's reason. Thread: relay.
 */
static inline void put_frame(int fd, const uint8_t *buf, size_t len, size_t counted, struct relay_dir_counters *c)
{
	int err = write_frame(fd, buf, len);

	if (err)
		count_drop(c, write_error_verdict(err));
	else
		count_pass(c, counted);
}

/* End queue q's thread on a failure of reading the parent or of waiting: err from system call `call`. Thread: relay. */
static inline void rx_fail(struct relay_queue *q, int err, const char *call)
{
	q->rx_error_call = call;
	__atomic_store_n(&q->rx_error, err, __ATOMIC_RELEASE);
}

/*
 * Whether err, from a read of the packet socket or its pending error, ends
 * the relay thread: not 0, EAGAIN, EINTR, nor ENETDOWN (the parent went down;
 * the kernel rebinds the socket at link up).
 */
static inline int rx_error_ends(int err)
{
	return err && err != EAGAIN && err != EINTR && err != ENETDOWN;
}

/* Shared between the relay's files only: called directly, not through the addon's PLT. */
#pragma GCC visibility push(hidden)

/* rx.c: parent -> vNICs, one round of up to RX_BUDGET frames (see there). Thread: relay. */
unsigned rx_round(struct relay_queue *q, size_t vh, int *sockq, int *err);
/* rx.c: the packet socket's pending error (SO_ERROR, which clears it), or 0. Thread: relay. */
int sock_error(const struct relay_queue *q);

/* tx.c: vNICs -> parent, one tx_pass() for each TAP in ev[0..n-1] (see there). Thread: relay. */
void tx_round(struct relay_queue *q, const struct epoll_event *ev, int n, struct tx_batch *b, size_t vh);

/* setup.c: vNIC vc built into free slot `slot` (its TAP in its namespace; r->key[slot]); may_drop_vnet: the first vNIC of relay_open(), whose TAP may turn virtio_net_hdr off. Thread: set-up. */
int open_vnic(struct relay *r, int slot, const struct relay_vnic_config *vc, int may_drop_vnet, struct vd_error *e);
/* setup.c: close slot's TAP descriptors (deleting the TAP) and its control socket. Thread: set-up. */
void close_vnic(struct relay *r, int slot);
/* setup.c: the filter for table t on queue q's socket, in the form in force (eBPF keeps its map). Thread: set-up. */
int queue_filter(struct relay_queue *q, const struct vnictab *t, struct vd_error *e);
/* setup.c: vNIC vc's name, VLAN ID and link-local mask in range, else -1 with *e: EINVAL, "<verb>: <what> <value> is outside <range>", from call. Thread: set-up. */
int check_vnic(const struct relay_vnic_config *vc, const char *call, const char *verb, struct vd_error *e);
/* setup.c: -1 with *e: EEXIST, "<verb>: MAC <mac> [in VLAN <vid>] is vNIC <other's name>'s", about vNIC tap, from call. Thread: set-up. */
int mac_taken(const struct relay *r, const char *tap, const struct vnictab_key *k, int other, const char *call, const char *verb,
	      struct vd_error *e);

/* stats.c: slot's counters over every queue added into *sum (each value read atomically). Thread: any. */
void vnic_counters_sum(const struct relay *r, int slot, struct relay_vnic_counters *sum);
/* stats.c: c added into *into, counter by counter (into's one writer). */
void counters_fold(const struct relay_dir_counters *c, struct relay_dir_counters *into);

/* follow.c: where queue q's thread waits (*at, updated), dense or not at `now` (see there). Thread: relay. */
void follow_frames(struct relay_queue *q, int *at, int dense, long long now);
/* follow.c: queue q's CPUs under PACKET_FANOUT_CPU (q->cpus). Thread: set-up. */
void queue_cpus(struct relay_queue *q);
/* follow.c: how the threads follow their frames, over every queue. Thread: set-up. */
enum relay_follow follow_mode(const struct relay *r);

/* loop.c: queue q's relay thread (pthread start routine). */
void *relay_main(void *arg);

#pragma GCC visibility pop

#endif
