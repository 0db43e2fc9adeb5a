/*
 * tx.c - vNICs -> parent. For each vNIC with frames queued, read them until
 * its TAP is empty or a batch is full: each gets its verdict (the classifier,
 * then the virtio_net_hdr guard), goes straight to another vNIC of its VLAN
 * when it is for one (a group address: to every other one, and on to the
 * wire), else is tagged with the vNIC's VLAN and queued; the batch leaves
 * with one sendmmsg(). Who is who comes from the round's routing table
 * (q->tab). A vNIC whose TAP is gone is retired alone.
 * Thread: relay (see relay.h).
 */
#include "relay_int.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "../txguard.h"

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
	const struct vnictab *t = q->tab;
	const unsigned vid = t->key[from].vid;
	int to, i;

	if (t->count == 1)
		return 0;
	if (frame_mac_is_group(buf + vh)) {
		FOR_EACH_VLAN_VNIC(r, t, vid, from, i)
			put_frame(r->vnics[i].tap_fd[q->index], buf, vh + len, len, &q->c[i].rx);
		return 0;
	}
	to = vnictab_find(t, vid, buf + vh);
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
	const struct vnictab_key *k = &q->tab->key[v];
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

/*
 * Retire vNIC v from queue q: its TAP failed to read with err (EBADFD once
 * the device is deleted: the descriptor then polls as EPOLLERR for ever). It
 * leaves this thread's epoll set; the first queue to see it records err in
 * vn->gone, which stops every queue routing frames to it. Its descriptors
 * stay open until relay_remove_vnic() (once every thread passed a round
 * boundary) or relay_close(), so no number is reused under another thread
 * or under relay_announce(). Thread: relay.
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
 * as io_error: one tenant's trouble never ends the thread. A slot the
 * round's table lacks (a vNIC added since the round began: its table comes
 * next round) is left alone; the sync eventfd is emptied (the JS thread
 * wrote it so this thread passes a round boundary: the loop's next round).
 * Thread: relay.
 */
void tx_round(struct relay_queue *q, const struct epoll_event *ev, int n, struct tx_batch *b, size_t vh)
{
	int i;

	for (i = 0; i < n; i++) {
		uint32_t tok = ev[i].data.u32;
		eventfd_t ignored;
		int err;

		if (tok == TOKEN_STOP)
			continue; /* the loop sees r->stop */
		if (tok == TOKEN_SYNC) {
			(void)eventfd_read(q->sync_fd, &ignored);
			continue;
		}
		if (!vnictab_has(q->tab, (int)tok))
			continue;
		err = tx_pass(q, (int)tok, b, vh);
		if (err == EBADFD || err == ENODEV) /* the device is gone: for good */
			retire_vnic(q, (int)tok, err);
		else if (err && err != EAGAIN && err != EINTR) /* one frame's trouble (EINVAL: a GSO type tun cannot express) */
			count_drop(&q->c[tok].tx, FRAME_DROP_IO_ERROR);
	}
}
