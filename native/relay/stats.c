/*
 * stats.c - the counters, read on the JS thread while the relay threads
 * write them: each thread has its own per vNIC and for the drops that concern
 * no vNIC, one writer each, read with relaxed atomic loads and added up over
 * the queues; the sockets' overrun counts are folded in on request.
 * Thread: JS (any, for the reads).
 */
#include "relay_int.h"

#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>

void relay_collect_overruns(struct relay *r)
{
	int i;

	for (i = 0; i < r->queues; i++) {
		struct tpacket_stats st;
		socklen_t len = sizeof(st);

		if (r->q[i].sock_fd >= 0 && getsockopt(r->q[i].sock_fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			COUNTER_ADD(&r->q[i].unrouted.drops[FRAME_DROP_OVERRUN], st.tp_drops);
	}
}

/* Add one direction's counters, each value read atomically, into *sum. */
static void add_dir(const struct relay_dir_counters *c, struct relay_dir_counters *sum)
{
	int i;

	sum->frames += __atomic_load_n(&c->frames, __ATOMIC_RELAXED);
	sum->bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
	for (i = 0; i < FRAME_VERDICT_COUNT; i++)
		sum->drops[i] += __atomic_load_n(&c->drops[i], __ATOMIC_RELAXED);
}

void counters_fold(const struct relay_dir_counters *c, struct relay_dir_counters *into)
{
	int i;

	COUNTER_ADD(&into->frames, c->frames);
	COUNTER_ADD(&into->bytes, c->bytes);
	for (i = 0; i < FRAME_VERDICT_COUNT; i++)
		COUNTER_ADD(&into->drops[i], c->drops[i]);
}

void vnic_counters_sum(const struct relay *r, int slot, struct relay_vnic_counters *sum)
{
	int i;

	for (i = 0; i < r->queues; i++) {
		const struct relay_queue *q = &r->q[i];

		if (q->c) {
			add_dir(&q->c[slot].rx, &sum->rx);
			add_dir(&q->c[slot].tx, &sum->tx);
		}
	}
}

void relay_snapshot(const struct relay *r, struct relay_vnic_counters *vnics, struct relay_dir_counters *unrouted,
		    struct relay_vnic_counters *total)
{
	const int slots = relay_vnic_slots(r);
	int i, v;

	if (vnics)
		memset(vnics, 0, (size_t)slots * sizeof(*vnics));
	memset(unrouted, 0, sizeof(*unrouted));
	for (i = 0; i < r->queues; i++)
		add_dir(&r->q[i].unrouted, unrouted);
	for (v = 0; vnics && v < slots; v++)
		vnic_counters_sum(r, v, &vnics[v]);
	if (!total)
		return;
	memset(total, 0, sizeof(*total));
	for (v = 0; vnics && v < slots; v++) {
		add_dir(&vnics[v].rx, &total->rx);
		add_dir(&vnics[v].tx, &total->tx);
	}
	add_dir(&r->departed.rx, &total->rx);
	add_dir(&r->departed.tx, &total->tx);
	add_dir(unrouted, &total->rx);
}
