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
  | 'oversize'
  | 'malformed'
  | 'tap_down'
  | 'parent_down'
  | 'no_buffer'
  | 'io_error';

/** How the parent is made to deliver frames for the vNIC's MAC (see packet(7), PACKET_ADD_MEMBERSHIP). */
export type Membership = 'promisc' | 'unicast' | 'none';

export interface RelayOptions {
  /** vNIC (TAP) name, 1 to 15 bytes. */
  tap: string;
  /** Parent NIC name, 1 to 15 bytes; must exist and be Ethernet. */
  parent: string;
  /** The vNIC's MAC as 6 bytes; omitted: the kernel's random one is kept. */
  mac?: Buffer;
  /** Default 'promisc' (PACKET_MR_PROMISC); 'unicast' adds the MAC to the parent's unicast filter. */
  membership?: Membership;
  /** Pass virtio_net_hdr through (GSO, partial checksums); default true, falls back when the kernel lacks it. */
  vnetHdr?: boolean;
  /** Packet socket receive buffer, bytes; default 4 MiB. */
  rcvbuf?: number;
}

/** One direction's counters, from the vNIC's point of view. */
export interface DirectionStats {
  /** Frames relayed. */
  frames: number;
  /** Bytes relayed, including the 14-byte Ethernet header and any VLAN tag. */
  bytes: number;
  /** Frames not relayed, by reason. */
  drops: Record<DropReason, number>;
}

export interface RelayStats {
  /** Parent -> vNIC. */
  receive: DirectionStats;
  /** vNIC -> parent. */
  transmit: DirectionStats;
}

export interface RelayInfo {
  tap: string;
  parent: string;
  /** The vNIC's MAC as the kernel has it, lower-case colon form. */
  mac: string;
  tapIfindex: number;
  parentIfindex: number;
  /** MTU given to the vNIC (the parent's), bytes. */
  mtu: number;
  /** True when virtio_net_hdr passthrough is in force on both descriptors. */
  vnetHdr: boolean;
  membership: Membership;
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
  /** Set when the parent -> vNIC thread ended on an error. */
  rxError: NativeError | null;
  /** Set when the vNIC -> parent thread ended on an error (e.g. EBADFD: the TAP was deleted). */
  txError: NativeError | null;
}

/**
 * A relay: TAP + packet socket + two threads. Constructing it builds everything
 * (the TAP still down) or throws NativeError, leaving nothing behind.
 */
export interface Relay {
  /** Start the relay threads. Throws NativeError. */
  start(): void;
  /** Bring the vNIC's link up. Throws NativeError. */
  up(): void;
  /** Stop the threads, delete the TAP, drop the membership. Idempotent. */
  close(): void;
  info(): RelayInfo;
  /** Counters read at call time (no copying on a timer). */
  stats(): RelayStats;
  status(): RelayStatus;
}

export interface NativeModule {
  Relay: new (options: RelayOptions) => Relay;
  /** Every DropReason, in counter order. */
  dropReasons: DropReason[];
  /**
   * Send an sd_notify(3) state ("READY=1", "STOPPING=1", "WATCHDOG=1") to the
   * AF_UNIX datagram socket socketPath ($NOTIFY_SOCKET: a path or "@abstract").
   * Returns 1 when sent, 0 when socketPath is empty; throws NativeError.
   */
  sdNotify(socketPath: string | undefined, state: string): number;
}

let loaded: NativeModule | undefined;

/** Load build/Release/vethd.node once. Throws when the addon was not built (`npm install` builds it). */
export function loadNative(): NativeModule {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(path.join(__dirname, '..', 'build', 'Release', 'vethd.node')) as NativeModule;
  }
  return loaded;
}
