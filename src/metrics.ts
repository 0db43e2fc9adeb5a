/**
 * Prometheus metrics (prom-client), named like node_exporter's netdev
 * collector from the virtual NIC's point of view: receive = parent -> vNIC,
 * transmit = vNIC -> parent. Every value is read from the native counters at
 * scrape time, in collect(); nothing is copied on a timer.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { DropReason, RelayInfo, RelayStats } from './native';

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
  /** Gratuitous ARP (ipv4) and unsolicited NA (ipv6) frames sent for the vNIC's addresses. */
  announcements?: () => { ipv4: number; ipv6: number };
}

/** A registry with vethd's metrics and the process/runtime defaults. */
export function createMetrics(src: MetricsSource): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client exports these gauges with a _total suffix, which promtool (rightly) flags.
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  const device = () => src.info().tap;

  const total = (name: string, help: string, value: (s: RelayStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['device'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ device: device() }, value(src.stats()));
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
        const s = src.stats()[dir];
        for (const reason of src.dropReasons) this.inc({ device: device(), reason }, s.drops[reason]);
      },
    });

  total(METRIC_NAMES.receivePackets, 'Frames relayed from the parent to the virtual NIC.', (s) => s.receive.frames);
  total(METRIC_NAMES.receiveBytes, 'Bytes relayed from the parent to the virtual NIC, Ethernet header and VLAN tag included.', (s) => s.receive.bytes);
  drops(METRIC_NAMES.receiveDrop, 'Frames from the parent not relayed to the virtual NIC, by reason.', 'receive');
  total(METRIC_NAMES.transmitPackets, 'Frames relayed from the virtual NIC to the parent.', (s) => s.transmit.frames);
  total(METRIC_NAMES.transmitBytes, 'Bytes relayed from the virtual NIC to the parent, Ethernet header included.', (s) => s.transmit.bytes);
  drops(METRIC_NAMES.transmitDrop, 'Frames from the virtual NIC not relayed to the parent, by reason.', 'transmit');
  total(METRIC_NAMES.macConflicts, 'Frames from the wire whose source is the virtual NIC\'s MAC: another station uses it.', (s) => s.receive.drops.mac_conflict);

  new Counter({
    name: METRIC_NAMES.announcements,
    help: "Announcements of the virtual NIC's addresses sent on the parent: gratuitous ARP (ipv4), unsolicited neighbour advertisements (ipv6).",
    labelNames: ['device', 'family'],
    registers: [registry],
    collect() {
      this.reset();
      const sent = src.announcements?.() ?? { ipv4: 0, ipv6: 0 };
      for (const family of ['ipv4', 'ipv6'] as const) this.inc({ device: device(), family }, sent[family]);
    },
  });
  new Gauge({
    name: METRIC_NAMES.parentUp,
    help: 'Operational state of the parent NIC (1 up, 0 down or gone).',
    labelNames: ['device', 'parent'],
    registers: [registry],
    collect() {
      const info = src.info();
      this.set({ device: info.tap, parent: info.parent }, src.parentUp() ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.info,
    help: 'The virtual NIC: name, parent, MAC, vethd version (value 1).',
    labelNames: ['device', 'parent', 'address', 'version'],
    registers: [registry],
    collect() {
      const info = src.info();
      this.reset();
      this.set({ device: info.tap, parent: info.parent, address: info.mac, version: src.version }, 1);
    },
  });
  return registry;
}
