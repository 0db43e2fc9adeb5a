/**
 * ARP flux: fw's eth0 (192.0.2.10) and the vNIC (192.0.2.11) share a subnet.
 * With the kernel's defaults eth0 answers ARP for the vNIC's address with its
 * own MAC; `vethd doctor` names the parent's settings, `--fix` sets them, and
 * from then on every ARP frame the peer sees maps each IP to its own
 * interface's MAC, over repeated queries. The vNIC's side is vethd's own job.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { FW_MAC, Lab } from '../../tools/lab/lab';
import { Capture, skipLab, VethdProcess } from './tools';

const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd');
const VMAC = '02:00:c0:00:02:0b';
const ETH0_IP = '192.0.2.10';
const VNIC_IP = '192.0.2.11';
const OWNER: Record<string, string> = { [ETH0_IP]: FW_MAC, [VNIC_IP]: VMAC };

/** Every ARP frame in a capture as [sender IP, sender MAC] (replies: "is-at"; requests: the Ethernet source). */
function arpSenders(file: string): Promise<[string, string][]> {
  return new Promise((resolve) => {
    execFile('tcpdump', ['-e', '-nn', '-r', file, 'arp'], { timeout: 10_000 }, (_err, stdout) => {
      const out: [string, string][] = [];
      for (const line of String(stdout).split('\n')) {
        const reply = /Reply (\S+) is-at (\S+),/.exec(line);
        const request = /^\S+ (\S+) > .*Request who-has \S+ tell (\S+),/.exec(line);
        if (reply) out.push([reply[1], reply[2]]);
        else if (request) out.push([request[2], request[1]]);
      }
      resolve(out);
    });
  });
}

describe.skipIf(skipLab)('ARP flux: parent and vNIC in one subnet', () => {
  let lab: Lab;
  let vethd: VethdProcess;

  function doctor(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', lab.ns('fw'), process.execPath, BIN, 'doctor', '-v', 'veth1', '-e', 'eth0', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  /** One round: both sides forget their neighbours, the peer pings both addresses. */
  async function round(): Promise<void> {
    await lab.exec('peer', 'ip', ['neigh', 'flush', 'dev', 'eth0']);
    await lab.exec('fw', 'ip', ['neigh', 'flush', 'all']);
    for (const ip of [ETH0_IP, VNIC_IP]) await lab.exec('peer', 'ping', ['-c', '1', '-W', '2', ip]);
  }

  beforeAll(async () => {
    lab = await Lab.create('flux', { arpFlux: true });
    await lab.exec('fw', 'ip', ['addr', 'add', `${ETH0_IP}/24`, 'dev', 'eth0']);
    vethd = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC]);
    await lab.exec('fw', 'ip', ['addr', 'add', `${VNIC_IP}/24`, 'dev', 'veth1']);
  });
  afterAll(async () => {
    await vethd?.stop();
    await lab?.destroy();
  });

  test('vethd set the vNIC side itself: arp_ignore 1, arp_announce 2', async () => {
    const r = await lab.exec('fw', 'sysctl', ['-n', 'net.ipv4.conf.veth1.arp_ignore', 'net.ipv4.conf.veth1.arp_announce']);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['1', '2']);
  });

  test('with the defaults on the parent, the peer sees the vNIC IP at the parent MAC (the flux this is about)', async () => {
    const cap = await Capture.start(lab, 'peer', 'eth0');
    await round();
    await waitFor('eth0 to answer for the vNIC address', async () => (await arpSenders(cap.file)).some(([ip, mac]) => ip === VNIC_IP && mac === FW_MAC));
    await cap.stop();
  });

  test('doctor names the parent settings and their fixes; exit 1', async () => {
    const r = await doctor([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL  eth0: arp_ignore 0\n');
    expect(r.stdout).toContain('      fix: sysctl -w net.ipv4.conf.eth0.arp_ignore=1\n');
    expect(r.stdout).toContain('FAIL  eth0: arp_announce 0\n');
    expect(r.stdout).toContain('      fix: sysctl -w net.ipv4.conf.eth0.arp_announce=2\n');
    expect(r.stdout).toContain('ok    veth1: arp_ignore 1');
    expect(r.stdout).toContain('ok    veth1: MTU 1500');
    expect(r.stderr.trim()).toBe('vethd: doctor: 2 problem(s), 2 fixable with --fix');
  });

  test('doctor --fix sets them; afterwards every ARP frame maps each IP to its own MAC, round after round', async () => {
    const fixed = await doctor(['--fix']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('fixed eth0: arp_ignore 0 -> 1\n');
    expect(fixed.stdout).toContain('fixed eth0: arp_announce 0 -> 2\n');
    expect(fixed.stdout).toContain('all good after 2 fix(es)');
    expect((await doctor([])).code).toBe(0);

    const cap = await Capture.start(lab, 'peer', 'eth0');
    for (let i = 0; i < 5; i++) {
      await round();
      for (const ip of [ETH0_IP, VNIC_IP]) {
        const n = await lab.exec('peer', 'ip', ['neigh', 'show', ip, 'dev', 'eth0']);
        expect(n.stdout).toContain(`lladdr ${OWNER[ip]}`);
      }
    }
    await waitFor('ARP replies for both addresses', async () => {
      const s = await arpSenders(cap.file);
      return s.filter(([ip]) => ip === ETH0_IP).length >= 5 && s.filter(([ip]) => ip === VNIC_IP).length >= 5;
    });
    await cap.stop();
    const wrong = (await arpSenders(cap.file)).filter(([ip, mac]) => ip in OWNER && OWNER[ip] !== mac);
    expect(wrong).toEqual([]);
  });
});
