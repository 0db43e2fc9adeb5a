/*
 * caps.h - give up every capability once set-up is done (see capabilities(7)).
 *
 * After set-up vethd needs none: relaying is recvmsg()/write() on descriptors
 * it already holds; a rebind is bind() and PACKET_ADD_MEMBERSHIP on the open
 * packet socket (no capability check in af_packet.c); the rtnetlink socket is
 * already subscribed; /metrics is on an unprivileged port.
 *
 * Linux keeps capabilities per thread and has no process-wide capset(2), so
 * caps_drop_process() drops them on the calling thread and asks every other
 * thread to do the same with a real-time signal; a thread that blocks that
 * signal cannot be asked (one Node.js thread does: the inspector's SIGUSR1
 * watcher, which only waits on a semaphore). Threads created afterwards by a
 * thread that dropped start with nothing. The relay threads drop their own at
 * start (caps_drop_thread()).
 */
#ifndef VETHD_CAPS_H
#define VETHD_CAPS_H

/*
 * Drop everything for the calling thread: no_new_privs, the bounding set (when
 * CAP_SETPCAP allows), the ambient set, then effective, permitted and
 * inheritable. Async-signal-safe. Returns 0 or -errno (of capset).
 */
int caps_drop_thread(void);

struct caps_report {
	int threads;    /* threads in the process */
	int holding;    /* threads that still have a non-empty permitted set afterwards */
	int err;        /* errno of the calling thread's own drop, 0 when it worked */
};

/*
 * caps_drop_thread() here, and in every other thread that does not block the
 * signal used (waiting up to 500 ms for them). Fills *rep from
 * /proc/self/task afterwards. Thread: JS (the main thread).
 */
void caps_drop_process(struct caps_report *rep);

#endif
