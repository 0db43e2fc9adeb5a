/**
 * vethd-cni with tools nobody here wrote: Debian's containernetworking-plugins
 * (host-local, dhcp, macvlan in /usr/lib/cni), driven as cnitool drives them
 * (the plugin found by "type" in CNI_PATH, CNI_* in its environment, the
 * network configuration on stdin, run in the runtime's namespace: fw). The
 * same configurations run with "type": "macvlan" as the control, so what
 * vethd does can be told from what any CNI interface plugin does. vethd runs
 * as the docs say to run it for containers: vethd -e eth0 --empty.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { controlRequest } from '../../src/cli/client';
import { serveControl, type ControlServer } from '../../src/daemon/control';
import type { StatusReply, VnicStatus } from '../../src/daemon/status';
import { codedError } from '../../src/errors';
import { run, tryRun, waitFor } from '../../tools/lab/exec';
import { Lab, PEER_IP } from '../../tools/lab/lab';
import { linkExists, skipLab, VethdProcess } from './tools';

/** Where Debian's containernetworking-plugins puts the plugins. */
const CNI_DIR = '/usr/lib/cni';
const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd-cni');

interface CniRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
}

/**
 * The rows: vethd-cni with vethd; vethd-cni with a stand-in daemon (the real control socket server in
 * this process, whose add makes a kernel macvlan in the container as vethd would make its TAP there:
 * the plugin's own half, IPAM and the namespace, tested whatever the relay can do); the macvlan plugin.
 */
const TYPES = ['vethd', 'vethd-cni with a stand-in daemon', 'macvlan'] as const;
type Kind = (typeof TYPES)[number];

describe.skipIf(skipLab)('vethd-cni beside the reference macvlan plugin, with host-local and dhcp IPAM (containernetworking-plugins)', () => {
  let lab: Lab;
  let vethd: VethdProcess | undefined;
  let dhcpd: ChildProcess | undefined;
  let cniPath: string;
  let socket: string;
  let standIn: ControlServer | undefined;
  let standInSocket: string;
  let dhcpSocket: string;
  let netns: string;

  beforeAll(async () => {
    if (!existsSync(path.join(CNI_DIR, 'host-local'))) throw new Error(`no ${CNI_DIR}/host-local: apt-get install --no-install-recommends containernetworking-plugins (tools/setup.sh test installs it)`);
    lab = await Lab.create('cni', { container: true });
    await lab.startDhcpServer();
    netns = `/run/netns/${lab.ns('ctr')}`;
    // The runtime's plugin directory: vethd-cni installed as "vethd" (its type), then Debian's.
    const dir = path.join(lab.dir, 'cni');
    mkdirSync(dir);
    symlinkSync(BIN, path.join(dir, 'vethd'));
    cniPath = `${dir}:${CNI_DIR}`;
    socket = path.join(lab.dir, 'vethd.sock');
    // The reference dhcp IPAM plugin's daemon, in the runtime's namespace: it enters CNI_NETNS to ask for leases.
    dhcpSocket = path.join(lab.dir, 'dhcp.sock');
    dhcpd = lab.spawn('fw', path.join(CNI_DIR, 'dhcp'), ['daemon', '-socketpath', dhcpSocket]);
    await waitFor('the CNI dhcp daemon to listen', () => {
      if (dhcpd?.exitCode !== null) throw new Error(`the CNI dhcp daemon exited ${dhcpd?.exitCode}`);
      return existsSync(dhcpSocket);
    });
    standInSocket = path.join(lab.dir, 'stand-in.sock');
    standIn = await startStandIn();
    vethd = VethdProcess.spawn(lab, ['-e', 'eth0', '--empty', '--control-socket', socket]);
    const up = await waitFor('vethd --empty to answer on its control socket', async () => {
      if (vethd?.child.exitCode !== null) return 'exited';
      return (await controlRequest(socket, 'GET', 'status').catch(() => undefined))?.status === 200 && 'up';
    }, 20_000);
    if (up === 'exited') throw new Error(`vethd --empty exited: ${vethd?.log()}`);
  });
  afterAll(async () => {
    await vethd?.stop().catch(() => undefined);
    await standIn?.close();
    await lab?.destroy();
  });

  /** Run the plugin for conf's type as cnitool does: found in CNI_PATH, in fw (the runtime's namespace), bounded in time. */
  function cni(command: string, conf: Record<string, unknown>, containerId: string, extra: Record<string, string> = {}): Promise<CniRun> {
    const plugin = cniPath.split(':').map((d) => path.join(d, String(conf.type))).find((f) => existsSync(f));
    if (!plugin) throw new Error(`no plugin ${String(conf.type)} in ${cniPath}`);
    const env = { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: cniPath, ...extra };
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', lab.ns('fw'), plugin], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(t);
        let json;
        try {
          json = stdout.trim() ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ code, stdout, stderr, json });
      });
      child.stdin.end(JSON.stringify(conf));
    });
  }

  /** A vethd stand-in on standInSocket: status, add (a macvlan with the table's MAC, moved into its namespace under its name, up) and remove by id. */
  function startStandIn(): Promise<ControlServer> {
    const vnics = new Map<string, VnicStatus>();
    let n = 0;
    return serveControl(
      standInSocket,
      {
        status: () => ({ api: 1, parent: { name: 'eth0', ifindex: 2, up: true, mtu: 1500, membership: 'promisc' }, vnics: [...vnics.values()] }),
        add: async (t) => {
          const table = t as { veth: string; netns: string; id: string; mac: string };
          const tmp = `standin${n++}`;
          await run('ip', ['-n', lab.ns('fw'), 'link', 'add', 'link', 'eth0', 'name', tmp, 'address', table.mac, 'type', 'macvlan', 'mode', 'bridge']);
          await run('ip', ['-n', lab.ns('fw'), 'link', 'set', tmp, 'netns', path.basename(table.netns)]);
          await run('ip', ['-n', lab.ns('ctr'), 'link', 'set', tmp, 'name', table.veth, 'up']);
          const v = { name: table.veth, id: table.id, mac: table.mac, ifindex: 0, netns: table.netns, antiSpoofing: true, raGuard: true, dhcpGuard: true, state: 'serving' } as VnicStatus;
          vnics.set(table.id, v);
          return v;
        },
        remove: async (id) => {
          const v = vnics.get(id);
          if (!v) throw codedError('vethd.control-not-found', `remove: no vNIC "${id}"`);
          await tryRun('ip', ['-n', lab.ns('ctr'), 'link', 'del', v.name]);
          vnics.delete(id);
          return { name: v.name, id, mac: v.mac, receive: { frames: 0 }, transmit: { frames: 0 } };
        },
      },
      () => ({ uid: 0, pid: 0 }),
      () => true,
    );
  }

  /** The daemon's socket a row's vethd-cni talks to. */
  const socketOf = (type: Kind) => (type === 'vethd' ? socket : standInSocket);

  /** One network configuration, the same for every row but for "type" (and vethd's socket, which is not the default here). */
  function network(type: Kind, name: string, ipam: Record<string, unknown>): Record<string, unknown> {
    if (type === 'macvlan') return { cniVersion: '1.0.0', name, type, master: 'eth0', ipam };
    return { cniVersion: '1.0.0', name, type: 'vethd', master: 'eth0', socket: socketOf(type), vethd: { raGuard: true, dhcpGuard: true }, ipam };
  }

  const ok = (r: CniRun, what: string) => expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(0);

  /** After ADD: what holds the interface says it is the container's (vethd's status, or the kernel's macvlan link). */
  async function expectAttached(type: Kind, id: string, mac: string): Promise<void> {
    if (type !== 'macvlan') {
      const st = (await controlRequest(socketOf(type), 'GET', 'status')).body as StatusReply;
      expect(st.vnics.find((v) => v.id === `${id}/eth0`)).toMatchObject({ name: 'eth0', mac, netns, state: 'serving', raGuard: true, dhcpGuard: true });
      expect((await lab.exec('ctr', 'ip', ['-d', 'link', 'show', 'dev', 'eth0'])).stdout).toContain(type === 'vethd' ? 'tun type tap' : 'macvlan mode bridge');
    } else {
      expect((await lab.exec('ctr', 'ip', ['-d', 'link', 'show', 'dev', 'eth0'])).stdout).toContain('macvlan mode bridge');
    }
  }

  test.for(TYPES)('%s with host-local: ADD, the container pings the peer, CHECK passes and fails without its address, DEL frees the address, DEL again', async (type) => {
    const dataDir = path.join(lab.dir, `host-local-${type}`);
    const conf = network(type, 'lab-hl', { type: 'host-local', dataDir, ranges: [[{ subnet: '192.0.2.0/24', rangeStart: '192.0.2.50', rangeEnd: '192.0.2.59', gateway: PEER_IP }]], routes: [{ dst: '0.0.0.0/0' }] });
    const id = `hl-${TYPES.indexOf(type)}`;
    const add = await cni('ADD', conf, id);
    ok(add, 'ADD');
    const result = add.json as { interfaces: { name: string; mac: string; sandbox: string }[]; ips: { address: string; gateway: string; interface: number }[]; routes: { dst: string }[] };
    expect(result).toMatchObject({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: netns }], ips: [{ address: '192.0.2.50/24', gateway: PEER_IP, interface: 0 }], routes: [{ dst: '0.0.0.0/0' }] });
    const mac = result.interfaces[0].mac;
    await expectAttached(type, id, mac);
    expect((await lab.exec('ctr', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain('inet 192.0.2.50/24');
    expect((await lab.exec('ctr', 'ip', ['route', 'show', 'default'])).stdout).toContain(`default via ${PEER_IP} dev eth0`);
    const ping = await lab.exec('ctr', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', PEER_IP], 15_000);
    expect(ping.stdout).toContain('2 received');
    // the peer learnt the container's MAC for its address: frames went out with the vNIC's own identity
    expect((await lab.exec('peer', 'ip', ['neigh', 'show', '192.0.2.50'])).stdout).toContain(mac);
    expect(existsSync(path.join(dataDir, 'lab-hl', '192.0.2.50'))).toBe(true);

    const withPrev = { ...conf, prevResult: add.json };
    ok(await cni('CHECK', withPrev, id), 'CHECK');
    await lab.exec('ctr', 'ip', ['addr', 'del', '192.0.2.50/24', 'dev', 'eth0']);
    const broken = await cni('CHECK', withPrev, id);
    expect(broken.code, broken.stdout).not.toBe(0);
    if (type !== 'macvlan') expect(broken.json).toMatchObject({ code: 103, details: expect.stringContaining('address 192.0.2.50/24 is missing') });

    ok(await cni('DEL', withPrev, id), 'DEL');
    await waitFor('the container interface to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
    expect(existsSync(path.join(dataDir, 'lab-hl', '192.0.2.50'))).toBe(false);
    if (type !== 'macvlan') expect(((await controlRequest(socketOf(type), 'GET', 'status')).body as StatusReply).vnics).toEqual([]);
    ok(await cni('DEL', withPrev, id), 'DEL again');
  });

  test.for(TYPES)('%s with the reference dhcp IPAM: a lease from the LAN\'s dnsmasq, the container pings the peer, CHECK passes, DEL releases the lease', async (type) => {
    const conf = network(type, 'lab-dhcp', { type: 'dhcp', daemonSocketPath: dhcpSocket });
    const id = `dhcp-${TYPES.indexOf(type)}`;
    const add = await cni('ADD', conf, id);
    ok(add, 'ADD');
    const result = add.json as { interfaces: { mac: string }[]; ips: { address: string }[] };
    const mac = result.interfaces[0].mac;
    const ip = result.ips[0].address.split('/')[0];
    expect(ip).toMatch(/^192\.0\.2\.1\d\d$/);
    await expectAttached(type, id, mac);
    expect(lab.leases()).toContain(`${mac} ${ip}`);
    const ping = await lab.exec('ctr', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', PEER_IP], 15_000);
    expect(ping.stdout).toContain('2 received');
    ok(await cni('CHECK', { ...conf, prevResult: add.json }, id), 'CHECK');

    ok(await cni('DEL', { ...conf, prevResult: add.json }, id), 'DEL');
    // DHCPRELEASE: dnsmasq drops the lease from its file
    await waitFor(`dnsmasq to drop the lease of ${mac}`, () => !lab.leases().includes(mac), 10_000);
    await waitFor('the container interface to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
    ok(await cni('DEL', { ...conf, prevResult: add.json }, id), 'DEL again');
  });

  test('vethd-cni DEL when the daemon is gone: success (its vNICs went with it), for a runtime cleaning up after a crash', async () => {
    const conf = network('vethd', 'lab-gone', { type: 'host-local', dataDir: path.join(lab.dir, 'host-local-gone'), ranges: [[{ subnet: '192.0.2.0/24', rangeStart: '192.0.2.60', rangeEnd: '192.0.2.69' }]] });
    ok(await cni('ADD', conf, 'gone'), 'ADD');
    expect(await vethd?.stop()).toBe(0);
    await waitFor('the vNIC to go with its daemon', async () => !(await linkExists(lab, 'ctr', 'eth0')));
    ok(await cni('DEL', conf, 'gone'), 'DEL with no daemon');
    expect(existsSync(path.join(lab.dir, 'host-local-gone', 'lab-gone', '192.0.2.60'))).toBe(false);
  });
});
