/*
 * live_test.c - the pure parts of vNICs added and removed while the relay
 * runs: routing tables with holes (vnictab_add_at, vnictab_build,
 * vnictab_next), the filter over such a table, the slot policy and the
 * quiescence rule (native/relay/live.h), and a long random run of adds and
 * removes against a model. Built and run by test/native/frame.native.test.ts.
 * Prints "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "../../native/filter.h"
#include "../../native/relay/live.h"
#include "../../native/vnictab.h"
#include "check.h"

static const uint8_t PEER[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* A distinct MAC per n. */
static void mac_of(uint8_t mac[6], unsigned n)
{
	const uint8_t m[6] = { 0x02, 0x00, 0xc0, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	memcpy(mac, m, 6);
}

static void frame(uint8_t f[60], const uint8_t *dst, const uint8_t *src)
{
	memset(f, 0, 60);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88, f[13] = 0xb5;
}

/* Route an untagged frame from the wire to dst; the verdict, with *port. */
static enum frame_verdict route_to(const struct vnictab *t, const uint8_t *dst, int *port)
{
	const struct frame_rx_meta m = { .pkttype = FRAME_PKT_OTHERHOST };
	uint8_t f[60];
	unsigned vid;

	frame(f, dst, PEER);
	return vnictab_route(t, f, sizeof(f), &m, &vid, port);
}

/* Indices added at will stay theirs; the walk visits them in order; a hole is found by nobody. */
static void test_holes(void)
{
	static struct vnictab t;
	uint8_t a[6], b[6], c[6];
	int port;

	mac_of(a, 1), mac_of(b, 2), mac_of(c, 3);
	vnictab_init(&t);
	CHECK(vnictab_next(&t, -1) == -1 && t.count == 0);
	CHECK(vnictab_add_at(&t, 5, a, 0) == 5);
	CHECK(vnictab_add_at(&t, 63, b, 0) == 63);
	CHECK(vnictab_add_at(&t, 0, c, 7) == 0);
	CHECK(vnictab_add_at(&t, 5, c, 0) == -2);  /* taken */
	CHECK(vnictab_add_at(&t, 64, c, 0) == -2); /* out of range */
	CHECK(vnictab_add_at(&t, -1, c, 0) == -2);
	CHECK(vnictab_add_at(&t, 9, a, 0) == -1);  /* (0, a) is index 5's */
	CHECK(t.count == 3);
	CHECK(vnictab_next(&t, -1) == 0 && vnictab_next(&t, 0) == 5 && vnictab_next(&t, 5) == 63 && vnictab_next(&t, 63) == -1);
	CHECK(vnictab_has(&t, 5) && vnictab_has(&t, 63) && !vnictab_has(&t, 1) && !vnictab_has(&t, 64) && !vnictab_has(&t, -1));
	CHECK(vnictab_find(&t, 0, a) == 5 && vnictab_find(&t, 0, b) == 63 && vnictab_find(&t, 7, c) == 0 && vnictab_find(&t, 0, c) == -1);
	CHECK(route_to(&t, b, &port) == FRAME_PASS && port == 63);
	CHECK(vnictab_common_vid(&t) == 0);
	/* vnictab_add() takes the lowest index not in the table */
	CHECK(vnictab_add(&t, PEER, 0) == 1);
	CHECK(vnictab_mask_next(0, -1) == -1 && vnictab_mask_next(1ull << 63, 62) == 63 && vnictab_mask_next(1ull << 63, 63) == -1);
	CHECK(vnictab_mask_next(~0ull, -1) == 0 && vnictab_mask_next(~0ull, 40) == 41);
}

/* A table built from the serving slots: the members only, each at its slot; a duplicate key fails the build. */
static void test_build(void)
{
	static struct vnictab t;
	struct vnictab_key keys[VNICTAB_MAX];
	const uint64_t members = 1ull << 0 | 1ull << 3 | 1ull << 4 | 1ull << 40;
	int i, port;

	memset(keys, 0, sizeof(keys));
	for (i = 0; i < VNICTAB_MAX; i++)
		mac_of(keys[i].mac, (unsigned)i + 100);
	keys[4].vid = 100;
	keys[40].vid = 100;
	CHECK(vnictab_build(&t, keys, members) == 4);
	CHECK(t.used == members);
	for (i = 0; i < VNICTAB_MAX; i++)
		CHECK(vnictab_find(&t, keys[i].vid, keys[i].mac) == ((members >> i) & 1 ? i : -1));
	CHECK(vnictab_has_vid(&t, 0) && vnictab_has_vid(&t, 100) && vnictab_common_vid(&t) == 0);
	CHECK(route_to(&t, keys[3].mac, &port) == FRAME_PASS && port == 3);
	CHECK(route_to(&t, keys[2].mac, &port) == FRAME_DROP_NOT_FOR_US); /* slot 2 is not a member */
	/* a rebuild starts from nothing: what left is gone, the VLAN bits too */
	CHECK(vnictab_build(&t, keys, 1ull << 4 | 1ull << 40) == 2);
	CHECK(vnictab_find(&t, 0, keys[0].mac) == -1 && !vnictab_has_vid(&t, 0) && vnictab_common_vid(&t) == 100);
	CHECK(route_to(&t, keys[0].mac, &port) == FRAME_DROP_WRONG_VLAN);
	/* none: every frame is for nobody */
	CHECK(vnictab_build(&t, keys, 0) == 0 && t.count == 0 && vnictab_next(&t, -1) == -1);
	CHECK(route_to(&t, BCAST, &port) == FRAME_DROP_WRONG_VLAN);
	/* the same (VLAN, MAC) twice */
	memcpy(keys[9].mac, keys[3].mac, 6);
	CHECK(vnictab_build(&t, keys, members | 1ull << 9) == -1);
	keys[9].vid = 5; /* another VLAN: two vNICs */
	CHECK(vnictab_build(&t, keys, members | 1ull << 9) == 5);
}

/* The filter of a table with holes is the one of the same MACs packed, in slot order. */
static void test_filter(void)
{
	static struct vnictab holey, packed;
	struct sock_filter a[FILTER_MAX], b[FILTER_MAX];
	uint8_t mac[6];
	int i, la, lb;

	vnictab_init(&holey);
	vnictab_init(&packed);
	for (i = 0; i < 3; i++) {
		mac_of(mac, (unsigned)i + 7);
		CHECK(vnictab_add_at(&holey, 10 * i + 2, mac, 0) == 10 * i + 2);
		CHECK(vnictab_add(&packed, mac, 0) == i);
	}
	la = filter_build(a, &holey, 0);
	lb = filter_build(b, &packed, 0);
	CHECK(la == FILTER_CHAIN_LEN(3) && la == lb && memcmp(a, b, sizeof(a[0]) * (size_t)la) == 0);
	vnictab_init(&holey);
	CHECK(filter_build(a, &holey, 0) == FILTER_CHAIN_LEN(0)); /* none: group addresses only */
	CHECK(a[FILTER_CHAIN_LEN(0) - 2].code == (BPF_RET | BPF_K) && a[FILTER_CHAIN_LEN(0) - 2].k == 0xffffffffu);
	for (i = 0; i <= FILTER_CHAIN_MAX; i++) {
		mac_of(mac, (unsigned)i + 50);
		CHECK(vnictab_add_at(&holey, 63 - 2 * i, mac, 0) == 63 - 2 * i);
	}
	CHECK(filter_build(a, &holey, 0) == 4); /* above FILTER_CHAIN_MAX: by packet type */
}

/* The lowest free slot; how far the slots reach; who has seen a change; the waits. */
static void test_policy(void)
{
	CHECK(live_slot_alloc(0) == 0);
	CHECK(live_slot_alloc(0x7) == 3);
	CHECK(live_slot_alloc(0x5) == 1); /* a freed slot is taken again first */
	CHECK(live_slot_alloc(~0ull) == -1);
	CHECK(live_slot_alloc(~0ull >> 1) == 63);
	CHECK(live_slots_end(0) == 0 && live_slots_end(1) == 1 && live_slots_end(0x10) == 5 && live_slots_end(1ull << 63) == 64);
	CHECK(live_quiescent(7, 7, 1, 0) && live_quiescent(8, 7, 1, 0) && !live_quiescent(6, 7, 1, 0));
	CHECK(live_quiescent(0, 7, 0, 0)); /* not running */
	CHECK(live_quiescent(6, 7, 1, 1)); /* ended on an error */
	CHECK(live_backoff_us(0) == 20 && live_backoff_us(20) == 40 && live_backoff_us(320) == 640 && live_backoff_us(640) == 1000 &&
	      live_backoff_us(1000) == 1000);
}

/* xorshift64: a fixed sequence. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * 20000 random adds and removes, in phases that fill and phases that drain, as live.c makes them (the lowest free slot,
 * a table rebuilt from the serving slots into the spare, the two swapped):
 * after each, every member is found at its slot, every removed key nowhere,
 * and the spare (the table the threads held before) still answers as it did.
 */
static void test_random_run(void)
{
	static struct vnictab tabs[2];
	struct vnictab_key keys[VNICTAB_MAX];
	uint64_t used = 0, seed = 0x9e3779b97f4a7c15ull;
	unsigned serial = 1;
	int live = 0, step, bad = 0, full = 0, emptied = 0;

	memset(keys, 0, sizeof(keys));
	vnictab_init(&tabs[0]);
	for (step = 0; step < 20000; step++) {
		const uint64_t r = next_rand(&seed);
		const struct vnictab *old = &tabs[live];
		struct vnictab *next = &tabs[!live];
		const uint64_t before = used;
		int s, i;

		const int adding = (step / 2500) % 2 == 0; /* phases that fill and phases that drain */

		if (((r & 3) != 0) == adding || !used) { /* add: three times in four while filling, once in four while draining */
			s = live_slot_alloc(used);
			if (s < 0) {
				full++;
				continue;
			}
			mac_of(keys[s].mac, serial++);
			keys[s].vid = (uint16_t)((r >> 8) % 3 * 100);
			used |= 1ull << s;
		} else { /* remove a random member */
			int k = (int)((r >> 8) % (uint64_t)__builtin_popcountll(used));

			for (s = vnictab_mask_next(used, -1); k--; s = vnictab_mask_next(used, s))
				;
			used &= ~(1ull << s);
			emptied += used == 0;
		}
		bad += vnictab_build(next, keys, used) != __builtin_popcountll(used);
		for (i = 0; i < VNICTAB_MAX; i++) {
			bad += vnictab_find(next, keys[i].vid, keys[i].mac) != ((used >> i) & 1 ? i : -1);
			bad += vnictab_find(old, keys[i].vid, keys[i].mac) != ((before >> i) & 1 && old->used >> i & 1 ? i : -1);
		}
		live = !live;
	}
	CHECK(bad == 0);
	CHECK(full > 0 && emptied > 0); /* the run reached both ends */
}

int main(void)
{
	test_holes();
	test_build();
	test_filter();
	test_policy();
	test_random_run();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
