/** A fake native module: records what the TS layer asks of the relay, no sockets. */
import { EventEmitter } from 'node:events';
import { RELAY_LIMITS } from '../src/native/limits';
import type { DirectionStats, LinkEvent, LinkMonitor, NativeError, NativeModule, Relay, RelayOptions, RelayStats, RelayStatus, VnicOptions, VnicStats } from '../src/native/native';

export const DROP_REASONS = ['runt', 'not_for_us', 'own_echo', 'mac_conflict', 'spoofed_source', 'spoofed_arp', 'oversize', 'malformed', 'tap_down', 'parent_down', 'no_buffer', 'socket_overrun', 'io_error', 'wrong_vlan', 'vlan_hop', 'link_local', 'bad_vnet_hdr', 'spoofed_nd', 'spoofed_dhcp', 'ra_guard', 'dhcp_guard'] as const;

export function zeroDir(): DirectionStats {
  return { frames: 0, bytes: 0, drops: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DirectionStats['drops'] };
}

/** A relay's counters, all zero: totals, no vNIC broken down yet (see FakeNative.stats), nothing unrouted. */
export function zeroStats(): RelayStats {
  return { receive: zeroDir(), transmit: zeroDir(), vnics: [], unrouted: zeroDir() };
}

export function nativeError(ifname: string, op: string, code: string, errno: number, text: string): NativeError {
  return Object.assign(new Error(`${ifname}: ${op}: ${text} (${code})`), { code, errno: -errno, syscall: 'ioctl', ifname });
}

export class FakeNative {
  opened: RelayOptions[] = [];
  closed = 0;
  started = 0;
  ups = 0;
  notified: string[] = [];
  openError: NativeError | undefined;
  /** What status() gives, with macConflicts taken from stats(). */
  status: Omit<RelayStatus, 'macConflicts'> = { open: true, rxError: null, retired: [] };
  /** collectOverruns() calls. */
  overrunCollections = 0;
  /** The uid peerCredentials() reports (default: this process's). */
  peerUid: number | undefined;
  /** stats() calls (status() reads the same counters without counting here). */
  statsReads = 0;
  /** What stats() gives; a test sets the totals, which are vNIC 0's when there is one vNIC and vnics is left empty. */
  stats = zeroStats();
  rebinds: { parent: string; ifindex: number }[] = [];
  rebindError: NativeError | undefined;
  /** What info() says the kernel answered the filter that records the receiving CPU (RelayInfo.followCpuError); following is then off. */
  followCpuError: string | undefined;
  /** What info() says the kernel answered the host path (RelayInfo.hostPathError); the host path is then off. */
  hostPathError: string | undefined;
  /** What refreshHostPath() answers: true once (the parent's MAC changed), or the error it throws; refreshes counts the calls. */
  hostMacChanged: boolean | NativeError = false;
  hostRefreshes = 0;
  /** setAntiSpoofing() calls: on for every vNIC, or [vnic, on]. */
  antiSpoofing: (boolean | [number, boolean])[] = [];
  /** Addresses relay.announce() was called with, in order. */
  announced: string[] = [];
  /** addVnic() calls, in order, with the slot each got. */
  added: { slot: number; options: VnicOptions }[] = [];
  /** removeVnic() calls: the slots, in order. */
  removed: number[] = [];
  /** What addVnic() throws, when set. */
  addError: NativeError | undefined;
  capsDropped = 0;
  /** The LinkMonitor callbacks still listening. */
  linkListeners = new Set<(events: LinkEvent[]) => void>();

  /** Deliver rtnetlink link events to every open LinkMonitor. */
  linkEvents(...events: Partial<LinkEvent>[]): void {
    const full = events.map((e) => ({ type: 'new' as const, ifindex: 0, flags: 0, operstate: -1, mtu: -1, name: '', ...e }));
    for (const fn of this.linkListeners) fn(full);
  }

  module(): NativeModule {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const fake = this;
    class FakeRelay implements Relay {
      /** By slot: the vNIC in it, undefined for a free slot (the constructor's vNICs are slots 0, 1, ...). */
      readonly slots: (VnicOptions | undefined)[];
      constructor(readonly opts: RelayOptions) {
        if (fake.openError) throw fake.openError;
        fake.opened.push(opts); // as the addon takes it: the complete shape
        this.slots = [...opts.vnics];
      }
      /** The slots holding a vNIC, in order. */
      present(): number[] {
        return this.slots.flatMap((v, i) => (v ? [i] : []));
      }
      addVnic(options: VnicOptions): number {
        if (fake.addError) throw fake.addError;
        const free = this.slots.indexOf(undefined);
        const slot = free < 0 ? this.slots.length : free;
        this.slots[slot] = options;
        fake.added.push({ slot, options });
        return slot;
      }
      removeVnic(slot: number): VnicStats {
        if (!this.slots[slot]) throw new RangeError(`no vNIC in slot ${slot}`);
        this.slots[slot] = undefined;
        fake.removed.push(slot);
        return { receive: zeroDir(), transmit: zeroDir() };
      }
      start() {
        fake.started++;
      }
      up() {
        fake.ups++;
      }
      close() {
        fake.closed++;
      }
      info() {
        const vnics = this.present().map((i) => ({ i, v: this.slots[i] as VnicOptions })).map(({ i, v }) => ({
          slot: i,
          tap: v.tap,
          mac: v.mac ? [...v.mac].map((b) => b.toString(16).padStart(2, '0')).join(':') : `5e:1a:00:00:00:0${i + 1}`,
          tapIfindex: 7 + i,
          antiSpoofing: v.antiSpoofing ?? true,
          linkLocalPass: v.linkLocalPass ?? 0x4008,
          raGuard: v.raGuard ?? false,
          dhcpGuard: v.dhcpGuard ?? false,
          ...(v.netns ? { netns: v.netns } : {}),
          ...(v.vlan ? { vlan: v.vlan } : {}),
        }));
        return { vnics, parent: this.opts.parent, parentIfindex: 2, mtu: 1500, vnetHdr: true, membership: this.opts.membership ?? 'promisc', rxRing: 'tpacket_v2' as const, kernelFilter: this.opts.kernelFilter ?? true, txBatch: this.opts.txBatch ?? 32, qdiscBypass: this.opts.qdiscBypass ?? false, rxCoalesceUs: this.opts.rxCoalesceUs ?? 200, queues: this.opts.queues ?? 1, followCpu: this.opts.followCpu === false || this.opts.kernelFilter === false || fake.followCpuError ? ('off' as const) : ('rx-cpu' as const), ...(fake.followCpuError ? { followCpuError: fake.followCpuError } : {}), hostPath: this.opts.hostPath === false || fake.hostPathError ? ('off' as const) : ('on' as const), hostPathMark: this.opts.hostPathMark ?? 0x56440000, ...(fake.hostPathError && this.opts.hostPath !== false ? { hostPathError: fake.hostPathError } : {}), ...(this.opts.queues && this.opts.queues > 1 ? { fanout: this.opts.fanout ?? ('cpu' as const) } : {}) };
      }
      stats(): RelayStats {
        fake.statsReads++;
        return this.counters();
      }
      counters(): RelayStats {
        const s = fake.stats;
        if (s.vnics.length) return s;
        // None broken down by the test: one vNIC has the relay's totals (nothing unrouted), several have zeros; a row each, as the addon gives.
        const slots = this.present();
        return { ...s, vnics: slots.length === 1 ? [{ slot: slots[0], receive: s.receive, transmit: s.transmit }] : slots.map((slot) => ({ slot, receive: zeroDir(), transmit: zeroDir() })) };
      }
      status(): RelayStatus {
        return { ...fake.status, macConflicts: this.counters().vnics.map((v) => v.receive.drops.mac_conflict) };
      }
      collectOverruns() {
        fake.overrunCollections++;
      }
      rebind(parent: string, ifindex: number) {
        if (fake.rebindError) throw fake.rebindError;
        fake.rebinds.push({ parent, ifindex });
      }
      refreshHostPath() {
        fake.hostRefreshes++;
        const r = fake.hostMacChanged;
        if (typeof r !== 'boolean') throw r;
        fake.hostMacChanged = false;
        return r;
      }
      setAntiSpoofing(on: boolean, vnic?: number) {
        fake.antiSpoofing.push(vnic === undefined ? on : [vnic, on]);
      }
      announce(address: string) {
        fake.announced.push(address);
      }
    }
    class FakeLinkMonitor implements LinkMonitor {
      constructor(private readonly fn: (events: LinkEvent[]) => void) {
        fake.linkListeners.add(fn);
      }
      close() {
        fake.linkListeners.delete(this.fn);
      }
    }
    return {
      Relay: FakeRelay,
      LinkMonitor: FakeLinkMonitor,
      dropReasons: [...DROP_REASONS],
      limits: { ...RELAY_LIMITS },
      dropCapabilities: () => {
        fake.capsDropped++;
        return { threads: 11, holding: 0, borrowed: 1, held: [], kept: [] };
      },
      sdNotify: (socket: string | undefined, state: string) => {
        fake.notified.push(state);
        return socket ? 1 : 0;
      },
      netdevOffloads: () => ({ gro: false, lro: false }),
      peerCredentials: () => ({ pid: process.pid, uid: fake.peerUid ?? process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }),
    } satisfies NativeModule;
  }
}

export class FakeSignals extends EventEmitter {}
