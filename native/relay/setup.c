/*
 * setup.c - relay_open()'s story, on the set-up (JS) thread: check the
 * config; per queue a packet socket bound to the parent (queue 0's learns
 * its ifindex, link type and MTU, and whether virtio_net_hdr is in force);
 * per vNIC a TAP with all its queues in slot i, built inside its namespace
 * when it has one (MAC, MTU, offloads, ARP sysctls) and keyed in the routing
 * table; per queue the filter for their MACs, the receive ring (probe, then
 * fall back), qdisc bypass, the fanout group, buffers, counters for every
 * slot and the epoll set; then the membership; then the host path, whose
 * refusal is not a failure. Any failure undoes it all (relay_close). Also:
 * the steps relay_add_vnic() shares (open_vnic, queue_filter), rebind after
 * the parent came back (the host path following), and close.
 */
#include "relay_int.h"

#include <limits.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "../filter.h"
#include "../hostlink.h"
#include "../ifconf.h"
#include "../netdev.h"
#include "../netns.h"
#include "../rxcpu.h"
#include "../tap.h"

/* relay_open()'s words for what it refuses. */
#define OPEN_CALL "relay_open"
#define OPEN_VERB "cannot open relay"

/* 0 when lo <= v <= hi, else -1 with *e: "<ifname>: <verb>: <what> <v><unit> is outside <lo>..<hi><unit>" (EINVAL, from call). */
static int check_in(long long v, long long lo, long long hi, const char *unit, const char *ifname, const char *what, const char *call,
		    const char *verb, struct vd_error *e)
{
	if (v >= lo && v <= hi)
		return 0;
	return vd_failf(e, ifname, call, EINVAL, "%s: %s %lld%s is outside %lld..%lld%s", verb, what, v, unit, lo, hi, unit);
}

/* check_in() for relay_open(). */
static int check_range(long long v, long long lo, long long hi, const char *unit, const char *ifname, const char *what, struct vd_error *e)
{
	return check_in(v, lo, hi, unit, ifname, what, OPEN_CALL, OPEN_VERB, e);
}

int check_vnic(const struct relay_vnic_config *vc, const char *call, const char *verb, struct vd_error *e)
{
	const size_t len = vc->tap ? strlen(vc->tap) : 0;

	if (len < 1 || len >= IF_NAMESIZE)
		return vd_failf(e, vc->tap, call, EINVAL, "%s: vNIC name of %zu bytes is outside 1..%d", verb, len, IF_NAMESIZE - 1);
	if (check_in(vc->vlan, 0, FRAME_VID_MAX, "", vc->tap, "VLAN ID", call, verb, e) < 0)
		return -1;
	return check_in(vc->link_local_pass, 0, 0xffff, "", vc->tap, "link-local group mask", call, verb, e);
}

int mac_taken(const struct relay *r, const char *tap, const struct vnictab_key *k, int other, const char *call, const char *verb,
	      struct vd_error *e)
{
	const uint8_t *m = k->mac;
	char vlan[16] = "";

	if (k->vid)
		(void)snprintf(vlan, sizeof(vlan), " in VLAN %u", k->vid);
	return vd_failf(e, tap, call, EEXIST, "%s: MAC %02x:%02x:%02x:%02x:%02x:%02x%s is vNIC %s's", verb, m[0], m[1], m[2], m[3], m[4],
			m[5], vlan, r->vnics[other].tap);
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
	if (check_range(cfg->nvnics, 0, RELAY_MAX_VNICS, "", p, "vNIC count", e) < 0 ||
	    check_range(cfg->membership, PSOCK_MR_PROMISC, PSOCK_MR_NONE, "", p, "membership", e) < 0 ||
	    check_range(cfg->rcvbuf, 0, INT_MAX, " bytes", p, "receive buffer", e) < 0 ||
	    check_range(cfg->tx_batch, 1, RELAY_TX_BATCH, "", p, "tx batch", e) < 0 ||
	    check_range(cfg->coalesce_us, 0, RELAY_COALESCE_MAX_US, " µs", p, "rx coalescing pause", e) < 0 ||
	    check_range(cfg->queues, 1, RELAY_MAX_QUEUES, "", p, "queue count", e) < 0 ||
	    check_range(cfg->fanout, RELAY_FANOUT_CPU, RELAY_FANOUT_HASH, "", p, "fanout", e) < 0)
		return -1;
	if (cfg->host_path && !cfg->mark)
		return vd_failf(e, p, "relay_open", EINVAL, "cannot open relay: the host path needs a mark other than 0");
	if (cfg->rx_ring != RELAY_RING_AUTO && cfg->rx_ring != RING_OFF && cfg->rx_ring != RING_V2 && cfg->rx_ring != RING_V3)
		return vd_failf(e, p, "relay_open", EINVAL, "cannot open relay: receive ring mode %d is none of auto, v3, v2, off", cfg->rx_ring);
	for (i = 0; i < cfg->nvnics; i++)
		if (check_vnic(&cfg->vnics[i], OPEN_CALL, OPEN_VERB, e) < 0)
			return -1;
	return 0;
}

/* Slot vn empty: no descriptor. */
static void vnic_reset(struct relay_vnic *vn)
{
	int k;

	memset(vn, 0, sizeof(*vn));
	vn->tap_ctl = -1;
	for (k = 0; k < RELAY_MAX_QUEUES; k++)
		vn->tap_fd[k] = -1;
}

/* r empty: nothing open, every descriptor -1 (relay_close() has nothing to do). */
static void relay_reset(struct relay *r)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->stop_fd = -1;
	r->fanout_group = -1;
	for (i = 0; i < RELAY_MAX_VNICS; i++)
		vnic_reset(&r->vnics[i]);
	r->tab = &r->tabs[0]; /* empty */
	r->synced = 1;
	hostlink_init(&r->host);
	for (i = 0; i < RELAY_MAX_QUEUES; i++) {
		r->q[i].r = r;
		r->q[i].index = i;
		r->q[i].sock_fd = r->q[i].epoll_fd = r->q[i].sync_fd = r->q[i].rx_map_fd = -1;
	}
}

/* r as cfg (checked) asks, nothing open yet. */
static void relay_init(struct relay *r, const struct relay_config *cfg)
{
	relay_reset(r);
	strncpy(r->parent, cfg->parent, IF_NAMESIZE - 1);
	r->membership = cfg->membership;
	r->rcvbuf = cfg->rcvbuf;
	r->coalesce_us = cfg->coalesce_us;
	r->tx_batch = cfg->tx_batch;
	r->queues = cfg->queues;
	r->fanout = cfg->fanout;
	r->mark = cfg->mark;
	r->host_want = cfg->host_path != 0;
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
 * Queue q's packet socket, bound to the parent, its frames marked with the
 * relay's mark (SO_MARK: CAP_NET_ADMIN, or CAP_NET_RAW since Linux 5.17).
 * Queue 0's decides whether virtio_net_hdr is in force; the others must then
 * get it too.
 */
static int open_socket(struct relay_queue *q, struct vd_error *e)
{
	struct relay *r = q->r;
	int vnet = r->vnet_hdr;

	q->sock_fd = psock_open(r->parent, &vnet, e);
	if (q->sock_fd < 0)
		return -1;
	if (r->mark && setsockopt(q->sock_fd, SOL_SOCKET, SO_MARK, &r->mark, sizeof(r->mark)) < 0)
		return vd_fail(e, r->parent, "cannot mark the packet socket's frames", "setsockopt(SO_MARK)", errno);
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

	if (r->membership != PSOCK_MR_UNICAST) /* promisc is one refcount on the device, whatever the vNICs; none adds nothing */
		return psock_add_membership(sock, parent, ifindex, r->membership, NULL, e);
	for (i = vnictab_mask_next(r->serving, -1); i >= 0; i = vnictab_mask_next(r->serving, i))
		if (psock_add_membership(sock, parent, ifindex, r->membership, r->key[i].mac, e) < 0)
			return -1;
	return 0;
}

/*
 * The host path, when asked for: not tried with qdisc bypass (tc egress is
 * skipped) or without the kernel filter (nothing would keep the host's
 * copies of the vNICs' group frames from them: filter.h), with the reason in
 * host_why; else the program loaded and linked to the parent's egress with
 * the parent's MAC, or the kernel's refusal in host_err (and the verifier's
 * reason in host_why). Never a failure of relay_open(). Thread: set-up.
 */
static void setup_host_path(struct relay *r)
{
	struct vd_error e;
	int rc;

	if (!r->host_want)
		return;
	if (r->qdisc_bypass) {
		(void)snprintf(r->host_why, sizeof(r->host_why), "--qdisc-bypass sends the frames past tc egress, where it runs");
		return;
	}
	if (!r->kernel_filter) {
		(void)snprintf(r->host_why, sizeof(r->host_why), "it needs the kernel filter (--no-kernel-filter is in force)");
		return;
	}
	if (netdev_get_mac(r->q[0].sock_fd, r->parent, r->parent_mac, &e) < 0) {
		r->host_err = e.err;
		return;
	}
	rc = hostlink_open(&r->host, r->mark, r->parent_ifindex, r->parent_mac, r->host_why, sizeof(r->host_why));
	if (rc < 0)
		r->host_err = -rc;
}

/*
 * After a rebind: the host path's program linked to the new device with its
 * MAC (the old link went with the old device). Only when the program was
 * loaded at set-up: loading needs CAP_BPF, gone by now. A refusal leaves the
 * relay without it, host_err saying why. Thread: set-up (JS).
 */
static void host_follow(struct relay *r, int sock)
{
	struct vd_error e;
	int rc;

	if (r->host.prog_fd < 0)
		return;
	(void)netdev_get_mac(sock, r->parent, r->parent_mac, &e); /* unreadable: the old one, the link all the same */
	rc = hostlink_move(&r->host, r->parent_ifindex, r->parent_mac);
	r->host_err = rc < 0 ? -rc : 0;
	if (rc == 0)
		r->host_why[0] = '\0';
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
	host_follow(r, sock);
	return 0;
}

int relay_host_refresh(struct relay *r)
{
	struct vd_error e;
	uint8_t mac[6];

	if (r->host.link_fd < 0)
		return 0;
	if (netdev_get_mac(r->q[0].sock_fd, r->parent, mac, &e) < 0)
		return -e.err;
	if (memcmp(mac, r->parent_mac, sizeof(mac)) == 0)
		return 0;
	memcpy(r->parent_mac, mac, sizeof(mac));
	hostlink_set_mac(&r->host, mac);
	return 1;
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
 * first vNIC (may_drop_vnet) settles whether virtio_net_hdr is in force; the others must
 * then take it too.
 */
static int build_tap(struct relay *r, struct relay_vnic *vn, const struct relay_vnic_config *vc, uint8_t mac[6], int may_drop_vnet,
		     struct vd_error *e)
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
		if (!may_drop_vnet)
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
	int may_drop_vnet;                     /* build_tap()'s */
	uint8_t mac[6];                        /* the MAC read back */
};

/* build_tap() as a netns_call() step. */
static int build_tap_step(void *arg, struct vd_error *e)
{
	struct tap_step *t = arg;

	return build_tap(t->r, t->vn, t->vc, t->mac, t->may_drop_vnet, e);
}

int open_vnic(struct relay *r, int slot, const struct relay_vnic_config *vc, int may_drop_vnet, struct vd_error *e)
{
	struct tap_step t = { r, &r->vnics[slot], vc, may_drop_vnet, { 0 } };
	struct relay_vnic *vn = t.vn;
	int rc;

	vnic_reset(vn);
	strncpy(vn->tap, vc->tap, IF_NAMESIZE - 1);
	vn->tx_flags = (vc->antispoof ? FRAME_TX_ANTISPOOF : 0) | (vc->vlan ? FRAME_TX_ACCESS : 0) |
		       (vc->ra_guard ? FRAME_TX_RA_GUARD : 0) | (vc->dhcp_guard ? FRAME_TX_DHCP_GUARD : 0) |
		       FRAME_TX_LL_PASS(vc->link_local_pass);
	r->used |= 1ull << slot; /* from here relay_close() closes what it opens */
	rc = vc->netns_fd < 0 ? build_tap(r, vn, vc, t.mac, may_drop_vnet, e) : netns_call(vc->netns_fd, vn->tap, build_tap_step, &t, e);
	if (rc < 0)
		return -1;
	memcpy(r->key[slot].mac, t.mac, sizeof(t.mac));
	r->key[slot].vid = (uint16_t)vc->vlan;
	return 0;
}

/* The classic program fprog on queue q's socket (replacing any filter). */
static int attach_classic(struct relay_queue *q, const struct sock_fprog *fprog, struct vd_error *e)
{
	if (setsockopt(q->sock_fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, sizeof(*fprog)) < 0)
		return vd_fail(e, q->r->parent, "cannot attach packet filter", "setsockopt(SO_ATTACH_FILTER)", errno);
	return 0;
}

/*
 * The BPF filter (filter.h) for the MACs of table t on queue q's socket: as
 * eBPF recording the receiving CPU in q->rx_cpu when follow asks for it and
 * the kernel lets us (rxcpu.h), else classic.
 */
static int attach_filter(struct relay_queue *q, const struct vnictab *t, int follow, struct vd_error *e)
{
	struct relay *r = q->r;
	struct sock_filter prog[FILTER_MAX];
	struct sock_fprog fprog = { .filter = prog, .len = (unsigned short)filter_build(prog, t, r->mark) };

	if (follow && CPU_COUNT(&r->allowed) > 0) {
		int rc = rxcpu_attach(q->sock_fd, prog, fprog.len, &q->rx_cpu, &q->rx_map_fd, r->follow_why, sizeof(r->follow_why));

		if (rc == 0)
			return 0;
		r->follow_err = -rc; /* the classic filter then; info() says why */
	}
	return attach_classic(q, &fprog, e);
}

/*
 * Queue q's filter replaced by table t's, in the form in force (the kernel
 * swaps a socket filter atomically: each frame meets the old one or the new
 * one). The eBPF one keeps its map, so the thread's q->rx_cpu stays mapped;
 * when it cannot be loaded again (EPERM: CAP_BPF dropped since set-up) the
 * classic one takes over, and the map says RXCPU_NONE from then on (the
 * thread waits on its queue's CPUs or anywhere: follow.h), with the reason
 * in follow_err. Nothing to do without a kernel filter.
 */
int queue_filter(struct relay_queue *q, const struct vnictab *t, struct vd_error *e)
{
	struct relay *r = q->r;
	struct sock_filter prog[FILTER_MAX];
	struct sock_fprog fprog = { .filter = prog, .len = (unsigned short)filter_build(prog, t, r->mark) };

	if (!r->kernel_filter)
		return 0;
	if (q->rx_cpu) {
		int rc = rxcpu_reattach(q->sock_fd, prog, fprog.len, q->rx_map_fd);

		if (rc == 0)
			return 0;
		r->follow_err = -rc;
		r->follow_why[0] = '\0';
	}
	if (attach_classic(q, &fprog, e) < 0)
		return -1;
	if (q->rx_cpu)
		__atomic_store_n(q->rx_cpu, RXCPU_NONE, __ATOMIC_RELAXED);
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

/*
 * Queue q's epoll set: queue q of every TAP (data: the vNIC's slot), the
 * stop eventfd and the queue's sync eventfd. Returns the descriptor or -1
 * with *e filled.
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
	ev.data.u32 = TOKEN_SYNC;
	if (epoll_ctl(fd, EPOLL_CTL_ADD, q->sync_fd, &ev) < 0) {
		vd_fail(e, r->parent, "cannot watch the sync eventfd", "epoll_ctl", errno);
		goto fail;
	}
	for (i = vnictab_mask_next(r->serving, -1); i >= 0; i = vnictab_mask_next(r->serving, i)) {
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
	/* every slot's, now: a vNIC added later allocates nothing */
	const size_t counters = (size_t)RELAY_MAX_VNICS * sizeof(struct relay_vnic_counters);

	if (cfg->kernel_filter && attach_filter(q, r->tab, cfg->follow_cpu, e) < 0)
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
	q->sync_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->sync_fd < 0)
		return vd_fail(e, r->parent, "cannot create eventfd", "eventfd", errno);
	q->epoll_fd = make_epoll(q, e);
	return q->epoll_fd < 0 ? -1 : 0;
}

/*
 * vNIC i of cfg built into slot i and keyed in the table relay_open() fills
 * (r->tabs[0], the live one once the threads run). Two vNICs with the same
 * (VLAN, MAC) are refused (EEXIST).
 */
static int open_config_vnic(struct relay *r, int i, const struct relay_config *cfg, struct vd_error *e)
{
	int other;

	if (open_vnic(r, i, &cfg->vnics[i], i == 0, e) < 0)
		return -1;
	other = vnictab_find(&r->tabs[0], r->key[i].vid, r->key[i].mac);
	if (other >= 0)
		return mac_taken(r, r->vnics[i].tap, &r->key[i], other, OPEN_CALL, OPEN_VERB, e);
	(void)vnictab_add_at(&r->tabs[0], i, r->key[i].mac, r->key[i].vid); /* check_config() saw the VLAN ID and the count */
	r->serving |= 1ull << i;
	return 0;
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
	for (i = 0; i < cfg->nvnics; i++)
		if (open_config_vnic(r, i, cfg, e) < 0)
			goto fail;
	for (i = 0; i < r->queues; i++)
		if (setup_queue(&r->q[i], cfg, e) < 0)
			goto fail;
	if (add_memberships(r, r->q[0].sock_fd, r->parent, r->parent_ifindex, e) < 0)
		goto fail;
	setup_host_path(r);
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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void close_vnic(struct relay *r, int slot)
{
	int k;

	for (k = 0; k < RELAY_MAX_QUEUES; k++)
		close_fd(&r->vnics[slot].tap_fd[k]); /* the last one deletes the vNIC */
	close_fd(&r->vnics[slot].tap_ctl);
}

void relay_close(struct relay *r)
{
	int i;

	relay_stop(r);
	hostlink_close(&r->host); /* first: no frame of ours goes to the host's stack once the vNICs are gone */
	for (i = 0; i < RELAY_MAX_QUEUES; i++) {
		struct relay_queue *q = &r->q[i];

		ring_rx_close(&q->ring);
		rxcpu_release(q->rx_cpu);
		q->rx_cpu = NULL;
		close_fd(&q->rx_map_fd);
		close_fd(&q->sock_fd); /* queue 0's drops the promiscuous / unicast membership */
		close_fd(&q->epoll_fd);
		close_fd(&q->sync_fd);
		free(q->rx_buf);
		free(q->tx_buf);
		free(q->c);
		q->rx_buf = q->tx_buf = NULL;
		q->c = NULL;
	}
	for (i = vnictab_mask_next(r->used, -1); i >= 0; i = vnictab_mask_next(r->used, i))
		close_vnic(r, i);
	close_fd(&r->stop_fd);
}

struct relay *relay_new(void)
{
	/* Aligned as declared: each queue's counters start their own 64-byte cache line (malloc() gives 16). */
	struct relay *r = aligned_alloc(_Alignof(struct relay), sizeof(*r));

	if (r)
		relay_reset(r);
	return r;
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	relay_close(r);
	free(r);
}
