/*
 * relay.c - set-up story and the relay loop, one thread per queue (see relay.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "relay.h"

#include <errno.h>
#include <limits.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "coalesce.h"
#include "filter.h"
#include "ifconf.h"
#include "netdev.h"
#include "netns.h"
#include "rxcpu.h"
#include "tap.h"
#include "txguard.h"

#define VNET_HLEN ((size_t)sizeof(struct virtio_net_hdr))
/* Frames from the parent handled in one round of the relay loop, before it looks at the vNICs and the stop flag. */
#define RX_BUDGET 256
/* A sleep of the relay thread at least this long (ns) means sparse traffic: a following thread then waits pinned where its frames arrive. */
#define RELAY_SPARSE_NS 1000000LL
_Static_assert(sizeof(struct virtio_net_hdr) == FRAME_VNET_HLEN, "frame.c's virtio_net_hdr layout");

/* One writer per counter: a relaxed load + store is enough and costs no lock prefix. */
#define COUNTER_ADD(p, n) __atomic_store_n((p), __atomic_load_n((p), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)

static void count_drop(struct relay_dir_counters *c, enum frame_verdict v)
{
	COUNTER_ADD(&c->drops[v], 1);
}

static void count_pass(struct relay_dir_counters *c, size_t bytes)
{
	COUNTER_ADD(&c->frames, 1);
	COUNTER_ADD(&c->bytes, bytes);
}

/* End queue q's thread on a failure of reading the parent or of waiting: err from system call `call`. Thread: relay. */
static void rx_fail(struct relay_queue *q, int err, const char *call)
{
	q->rx_error_call = call;
	__atomic_store_n(&q->rx_error, err, __ATOMIC_RELEASE);
}

static int stop_asked(const struct relay *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

/* 1 while vNIC i serves (not retired). Thread: any. */
static int vnic_serves(const struct relay *r, int i)
{
	return __atomic_load_n(&r->vnics[i].gone, __ATOMIC_RELAXED) == 0;
}

/* Map a failed write()/send() errno to the reason it is counted under. */
static enum frame_verdict write_error_verdict(int err)
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
static int write_frame(int fd, const uint8_t *buf, size_t len)
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
static void put_frame(int fd, const uint8_t *buf, size_t len, size_t counted, struct relay_dir_counters *c)
{
	int err = write_frame(fd, buf, len);

	if (err)
		count_drop(c, write_error_verdict(err));
	else
		count_pass(c, counted);
}

/* The PACKET_AUXDATA record of a received frame, or NULL. */
static const struct tpacket_auxdata *aux_find(struct msghdr *msg)
{
	struct cmsghdr *cmsg;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_PACKET && cmsg->cmsg_type == PACKET_AUXDATA &&
		    cmsg->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata)))
			return (const struct tpacket_auxdata *)CMSG_DATA(cmsg);
	}
	return NULL;
}

/* What the kernel said about a frame, from its TP_STATUS_* word, packet type and VLAN fields. */
static void rx_meta(struct frame_rx_meta *m, uint32_t status, int pkttype, uint16_t tci, uint16_t tpid)
{
	m->pkttype = pkttype;
	m->csum_not_ready = (status & TP_STATUS_CSUMNOTREADY) != 0;
	m->vlan_valid = (status & TP_STATUS_VLAN_VALID) != 0;
	m->vlan_tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? tpid : ETH_P_8021Q;
	m->vlan_tci = tci;
}

/*
 * Route, prepare and write one received frame to its vNIC(s): buf holds n
 * bytes, a virtio_net_hdr of vh bytes then the frame, with FRAME_VLAN_HLEN
 * writable bytes before buf. Thread: relay.
 */
static void rx_deliver(struct relay_queue *q, uint8_t *buf, size_t n, size_t vh, const struct frame_rx_meta *m)
{
	const struct relay *r = q->r;
	uint8_t *start;
	size_t len;
	unsigned vid = 0;
	int port = VNICTAB_NONE, i;
	enum frame_verdict v = n < vh ? FRAME_DROP_MALFORMED : vnictab_route(&r->tab, buf + vh, n - vh, m, &vid, &port);

	if (v == FRAME_PASS)
		v = frame_rx_finish(buf, n, vh, m, vid, &start, &len);
	if (v != FRAME_PASS) {
		count_drop(port >= 0 ? &q->c[port].rx : &q->unrouted, v);
		return;
	}
	if (port >= 0) {
		if (vnic_serves(r, port))
			put_frame(r->vnics[port].tap_fd[q->index], start, len, len - vh, &q->c[port].rx);
		return;
	}
	for (i = 0; i < r->nvnics; i++) { /* a group address: every vNIC of the VLAN */
		if (r->tab.key[i].vid != vid || !vnic_serves(r, i))
			continue;
		put_frame(r->vnics[i].tap_fd[q->index], start, len, len - vh, &q->c[i].rx);
	}
}

/*
 * One frame from the socket's receive queue by recvmsg(): the only path
 * without a ring; with one, the full copies of frames too big for a slot and
 * whatever was queued before the ring existed. Returns 0 when a frame was
 * handled, else the errno (EAGAIN: the queue is empty). Thread: relay.
 */
static int rx_recv_one(struct relay_queue *q, size_t vh)
{
	uint8_t *const base = q->rx_buf + RELAY_HEADROOM;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct sockaddr_ll from;
	struct iovec iov = { .iov_base = base, .iov_len = RELAY_FRAME_MAX };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			      .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	const struct tpacket_auxdata *aux;
	struct frame_rx_meta meta;
	ssize_t n = recvmsg(q->sock_fd, &msg, MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return errno;
	if ((size_t)n > RELAY_FRAME_MAX || (msg.msg_flags & MSG_TRUNC)) {
		count_drop(&q->unrouted, FRAME_DROP_OVERSIZE);
		return 0;
	}
	aux = aux_find(&msg);
	if (aux)
		rx_meta(&meta, aux->tp_status, from.sll_pkttype, aux->tp_vlan_tci, aux->tp_vlan_tpid);
	else
		rx_meta(&meta, 0, from.sll_pkttype, 0, 0);
	rx_deliver(q, base, (size_t)n, vh, &meta);
	return 0;
}

/*
 * rx_recv_one() until the queue is empty or RX_BUDGET frames; returns how many
 * were handled, with the errno that stopped it in *err (0: the budget). Thread: relay.
 */
static unsigned rx_recv_burst(struct relay_queue *q, size_t vh, int *err)
{
	unsigned done = 0;

	while (done < RX_BUDGET && (*err = rx_recv_one(q, vh)) == 0)
		done++;
	return done;
}

/*
 * One frame in the ring: hdr is its tpacket2_hdr/tpacket3_hdr, hdr_len that
 * header's aligned size (the sockaddr_ll follows it), the frame at mac bytes
 * from hdr with its virtio_net_hdr just before. Thread: relay.
 */
static void rx_ring_frame(struct relay_queue *q, uint8_t *hdr, size_t hdr_len, unsigned mac, uint32_t snaplen,
			  uint32_t len, uint32_t status, uint16_t tci, uint16_t tpid, size_t vh)
{
	const struct sockaddr_ll *sll = (const struct sockaddr_ll *)(hdr + hdr_len);
	struct frame_rx_meta meta;

	if (snaplen < len) { /* bigger than a V3 block, or no room for a V2 copy */
		count_drop(&q->unrouted, FRAME_DROP_OVERSIZE);
		return;
	}
	rx_meta(&meta, status, sll->sll_pkttype, tci, tpid);
	rx_deliver(q, hdr + mac - vh, snaplen + vh, vh, &meta);
}

/*
 * Slots ahead of the current one that rx_ring_v2() prefetches (ring.h). On the
 * bench (A/B, 8 rounds, 64-byte stream): 2 ahead cut relay CPU per frame by
 * 0.01-0.12 µs, 4 ahead by less.
 */
#define RX_PREFETCH_AHEAD 2

/* Handle the V2 slots user space owns, up to RX_BUDGET; returns how many. Thread: relay. */
static unsigned rx_ring_v2(struct relay_queue *q, size_t vh)
{
	struct tpacket2_hdr *h;
	unsigned done = 0;

	while (done < RX_BUDGET && (h = ring_v2_acquire(&q->ring))) {
		uint32_t status = h->tp_status;

		ring_v2_prefetch(&q->ring, RX_PREFETCH_AHEAD);
		if (status & TP_STATUS_COPY) /* truncated here; the whole frame is on the socket queue */
			(void)rx_recv_one(q, vh);
		else
			rx_ring_frame(q, (uint8_t *)h, TPACKET_ALIGN(sizeof(*h)), h->tp_mac, h->tp_snaplen, h->tp_len,
				      status, h->tp_vlan_tci, h->tp_vlan_tpid, vh);
		ring_v2_release(&q->ring, h);
		done++;
	}
	return done;
}

/* Handle the next V3 block when user space owns it; returns its frame count (0: none ready). Thread: relay. */
static unsigned rx_ring_v3(struct relay_queue *q, size_t vh)
{
	struct tpacket_block_desc *b = ring_v3_acquire(&q->ring);
	struct tpacket3_hdr *h;
	unsigned i, n;

	if (!b)
		return 0;
	n = b->hdr.bh1.num_pkts;
	h = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
	for (i = 0; i < n; i++) {
		rx_ring_frame(q, (uint8_t *)h, TPACKET_ALIGN(sizeof(*h)), h->tp_mac, h->tp_snaplen, h->tp_len,
			      h->tp_status, h->hv1.tp_vlan_tci, h->hv1.tp_vlan_tpid, vh);
		h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
	}
	ring_v3_release(&q->ring, b);
	return n ? n : 1; /* an empty retired block still counts as progress */
}

/* The batch handed to sendmmsg(), on the relay thread's stack; the frames themselves are in q->tx_buf. */
struct tx_batch {
	struct mmsghdr msgs[RELAY_TX_BATCH];   /* one per frame */
	struct iovec iov[RELAY_TX_BATCH];      /* one per msgs[] entry */
};

/*
 * Send the n frames queued in b with sendmmsg(), one system call for the lot
 * while none fails; a failed frame is counted in c by its errno's reason and
 * the rest go on. Thread: relay.
 */
static void tx_flush(struct relay_queue *q, struct tx_batch *b, struct relay_dir_counters *c, unsigned n, size_t vh)
{
	struct mmsghdr *m = b->msgs;
	unsigned i = 0, j;

	while (i < n) {
		int k = sendmmsg(q->sock_fd, m + i, n - i, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			count_drop(c, write_error_verdict(errno)); /* frame i failed */
			i++;
			continue;
		}
		for (j = i; j < i + (unsigned)k; j++)
			count_pass(c, m[j].msg_hdr.msg_iov->iov_len - vh);
		i += (unsigned)k;
	}
}

/*
 * Switch a frame vNIC `from` sent (buf: vh bytes of virtio_net_hdr, then len
 * bytes of frame) to the other vNICs on the parent, as a learning switch
 * would: a group address to every other vNIC of its VLAN (the frame also goes
 * to the wire); unicast to a vNIC's MAC to that vNIC only. Returns 1 when the
 * frame went to a vNIC and is done, 0 when it is for the wire. Thread: relay.
 */
static int tx_switch(struct relay_queue *q, int from, const uint8_t *buf, size_t len, size_t vh)
{
	const struct relay *r = q->r;
	const unsigned vid = r->tab.key[from].vid;
	int to, i;

	if (r->nvnics == 1)
		return 0;
	if (frame_mac_is_group(buf + vh)) {
		for (i = 0; i < r->nvnics; i++)
			if (i != from && r->tab.key[i].vid == vid && vnic_serves(r, i))
				put_frame(r->vnics[i].tap_fd[q->index], buf, vh + len, len, &q->c[i].rx);
		return 0;
	}
	to = vnictab_find(&r->tab, vid, buf + vh);
	if (to < 0 || to == from)
		return 0;
	if (!vnic_serves(r, to)) { /* retired: the frame is for nobody, as for a station that left */
		count_drop(&q->c[from].tx, FRAME_DROP_IO_ERROR);
		return 1;
	}
	put_frame(r->vnics[to].tap_fd[q->index], buf, vh + len, len, &q->c[to].rx);
	count_pass(&q->c[from].tx, len);
	return 1;
}

/*
 * The verdict on a frame read from vNIC vn: n bytes at buf (a virtio_net_hdr
 * of vh bytes, then the frame) from a read() asked for cap bytes. The TAP
 * returns a frame's whole length even when it copied only cap bytes of it
 * (tun_put_user), so n > cap is a frame cut short: never read past cap.
 * Thread: relay.
 */
static enum frame_verdict tx_verdict(const struct relay_vnic *vn, const struct vnictab_key *k, const uint8_t *buf,
				     size_t n, size_t cap, size_t vh)
{
	enum frame_verdict v;

	if (n > cap)
		return FRAME_DROP_OVERSIZE;
	if (n < vh)
		return FRAME_DROP_MALFORMED;
	v = frame_classify_tx(buf + vh, n - vh, k->mac, __atomic_load_n(&vn->tx_flags, __ATOMIC_RELAXED));
	if (v == FRAME_PASS && vh)
		v = txguard_vnet(buf, buf + vh, n - vh); /* after the classifier: the kernel must not rewrite what it passed */
	return v;
}

/*
 * Read frames from vNIC v until it is empty or a batch is full, then send
 * the batch. Returns 0 after a full batch (more may be queued), else the
 * errno that stopped the reading (EAGAIN: empty; EBADFD: the TAP was deleted
 * from outside). Thread: relay.
 */
static int tx_pass(struct relay_queue *q, int v, struct tx_batch *b, size_t vh)
{
	const struct relay *r = q->r;
	const struct relay_vnic *vn = &r->vnics[v];
	const struct vnictab_key *k = &r->tab.key[v];
	struct relay_dir_counters *c = &q->c[v].tx;
	const int fd = vn->tap_fd[q->index];
	unsigned n = 0, reads;
	int rerr = 0;

	/* At most 2 x tx_batch reads: frames dropped or switched to a vNIC do not fill the batch. */
	for (reads = 0; n < (unsigned)r->tx_batch && reads < 2u * (unsigned)r->tx_batch; reads++) {
		/* Room before the frame for an 802.1Q tag (--vlan). */
		uint8_t *buf = q->tx_buf + (size_t)n * RELAY_FRAME_MAX + FRAME_VLAN_HLEN;
		const size_t cap = RELAY_FRAME_MAX - FRAME_VLAN_HLEN;
		enum frame_verdict verdict;
		ssize_t len = read(fd, buf, cap);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			rerr = errno;
			break;
		}
		verdict = tx_verdict(vn, k, buf, (size_t)len, cap, vh);
		if (verdict != FRAME_PASS) {
			count_drop(c, verdict);
			continue;
		}
		if (tx_switch(q, v, buf, (size_t)len - vh, vh))
			continue;
		if (k->vid) {
			buf = frame_vlan_tag(buf, vh, ETH_P_8021Q, k->vid);
			len += FRAME_VLAN_HLEN;
		}
		b->iov[n].iov_base = buf;
		b->iov[n].iov_len = (size_t)len;
		b->msgs[n].msg_hdr.msg_iov = &b->iov[n];
		b->msgs[n].msg_hdr.msg_iovlen = 1;
		n++;
	}
	if (n)
		tx_flush(q, b, c, n, vh);
	return rerr;
}

/* The relay thread's timer slack, ns: its coalescing pauses are 25 µs and up. */
#define RELAY_TIMER_SLACK_NS 5000
/* Most epoll events taken per wait. */
#define RELAY_EVENTS 16
/* epoll data of the stop eventfd (a vNIC's is its index). */
#define TOKEN_STOP UINT32_MAX
/* relay_wait() results: the epoll set (a vNIC or the stop eventfd) is ready; the packet socket has frames; it has an error. */
#define WAIT_EPOLL 1
#define WAIT_SOCK 2
#define WAIT_SOCK_ERR 4

/*
 * Sleep until a vNIC has frames to send or shutdown is asked (q->epoll_fd
 * readable), for at most us µs (a coalescing pause), or with us < 0 until
 * then or until the packet socket is readable. The socket is polled here
 * rather than kept in the epoll set: an epoll entry on its wait queue would be
 * called for every frame the kernel puts in the ring, while a poll() entry is
 * there only while the thread sleeps. Returns WAIT_EPOLL, WAIT_SOCK (POLLIN)
 * and/or WAIT_SOCK_ERR (POLLERR: sk_err set, e.g. ENETDOWN) for what is ready,
 * 0 for none (timeout, EINTR), -errno when ppoll() itself fails. Thread: relay.
 */
static int relay_wait(const struct relay_queue *q, int us)
{
	struct pollfd p[2] = { { .fd = q->epoll_fd, .events = POLLIN }, { .fd = q->sock_fd, .events = POLLIN } };
	const struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000L };

	int n = ppoll(p, us < 0 ? 2 : 1, us < 0 ? NULL : &ts, NULL);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	/* p[1] is not polled during a pause: its revents stay 0 */
	return (p[0].revents ? WAIT_EPOLL : 0) | (p[1].revents & POLLIN ? WAIT_SOCK : 0) |
	       (p[1].revents & (POLLERR | POLLHUP | POLLNVAL) ? WAIT_SOCK_ERR : 0);
}

/*
 * The packet socket's pending error (SO_ERROR, which clears it), or 0. Read
 * so, not by recvmsg(): with a ring, the socket's queue holds the full copies
 * of TP_STATUS_COPY frames, each to be read when its slot comes up, and a
 * recvmsg() that found one would hand it on ahead of the slots before it.
 * Thread: relay.
 */
static int sock_error(const struct relay_queue *q)
{
	int err = 0;
	socklen_t len = sizeof(err);

	return getsockopt(q->sock_fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ? errno : err;
}

/*
 * Whether err, from a read of the packet socket or its pending error, ends
 * the relay thread: not 0, EAGAIN, EINTR, nor ENETDOWN (the parent went down;
 * the kernel rebinds the socket at link up).
 */
static int rx_error_ends(int err)
{
	return err && err != EAGAIN && err != EINTR && err != ENETDOWN;
}

/*
 * Parent -> vNICs, one round: the ring's frames, up to RX_BUDGET (fewer: the
 * ring ran dry); the socket's own queue too when there is no ring, or, at
 * start (*sockq), once the ring had nothing: frames queued before the ring
 * existed (*sockq cleared when it was empty). Returns the frames handled;
 * *err is the errno that ended a read of the queue (EAGAIN: empty), else 0.
 * Thread: relay.
 */
static unsigned rx_round(struct relay_queue *q, size_t vh, int *sockq, int *err)
{
	unsigned got = 0;

	*err = 0;
	if (q->ring.mode == RING_V2) {
		got = rx_ring_v2(q, vh);
	} else if (q->ring.mode == RING_V3) {
		unsigned n;

		while (got < RX_BUDGET && (n = rx_ring_v3(q, vh)))
			got += n;
	}
	if (!got && (q->ring.mode == RING_OFF || *sockq)) {
		got = rx_recv_burst(q, vh, err);
		*sockq = got != 0;
	}
	return got;
}

/*
 * Retire vNIC v from queue q: its TAP failed to read with err (EBADFD once
 * the device is deleted: the descriptor then polls as EPOLLERR for ever). It
 * leaves this thread's epoll set; the first queue to see it records err in
 * vn->gone, which stops every queue routing frames to it. Its descriptors
 * stay open until relay_close(), so no number is reused under another
 * thread or under relay_announce(). Thread: relay.
 */
static void retire_vnic(struct relay_queue *q, int v, int err)
{
	struct relay_vnic *vn = &q->r->vnics[v];
	int none = 0;

	(void)epoll_ctl(q->epoll_fd, EPOLL_CTL_DEL, vn->tap_fd[q->index], NULL);
	(void)__atomic_compare_exchange_n(&vn->gone, &none, err, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/*
 * vNICs -> parent: one tx_pass() for each TAP in ev[0..n-1] (level-triggered:
 * one with more queued is reported again by the next wait, so a busy vNIC
 * cannot starve the others or the parent). A vNIC whose TAP is gone (EBADFD)
 * is retired alone (retire_vnic); any other read error is one frame's, counted
 * as io_error: one tenant's trouble never ends the thread.
 * Thread: relay.
 */
static void tx_round(struct relay_queue *q, const struct epoll_event *ev, int n, struct tx_batch *b, size_t vh)
{
	int i;

	for (i = 0; i < n; i++) {
		uint32_t tok = ev[i].data.u32;
		int err;

		if (tok == TOKEN_STOP)
			continue; /* the loop sees r->stop */
		err = tx_pass(q, (int)tok, b, vh);
		if (err == EBADFD || err == ENODEV) /* the device is gone: for good */
			retire_vnic(q, (int)tok, err);
		else if (err && err != EAGAIN && err != EINTR) /* one frame's trouble (EINVAL: a GSO type tun cannot express) */
			count_drop(&q->c[tok].tx, FRAME_DROP_IO_ERROR);
	}
}

/* CLOCK_MONOTONIC, ns (vDSO: no system call). Thread: any. */
static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Where a following thread waits (relay_main's `at`): anywhere it may run, or on its queue's CPUs; 0 and up: on that CPU. */
#define AT_ALLOWED (-1)
#define AT_QUEUE (-2)

/* Where queue q's thread waits while traffic is sparse: the CPU its last frame arrived on, else its queue's CPUs, else anywhere. */
static int sparse_at(const struct relay_queue *q)
{
	if (q->rx_cpu) {
		uint32_t c = __atomic_load_n(q->rx_cpu, __ATOMIC_RELAXED);

		if (c < CPU_SETSIZE && CPU_ISSET(c, &q->r->allowed))
			return (int)c;
	}
	return CPU_COUNT(&q->cpus) > 0 ? AT_QUEUE : AT_ALLOWED;
}

/*
 * Where queue q's thread waits (*at, updated). While traffic is sparse: on
 * the CPU its frames arrive on (sparse_at), so the next frame wakes it on the
 * CPU that received it, which is busy, rather than on the CPU it last ran on,
 * which may be idle and halted (a wake-up there costs tens of µs on a VM).
 * While it is dense: anywhere, so the scheduler can move it off the CPU that
 * receives, where the sender runs. dense: this thread has just seen a burst,
 * or slept less than RELAY_SPARSE_NS; recorded relay-wide at `now` (ns),
 * because one TCP flow lands on every queue (its ACKs, relayed on one CPU,
 * make the sender transmit there), so traffic is sparse only when no thread
 * has seen it dense for RELAY_SPARSE_NS. Changes the affinity only when the
 * place changes. Thread: relay.
 */
static void follow_frames(struct relay_queue *q, int *at, int dense, long long now)
{
	struct relay *r = q->r;
	int want;
	cpu_set_t one;

	if (dense)
		__atomic_store_n(&r->dense_ns, now, __ATOMIC_RELAXED);
	want = !dense && now - __atomic_load_n(&r->dense_ns, __ATOMIC_RELAXED) >= RELAY_SPARSE_NS ? sparse_at(q) : AT_ALLOWED;
	if (want == *at)
		return;
	if (want >= 0) {
		CPU_ZERO(&one);
		CPU_SET(want, &one);
	}
	if (sched_setaffinity(0, sizeof(cpu_set_t), want >= 0 ? &one : want == AT_QUEUE ? &q->cpus : &r->allowed) == 0)
		*at = want;
}

/*
 * Queue q's relay thread, both directions, in one loop: a round of frames
 * from the parent, then the vNICs that have frames to send (epoll_wait()
 * with a zero timeout on the TAPs and the stop eventfd), sleeping (relay_wait)
 * only when the round found nothing. So a write() into a TAP, which runs the
 * vNIC's stack on this thread (tun_get_user -> netif_receive_skb), has its
 * answer (ARP or echo reply, TCP ACK) sent in the same round: no other thread
 * to wake per round trip. When the ring ran dry after a burst, it pauses
 * instead, unless a vNIC has something to send (coalesce.h). Sets
 * q->rx_error when it ends on an error. Thread: relay.
 */
static void *relay_main(void *arg)
{
	struct relay_queue *q = arg;
	const struct relay *r = q->r;
	const size_t vh = r->vnet_hdr ? VNET_HLEN : 0;
	struct epoll_event ev[RELAY_EVENTS];
	struct tx_batch batch;
	unsigned burst = 0, pause_us = 0;
	/* Following its frames (follow): where it waits (follow_frames; it starts on q->cpus when any); its last blocking sleep, ns */
	const int follow = q->rx_cpu || CPU_COUNT(&q->cpus) > 0;
	int at = CPU_COUNT(&q->cpus) > 0 ? AT_QUEUE : AT_ALLOWED;
	long long slept = RELAY_SPARSE_NS;
	/* 1 while the socket's own queue may hold frames queued before the ring existed */
	int sockq = 1;
	char name[16];              /* the thread's name, at most 15 characters */

	(void)snprintf(name, sizeof(name), "vethd-q%d", q->index); /* as top -H and ps -L show it */
	(void)pthread_setname_np(pthread_self(), name);
	caps_drop_thread(); /* the thread that reads the wire and the vNICs needs no privilege */
	(void)prctl(PR_SET_TIMERSLACK, RELAY_TIMER_SLACK_NS); /* the default 50 µs slack would double the pause */
	memset(&batch, 0, sizeof(batch));
	while (!stop_asked(r)) {
		int rerr, n, err, w = 0;
		unsigned got = rx_round(q, vh, &sockq, &rerr);

		if (rx_error_ends(rerr)) {
			rx_fail(q, rerr, "recvmsg");
			break;
		}
		burst += got;
		if (got < RX_BUDGET && burst >= COALESCE_BURST_FRAMES && r->coalesce_us) {
			/* A stream, not a lone frame: let the ring fill a while instead of being woken per frame. */
			pause_us = coalesce_next_pause(pause_us, burst, (unsigned)r->coalesce_us, q->ring.mode == RING_V2 ? q->ring.nr : 0);
			burst = 0;
			if (follow)
				follow_frames(q, &at, 1, now_ns());
			w = relay_wait(q, (int)pause_us);
			if (w == 0)
				continue; /* the vNICs have nothing to send: straight back to the ring */
		} else if (!got) {
			const long long t0 = follow ? now_ns() : 0;

			burst = pause_us = 0;
			if (follow)
				follow_frames(q, &at, slept < RELAY_SPARSE_NS, t0);
			w = relay_wait(q, -1);
			if (follow)
				slept = now_ns() - t0;
			if (w > 0 && (w & WAIT_SOCK_ERR)) {
				err = sock_error(q);
				if (rx_error_ends(err)) {
					rx_fail(q, err, "getsockopt(SO_ERROR)");
					break;
				}
			}
			if (w >= 0 && !(w & WAIT_EPOLL))
				continue; /* only the socket: frames, or an error taken */
		}
		if (w < 0) { /* ppoll() itself failed */
			rx_fail(q, -w, "ppoll");
			break;
		}
		n = epoll_wait(q->epoll_fd, ev, RELAY_EVENTS, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rx_fail(q, errno, "epoll_wait");
			break;
		}
		tx_round(q, ev, n, &batch, vh);
	}
	return NULL;
}

/* 0 when lo <= v <= hi, else -1 with *e: "<ifname>: cannot open relay: <what> <v> is outside <lo>..<hi>" (EINVAL). */
static int check_range(long long v, long long lo, long long hi, const char *ifname, const char *what, struct vd_error *e)
{
	if (v >= lo && v <= hi)
		return 0;
	return vd_failf(e, ifname, "relay_open", EINVAL, "cannot open relay: %s %lld is outside %lld..%lld", what, v, lo, hi);
}

/* vNIC vc's settings: its name and VLAN ID, its link-local mask. 0, or -1 with *e filled (EINVAL). */
static int check_vnic(const struct relay_vnic_config *vc, struct vd_error *e)
{
	const size_t len = vc->tap ? strlen(vc->tap) : 0;

	if (len < 1 || len >= IF_NAMESIZE)
		return vd_failf(e, vc->tap, "relay_open", EINVAL, "cannot open relay: vNIC name of %zu bytes is outside 1..%d", len, IF_NAMESIZE - 1);
	if (check_range(vc->vlan, 0, FRAME_VID_MAX, vc->tap, "VLAN ID (0: none)", e) < 0)
		return -1;
	return check_range(vc->link_local_pass, 0, 0xffff, vc->tap, "link-local group mask", e);
}

/*
 * cfg as relay_open() takes it: every value inside its range, none clamped
 * (the TS layer owns defaults and validation; this is the last word). 0, or
 * -1 with *e filled (EINVAL, the operation naming the value). Thread: set-up.
 */
static int check_config(const struct relay_config *cfg, struct vd_error *e)
{
	const char *p = cfg->parent;
	const size_t len = p ? strlen(p) : 0;
	int i;

	if (len < 1 || len >= IF_NAMESIZE)
		return vd_failf(e, p, "relay_open", EINVAL, "cannot open relay: parent name of %zu bytes is outside 1..%d", len, IF_NAMESIZE - 1);
	if (check_range(cfg->nvnics, 1, RELAY_MAX_VNICS, p, "vNIC count", e) < 0 ||
	    check_range(cfg->membership, PSOCK_MR_PROMISC, PSOCK_MR_NONE, p, "membership", e) < 0 ||
	    check_range(cfg->rcvbuf, 0, INT_MAX, p, "receive buffer", e) < 0 ||
	    check_range(cfg->tx_batch, 1, RELAY_TX_BATCH, p, "tx batch", e) < 0 ||
	    check_range(cfg->coalesce_us, 0, RELAY_COALESCE_MAX_US, p, "rx coalescing pause (µs)", e) < 0 ||
	    check_range(cfg->queues, 1, RELAY_MAX_QUEUES, p, "queue count", e) < 0 ||
	    check_range(cfg->fanout, RELAY_FANOUT_CPU, RELAY_FANOUT_HASH, p, "fanout", e) < 0)
		return -1;
	if (cfg->rx_ring != RELAY_RING_AUTO && cfg->rx_ring != RING_OFF && cfg->rx_ring != RING_V2 && cfg->rx_ring != RING_V3)
		return vd_failf(e, p, "relay_open", EINVAL, "cannot open relay: receive ring mode %d is none of auto, v3, v2, off", cfg->rx_ring);
	for (i = 0; i < cfg->nvnics; i++)
		if (check_vnic(&cfg->vnics[i], e) < 0)
			return -1;
	return 0;
}

static void relay_init(struct relay *r, const struct relay_config *cfg)
{
	int i, k;

	memset(r, 0, sizeof(*r));
	r->stop_fd = -1;
	r->fanout_group = -1;
	for (i = 0; i < RELAY_MAX_QUEUES; i++) {
		r->q[i].r = r;
		r->q[i].index = i;
		r->q[i].sock_fd = r->q[i].epoll_fd = -1;
	}
	r->nvnics = cfg->nvnics;
	for (i = 0; i < r->nvnics; i++) {
		struct relay_vnic *vn = &r->vnics[i];
		const struct relay_vnic_config *vc = &cfg->vnics[i];

		strncpy(vn->tap, vc->tap, IF_NAMESIZE - 1);
		vn->tx_flags = (vc->antispoof ? FRAME_TX_ANTISPOOF : 0) | (vc->vlan ? FRAME_TX_ACCESS : 0) |
			       (vc->ra_guard ? FRAME_TX_RA_GUARD : 0) | (vc->dhcp_guard ? FRAME_TX_DHCP_GUARD : 0) |
			       FRAME_TX_LL_PASS(vc->link_local_pass);
		vn->tap_ctl = -1;
		for (k = 0; k < RELAY_MAX_QUEUES; k++)
			vn->tap_fd[k] = -1;
	}
	vnictab_init(&r->tab);
	strncpy(r->parent, cfg->parent, IF_NAMESIZE - 1);
	r->membership = cfg->membership;
	r->rcvbuf = cfg->rcvbuf;
	r->coalesce_us = cfg->coalesce_us;
	r->tx_batch = cfg->tx_batch;
	r->queues = cfg->queues;
	r->fanout = cfg->fanout;
	/* Left empty (no thread follows its frames) when the set cannot be read. */
	if (sched_getaffinity(0, sizeof(r->allowed), &r->allowed) < 0)
		CPU_ZERO(&r->allowed);
}

/* 0 when parent is an Ethernet device, else -1 with *e filled (EINVAL: another link type). */
static int require_ethernet(int sock, const char *parent, struct vd_error *e)
{
	int hw = netdev_hwtype(sock, parent, e);

	if (hw < 0)
		return -1;
	if (hw != ARPHRD_ETHER)
		return vd_fail(e, parent, "cannot use as parent (link type is not Ethernet)", "ioctl(SIOCGIFHWADDR)", EINVAL);
	return 0;
}

/* The parent, seen through queue 0's socket: its ifindex, Ethernet link type and MTU. */
static int probe_parent(struct relay *r, int sock, struct vd_error *e)
{
	r->parent_ifindex = netdev_ifindex(sock, r->parent, "cannot bind packet socket", e);
	if (r->parent_ifindex < 0)
		return -1;
	if (require_ethernet(sock, r->parent, e) < 0)
		return -1;
	r->mtu = netdev_get_mtu(sock, r->parent, e);
	return r->mtu < 0 ? -1 : 0;
}

/*
 * Queue q's packet socket, bound to the parent. Queue 0's decides whether
 * virtio_net_hdr is in force; the others must then get it too.
 */
static int open_socket(struct relay_queue *q, struct vd_error *e)
{
	struct relay *r = q->r;
	int vnet = r->vnet_hdr;

	q->sock_fd = psock_open(r->parent, &vnet, e);
	if (q->sock_fd < 0)
		return -1;
	if (q->index == 0) {
		r->vnet_hdr = vnet;
		if (probe_parent(r, q->sock_fd, e) < 0)
			return -1;
	} else if (vnet != r->vnet_hdr) {
		return vd_fail(e, r->parent, "cannot enable PACKET_VNET_HDR on every queue", "setsockopt(PACKET_VNET_HDR)", EINVAL);
	}
	return psock_bind(q->sock_fd, r->parent, r->parent_ifindex, r->rcvbuf, e);
}

/*
 * The membership on sock: promiscuous once for all the vNICs, or each vNIC's
 * MAC in the parent's unicast filter.
 */
static int add_memberships(const struct relay *r, int sock, const char *parent, int ifindex, struct vd_error *e)
{
	int i;

	for (i = 0; i < r->nvnics; i++) {
		if (psock_add_membership(sock, parent, ifindex, r->membership, r->tab.key[i].mac, e) < 0)
			return -1;
		if (r->membership != PSOCK_MR_UNICAST)
			break; /* promisc is one refcount on the device; none adds nothing */
	}
	return 0;
}

int relay_rebind(struct relay *r, const char *parent, int ifindex, struct vd_error *e)
{
	char name[IF_NAMESIZE] = { 0 };
	int sock = r->q[0].sock_fd;

	strncpy(name, parent, IF_NAMESIZE - 1);
	if (r->queues > 1) /* the kernel refuses bind() on a fanout member */
		return vd_fail(e, name, "cannot rebind packet sockets in a fanout group (restart vethd)", "bind", EINVAL);
	if (require_ethernet(sock, name, e) < 0)
		return -1;
	if (psock_bind(sock, name, ifindex, r->rcvbuf, e) < 0)
		return -1;
	if (add_memberships(r, sock, name, ifindex, e) < 0)
		return -1;
	memcpy(r->parent, name, IF_NAMESIZE);
	r->parent_ifindex = ifindex;
	return 0;
}

void relay_collect_overruns(struct relay *r)
{
	int i;

	for (i = 0; i < r->queues; i++) {
		struct tpacket_stats st;
		socklen_t len = sizeof(st);

		if (r->q[i].sock_fd >= 0 && getsockopt(r->q[i].sock_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			COUNTER_ADD(&r->q[i].unrouted.drops[FRAME_DROP_OVERRUN], st.tp_drops);
	}
}

/* Turn virtio_net_hdr off on every socket opened so far: the TAP would not take it. */
static int vnet_hdr_off(struct relay *r, struct vd_error *e)
{
	int off = 0, i;

	for (i = 0; i < r->queues; i++) {
		if (r->q[i].sock_fd >= 0 &&
		    setsockopt(r->q[i].sock_fd, SOL_PACKET, PACKET_VNET_HDR, &off, sizeof(off)) < 0)
			return vd_fail(e, r->parent, "cannot disable PACKET_VNET_HDR", "setsockopt(PACKET_VNET_HDR)", errno);
	}
	r->vnet_hdr = 0;
	return 0;
}

/*
 * The vNIC's ARP flux guard: answer ARP only for addresses on the vNIC itself
 * (arp_ignore=1) and announce from them only (arp_announce=2), so a parent
 * with an address in the same subnet never has its IP mapped to the vNIC's MAC.
 */
static int set_arp_sysctls(const struct relay_vnic *vn, struct vd_error *e)
{
	const struct ifconf_kv kv[] = { { IPV4_DEVCONF_ARP_IGNORE, 1 }, { IPV4_DEVCONF_ARP_ANNOUNCE, 2 } };

	return ifconf_set_ipv4(vn->tap_ifindex, vn->tap, kv, 2, "cannot set arp_ignore and arp_announce", e);
}

/*
 * vNIC vn, in the calling thread's namespace: TAP created (with all its
 * queues), MAC set (or read back into mac), the parent's MTU, offloads, sysctls. The
 * first vNIC settles whether virtio_net_hdr is in force; the others must
 * then take it too.
 */
static int build_tap(struct relay *r, struct relay_vnic *vn, const struct relay_vnic_config *vc, uint8_t mac[6], struct vd_error *e)
{
	int tap_vnet = r->vnet_hdr;
	int k;

	vn->tap_ctl = netdev_ctl_socket(vn->tap, e);
	if (vn->tap_ctl < 0)
		return -1;
	vn->tap_fd[0] = tap_open(vn->tap, &tap_vnet, r->queues > 1, e);
	if (vn->tap_fd[0] < 0)
		return -1;
	if (r->vnet_hdr && !tap_vnet) { /* both ends must agree */
		if (vn != &r->vnics[0])
			return vd_fail(e, vn->tap, "cannot enable virtio_net_hdr as on the other vNICs", "ioctl(TUNSETIFF)", ENOTSUP);
		if (vnet_hdr_off(r, e) < 0)
			return -1;
	}
	for (k = 1; k < r->queues; k++) {
		vn->tap_fd[k] = tap_open_queue(vn->tap, r->vnet_hdr, e);
		if (vn->tap_fd[k] < 0)
			return -1;
	}
	vn->tap_ifindex = netdev_ifindex(vn->tap_ctl, vn->tap, "cannot read TAP ifindex", e);
	if (vn->tap_ifindex < 0)
		return -1;
	if (vc->mac && tap_fd_set_mac(vn->tap_fd[0], vn->tap, vc->mac, e) < 0)
		return -1;
	if (tap_fd_get_mac(vn->tap_fd[0], vn->tap, mac, e) < 0)
		return -1;
	if (netdev_set_mtu(vn->tap_ctl, vn->tap, r->mtu, e) < 0)
		return -1;
	if (r->vnet_hdr && tap_fd_set_offload(vn->tap_fd[0], vn->tap, e) < 0)
		return -1;
	return vc->arp_sysctls ? set_arp_sysctls(vn, e) : 0;
}

struct tap_step {
	struct relay *r;
	struct relay_vnic *vn;
	const struct relay_vnic_config *vc;
	uint8_t mac[6];                        /* the MAC read back */
};

/* build_tap() as a netns_call() step. */
static int build_tap_step(void *arg, struct vd_error *e)
{
	struct tap_step *t = arg;

	return build_tap(t->r, t->vn, t->vc, t->mac, e);
}

/*
 * vNIC i: build_tap(), inside its namespace when it has one (the calling
 * thread enters it and comes back); then its key in the vNIC table.
 */
static int open_vnic(struct relay *r, int i, const struct relay_config *cfg, struct vd_error *e)
{
	struct tap_step t = { r, &r->vnics[i], &cfg->vnics[i], { 0 } };
	int rc = t.vc->netns_fd < 0 ? build_tap(r, t.vn, t.vc, t.mac, e) : netns_call(t.vc->netns_fd, t.vn->tap, build_tap_step, &t, e);

	if (rc < 0)
		return -1;
	rc = vnictab_add(&r->tab, t.mac, t.vc->vlan); /* check_config() saw the VLAN ID and the count */
	if (rc == -1)
		return vd_fail(e, t.vn->tap, "cannot take the MAC another vNIC on the parent has in the same VLAN", "vnictab_add", EEXIST);
	if (rc < 0)
		return vd_failf(e, t.vn->tap, "vnictab_add", ENOSPC, "cannot add vNIC: the vNIC table is full (%d)", VNICTAB_MAX);
	return 0;
}

/*
 * The BPF filter (filter.h) for the vNICs' MACs on queue q's socket: as eBPF
 * recording the receiving CPU in q->rx_cpu when follow asks for it and the
 * kernel lets us (rxcpu.h), else classic.
 */
static int attach_filter(struct relay_queue *q, int follow, struct vd_error *e)
{
	const struct relay *r = q->r;
	struct sock_filter prog[FILTER_MAX];
	struct sock_fprog fprog = { .filter = prog };

	fprog.len = (unsigned short)filter_build(prog, &r->tab);
	if (follow && CPU_COUNT(&r->allowed) > 0) {
		int rc = rxcpu_attach(q->sock_fd, prog, fprog.len, &q->rx_cpu, q->r->follow_why, sizeof(q->r->follow_why));

		if (rc == 0)
			return 0;
		q->r->follow_err = -rc; /* the classic filter then; info() says why */
	}
	if (setsockopt(q->sock_fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0)
		return vd_fail(e, r->parent, "cannot attach packet filter", "setsockopt(SO_ATTACH_FILTER)", errno);
	return 0;
}

/*
 * The largest frame a V2 slot holds. With virtio_net_hdr the parent hands
 * over GSO super-frames: a slot that holds one lets the kernel copy it into
 * the ring in its receive path, on the CPU that received it, instead of the
 * relay thread paying a recvmsg() copy on the copy path (TCP towards the vNIC
 * about 10-20 % faster on the bench).
 */
static int slot_frame(const struct relay *r)
{
	return r->vnet_hdr ? RELAY_GSO_MAX : r->mtu;
}

/* Ring bytes: the receive buffer asked for, and at least RELAY_GSO_RING_BYTES with super-frame slots. */
static size_t ring_bytes(const struct relay *r)
{
	return r->vnet_hdr && r->rcvbuf < RELAY_GSO_RING_BYTES ? RELAY_GSO_RING_BYTES : (size_t)r->rcvbuf;
}

/*
 * Queue q's receive ring: the mode asked for, then the next one down (V3 ->
 * V2 -> recvmsg). Queues after the first take the mode queue 0 got.
 */
static int setup_ring(struct relay_queue *q, int want, struct vd_error *e)
{
	struct relay *r = q->r;
	int mode = q->index > 0 ? r->q[0].ring.mode : want == RELAY_RING_AUTO ? RING_V2 : want;

	for (; mode >= RING_V2; mode--) {
		int rc = ring_rx_probe_setup(q->sock_fd, r->parent, &q->ring, mode, ring_bytes(r), slot_frame(r), e);

		if (rc <= 0)
			return rc;
		if (q->index > 0) /* queue 0 got this mode: refusing it now is an error */
			return vd_fail(e, r->parent, "cannot set up the same receive ring on every queue", "setsockopt(PACKET_RX_RING)", ENOTSUP);
	}
	return 0; /* RING_OFF: recvmsg() per frame */
}

/* PACKET_QDISC_BYPASS when asked; a kernel without it (before 3.14) keeps the qdisc path. */
static int setup_qdisc_bypass(int sock, int want)
{
	int one = 1;

	return want && setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) == 0;
}

/* The CPUs queue k's thread waits on under PACKET_FANOUT_CPU while traffic is sparse: c % queues == k among r->allowed. */
static void queue_cpus(struct relay_queue *q)
{
	int c;

	CPU_ZERO(&q->cpus);
	for (c = q->index; c < CPU_SETSIZE; c += q->r->queues)
		if (CPU_ISSET(c, &q->r->allowed))
			CPU_SET(c, &q->cpus);
}

/*
 * Queue q's epoll set: queue q of every TAP (data: the vNIC index) and the
 * stop eventfd. Returns the descriptor or -1 with *e filled.
 */
static int make_epoll(struct relay_queue *q, struct vd_error *e)
{
	const struct relay *r = q->r;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TOKEN_STOP };
	int fd = epoll_create1(EPOLL_CLOEXEC), i;

	if (fd < 0)
		return vd_fail(e, r->parent, "cannot create epoll instance", "epoll_create1", errno);
	if (epoll_ctl(fd, EPOLL_CTL_ADD, r->stop_fd, &ev) < 0) {
		vd_fail(e, r->parent, "cannot watch the stop eventfd", "epoll_ctl", errno);
		goto fail;
	}
	for (i = 0; i < r->nvnics; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(fd, EPOLL_CTL_ADD, r->vnics[i].tap_fd[q->index], &ev) < 0) {
			vd_fail(e, r->vnics[i].tap, "cannot watch the TAP", "epoll_ctl", errno);
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Queue q's data path on the parent (filter, ring, qdisc bypass, fanout membership), its buffers and epoll set. */
static int setup_queue(struct relay_queue *q, const struct relay_config *cfg, struct vd_error *e)
{
	struct relay *r = q->r;
	static const int types[] = { [RELAY_FANOUT_CPU] = PACKET_FANOUT_CPU, [RELAY_FANOUT_HASH] = PACKET_FANOUT_HASH };
	const size_t counters = (size_t)r->nvnics * sizeof(struct relay_vnic_counters);

	if (cfg->kernel_filter && attach_filter(q, cfg->follow_cpu, e) < 0)
		return -1;
	r->kernel_filter = cfg->kernel_filter != 0;
	if (cfg->rx_ring != RING_OFF && setup_ring(q, cfg->rx_ring, e) < 0)
		return -1;
	r->qdisc_bypass = setup_qdisc_bypass(q->sock_fd, cfg->qdisc_bypass);
	if (r->queues > 1 && psock_join_fanout(q->sock_fd, r->parent, types[r->fanout], &r->fanout_group, e) < 0)
		return -1;
	if (r->queues > 1 && r->fanout == RELAY_FANOUT_CPU)
		queue_cpus(q);
	q->rx_buf = malloc(RELAY_HEADROOM + RELAY_FRAME_MAX);
	q->tx_buf = malloc((size_t)r->tx_batch * RELAY_FRAME_MAX);
	/* Each queue's counters on cache lines of their own (struct relay_dir_counters is aligned to 64). */
	q->c = aligned_alloc(64, counters);
	if (!q->rx_buf || !q->tx_buf || !q->c)
		return vd_fail(e, r->parent, "cannot allocate relay buffers", "malloc", ENOMEM);
	memset(q->c, 0, counters);
	q->epoll_fd = make_epoll(q, e);
	return q->epoll_fd < 0 ? -1 : 0;
}

/* How the threads follow their frames: the least any queue got. */
static enum relay_follow follow_mode(const struct relay *r)
{
	enum relay_follow f = RELAY_FOLLOW_RXCPU;
	int i;

	for (i = 0; i < r->queues; i++)
		if (!r->q[i].rx_cpu)
			f = CPU_COUNT(&r->q[i].cpus) > 0 ? RELAY_FOLLOW_FANOUT : RELAY_FOLLOW_OFF;
	return f;
}

int relay_open(struct relay *r, const struct relay_config *cfg, struct vd_error *e)
{
	int i;

	if (check_config(cfg, e) < 0)
		return -1;
	relay_init(r, cfg);
	r->vnet_hdr = cfg->vnet_hdr;
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0) {
		vd_fail(e, r->parent, "cannot create eventfd", "eventfd", errno);
		goto fail;
	}
	for (i = 0; i < r->queues; i++)
		if (open_socket(&r->q[i], e) < 0)
			goto fail;
	for (i = 0; i < r->nvnics; i++)
		if (open_vnic(r, i, cfg, e) < 0)
			goto fail;
	for (i = 0; i < r->queues; i++)
		if (setup_queue(&r->q[i], cfg, e) < 0)
			goto fail;
	if (add_memberships(r, r->q[0].sock_fd, r->parent, r->parent_ifindex, e) < 0)
		goto fail;
	r->follow = follow_mode(r);
	return 0;
fail:
	relay_close(r);
	return -1;
}

int relay_up(struct relay *r, int vnic, struct vd_error *e)
{
	return netdev_set_up(r->vnics[vnic].tap_ctl, r->vnics[vnic].tap, e);
}

/* Start one thread of queue q, pinned to q->cpus when any. Returns 0 or the pthread error. */
static int start_thread(struct relay_queue *q, pthread_t *tid, void *(*fn)(void *))
{
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);

	if (err)
		return err;
	if (CPU_COUNT(&q->cpus) > 0)
		err = pthread_attr_setaffinity_np(&attr, sizeof(q->cpus), &q->cpus);
	if (!err)
		err = pthread_create(tid, &attr, fn, q);
	pthread_attr_destroy(&attr);
	return err;
}

/* Ask every thread to end and join the first `started` queues' threads. */
static void stop_threads(struct relay *r, int started)
{
	int i;

	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	(void)eventfd_write(r->stop_fd, 1); /* stays readable: wakes every poller */
	for (i = 0; i < started; i++)
		pthread_join(r->q[i].tid, NULL);
}

int relay_start(struct relay *r, struct vd_error *e)
{
	sigset_t all, old;
	int err = 0, started = 0, i;

	if (r->running)
		return 0;
	/* Relay threads take no signals: Node's handlers run on the JS thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < r->queues && !err; i++) {
		err = start_thread(&r->q[i], &r->q[i].tid, relay_main);
		if (!err)
			started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		stop_threads(r, started);
		return vd_fail(e, r->parent, "cannot start relay thread", "pthread_create", err);
	}
	r->running = 1;
	return 0;
}

void relay_stop(struct relay *r)
{
	if (!r->running)
		return;
	stop_threads(r, r->queues);
	r->running = 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void relay_close(struct relay *r)
{
	int i, k;

	relay_stop(r);
	for (i = 0; i < RELAY_MAX_QUEUES; i++) {
		struct relay_queue *q = &r->q[i];

		ring_rx_close(&q->ring);
		rxcpu_release(q->rx_cpu);
		q->rx_cpu = NULL;
		close_fd(&q->sock_fd); /* queue 0's drops the promiscuous / unicast membership */
		close_fd(&q->epoll_fd);
		free(q->rx_buf);
		free(q->tx_buf);
		free(q->c);
		q->rx_buf = q->tx_buf = NULL;
		q->c = NULL;
	}
	for (i = 0; i < r->nvnics; i++) {
		for (k = 0; k < RELAY_MAX_QUEUES; k++)
			close_fd(&r->vnics[i].tap_fd[k]); /* the last one deletes the vNIC */
		close_fd(&r->vnics[i].tap_ctl);
	}
	close_fd(&r->stop_fd);
}

void relay_set_antispoof(struct relay *r, int vnic, int on)
{
	int i;

	for (i = 0; i < r->nvnics; i++) {
		if (vnic >= 0 && vnic != i)
			continue;
		if (on)
			__atomic_or_fetch(&r->vnics[i].tx_flags, FRAME_TX_ANTISPOOF, __ATOMIC_RELAXED);
		else
			__atomic_and_fetch(&r->vnics[i].tx_flags, ~(unsigned)FRAME_TX_ANTISPOOF, __ATOMIC_RELAXED);
	}
}

/* Add one direction's counters, each value read atomically, into *sum. */
static void add_dir(const struct relay_dir_counters *c, struct relay_dir_counters *sum)
{
	int i;

	sum->frames += __atomic_load_n(&c->frames, __ATOMIC_RELAXED);
	sum->bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	for (i = 0; i < FRAME_VERDICT_COUNT; i++)
		sum->drops[i] += __atomic_load_n(&c->drops[i], __ATOMIC_RELAXED);
}

void relay_read_counters(const struct relay *r, int vnic, struct relay_dir_counters *rx, struct relay_dir_counters *tx)
{
	int i;

	memset(rx, 0, sizeof(*rx));
	memset(tx, 0, sizeof(*tx));
	for (i = 0; i < r->queues; i++) {
		const struct relay_queue *q = &r->q[i];

		if (vnic == RELAY_UNROUTED) {
			add_dir(&q->unrouted, rx);
		} else if (vnic >= 0 && vnic < r->nvnics && q->c) {
			add_dir(&q->c[vnic].rx, rx);
			add_dir(&q->c[vnic].tx, tx);
		}
	}
}

int relay_announce(struct relay *r, int vnic, int family, const uint8_t *addr)
{
	const struct vnictab_key *k = &r->tab.key[vnic];
	uint8_t buf[FRAME_VLAN_HLEN + VNET_HLEN + FRAME_UNSOL_NA_LEN];
	uint8_t *start = buf + FRAME_VLAN_HLEN; /* room for a tag (--vlan) */
	size_t vh = r->vnet_hdr ? VNET_HLEN : 0, len;
	int i;

	memset(start, 0, vh); /* VIRTIO_NET_HDR_GSO_NONE, no checksum to complete */
	if (family == AF_INET)
		len = frame_build_garp(start + vh, k->mac, addr);
	else if (family == AF_INET6)
		len = frame_build_unsol_na(start + vh, k->mac, addr);
	else
		return -EAFNOSUPPORT;
	if (!vnic_serves(r, vnic))
		return -ENODEV;
	/* The other vNICs of its VLAN hear it too: the wire never sends it back to them. */
	for (i = 0; i < r->nvnics; i++)
		if (i != vnic && r->tab.key[i].vid == k->vid && vnic_serves(r, i))
			(void)write_frame(r->vnics[i].tap_fd[0], start, vh + len);
	if (k->vid) {
		start = frame_vlan_tag(start, vh, ETH_P_8021Q, k->vid);
		len += FRAME_VLAN_HLEN;
	}
	return -write_frame(r->q[0].sock_fd, start, vh + len);
}

int relay_thread_error(const struct relay *r, const char **call)
{
	int i;

	for (i = 0; i < r->queues; i++) {
		int err = __atomic_load_n(&r->q[i].rx_error, __ATOMIC_ACQUIRE);

		if (err) {
			if (call)
				*call = r->q[i].rx_error_call;
			return err;
		}
	}
	return 0;
}

int relay_vnic_gone(const struct relay *r, int vnic)
{
	return vnic >= 0 && vnic < r->nvnics ? __atomic_load_n(&r->vnics[vnic].gone, __ATOMIC_ACQUIRE) : 0;
}
