/*
 * live.h - the pure parts of adding and removing vNICs while the relay
 * runs (live.c; the design is in relay.h): which slot a new vNIC takes, how
 * far the slots in use reach, and when a queue's thread can no longer hold a
 * routing table older than a change. No system calls, so they are
 * unit-tested apart from the relay (test/native/live_test.c).
 */
#ifndef VETHD_RELAY_LIVE_H
#define VETHD_RELAY_LIVE_H

#include <stdint.h>

#include "../relay.h"
#include "../vnictab.h"

_Static_assert(RELAY_MAX_VNICS <= 64, "a slot mask has a bit per slot");

/*
 * The slot a new vNIC takes in `used` (bit s: slot s taken): the lowest free
 * one, so until a vNIC is removed slot i is the i-th vNIC, as relay_open()
 * numbers them, and a freed slot is taken again first; -1 when all
 * RELAY_MAX_VNICS are taken. Thread: any (pure).
 */
static inline int live_slot_alloc(uint64_t used)
{
	const int s = vnictab_mask_next(~used, -1);

	return s >= 0 && s < RELAY_MAX_VNICS ? s : -1;
}

/* One past the highest slot taken in used, 0 for none: the slots a caller walks. Thread: any (pure). */
static inline int live_slots_end(uint64_t used)
{
	return used ? 64 - __builtin_clzll(used) : 0;
}

/*
 * 1 when a queue's thread can no longer hold a routing table older than
 * change `want`: its last round boundary saw it (seen >= want), or it does
 * not run (running 0: never started, or joined), or it ended on an error
 * (ended: rx_error set, after which it touches nothing). Thread: any (pure).
 */
static inline int live_quiescent(uint64_t seen, uint64_t want, int running, int ended)
{
	return !running || ended || seen >= want;
}

/* The next pause while waiting for the threads, µs: doubling from 20 up to 1000. Thread: any (pure). */
static inline unsigned live_backoff_us(unsigned us)
{
	return us < 20 ? 20 : us >= 500 ? 1000 : us * 2;
}

#endif
