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
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int last_cap = 40;      /* /proc/sys/kernel/cap_last_cap, read before any signal is sent */
static int acks;               /* threads that ran the handler (atomic) */

int caps_drop_thread(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	int cap;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1)
		for (cap = 0; cap <= last_cap; cap++)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* EPERM without CAP_SETPCAP in effect: fine */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	caps_drop_thread();
	__atomic_add_fetch(&acks, 1, __ATOMIC_RELEASE);
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

void caps_drop_process(struct caps_report *rep)
{
	const int sig = SIGRTMIN + 3;
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec tick = { 0, 1000000 };
	char self[16];
	struct dirent *de;
	int sent = 0, i;
	DIR *dir;

	memset(rep, 0, sizeof(*rep));
	read_last_cap();
	snprintf(self, sizeof(self), "%d", (int)gettid());
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	/* Installed for good: a late delivery must run the handler, never the default action (exit). */
	sigaction(sig, &sa, NULL);
	__atomic_store_n(&acks, 0, __ATOMIC_RELAXED);
	rep->err = -caps_drop_thread();
	dir = opendir("/proc/self/task");
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, self))
			continue;
		if (task_status_hex(de->d_name, "SigBlk") & (1ULL << (sig - 1)))
			continue; /* it would never run the handler */
		if (!task_status_hex(de->d_name, "CapPrm"))
			continue; /* nothing to drop (a relay thread, or one created since) */
		if (syscall(SYS_tgkill, getpid(), atoi(de->d_name), sig) == 0)
			sent++;
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < 500 && __atomic_load_n(&acks, __ATOMIC_ACQUIRE) < sent; i++)
		nanosleep(&tick, NULL);
	dir = opendir("/proc/self/task");
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		rep->threads++;
		if (task_status_hex(de->d_name, "CapPrm"))
			rep->holding++;
	}
	if (dir)
		closedir(dir);
}
