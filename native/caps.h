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
 * thread to do the same with a real-time signal. One Node.js thread blocks
 * every signal (Node 20's inspector SIGUSR1 watcher, StartIoThreadMain in
 * src/inspector_agent.cc: it waits on a semaphore that only Node's own SIGUSR1
 * handler posts). glibc's pthread_sigmask() never blocks its two reserved
 * signals (SIGCANCEL 32, SIGSETXID 33, nptl's __clear_internal_signals), so
 * such a thread is asked with 33, whose action is borrowed for the moment and
 * put back as it was: glibc sends it only inside set*id() calls, which vethd
 * never makes. A thread that blocks even that is named in the report. Threads
 * created afterwards by a thread that dropped start with nothing. The relay
 * threads drop their own at start (caps_drop_thread()).
 */
#ifndef VETHD_CAPS_H
#define VETHD_CAPS_H

/*
 * Drop everything for the calling thread: no_new_privs, the bounding set (when
 * CAP_SETPCAP allows), the ambient set, then effective, permitted and
 * inheritable. Async-signal-safe. Returns 0 or -errno (of capset).
 */
int caps_drop_thread(void);

#define CAPS_HELD_MAX 4

/* A thread that still has a non-empty permitted set after caps_drop_process(). */
struct caps_held {
	int tid;        /* its thread ID */
	char name[16];  /* its name (/proc/self/task/<tid>/comm) */
	int masked;     /* 1: it blocks both signals it could be asked with; 0: it did not answer within 500 ms */
};

struct caps_report {
	int threads;    /* threads in the process */
	int holding;    /* threads that still have a non-empty permitted set afterwards */
	int borrowed;   /* threads asked with glibc's SIGSETXID (they block every other signal) */
	int err;        /* errno of the calling thread's own drop, 0 when it worked */
	int nheld;      /* entries in held[] (at most CAPS_HELD_MAX of holding) */
	unsigned long long kept; /* the calling thread's permitted set afterwards (bit n: capability n): what it was asked to keep and held */
	struct caps_held held[CAPS_HELD_MAX]; /* the threads counted in holding, first ones */
};

/*
 * caps_drop_thread() in every other thread still holding capabilities: with
 * SIGRTMIN+3, or SIGSETXID when it blocks that (waiting up to 500 ms for each
 * round); the calling thread drops everything but keep (bit n: capability n,
 * of those it holds; 0: everything), which it needs to add vNICs later
 * (CAP_NET_ADMIN) and threads it creates afterwards inherit. Fills *rep from
 * /proc/self/task afterwards (holding and held[]: the other threads).
 * Thread: JS (the main thread).
 */
void caps_drop_process(struct caps_report *rep, unsigned long long keep);

#endif
