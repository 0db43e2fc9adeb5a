/**
 * The CNI plugin as a runtime runs it, against fakes: bin/vethd-cni spawned
 * with CNI_* in its environment and a network configuration on stdin, its
 * stdout and exit status kept; a fake vethd (the real control socket server,
 * serveControl, in this process, with handlers that keep vNICs in a map); a
 * fake IPAM plugin (a script in a temporary CNI_PATH directory that logs each
 * call and answers as its ipam section says); and a fake nsenter first on
 * PATH, which logs the ip/sysctl commands and answers `ip -j` from files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codedError } from '../../src/errors';
import { serveControl, type ControlServer } from '../../src/daemon/control';
import type { VnicStatus } from '../../src/daemon/status';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd-cni');

const FAKE_IPAM = `#!/usr/bin/env node
// A fake IPAM plugin: logs each call; ipam.fail.<COMMAND> = {code, msg} fails that command; ADD prints ipam.result.
const fs = require('node:fs');
const input = fs.readFileSync(0, 'utf8');
const conf = JSON.parse(input);
const ipam = conf.ipam;
const env = process.env;
fs.appendFileSync(ipam.log, JSON.stringify({ command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID, ifname: env.CNI_IFNAME, netns: env.CNI_NETNS, args: env.CNI_ARGS, stdin: input }) + '\\n');
process.stderr.write('fake-ipam: ' + env.CNI_COMMAND + '\\n');
const fail = (ipam.fail || {})[env.CNI_COMMAND];
if (fail) {
  process.stdout.write(JSON.stringify({ cniVersion: conf.cniVersion, code: fail.code, msg: fail.msg, details: fail.details }));
  process.exit(1);
}
if (env.CNI_COMMAND === 'ADD') process.stdout.write(typeof ipam.result === 'string' ? ipam.result : JSON.stringify({ cniVersion: conf.cniVersion, ...ipam.result }));
`;

const FAKE_NSENTER = `#!/bin/sh
# A fake nsenter --net=NETNS -- CMD ARGS: logs "NETNS CMD ARGS"; answers ip -j from $FAKE_NS_DIR; fails what matches $FAKE_NS_FAIL.
ns="\${1#--net=}"
shift 2
echo "$ns $*" >> "$FAKE_NS_DIR/log"
if [ -n "\${FAKE_NS_FAIL:-}" ]; then
  case "$*" in *"$FAKE_NS_FAIL"*) echo "RTNETLINK answers: File exists" >&2; exit 2 ;; esac
fi
case "$*" in
"ip -j addr show dev "*) cat "$FAKE_NS_DIR/addr.json" ;;
"ip -j -4 route show table all") cat "$FAKE_NS_DIR/route4.json" ;;
"ip -j -6 route show table all") echo '[]' ;;
"sysctl -n "*) echo 1 ;;
esac
exit 0
`;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON (undefined when empty). */
  json: Record<string, unknown> | undefined;
}

/** A temporary world for one test file: directories, the fake plugins, the fake daemon. */
export class World {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-cni-'));
  readonly cniPath = path.join(this.dir, 'cni');
  readonly binDir = path.join(this.dir, 'bin');
  readonly nsDir = path.join(this.dir, 'ns');
  readonly ipamLog = path.join(this.dir, 'ipam.log');
  /** A regular file standing for the container's namespace (it exists and is not the plugin's own). */
  readonly netns = path.join(this.dir, 'netns-ctr1');
  readonly socket = path.join(this.dir, 'run', 'control.sock');
  daemon: FakeDaemon | undefined;

  constructor() {
    for (const d of [this.cniPath, this.binDir, this.nsDir]) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(this.cniPath, 'fake-ipam'), FAKE_IPAM, { mode: 0o755 });
    writeFileSync(path.join(this.binDir, 'nsenter'), FAKE_NSENTER, { mode: 0o755 });
    writeFileSync(this.netns, '');
    this.setAddrs([]);
    this.setRoutes([]);
  }

  async startDaemon(parent = 'eth0', mtu = 1500): Promise<FakeDaemon> {
    this.daemon = await FakeDaemon.start(this.socket, parent, mtu);
    return this.daemon;
  }

  /** What the fake `ip -j addr show dev X` prints: one link with mac and addresses. */
  setAddrs(addrs: { local: string; prefixlen: number }[], mac = '02:00:00:00:00:00', ifname = 'eth0'): void {
    writeFileSync(path.join(this.nsDir, 'addr.json'), JSON.stringify([{ ifname, address: mac, addr_info: addrs }]));
  }

  setRoutes(routes: { dst: string; gateway?: string }[]): void {
    writeFileSync(path.join(this.nsDir, 'route4.json'), JSON.stringify(routes));
  }

  /** The commands the fake nsenter ran, "NETNS CMD ARGS" each, and forget them. */
  nsCommands(): string[] {
    const file = path.join(this.nsDir, 'log');
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    rmSync(file);
    return lines;
  }

  /** The fake IPAM plugin's calls so far, and forget them. */
  ipamCalls(): { command: string; containerId: string; ifname: string; netns?: string; args?: string; stdin: string }[] {
    if (!existsSync(this.ipamLog)) return [];
    const calls = readFileSync(this.ipamLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    rmSync(this.ipamLog);
    return calls;
  }

  /** A network configuration for the fake daemon, with the fake IPAM plugin unless ipam is null. */
  conf(extra: Record<string, unknown> = {}, ipam: Record<string, unknown> | null = {}): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: 'lan',
      type: 'vethd',
      master: 'eth0',
      socket: this.socket,
      ...(ipam === null
        ? {}
        : {
            ipam: {
              type: 'fake-ipam',
              log: this.ipamLog,
              result: { ips: [{ address: '192.0.2.50/24', gateway: '192.0.2.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['192.0.2.1'] } },
              ...ipam,
            },
          }),
      ...extra,
    };
  }

  /** Run bin/vethd-cni as a runtime does: env (CNI_* for the container ctr1 and eth0 unless given), stdin. */
  run(command: string, stdin: unknown, env: Record<string, string | undefined> = {}): Promise<Run> {
    const base: Record<string, string | undefined> = {
      PATH: `${this.binDir}:${process.env.PATH}`,
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'ctr1',
      CNI_NETNS: this.netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: `${path.join(this.dir, 'empty')}:${this.cniPath}`,
      FAKE_NS_DIR: this.nsDir,
      ...env,
    };
    const fullEnv = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
    return new Promise((resolve, reject) => {
      const child = spawn(BIN, [], { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(t);
        let json: Record<string, unknown> | undefined;
        try {
          json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ code, stdout, stderr, json });
      });
      child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
    });
  }

  async close(): Promise<void> {
    await this.daemon?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fake vethd: the real control socket server with handlers that keep vNICs by id, as the daemon would answer. */
export class FakeDaemon {
  readonly vnics = new Map<string, VnicStatus>();
  /** Every add's table and remove's id, in order. */
  readonly calls: ({ add: Record<string, unknown> } | { remove: string })[] = [];
  /** The next add fails with this (code, message), once. */
  refuseNextAdd: { code: string; message: string } | undefined;

  private constructor(private server: ControlServer | undefined) {}

  static async start(socket: string, parent: string, mtu: number): Promise<FakeDaemon> {
    const d = new FakeDaemon(undefined);
    let ifindex = 10;
    const dir = path.dirname(socket);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    d.server = await serveControl(
      socket,
      {
        status: () => ({ api: 1, version: 'fake', pid: process.pid, parent: { name: parent, ifindex: 2, up: true, mtu, membership: 'promisc' }, relay: {}, vnics: [...d.vnics.values()], unrouted: {} }),
        add: async (t) => {
          const table = t as Record<string, unknown>;
          d.calls.push({ add: table });
          const refuse = d.refuseNextAdd;
          d.refuseNextAdd = undefined;
          if (refuse) throw codedError(refuse.code as never, refuse.message);
          const id = String(table.id ?? table.veth);
          if (d.vnics.has(id)) throw codedError('vethd.same-interface', `add: id "${id}" is already in use`);
          const mac = typeof table.mac === 'string' && /^[0-9a-f:]{17}$/.test(table.mac) ? table.mac : '02:aa:bb:cc:dd:ee';
          const v = { name: String(table.veth), id, mac, ifindex: ifindex++, ...(table.netns ? { netns: String(table.netns) } : {}), ...(table.vlan ? { vlan: Number(table.vlan) } : {}), antiSpoofing: table['anti-spoofing'] !== false, raGuard: table['ra-guard'] === true, dhcpGuard: table['dhcp-guard'] === true, state: 'serving' } as VnicStatus;
          d.vnics.set(id, v);
          return v;
        },
        remove: async (id) => {
          d.calls.push({ remove: id });
          const v = d.vnics.get(id);
          if (!v) throw codedError('vethd.control-not-found', `remove: no vNIC "${id}"`);
          d.vnics.delete(id);
          return { name: v.name, id, mac: v.mac, receive: { frames: 0 }, transmit: { frames: 0 } };
        },
      },
      () => ({ uid: 0, pid: 0 }),
      () => true,
    );
    return d;
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
