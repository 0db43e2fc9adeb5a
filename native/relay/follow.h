/*
 * follow.h - where a relay thread waits, pure (no system calls), so it is
 * unit-tested apart from the relay (test/native/follow_test.c); follow.c
 * reads the clock and the recorded CPU and calls sched_setaffinity().
 *
 * While traffic is sparse a thread waits pinned to the CPU its last frame
 * arrived on (the CPU-recording filter, rxcpu.h), else on its queue's CPUs
 * (PACKET_FANOUT_CPU), else anywhere: the next frame then wakes it on the CPU
 * that received it, which is busy, rather than on the CPU it last ran on,
 * which may be idle and halted (a wake-up there costs tens of µs on a VM).
 * While traffic is dense it may run anywhere, so the scheduler can move it
 * off the CPU that receives, where the sender runs. Traffic is sparse when no
 * thread of the relay has seen it dense for FOLLOW_SPARSE_NS: one TCP flow
 * lands on every queue (its ACKs, relayed on one CPU, make the sender
 * transmit there).
 */
#ifndef VETHD_RELAY_FOLLOW_H
#define VETHD_RELAY_FOLLOW_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdint.h>

#include "../relay.h"

/* A sleep of the relay thread at least this long (ns) means sparse traffic. */
#define FOLLOW_SPARSE_NS 1000000LL
/* Where a following thread waits: anywhere it may run, or on its queue's CPUs; 0 and up: on that CPU. */
#define FOLLOW_AT_ALLOWED (-1)
#define FOLLOW_AT_QUEUE (-2)

/*
 * Where a thread waits while traffic is sparse: the CPU its last frame arrived
 * on (has_cpu: the filter records it; cpu: what it recorded, RXCPU_NONE before
 * the first) when the process may run there, else FOLLOW_AT_QUEUE when its
 * queue has CPUs, else FOLLOW_AT_ALLOWED. Thread: any (pure).
 */
static inline int follow_sparse_at(int has_cpu, uint32_t cpu, const cpu_set_t *allowed, const cpu_set_t *queue)
{
	if (has_cpu && cpu < CPU_SETSIZE && CPU_ISSET(cpu, allowed))
		return (int)cpu;
	return CPU_COUNT(queue) > 0 ? FOLLOW_AT_QUEUE : FOLLOW_AT_ALLOWED;
}

/*
 * 1 when traffic is sparse at `now` (ns): this thread has not just seen it
 * dense, and no thread of the relay has since last_dense_ns. Thread: any (pure).
 */
static inline int follow_is_sparse(int dense, long long now, long long last_dense_ns)
{
	return !dense && now - last_dense_ns >= FOLLOW_SPARSE_NS;
}

/* The CPUs queue `index` of `queues` takes frames from under PACKET_FANOUT_CPU: c % queues == index among allowed. Thread: any (pure). */
static inline void follow_queue_cpus(cpu_set_t *out, int index, int queues, const cpu_set_t *allowed)
{
	int c;

	CPU_ZERO(out);
	for (c = index; c < CPU_SETSIZE; c += queues)
		if (CPU_ISSET(c, allowed))
			CPU_SET(c, out);
}

/*
 * How the relay follows its frames, given how it did so far (start:
 * RELAY_FOLLOW_RXCPU) and one more queue: has_cpu (its filter records the
 * CPU), queue_cpus (its CPU count under PACKET_FANOUT_CPU, else 0). A queue
 * without the filter decides by its own CPUs. Thread: any (pure).
 */
static inline enum relay_follow follow_mode_with(enum relay_follow so_far, int has_cpu, int queue_cpus)
{
	if (has_cpu)
		return so_far;
	return queue_cpus > 0 ? RELAY_FOLLOW_FANOUT : RELAY_FOLLOW_OFF;
}

#endif
