/*
 * vnictab.h - the vNIC table of one parent, and the receive-side switching
 * decision made with it: which vNIC(s) a frame from the parent goes to.
 *
 * Several vNICs share one packet socket on their parent; each is keyed by
 * (VLAN ID, MAC), VLAN ID 0 for a vNIC that is not an access port (--vlan).
 * Lookups are O(1): open addressing with linear probing in a table four
 * times the most vNICs, so a probe chain stays short whatever the count.
 *
 * A vNIC keeps its index for as long as it is in the table, whatever comes
 * and goes around it (the relay's slot: relay_add_vnic, relay_remove_vnic),
 * so the indices in use may have holes: `used` says which are in, and
 * vnictab_next() walks them in order. The relay never changes a table a
 * relay thread may be reading: it builds another (vnictab_build) and
 * publishes that.
 *
 * Pure: no sockets, no system calls, no allocation. Unit-tested in
 * test/native/frame_test.c and test/native/live_test.c, and fuzzed with the classifier.
 */
#ifndef VETHD_VNICTAB_H
#define VETHD_VNICTAB_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Most vNICs on one parent. */
#define VNICTAB_MAX 64
/* Hash slots: a power of two, 4 x VNICTAB_MAX (load factor at most 1/4). */
#define VNICTAB_SLOTS 256
/* vnictab_route(): the frame goes to every vNIC of the VLAN (a group address). */
#define VNICTAB_GROUP (-2)
/* vnictab_route(): a drop that concerns no vNIC (counted on the parent). */
#define VNICTAB_NONE (-1)

/* One vNIC's key. */
struct vnictab_key {
	uint8_t mac[FRAME_ETH_ALEN];           /* its MAC */
	uint16_t vid;                          /* VLAN ID it is an access port of, 0: none */
};

struct vnictab {
	int count;                             /* vNICs in the table: the bits set in used */
	uint64_t used;                         /* bit i: vNIC index i is in the table (key[i] means something) */
	struct vnictab_key key[VNICTAB_MAX];   /* by vNIC index */
	uint8_t slot[VNICTAB_SLOTS];           /* vNIC index + 1 at the key's hash slot (or after it); 0: empty */
	uint64_t vids[(FRAME_VID_MAX + 1 + 63) / 64]; /* bit v: some vNIC is an access port of VLAN v (bit 0: some vNIC is untagged) */
};

/* Empty the table. Thread: any (pure). */
void vnictab_init(struct vnictab *t);

/*
 * Add a vNIC with mac, access port of vid (0: none), as index `index`
 * (0..VNICTAB_MAX-1, not in the table). Returns that index, -1 when (vid,
 * mac) is already there, -2 when index is out of range or taken, or vid >
 * FRAME_VID_MAX. Thread: any (pure).
 */
int vnictab_add_at(struct vnictab *t, int index, const uint8_t mac[FRAME_ETH_ALEN], unsigned vid);

/*
 * vnictab_add_at() at the lowest index not in the table (a table filled
 * from empty: t->count). Returns that index, -1 when (vid, mac) is already
 * there, -2 when the table is full (VNICTAB_MAX) or vid > FRAME_VID_MAX.
 * Thread: any (pure).
 */
int vnictab_add(struct vnictab *t, const uint8_t mac[FRAME_ETH_ALEN], unsigned vid);

/*
 * t emptied, then the vNICs whose bit is set in members added, each at its
 * own index with keys[index]. Returns the count, or -1 when two of them
 * share a (vid, mac) (t then holds those before the second). Thread: any (pure).
 */
int vnictab_build(struct vnictab *t, const struct vnictab_key keys[VNICTAB_MAX], uint64_t members);

/* The lowest index of mask above i (-1: from the lowest), or -1: none. Thread: any (pure). */
static inline int vnictab_mask_next(uint64_t mask, int i)
{
	/* two shifts: i + 1 may be 64, a shift a 64-bit value must not take at once */
	if (i >= 0)
		mask &= ~0ull << i << 1;
	return mask ? __builtin_ctzll(mask) : -1;
}

/* The next index in the table after i (-1: the first), or -1: none left. Thread: any (pure). */
static inline int vnictab_next(const struct vnictab *t, int i)
{
	return vnictab_mask_next(t->used, i);
}

/* 1 when index i is in the table. Thread: any (pure). */
static inline int vnictab_has(const struct vnictab *t, int i)
{
	return i >= 0 && i < VNICTAB_MAX && (t->used >> i) & 1;
}

/* The index of the vNIC keyed (vid, mac), or -1. Thread: any (pure). */
int vnictab_find(const struct vnictab *t, unsigned vid, const uint8_t *mac);

/* 1 when some vNIC is an access port of vid (vid 0: some vNIC is untagged). Thread: any (pure). */
static inline int vnictab_has_vid(const struct vnictab *t, unsigned vid)
{
	return vid <= FRAME_VID_MAX && (t->vids[vid / 64] >> (vid % 64)) & 1;
}

/* The VLAN ID every vNIC is an access port of; 0 when one is untagged, two differ, or there is none. Thread: any (pure). */
unsigned vnictab_common_vid(const struct vnictab *t);

/*
 * Parent -> vNICs: where a received frame goes. frame/len from the
 * destination MAC on; m what the kernel said about it.
 *
 * The frame's VLAN is the VID the kernel took off (m->vlan_valid) when some
 * vNIC is an access port of it; otherwise 0, the untagged vNICs', which get
 * the frame with any tag put back. No vNIC for it: FRAME_DROP_WRONG_VLAN.
 * A source that is one of the VLAN's vNICs is our own frame echoed
 * (PACKET_OUTGOING: FRAME_DROP_OWN_ECHO) or another station using that MAC
 * (FRAME_DROP_MAC_CONFLICT), even for a group destination (IPv6 DAD).
 *
 * Returns FRAME_PASS with *port the vNIC's index (unicast to its MAC) or
 * VNICTAB_GROUP (I/G bit set: every vNIC of the VLAN), and *vid that VLAN;
 * else the verdict with *port the vNIC it concerns or VNICTAB_NONE
 * (FRAME_DROP_RUNT, FRAME_DROP_WRONG_VLAN, FRAME_DROP_NOT_FOR_US).
 * Thread: any (pure).
 */
enum frame_verdict vnictab_route(const struct vnictab *t, const uint8_t *frame, size_t len,
				 const struct frame_rx_meta *m, unsigned *vid, int *port);

#endif
