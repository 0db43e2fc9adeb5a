/*
 * psock.h - the packet socket on the parent NIC (packet(7)): SOCK_RAW,
 * ETH_P_ALL, bound to one ifindex, with PACKET_AUXDATA (VLAN tags the kernel
 * moved into metadata) and, when the kernel has it, PACKET_VNET_HDR (a
 * virtio_net_hdr before each frame: partial checksums and GSO super-frames
 * pass through intact). Set-up thread only.
 */
#ifndef VETHD_PSOCK_H
#define VETHD_PSOCK_H

#include <stdint.h>

#include "vderr.h"

/* How the parent is made to deliver frames for the vNIC's MAC. */
enum psock_membership {
	PSOCK_MR_PROMISC = 0, /* PACKET_MR_PROMISC: promiscuous membership, refcounted, dropped at close */
	PSOCK_MR_UNICAST = 1, /* PACKET_MR_UNICAST: the vNIC MAC in the parent's unicast filter (promisc only if it has none) */
	PSOCK_MR_NONE = 2     /* neither: for parents that already see every frame */
};

/*
 * Open an unbound packet socket (protocol 0: no frame is queued before bind)
 * and ask for auxdata and, if *vnet_hdr is 1, a virtio_net_hdr
 * (*vnet_hdr = 0 when the kernel refuses it: probe-and-fall-back).
 * Returns the descriptor (O_CLOEXEC, blocking) or -1 with *e filled.
 */
int psock_open(const char *parent, int *vnet_hdr, struct vd_error *e);

/*
 * Bind sock to ifindex for all EtherTypes and raise the receive buffer to
 * rcvbuf bytes (SO_RCVBUFFORCE, else SO_RCVBUF; best effort).
 */
int psock_bind(int sock, const char *parent, int ifindex, int rcvbuf, struct vd_error *e);

/* Add the membership (promiscuous or unicast-filter entry for mac) on ifindex. */
int psock_add_membership(int sock, const char *parent, int ifindex, enum psock_membership mode,
			 const uint8_t mac[6], struct vd_error *e);

/*
 * Drop what psock_add_membership() added with the same arguments (the kernel
 * counts identical ones: two vNICs with one MAC in two VLANs keep it until
 * both are gone).
 */
int psock_drop_membership(int sock, const char *parent, int ifindex, enum psock_membership mode,
			  const uint8_t mac[6], struct vd_error *e);

/*
 * Join sock (bound, its ring and filter set) to a PACKET_FANOUT group of
 * `type` (PACKET_FANOUT_HASH, PACKET_FANOUT_CPU): the kernel then hands each
 * frame to one member. *group < 0 makes a new group with a kernel-chosen id
 * (PACKET_FANOUT_FLAG_UNIQUEID, Linux 4.4) and stores that id in *group for
 * the other members. A member can no longer be bound elsewhere (EINVAL).
 */
int psock_join_fanout(int sock, const char *parent, int type, int *group, struct vd_error *e);

#endif
