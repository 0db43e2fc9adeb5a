/**
 * Several vNICs on one parent, from a config file's [[vnic]] tables: one
 * daemon and one packet socket on fw's eth0 serve three vNICs (two in fw,
 * one inside a container namespace), each with its own MAC and DHCP lease;
 * frames between two of them never cross the wire.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_IP } from '../../tools/lab/lab';
import { attachedLines } from '../../tools/lab/vethd';
import { Capture, linkExists, promiscuity, skipLab, VethdProcess } from './tools';

/** Whether line is one JSON object. */
function isJson(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

const MACS = ['02:00:c0:00:02:51', '02:00:c0:00:02:52', '02:00:c0:00:02:53'];

describe.skipIf(skipLab)('several vNICs on one parent ([[vnic]] tables)', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.create('multi', { container: true });
    await lab.startDhcpServer();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test('three vNICs, three leases; vNIC-to-vNIC frames are switched directly; all gone afterwards', async () => {
    const conf = lab.file(
      'multi.toml',
      [
        'eth = "eth0"',
        'membership = "unicast"',
        '[[vnic]]',
        'veth = "veth1"',
        `mac = "${MACS[0]}"`,
        '[[vnic]]',
        'veth = "veth2"',
        `mac = "${MACS[1]}"`,
        '[[vnic]]',
        'veth = "eth0"',
        `netns = "${lab.ns('ctr')}"`,
        `mac = "${MACS[2]}"`,
        '',
      ].join('\n'),
    );
    const base = await promiscuity(lab, 'fw', 'eth0');
    const v = await VethdProcess.start(lab, ['-c', conf]);
    await waitFor('three Attached records', () => attachedLines(v.stdout()).length === 3);
    expect(attachedLines(v.stdout())).toEqual([
      `Attached veth1 into eth0 (${MACS[0]})`,
      `Attached veth2 into eth0 (${MACS[1]})`,
      `Attached eth0 into eth0 (${MACS[2]}) in network namespace /run/netns/${lab.ns('ctr')}`,
    ]);
    // One packet socket, the three MACs in the parent's unicast filter: veth has none (no
    // IFF_UNICAST_FLT), so the kernel counts one promiscuous user for the lot, not three.
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(base + 1);

    const ips = [await lab.dhclient('fw', 'veth1'), await lab.dhclient('fw', 'veth2'), await lab.dhclient('ctr', 'eth0')];
    expect(new Set(ips).size).toBe(3);
    MACS.forEach((mac, i) => expect(lab.leases()).toContain(`${mac} ${ips[i]}`));
    const ping = await lab.exec('ctr', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', PEER_IP]);
    expect(ping.stdout).toContain('2 received');

    // veth1 (fw) <-> eth0 (ctr): the switch never sends a frame back out of the port it came in
    // on, so vethd delivers them itself; the wire (the peer's switch port) sees none of the pings.
    const wire = await Capture.start(lab, 'sw', 'p-fw');
    const before = await v.stats();
    const direct = await lab.exec('fw', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', 'veth1', ips[2]]);
    expect(direct.stdout).toContain('3 received');
    const after = await v.stats();
    await wire.stop();
    expect(await wire.count(`icmp and host ${ips[2]}`)).toBe(0);
    const vnics = (s: typeof before) => s.vnics ?? [];
    expect(vnics(after)[2].receive.frames - vnics(before)[2].receive.frames).toBeGreaterThanOrEqual(3);
    expect(vnics(after)[0].receive.frames - vnics(before)[0].receive.frames).toBeGreaterThanOrEqual(3);

    expect(await v.stop()).toBe(0);
    // stdout is a pipe: JSON log lines only (the Attached lines are records), so `vethd | jq` reads it all.
    const out = v.stdout().trim().split('\n');
    expect(out.filter((l) => !isJson(l))).toEqual([]);
    // The last record sums the run up: the non-zero counters of each vNIC that moved a frame, no zeros.
    const last = JSON.parse(out[out.length - 1]) as { msg: string; counters: { vnics: { device: string; netns?: string; receive?: { frames: number } }[] } };
    expect(last.msg).toBe('stopped on SIGTERM');
    expect(last.counters.vnics.map((r) => r.device)).toEqual(['veth1', 'veth2', 'eth0']);
    expect(last.counters.vnics[2]).toMatchObject({ netns: `/run/netns/${lab.ns('ctr')}`, receive: { frames: expect.any(Number) } });
    expect(out[out.length - 1]).not.toMatch(/":0[,}]/);
    for (const [host, name] of [['fw', 'veth1'], ['fw', 'veth2'], ['ctr', 'eth0']] as const) {
      await waitFor(`${host}/${name} to go`, async () => !(await linkExists(lab, host, name)));
    }
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(base);
  });
});
