/*
 * filter.h - the classic BPF program attached to the parent's packet socket
 * (SO_ATTACH_FILTER, see socket(7) and Documentation/networking/filter.rst),
 * so the kernel drops what no vNIC must see before any copy:
 *
 *   drop    with the relay's mark (hostpath.h): a frame carrying it that is
 *           not PACKET_OUTGOING, the copy of a vNIC's group frame the host
 *           path gave the host's stack (the vNICs had it from the relay; its
 *           source, a vNIC's MAC, would read as a MAC conflict). Outgoing
 *           frames with the mark are another vethd's on the same parent (the
 *           kernel never shows a socket its own), relayed as any other
 *   drop    when every vNIC is an access port of one VLAN (--vlan): a frame
 *           the kernel did not untag from that VLAN (SKF_AD_VLAN_TAG_PRESENT,
 *           SKF_AD_VLAN_TAG)
 *   accept  destination is a group address (I/G bit: broadcast, multicast)
 *   accept  destination is one of the vNICs' MACs (a compare chain)
 *   drop    everything else (other stations' unicast)
 *   drop    an accepted frame that is PACKET_OUTGOING with a vNIC's MAC as
 *           source (our own frame echoed by another local socket)
 *
 * With more than FILTER_CHAIN_MAX vNICs a compare chain would make the
 * per-frame cost grow with their number: the program then only drops
 * PACKET_HOST (the parent's own unicast, never a vNIC's) and leaves the rest
 * to vnictab_route()'s O(1) lookup. Frames from the wire with a vNIC's source
 * pass, so vnictab_route() still sees (and counts) a MAC conflict. The same
 * rules run again there: the filter only moves the common drops into the kernel,
 * but for the mark, which user space never sees (the host path needs the filter).
 */
#ifndef VETHD_FILTER_H
#define VETHD_FILTER_H

#include <linux/filter.h>
#include <stdint.h>

#include "vnictab.h"

/* Most vNICs the program compares MACs for; above, it filters on the packet type only. */
#define FILTER_CHAIN_MAX 16
/* Instructions: the mark prefix, the VLAN prefix, and the program for n MACs (n <= FILTER_CHAIN_MAX). */
#define FILTER_MARK_LEN 4
#define FILTER_VLAN_LEN 5
#define FILTER_CHAIN_LEN(n) (7 + 8 * (n))
#define FILTER_MAX (FILTER_MARK_LEN + FILTER_VLAN_LEN + FILTER_CHAIN_LEN(FILTER_CHAIN_MAX))

/*
 * Write the program for the vNICs in t into prog, with the mark prefix when
 * mark is not 0 (the relay's SO_MARK, hostpath.h) and the VLAN prefix when
 * they are all access ports of one VLAN (vnictab_common_vid); returns its
 * length. With none, it passes group addresses only. Thread: any (pure).
 */
int filter_build(struct sock_filter prog[FILTER_MAX], const struct vnictab *t, uint32_t mark);

#endif
