/**
 * vNICs added and removed while vethd runs, end to end (issue 29): `vethd add`
 * and `vethd remove` on the control socket of a vethd in fw; the added vNIC
 * gets its own lease, the running one keeps its own; a container's vNIC is
 * added to a vethd started with --empty; status and the metrics follow.
 * (test/lab/live.lab.test.ts holds the relay's side: frames of the others
 * neither lost nor reordered while vNICs come and go.)
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_IP } from '../../tools/lab/lab';
import { linkExists, skipLab, VethdProcess } from './tools';

const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd');
const MAC1 = '02:00:c0:00:02:81';
const MAC2 = '02:00:c0:00:02:82';
const CTR_MAC = '02:00:c0:00:02:83';

describe.skipIf(skipLab)('vethd add / remove on a running vethd', () => {
  let lab: Lab;

  /** `vethd <args>` in fw: its output and exit status. */
  const vethd = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('ip', ['netns', 'exec', lab.ns('fw'), process.execPath, BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });

  beforeAll(async () => {
    lab = await Lab.create('ctl', { container: true });
    await lab.startDhcpServer();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test('add: veth2 gets its own lease beside veth1, whose lease and link stay; remove: veth2 and its metrics are gone', async () => {
    const sock = path.join(lab.dir, 'a.sock');
    const d = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', MAC1, '--live-vnics', '--control-socket', sock, '--metrics-listen', '127.0.0.1:10891']);
    const ip1 = await lab.dhclient('fw', 'veth1');
    const ifindex1 = (await lab.exec('fw', 'cat', ['/sys/class/net/veth1/ifindex'])).stdout.trim();

    const added = await vethd('add', '-s', sock, '-v', 'veth2', '-m', MAC2);
    expect(added).toEqual({ code: 0, stdout: `added veth2 (${MAC2}) to eth0\n`, stderr: '' });
    const ip2 = await lab.dhclient('fw', 'veth2');
    expect(lab.leases()).toContain(`${MAC2} ${ip2} `);
    expect(ip2).not.toBe(ip1);
    const ping = await lab.exec('fw', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-I', 'veth2', PEER_IP]);
    expect(ping.stdout).toContain('2 received');
    const status = JSON.parse((await vethd('status', '-s', sock, '--json')).stdout);
    expect(status.vnics.map((v: { name: string; mac: string }) => [v.name, v.mac])).toEqual([['veth1', MAC1], ['veth2', MAC2]]);
    const metrics = (await lab.exec('fw', 'curl', ['-fsS', 'http://127.0.0.1:10891/metrics'])).stdout;
    expect(metrics).toMatch(/^vethd_receive_packets_total\{device="veth2"\} [1-9]/m);

    const removed = await vethd('remove', '-s', sock, 'veth2');
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/^removed veth2: [1-9]\d* frames received, [1-9]\d* sent\n$/);
    expect(await linkExists(lab, 'fw', 'veth2')).toBe(false);
    expect((await lab.exec('fw', 'curl', ['-fsS', 'http://127.0.0.1:10891/metrics'])).stdout).not.toContain('device="veth2"');
    // veth1 was never touched: the same link, its address, and it still reaches the peer.
    expect((await lab.exec('fw', 'cat', ['/sys/class/net/veth1/ifindex'])).stdout.trim()).toBe(ifindex1);
    expect((await lab.exec('fw', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'veth1'])).stdout).toContain(ip1);
    expect((await lab.exec('fw', 'ping', ['-c', '1', '-W', '2', '-I', 'veth1', PEER_IP])).stdout).toContain('1 received');
    expect(await d.stop()).toBe(0);
  });

  test('refusals are one line, exit 2, and leave no TAP', async () => {
    const sock = path.join(lab.dir, 'b.sock');
    const d = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', MAC1, '--live-vnics', '--control-socket', sock]);
    expect(await vethd('add', '-s', sock, '-v', 'veth3', '-m', MAC1)).toEqual({ code: 2, stdout: '', stderr: `vethd: add: vNIC "veth3" would have MAC ${MAC1}, as "veth1" has; choose another mac\n` });
    expect(await vethd('add', '-s', sock, '-v', 'lo', '-m', MAC2)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^vethd: lo: .*\(EEXIST\)/) });
    expect(await linkExists(lab, 'fw', 'veth3')).toBe(false);
    expect(await d.stop()).toBe(0);
  });

  test('--empty: a container vNIC added by id into its namespace gets a lease; removed by id, the daemon stays up', async () => {
    const sock = path.join(lab.dir, 'c.sock');
    const d = VethdProcess.spawn(lab, ['-e', 'eth0', '--empty', '--control-socket', sock]);
    await waitFor('the empty daemon to answer', async () => (await vethd('status', '-s', sock)).code === 0, 15_000, 200);
    const netns = `/run/netns/${lab.ns('ctr')}`;
    const added = await vethd('add', '-s', sock, '-v', 'eth0', '--netns', netns, '-m', CTR_MAC, '--id', 'ctr/eth0');
    expect(added).toEqual({ code: 0, stdout: `added eth0 (${CTR_MAC}) in ${netns} to eth0\n`, stderr: '' });
    const ip = await lab.dhclient('ctr', 'eth0');
    expect(lab.leases()).toContain(`${CTR_MAC} ${ip} `);
    expect((await vethd('remove', '-s', sock, 'ctr/eth0')).code).toBe(0);
    await waitFor('the container vNIC to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
    expect(JSON.parse((await vethd('status', '-s', sock, '--json')).stdout).vnics).toEqual([]);
    expect(d.child.exitCode).toBeNull();
    expect(await d.stop()).toBe(0);
  });
});
