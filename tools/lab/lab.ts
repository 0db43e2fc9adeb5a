/**
 * The namespace lab: a LAN built from network namespaces, so nothing ever
 * touches the machine's own NICs.
 *
 *   <prefix>-peer   eth0 192.0.2.1/24, 02:00:00:00:01:01, dnsmasq (DHCP .100-.199)
 *   <prefix>-other  eth0 192.0.2.9/24, 02:00:00:00:09:09  (a third station)
 *   <prefix>-fw     eth0 (no address), 02:00:00:00:0f:01  (the "firewall": vethd runs here)
 *   <prefix>-sw     br0, the switch: one veth port per host above
 *   <prefix>-ctr    (with {container: true}) an empty namespace: a container on fw
 *
 * veth keeps its default offloads (partial checksums, GSO). Addresses are
 * documentation ranges only (RFC 5737, RFC 3849).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, tryRun, waitFor, type RunResult } from './exec';

export const LAB_SUBNET = '192.0.2.0/24';
export const PEER_IP = '192.0.2.1';
export const OTHER_IP = '192.0.2.9';
export const PEER_MAC = '02:00:00:00:01:01';
export const OTHER_MAC = '02:00:00:00:09:09';
export const FW_MAC = '02:00:00:00:0f:01';

const HOSTS = ['peer', 'other', 'fw'] as const;
const HOST_MACS: Record<(typeof HOSTS)[number], string> = { peer: PEER_MAC, other: OTHER_MAC, fw: FW_MAC };
/** ctr: an empty namespace, for a container on fw (made when asked: Lab.create(tag, {container: true})). */
export type Host = (typeof HOSTS)[number] | 'sw' | 'ctr';

export interface LabOptions {
  /** Also make <prefix>-ctr, an empty namespace (lo up) standing for a container on fw. */
  container?: boolean;
  /**
   * Leave fw with the kernel's ARP defaults (arp_ignore 0, arp_announce 0,
   * arp_filter 0, rp_filter 0, set explicitly): the set-up that shows ARP
   * flux. Otherwise fw answers and announces per interface (1 and 2).
   */
  arpFlux?: boolean;
}

/** Namespaces the lab makes all start with this, followed by the owner's pid. */
export const LAB_NS_PREFIX = 'vdlab';

const SCRIPT = path.join(__dirname, '..', '..', 'tools', 'lab', 'dhclient-script');

export class Lab {
  readonly dir: string;
  private readonly children = new Set<ChildProcess>();
  private leaseFile: string;

  /** Every namespace this lab makes, in the order made. */
  private readonly hosts: Host[];
  private readonly arpFlux: boolean;

  private constructor(
    readonly prefix: string,
    opts: LabOptions,
  ) {
    this.hosts = [...HOSTS, 'sw', ...(opts.container ? (['ctr'] as const) : [])];
    this.arpFlux = opts.arpFlux ?? false;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    this.leaseFile = path.join(this.dir, 'dnsmasq.leases');
  }

  /** The namespace name of a host. */
  ns(host: Host): string {
    return `${this.prefix}-${host}`;
  }

  /**
   * Build the lab (and first remove what a crashed earlier run of another,
   * dead process left). On failure, everything built so far is removed.
   */
  static async create(tag = 't', opts: LabOptions = {}): Promise<Lab> {
    await sweepStale();
    const lab = new Lab(`${LAB_NS_PREFIX}${process.pid}${tag}`, opts);
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private async build(): Promise<void> {
    const sw = this.ns('sw');
    for (const h of this.hosts) await run('ip', ['netns', 'add', this.ns(h)]);
    if (this.hosts.includes('ctr')) await run('ip', ['-n', this.ns('ctr'), 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', sw, 'link', 'set', 'br0', 'up']);
    for (const h of HOSTS) {
      await run('ip', ['-n', this.ns(h), 'link', 'set', 'lo', 'up']);
      await this.plug(h);
    }
    await run('ip', ['-n', this.ns('peer'), 'addr', 'add', `${PEER_IP}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', this.ns('other'), 'addr', 'add', `${OTHER_IP}/24`, 'dev', 'eth0']);
    // eth0 and the vNIC share a subnet on fw: answer ARP only on the interface that holds the
    // address and announce from it, or the peer maps the vNIC's IP to eth0's MAC (ARP flux).
    // A new namespace copies init_net's conf.all and conf.default: set them, whatever the host has.
    const keys = this.arpFlux ? ['arp_ignore=0', 'arp_announce=0', 'arp_filter=0', 'rp_filter=0'] : ['arp_ignore=1', 'arp_announce=2'];
    for (const conf of ['all', 'default', 'eth0']) {
      for (const key of keys) await this.exec('fw', 'sysctl', ['-q', '-w', `net.ipv4.conf.${conf}.${key}`]);
    }
  }

  /**
   * Cable a host to the switch: a veth pair, eth0 in the host (its lab MAC,
   * up) and p-<host> a port of br0. Also re-creates an eth0 that unplug()
   * removed (a new device: a new ifindex).
   */
  async plug(h: (typeof HOSTS)[number]): Promise<void> {
    const sw = this.ns('sw');
    const port = `p-${h}`;
    await run('ip', ['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns(h)]);
    await run('ip', ['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
    await run('ip', ['-n', this.ns(h), 'link', 'set', 'eth0', 'address', HOST_MACS[h]]);
    await run('ip', ['-n', this.ns(h), 'link', 'set', 'eth0', 'up']);
  }

  /** Delete a host's eth0 (and with it the switch port): the NIC is gone, as when its driver is unloaded. */
  async unplug(h: (typeof HOSTS)[number]): Promise<void> {
    await run('ip', ['-n', this.ns(h), 'link', 'del', 'eth0']);
  }

  /** Run a command inside a host's namespace. */
  exec(host: Host, cmd: string, args: string[], timeoutMs?: number): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.ns(host), cmd, ...args], { timeoutMs });
  }

  /** Start a long-running command in a host's namespace (stdin: a pipe for child.stdin, else none; env: added to this process's); it is killed by destroy(). */
  spawn(host: Host, cmd: string, args: string[], opts: { stdin?: boolean; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), cmd, ...args], { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: opts.env && { ...process.env, ...opts.env } });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Write a file into the lab's scratch directory; returns its path. */
  file(name: string, content: string | Buffer): string {
    const p = path.join(this.dir, name);
    writeFileSync(p, content);
    return p;
  }

  /** Start dnsmasq on the peer as the LAN's DHCP server (192.0.2.100-199, 1 h leases). */
  async startDhcpServer(): Promise<void> {
    const child = this.spawn('peer', 'dnsmasq', [
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0',
      '--interface=eth0', '--bind-interfaces', '--user=root', '--group=root', '--no-ping', '--dhcp-authoritative',
      '--dhcp-range=192.0.2.100,192.0.2.199,255.255.255.0,1h', `--dhcp-leasefile=${this.leaseFile}`,
      `--pid-file=${path.join(this.dir, 'dnsmasq.pid')}`, '--log-facility=-', '--log-dhcp',
    ]);
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    await waitFor('dnsmasq to listen on 192.0.2.1:67', async () => {
      if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${log.trim()}`);
      const ss = await this.exec('peer', 'ss', ['-Hlun', 'sport = :67']);
      return ss.stdout.includes(':67');
    });
  }

  /** The DHCP server's lease file (one line per lease: expiry MAC IP name client-id). */
  leases(): string {
    return existsSync(this.leaseFile) ? readFileSync(this.leaseFile, 'utf8') : '';
  }

  /**
   * Run dhclient once on ifname in host (lab script: address only). Resolves
   * with the IPv4 address the interface got; rejects when none came in time.
   */
  async dhclient(host: Host, ifname: string): Promise<string> {
    const base = path.join(this.dir, `dhclient-${host}-${ifname}`);
    const conf = this.file(`dhclient-${host}-${ifname}.conf`, 'timeout 20;\nretry 5;\ninitial-interval 1;\nbackoff-cutoff 2;\n');
    await this.exec(host, 'dhclient', ['-1', '-cf', conf, '-sf', SCRIPT, '-lf', `${base}.leases`, '-pf', `${base}.pid`, ifname], 40_000);
    const addr = await this.exec(host, 'ip', ['-4', '-o', 'addr', 'show', 'dev', ifname]);
    const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(addr.stdout);
    if (!m) throw new Error(`${ifname}: dhclient returned but no IPv4 address is set`);
    return m[1];
  }

  /** Kill every process in the lab's namespaces, delete them and the scratch directory. */
  async destroy(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    for (const h of this.hosts) await removeNamespace(this.ns(h));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kill what runs in ns and delete it; quiet when it does not exist. */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await tryRun('ip', ['netns', 'pids', ns]);
  for (const pid of (pids?.stdout ?? '').split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await tryRun('ip', ['netns', 'del', ns]);
}

/** Whether the process with this pid is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove lab namespaces whose owning process (the pid in the name) is dead,
 * and their scratch directories (<tmpdir>/<prefix>-XXXXXX, made by the constructor).
 */
async function sweepStale(): Promise<void> {
  const list = await tryRun('ip', ['netns', 'list']);
  for (const line of (list?.stdout ?? '').split('\n')) {
    const m = new RegExp(`^(${LAB_NS_PREFIX}(\\d+)\\S*)`).exec(line);
    if (m && !alive(Number(m[2]))) await removeNamespace(m[1]);
  }
  for (const name of readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${LAB_NS_PREFIX}(\\d+)[a-z0-9]*-[A-Za-z0-9]{6}$`).exec(name);
    if (m && !alive(Number(m[1]))) rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}
