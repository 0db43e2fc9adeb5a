// The exported series for one vNIC and for several on one parent (a fake source, no sockets).
import { describe, expect, test } from 'vitest';
import { createMetrics, type MetricsSource } from '../../src/obs/metrics';
import type { RelayInfo, RelayStats } from '../../src/native/native';
import { DROP_REASONS, zeroStats } from '../fakes';

const MODES = { parentIfindex: 2, mtu: 1500, vnetHdr: true, membership: 'promisc', rxRing: 'tpacket_v2', kernelFilter: true, txBatch: 32, qdiscBypass: false, rxCoalesceUs: 50, queues: 1, followCpu: 'rx-cpu', hostPath: 'on', hostPathMark: 0x56440000 } as const;

function source(info: RelayInfo, stats: RelayStats): MetricsSource {
  return { stats: () => stats, info: () => info, parentUp: () => true, version: '0.0.0', dropReasons: [...DROP_REASONS], announcements: (i) => ({ ipv4: i + 1, ipv6: 0 }) };
}

describe('metrics', () => {
  test('several vNICs: a series per vNIC, and the drops for none of them under the parent', async () => {
    const vnics = [
      { slot: 0, tap: 'veth1', mac: '02:00:c0:00:02:51', tapIfindex: 7, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false },
      { slot: 1, tap: 'veth2', mac: '02:00:c0:00:02:52', tapIfindex: 8, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false },
    ];
    const one = zeroStats();
    const two = zeroStats();
    const unrouted = zeroStats().receive;
    one.receive.frames = 5;
    two.receive.frames = 7;
    two.transmit.drops.spoofed_source = 3;
    unrouted.drops.not_for_us = 9;
    const total = zeroStats();
    total.receive.frames = 12;
    const text = await createMetrics(source({ ...vnics[0], vnics, parent: 'eth0', ...MODES }, { ...total, vnics: [{ ...one, slot: 0 }, { ...two, slot: 1 }], unrouted })).metrics();
    expect(text).toContain('vethd_receive_packets_total{device="veth1"} 5');
    expect(text).toContain('vethd_receive_packets_total{device="veth2"} 7');
    expect(text).toContain('vethd_transmit_drop_total{device="veth2",reason="spoofed_source"} 3');
    expect(text).toContain('vethd_receive_drop_total{device="eth0",reason="not_for_us"} 9');
    expect(text).not.toContain('vethd_receive_packets_total{device="eth0"}');
    expect(text).toContain('vethd_info{device="veth2",parent="eth0",address="02:00:c0:00:02:52",version="0.0.0"} 1');
    expect(text).toContain('vethd_announcements_total{device="veth2",family="ipv4"} 2');
  });

  test('one vNIC: drops for no vNIC are under the parent, as with several, and the vNIC keeps its own', async () => {
    const vnic = { slot: 0, tap: 'veth1', mac: '02:00:c0:00:02:51', tapIfindex: 7, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false };
    const own = zeroStats();
    own.receive.drops.tap_down = 2;
    const unrouted = zeroStats().receive;
    unrouted.drops.not_for_us = 4;
    const total = zeroStats();
    total.receive.drops.not_for_us = 4;
    total.receive.drops.tap_down = 2;
    const text = await createMetrics(source({ ...vnic, vnics: [vnic], parent: 'eth0', ...MODES }, { ...total, vnics: [{ ...own, slot: 0 }], unrouted })).metrics();
    expect(text).toContain('vethd_receive_drop_total{device="eth0",reason="not_for_us"} 4');
    expect(text).toContain('vethd_receive_drop_total{device="veth1",reason="not_for_us"} 0');
    expect(text).toContain('vethd_receive_drop_total{device="veth1",reason="tap_down"} 2');
    expect(text).not.toContain('vethd_transmit_drop_total{device="eth0"');
  });

  test('a scrape reads the relay once: every series from one stats() call', async () => {
    const vnics = [
      { slot: 0, tap: 'veth1', mac: '02:00:c0:00:02:51', tapIfindex: 7, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false },
      { slot: 1, tap: 'veth2', mac: '02:00:c0:00:02:52', tapIfindex: 8, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false },
    ];
    let reads = 0;
    let retiredReads = 0;
    const src: MetricsSource = {
      ...source({ ...vnics[0], vnics, parent: 'eth0', ...MODES }, zeroStats()),
      stats: () => {
        reads++;
        const s = { ...zeroStats(), vnics: [{ ...zeroStats(), slot: 0 }, { ...zeroStats(), slot: 1 }], unrouted: zeroStats().receive };
        s.vnics[0].receive.frames = reads; // a counter that moves between reads
        return s;
      },
      retired: () => {
        retiredReads++;
        return [false, false];
      },
    };
    const registry = createMetrics(src);
    const first = await registry.metrics();
    expect(reads).toBe(1);
    expect(retiredReads).toBe(1);
    expect(first).toContain('vethd_receive_packets_total{device="veth1"} 1');
    const second = await registry.metrics();
    expect(reads).toBe(2);
    expect(second).toContain('vethd_receive_packets_total{device="veth1"} 2');
  });
});
