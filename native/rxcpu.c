/*
 * rxcpu.c - map, load and attach the CPU-recording filter (see rxcpu.h).
 */
#include "rxcpu.h"

#include <errno.h>
#include <linux/bpf.h>
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

/* The rewritten program loaded as a socket filter: its descriptor or -errno. */
static int load_prog(const struct sock_filter *prog, int n, int map_fd)
{
	struct bpf_insn insns[BPFCONV_MAX(FILTER_MAX)];
	union bpf_attr a;
	int len;

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
	return sys_bpf(BPF_PROG_LOAD, &a);
}

int rxcpu_load(const struct sock_filter *prog, int n, uint32_t **cpu)
{
	uint32_t *value;
	int map_fd, prog_fd;

	*cpu = NULL;
	map_fd = make_map();
	if (map_fd < 0)
		return map_fd;
	value = mmap(NULL, map_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (value == MAP_FAILED) {
		prog_fd = -errno;
		close(map_fd);
		return prog_fd;
	}
	*value = RXCPU_NONE;
	prog_fd = load_prog(prog, n, map_fd);
	close(map_fd); /* the program holds the map, the mapping the map's file */
	if (prog_fd < 0)
		munmap(value, map_bytes());
	else
		*cpu = value;
	return prog_fd;
}

int rxcpu_attach(int sock, const struct sock_filter *prog, int n, uint32_t **cpu)
{
	int prog_fd = rxcpu_load(prog, n, cpu), rc;

	if (prog_fd < 0)
		return prog_fd;
	rc = setsockopt(sock, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0 ? -errno : 0;
	close(prog_fd); /* the socket holds the program */
	if (rc < 0) {
		rxcpu_release(*cpu);
		*cpu = NULL;
	}
	return rc;
}

void rxcpu_release(uint32_t *cpu)
{
	if (cpu)
		munmap(cpu, map_bytes());
}
