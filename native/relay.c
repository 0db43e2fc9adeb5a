/*
 * relay.c - set-up story and the two relay loops (see relay.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "relay.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caps.h"
#include "netdev.h"
#include "tap.h"

#define VNET_HLEN ((size_t)sizeof(struct virtio_net_hdr))
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

/*
 * Block until fd is readable or shutdown is asked. Returns 0 to try the read
 * again, 1 on shutdown, -errno when poll itself fails. Thread: relay.
 */
static int wait_readable(int fd, int stop_fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };

	if (poll(p, 2, -1) < 0)
		return errno == EINTR ? 0 : -errno;
	return p[1].revents ? 1 : 0;
}

static int stop_asked(const struct relay *r)
{
	return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
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

/*
 * After a failed read()/recvmsg() with errno err: 0 to try again (EINTR, or
 * EAGAIN once the descriptor is readable or shutdown was asked), else the
 * errno that ends the thread. Thread: relay.
 */
static int read_failed(int fd, int stop_fd, int err)
{
	int w;

	if (err == EINTR)
		return 0;
	if (err != EAGAIN)
		return err;
	w = wait_readable(fd, stop_fd);
	return w < 0 ? -w : 0;
}

/*
 * Write one frame (write() on the TAP, the same as send() on the bound packet
 * socket), retrying EINTR; count it as relayed (counted bytes) or as dropped
 * by the errno's reason. Thread: relay.
 */
static void put_frame(int fd, const uint8_t *buf, size_t len, size_t counted, struct relay_dir_counters *c)
{
	for (;;) {
		if (write(fd, buf, len) >= 0) {
			count_pass(c, counted);
			return;
		}
		if (errno != EINTR) {
			count_drop(c, write_error_verdict(errno));
			return;
		}
	}
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

/* Parent -> vNIC. Thread: rx relay thread. Returns NULL; sets r->rx_error when it ends on an error. */
static void *rx_main(void *arg)
{
	struct relay *r = arg;
	struct relay_dir_counters *c = &r->rx;
	const size_t vh = r->vnet_hdr ? VNET_HLEN : 0;
	uint8_t *const base = r->rx_buf + RELAY_HEADROOM;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	int err = 0;

	caps_drop_thread(); /* the thread that reads the wire needs no privilege */
	while (!stop_asked(r)) {
		struct sockaddr_ll from;
		struct iovec iov = { .iov_base = base, .iov_len = RELAY_FRAME_MAX };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				      .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		const struct tpacket_auxdata *aux;
		struct frame_rx_meta meta = { 0 };
		enum frame_verdict v;
		uint8_t *start;
		size_t len;
		ssize_t n = recvmsg(r->sock_fd, &msg, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			/* ENETDOWN: the parent went down; the kernel rebinds the socket at link up. */
			err = errno == ENETDOWN ? 0 : read_failed(r->sock_fd, r->stop_fd, errno);
			if (err)
				break;
			continue;
		}
		if ((size_t)n > RELAY_FRAME_MAX || (msg.msg_flags & MSG_TRUNC)) {
			count_drop(c, FRAME_DROP_OVERSIZE);
			continue;
		}
		aux = aux_find(&msg);
		meta.pkttype = from.sll_pkttype;
		meta.csum_not_ready = aux && (aux->tp_status & TP_STATUS_CSUMNOTREADY);
		meta.vlan_valid = aux && (aux->tp_status & TP_STATUS_VLAN_VALID);
		if (meta.vlan_valid) {
			meta.vlan_tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux->tp_vlan_tpid : ETH_P_8021Q;
			meta.vlan_tci = aux->tp_vlan_tci;
		}
		v = frame_rx_prepare(base, (size_t)n, vh, r->mac, &meta, &start, &len);
		if (v != FRAME_PASS) {
			count_drop(c, v);
			continue;
		}
		put_frame(r->tap_fd, start, len, len - vh, c);
	}
	__atomic_store_n(&r->rx_error, err, __ATOMIC_RELEASE);
	return NULL;
}

/* vNIC -> parent. Thread: tx relay thread. Returns NULL; sets r->tx_error when it ends on an error. */
static void *tx_main(void *arg)
{
	struct relay *r = arg;
	struct relay_dir_counters *c = &r->tx;
	const size_t vh = r->vnet_hdr ? VNET_HLEN : 0;
	uint8_t *const base = r->tx_buf + RELAY_HEADROOM;
	int err = 0;

	caps_drop_thread(); /* nor the one that reads the vNIC */
	while (!stop_asked(r)) {
		enum frame_verdict v;
		ssize_t n = read(r->tap_fd, base, RELAY_FRAME_MAX);

		if (n < 0) {
			err = read_failed(r->tap_fd, r->stop_fd, errno); /* EBADFD: the TAP was deleted from outside */
			if (err)
				break;
			continue;
		}
		if ((size_t)n < vh) {
			count_drop(c, FRAME_DROP_MALFORMED);
			continue;
		}
		v = frame_classify_tx(base + vh, (size_t)n - vh, r->mac, __atomic_load_n(&r->tx_flags, __ATOMIC_RELAXED));
		if (v != FRAME_PASS) {
			count_drop(c, v);
			continue;
		}
		put_frame(r->sock_fd, base, (size_t)n, (size_t)n - vh, c);
	}
	__atomic_store_n(&r->tx_error, err, __ATOMIC_RELEASE);
	return NULL;
}

static void relay_init(struct relay *r, const struct relay_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->tap_fd = r->sock_fd = r->stop_fd = -1;
	strncpy(r->tap, cfg->tap, IF_NAMESIZE - 1);
	strncpy(r->parent, cfg->parent, IF_NAMESIZE - 1);
	r->membership = cfg->membership;
	r->rcvbuf = cfg->rcvbuf;
	r->tx_flags = cfg->antispoof ? FRAME_TX_ANTISPOOF : 0;
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

/* The parent: a bound packet socket on an Ethernet device, with its MTU read. */
static int open_parent(struct relay *r, const struct relay_config *cfg, struct vd_error *e)
{
	r->vnet_hdr = cfg->vnet_hdr;
	r->sock_fd = psock_open(r->parent, &r->vnet_hdr, e);
	if (r->sock_fd < 0)
		return -1;
	r->parent_ifindex = netdev_ifindex(r->sock_fd, r->parent, "cannot bind packet socket", e);
	if (r->parent_ifindex < 0)
		return -1;
	if (require_ethernet(r->sock_fd, r->parent, e) < 0)
		return -1;
	r->mtu = netdev_get_mtu(r->sock_fd, r->parent, e);
	if (r->mtu < 0)
		return -1;
	return psock_bind(r->sock_fd, r->parent, r->parent_ifindex, cfg->rcvbuf, e);
}

int relay_rebind(struct relay *r, const char *parent, int ifindex, struct vd_error *e)
{
	char name[IF_NAMESIZE] = { 0 };

	strncpy(name, parent, IF_NAMESIZE - 1);
	if (require_ethernet(r->sock_fd, name, e) < 0)
		return -1;
	if (psock_bind(r->sock_fd, name, ifindex, r->rcvbuf, e) < 0)
		return -1;
	if (psock_add_membership(r->sock_fd, name, ifindex, r->membership, r->mac, e) < 0)
		return -1;
	memcpy(r->parent, name, IF_NAMESIZE);
	r->parent_ifindex = ifindex;
	return 0;
}

void relay_collect_overruns(struct relay *r)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (r->sock_fd >= 0 && getsockopt(r->sock_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		COUNTER_ADD(&r->rx.drops[FRAME_DROP_OVERRUN], st.tp_drops);
}

/* The vNIC: TAP created, MAC set (or read back), the parent's MTU, offloads. */
static int open_tap(struct relay *r, const struct relay_config *cfg, struct vd_error *e)
{
	int tap_vnet = r->vnet_hdr;
	int off = 0;

	r->tap_fd = tap_open(r->tap, &tap_vnet, e);
	if (r->tap_fd < 0)
		return -1;
	if (r->vnet_hdr && !tap_vnet) {
		/* Both ends must agree: turn it off on the socket too. */
		if (setsockopt(r->sock_fd, SOL_PACKET, PACKET_VNET_HDR, &off, sizeof(off)) < 0)
			return vd_fail(e, r->parent, "cannot disable PACKET_VNET_HDR", "setsockopt(PACKET_VNET_HDR)",
				       errno);
		r->vnet_hdr = 0;
	}
	r->tap_ifindex = netdev_ifindex(r->sock_fd, r->tap, "cannot read TAP ifindex", e);
	if (r->tap_ifindex < 0)
		return -1;
	if (cfg->mac && tap_fd_set_mac(r->tap_fd, r->tap, cfg->mac, e) < 0)
		return -1;
	if (tap_fd_get_mac(r->tap_fd, r->tap, r->mac, e) < 0)
		return -1;
	if (netdev_set_mtu(r->sock_fd, r->tap, r->mtu, e) < 0)
		return -1;
	if (r->vnet_hdr && tap_fd_set_offload(r->tap_fd, r->tap, e) < 0)
		return -1;
	return 0;
}

int relay_open(struct relay *r, const struct relay_config *cfg, struct vd_error *e)
{
	relay_init(r, cfg);
	if (open_parent(r, cfg, e) < 0)
		goto fail;
	if (open_tap(r, cfg, e) < 0)
		goto fail;
	if (psock_add_membership(r->sock_fd, r->parent, r->parent_ifindex, cfg->membership, r->mac, e) < 0)
		goto fail;
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0) {
		vd_fail(e, r->tap, "cannot create eventfd", "eventfd", errno);
		goto fail;
	}
	r->rx_buf = malloc(RELAY_HEADROOM + RELAY_FRAME_MAX);
	r->tx_buf = malloc(RELAY_HEADROOM + RELAY_FRAME_MAX);
	if (!r->rx_buf || !r->tx_buf) {
		vd_fail(e, r->tap, "cannot allocate relay buffers", "malloc", ENOMEM);
		goto fail;
	}
	return 0;
fail:
	relay_close(r);
	return -1;
}

int relay_up(struct relay *r, struct vd_error *e)
{
	return netdev_set_up(r->sock_fd, r->tap, e);
}

int relay_start(struct relay *r, struct vd_error *e)
{
	sigset_t all, old;
	int err;

	if (r->running)
		return 0;
	/* Relay threads take no signals: Node's handlers run on the JS thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&r->rx_tid, NULL, rx_main, r);
	if (!err) {
		err = pthread_create(&r->tx_tid, NULL, tx_main, r);
		if (err) {
			__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
			(void)eventfd_write(r->stop_fd, 1);
			pthread_join(r->rx_tid, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return vd_fail(e, r->tap, "cannot start relay thread", "pthread_create", err);
	r->running = 1;
	return 0;
}

void relay_stop(struct relay *r)
{
	if (!r->running)
		return;
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	(void)eventfd_write(r->stop_fd, 1); /* stays readable: wakes both pollers */
	pthread_join(r->rx_tid, NULL);
	pthread_join(r->tx_tid, NULL);
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
	relay_stop(r);
	close_fd(&r->tap_fd);  /* deletes the vNIC */
	close_fd(&r->sock_fd); /* drops the promiscuous / unicast membership */
	close_fd(&r->stop_fd);
	free(r->rx_buf);
	free(r->tx_buf);
	r->rx_buf = r->tx_buf = NULL;
}

void relay_set_antispoof(struct relay *r, int on)
{
	__atomic_store_n(&r->tx_flags, on ? FRAME_TX_ANTISPOOF : 0u, __ATOMIC_RELAXED);
}

void relay_read_counters(const struct relay_dir_counters *c, struct relay_dir_counters *out)
{
	int i;

	out->frames = __atomic_load_n(&c->frames, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	for (i = 0; i < FRAME_VERDICT_COUNT; i++)
		out->drops[i] = __atomic_load_n(&c->drops[i], __ATOMIC_RELAXED);
}
