/**
 * The MAC control layer in the namespace lab: the persistent default survives
 * restarts (same MAC, same lease), and a MAC already in use is caught on this
 * host, on the wire before the vNIC comes up, and on the wire while running.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { FW_MAC, Lab } from '../../tools/lab/lab';
import { linkExists, sendFrames, skipLab, VethdProcess } from './tools';
import { execFile } from 'node:child_process';
import path from 'node:path';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd');

describe.skipIf(skipLab)('MAC policies and collisions in the namespace lab', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.create('mac');
    await lab.startDhcpServer();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  /** Run vethd to completion in fw (for runs that must fail). */
  function vethdOnce(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', lab.ns('fw'), process.execPath, BIN, ...args], { timeout: 20_000 }, (err, _out, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr: String(stderr) });
      });
    });
  }

  const attachedMac = (v: VethdProcess) => /\(([0-9a-f:]{17})\)/.exec(v.stdout())?.[1];

  test('default policy: a restart gives the same MAC, and dhclient the same lease', async () => {
    const first = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0']);
    const mac = attachedMac(first);
    expect(mac).toMatch(/^[0-9a-f][26ae]:/); // locally administered unicast
    const ip1 = await lab.dhclient('fw', 'veth1');
    expect(await first.stop()).toBe(0);
    await waitFor('veth1 to go', async () => !(await linkExists(lab, 'fw', 'veth1')));

    const second = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0']);
    expect(attachedMac(second)).toBe(mac);
    const ip2 = await lab.dhclient('fw', 'veth1');
    expect(ip2).toBe(ip1);
    expect(lab.leases().split('\n').filter((l) => l.includes(mac!))).toHaveLength(1);
    await second.stop();
  });

  test('a MAC an interface on this host has is refused before anything is created', async () => {
    const r = await vethdOnce(['-v', 'veth2', '-e', 'eth0', '-m', FW_MAC]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(`vethd: MAC ${FW_MAC} is already used by eth0 on this host; choose another -m`);
    expect(await linkExists(lab, 'fw', 'veth2')).toBe(false);
  });

  test('a station already sending with the MAC is caught in the probe window; the vNIC is never created for good', async () => {
    const mac = '02:00:c0:00:02:33';
    // The third station broadcasts with that source for a few seconds (50 frames, 100 ms apart);
    // a switch floods broadcasts, while its unicast would only reach its destination's port.
    const spec = lab.file('dup.cfg', `{ ${BROADCAST.split(':').map((o) => `0x${o}`).join(',')}, ${mac.split(':').map((o) => `0x${o}`).join(',')}, 0x88,0xb5, fill(0x41, 46) }\n`);
    const gen = lab.spawn('other', 'trafgen', ['--dev', 'eth0', '--conf', spec, '--num', '50', '--gap', '100ms', '--no-sock-mem', '--cpus', '1', '-q']);
    try {
      const r = await vethdOnce(['-v', 'veth2', '-e', 'eth0', '-m', mac, '--probe-window', '1000']);
      expect(r.code).toBe(3);
      expect(r.stderr.trim()).toMatch(new RegExp(`^vethd: veth2: MAC ${mac} is already used on eth0: \\d+ frame\\(s\\) from it in 1000 ms; choose another -m$`));
      expect(await linkExists(lab, 'fw', 'veth2')).toBe(false);
    } finally {
      gen.kill('SIGKILL');
    }
  });

  test('a station that starts using the MAC while vethd runs: one warning, or exit 1 with --on-conflict exit', async () => {
    const mac = '02:00:c0:00:02:34';
    const dup = { dst: BROADCAST, src: mac, type: 0x88b5 };
    const warn = await VethdProcess.start(lab, ['-v', 'veth3', '-e', 'eth0', '-m', mac]);
    await sendFrames(lab, 'other', 'eth0', [dup], 5);
    await waitFor('a MAC conflict warning', () => warn.log().includes('MAC conflict: another station on eth0 sends with our MAC'));
    await sendFrames(lab, 'other', 'eth0', [dup], 5);
    expect((await warn.stats()).receive.drops.mac_conflict).toBeGreaterThanOrEqual(10);
    expect(warn.log().split('MAC conflict').length - 1).toBe(1); // one warning for the burst
    expect(warn.child.exitCode).toBeNull();
    await warn.stop();

    const fatal = await VethdProcess.start(lab, ['-v', 'veth3', '-e', 'eth0', '-m', mac, '--on-conflict', 'exit']);
    await sendFrames(lab, 'other', 'eth0', [dup], 3);
    await waitFor('vethd to exit', () => fatal.child.exitCode !== null);
    expect(fatal.child.exitCode).toBe(1);
    expect(fatal.log()).toContain(`vethd: veth3: another station on eth0 sends with our MAC ${mac}`);
    await waitFor('veth3 to go', async () => !(await linkExists(lab, 'fw', 'veth3')));
  });
});
