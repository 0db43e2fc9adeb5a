/*
 * frame.h - the pure frame classifier: which frames cross the relay, and the
 * small rewrites they need on the way (802.1Q tag reinsertion).
 *
 * No sockets, no system calls, no allocation: every function here is a pure
 * function of its arguments, so it is unit-tested (test/native/frame_test.c)
 * and can be fuzzed without a network.
 */
#ifndef VETHD_FRAME_H
#define VETHD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_ETH_ALEN 6      /* bytes in a MAC address */
#define FRAME_ETH_HLEN 14     /* bytes in an Ethernet II header: dst, src, EtherType */
#define FRAME_VLAN_HLEN 4     /* bytes in one 802.1Q tag: TPID + TCI */

/*
 * Why a frame was not relayed. The numbering is the index into the drop
 * counters (relay.h) and the order of frame_verdict_name(); FRAME_PASS (0) is
 * not a drop.
 */
enum frame_verdict {
	FRAME_PASS = 0,           /* relay it */
	FRAME_DROP_RUNT,          /* shorter than an Ethernet header */
	FRAME_DROP_NOT_FOR_US,    /* unicast to another station's MAC */
	FRAME_DROP_OWN_ECHO,      /* our own transmission seen leaving the parent (PACKET_OUTGOING, source = vNIC MAC) */
	FRAME_DROP_MAC_CONFLICT,  /* arriving from the wire with the vNIC's MAC as source: another station uses it */
	FRAME_DROP_SPOOFED,       /* vNIC -> parent with a source other than the vNIC's MAC */
	FRAME_DROP_SPOOFED_ARP,   /* vNIC -> parent ARP whose sender hardware address is not the vNIC's MAC */
	FRAME_DROP_OVERSIZE,      /* larger than the relay buffer (truncated by the kernel) */
	FRAME_DROP_MALFORMED,     /* a virtio_net_hdr or length that does not describe the frame */
	FRAME_DROP_TAP_DOWN,      /* the vNIC was administratively down (write() gave EIO) */
	FRAME_DROP_PARENT_DOWN,   /* the parent was down or gone (ENETDOWN, ENXIO, ENODEV) */
	FRAME_DROP_NO_BUFFER,     /* the kernel had no buffer for it (ENOBUFS, EAGAIN on send) */
	FRAME_DROP_OVERRUN,       /* dropped by the kernel before we read it: socket receive buffer full (PACKET_STATISTICS) */
	FRAME_DROP_IO_ERROR,      /* any other error from read/write/send */
	FRAME_DROP_WRONG_VLAN,    /* with --vlan: untagged, or of another VLAN ID */
	FRAME_DROP_VLAN_HOP,      /* vNIC -> parent on an access port (--vlan) already carrying a tag (0x8100, 0x88a8, 0x9100) */
	FRAME_DROP_LINK_LOCAL,    /* vNIC -> parent to a reserved 802.1 group 01:80:c2:00:00:0X, or MAC control / slow protocols, not let pass */
	FRAME_DROP_BAD_VNET_HDR,  /* vNIC -> parent with a virtio_net_hdr asking a checksum or segmentation the frame does not call for (txguard.h) */
	FRAME_DROP_SPOOFED_ND,    /* vNIC -> parent IPv6 neighbour discovery naming another MAC in a link-layer address option */
	FRAME_DROP_SPOOFED_DHCP,  /* vNIC -> parent DHCP client message whose chaddr is not the vNIC's MAC (or fragmented) */
	FRAME_DROP_RA_GUARD,      /* vNIC -> parent router advertisement or redirect, with the RA guard on (RFC 6105) */
	FRAME_DROP_DHCP_GUARD,    /* vNIC -> parent DHCP/DHCPv6 server or relay message, with the DHCP guard on */
	FRAME_VERDICT_COUNT       /* number of verdicts, not a verdict */
};

/*
 * Offset of the payload after the EtherType and any VLAN tags (802.1Q
 * 0x8100, 802.1ad 0x88a8, the older 0x9100), with that EtherType in *type;
 * 0 when cut short. Thread: any (pure).
 */
size_t frame_eth_payload(const uint8_t *frame, size_t len, uint16_t *type);

/* Values of sll_pkttype (see packet(7)); repeated so this file needs no kernel headers. */
#define FRAME_PKT_HOST 0
#define FRAME_PKT_BROADCAST 1
#define FRAME_PKT_MULTICAST 2
#define FRAME_PKT_OTHERHOST 3
#define FRAME_PKT_OUTGOING 4

/* frame_classify_tx() flags. */
#define FRAME_TX_ANTISPOOF 0x1  /* drop foreign source MACs, ARP/RARP with a foreign sender hardware address, and (txguard.h) ND options and DHCP chaddr naming another MAC */
#define FRAME_TX_ACCESS 0x2     /* an access port (--vlan): drop frames that carry a tag of their own */
#define FRAME_TX_RA_GUARD 0x4   /* drop router advertisements and redirects (RFC 6105) */
#define FRAME_TX_DHCP_GUARD 0x8 /* drop DHCP and DHCPv6 server and relay messages */
/*
 * The reserved 802.1 groups 01:80:c2:00:00:00 to :0f a vNIC may send to: bit
 * g of mask lets 01:80:c2:00:00:0g pass; group 1 also stands for MAC control
 * (EtherType 0x8808, PAUSE) and group 2 for slow protocols (0x8809: LACP,
 * marker, OAM) to any address. In the flags' upper 16 bits.
 */
#define FRAME_TX_LL_PASS(mask) ((unsigned)((mask) & 0xffffu) << 16)
#define FRAME_LL_STP 0x0   /* 01:80:c2:00:00:00 bridge group (STP BPDUs; also LLDP's nearest-customer-bridge) */
#define FRAME_LL_PAUSE 0x1 /* 01:80:c2:00:00:01 MAC control (802.3x PAUSE, PFC) */
#define FRAME_LL_SLOW 0x2  /* 01:80:c2:00:00:02 slow protocols (LACP, marker, OAM) */
#define FRAME_LL_EAPOL 0x3 /* 01:80:c2:00:00:03 port access entity (802.1X EAPOL; also LLDP's non-TPMR bridge) */
#define FRAME_LL_LLDP 0xe  /* 01:80:c2:00:00:0e nearest bridge (LLDP, PTP peer delay) */
/* What a host's own NIC legitimately sends: EAPOL (an 802.1X supplicant) and LLDP. */
#define FRAME_LL_PASS_DEFAULT ((1u << FRAME_LL_EAPOL) | (1u << FRAME_LL_LLDP))

/*
 * vNIC -> parent. frame/len as read from the TAP, from the destination MAC on.
 * Returns, in this order: FRAME_DROP_RUNT when len < 14;
 * FRAME_DROP_LINK_LOCAL for a reserved 802.1 group, MAC control or slow
 * protocols the flags' FRAME_TX_LL_PASS mask does not let pass;
 * FRAME_DROP_VLAN_HOP with FRAME_TX_ACCESS when the frame is tagged already.
 * With FRAME_TX_ANTISPOOF: FRAME_DROP_SPOOFED when the source MAC is not
 * vmac; for ARP and RARP (EtherType 0x0806, 0x8035, after any
 * 802.1Q/802.1ad tags) FRAME_DROP_SPOOFED_ARP when the sender hardware
 * address is not vmac, FRAME_DROP_MALFORMED when the ARP header is cut short
 * or is not Ethernet/6-byte (RFC 826). Then for IP, txguard_ip()'s verdict
 * (neighbour discovery, DHCP, RA and DHCP guards). Otherwise FRAME_PASS.
 * Thread: any (pure).
 */
enum frame_verdict frame_classify_tx(const uint8_t *frame, size_t len, const uint8_t vmac[FRAME_ETH_ALEN],
				     unsigned flags);

/*
 * Put back the 802.1Q tag the kernel moved into packet metadata
 * (TP_STATUS_VLAN_VALID). start points at `pre` bytes that precede the frame
 * (a virtio_net_hdr or nothing) followed by the frame; the 4 bytes before start
 * must be writable headroom. The preamble and the two MAC addresses move 4
 * bytes towards the headroom and the tag is written after them.
 * tpid: 0x8100 (802.1Q) or 0x88a8 (802.1ad); tci: the tag control information.
 * Returns the new start (start - 4); the frame grows by 4 bytes.
 * Requires frame length >= 12 (checked by the classifier). Thread: any (pure).
 */
uint8_t *frame_vlan_insert(uint8_t *start, size_t pre, uint16_t tpid, uint16_t tci);

/*
 * Complete the TCP or UDP checksum of an IPv4/IPv6 frame in place (the
 * fallback when no virtio_net_hdr is available and the kernel handed over a
 * partial checksum, TP_STATUS_CSUMNOTREADY). frame/len from the destination
 * MAC on; 802.1Q/802.1ad tags are skipped. The checksum is computed from
 * scratch (RFC 1071, with the RFC 768/793/8200 pseudo-header), so whatever
 * the field held does not matter.
 * Returns 1 when a checksum was written, 0 when the frame has none to
 * complete (not IP, not TCP/UDP, a fragment, IPv6 extension headers), -1 when
 * its headers do not fit in len (malformed). Thread: any (pure).
 */
int frame_csum_complete(uint8_t *frame, size_t len);

/* What the kernel said about a received frame (from sockaddr_ll and PACKET_AUXDATA). */
struct frame_rx_meta {
	int pkttype;          /* sll_pkttype, FRAME_PKT_* */
	int csum_not_ready;   /* 1: TP_STATUS_CSUMNOTREADY (a partial checksum) */
	int vlan_valid;       /* 1: TP_STATUS_VLAN_VALID: the kernel took an 802.1Q tag off */
	uint16_t vlan_tpid;   /* the tag's TPID (0x8100 when the kernel did not say) */
	uint16_t vlan_tci;    /* the tag's TCI */
};

/* Bytes in a struct virtio_net_hdr (include/uapi/linux/virtio_net.h). */
#define FRAME_VNET_HLEN 10

/* Most VLAN ID (802.1Q: 0 and 4095 are reserved). */
#define FRAME_VID_MAX 4094

/*
 * Tag a frame with an 802.1Q/802.1ad tag (frame_vlan_insert()) and move the
 * offsets of the virtio_net_hdr before it (vh bytes: 0 or FRAME_VNET_HLEN)
 * with the headers: csum_start when a checksum is pending, hdr_len when set.
 * Returns the new start (start - 4). Thread: any (pure).
 */
uint8_t *frame_vlan_tag(uint8_t *start, size_t vh, uint16_t tpid, uint16_t tci);

/*
 * Parent -> vNIC, after the frame was routed to its vNIC(s) (vnictab_route):
 * buf holds n bytes, a virtio_net_hdr of vh bytes (0 or FRAME_VNET_HLEN) then
 * the frame, with at least FRAME_VLAN_HLEN writable bytes before buf. vid is
 * the VLAN the frame was routed in: 1 to FRAME_VID_MAX, it reaches access
 * ports of that VLAN untagged; 0, a tag the kernel took off is put back
 * (frame_vlan_tag). When vh is 0 and the checksum is partial, it is
 * completed (frame_csum_complete). On FRAME_PASS, *start and *len are what to
 * write to the TAP (*len in bytes, header included); FRAME_DROP_MALFORMED
 * when n is less than vh + 14 or the checksummed headers do not fit.
 * Thread: any (pure).
 */
enum frame_verdict frame_rx_finish(uint8_t *buf, size_t n, size_t vh, const struct frame_rx_meta *m, unsigned vid,
				   uint8_t **start, size_t *len);

/* Bytes of a gratuitous ARP frame (padded to the 60-byte Ethernet minimum) and of an unsolicited NA frame. */
#define FRAME_GARP_LEN 60
#define FRAME_UNSOL_NA_LEN 86

/*
 * A gratuitous ARP (RFC 5227 ARP Announcement) for ip from mac: broadcast,
 * an ARP request whose sender and target protocol addresses are both ip and
 * target hardware address is zero, so every cache holding ip takes mac.
 * Writes FRAME_GARP_LEN bytes into buf; returns that length. Thread: any (pure).
 */
size_t frame_build_garp(uint8_t *buf, const uint8_t mac[FRAME_ETH_ALEN], const uint8_t ip[4]);

/*
 * An unsolicited neighbour advertisement (RFC 4861 7.2.6) for ip6 from mac:
 * to ff02::1 (33:33:00:00:00:01), hop limit 255, source and target ip6,
 * Override set, Solicited clear, with a target link-layer address option.
 * Writes FRAME_UNSOL_NA_LEN bytes into buf, ICMPv6 checksum included; returns
 * that length. Thread: any (pure).
 */
size_t frame_build_unsol_na(uint8_t *buf, const uint8_t mac[FRAME_ETH_ALEN], const uint8_t ip6[16]);

/* The counter/label name of a verdict ("not_for_us", "own_echo", ...); "pass" for FRAME_PASS. */
const char *frame_verdict_name(enum frame_verdict v);

/* The big-endian 16-bit value at p (network byte order: EtherTypes, IP lengths, ports). */
static inline uint16_t frame_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* 1 when mac has the I/G bit set (group address: multicast or broadcast). */
static inline int frame_mac_is_group(const uint8_t *mac)
{
	return mac[0] & 0x01;
}

/* 1 when a and b are the same 6-byte MAC address. */
static inline int frame_mac_equal(const uint8_t *a, const uint8_t *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

#endif
