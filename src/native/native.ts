/**
 * The native addon's interface, exactly as native/binding.cc exports it, and
 * its loader. The addon is built by node-gyp at `npm install` into
 * build/Release/vethd.node.
 */
import path from 'node:path';

/** Why a frame was not relayed: the labels of the drop counters (native/frame.h). */
export type DropReason =
  | 'runt'
  | 'not_for_us'
  | 'own_echo'
  | 'mac_conflict'
  | 'spoofed_source'
  | 'spoofed_arp'
  | 'oversize'
  | 'malformed'
  | 'tap_down'
  | 'parent_down'
  | 'no_buffer'
  | 'socket_overrun'
  | 'io_error'
  | 'wrong_vlan'
  | 'vlan_hop'
  | 'link_local'
  | 'bad_vnet_hdr'
  | 'spoofed_nd'
  | 'spoofed_dhcp'
  | 'ra_guard'
  | 'dhcp_guard';

/** How the parent is made to deliver frames for the vNIC's MAC (see packet(7), PACKET_ADD_MEMBERSHIP). */
export type Membership = 'promisc' | 'unicast' | 'none';

/**
 * One vNIC of a relay: a TAP with its own MAC on the parent, every field
 * given (resolveRelayOptions() fills the defaults; a missing or wrongly typed
 * key is a TypeError naming it, a value out of range a NativeError EINVAL).
 * What RelayOptions.vnics holds and Relay.addVnic() takes.
 */
export interface VnicOptions {
  /** vNIC (TAP) name, 1 to 15 bytes. */
  tap: string;
  /** The vNIC's MAC as 6 bytes; null: the kernel's random one is kept. */
  mac: Buffer | null;
  /**
   * Drop vNIC frames that claim another station's identity (default true):
   * a source MAC other than the vNIC's (spoofed_source); an ARP or RARP sender
   * hardware address (spoofed_arp), an IPv6 neighbour discovery source/target
   * link-layer address option (spoofed_nd) or a DHCPv4 client message's chaddr
   * (spoofed_dhcp; a fragmented one too) naming another MAC. Off for a vNIC
   * that is a bridge port and forwards other stations' frames.
   */
  antiSpoofing: boolean;
  /**
   * The reserved 802.1 groups 01:80:c2:00:00:00 to :0f the vNIC may send to,
   * as a 16-bit mask (bit g: 01:80:c2:00:00:0g); bit 1 also covers MAC control
   * (EtherType 0x8808) and bit 2 slow protocols (0x8809) to any address. The
   * rest are dropped (link_local). Default: EAPOL's 0x03 and LLDP's 0x0e.
   * See linklocal.ts for the names.
   */
  linkLocalPass: number;
  /** Drop the vNIC's router advertisements and ICMPv6 redirects (ra_guard; RFC 6105); default false. */
  raGuard: boolean;
  /** Drop the vNIC's DHCPv4 and DHCPv6 server and relay messages (dhcp_guard): from port 67/547, to port 68/546, a BOOTREPLY to 67; default false. */
  dhcpGuard: boolean;
  /**
   * A network namespace file (/run/netns/NAME, /proc/PID/ns/net): the vNIC is
   * created inside it (the set-up thread enters it with setns(2), which needs
   * CAP_SYS_ADMIN), while the packet socket stays on the parent here.
   * null: the vNIC is created in this namespace.
   */
  netns: string | null;
  /**
   * Set the vNIC's net.ipv4.conf.<vNIC>.arp_ignore=1 and arp_announce=2
   * (default true): it answers ARP only for its own addresses and announces
   * only from them, so no ARP flux with a parent in the same subnet. See
   * Documentation/networking/ip-sysctl.rst.
   */
  arpSysctls: boolean;
  /**
   * 802.1Q VLAN ID, 1 to 4094: the vNIC is an access port of that VLAN. Only
   * frames the parent received with that tag are relayed, untagged (others:
   * wrong_vlan, dropped in the kernel by the BPF filter); the vNIC's frames
   * leave tagged with it (priority 0). 0: none, frames cross as they are.
   */
  vlan: number;
}

/** What new Relay() takes: every key given (see VnicOptions; resolveRelayOptions() builds it from RelaySettings). */
export interface RelayOptions {
  /** Parent NIC name, 1 to 15 bytes; must exist and be Ethernet. */
  parent: string;
  /**
   * The vNICs, 0 to 64 (addVnic() brings more), each with its own TAP and MAC, all on one packet
   * socket (frames switched between them by VLAN and destination MAC).
   * Two vNICs with the same MAC in the same VLAN: NativeError EEXIST.
   */
  vnics: VnicOptions[];
  /** Default 'promisc' (PACKET_MR_PROMISC); 'unicast' adds the MAC to the parent's unicast filter. */
  membership: Membership;
  /** Pass virtio_net_hdr through (GSO, partial checksums); default true, falls back when the kernel lacks it. */
  vnetHdr: boolean;
  /** Packet socket receive buffer, bytes; default 4 MiB. */
  rcvbuf: number;
  /**
   * Receive path: 'v2' (TPACKET_V2 ring: a slot per frame, handed over one by
   * one), 'v3' (TPACKET_V3: frames packed in blocks handed over when full or
   * after 1 ms: fewer wake-ups, up to 1 ms more latency), 'off' (recvmsg() per
   * frame), or 'auto' (default: v2). Each falls back to the next one down when
   * the kernel refuses it; info().rxRing says which is in force. See packet(7).
   */
  rxRing: RxRing;
  /** Attach the classic BPF filter that drops other stations' unicast in the kernel (default true). */
  kernelFilter: boolean;
  /** Frames sent per sendmmsg(), 1 to 32 (default 32); only frames already queued on the vNIC are batched. */
  txBatch: number;
  /** PACKET_QDISC_BYPASS: skip the parent's qdisc (and any tc shaping on it); default false. */
  qdiscBypass: boolean;
  /**
   * Adaptive interrupt coalescing on the receive ring: the longest pause, µs
   * (0 to 1000, default 200). After a wake-up that found a burst (8 or more
   * frames) the relay thread waits for more instead of being woken per frame:
   * 25 µs first, doubling while bursts keep coming, up to this. A lone frame
   * is never delayed. 0: woken per frame.
   */
  rxCoalesceUs: number;
  /**
   * Queues, each with its relay thread, 1 to 16 (default 1). Above 1: that many packet sockets in
   * one PACKET_FANOUT group, each with its ring and filter, and a multi-queue
   * TAP (IFF_MULTI_QUEUE) with that many queues. A fanout member cannot be
   * bound again, so a re-created parent needs a restart (rebind() throws
   * EINVAL). See packet(7).
   */
  queues: number;
  /** With queues > 1: 'cpu' (PACKET_FANOUT_CPU, default: queue k takes the frames received on the CPUs c with c % queues == k) or 'hash' (PACKET_FANOUT_HASH, by flow). */
  fanout: Fanout;
  /**
   * Let each relay thread follow its frames (default true): while traffic is
   * sparse (sleeps of 1 ms and more) it waits pinned to the CPU its last frame
   * was received on, so the next frame wakes it on that busy CPU rather than
   * on an idle one that may have to be woken from a halt; while traffic is
   * dense it may run on any CPU the process may. The CPU comes from the
   * filter, loaded as eBPF that records it (needs kernelFilter and CAP_BPF;
   * see bpf(2)); without it, queues > 1 with fanout 'cpu' still wait on their
   * queue's CPUs. info().followCpu says which is in force.
   */
  followCpu: boolean;
  /**
   * The host path (default true): a vNIC's frames to the parent's own MAC go
   * to the host's own stack instead of the wire, and its group frames (ARP,
   * neighbour discovery) to the host as well as the wire, so the host and
   * its containers reach each other (which macvlan cannot). A tc program on
   * the parent's egress, attached with a tcx link (Linux 6.6; CAP_BPF and
   * CAP_NET_ADMIN at set-up), acts on the frames that carry hostPathMark;
   * the kernel filter keeps its copies from the vNICs. Refused (no CAP_BPF,
   * an older kernel, qdiscBypass, no kernelFilter), the relay runs without
   * it: info().hostPath and hostPathError say so.
   */
  hostPath: boolean;
  /**
   * The mark (SO_MARK) on every frame the relay sends, 1 to 2^32-1, which the
   * host path's program acts on (default 0x56440000): choose another when
   * the host's policy routing or firewall uses this one. 0: no mark (then
   * hostPath must be false: EINVAL).
   */
  hostPathMark: number;
}

/** How the relay threads follow their frames: 'rx-cpu' (the CPU the eBPF filter recorded), 'fanout' (the queue's CPUs under fanout 'cpu'), 'off'. */
export type FollowCpu = 'rx-cpu' | 'fanout' | 'off';

export type Fanout = 'cpu' | 'hash';

export type RxRing = 'auto' | 'v3' | 'v2' | 'off';

/** One direction's counters, from the vNIC's point of view. */
export interface DirectionStats {
  /** Frames relayed. */
  frames: number;
  /** Bytes relayed, including the 14-byte Ethernet header and any VLAN tag. */
  bytes: number;
  /** Frames not relayed, by reason. */
  drops: Record<DropReason, number>;
}

/** One vNIC's counters (what Relay.removeVnic() returns: its last ones). */
export interface VnicStats {
  /** What reached the vNIC, from the parent or another vNIC, and the receive drops charged to it (mac_conflict, own_echo, tap_down...). */
  receive: DirectionStats;
  /** What the vNIC sent, to the parent or another vNIC. */
  transmit: DirectionStats;
}

/** One vNIC's counters in RelayStats.vnics, with the slot that names it. */
export interface SlotStats extends VnicStats {
  /** The vNIC's slot (VnicInfo.slot). */
  slot: number;
}

/**
 * receive and transmit: every vNIC's counters added up, the removed vNICs'
 * last counters included (so they never go back), with the unrouted drops;
 * all read at one moment.
 */
export interface RelayStats extends VnicStats {
  /** Each vNIC's, in slot order, as info().vnics lists them (one vNIC too). */
  vnics: SlotStats[];
  /** Receive drops that concern no vNIC: other stations' unicast, another VLAN, runts, socket overruns. */
  unrouted: DirectionStats;
}

/** One vNIC as built. */
export interface VnicInfo {
  /**
   * The slot that names the vNIC in up(), setAntiSpoofing(), announce() and
   * removeVnic(), 0 to limits.vnicsMax - 1, kept until it is removed. The
   * RelayOptions.vnics are slots 0, 1, ... in order; addVnic() takes the
   * lowest free one, so until a vNIC is removed slot i is the i-th vNIC.
   */
  slot: number;
  tap: string;
  /** The vNIC's MAC as the kernel has it, lower-case colon form. */
  mac: string;
  /** The vNIC's ifindex, in its own namespace. */
  tapIfindex: number;
  /** The namespace file the vNIC was created in (VnicOptions.netns); absent: this namespace. */
  netns?: string;
  /** The VLAN ID the vNIC is an access port of (VnicOptions.vlan); absent: none. */
  vlan?: number;
  /** Anti-spoofing in force (see VnicOptions.antiSpoofing). */
  antiSpoofing: boolean;
  /** The reserved 802.1 groups it may send to (VnicOptions.linkLocalPass). */
  linkLocalPass: number;
  /** RA guard in force (VnicOptions.raGuard). */
  raGuard: boolean;
  /** DHCP server guard in force (VnicOptions.dhcpGuard). */
  dhcpGuard: boolean;
}

/** The relay as built: its modes, and every vNIC in vnics. */
export interface RelayInfo {
  /** Every vNIC, in slot order (RelayOptions.vnics order, then each addVnic() in the lowest free slot); none after the last removeVnic(). */
  vnics: VnicInfo[];
  parent: string;
  parentIfindex: number;
  /** MTU given to the vNIC (the parent's), bytes. */
  mtu: number;
  /** True when virtio_net_hdr passthrough is in force on both descriptors. */
  vnetHdr: boolean;
  membership: Membership;
  /** Receive path in force: 'tpacket_v3', 'tpacket_v2' or 'off' (recvmsg). */
  rxRing: 'tpacket_v3' | 'tpacket_v2' | 'off';
  /** The BPF filter is attached. */
  kernelFilter: boolean;
  /** Frames per sendmmsg(). */
  txBatch: number;
  /** PACKET_QDISC_BYPASS is in force. */
  qdiscBypass: boolean;
  /** Longest receive coalescing pause, µs. */
  rxCoalesceUs: number;
  /** Queues (relay threads) in use. */
  queues: number;
  /** Fanout mode, present when queues > 1. */
  fanout?: Fanout;
  /** How the relay threads follow their frames (RelayOptions.followCpu). */
  followCpu: FollowCpu;
  /**
   * Why the filter that records each frame's receiving CPU was refused when
   * following was asked for, as "<strerror> (<ERRNO>)": "Operation not
   * permitted (EPERM)" without CAP_BPF (or CAP_SYS_ADMIN); absent otherwise.
   * The classic filter is attached instead.
   */
  followCpuError?: string;
  /** The host path is in force ('on': its tcx link on the parent; RelayOptions.hostPath). */
  hostPath: 'on' | 'off';
  /** The mark on the relay's frames (RelayOptions.hostPathMark), 0: none. */
  hostPathMark: number;
  /**
   * Why the host path is off although asked for: the kernel's refusal as
   * "<strerror> (<ERRNO>)" ("Operation not permitted (EPERM)" without
   * CAP_BPF, "Invalid argument (EINVAL)" before Linux 6.6's tcx), or the
   * setting that rules it out (qdiscBypass, no kernelFilter); absent otherwise.
   */
  hostPathError?: string;
}

/** An Error thrown by the addon: "<ifname>: <operation>: <strerror> (<ERRNO>)". */
export interface NativeError extends Error {
  /** errno name, e.g. 'ENODEV'. */
  code: string;
  /** Negative errno, as in Node's system errors. */
  errno: number;
  /** The failed call, e.g. 'bind', 'ioctl(TUNSETIFF)'. */
  syscall: string;
  /** The interface the operation was about. */
  ifname: string;
}

export interface RelayStatus {
  open: boolean;
  /** Set when a relay thread ended on an error reading the parent (syscall "recvmsg", or "getsockopt(SO_ERROR)" for an error the socket reported) or waiting for frames ("ppoll", "epoll_wait"). */
  rxError: NativeError | null;
  /**
   * Per vNIC (info().vnics order: by slot): the error that retired it, else null.
   * A vNIC whose TAP cannot be read (EBADFD: deleted from outside, or its
   * namespace went) is retired alone: no frame is routed to it any more and
   * the other vNICs never notice. ifname is the vNIC's; syscall 'read'.
   */
  retired: (NativeError | null)[];
  /** Per vNIC (info().vnics order): frames from the wire with its MAC as source (its receive drops mac_conflict), as stats() counts them. */
  macConflicts: number[];
}

/**
 * A relay: vNICs (TAPs) + one packet socket + one thread per queue moving frames both ways. Constructing it builds everything
 * (the TAP still down) or throws NativeError, leaving nothing behind. vNICs can be added and removed at any time after
 * (addVnic, removeVnic), threads running or not; each is named by its slot (VnicInfo.slot). The methods run on the JS thread.
 */
export interface Relay {
  /** Start the relay threads. Throws NativeError. */
  start(): void;
  /** Bring the link of the vNIC in `slot` up, or every vNIC's when omitted. Throws NativeError; RangeError for no vNIC in that slot. */
  up(slot?: number): void;
  /**
   * Build one more vNIC and wire it into the relay while it runs; returns its
   * slot (the lowest free one, 0 to limits.vnicsMax - 1). Its TAP is built as
   * the constructor builds one (in options.netns when given; MAC, the
   * relay's MTU, offloads, ARP sysctls) and left down: call up(slot) after
   * (the caller may probe for a MAC collision first). It then takes frames
   * from the relay threads' next round on (each thread switches routing
   * tables between two rounds; the frames of the others are never held up):
   * its MAC in the packet socket's filter and, with membership 'unicast', in
   * the parent's unicast filter.
   * Throws TypeError for a missing or wrongly typed key (naming it:
   * "options.vlan must be a 32-bit integer"), and NativeError
   * "<tap>: <operation>: <strerror> (<ERRNO>)" with nothing left behind (no
   * TAP, no membership, the filter as it was): EINVAL for a value out of
   * range, naming it; EEXIST for a name its namespace already has (another
   * vNIC's too: "cannot create TAP") or a MAC another vNIC has in the same
   * VLAN ("cannot add vNIC: MAC 02:00:c0:00:02:51 is vNIC veth1's"); ENOSPC
   * when limits.vnicsMax vNICs are in use ("the relay has 64 vNICs, the most
   * it takes"); ETIMEDOUT when the relay threads did not pass a round
   * boundary after the last change within 1 s; EPERM without CAP_NET_ADMIN.
   */
  addVnic(options: VnicOptions): number;
  /**
   * Remove the vNIC in `slot`, running or not, retired or not: no frame is
   * routed to it or read from it after the relay threads' current round; once
   * every thread has moved on (at most 1 s, normally well under 1 ms) its TAP
   * is deleted, its MAC leaves the filter (and the parent's unicast filter)
   * and the slot is free for the next addVnic(). Returns its last counters
   * (stats() totals keep them). The frames still in flight for it are
   * delivered in the round that holds them, or dropped as not_for_us
   * (unrouted) after. Throws RangeError for no vNIC in that slot, NativeError
   * ETIMEDOUT when the threads did not move on within 1 s (the vNIC is out of
   * routing, its TAP still there; calling again finishes).
   */
  removeVnic(slot: number): VnicStats;
  /** Stop the threads, delete the TAP, drop the membership. Idempotent. */
  close(): void;
  info(): RelayInfo;
  /**
   * Counters read at call time, all at one moment (no copying on a timer).
   * Reads only: socket_overrun holds what the last collectOverruns() folded in.
   */
  stats(): RelayStats;
  /**
   * Fold each packet socket's receive-buffer drops (PACKET_STATISTICS, which
   * the kernel resets on every read) into the unrouted socket_overrun
   * counter. The daemon calls it on its health tick (every 250 ms) and
   * before its last reading. See packet(7).
   */
  collectOverruns(): void;
  status(): RelayStatus;
  /**
   * The parent is back as a new device (deleted and re-created): bind the
   * packet socket to it and add the membership again, threads running.
   * info().parent/parentIfindex follow. Throws NativeError (EINVAL: not Ethernet).
   */
  rebind(parent: string, ifindex: number): void;
  /**
   * Read the parent's MAC again and give it to the host path's program (no
   * capability needed): after a link event on the parent. True when it
   * changed; false too without a host path. Throws NativeError when it cannot be read.
   */
  refreshHostPath(): boolean;
  /** Turn anti-spoofing on or off on the vNIC in `slot`, or on every vNIC when omitted, from the next frame on. RangeError for no vNIC in that slot. */
  setAntiSpoofing(on: boolean, slot?: number): void;
  /**
   * Announce one of the addresses of the vNIC in `slot` (default 0) on the parent from
   * its MAC, tagged with its VLAN, and to the other vNICs of that VLAN: a
   * gratuitous ARP request for IPv4 (RFC 5227), an unsolicited neighbour
   * advertisement with Override for IPv6 (RFC 4861 7.2.6). Throws TypeError
   * for text that is not an address, RangeError for no vNIC in that slot,
   * NativeError when send() fails (ENETDOWN: the parent is down; ENODEV: the
   * vNIC was retired).
   */
  announce(address: string, slot?: number): void;
}

/** One rtnetlink event (see rtnetlink(7)): a link (RTM_NEWLINK / RTM_DELLINK) or, when asked for, an address (RTM_NEWADDR / RTM_DELADDR). */
export interface LinkEvent {
  /**
   * new: created or changed; del: deleted or moved to another namespace;
   * resync: events were lost (ENOBUFS), or could not be read (error); addr: an address added or changed
   * (IPv6: again when DAD is done); deladdr: an address removed.
   */
  type: 'new' | 'del' | 'resync' | 'addr' | 'deladdr';
  /** 0 for resync. */
  ifindex: number;
  /** ifi_flags (IFF_UP = 0x1, IFF_RUNNING = 0x40, IFF_LOWER_UP = 0x10000). */
  flags: number;
  /** IFLA_OPERSTATE (RFC 2863: 2 down, 3 lowerlayerdown, 5 dormant, 6 up), -1 when absent. */
  operstate: number;
  /** IFLA_MTU in bytes, -1 when absent. */
  mtu: number;
  /** IFLA_IFNAME, '' when absent. */
  name: string;
  /** Address events: 4 or 6. */
  family?: 4 | 6;
  /** Address events: the address (IFA_LOCAL, else IFA_ADDRESS), in inet_ntop form. */
  address?: string;
  /** Address events: IFA_FLAGS (IFA_F_TENTATIVE = 0x40, IFA_F_DADFAILED = 0x08, IFA_F_OPTIMISTIC = 0x04). */
  addrFlags?: number;
  /**
   * resync only: reading the netlink socket failed (an error other than
   * ENOBUFS); the monitor leaves it alone for a second, then listens again,
   * so such an event comes about once a second while the error lasts.
   */
  error?: NativeError;
}

export interface LinkMonitorOptions {
  /** Also subscribe to IPv4 and IPv6 address events (RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR). */
  addresses?: boolean;
  /** Open the netlink socket inside this network namespace file (its events are that namespace's). */
  netns?: string;
}

/** rtnetlink link events on the JS thread; never keeps the process alive. */
export interface LinkMonitor {
  /** Stop listening and close the netlink socket. Idempotent. */
  close(): void;
}

/** The relay's compiled-in limits, as native/relay.h defines them (src/limits.ts reads them from here). */
export interface RelayLimits {
  /** Most frames per sendmmsg() (RelayOptions.txBatch), RELAY_TX_BATCH. */
  txBatchMax: number;
  /** Longest receive coalescing pause, µs, RELAY_COALESCE_MAX_US. */
  rxCoalesceMaxUs: number;
  /** Most queues (threads, packet sockets, TAP queues), RELAY_MAX_QUEUES. */
  queuesMax: number;
  /** Most vNICs on one parent, RELAY_MAX_VNICS. */
  vnicsMax: number;
}

export interface NativeModule {
  Relay: new (options: RelayOptions) => Relay;
  /** Subscribe to RTMGRP_LINK (and the address groups when asked); onEvents runs on the JS thread. Throws NativeError. */
  LinkMonitor: new (onEvents: (events: LinkEvent[]) => void, options?: LinkMonitorOptions) => LinkMonitor;
  /** Every DropReason, in counter order. */
  dropReasons: DropReason[];
  /** The relay's compiled-in limits (native/relay.h), the one source src/limits.ts reads. */
  limits: RelayLimits;
  /**
   * Send an sd_notify(3) state ("READY=1", "STOPPING=1", "WATCHDOG=1") to the
   * AF_UNIX datagram socket socketPath ($NOTIFY_SOCKET: a path or "@abstract").
   * Returns 1 when sent, 0 when socketPath is empty; throws NativeError.
   */
  sdNotify(socketPath: string | undefined, state: string): number;
  /**
   * Whether a device aggregates received frames: GRO (ETHTOOL_GGRO) and LRO
   * (ETHTOOL_GFLAGS), as `ethtool -k` shows; a driver that does not say has
   * them off. Throws NativeError (ENODEV: no such interface).
   */
  netdevOffloads(name: string): { gro: boolean; lro: boolean };
  /**
   * Give up every capability (effective, permitted, inheritable, ambient,
   * bounding when allowed) and set no_new_privs, on every thread that can be
   * asked (native/caps.h); the calling (JS) thread keeps those numbered in
   * keep that it holds (12: CAP_NET_ADMIN, to add vNICs later; capabilities(7)),
   * and threads it starts afterwards inherit them. Returns the thread count,
   * how many other threads still hold a permitted set (and which), what the
   * calling thread kept, and its own failure, if any.
   */
  dropCapabilities(keep?: number[]): CapsReport;
  /**
   * The credentials a connected AF_UNIX stream socket's peer had when it
   * connected (SO_PEERCRED, unix(7)): pid (0 when outside this pid namespace),
   * effective uid and gid. Throws NativeError (ENOTSOCK, EBADF).
   */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
}

/** What dropCapabilities() did (native/caps.h struct caps_report). */
export interface CapsReport {
  /** Threads in the process. */
  threads: number;
  /** Threads that still hold a permitted set. */
  holding: number;
  /** Threads asked with glibc's SIGSETXID because they block every other signal (Node's inspector SIGUSR1 watcher). */
  borrowed: number;
  /** The first (up to 4) of the threads holding. */
  held: CapsHolder[];
  /** The capabilities (numbers) the calling thread kept. */
  kept: number[];
  error?: NativeError;
}

/** A thread that kept its capabilities. */
export interface CapsHolder {
  tid: number;
  /** Its name (/proc comm). */
  name: string;
  /** True: it blocks every signal it could be asked with; false: it did not answer within 500 ms. */
  masked: boolean;
}

let loaded: NativeModule | undefined;

/** Load build/Release/vethd.node once. Throws when the addon was not built (`npm install` builds it). */
export function loadNative(): NativeModule {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(path.join(__dirname, '..', '..', 'build', 'Release', 'vethd.node')) as NativeModule;
  }
  return loaded;
}
