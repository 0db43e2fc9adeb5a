/**
 * The daemon's state as the control socket's `GET /v1/status` gives it and
 * `vethd status` prints it: the parent, the relay's modes, and each vNIC with
 * its identity, state, MAC conflict and counters. Pure: built from what the
 * relay and the daemon already know, read once per request.
 */
import type { DirectionStats, RelayInfo, RelayStats, VnicInfo } from '../native/native';
import { CONTROL_API } from './control';

/** One vNIC in a status reply. */
export interface VnicStatus {
  name: string;
  /** The control socket's handle for it (what remove takes): given at add (a CNI plugin's), else its name. */
  id: string;
  /** Lower-case colon form. */
  mac: string;
  /** Its ifindex, in its own namespace. */
  ifindex: number;
  /** The namespace file it lives in; absent: the daemon's. */
  netns?: string;
  /** The VLAN it is an access port of; absent: none. */
  vlan?: number;
  antiSpoofing: boolean;
  raGuard: boolean;
  dhcpGuard: boolean;
  /** 'serving', or 'retired' (its TAP was deleted or broken from outside; error says how). */
  state: 'serving' | 'retired';
  error?: string;
  /** Frames from the wire with its MAC as source, and whether one came within the last 10 s. */
  macConflict: { frames: number; ongoing: boolean };
  /** What reached it and what it sent, bytes including the 14-byte Ethernet header. */
  receive: DirectionStats;
  transmit: DirectionStats;
}

/** GET /v1/status. */
export interface StatusReply {
  /** The protocol's version (CONTROL_API). */
  api: number;
  /** vethd's version. */
  version: string;
  pid: number;
  parent: { name: string; ifindex: number; up: boolean | null; mtu: number; membership: string };
  relay: Pick<RelayInfo, 'vnetHdr' | 'rxRing' | 'kernelFilter' | 'queues' | 'followCpu' | 'txBatch' | 'rxCoalesceUs' | 'hostPath'>;
  vnics: VnicStatus[];
  /** Receive drops that concern no vNIC (other stations' unicast, other VLANs, overruns). */
  unrouted: DirectionStats;
}

/** What one vNIC's line needs besides the relay's reading. */
export interface VnicState {
  id: string;
  info: VnicInfo;
  /** Its slot in the relay (stats().vnics[].slot). */
  index: number;
  retired?: Error;
  conflictOngoing: boolean;
}

/** The status reply from one reading of the relay. */
export function statusReply(info: RelayInfo, stats: RelayStats, vnics: VnicState[], parentUp: boolean | undefined, version: string, pid = process.pid): StatusReply {
  return {
    api: CONTROL_API,
    version,
    pid,
    parent: { name: info.parent, ifindex: info.parentIfindex, up: parentUp ?? null, mtu: info.mtu, membership: info.membership },
    relay: { vnetHdr: info.vnetHdr, rxRing: info.rxRing, kernelFilter: info.kernelFilter, queues: info.queues, followCpu: info.followCpu, txBatch: info.txBatch, rxCoalesceUs: info.rxCoalesceUs, hostPath: info.hostPath },
    vnics: vnics.map((v) => {
      const s = stats.vnics.find((x) => x.slot === v.index);
      if (!s) throw new Error(`${v.info.tap}: the relay has no counters for slot ${v.index}`);
      return {
        name: v.info.tap,
        id: v.id,
        mac: v.info.mac,
        ifindex: v.info.tapIfindex,
        ...(v.info.netns ? { netns: v.info.netns } : {}),
        ...(v.info.vlan ? { vlan: v.info.vlan } : {}),
        antiSpoofing: v.info.antiSpoofing,
        raGuard: v.info.raGuard,
        dhcpGuard: v.info.dhcpGuard,
        state: v.retired ? 'retired' : 'serving',
        ...(v.retired ? { error: v.retired.message } : {}),
        macConflict: { frames: s.receive.drops.mac_conflict, ongoing: v.conflictOngoing },
        receive: s.receive,
        transmit: s.transmit,
      };
    }),
    unrouted: stats.unrouted,
  };
}

/** Only the non-zero drop reasons, "reason n, reason n", or "none". */
function drops(d: DirectionStats): string {
  const nz = Object.entries(d.drops).filter(([, n]) => n > 0);
  return nz.length ? nz.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
}

/** `vethd status` for a person: the parent's line, then a block per vNIC. */
export function statusLines(s: StatusReply): string[] {
  const p = s.parent;
  const lines = [`${p.name}: ifindex ${p.ifindex}, ${p.up === null ? 'state unknown' : p.up ? 'up' : 'down'}, MTU ${p.mtu}, ${p.membership} membership; ${s.vnics.length} vNIC(s); vethd ${s.version}, pid ${s.pid}`];
  for (const v of s.vnics) {
    const where = [v.netns ? `netns ${v.netns}` : '', v.vlan ? `VLAN ${v.vlan}` : ''].filter(Boolean).join(', ');
    lines.push(`  ${v.name}  ${v.mac}${where ? `  ${where}` : ''}  ${v.state}${v.error ? ` (${v.error})` : ''}${v.id !== v.name ? `  id ${v.id}` : ''}`);
    lines.push(`    receive  ${v.receive.frames} frames, ${v.receive.bytes} bytes; drops: ${drops(v.receive)}`);
    lines.push(`    transmit ${v.transmit.frames} frames, ${v.transmit.bytes} bytes; drops: ${drops(v.transmit)}`);
    if (v.macConflict.frames > 0) lines.push(`    MAC conflict: ${v.macConflict.frames} frame(s) from another station with this MAC${v.macConflict.ongoing ? ', within the last 10 s' : ''}`);
  }
  return lines;
}
