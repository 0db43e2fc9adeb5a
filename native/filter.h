/*
 * filter.h - the classic BPF program attached to the parent's packet socket
 * (SO_ATTACH_FILTER, see socket(7) and Documentation/networking/filter.rst),
 * so the kernel drops what the vNIC must never see before any copy:
 *
 *   drop    with a VLAN ID (--vlan): a frame the kernel did not untag from
 *           that VLAN (SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TAG)
 *   accept  destination is a group address (I/G bit: broadcast, multicast)
 *   accept  destination is the vNIC's MAC
 *   drop    everything else (other stations' unicast)
 *   drop    an accepted frame that is PACKET_OUTGOING with the vNIC's MAC as
 *           source (our own frame echoed by another local socket)
 *
 * Frames from the wire with the vNIC's source pass, so frame_classify_rx()
 * still sees (and counts) a MAC conflict. The same rules run again in
 * frame_classify_rx(): the filter only moves the common drops into the kernel.
 */
#ifndef VETHD_FILTER_H
#define VETHD_FILTER_H

#include <linux/filter.h>
#include <stdint.h>

/* Instructions in the program filter_build() writes: without a VLAN ID, and most. */
#define FILTER_LEN 14
#define FILTER_MAX (FILTER_LEN + 5)

/*
 * Write the program for vmac, and VLAN ID vid (0: none), into prog; returns
 * its length (FILTER_LEN, or FILTER_MAX with a vid). Thread: any (pure).
 */
int filter_build(struct sock_filter prog[FILTER_MAX], const uint8_t vmac[6], unsigned vid);

#endif
