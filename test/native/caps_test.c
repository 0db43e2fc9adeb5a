/*
 * caps_test.c - caps_drop_process() on a process shaped like Node's: a thread
 * that blocks every signal glibc lets it (Node 20's inspector SIGUSR1
 * watcher) drops too, through SIGSETXID, and glibc's own use of that signal
 * works afterwards; a thread that blocks even that keeps its set and is named.
 * Needs a permitted set to drop (root); each case runs in its own child.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../native/caps.h"
#include "check.h"

static pid_t sleeper_tid;

/* Sleeps for good, as the inspector's watcher waits on its semaphore. */
static void *sleeper(void *full)
{
	if (full) {
		unsigned long long all = ~0ULL; /* the raw call: glibc's would leave 32 and 33 out */

		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	}
	__atomic_store_n(&sleeper_tid, gettid(), __ATOMIC_RELEASE);
	for (;;)
		pause();
	return NULL;
}

/* Start sleeper() created with every signal blocked the glibc way (as Node does); full: the raw way, 32 and 33 too. */
static void start_sleeper(int full)
{
	sigset_t all, saved;
	pthread_t t;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	pthread_create(&t, NULL, sleeper, full ? (void *)1 : NULL);
	pthread_setname_np(t, "sleeper");
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	while (!__atomic_load_n(&sleeper_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void case_glibc_mask(void)
{
	struct caps_report rep;

	start_sleeper(0);
	caps_drop_process(&rep, 0);
	CHECK(rep.err == 0);
	CHECK(rep.threads == 2);
	CHECK(rep.holding == 0);
	CHECK(rep.borrowed == 1);
	CHECK(rep.nheld == 0);
	/* glibc's SIGSETXID action is back: a set*id() call reaches every thread and returns (alarm ends a hang). */
	alarm(5);
	CHECK(setresgid(-1, -1, -1) == 0);
	alarm(0);
}

static void case_full_mask(void)
{
	struct caps_report rep;

	start_sleeper(1);
	caps_drop_process(&rep, 0);
	CHECK(rep.err == 0);
	CHECK(rep.threads == 2);
	CHECK(rep.holding == 1);
	CHECK(rep.nheld == 1);
	CHECK(rep.held[0].tid == sleeper_tid);
	CHECK(rep.held[0].masked == 1);
	CHECK(strcmp(rep.held[0].name, "sleeper") == 0);
}

/* keep CAP_NET_ADMIN: the calling thread holds it (when it had it: root) and nothing else, bounding set included; the others hold nothing. */
static void case_keep(void)
{
	const unsigned long long want = 1ULL << CAP_NET_ADMIN;
	struct caps_report rep;

	start_sleeper(0);
	caps_drop_process(&rep, want);
	CHECK(rep.err == 0);
	CHECK(rep.holding == 0);
	CHECK(rep.kept == (geteuid() == 0 ? want : 0));
	if (geteuid() == 0) {
		CHECK(prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) == 1);
		CHECK(prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) == 0);
		CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0);
	}
}

/* Run one case in a child; add its counts to ours. */
static void run(void (*fn)(void))
{
	int fds[2], status, counts[2] = { 0, 1 };
	pid_t pid;

	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		failed++;
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		fn();
		counts[0] = passed;
		counts[1] = failed;
		if (write(fds[1], counts, sizeof(counts)) != sizeof(counts))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], counts, sizeof(counts)) != sizeof(counts))
		counts[0] = 0, counts[1] = 1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	passed += counts[0];
	failed += counts[1];
}

int main(void)
{
	run(case_glibc_mask);
	run(case_full_mask);
	run(case_keep);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
