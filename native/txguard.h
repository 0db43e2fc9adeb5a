/*
 * txguard.h - pure checks on what a vNIC sends beyond its Ethernet header:
 * the identity it claims inside IPv6 neighbour discovery and DHCP, the
 * control-plane roles it may not take (router, DHCP server), and the
 * virtio_net_hdr that asks the kernel to finish a checksum or segment a
 * super-frame for it. frame_classify_tx() (frame.h) calls the first; the relay
 * calls txguard_vnet() on every frame read with a virtio_net_hdr.
 *
 * No sockets, no system calls, no allocation (test/native/frame_test.c,
 * test/fuzz/frame_fuzz.c). Everything read is bounded by len.
 */
#ifndef VETHD_TXGUARD_H
#define VETHD_TXGUARD_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/*
 * Where a frame's IP payload is: the IP protocol (IPPROTO_TCP, _UDP,
 * _ICMPV6, ...) and the offset of its header from the frame's start, after
 * any VLAN tags, the IPv4 header with its options, or the IPv6 header and its
 * extension headers (hop-by-hop, routing, destination options, fragment).
 */
struct txguard_l4 {
	int proto;            /* IP protocol number of the upper-layer header */
	size_t off;           /* bytes from the frame's start to it */
	size_t end;           /* bytes from the frame's start to the end of the IP datagram (<= len) */
	int ipv6;             /* 1: IPv6, 0: IPv4 */
	int fragment;         /* 1: a fragment (IPv4 MF or offset, or an IPv6 fragment header) */
	int first;            /* 1: it holds the upper-layer header (not a later fragment) */
};

/*
 * Parse the IP headers of frame (len bytes, Ethernet header on; type and off
 * as frame_eth_payload() gives them: the EtherType after the tags and the
 * offset of what follows). Returns 1 with *l filled; 0 for another EtherType;
 * -1 when the IPv4/IPv6 header does not describe the frame (another version,
 * a header or length that does not fit in len: ip_rcv drops those, but a DHCP
 * server reading a packet socket may not look), or IPv6 extension headers
 * run past the packet or chain more than 8 (a receiver would walk on). After
 * a later fragment's fragment header the walk stops: the rest is payload.
 * Thread: any (pure).
 */
int txguard_l4(const uint8_t *frame, size_t len, uint16_t type, size_t off, struct txguard_l4 *l);

/*
 * The upper-layer checks frame_classify_tx() makes on an IP frame from vNIC
 * vmac (flags: FRAME_TX_*):
 *   FRAME_TX_ANTISPOOF: IPv6 router/neighbour solicitations and
 *     advertisements and redirects whose source or target link-layer address
 *     option names another MAC -> FRAME_DROP_SPOOFED_ND; a DHCPv4 client
 *     message (BOOTREQUEST to port 67) whose chaddr is not vmac, or that is
 *     fragmented -> FRAME_DROP_SPOOFED_DHCP;
 *   FRAME_TX_RA_GUARD: router advertisements and redirects (RFC 6105) ->
 *     FRAME_DROP_RA_GUARD;
 *   FRAME_TX_DHCP_GUARD: DHCPv4 and DHCPv6 server and relay messages: from
 *     port 67 / 547, to a client's port 68 / 546 (a rogue server picks its
 *     source port), or a BOOTREPLY to port 67 -> FRAME_DROP_DHCP_GUARD.
 * FRAME_DROP_MALFORMED when an IP header does not describe the frame or one
 * it has to read is cut short; FRAME_PASS otherwise. Thread: any (pure).
 */
enum frame_verdict txguard_ip(const uint8_t *frame, size_t len, uint16_t type, size_t off,
			      const uint8_t vmac[FRAME_ETH_ALEN], unsigned flags);

/*
 * The virtio_net_hdr (FRAME_VNET_HLEN bytes at vnet, native-endian as the
 * TAP hands it over) a vNIC's frame came with: FRAME_PASS when it asks
 * nothing, or only what belongs to the frame:
 *   flags: NEEDS_CSUM and DATA_VALID only;
 *   NEEDS_CSUM: a TCP or UDP header over IPv4/IPv6, not a fragment,
 *     csum_start at that header and csum_offset 16 (TCP) or 6 (UDP), inside len;
 *   gso_type: NONE, or TCPV4 / TCPV6 / UDP_L4 (ECN with TCP only) matching the
 *     frame's family and protocol, with NEEDS_CSUM and a non-zero gso_size.
 * Else FRAME_DROP_BAD_VNET_HDR: left alone, the kernel would write a
 * "checksum" wherever csum_start points, after every other check was made
 * (an ARP sender rewritten on the wire). Thread: any (pure).
 */
enum frame_verdict txguard_vnet(const uint8_t *vnet, const uint8_t *frame, size_t len);

#endif
