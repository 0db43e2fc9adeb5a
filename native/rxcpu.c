/*
 * rxcpu.c - map, load and attach the CPU-recording filter (see rxcpu.h).
 */
#include "rxcpu.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfconv.h"
#include "filter.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

/* Bytes of the map's value area that are mapped: one page. */
static size_t map_bytes(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 4096;
}

/* bpf(2): a descriptor or 0, else -errno. */
static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long rc = syscall(SYS_bpf, cmd, attr, sizeof(*attr));

	return rc < 0 ? -errno : (int)rc;
}

/* A one-entry array of one u32 that user space can map: its descriptor or -errno. */
static int make_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	a.map_flags = BPF_F_MMAPABLE;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/* Verifier log bytes asked for when a load is retried to learn why it was refused (set-up thread only: static). */
#define RXCPU_LOG_BYTES (64u << 10)

void rxcpu_log_reason(const char *log, char *why, size_t whylen)
{
	const char *line = NULL, *p = log;
	size_t len = 0;

	if (!whylen)
		return;
	why[0] = '\0';
	while (*p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n && strncmp(p, "processed ", 10) != 0 && strncmp(p, "verification time", 17) != 0 &&
		    strncmp(p, "stack depth", 11) != 0) {
			line = p;
			len = n;
		} else if (n && line) {
			break; /* the summary after the reason */
		}
		p += n + (end ? 1 : 0);
	}
	if (line)
		(void)snprintf(why, whylen, "%.*s", (int)len, line);
}

/*
 * The rewritten program loaded as a socket filter: its descriptor or -errno.
 * A refusal other than EPERM is retried with the verifier's log (libbpf does
 * the same: a log on the first try could turn a load that fits into ENOSPC on
 * a kernel whose log buffer is too small), and why gets its reason. The log
 * buffer is static: one relay is set up at a time, on the JS thread.
 */
static int load_prog(const struct sock_filter *prog, int n, int map_fd, char *why, size_t whylen)
{
	static char log[RXCPU_LOG_BYTES];
	struct bpf_insn insns[BPFCONV_MAX(FILTER_MAX)];
	union bpf_attr a;
	int len, fd;

	if (n > FILTER_MAX)
		return -EINVAL;
	len = bpfconv_build(prog, n, map_fd, insns);
	if (len < 0)
		return len;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = (__u32)len;
	a.license = (__u64)(unsigned long)"GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0 || fd == -EPERM || !why)
		return fd;
	log[0] = '\0';
	a.log_level = 1;
	a.log_buf = (__u64)(unsigned long)log;
	a.log_size = sizeof(log);
	len = sys_bpf(BPF_PROG_LOAD, &a);
	if (len >= 0) { /* taken this time after all (the first refusal was passing, ENOMEM say): use it */
		why[0] = '\0';
		return len;
	}
	log[sizeof(log) - 1] = '\0';
	rxcpu_log_reason(log, why, whylen);
	return fd;
}

int rxcpu_load(const struct sock_filter *prog, int n, uint32_t **cpu, int *map_fd, char *why, size_t whylen)
{
	uint32_t *value;
	int map, prog_fd;

	*cpu = NULL;
	if (map_fd)
		*map_fd = -1;
	if (why && whylen)
		why[0] = '\0';
	map = make_map();
	if (map < 0)
		return map;
	value = mmap(NULL, map_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, map, 0);
	if (value == MAP_FAILED) {
		prog_fd = -errno;
		close(map);
		return prog_fd;
	}
	*value = RXCPU_NONE;
	prog_fd = load_prog(prog, n, map, why, whylen);
	if (prog_fd < 0 || !map_fd)
		close(map); /* the program holds the map, the mapping the map's file */
	if (prog_fd < 0) {
		munmap(value, map_bytes());
	} else {
		*cpu = value;
		if (map_fd)
			*map_fd = map;
	}
	return prog_fd;
}

/* Attach program prog_fd to sock and close it (the socket holds it): 0 or -errno. */
static int attach_prog(int sock, int prog_fd)
{
	int rc = setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0 ? -errno : 0;

	close(prog_fd);
	return rc;
}

int rxcpu_attach(int sock, const struct sock_filter *prog, int n, uint32_t **cpu, int *map_fd, char *why, size_t whylen)
{
	int prog_fd = rxcpu_load(prog, n, cpu, map_fd, why, whylen), rc;

	if (prog_fd < 0)
		return prog_fd;
	rc = attach_prog(sock, prog_fd);
	if (rc < 0) {
		rxcpu_release(*cpu);
		*cpu = NULL;
		if (map_fd) {
			close(*map_fd);
			*map_fd = -1;
		}
	}
	return rc;
}

int rxcpu_reattach(int sock, const struct sock_filter *prog, int n, int map_fd)
{
	int prog_fd = load_prog(prog, n, map_fd, NULL, 0);

	return prog_fd < 0 ? prog_fd : attach_prog(sock, prog_fd);
}

void rxcpu_release(uint32_t *cpu)
{
	if (cpu)
		munmap(cpu, map_bytes());
}
