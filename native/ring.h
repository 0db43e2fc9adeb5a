/*
 * ring.h - the packet socket's PACKET_MMAP receive ring (packet(7),
 * Documentation/networking/packet_mmap.rst): frames land in memory shared with
 * the kernel, so the relay thread makes no system call per frame while frames
 * keep coming.
 *
 *   TPACKET_V2: one fixed slot per frame, handed over (and woken for) one
 *     frame at a time: the lowest latency. A frame larger than a slot (a GSO
 *     super-frame) comes truncated with TP_STATUS_COPY, its full copy queued
 *     on the socket (PACKET_COPY_THRESH) for recvmsg().
 *   TPACKET_V3: variable-size frames packed into blocks; a block is handed
 *     over when full or when its retire timer (RING_V3_RETIRE_MS) fires, so a
 *     lone frame waits up to that long: the most frames per wake-up.
 *
 * Ownership handoff is by the status word of a slot (V2) or block (V3):
 * ring_*_acquire() load-acquires it, ring_*_release() store-releases
 * TP_STATUS_KERNEL.
 */
#ifndef VETHD_RING_H
#define VETHD_RING_H

#include <linux/if_packet.h>
#include <stddef.h>
#include <stdint.h>

#include "vderr.h"

/* Which receive path the relay thread uses. */
enum ring_mode {
	RING_OFF = 0,   /* recvmsg() per frame */
	RING_V2 = 2,    /* TPACKET_V2 ring */
	RING_V3 = 3,    /* TPACKET_V3 ring */
};

/* A V3 block is retired after this long even when not full, ms (the kernel's minimum is 1). */
#define RING_V3_RETIRE_MS 1
/* Bytes kept free before each frame's virtio_net_hdr (PACKET_RESERVE), so a VLAN tag can be reinserted in place. */
#define RING_RESERVE 16

struct rx_ring {
	uint8_t *map;     /* the mmap()ed ring, NULL when none */
	size_t map_len;   /* bytes mapped */
	int mode;         /* RING_V2 or RING_V3 */
	unsigned nr;      /* slots (V2) or blocks (V3) */
	unsigned size;    /* bytes per slot (V2) or block (V3) */
	unsigned per_block; /* V2 slots per block (a block may end in unused bytes) */
	unsigned block;   /* bytes per block */
	unsigned cur;     /* the next slot/block to look at; relay thread only */
};

/*
 * Set up a receive ring of about `bytes` bytes on sock (before bind is fine;
 * PACKET_VNET_HDR must already be in its final state), for frames of up to
 * slot_frame bytes in a slot (V2; larger ones take the copy path) or up to
 * 64 KiB (V3). Returns 0 (ring mapped), 1 (this kernel refuses the mode: the
 * socket is unchanged, its version, reserve and copy threshold put back; try
 * another) or -1 (fatal, *e filled). The socket must have no ring yet and its
 * PACKET_COPY_THRESH unset (0), as a probe that was refused leaves it.
 * Thread: set-up.
 */
int ring_rx_probe_setup(int sock, const char *ifname, struct rx_ring *ring, enum ring_mode mode, size_t bytes,
			int slot_frame, struct vd_error *e);

/* Unmap the ring (the socket's close frees it in the kernel); idempotent. Thread: set-up. */
void ring_rx_close(struct rx_ring *ring);

/* The start of V2 slot i (0..nr-1): slots fill each block from its start, a block may end in unused bytes. Thread: relay. */
static inline uint8_t *ring_v2_slot(const struct rx_ring *ring, unsigned i)
{
	return ring->map + (size_t)(i / ring->per_block) * ring->block + (size_t)(i % ring->per_block) * ring->size;
}

/* The V2 slot at ring->cur when user space owns it, else NULL. Thread: relay. */
static inline struct tpacket2_hdr *ring_v2_acquire(struct rx_ring *ring)
{
	struct tpacket2_hdr *h = (struct tpacket2_hdr *)ring_v2_slot(ring, ring->cur);

	return (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) ? h : NULL;
}

/*
 * Start loading the V2 slot `ahead` slots past ring->cur into this CPU's
 * cache: its first three cache lines, which hold the tpacket2_hdr, the
 * sockaddr_ll, the virtio_net_hdr and the first 64 bytes of the frame (the
 * frame starts 92 bytes in with virtio_net_hdr and RING_RESERVE). The kernel
 * wrote them on the CPU that received the frame, so each is a cross-CPU cache
 * miss that the prefetch overlaps with the current frame's write(). A slot the
 * kernel still owns costs nothing but a line fetched early. Thread: relay.
 */
static inline void ring_v2_prefetch(const struct rx_ring *ring, unsigned ahead)
{
	unsigned i = ring->cur + ahead;
	const uint8_t *p;

	while (i >= ring->nr) /* once at most unless the ring has fewer slots than ahead: no modulo (ring_v2_slot still divides by per_block) */
		i -= ring->nr;
	p = ring_v2_slot(ring, i);
	__builtin_prefetch(p, 0, 3);
	__builtin_prefetch(p + 64, 0, 3);
	__builtin_prefetch(p + 128, 0, 3);
}

/* Hand the V2 slot back to the kernel and move on. Thread: relay. */
static inline void ring_v2_release(struct rx_ring *ring, struct tpacket2_hdr *h)
{
	__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	ring->cur = ring->cur + 1 == ring->nr ? 0 : ring->cur + 1;
}

/* The V3 block at ring->cur when user space owns it, else NULL. Thread: relay. */
static inline struct tpacket_block_desc *ring_v3_acquire(struct rx_ring *ring)
{
	struct tpacket_block_desc *b = (struct tpacket_block_desc *)(ring->map + (size_t)ring->cur * ring->size);

	return (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) ? b : NULL;
}

/* Hand the V3 block back to the kernel and move on. Thread: relay. */
static inline void ring_v3_release(struct rx_ring *ring, struct tpacket_block_desc *b)
{
	__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	ring->cur = ring->cur + 1 == ring->nr ? 0 : ring->cur + 1;
}

/* The name a mode is logged and reported under: "off", "tpacket_v2", "tpacket_v3". */
const char *ring_mode_name(int mode);

#endif
