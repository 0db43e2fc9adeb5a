/**
 * Prometheus metrics (prom-client), named like node_exporter's netdev
 * collector from the virtual NIC's point of view: receive = parent -> vNIC,
 * transmit = vNIC -> parent. Every value is read from the native counters at
 * scrape time, once per scrape (scrapeReader); nothing is copied on a timer.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DropReason, RelayInfo, RelayStats, VnicInfo, VnicStats } from '../native/native';

export const METRIC_PREFIX = 'vethd_';

/** Every metric vethd exports (besides process_* and nodejs_* from collectDefaultMetrics). */
export const METRIC_NAMES = {
  receivePackets: `${METRIC_PREFIX}receive_packets_total`,
  receiveBytes: `${METRIC_PREFIX}receive_bytes_total`,
  receiveDrop: `${METRIC_PREFIX}receive_drop_total`,
  transmitPackets: `${METRIC_PREFIX}transmit_packets_total`,
  transmitBytes: `${METRIC_PREFIX}transmit_bytes_total`,
  transmitDrop: `${METRIC_PREFIX}transmit_drop_total`,
  macConflicts: `${METRIC_PREFIX}mac_conflicts_total`,
  announcements: `${METRIC_PREFIX}announcements_total`,
  parentUp: `${METRIC_PREFIX}parent_up`,
  vnicRetired: `${METRIC_PREFIX}vnic_retired`,
  info: `${METRIC_PREFIX}info`,
} as const;

const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** What the metrics read, at scrape time. */
export interface MetricsSource {
  stats(): RelayStats;
  info(): RelayInfo;
  /** Operational state of the parent: true up, false down, undefined unknown. */
  parentUp(): boolean | undefined;
  version: string;
  dropReasons: readonly DropReason[];
  /** Gratuitous ARP (ipv4) and unsolicited NA (ipv6) frames sent for vNIC index's addresses. */
  announcements?: (index: number) => { ipv4: number; ipv6: number };
  /** Per vNIC: retired by the relay (its TAP deleted or broken from outside). */
  retired?: () => boolean[];
}

/** One vNIC's series: its device label, identity and counters. */
interface Row {
  index: number;
  vnic: VnicInfo;
  stats: VnicStats;
}

/** What one scrape exports: the source read once, so every series of a scrape is from the same moment. */
interface Scrape {
  parent: string;
  /** A row per vNIC, device = its name. */
  rows: Row[];
  /** The receive drops that concern no vNIC (another station's unicast, socket overruns), device = the parent. */
  unrouted: RelayStats['unrouted'];
  parentUp: boolean | undefined;
  retired: boolean[];
}

/**
 * The source read once per scrape: prom-client runs every metric's collect()
 * synchronously within one registry.metrics() call, so the first collect()
 * reads the relay and the others reuse that reading until the call's
 * synchronous part ends (a microtask drops it). The counters are therefore
 * one moment's, and a scrape costs one info(), stats() and retired() call.
 */
function scrapeReader(src: MetricsSource): () => Scrape {
  let current: Scrape | undefined;
  return () => {
    if (current) return current;
    const info = src.info();
    const stats = src.stats();
    current = {
      parent: info.parent,
      rows: info.vnics.map((vnic, index) => ({ index, vnic, stats: stats.vnics[index] })),
      unrouted: stats.unrouted,
      parentUp: src.parentUp(),
      retired: src.retired?.() ?? [],
    };
    queueMicrotask(() => (current = undefined));
    return current;
  };
}

/** A registry with vethd's metrics and the process/runtime defaults. */
export function createMetrics(src: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client exports these gauges with a _total suffix, which promtool (rightly) flags.
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  const scrape = scrapeReader(src);

  const total = (name: string, help: string, value: (s: VnicStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['device'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of scrape().rows) this.inc({ device: r.vnic.tap }, value(r.stats));
      },
    });
  const drops = (name: string, help: string, dir: 'receive' | 'transmit') =>
    new Counter({
      name,
      help,
      labelNames: ['device', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        const { rows, parent, unrouted } = scrape();
        for (const r of rows) for (const reason of src.dropReasons) this.inc({ device: r.vnic.tap, reason }, r.stats[dir].drops[reason]);
        if (dir === 'receive') for (const reason of src.dropReasons) this.inc({ device: parent, reason }, unrouted.drops[reason]);
      },
    });

  total(METRIC_NAMES.receivePackets, 'Frames relayed to the virtual NIC, from the parent or another virtual NIC on it.', (s) => s.receive.frames);
  total(METRIC_NAMES.receiveBytes, 'Bytes relayed to the virtual NIC, Ethernet header and VLAN tag included.', (s) => s.receive.bytes);
  drops(METRIC_NAMES.receiveDrop, 'Frames from the parent not relayed to the virtual NIC, by reason; device="<parent>" counts those for no virtual NIC (another station\'s unicast, socket overruns).', 'receive');
  total(METRIC_NAMES.transmitPackets, 'Frames relayed from the virtual NIC to the parent or another virtual NIC on it.', (s) => s.transmit.frames);
  total(METRIC_NAMES.transmitBytes, 'Bytes relayed from the virtual NIC, Ethernet header included.', (s) => s.transmit.bytes);
  drops(METRIC_NAMES.transmitDrop, 'Frames from the virtual NIC not relayed, by reason.', 'transmit');
  total(METRIC_NAMES.macConflicts, 'Frames from the wire whose source is the virtual NIC\'s MAC: another station uses it.', (s) => s.receive.drops.mac_conflict);

  new Counter({
    name: METRIC_NAMES.announcements,
    help: "Announcements of the virtual NIC's addresses sent on the parent: gratuitous ARP (ipv4), unsolicited neighbour advertisements (ipv6).",
    labelNames: ['device', 'family'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of scrape().rows) {
        const sent = src.announcements?.(r.index) ?? { ipv4: 0, ipv6: 0 };
        for (const family of ['ipv4', 'ipv6'] as const) this.inc({ device: r.vnic.tap, family }, sent[family]);
      }
    },
  });
  new Gauge({
    name: METRIC_NAMES.parentUp,
    help: 'Operational state of the parent NIC (1 up, 0 down or gone).',
    labelNames: ['device', 'parent'],
    registers: [registry],
    collect() {
      this.reset();
      const { rows, parent, parentUp } = scrape();
      for (const r of rows) this.set({ device: r.vnic.tap, parent }, parentUp ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.vnicRetired,
    help: 'The virtual NIC was retired: its TAP was deleted or broken from outside, and no frame is relayed for it (1), or it serves (0).',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      this.reset();
      const { rows, retired } = scrape();
      for (const r of rows) this.set({ device: r.vnic.tap }, retired[r.index] ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.info,
    help: 'The virtual NIC: name, parent, MAC, vethd version (value 1).',
    labelNames: ['device', 'parent', 'address', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      const { rows, parent } = scrape();
      for (const r of rows) this.set({ device: r.vnic.tap, parent, address: r.vnic.mac, version: src.version }, 1);
    },
  });
  return registry;
}
