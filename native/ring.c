/*
 * ring.c - PACKET_MMAP receive ring set-up (see ring.h). The layout story,
 * as netsniff-ng's ring_rx_setup tells it: version, reserve, copy threshold,
 * lay out, create, map.
 */
#include "ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "frame.h"

/* Largest frame a V3 block must hold: a 64 KiB GSO super-frame and its headers. */
#define RING_V3_BLOCK (256u << 10)
/* V2 blocks hold at least this many slots, up to RING_V2_BLOCK_MAX bytes a block. */
#define RING_V2_SLOTS_PER_BLOCK 4
#define RING_V2_BLOCK_MAX (1u << 20)
/* V3 frames are packed, tp_frame_size only sizes the kernel's bookkeeping. */
#define RING_V3_FRAME 2048u

static unsigned pow2_at_least(size_t n, unsigned floor)
{
	unsigned p = floor;

	while (p < n)
		p <<= 1;
	return p;
}

/* 0, 1 when the kernel refuses (EINVAL, ENOPROTOOPT: no such option or value), -1 with *e. */
static int sockopt(int sock, const char *ifname, int opt, const void *val, socklen_t len, const char *what,
		   struct vd_error *e)
{
	if (setsockopt(sock, SOL_PACKET, opt, val, len) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOPROTOOPT)
		return 1;
	return vd_fail(e, ifname, "cannot set up receive ring", what, errno);
}

/* V2: fixed slots that hold a whole frame of slot_frame bytes after the headers; bigger ones take the copy path. */
static void layout_v2(struct tpacket_req3 *req, size_t bytes, int slot_frame)
{
	size_t need = TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + RING_RESERVE + FRAME_VNET_HLEN + (size_t)slot_frame + FRAME_VLAN_HLEN;
	/* MTU-sized slots: a power of two; super-frame slots: packed, several to a block (the kernel allocates blocks in powers of two) */
	unsigned frame = need <= 2048 ? pow2_at_least(need, 2048) : (unsigned)TPACKET_ALIGN(need);
	unsigned block = 64u << 10;

	while (block / frame < RING_V2_SLOTS_PER_BLOCK && block < RING_V2_BLOCK_MAX)
		block <<= 1;

	req->tp_frame_size = frame;
	req->tp_block_size = block;
	req->tp_block_nr = bytes / block ? (unsigned)(bytes / block) : 1;
	req->tp_frame_nr = req->tp_block_nr * (block / frame);
}

/* V3: blocks big enough for a super-frame, retired after RING_V3_RETIRE_MS. */
static void layout_v3(struct tpacket_req3 *req, size_t bytes)
{
	req->tp_block_size = RING_V3_BLOCK;
	req->tp_block_nr = bytes / RING_V3_BLOCK >= 2 ? (unsigned)(bytes / RING_V3_BLOCK) : 2;
	req->tp_frame_size = RING_V3_FRAME;
	req->tp_frame_nr = req->tp_block_nr * (RING_V3_BLOCK / RING_V3_FRAME);
	req->tp_retire_blk_tov = RING_V3_RETIRE_MS;
}

/*
 * The settings a probe changes before the kernel may refuse the mode, as they
 * were: PACKET_VERSION and PACKET_RESERVE as read back; PACKET_COPY_THRESH
 * cannot be read (no getsockopt), and is 0, the kernel's, on a socket no
 * probe has touched.
 */
struct ring_prev {
	int version;      /* PACKET_VERSION before the probe */
	int reserve;      /* PACKET_RESERVE before the probe */
};

/* Read sock's ring settings into *p: 0, or -1 with *e filled. */
static int save_prev(int sock, const char *ifname, struct ring_prev *p, struct vd_error *e)
{
	socklen_t len = sizeof(p->version);

	if (getsockopt(sock, SOL_PACKET, PACKET_VERSION, &p->version, &len) < 0)
		return vd_fail(e, ifname, "cannot set up receive ring", "getsockopt(PACKET_VERSION)", errno);
	len = sizeof(p->reserve);
	if (getsockopt(sock, SOL_PACKET, PACKET_RESERVE, &p->reserve, &len) < 0)
		return vd_fail(e, ifname, "cannot set up receive ring", "getsockopt(PACKET_RESERVE)", errno);
	return 0;
}

/* Put back what a refused probe changed (no ring exists, so the kernel takes each): 1 (the probe's answer), or -1 with *e filled. */
static int undo_probe(int sock, const char *ifname, const struct ring_prev *p, struct vd_error *e)
{
	int zero = 0;

	if (setsockopt(sock, SOL_PACKET, PACKET_COPY_THRESH, &zero, sizeof(zero)) < 0)
		return vd_fail(e, ifname, "cannot undo receive ring probe", "setsockopt(PACKET_COPY_THRESH)", errno);
	if (setsockopt(sock, SOL_PACKET, PACKET_RESERVE, &p->reserve, sizeof(p->reserve)) < 0)
		return vd_fail(e, ifname, "cannot undo receive ring probe", "setsockopt(PACKET_RESERVE)", errno);
	if (setsockopt(sock, SOL_PACKET, PACKET_VERSION, &p->version, sizeof(p->version)) < 0)
		return vd_fail(e, ifname, "cannot undo receive ring probe", "setsockopt(PACKET_VERSION)", errno);
	return 1;
}

int ring_rx_probe_setup(int sock, const char *ifname, struct rx_ring *ring, enum ring_mode mode, size_t bytes,
			int slot_frame, struct vd_error *e)
{
	int version = mode == RING_V3 ? TPACKET_V3 : TPACKET_V2;
	int reserve = RING_RESERVE;
	int one = 1;
	struct ring_prev prev;
	struct tpacket_req3 req;
	int rc;
	void *map;

	memset(ring, 0, sizeof(*ring));
	if (save_prev(sock, ifname, &prev, e) < 0)
		return -1;
	rc = sockopt(sock, ifname, PACKET_VERSION, &version, sizeof(version), "setsockopt(PACKET_VERSION)", e);
	if (!rc)
		rc = sockopt(sock, ifname, PACKET_RESERVE, &reserve, sizeof(reserve), "setsockopt(PACKET_RESERVE)", e);
	/* V2 only: a frame bigger than its slot is also queued whole, for recvmsg(). */
	if (!rc && mode == RING_V2)
		rc = sockopt(sock, ifname, PACKET_COPY_THRESH, &one, sizeof(one), "setsockopt(PACKET_COPY_THRESH)", e);
	if (!rc) {
		memset(&req, 0, sizeof(req));
		if (mode == RING_V3)
			layout_v3(&req, bytes);
		else
			layout_v2(&req, bytes, slot_frame);
		rc = sockopt(sock, ifname, PACKET_RX_RING, &req, mode == RING_V3 ? sizeof(req) : sizeof(struct tpacket_req),
			     "setsockopt(PACKET_RX_RING)", e);
	}
	if (rc > 0) /* refused: the socket as it was, for the next mode or recvmsg() */
		return undo_probe(sock, ifname, &prev, e);
	if (rc < 0)
		return -1;

	ring->map_len = (size_t)req.tp_block_size * req.tp_block_nr;
	map = mmap(NULL, ring->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, sock, 0);
	if (map == MAP_FAILED)
		return vd_fail(e, ifname, "cannot map receive ring", "mmap", errno);
	ring->map = map;
	ring->mode = mode;
	ring->nr = mode == RING_V3 ? req.tp_block_nr : req.tp_frame_nr;
	ring->size = mode == RING_V3 ? req.tp_block_size : req.tp_frame_size;
	ring->block = req.tp_block_size;
	ring->per_block = req.tp_block_size / req.tp_frame_size;
	return 0;
}

void ring_rx_close(struct rx_ring *ring)
{
	if (ring->map)
		munmap(ring->map, ring->map_len);
	memset(ring, 0, sizeof(*ring));
}

const char *ring_mode_name(int mode)
{
	switch (mode) {
	case RING_V2:
		return "tpacket_v2";
	case RING_V3:
		return "tpacket_v3";
	default:
		return "off";
	}
}
