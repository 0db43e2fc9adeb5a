/*
 * rx.c - parent -> vNICs. A round takes the frames the kernel put in the
 * receive ring (V2 slot by slot, V3 block by block), or reads the socket's
 * own queue with recvmsg() (no ring, a frame too big for its slot, or frames
 * queued before the ring existed); for each, what the kernel said about it
 * (status, packet type, VLAN tag), then vnictab_route() picks its vNIC(s)
 * in the round's routing table (q->tab) and frame_rx_finish() makes it ready
 * to write() into the TAP(s).
 * Thread: relay (see relay.h).
 */
#include "relay_int.h"

#include <linux/if_packet.h>
#include <sys/socket.h>

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
	const struct vnictab *t = q->tab;
	uint8_t *start;
	size_t len;
	unsigned vid = 0;
	int port = VNICTAB_NONE, i;
	enum frame_verdict v = n < vh ? FRAME_DROP_MALFORMED : vnictab_route(t, buf + vh, n - vh, m, &vid, &port);

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
	FOR_EACH_VLAN_VNIC(r, t, vid, -1, i) /* a group address: every vNIC of the VLAN */
		put_frame(r->vnics[i].tap_fd[q->index], start, len, len - vh, &q->c[i].rx);
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

/*
 * The packet socket's pending error (SO_ERROR, which clears it), or 0. Read
 * so, not by recvmsg(): with a ring, the socket's queue holds the full copies
 * of TP_STATUS_COPY frames, each to be read when its slot comes up, and a
 * recvmsg() that found one would hand it on ahead of the slots before it.
 * Thread: relay.
 */
int sock_error(const struct relay_queue *q)
{
	int err = 0;
	socklen_t len = sizeof(err);

	return getsockopt(q->sock_fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ? errno : err;
}

/*
 * Parent -> vNICs, one round: the ring's frames, up to RX_BUDGET (fewer: the
 * ring ran dry); the socket's own queue too when there is no ring, or, at
 * start (*sockq), once the ring had nothing: frames queued before the ring
 * existed (*sockq cleared when it was empty). Returns the frames handled;
 * *err is the errno that ended a read of the queue (EAGAIN: empty), else 0.
 * Thread: relay.
 */
unsigned rx_round(struct relay_queue *q, size_t vh, int *sockq, int *err)
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
