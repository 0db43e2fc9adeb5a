/**
 * The daemon's lifecycle: build the relay (its vNICs still down), listen for
 * a station already using a vNIC's MAC, bring the vNICs up, say so, watch the
 * relay threads and MAC conflicts, stop cleanly on SIGINT/SIGTERM. Everything it
 * touches is passed in, so tests drive it with a fake native module and a
 * fake signal source.
 */
import type { EventEmitter } from 'node:events';
import { ANNOUNCE_RATE, Announcer, VnicAddresses, type AnnouncePolicy } from './announce';
import { CAP, capsDroppedLine } from '../host/caps';
import { ConflictWatch, MacConflictError } from './collision';
import { holdCpuLatency, type CpuLatencyHold } from '../host/cpulatency';
import { serveControl, type ControlHandlers, type ControlServer } from './control';
import { codedError, quote } from '../errors';
import { serveMetrics, type ListenAddress, type MetricsServer } from '../obs/http';
import type { Logger, LogLevel } from '../obs/log';
import { createMetrics } from '../obs/metrics';
import { statsSummary } from '../obs/summary';
import { ParentWatch, type ParentChange } from './parentwatch';
import { statusReply } from './status';
import { sysfsIfindex, sysfsOperUp } from '../host/sysfs';
import { createNotifier } from './systemd';
import { VERSION } from '../version';
import { loadNative, type LinkEvent, type LinkMonitor, type FollowCpu, type Membership, type NativeModule, type Relay, type RelayStats, type VnicInfo, type VnicStats, type DirectionStats } from '../native/native';
import { resolveRelayOptions, resolveVnicOptions, type RelaySettings } from '../native/options';

export type OnConflict = 'warn' | 'exit';

/** What SIGHUP's reload gives the running daemon. */
export interface ReloadResult {
  logLevel: LogLevel;
  onConflict: OnConflict;
  /** For every vNIC, or per vNIC by name (an [[vnic]] table may set its own). */
  antiSpoofing: boolean | Record<string, boolean>;
  /** Settings (option names) that changed in the file but only apply at the next start. */
  restartNeeded: string[];
  /** [[vnic]] tables gone, new or changed since the running ones: applied live, removals first (a changed one is removed and added again). */
  vnics?: VnicChanges;
}

/** What a reload changes in the vNIC set, and how the daemon reports each change it made. */
export interface VnicChanges {
  /** vNICs (names) whose table is gone. */
  remove: string[];
  /** New tables, and changed ones (changed: its vNIC is removed first): plan(running) gives the vNIC, checked beside the running ones (throws a coded Error). */
  add: { name: string; changed: boolean; plan: (running: readonly VnicInfo[]) => VnicSpec }[];
  /** Called for each change made: the vNIC named is now running as its table says (true) or gone (false). */
  applied: (name: string, running: boolean) => void;
}

/** Relay modes, passed to it as they are (see RelayOptions for meanings, RELAY_DEFAULTS for defaults). */
type HotPathOptions = Pick<RelaySettings, 'rxRing' | 'kernelFilter' | 'txBatch' | 'qdiscBypass' | 'rxCoalesceUs' | 'queues' | 'fanout' | 'followCpu' | 'hostPath' | 'hostPathMark'>;

/** One vNIC to run (see VnicOptions for the meanings). */
export interface VnicSpec {
  /** vNIC (TAP) name. */
  tap: string;
  /** The control socket's handle for it (a CNI plugin's: container and interface), unique in the daemon; default: tap. */
  id?: string;
  /** Its MAC, 6 bytes; undefined keeps the kernel's choice. */
  mac?: Buffer;
  /** Namespace file to create it in (--netns); undefined: this namespace. */
  netns?: string;
  /** VLAN ID it is an access port of (--vlan). */
  vlan?: number;
  /** Set its arp_ignore/arp_announce (default true). */
  arpSysctls?: boolean;
  /** Drop its frames that claim another station's identity (default true; VnicOptions.antiSpoofing). */
  antiSpoofing?: boolean;
  /** The reserved 802.1 groups it may send to, a 16-bit mask (VnicOptions.linkLocalPass; default EAPOL and LLDP). */
  linkLocalPass?: number;
  /** Drop its router advertisements and redirects (default false). */
  raGuard?: boolean;
  /** Drop its DHCP server and relay messages (default false). */
  dhcpGuard?: boolean;
  /** Gratuitous ARP / unsolicited NA for its addresses (default: 2, 2000 ms apart; count 0: off). */
  announce?: AnnouncePolicy;
}

export interface DaemonOptions extends HotPathOptions {
  /** The vNICs, 1 to 64, all on the one parent; none with empty (up to 64 come with adds). */
  vnics: VnicSpec[];
  /**
   * Start with no vNIC and wait for the control socket's adds (the CNI
   * plugin's daemon): it stays up when its last vNIC goes. Needs liveVnics
   * and a control socket.
   */
  empty?: boolean;
  /** Parent NIC name. */
  parent: string;
  membership: Membership;
  /** Pass virtio_net_hdr through (default true); false relays plain frames with checksums completed in C. */
  vnetHdr?: boolean;
  /** How long to listen on the parent for our MAC as a source before bringing the vNIC up, ms (0: skip). */
  probeWindowMs?: number;
  /** A conflict seen while running: log a warning once per burst, or end the daemon (exit 1). */
  onConflict?: OnConflict;
  /** Where /metrics and /healthz listen; undefined: no endpoint. */
  metricsListen?: ListenAddress;
  /** Hold a PM QoS CPU wake-up latency request of this many µs while running (see cpulatency.ts); undefined: none. */
  cpuLatencyUs?: number;
  /**
   * The control socket (control.ts): its path, and whether it was asked for
   * (explicit: failing to make it fails the start) or is the default (a
   * warning, and no socket); undefined: none.
   */
  controlSocket?: { path: string; explicit: boolean };
  /**
   * Keep CAP_NET_ADMIN (and CAP_SYS_ADMIN and CAP_BPF, when held) on the JS
   * thread after set-up, so the control socket can add vNICs; otherwise every capability
   * goes, and an add is refused (a remove needs none).
   */
  liveVnics?: boolean;
}

export interface DaemonDeps {
  log: Logger;
  /**
   * Where the one "Attached" line per vNIC goes, for a person (stdout);
   * undefined: it is logged instead, as an info record with the same text
   * (when stdout carries JSON log lines, it carries nothing else).
   */
  out?: (line: string) => void;
  native?: NativeModule;
  /** Emits 'SIGINT' / 'SIGTERM' (stop) and 'SIGUSR1' (log the counters); default: process. */
  signals?: Pick<EventEmitter, 'on' | 'off'>;
  /** How often the relay threads' health and the conflict counter are checked, ms (default 250). */
  healthIntervalMs?: number;
  /** Clock for conflict bursts (default Date.now). */
  now?: () => number;
  /** Environment for sd_notify ($NOTIFY_SOCKET, $WATCHDOG_USEC); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The parent's operational state at start and after lost link events (default: sysfs operstate). */
  parentUp?: (parent: string) => boolean | undefined;
  /** SIGHUP: re-read the configuration (throws its error: the old settings stay); undefined: nothing to re-read. */
  reload?: () => ReloadResult;
  /** SIGHUP: reopen log files (logrotate). */
  reopenLog?: () => void;
  /** The ifindex a name has now, undefined when there is no such device (default: sysfs), after lost link events. */
  ifindexOf?: (name: string) => number | undefined;
  /** The PM QoS device for cpuLatencyUs (default /dev/cpu_dma_latency). */
  cpuLatencyDevice?: string;
  /**
   * The vNIC a control socket's add asks for (json: one [[vnic]] table),
   * beside the running ones; throws a coded Error (the client's reply).
   * undefined: the socket takes no add.
   */
  planVnic?: (json: unknown, running: readonly VnicInfo[]) => VnicSpec;
}

/**
 * How the daemon ended: 0 on a signal; 1 when a relay thread failed, a
 * conflict was fatal, or every vNIC was retired (a vNIC deleted or broken
 * from outside is retired alone while another one still serves).
 */
export interface DaemonExit {
  code: number;
  reason: string;
  stats: RelayStats;
  error?: Error;
}

/** A direction with every counter 0, shaped like d. */
function emptyDirection(d: DirectionStats): DirectionStats {
  return { frames: 0, bytes: 0, drops: Object.fromEntries(Object.keys(d.drops).map((k) => [k, 0])) as DirectionStats['drops'] };
}

/** RFC 5227's ANNOUNCE_NUM and ANNOUNCE_INTERVAL. */
export const DEFAULT_ANNOUNCE: AnnouncePolicy = { count: 2, intervalMs: 2000 };

const fmtHost = (h: string) => (h.includes(':') ? `[${h}]` : h);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One running vNIC: what it is, and what watches it. */
interface VnicRun {
  /** Its slot in the relay (VnicInfo.slot). */
  index: number;
  /** The control socket's handle for it (VnicSpec.id; its name by default). */
  id: string;
  info: VnicInfo;
  /** Bound to {device, parent}. */
  log: Logger;
  announcer: Announcer;
  /** Its link and address events, in its namespace; undefined when announcing is off. */
  monitor?: LinkMonitor;
  /** Its MAC conflict counter's bursts, from the moment it came up. */
  conflict?: ConflictWatch;
  /** The error that retired it (its TAP deleted or broken from outside), once the daemon saw it. */
  retired?: Error;
}

/**
 * Announce vNIC `index`'s addresses as it gains them or comes up: a
 * LinkMonitor with address events, opened in the vNIC's namespace before its
 * link comes up (none with policy.count 0). Throws the monitor's NativeError.
 */
function startAnnouncing(native: NativeModule, relay: Relay, index: number, info: VnicInfo, policy: AnnouncePolicy, log: Logger): Pick<VnicRun, 'announcer' | 'monitor'> {
  const { perSecond, burst } = ANNOUNCE_RATE;
  const onSkip = (address: string, skipped: number): void =>
    log.warn({ address, skipped, perSecond, burst }, `announcements over the rate (${perSecond} addresses a second, ${burst} at once): ${address} and those right after it are not announced (${skipped} skipped so far)`);
  const announcer = new Announcer(policy, (a) => relay.announce(a, index), (address, err) => log.warn({ err, address }, `could not announce ${address}`), { onSkip });
  if (policy.count === 0) return { announcer };
  const addrs = new VnicAddresses(info.tapIfindex);
  const onEvents = (events: LinkEvent[]): void =>
    events.forEach((ev) => {
      if (ev.type === 'deladdr' && ev.address) announcer.cancel(ev.address);
      for (const address of addrs.handle(ev)) {
        if (!announcer.announce(address)) continue; // over the rate: onSkip said so
        log.info({ address, count: policy.count, intervalMs: policy.intervalMs }, `announcing ${address} (${address.includes(':') ? 'unsolicited neighbour advertisement' : 'gratuitous ARP'})`);
      }
    });
  return { announcer, monitor: new native.LinkMonitor(onEvents, { addresses: true, netns: info.netns }) };
}

/** Stop watching vNIC v: its link and address events and its pending announcements. Idempotent. */
function unwatch(v: VnicRun): void {
  v.monitor?.close();
  v.monitor = undefined;
  v.announcer.close();
}

/** The counters of the vNIC in slot (stats.vnics lists the present ones by slot). */
export function vnicStats(stats: RelayStats, slot: number): VnicStats {
  const s = stats.vnics.find((v) => v.slot === slot);
  if (!s) throw new RangeError(`no vNIC in slot ${slot}`);
  return s;
}

/**
 * Listen for probeWindowMs with the vNICs down; throw MacConflictError when
 * frames with a vNIC's MAC as source came from the wire (the caller closes the relay).
 */
async function probeConflict(relay: Relay, opts: Pick<DaemonOptions, 'probeWindowMs' | 'parent'>, vnics: VnicRun[]): Promise<void> {
  const ms = opts.probeWindowMs ?? 0;
  if (ms <= 0) return;
  await sleep(ms);
  const stats = relay.stats();
  for (const v of vnics) {
    const seen = vnicStats(stats, v.index).receive.drops.mac_conflict;
    if (seen > 0) {
      throw new MacConflictError(`${v.info.tap}: MAC ${v.info.mac} is already used on ${opts.parent}: ${seen} frame(s) from it in ${ms} ms; choose another -m`);
    }
  }
}

/** What following its frames comes to when the kernel refused the filter that records the receiving CPU (RelayInfo.followCpuError), and the cure. */
function followHint(mode: FollowCpu, err: string): string {
  const what = mode === 'fanout' ? 'the relay threads follow their frames by queue only' : 'the relay thread does not follow its frames';
  return `${what}: the kernel refused the eBPF filter that records each frame's receiving CPU: ${err}; it needs CAP_BPF and the bpf() system call (under the systemd unit: the README's follow-cpu drop-in). A frame may wake the relay on an idle CPU meanwhile (higher ping RTT; --cpu-latency 0 is the other cure)`;
}

/** What running without the host path means (RelayInfo.hostPathError), and the cure. */
export function hostPathHint(err: string): string {
  const cure = /\((EPERM|EACCES)\)/.test(err)
    ? '; it needs CAP_BPF and the bpf() system call at start (under the systemd unit: the follow-cpu drop-in of docs/systemd.md lets both through)'
    : /\((EINVAL|EOPNOTSUPP|ENOTSUP)\)/.test(err)
      ? '; it needs tcx (Linux 6.6 or later)'
      : '';
  return `host path off: a vNIC's frames to this host's own address on the parent go to the wire and never reach it (as with macvlan): ${err}${cure}`;
}

/** The original vethd's line for one vNIC; one made in another namespace says so after it. */
function attachedLine(v: VnicInfo, parent: string): string {
  return `Attached ${v.tap} into ${parent} (${v.mac})${v.netns ? ` in network namespace ${v.netns}` : ''}`;
}

/**
 * Open the relay (throws the native set-up error, leaving nothing behind),
 * start it, probe for MAC conflicts, bring the vNICs up, print
 * `Attached <tap> into <parent> (<mac>)` for each (to deps.out, else in the
 * log), and resolve when it ends.
 * The relay is closed (TAPs deleted, membership dropped) before resolving.
 */
export async function runDaemon(opts: DaemonOptions, deps: DaemonDeps): Promise<DaemonExit> {
  const native = deps.native ?? loadNative();
  const signals = deps.signals ?? process;
  const now = deps.now ?? Date.now;
  const parentUp = deps.parentUp ?? sysfsOperUp;
  // Listen for link events before the socket is bound, so a parent that vanishes in between is not missed.
  const early: LinkEvent[] = [];
  let onLinkEvents: (events: LinkEvent[]) => void = (events) => early.push(...events);
  let monitorError = ''; // the read error the link monitor last reported, '' once it reads again: logged once per spell
  const monitor = new native.LinkMonitor((events) => {
    for (const ev of events) {
      const text = ev.error?.message ?? '';
      if (text && text !== monitorError) deps.log.warn({ err: ev.error }, `link monitor: ${text}; the parent's state is read again each second until the monitor reads again`);
      monitorError = text;
    }
    onLinkEvents(events);
  });
  let relay: Relay;
  try {
    relay = new native.Relay(resolveRelayOptions(opts)); // the relay's own keys; the daemon's (probeWindowMs, announce...) are left out
  } catch (err) {
    monitor.close();
    throw err;
  }
  let running = false;
  let server: MetricsServer | undefined;
  let control: ControlServer | undefined;
  const info = relay.info();
  const runs: VnicRun[] = [];
  let latency: CpuLatencyHold | undefined;
  const closeAll = (): void => {
    latency?.release();
    monitor.close();
    runs.forEach((v) => v.monitor?.close());
    relay.close();
  };
  try {
    info.vnics.forEach((vinfo, index) => {
      const log = deps.log.child({ device: vinfo.tap, parent: info.parent });
      runs.push({ index, id: opts.vnics[index]?.id ?? vinfo.tap, info: vinfo, log, ...startAnnouncing(native, relay, index, vinfo, opts.vnics[index]?.announce ?? DEFAULT_ANNOUNCE, log) });
    });
  } catch (err) {
    closeAll();
    throw err;
  }
  const log = runs.length === 1 ? runs[0].log : deps.log.child({ parent: info.parent });
  let lastRetired: Error | undefined;
  // One change at a time (an add waits out its probe window): each runs after the one before settled.
  let changing: Promise<unknown> = Promise.resolve();
  const serially = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = changing.then(fn);
    changing = p.catch(() => undefined);
    return p;
  };
  const notLive = (what: string) => codedError('vethd.control-not-live', `${what}: this vethd gave up its capabilities after set-up and cannot build a vNIC: start it with --live-vnics`);
  /** A control socket's add: build the vNIC, probe for its MAC on the wire, bring it up, watch it; refused with nothing left. */
  const addVnic = async (json: unknown): Promise<unknown> => {
    if (!opts.liveVnics || !deps.planVnic) throw notLive('add');
    const run = await addSpec(deps.planVnic(json, runs.map((v) => v.info)), 'added through the control socket');
    return statusReply(relay.info(), relay.stats(), vnicStates(), watch.up, VERSION).vnics.find((v) => v.id === run.id);
  };
  /** Build, probe, bring up and watch the vNIC spec; its Attached line says how it came (how). */
  const addSpec = async (spec: VnicSpec, how: string): Promise<VnicRun> => {
    const id = spec.id ?? spec.tap;
    const holder = runs.find((v) => v.id === id);
    if (holder) throw codedError('vethd.same-interface', `add: id ${quote(id)} is already vNIC ${holder.info.tap}${holder.info.netns ? ` in ${holder.info.netns}` : ''}`);
    const slot = relay.addVnic(resolveVnicOptions(spec));
    let run: VnicRun | undefined;
    try {
      const vinfo = relay.info().vnics.find((v) => v.slot === slot);
      if (!vinfo) throw new Error(`${spec.tap}: the relay lists no vNIC in slot ${slot}`);
      const vlog = deps.log.child({ device: vinfo.tap, parent: info.parent });
      run = { index: slot, id, info: vinfo, log: vlog, ...startAnnouncing(native, relay, slot, vinfo, spec.announce ?? DEFAULT_ANNOUNCE, vlog) };
      await probeConflict(relay, opts, [run]);
      relay.up(slot);
    } catch (err) {
      if (run) unwatch(run);
      relay.removeVnic(slot);
      throw err;
    }
    run.conflict = new ConflictWatch(vnicStats(relay.stats(), slot).receive.drops.mac_conflict);
    runs.push(run);
    runs.sort((a, b) => a.index - b.index); // as the relay lists them: by slot
    if (!run.info.netns) watch.addVnic(run.info.tapIfindex);
    run.log.info({ mac: run.info.mac, netns: run.info.netns, vlan: run.info.vlan, slot }, `${attachedLine(run.info, info.parent)} (${how})`);
    return run;
  };
  /** A control socket's remove: the vNIC out of the relay, its TAP deleted; its last counters. */
  const removeVnic = async (name: string): Promise<unknown> => removeNamed(name, false, 'through the control socket');
  /** Remove the vNIC named; lastToo: even the last one (a reload that adds others after). */
  const removeNamed = (name: string, lastToo: boolean, how: string) => {
    // By id first (a CNI plugin's handle), else by a name only one vNIC has (containers' are all eth0).
    const named = runs.filter((v) => v.info.tap === name);
    const run = runs.find((v) => v.id === name) ?? (named.length === 1 ? named[0] : undefined);
    if (named.length > 1 && !run) throw codedError('vethd.control-not-found', `remove: ${named.length} vNICs are named ${quote(name)} (in ${named.map((v) => v.info.netns ?? 'this namespace').join(', ')}): remove one by its id (${named.map((v) => v.id).join(', ')})`);
    if (!run) throw codedError('vethd.control-not-found', `remove: no vNIC named ${quote(name)} on ${info.parent} (it has ${runs.map((v) => v.info.tap).join(', ') || 'none'})`);
    if (runs.length === 1 && !lastToo && !opts.empty) throw codedError('vethd.control-last-vnic', `remove: ${name} is the last vNIC of this vethd: stop vethd instead`);
    const counters = relay.removeVnic(run.index); // throws leaving it listed and watched (ETIMEDOUT: calling again finishes)
    unwatch(run);
    runs.splice(runs.indexOf(run), 1);
    if (!run.info.netns) watch.removeVnic(run.info.tapIfindex);
    run.log.info({ counters: statsSummary({ receive: counters.receive, transmit: counters.transmit, vnics: [{ ...counters, slot: run.index }], unrouted: emptyDirection(counters.receive) }, [run.info]) }, `vNIC ${name} removed ${how}: its TAP is deleted`);
    return { name: run.info.tap, id: run.id, mac: run.info.mac, receive: counters.receive, transmit: counters.transmit };
  };
  const vnicStates = () => runs.map((v) => ({ id: v.id, info: v.info, index: v.index, retired: v.retired, conflictOngoing: v.conflict?.ongoing(now()) ?? false }));
  // A vNIC in another namespace has an ifindex from that namespace's numbering: its events never come here.
  const watch = new ParentWatch(info.parent, info.parentIfindex, parentUp(info.parent), runs.filter((v) => !v.info.netns).map((v) => v.info.tapIfindex));
  try {
    // Opened before the capabilities go: the device is root's.
    if (opts.cpuLatencyUs !== undefined) latency = holdCpuLatency(opts.cpuLatencyUs, deps.cpuLatencyDevice);
    relay.start();
    await probeConflict(relay, opts, runs);
    relay.up();
    running = true;
    if (opts.metricsListen) {
      const registry = createMetrics({
        stats: () => relay.stats(),
        info: () => relay.info(),
        parentUp: () => watch.up,
        version: VERSION,
        dropReasons: native.dropReasons,
        announcements: (index) => runs[index]?.announcer.sent ?? { ipv4: 0, ipv6: 0 },
        retired: () => relay.status().retired.map((err) => err !== null),
      });
      server = await serveMetrics(registry, opts.metricsListen, () => running);
    }
    if (opts.controlSocket) {
      control = await openControl(opts.controlSocket, native, log, {
        status: () => statusReply(relay.info(), relay.stats(), vnicStates(), watch.up, VERSION),
        add: (json) => serially(() => addVnic(json)),
        remove: (name) => serially(() => removeVnic(name)),
      });
    }
  } catch (err) {
    await server?.close();
    closeAll();
    throw err;
  }
  // Set-up is over: nothing from here on needs a capability (native/caps.h says why).
  // A daemon that takes adds keeps, on its JS thread only, what building a TAP needs (and entering a namespace, and
  // reloading the eBPF filter that records each frame's CPU with the new MAC, when it was given those).
  const caps = native.dropCapabilities(control && opts.liveVnics ? [CAP.CAP_NET_ADMIN, CAP.CAP_SYS_ADMIN, CAP.CAP_BPF] : []);
  if (caps.error) log.warn({ err: caps.error }, 'could not drop capabilities');
  else log[caps.holding ? 'warn' : 'info']({ threads: caps.threads, holding: caps.holding, held: caps.held, kept: caps.kept }, capsDroppedLine(caps));
  const notifier = createNotifier(native.sdNotify, deps.env ?? process.env, (err) => log.warn({ err }, 'sd_notify failed'));
  for (const v of runs) {
    if (deps.out) deps.out(attachedLine(v.info, info.parent));
    else v.log.info({ mac: v.info.mac, netns: v.info.netns }, attachedLine(v.info, info.parent));
    v.log.info(
      { mac: v.info.mac, mtu: info.mtu, vnetHdr: info.vnetHdr, membership: info.membership, ifindex: v.info.tapIfindex, netns: v.info.netns, vlan: v.info.vlan },
      `relay running (${info.vnetHdr ? 'virtio_net_hdr passthrough' : 'plain frames, checksums completed in software'}, ${info.membership} membership${v.info.vlan ? `, access port of VLAN ${v.info.vlan}` : ''})`,
    );
  }
  log.info(
    { rxRing: info.rxRing, kernelFilter: info.kernelFilter, txBatch: info.txBatch, qdiscBypass: info.qdiscBypass, rxCoalesceUs: info.rxCoalesceUs, queues: info.queues, fanout: info.fanout, followCpu: info.followCpu, hostPath: info.hostPath, hostPathMark: `0x${info.hostPathMark.toString(16)}`, vnetHdr: info.vnetHdr, vnics: runs.length },
    'relay mode',
  );
  if (info.followCpuError) log.info({ followCpuError: info.followCpuError }, followHint(info.followCpu, info.followCpuError));
  if (info.hostPathError) log.info({ hostPathError: info.hostPathError }, hostPathHint(info.hostPathError));
  if (latency) log.info({ cpuLatencyUs: latency.us }, `holding a CPU wake-up latency request of ${latency.us} µs (PM QoS): idle CPUs stay out of deeper sleep states while vethd runs${latency.us === 0 ? ' (0: they poll, using CPU time while idle)' : ''}`);
  if (server) log.info({ url: `http://${fmtHost(server.address.host)}:${server.address.port}/metrics` }, 'metrics endpoint listening');
  if (control) log.info({ path: control.path }, `control socket listening on ${control.path} (vethd status)`);
  if (opts.empty) log.info(`serving ${info.parent} with no vNIC yet: vethd add builds them`);
  notifier.ready(opts.empty ? `Serving ${info.parent}, no vNIC yet` : runs.length === 1 ? attachedLine(runs[0].info, info.parent) : `Attached ${runs.map((v) => v.info.tap).join(', ')} into ${info.parent}`);

  const atReady = relay.status().macConflicts;
  runs.forEach((v, i) => (v.conflict = new ConflictWatch(atReady[i])));
  const retire = (v: VnicRun, err: Error): void => {
    v.retired = err;
    lastRetired = err;
    unwatch(v);
  };
  let onConflict = opts.onConflict ?? 'warn';
  let fatal: Error | undefined; // set by a parent change the relay cannot follow; the health tick ends the daemon
  const onChange = (change: ParentChange): void => {
    const fail = (err: Error): void => void (fatal ??= err);
    const ctx: ChangeContext = { relay, watch, log, vnics: runs, mtu: info.mtu, queues: info.queues, hostPath: info.hostPath, parentUp, ifindexOf: deps.ifindexOf ?? sysfsIfindex, fail };
    applyParentChange(change, ctx, onChange);
    info.hostPath = ctx.hostPath;
    info.parent = watch.name;
    info.parentIfindex = watch.ifindex;
  };
  onLinkEvents = (events) =>
    events.forEach((ev) => {
      watch.handle(ev).forEach(onChange);
      if (ev.type === 'new' && ev.ifindex === watch.ifindex && watch.present) followParentMac(relay, log);
    });
  onLinkEvents(early.splice(0));
  const exit = await new Promise<Omit<DaemonExit, 'stats'>>((resolve) => {
    const onSignal = (name: string) => () => finish({ code: 0, reason: name });
    const handlers = {
      SIGINT: onSignal('SIGINT'),
      SIGTERM: onSignal('SIGTERM'),
      SIGUSR1: () => {
        relay.collectOverruns();
        log.info({ stats: relay.stats() }, 'counters');
      },
      SIGHUP: () => onHangup(),
    };
    const onHangup = (): void => {
      try {
        deps.reopenLog?.();
      } catch (err) {
        log.error({ err }, 'SIGHUP: cannot reopen the log files: the ones open stay in use'); // never out of a signal handler: the relay runs on
      }
      if (!deps.reload) return log.info('SIGHUP: log files reopened (no config file to re-read)');
      let r: ReloadResult;
      try {
        r = deps.reload();
      } catch (err) {
        return log.error({ err }, 'SIGHUP: config not reloaded, the running settings stay');
      }
      deps.log.level = r.logLevel;
      for (const l of new Set([log, ...runs.map((v) => v.log)])) l.level = r.logLevel; // a child keeps the level it was made with
      onConflict = r.onConflict;
      if (typeof r.antiSpoofing === 'boolean') relay.setAntiSpoofing(r.antiSpoofing);
      else for (const v of runs) if (v.info.tap in r.antiSpoofing && !v.retired) relay.setAntiSpoofing(r.antiSpoofing[v.info.tap], v.index);
      log.info({ logLevel: r.logLevel, onConflict: r.onConflict, antiSpoofing: r.antiSpoofing }, 'SIGHUP: config reloaded, log files reopened');
      if (r.restartNeeded.length) log.warn({ settings: r.restartNeeded }, `SIGHUP: ${r.restartNeeded.join(', ')} changed: takes effect when vethd restarts`);
      if (r.vnics) void serially(() => applyVnicChanges(r.vnics as VnicChanges));
    };
    /** A reload's [[vnic]] changes, one by one: each failure logged alone (the others still apply, the running vNICs stay). */
    const applyVnicChanges = async (ch: VnicChanges): Promise<void> => {
      const removeOne = (name: string, lastToo: boolean): boolean => {
        try {
          removeNamed(name, lastToo, 'by SIGHUP (its [[vnic]] table is gone or changed)');
          return true;
        } catch (err) {
          log.error({ err }, `SIGHUP: vNIC ${name} not removed: ${(err as Error).message}`);
          return false;
        }
      };
      for (const name of ch.remove) if (removeOne(name, ch.add.length > 0)) ch.applied(name, false);
      for (const a of ch.add) {
        // Without --live-vnics a changed vNIC keeps running as it is: removing it could not be undone.
        if (!opts.liveVnics) {
          if (a.changed) log.warn(`SIGHUP: [[vnic]] ${a.name} changed: takes effect when vethd restarts (or at once with --live-vnics)`);
          else log.error(`SIGHUP: vNIC ${a.name} not added: this vethd gave up its capabilities after set-up: takes effect when vethd restarts (or at once with --live-vnics)`);
          continue;
        }
        if (a.changed && !removeOne(a.name, true)) continue;
        try {
          await addSpec(a.plan(runs.map((v) => v.info)), 'added by SIGHUP');
          ch.applied(a.name, true);
        } catch (err) {
          log.error({ err }, `SIGHUP: vNIC ${a.name} not added: ${(err as Error).message}`);
          if (a.changed) ch.applied(a.name, false);
        }
      }
    };
    const timer = setInterval(() => {
      relay.collectOverruns();
      const st = relay.status();
      if (st.rxError) return finish({ code: 1, reason: 'relay thread failed', error: st.rxError });
      // st's arrays follow info().vnics (by slot), as runs does.
      const gone = runs.flatMap((v, i) => (st.retired[i] && !v.retired ? [{ v, err: st.retired[i] as Error }] : []));
      gone.forEach(({ v, err }) => retire(v, err)); // all marked first: the count each line gives is true
      const serving = runs.filter((v) => !v.retired).length;
      gone.forEach(({ v, err }) => serving > 0 && v.log.warn({ err }, `vNIC ${v.info.tap} retired: ${err.message}; ${serving} other vNIC(s) keep running`));
      if (gone.length && serving === 0 && !opts.empty) return finish({ code: 1, reason: 'every vNIC gone', error: lastRetired });
      if (fatal) return finish({ code: 1, reason: 'parent re-created', error: fatal });
      for (const [i, v] of runs.entries()) {
        const seen = st.macConflicts[i];
        const event = v.conflict?.observe(seen, now());
        if (!event) continue;
        const text = `another station on ${info.parent} sends with our MAC ${v.info.mac} (${seen} frame(s) so far)`;
        if (onConflict === 'exit') return finish({ code: 1, reason: 'MAC conflict', error: new MacConflictError(`${v.info.tap}: ${text}`) });
        if (event === 'new-burst') v.log.warn({ mac: v.info.mac, frames: seen }, `MAC conflict: ${text}`);
      }
    }, deps.healthIntervalMs ?? 250);
    function finish(result: Omit<DaemonExit, 'stats'>): void {
      clearInterval(timer);
      for (const [name, fn] of Object.entries(handlers)) signals.off(name, fn);
      resolve(result);
    }
    for (const [name, fn] of Object.entries(handlers)) signals.on(name, fn);
  });
  running = false;
  monitor.close();
  runs.forEach(unwatch);
  notifier.stopping();
  notifier.close();
  await control?.close();
  await server?.close();
  relay.collectOverruns();
  const stats = relay.stats();
  relay.close();
  latency?.release();
  // The non-zero counters only: the full set is ~100 numbers, most of them 0 (SIGUSR1 logs them all).
  const counters = statsSummary(stats, runs.map((v) => v.info));
  if (exit.error) log.error({ err: exit.error, counters }, 'relay stopped');
  else log.info({ counters }, `stopped on ${exit.reason}`);
  return { ...exit, stats };
}

/**
 * Listen on the control socket. An explicit path that cannot be made throws
 * (set-up fails); the default one only warns (a user without /run/vethd runs
 * on without a socket). Peers: root and this process's own user.
 */
async function openControl(where: { path: string; explicit: boolean }, native: NativeModule, log: Logger, handlers: ControlHandlers): Promise<ControlServer | undefined> {
  const self = process.geteuid?.() ?? 0;
  try {
    return await serveControl(where.path, handlers, (fd) => native.peerCredentials(fd), (uid) => uid === 0 || uid === self, (err) => log.warn({ err }, 'control socket: a reply failed'));
  } catch (err) {
    if (where.explicit) throw err;
    log.warn({ err }, `no control socket: ${(err as Error).message} (vethd status will not reach this daemon; give --control-socket a path it may make)`);
    return undefined;
  }
}

/** A link event on the parent: its MAC read again for the host path, which follows a new one (logged). */
function followParentMac(relay: Relay, log: Logger): void {
  try {
    if (relay.refreshHostPath()) log.info("the parent's MAC changed: the host path takes the vNICs' frames to the new one to the host");
  } catch (err) {
    log.warn({ err }, `host path: ${(err as Error).message}`);
  }
}

interface ChangeContext {
  relay: Relay;
  watch: ParentWatch;
  log: Logger;
  /** The vNICs (for their names). */
  vnics: VnicRun[];
  /** The vNIC's MTU, bytes. */
  mtu: number;
  /** Queues in use: above 1 the packet sockets are fanout members, which cannot be bound again. */
  queues: number;
  /** The host path as it was before this change (RelayInfo.hostPath): a rebind that loses it says so once. */
  hostPath: 'on' | 'off';
  /** End the daemon with exit 1 (a service manager restarts it). */
  fail: (err: Error) => void;
  parentUp: (name: string) => boolean | undefined;
  ifindexOf: (name: string) => number | undefined;
}

/** Log one parent change and act on it: rebind when the parent is back; re-read the state after lost events. */
function applyParentChange(change: ParentChange, c: ChangeContext, again: (change: ParentChange) => void): void {
  const { log, watch } = c;
  switch (change.kind) {
    case 'down':
      return log.warn(`parent link ${watch.name} is down: frames to it are dropped (parent_down) until it is up`);
    case 'up':
      return log.info(`parent link ${watch.name} is up`);
    case 'renamed':
      return log.info({ from: change.from, to: change.to, ifindex: watch.ifindex }, `parent ${change.from} was renamed ${change.to}: the relay follows it`);
    case 'gone':
      return log.warn(`parent ${watch.name} was deleted or left this namespace: waiting for a device named ${watch.name} to rebind`);
    case 'vnic-left': {
      const tap = c.vnics.find((v) => v.info.tapIfindex === change.ifindex && !v.info.netns)?.info.tap ?? `ifindex ${change.ifindex}`;
      return log.info(`vNIC ${tap} left this network namespace (moved to a container, or being deleted)`);
    }
    case 'back':
      try {
        c.relay.rebind(change.name, change.ifindex);
      } catch (err) {
        if (c.queues > 1) return c.fail(err as Error); // a restart opens a new fanout group on the new device
        watch.present = false;
        return log.error({ err }, `parent ${change.name} is back (ifindex ${change.ifindex}) but cannot be used: still waiting`);
      }
      log.info({ ifindex: change.ifindex }, `parent ${change.name} is back (ifindex ${change.ifindex}): packet socket rebound`);
      {
        const now = c.relay.info(); // the host path follows the new device when it can (relay_rebind)
        if (now.hostPath === 'off' && c.hostPath === 'on' && now.hostPathError) log.warn({ hostPathError: now.hostPathError }, hostPathHint(now.hostPathError));
        if (now.hostPath === 'on' && c.hostPath === 'off') log.info(`host path on again, on ${change.name}`);
        c.hostPath = now.hostPath;
      }
      if (change.mtu > 0 && change.mtu !== c.mtu) log.warn(`parent ${change.name} now has MTU ${change.mtu}, the vNIC keeps ${c.mtu}`);
      return;
    case 'resync':
      log.warn('link events were lost (rtnetlink ENOBUFS): re-reading the parent state');
      return watch.resync(c.ifindexOf(watch.name), c.parentUp(watch.name)).forEach(again);
  }
}
