/*
 * follow.c - a relay thread follows its frames (follow.h has the policy):
 * before it sleeps it reads the clock and the CPU the filter recorded, and
 * moves (sched_setaffinity) only when the place changes. At set-up: each
 * queue's CPUs under PACKET_FANOUT_CPU, and the mode the relay got.
 */
#include "relay_int.h"

#include "follow.h"

/* Where queue q's thread waits while traffic is sparse (follow_sparse_at). Thread: relay. */
static int sparse_at(const struct relay_queue *q)
{
	const uint32_t cpu = q->rx_cpu ? __atomic_load_n(q->rx_cpu, __ATOMIC_RELAXED) : 0;

	return follow_sparse_at(q->rx_cpu != NULL, cpu, &q->r->allowed, &q->cpus);
}

/*
 * Where queue q's thread waits (*at, updated): while traffic is sparse on the
 * CPU its frames arrive on (sparse_at), while it is dense anywhere (follow.h).
 * dense: this thread has just seen a burst, or slept less than
 * FOLLOW_SPARSE_NS; recorded relay-wide at `now` (ns). Changes the affinity
 * only when the place changes. Thread: relay.
 */
void follow_frames(struct relay_queue *q, int *at, int dense, long long now)
{
	struct relay *r = q->r;
	int want;
	cpu_set_t one;

	if (dense)
		__atomic_store_n(&r->dense_ns, now, __ATOMIC_RELAXED);
	want = follow_is_sparse(dense, now, __atomic_load_n(&r->dense_ns, __ATOMIC_RELAXED)) ? sparse_at(q) : FOLLOW_AT_ALLOWED;
	if (want == *at)
		return;
	if (want >= 0) {
		CPU_ZERO(&one);
		CPU_SET(want, &one);
	}
	if (sched_setaffinity(0, sizeof(cpu_set_t), want >= 0 ? &one : want == FOLLOW_AT_QUEUE ? &q->cpus : &r->allowed) == 0)
		*at = want;
}

void queue_cpus(struct relay_queue *q)
{
	follow_queue_cpus(&q->cpus, q->index, q->r->queues, &q->r->allowed);
}

enum relay_follow follow_mode(const struct relay *r)
{
	enum relay_follow f = RELAY_FOLLOW_RXCPU;
	int i;

	for (i = 0; i < r->queues; i++)
		f = follow_mode_with(f, r->q[i].rx_cpu != NULL, CPU_COUNT(&r->q[i].cpus));
	return f;
}
