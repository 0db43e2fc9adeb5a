/*
 * caps.c - drop every capability after set-up (see caps.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "caps.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int last_cap = 40;      /* /proc/sys/kernel/cap_last_cap, read before any signal is sent */
static int acks;               /* threads that ran on_signal() (atomic) */
static int borrowed_acks;      /* threads that ran on_borrowed() (atomic): a round of its own, so a late on_signal() never counts there */

/* Drop everything but keep (bit n: capability n) from the calling thread; what it does not hold stays unheld. */
static int drop_thread_keep(unsigned long long keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	unsigned long long prm;
	int cap;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (keep) {
		memset(d, 0, sizeof(d));
		if (syscall(SYS_capget, &h, d) < 0)
			return -errno;
		prm = ((unsigned long long)d[1].permitted << 32 | d[0].permitted) & keep;
	} else {
		prm = 0;
	}
	if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1)
		for (cap = 0; cap <= last_cap; cap++)
			if (!((prm >> cap) & 1))
				prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* EPERM without CAP_SETPCAP in effect: fine */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)prm;
	d[1].permitted = d[1].effective = (uint32_t)(prm >> 32);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int caps_drop_thread(void)
{
	return drop_thread_keep(0);
}

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	caps_drop_thread();
	__atomic_add_fetch(&acks, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* on_signal() in the shape of glibc's SIGSETXID action (SA_SIGINFO), which it stands in for, counted in borrowed_acks. */
static void on_borrowed(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;

	(void)sig;
	(void)si;
	(void)ctx;
	caps_drop_thread();
	__atomic_add_fetch(&borrowed_acks, 1, __ATOMIC_RELEASE);
	errno = saved;
}

/* Read "<key>:\t<hex>" from /proc/self/task/<tid>/status; 0 when absent. */
static unsigned long long task_status_hex(const char *tid, const char *key)
{
	char path[64], line[256];
	unsigned long long v = 0;
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

static void read_last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%d", &last_cap) != 1)
			last_cap = 40;
		fclose(f);
	}
}

/* True when SigBlk (a /proc mask: bit n-1 is signal n) blocks sig. */
static int blocks(unsigned long long sigblk, int sig)
{
	return (sigblk >> (sig - 1)) & 1;
}

/*
 * tgkill(sig) every thread but self that still has a permitted set and does
 * not block sig, and, when only_if_blocking is a signal, only those that block
 * that one; then wait up to 500 ms until *counter (zeroed first, bumped by the
 * handler) reaches the number sent. Returns how many ran it; *sentp: how many
 * were sent it; *maskedp: how many holding ones block sig.
 */
static int ask_holders(const char *self, int sig, int only_if_blocking, int *counter, int *sentp, int *maskedp)
{
	struct timespec tick = { 0, 1000000 };
	struct dirent *de;
	int sent = 0, i;
	DIR *dir;

	*maskedp = 0;
	__atomic_store_n(counter, 0, __ATOMIC_RELAXED);
	dir = opendir("/proc/self/task");
	while (dir && (de = readdir(dir))) {
		unsigned long long blk;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, self))
			continue;
		if (!task_status_hex(de->d_name, "CapPrm"))
			continue; /* nothing to drop (a relay thread, one created since, or done) */
		blk = task_status_hex(de->d_name, "SigBlk");
		if (blocks(blk, sig)) {
			(*maskedp)++;
			continue; /* it would never run the handler */
		}
		if (only_if_blocking && !blocks(blk, only_if_blocking))
			continue; /* asked in the first round: its answer may still be on the way */
		if (syscall(SYS_tgkill, getpid(), atoi(de->d_name), sig) == 0)
			sent++;
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < 500 && __atomic_load_n(counter, __ATOMIC_ACQUIRE) < sent; i++)
		nanosleep(&tick, NULL);
	*sentp = sent;
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#define GLIBC_SIGSETXID 33 /* __SIGRTMIN + 1 (nptl/pthreadP.h): pthread_sigmask() and sigfillset() leave it out */

/* The kernel's struct sigaction (rt_sigaction(2)) on these two: glibc's sigaction() refuses its reserved signals. */
struct ksigaction {
	void (*handler)(int, siginfo_t *, void *); /* the action */
	unsigned long flags;                        /* SA_* */
	void (*restorer)(void);                     /* glibc's __restore_rt (SA_RESTORER), kept as it was */
	unsigned long long mask;                    /* blocked while it runs */
};

/* SA_RESTORER (the kernel's; glibc's headers do not export it): glibc installs __restore_rt with every action. */
#define KSA_RESTORER 0x04000000UL

/*
 * Ask the threads that blocked the first round's signal (sig) with
 * SIGSETXID, whose action is borrowed and put back once each answered: glibc
 * sends it only inside set*id() calls (none in vethd), and its handler reads
 * a command that is NULL outside them. Only those threads are sent it, and
 * their answers are counted apart (borrowed_acks), so when the action is put
 * back no SIGSETXID of ours is still pending. When one did not answer within
 * 500 ms the borrowed action stays, so a late delivery drops capabilities
 * instead of crashing in glibc's. Borrowed only over a glibc handler with its
 * restorer (glibc installs it at the first pthread_create()). Returns how many
 * threads ran it.
 */
static int ask_masked_holders(const char *self, int sig)
{
	struct ksigaction old, borrowed;
	int sent, masked, ran;

	if (syscall(SYS_rt_sigaction, GLIBC_SIGSETXID, NULL, &old, sizeof(old.mask)) < 0)
		return 0;
	if (old.handler == (void *)SIG_DFL || old.handler == (void *)SIG_IGN || !(old.flags & KSA_RESTORER))
		return 0;
	borrowed = old;
	borrowed.handler = on_borrowed;
	borrowed.flags |= SA_SIGINFO;
	if (syscall(SYS_rt_sigaction, GLIBC_SIGSETXID, &borrowed, NULL, sizeof(old.mask)) < 0)
		return 0;
	ran = ask_holders(self, GLIBC_SIGSETXID, sig, &borrowed_acks, &sent, &masked);
	if (ran == sent)
		syscall(SYS_rt_sigaction, GLIBC_SIGSETXID, &old, NULL, sizeof(old.mask));
	return ran;
}
#else
#define GLIBC_SIGSETXID 0 /* another libc, or a kernel struct sigaction laid out otherwise: not borrowed */
#endif

/* Thread tid's name (/proc/self/task/<tid>/comm) into name[size]; "" when unreadable. */
static void task_comm(const char *tid, char *name, size_t size)
{
	char path[300]; /* a d_name is at most 255 bytes */
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tid);
	name[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(name, (int)size, f))
		n = strcspn(name, "\n");
	name[n] = '\0';
	fclose(f);
}

void caps_drop_process(struct caps_report *rep, unsigned long long keep)
{
	const int sig = SIGRTMIN + 3;
	struct sigaction sa = { .sa_handler = on_signal };
	char self[16];
	struct dirent *de;
	int sent, masked;
	DIR *dir;

	memset(rep, 0, sizeof(*rep));
	read_last_cap();
	snprintf(self, sizeof(self), "%d", (int)gettid());
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	/* Installed for good: a late delivery must run the handler, never the default action (exit). */
	sigaction(sig, &sa, NULL);
	rep->err = -drop_thread_keep(keep);
	rep->kept = task_status_hex(self, "CapPrm");
	ask_holders(self, sig, 0, &acks, &sent, &masked);
#if GLIBC_SIGSETXID
	if (masked > 0)
		rep->borrowed = ask_masked_holders(self, sig);
#endif
	dir = opendir("/proc/self/task");
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		rep->threads++;
		if (!task_status_hex(de->d_name, "CapPrm") || !strcmp(de->d_name, self))
			continue; /* none, or the calling thread's kept ones (rep->kept) */
		if (rep->nheld < CAPS_HELD_MAX) {
			struct caps_held *h = &rep->held[rep->nheld++];
			unsigned long long blk = task_status_hex(de->d_name, "SigBlk");

			h->tid = atoi(de->d_name);
			h->masked = blocks(blk, sig) && (!GLIBC_SIGSETXID || blocks(blk, GLIBC_SIGSETXID));
			task_comm(de->d_name, h->name, sizeof(h->name));
		}
		rep->holding++;
	}
	if (dir)
		closedir(dir);
}
