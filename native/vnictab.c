/*
 * vnictab.c - the vNIC table and receive-side routing (see vnictab.h).
 */
#include "vnictab.h"

#include <string.h>

_Static_assert((VNICTAB_SLOTS & (VNICTAB_SLOTS - 1)) == 0, "VNICTAB_SLOTS is a power of two");
_Static_assert(VNICTAB_SLOTS >= 4 * VNICTAB_MAX, "load factor at most 1/4");
_Static_assert(VNICTAB_MAX < 255, "an index + 1 fits a slot byte");
_Static_assert(VNICTAB_MAX <= 64, "vnictab.used has a bit per index");

/*
 * The home slot of (vid, mac): the last four MAC bytes (the ones that differ
 * between stations of one OUI or one policy) and the VID, mixed by one
 * multiplication (Fibonacci hashing, Knuth TAOCP 6.4), top bits kept.
 */
static unsigned home_slot(unsigned vid, const uint8_t *mac)
{
	uint32_t x = ((uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5]) ^
		     ((uint32_t)mac[1] << 4) ^ ((uint32_t)vid << 20);

	return (x * 2654435769u) >> 24; /* 8 bits: VNICTAB_SLOTS */
}
_Static_assert(VNICTAB_SLOTS == 256, "home_slot() keeps 8 bits");

void vnictab_init(struct vnictab *t)
{
	memset(t, 0, sizeof(*t));
}

int vnictab_find(const struct vnictab *t, unsigned vid, const uint8_t *mac)
{
	unsigned s = home_slot(vid, mac);

	/* The table is never more than a quarter full: an empty slot ends every chain. */
	for (; t->slot[s]; s = (s + 1) & (VNICTAB_SLOTS - 1)) {
		const struct vnictab_key *k = &t->key[t->slot[s] - 1];

		if (k->vid == vid && frame_mac_equal(k->mac, mac))
			return t->slot[s] - 1;
	}
	return -1;
}

int vnictab_add_at(struct vnictab *t, int index, const uint8_t mac[FRAME_ETH_ALEN], unsigned vid)
{
	unsigned s;

	if (index < 0 || index >= VNICTAB_MAX || vnictab_has(t, index) || vid > FRAME_VID_MAX)
		return -2;
	if (vnictab_find(t, vid, mac) >= 0)
		return -1;
	for (s = home_slot(vid, mac); t->slot[s]; s = (s + 1) & (VNICTAB_SLOTS - 1))
		;
	memcpy(t->key[index].mac, mac, FRAME_ETH_ALEN);
	t->key[index].vid = (uint16_t)vid;
	t->slot[s] = (uint8_t)(index + 1);
	t->vids[vid / 64] |= 1ull << (vid % 64);
	t->used |= 1ull << index;
	t->count++;
	return index;
}

int vnictab_add(struct vnictab *t, const uint8_t mac[FRAME_ETH_ALEN], unsigned vid)
{
	const int index = vnictab_mask_next(~t->used, -1);

	return index < 0 || index >= VNICTAB_MAX ? -2 : vnictab_add_at(t, index, mac, vid);
}

int vnictab_build(struct vnictab *t, const struct vnictab_key keys[VNICTAB_MAX], uint64_t members)
{
	int i;

	vnictab_init(t);
	for (i = vnictab_mask_next(members, -1); i >= 0; i = vnictab_mask_next(members, i))
		if (vnictab_add_at(t, i, keys[i].mac, keys[i].vid) < 0)
			return -1;
	return t->count;
}

unsigned vnictab_common_vid(const struct vnictab *t)
{
	const int first = vnictab_next(t, -1);
	int i;

	if (first < 0)
		return 0;
	for (i = vnictab_next(t, first); i >= 0; i = vnictab_next(t, i))
		if (t->key[i].vid != t->key[first].vid)
			return 0;
	return t->key[first].vid;
}

enum frame_verdict vnictab_route(const struct vnictab *t, const uint8_t *frame, size_t len,
				 const struct frame_rx_meta *m, unsigned *vid, int *port)
{
	const uint8_t *dst = frame, *src = frame + FRAME_ETH_ALEN;
	unsigned v = m->vlan_valid ? m->vlan_tci & 0x0fffu : 0;
	int owner;

	*port = VNICTAB_NONE;
	if (len < FRAME_ETH_HLEN)
		return FRAME_DROP_RUNT;
	if (!v || !vnictab_has_vid(t, v))
		v = 0; /* untagged, or a VLAN no access port has: the untagged vNICs' (tag put back) */
	if (!vnictab_has_vid(t, v))
		return FRAME_DROP_WRONG_VLAN;
	*vid = v;
	/* Source check first: our own frames must never come back, even broadcast ones (IPv6 DAD). */
	owner = vnictab_find(t, v, src);
	if (owner >= 0) {
		*port = owner;
		return m->pkttype == FRAME_PKT_OUTGOING ? FRAME_DROP_OWN_ECHO : FRAME_DROP_MAC_CONFLICT;
	}
	if (frame_mac_is_group(dst)) {
		*port = VNICTAB_GROUP;
		return FRAME_PASS;
	}
	*port = vnictab_find(t, v, dst);
	return *port >= 0 ? FRAME_PASS : FRAME_DROP_NOT_FOR_US;
}
