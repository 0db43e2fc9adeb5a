/*
 * hostlink.c - map, load and attach the host path's tc program (see hostlink.h).
 */
#include "hostlink.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hostpath.h"
#include "rxcpu.h"

/* enum bpf_attach_type's tcx egress (include/uapi/linux/bpf.h, Linux 6.6), which older headers lack. */
#define HOSTLINK_TCX_EGRESS 47

/* Verifier log bytes asked for when a load is retried to learn why it was refused (set-up thread only: static). */
#define HOSTLINK_LOG_BYTES (16u << 10)

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

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void hostlink_init(struct hostlink *h)
{
	memset(h, 0, sizeof(*h));
	h->map_fd = h->prog_fd = h->link_fd = -1;
}

/* A one-entry array of HOSTPATH_VALUE_SIZE bytes that user space maps: its descriptor or -errno. */
static int make_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = HOSTPATH_VALUE_SIZE;
	a.max_entries = 1;
	a.map_flags = BPF_F_MMAPABLE;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/*
 * The program loaded as SCHED_CLS: its descriptor or -errno. A refusal other
 * than EPERM is retried with the verifier's log, for why (as rxcpu.c does).
 */
static int load_prog(uint32_t mark, int map_fd, char *why, size_t whylen)
{
	static char log[HOSTLINK_LOG_BYTES];
	struct bpf_insn insns[HOSTPATH_INSNS];
	union bpf_attr a;
	int len = hostpath_build(mark, map_fd, insns), fd;

	if (len < 0)
		return len;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SCHED_CLS;
	a.expected_attach_type = HOSTLINK_TCX_EGRESS;
	a.insns = (__u64)(unsigned long)insns;
	a.insn_cnt = (__u32)len;
	a.license = (__u64)(unsigned long)"GPL"; /* bpf_clone_redirect and bpf_redirect are GPL-only helpers */
	memcpy(a.prog_name, "vethd_hostpath", sizeof("vethd_hostpath"));
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0 || fd == -EPERM || !why)
		return fd;
	log[0] = '\0';
	a.log_level = 1;
	a.log_buf = (__u64)(unsigned long)log;
	a.log_size = sizeof(log);
	len = sys_bpf(BPF_PROG_LOAD, &a);
	if (len >= 0) {
		why[0] = '\0';
		return len;
	}
	log[sizeof(log) - 1] = '\0';
	rxcpu_log_reason(log, why, whylen);
	return fd;
}

/* A tcx link of h's program on ifindex's egress: its descriptor or -errno. */
static int make_link(const struct hostlink *h, int ifindex)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (__u32)h->prog_fd;
	a.link_create.target_ifindex = (__u32)ifindex;
	a.link_create.attach_type = HOSTLINK_TCX_EGRESS;
	return sys_bpf(BPF_LINK_CREATE, &a);
}

void hostlink_set_mac(struct hostlink *h, const uint8_t mac[6])
{
	uint32_t w[2];

	if (!h->mac)
		return;
	hostpath_mac_words(mac, w);
	__atomic_store_n(&h->mac[0], w[0], __ATOMIC_RELAXED);
	__atomic_store_n(&h->mac[1], w[1], __ATOMIC_RELAXED);
}

int hostlink_open(struct hostlink *h, uint32_t mark, int ifindex, const uint8_t mac[6], char *why, size_t whylen)
{
	void *value;
	int rc;

	hostlink_init(h);
	if (why && whylen)
		why[0] = '\0';
	h->map_fd = make_map();
	if (h->map_fd < 0) {
		rc = h->map_fd;
		goto fail;
	}
	value = mmap(NULL, map_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, h->map_fd, 0);
	if (value == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	h->mac = value;
	hostlink_set_mac(h, mac);
	h->prog_fd = load_prog(mark, h->map_fd, why, whylen);
	if (h->prog_fd < 0) {
		rc = h->prog_fd;
		goto fail;
	}
	h->link_fd = make_link(h, ifindex);
	if (h->link_fd < 0) {
		rc = h->link_fd;
		goto fail;
	}
	h->ifindex = ifindex;
	return 0;
fail:
	hostlink_close(h);
	return rc;
}

int hostlink_move(struct hostlink *h, int ifindex, const uint8_t mac[6])
{
	close_fd(&h->link_fd);
	h->ifindex = 0;
	if (h->prog_fd < 0)
		return -EBADF;
	hostlink_set_mac(h, mac);
	h->link_fd = make_link(h, ifindex);
	if (h->link_fd < 0) {
		int rc = h->link_fd;

		h->link_fd = -1;
		return rc;
	}
	h->ifindex = ifindex;
	return 0;
}

void hostlink_close(struct hostlink *h)
{
	close_fd(&h->link_fd);
	close_fd(&h->prog_fd);
	if (h->mac)
		munmap(h->mac, map_bytes());
	h->mac = NULL;
	close_fd(&h->map_fd);
	h->ifindex = 0;
}
