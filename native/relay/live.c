/*
 * live.c - vNICs added and removed while the relay threads run (the design
 * is in relay.h). The JS thread builds a routing table in the spare,
 * publishes it (r->tab, then r->gen), wakes the threads through their sync
 * eventfds and, before it touches the spare again or closes what the old
 * table routed to, waits until every running thread has passed a round
 * boundary since (round_begin: q->seen). Thread: set-up (JS), one call at a time.
 */
#include "relay_int.h"

#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "../psock.h"
#include "live.h"

/* relay_add_vnic()'s and relay_remove_vnic()'s words for what they refuse. */
#define ADD_CALL "relay_add_vnic"
#define ADD_VERB "cannot add vNIC"
#define REMOVE_CALL "relay_remove_vnic"
#define REMOVE_VERB "cannot remove vNIC"

/* vd_failf(e, ...), returning -errno: what relay_add_vnic() and relay_remove_vnic() return. */
#define refuse(e, ...) (vd_failf((e), __VA_ARGS__), -(e)->err)

/* CLOCK_MONOTONIC, ns. */
static long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* 1 when every queue's thread has passed a round boundary since change `want`, or runs no more (live_quiescent). */
static int threads_quiescent(const struct relay *r, uint64_t want)
{
	int k;

	for (k = 0; k < r->queues; k++) {
		const struct relay_queue *q = &r->q[k];

		if (!live_quiescent(__atomic_load_n(&q->seen, __ATOMIC_ACQUIRE), want, r->running,
				    __atomic_load_n(&q->rx_error, __ATOMIC_ACQUIRE) != 0))
			return 0;
	}
	return 1;
}

/*
 * Wait until no relay thread can hold a table older than the last change
 * (threads_quiescent), polling with short sleeps for at most
 * RELAY_LIVE_WAIT_MS. Each sleeping thread was woken by publish(); a busy one
 * passes a boundary every RX_BUDGET frames. Returns 0 (r->synced set), or -1
 * with *e: ETIMEDOUT, about vNIC tap, from call.
 */
static int settle(struct relay *r, const char *tap, const char *call, const char *verb, struct vd_error *e)
{
	const uint64_t want = __atomic_load_n(&r->gen, __ATOMIC_RELAXED);
	const long long until = mono_ns() + RELAY_LIVE_WAIT_MS * 1000000LL;
	unsigned us = 0;

	while (!r->synced && !threads_quiescent(r, want)) {
		struct timespec ts;

		if (mono_ns() > until)
			return vd_failf(e, tap, call, ETIMEDOUT, "%s: the relay threads did not pass a round boundary within %d ms", verb,
					RELAY_LIVE_WAIT_MS);
		us = live_backoff_us(us);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)us * 1000L;
		(void)nanosleep(&ts, NULL);
	}
	r->synced = 1;
	return 0;
}

/* The routing table no thread holds once settle() returned: the one r->tab is not. */
static struct vnictab *spare_table(struct relay *r)
{
	return __atomic_load_n(&r->tab, __ATOMIC_RELAXED) == &r->tabs[0] ? &r->tabs[1] : &r->tabs[0];
}

/*
 * Make t the live routing table: r->tab with release (what it routes to is
 * set up), then the change count, then each running thread woken through its
 * sync eventfd, so one asleep passes a round boundary too.
 */
static void publish(struct relay *r, const struct vnictab *t)
{
	int k;

	__atomic_store_n(&r->tab, t, __ATOMIC_RELEASE);
	(void)__atomic_add_fetch(&r->gen, 1, __ATOMIC_RELEASE);
	r->synced = !r->running;
	for (k = 0; k < r->queues && r->running; k++)
		(void)eventfd_write(r->q[k].sync_fd, 1);
}

/* Slot's TAP queues out of the first `queues` epoll sets (one a thread retired is out already). */
static void unwatch_vnic(struct relay *r, int slot, int queues)
{
	int k;

	for (k = 0; k < queues; k++)
		(void)epoll_ctl(r->q[k].epoll_fd, EPOLL_CTL_DEL, r->vnics[slot].tap_fd[k], NULL);
}

/*
 * Slot's TAP queue k in queue k's epoll set, for every queue (data: the
 * slot). A thread whose round's table lacks the slot leaves its events alone
 * (tx_round). Returns 0, or -1 with *e filled and none left in.
 */
static int watch_vnic(struct relay *r, int slot, struct vd_error *e)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)slot };
	int k;

	for (k = 0; k < r->queues; k++) {
		if (epoll_ctl(r->q[k].epoll_fd, EPOLL_CTL_ADD, r->vnics[slot].tap_fd[k], &ev) < 0) {
			vd_fail(e, r->vnics[slot].tap, "cannot watch the TAP", "epoll_ctl", errno);
			unwatch_vnic(r, slot, k);
			return -1;
		}
	}
	return 0;
}

/*
 * Every queue's filter for table t (queue_filter); when one fails, the
 * queues done so far get table back's again. Returns 0, or -1 with *e filled
 * and the filters as they were.
 */
static int set_filters(struct relay *r, const struct vnictab *t, const struct vnictab *back, struct vd_error *e)
{
	struct vd_error ignored;
	int k, j;

	for (k = 0; k < r->queues; k++) {
		if (queue_filter(&r->q[k], t, e) < 0) {
			for (j = 0; j < k; j++)
				(void)queue_filter(&r->q[j], back, &ignored);
			return -1;
		}
	}
	return 0;
}

/* The unicast filter entry for slot's MAC on the parent (membership unicast; the others add nothing per vNIC). */
static int join_parent(struct relay *r, int slot, struct vd_error *e)
{
	if (r->membership != PSOCK_MR_UNICAST)
		return 0;
	return psock_add_membership(r->q[0].sock_fd, r->parent, r->parent_ifindex, r->membership, r->key[slot].mac, e);
}

/* join_parent() undone. */
static void leave_parent(struct relay *r, int slot)
{
	struct vd_error ignored;

	if (r->membership == PSOCK_MR_UNICAST)
		(void)psock_drop_membership(r->q[0].sock_fd, r->parent, r->parent_ifindex, r->membership, r->key[slot].mac, &ignored);
}

/* The slot of the vNIC the live table has with key k, or -1. */
static int key_owner(const struct relay *r, const struct vnictab_key *k)
{
	return vnictab_find(__atomic_load_n(&r->tab, __ATOMIC_RELAXED), k->vid, k->mac);
}

int relay_add_vnic(struct relay *r, const struct relay_vnic_config *vc, struct vd_error *e)
{
	const struct vnictab *live = __atomic_load_n(&r->tab, __ATOMIC_RELAXED);
	struct vnictab *next;
	int slot, other, joined = 0;

	if (check_vnic(vc, ADD_CALL, ADD_VERB, e) < 0)
		return -e->err;
	if (r->q[0].sock_fd < 0)
		return refuse(e, vc->tap, ADD_CALL, EBADF, "%s: the relay is not open", ADD_VERB);
	if (vc->mac) { /* known now: refused before anything is made */
		struct vnictab_key k = { .vid = (uint16_t)vc->vlan };

		memcpy(k.mac, vc->mac, sizeof(k.mac));
		other = key_owner(r, &k);
		if (other >= 0) {
			mac_taken(r, vc->tap, &k, other, ADD_CALL, ADD_VERB, e);
			return -e->err;
		}
	}
	slot = live_slot_alloc(r->used);
	if (slot < 0)
		return refuse(e, vc->tap, ADD_CALL, ENOSPC, "%s: the relay has %d vNICs, the most it takes", ADD_VERB, RELAY_MAX_VNICS);
	if (settle(r, vc->tap, ADD_CALL, ADD_VERB, e) < 0) /* the spare must be nobody's */
		return -e->err;
	if (open_vnic(r, slot, vc, 0, e) < 0)
		goto undo;
	other = key_owner(r, &r->key[slot]); /* the kernel's random MAC, when none was given */
	if (other >= 0) {
		mac_taken(r, vc->tap, &r->key[slot], other, ADD_CALL, ADD_VERB, e);
		goto undo;
	}
	if (join_parent(r, slot, e) < 0)
		goto undo;
	joined = 1;
	next = spare_table(r);
	(void)vnictab_build(next, r->key, r->serving | 1ull << slot); /* no duplicate: key_owner() looked */
	if (set_filters(r, next, live, e) < 0)
		goto undo;
	if (watch_vnic(r, slot, e) < 0) {
		struct vd_error ignored;

		(void)set_filters(r, live, live, &ignored);
		goto undo;
	}
	/* Nothing fails from here: the threads route to it from their next round on. */
	r->serving |= 1ull << slot;
	publish(r, next);
	return slot;
undo:
	if (joined)
		leave_parent(r, slot);
	close_vnic(r, slot);
	r->used &= ~(1ull << slot);
	return -e->err;
}

/* Slot's counters added up over the queues into *out, then zeroed for its next vNIC, their sum kept in r->departed. */
static void take_counters(struct relay *r, int slot, struct relay_vnic_counters *out)
{
	struct relay_vnic_counters sum;
	int k;

	memset(&sum, 0, sizeof(sum));
	vnic_counters_sum(r, slot, &sum);
	counters_fold(&sum.rx, &r->departed.rx);
	counters_fold(&sum.tx, &r->departed.tx);
	for (k = 0; k < r->queues; k++)
		if (r->q[k].c)
			memset(&r->q[k].c[slot], 0, sizeof(r->q[k].c[slot])); /* no thread counts for it any more */
	if (out)
		*out = sum;
}

int relay_remove_vnic(struct relay *r, int slot, struct relay_vnic_counters *out, struct vd_error *e)
{
	if (slot < 0 || slot >= RELAY_MAX_VNICS)
		return refuse(e, r->parent, REMOVE_CALL, ERANGE, "%s: slot %d is outside 0..%d", REMOVE_VERB, slot, RELAY_MAX_VNICS - 1);
	if (!(r->used & 1ull << slot))
		return refuse(e, r->parent, REMOVE_CALL, ENOENT, "%s: slot %d holds none", REMOVE_VERB, slot);
	if (r->serving & 1ull << slot) {
		const struct vnictab *live = __atomic_load_n(&r->tab, __ATOMIC_RELAXED);
		struct vnictab *next;
		struct vd_error ignored;

		if (settle(r, r->vnics[slot].tap, REMOVE_CALL, REMOVE_VERB, e) < 0) /* the spare must be nobody's */
			return -e->err;
		/* Its frames no longer read (a thread holding the old table may still finish a pass on it), nor routed to it. */
		unwatch_vnic(r, slot, r->queues);
		next = spare_table(r);
		(void)vnictab_build(next, r->key, r->serving & ~(1ull << slot));
		/* Best effort from here: the old filter lets its frames in to be dropped as not_for_us; a stale unicast entry goes at close. */
		(void)set_filters(r, next, live, &ignored);
		leave_parent(r, slot);
		r->serving &= ~(1ull << slot);
		publish(r, next);
	}
	/* A timeout leaves it out of routing with its TAP open: calling again finishes the job. */
	if (settle(r, r->vnics[slot].tap, REMOVE_CALL, REMOVE_VERB, e) < 0)
		return -e->err;
	take_counters(r, slot, out);
	close_vnic(r, slot);
	r->used &= ~(1ull << slot);
	return 0;
}
