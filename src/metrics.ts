/**
 * Prometheus metrics (prom-client), named like node_exporter's netdev
 * collector from the virtual NIC's point of view: receive = parent -> vNIC,
 * transmit = vNIC -> parent. Every value is read from the native counters at
 * scrape time, in collect(); nothing is copied on a timer.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DropReason, RelayInfo, RelayStats, VnicInfo, VnicStats } from './native';

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

/**
 * A row per vNIC, device = its name, with its own counters, however many
 * vNICs there are; the drops that concern no vNIC (another station's unicast,
 * socket overruns) are exported on their own, device = the parent.
 */
function rows(src: MetricsSource): Row[] {
  const stats = src.stats();
  return src.info().vnics.map((vnic, index) => ({ index, vnic, stats: stats.vnics[index] }));
}

/** A registry with vethd's metrics and the process/runtime defaults. */
export function createMetrics(src: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client exports these gauges with a _total suffix, which promtool (rightly) flags.
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);

  const total = (name: string, help: string, value: (s: VnicStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['device'],
      registers: [registry],
      collect() {
        this.reset();
        for (const r of rows(src)) this.inc({ device: r.vnic.tap }, value(r.stats));
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
        for (const r of rows(src)) for (const reason of src.dropReasons) this.inc({ device: r.vnic.tap, reason }, r.stats[dir].drops[reason]);
        if (dir === 'receive') {
          const unrouted = src.stats().unrouted;
          for (const reason of src.dropReasons) this.inc({ device: src.info().parent, reason }, unrouted.drops[reason]);
        }
      },
    });

  total(METRIC_NAMES.receivePackets, 'Frames relayed to the virtual NIC, from the parent or another virtual NIC on it.', (s) => s.receive.frames);
  total(METRIC_NAMES.receiveBytes, 'Bytes relayed to the virtual NIC, Ethernet header and VLAN tag included.', (s) => s.receive.bytes);
  drops(METRIC_NAMES.receiveDrop, 'Frames from the parent not relayed to the virtual NIC, by reason; device="<parent>" counts those for none of them.', 'receive');
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
      for (const r of rows(src)) {
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
      const parent = src.info().parent;
      for (const r of rows(src)) this.set({ device: r.vnic.tap, parent }, src.parentUp() ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.vnicRetired,
    help: 'The virtual NIC was retired: its TAP was deleted or broken from outside, and no frame is relayed for it (1), or it serves (0).',
    labelNames: ['device'],
    registers: [registry],
    collect() {
      this.reset();
      const retired = src.retired?.() ?? [];
      for (const r of rows(src)) this.set({ device: r.vnic.tap }, retired[r.index] ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.info,
    help: 'The virtual NIC: name, parent, MAC, vethd version (value 1).',
    labelNames: ['device', 'parent', 'address', 'version'],
    registers: [registry],
    collect() {
      this.reset();
      const parent = src.info().parent;
      for (const r of rows(src)) this.set({ device: r.vnic.tap, parent, address: r.vnic.mac, version: src.version }, 1);
    },
  });
  return registry;
}
