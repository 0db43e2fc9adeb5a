/*
 * ctl.c - what the JS thread asks of a running relay: turn anti-spoofing on
 * or off, announce a vNIC's address, say how it was built, and whether a
 * thread ended or a vNIC was retired. None of it stops the relay threads.
 * Thread: JS (any, where a function says so).
 */
#include "relay_int.h"

#include <linux/if_ether.h>
#include <string.h>
#include <sys/socket.h>

#include "live.h"

void relay_set_antispoof(struct relay *r, int vnic, int on)
{
	int i;

	for (i = vnictab_mask_next(r->used, -1); i >= 0; i = vnictab_mask_next(r->used, i)) {
		if (vnic >= 0 && vnic != i)
			continue;
		if (on)
			__atomic_or_fetch(&r->vnics[i].tx_flags, FRAME_TX_ANTISPOOF, __ATOMIC_RELAXED);
		else
			__atomic_and_fetch(&r->vnics[i].tx_flags, ~(unsigned)FRAME_TX_ANTISPOOF, __ATOMIC_RELAXED);
	}
}

int relay_announce(struct relay *r, int vnic, int family, const uint8_t *addr)
{
	const struct vnictab *live = __atomic_load_n(&r->tab, __ATOMIC_RELAXED); /* the JS thread is its one writer */
	const struct vnictab_key *k = &r->key[vnic];
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
	if (!vnictab_has(live, vnic) || !vnic_serves(r, vnic))
		return -ENODEV;
	/* The other vNICs of its VLAN hear it too: the wire never sends it back to them. */
	FOR_EACH_VLAN_VNIC(r, live, k->vid, vnic, i)
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
	return relay_vnic_present(r, vnic) ? __atomic_load_n(&r->vnics[vnic].gone, __ATOMIC_ACQUIRE) : 0;
}

int relay_nvnics(const struct relay *r)
{
	return __builtin_popcountll(r->used);
}

int relay_vnic_slots(const struct relay *r)
{
	return live_slots_end(r->used);
}

int relay_vnic_present(const struct relay *r, int slot)
{
	return slot >= 0 && slot < RELAY_MAX_VNICS && (r->used >> slot) & 1;
}

void relay_describe(const struct relay *r, struct relay_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->parent, r->parent, IF_NAMESIZE);
	out->parent_ifindex = r->parent_ifindex;
	out->mtu = r->mtu;
	out->vnet_hdr = r->vnet_hdr;
	out->membership = r->membership;
	out->ring_mode = r->q[0].ring.mode;
	out->kernel_filter = r->kernel_filter;
	out->tx_batch = r->tx_batch;
	out->qdisc_bypass = r->qdisc_bypass;
	out->coalesce_us = r->coalesce_us;
	out->queues = r->queues;
	out->fanout = r->fanout;
	out->follow = r->follow;
	out->follow_err = r->follow_err;
	out->follow_why = r->follow_why;
	out->nvnics = relay_nvnics(r);
	out->mark = r->mark;
	out->host_path = r->host.link_fd >= 0;
	out->host_err = r->host_err;
	out->host_why = r->host_why;
}

void relay_describe_vnic(const struct relay *r, int vnic, struct relay_vnic_info *out)
{
	const struct relay_vnic *vn = &r->vnics[vnic];

	memset(out, 0, sizeof(*out));
	memcpy(out->tap, vn->tap, IF_NAMESIZE);
	out->tap_ifindex = vn->tap_ifindex;
	memcpy(out->mac, r->key[vnic].mac, sizeof(out->mac));
	out->vlan = r->key[vnic].vid;
	out->tx_flags = __atomic_load_n(&vn->tx_flags, __ATOMIC_RELAXED);
}
