/*
 * follow_test.c - where a relay thread waits (native/relay/follow.h): the
 * CPU its last frame arrived on while the process may run there, else its
 * queue's CPUs, else anywhere; sparse only when no thread saw dense traffic
 * for FOLLOW_SPARSE_NS; each queue's CPUs under PACKET_FANOUT_CPU; the
 * relay's mode over its queues. Built and run by test/frame.native.test.ts.
 * Prints "N passed, N failed".
 */
#define _GNU_SOURCE /* cpu_set_t and CPU_* (sched.h) */
#include <stdio.h>

#include "../../native/relay/follow.h"
#include "../../native/rxcpu.h"
#include "check.h"

static cpu_set_t cpus(unsigned mask)
{
	cpu_set_t s;
	int c;

	CPU_ZERO(&s);
	for (c = 0; c < 32; c++)
		if (mask & (1u << c))
			CPU_SET(c, &s);
	return s;
}

static void test_sparse_at(void)
{
	const cpu_set_t allowed = cpus(0x0f), none = cpus(0), queue = cpus(0x05);

	CHECK(follow_sparse_at(1, 2, &allowed, &none) == 2);
	CHECK(follow_sparse_at(1, 2, &allowed, &queue) == 2);         /* the recorded CPU wins over the queue's */
	CHECK(follow_sparse_at(1, 5, &allowed, &queue) == FOLLOW_AT_QUEUE); /* not one the process may run on */
	CHECK(follow_sparse_at(1, 5, &allowed, &none) == FOLLOW_AT_ALLOWED);
	CHECK(follow_sparse_at(1, RXCPU_NONE, &allowed, &queue) == FOLLOW_AT_QUEUE); /* no frame yet */
	CHECK(follow_sparse_at(1, CPU_SETSIZE, &allowed, &none) == FOLLOW_AT_ALLOWED);
	CHECK(follow_sparse_at(0, 2, &allowed, &none) == FOLLOW_AT_ALLOWED); /* no filter: the value means nothing */
	CHECK(follow_sparse_at(0, 2, &allowed, &queue) == FOLLOW_AT_QUEUE);
}

static void test_is_sparse(void)
{
	const long long t = 10 * FOLLOW_SPARSE_NS;

	CHECK(follow_is_sparse(0, t, t - FOLLOW_SPARSE_NS) == 1);
	CHECK(follow_is_sparse(0, t, t - FOLLOW_SPARSE_NS + 1) == 0); /* another thread saw it dense just now */
	CHECK(follow_is_sparse(1, t, 0) == 0);                         /* this thread sees it dense */
	CHECK(follow_is_sparse(0, t, 0) == 1);                         /* never dense */
}

static void test_queue_cpus(void)
{
	const cpu_set_t allowed = cpus(0x3b); /* 0, 1, 3, 4, 5 */
	cpu_set_t q;

	follow_queue_cpus(&q, 0, 2, &allowed);
	{
		const cpu_set_t want = cpus(0x11); /* 0, 4: even and allowed */

		CHECK(CPU_EQUAL(&q, &want));
	}
	follow_queue_cpus(&q, 1, 2, &allowed);
	{
		const cpu_set_t want = cpus(0x2a); /* 1, 3, 5 */

		CHECK(CPU_EQUAL(&q, &want));
	}
	follow_queue_cpus(&q, 2, 3, &allowed);
	{
		const cpu_set_t want = cpus(0x20); /* 5 (2 is not allowed) */

		CHECK(CPU_EQUAL(&q, &want));
	}
	follow_queue_cpus(&q, 0, 1, &allowed);
	CHECK(CPU_EQUAL(&q, &allowed));
}

static void test_mode(void)
{
	CHECK(follow_mode_with(RELAY_FOLLOW_RXCPU, 1, 0) == RELAY_FOLLOW_RXCPU);
	CHECK(follow_mode_with(RELAY_FOLLOW_RXCPU, 0, 2) == RELAY_FOLLOW_FANOUT);
	CHECK(follow_mode_with(RELAY_FOLLOW_RXCPU, 0, 0) == RELAY_FOLLOW_OFF);
	CHECK(follow_mode_with(RELAY_FOLLOW_OFF, 1, 0) == RELAY_FOLLOW_OFF); /* a queue with the filter keeps what the others got */
	CHECK(follow_mode_with(RELAY_FOLLOW_FANOUT, 1, 3) == RELAY_FOLLOW_FANOUT);
}

int main(void)
{
	test_sparse_at();
	test_is_sparse();
	test_queue_cpus();
	test_mode();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
