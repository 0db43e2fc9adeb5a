/*
 * loop.c - the relay thread, one per queue, and its start and stop. Each
 * round: the routing table for the round (round_begin), the frames from the
 * parent (rx.c), then the vNICs that have frames to send (tx.c); it sleeps
 * only when a round found nothing, pauses after a burst (coalesce.h), and
 * while it follows its frames moves to where they arrive before it sleeps
 * (follow.c). Threads: relay (relay_main), set-up
 * (start, stop).
 */
#include "relay_int.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <time.h>

#include "../caps.h"
#include "../coalesce.h"
#include "follow.h"

/* The relay thread's timer slack, ns: its coalescing pauses are 25 µs and up. */
#define RELAY_TIMER_SLACK_NS 5000
/* Most epoll events taken per wait. */
#define RELAY_EVENTS 16
/* relay_wait() results: the epoll set (a vNIC or the stop eventfd) is ready; the packet socket has frames; it has an error. */
#define WAIT_EPOLL 1
#define WAIT_SOCK 2
#define WAIT_SOCK_ERR 4

/*
 * Sleep until a vNIC has frames to send or shutdown is asked (q->epoll_fd
 * readable), for at most us µs (a coalescing pause), or with us < 0 until
 * then or until the packet socket is readable. The socket is polled here
 * rather than kept in the epoll set: an epoll entry on its wait queue would be
 * called for every frame the kernel puts in the ring, while a poll() entry is
 * there only while the thread sleeps. Returns WAIT_EPOLL, WAIT_SOCK (POLLIN)
 * and/or WAIT_SOCK_ERR (POLLERR: sk_err set, e.g. ENETDOWN) for what is ready,
 * 0 for none (timeout, EINTR), -errno when ppoll() itself fails. Thread: relay.
 */
static int relay_wait(const struct relay_queue *q, int us)
{
	struct pollfd p[2] = { { .fd = q->epoll_fd, .events = POLLIN }, { .fd = q->sock_fd, .events = POLLIN } };
	const struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000L };

	int n = ppoll(p, us < 0 ? 2 : 1, us < 0 ? NULL : &ts, NULL);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 0;
	/* p[1] is not polled during a pause: its revents stay 0 */
	return (p[0].revents ? WAIT_EPOLL : 0) | (p[1].revents & POLLIN ? WAIT_SOCK : 0) |
	       (p[1].revents & (POLLERR | POLLHUP | POLLNVAL) ? WAIT_SOCK_ERR : 0);
}

/* CLOCK_MONOTONIC, ns (vDSO: no system call). Thread: any. */
static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/*
 * Queue q's relay thread, both directions, in one loop: a round of frames
 * from the parent, then the vNICs that have frames to send (epoll_wait()
 * with a zero timeout on the TAPs and the stop eventfd), sleeping (relay_wait)
 * only when the round found nothing. So a write() into a TAP, which runs the
 * vNIC's stack on this thread (tun_get_user -> netif_receive_skb), has its
 * answer (ARP or echo reply, TCP ACK) sent in the same round: no other thread
 * to wake per round trip. When the ring ran dry after a burst, it pauses
 * instead, unless a vNIC has something to send (coalesce.h). Sets
 * q->rx_error when it ends on an error. Thread: relay.
 */
void *relay_main(void *arg)
{
	struct relay_queue *q = arg;
	const struct relay *r = q->r;
	const size_t vh = r->vnet_hdr ? VNET_HLEN : 0;
	struct epoll_event ev[RELAY_EVENTS];
	struct tx_batch batch;
	unsigned burst = 0, pause_us = 0;
	/* Following its frames (follow): where it waits (follow_frames; it starts on q->cpus when any); its last blocking sleep, ns */
	const int follow = q->rx_cpu || CPU_COUNT(&q->cpus) > 0;
	int at = CPU_COUNT(&q->cpus) > 0 ? FOLLOW_AT_QUEUE : FOLLOW_AT_ALLOWED;
	long long slept = FOLLOW_SPARSE_NS;
	/* 1 while the socket's own queue may hold frames queued before the ring existed */
	int sockq = 1;
	char name[16];              /* the thread's name, at most 15 characters */

	(void)snprintf(name, sizeof(name), "vethd-q%d", q->index); /* as top -H and ps -L show it */
	(void)pthread_setname_np(pthread_self(), name);
	caps_drop_thread(); /* the thread that reads the wire and the vNICs needs no privilege */
	(void)prctl(PR_SET_TIMERSLACK, RELAY_TIMER_SLACK_NS); /* the default 50 µs slack would double the pause */
	memset(&batch, 0, sizeof(batch));
	while (!stop_asked(r)) {
		int rerr, n, err, w = 0;
		unsigned got;

		round_begin(q); /* every `continue` comes back here: a round boundary */
		got = rx_round(q, vh, &sockq, &rerr);

		if (rx_error_ends(rerr)) {
			rx_fail(q, rerr, "recvmsg");
			break;
		}
		burst += got;
		if (got < RX_BUDGET && burst >= COALESCE_BURST_FRAMES && r->coalesce_us) {
			/* A stream, not a lone frame: let the ring fill a while instead of being woken per frame. */
			pause_us = coalesce_next_pause(pause_us, burst, (unsigned)r->coalesce_us, q->ring.mode == RING_V2 ? q->ring.nr : 0);
			burst = 0;
			if (follow)
				follow_frames(q, &at, 1, now_ns());
			w = relay_wait(q, (int)pause_us);
			if (w == 0)
				continue; /* the vNICs have nothing to send: straight back to the ring */
		} else if (!got) {
			const long long t0 = follow ? now_ns() : 0;

			burst = pause_us = 0;
			if (follow)
				follow_frames(q, &at, slept < FOLLOW_SPARSE_NS, t0);
			w = relay_wait(q, -1);
			if (follow)
				slept = now_ns() - t0;
			if (w > 0 && (w & WAIT_SOCK_ERR)) {
				err = sock_error(q);
				if (rx_error_ends(err)) {
					rx_fail(q, err, "getsockopt(SO_ERROR)");
					break;
				}
			}
			if (w >= 0 && !(w & WAIT_EPOLL))
				continue; /* only the socket: frames, or an error taken */
		}
		if (w < 0) { /* ppoll() itself failed */
			rx_fail(q, -w, "ppoll");
			break;
		}
		n = epoll_wait(q->epoll_fd, ev, RELAY_EVENTS, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rx_fail(q, errno, "epoll_wait");
			break;
		}
		tx_round(q, ev, n, &batch, vh);
	}
	return NULL;
}

/* Start one thread of queue q, pinned to q->cpus when any. Returns 0 or the pthread error. */
static int start_thread(struct relay_queue *q, pthread_t *tid, void *(*fn)(void *))
{
	pthread_attr_t attr;
	int err = pthread_attr_init(&attr);

	if (err)
		return err;
	if (CPU_COUNT(&q->cpus) > 0)
		err = pthread_attr_setaffinity_np(&attr, sizeof(q->cpus), &q->cpus);
	if (!err)
		err = pthread_create(tid, &attr, fn, q);
	pthread_attr_destroy(&attr);
	return err;
}

/* Ask every thread to end and join the first `started` queues' threads. */
static void stop_threads(struct relay *r, int started)
{
	int i;

	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	(void)eventfd_write(r->stop_fd, 1); /* stays readable: wakes every poller */
	for (i = 0; i < started; i++)
		pthread_join(r->q[i].tid, NULL);
}

int relay_start(struct relay *r, struct vd_error *e)
{
	sigset_t all, old;
	int err = 0, started = 0, i;

	if (r->running)
		return 0;
	/* Relay threads take no signals: Node's handlers run on the JS thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < r->queues && !err; i++) {
		err = start_thread(&r->q[i], &r->q[i].tid, relay_main);
		if (!err)
			started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		stop_threads(r, started);
		return vd_fail(e, r->parent, "cannot start relay thread", "pthread_create", err);
	}
	r->running = 1;
	return 0;
}

void relay_stop(struct relay *r)
{
	if (!r->running)
		return;
	stop_threads(r, r->queues);
	r->running = 0;
}
