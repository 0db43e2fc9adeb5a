/**
 * `vethd demo`: the main job on an embedded default. Builds the namespace lab,
 * runs vethd -v veth1 -e eth0 -m 02:00:c0:00:02:03 on the lab's "firewall",
 * gets eth0 and veth1 a DHCP lease each from the peer's dnsmasq, pings the
 * peer through veth1, stops vethd and removes the lab.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Lab, PEER_IP } from './lab/lab';
import { run, waitFor } from './lab/exec';

export const DEMO_MAC = '02:00:c0:00:02:03';
const BIN = path.join(__dirname, '..', 'bin', 'vethd');
const TOOLS: Record<string, string> = { ip: 'iproute2', dnsmasq: 'dnsmasq-base', dhclient: 'isc-dhcp-client', ping: 'iputils-ping' };

/** Throws one line listing the Debian packages to install when a lab tool is missing, or when not root. */
export async function checkLabHost(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (CAP_NET_ADMIN to create network namespaces)');
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(TOOLS)) {
    try {
      await run('sh', ['-c', 'command -v "$0"', tool]);
    } catch {
      missing.push(pkg);
    }
  }
  if (missing.length) throw new Error(`lab tools missing: apt-get install ${missing.join(' ')}`);
}

/** A vethd started in the lab, with its output so far. */
export interface LabVethd {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

/**
 * Start bin/vethd in the lab's fw namespace as users run it (its #! line gives
 * node the flags it needs), under the command `wrap` when given (e.g.
 * ['setpriv', '--bounding-set', '-bpf', '--']), without waiting for it.
 */
export function spawnVethd(lab: Lab, args: string[], wrap: string[] = []): LabVethd {
  const [cmd, ...rest] = [...wrap, BIN, ...args];
  const child = lab.spawn('fw', cmd, rest);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

/** Resolve once vethd printed its "Attached" line; throws when it exited first. */
export function attached(v: LabVethd): Promise<boolean> {
  return waitFor('vethd to attach', () => {
    if (v.child.exitCode !== null || v.child.signalCode !== null) throw new Error(`vethd exited ${v.child.exitCode ?? v.child.signalCode}: ${v.stderr().trim()}`);
    return v.stdout().includes('Attached');
  });
}

/** spawnVethd(), resolving once it printed its "Attached" line. */
export async function startVethd(lab: Lab, args: string[], wrap: string[] = []): Promise<LabVethd> {
  const v = spawnVethd(lab, args, wrap);
  await attached(v);
  return v;
}

/** Send SIGTERM (or sig) and resolve with the exit code. */
export function stopChild(child: ChildProcess, sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms of ${sig}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
    child.kill(sig);
  });
}

/** Run the demo, printing each step with say(). Resolves when the lab is gone. */
export async function runDemo(say: (line: string) => void): Promise<void> {
  await checkLabHost();
  say('building the lab: namespaces peer (dnsmasq), fw (eth0) and a bridge between them');
  const lab = await Lab.create('demo');
  try {
    await lab.startDhcpServer();
    say(`peer: dnsmasq serving 192.0.2.100-199 on ${PEER_IP}`);
    const vethd = await startVethd(lab, ['-v', 'veth1', '-e', 'eth0', '-m', DEMO_MAC]);
    const attached = vethd.stdout().split('\n').find((l) => l.startsWith('Attached'));
    say(`fw: vethd -v veth1 -e eth0 -m ${DEMO_MAC}: ${attached}`);
    const eth0Ip = await lab.dhclient('fw', 'eth0');
    say(`fw: dhclient eth0  -> ${eth0Ip}`);
    const vethIp = await lab.dhclient('fw', 'veth1');
    say(`fw: dhclient veth1 -> ${vethIp}`);
    say('peer: dnsmasq leases:');
    for (const line of lab.leases().trim().split('\n')) say(`  ${line}`);
    const ping = await lab.exec('fw', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', 'veth1', PEER_IP]);
    const summary = ping.stdout.split('\n').find((l) => l.includes('packets transmitted'));
    say(`fw: ping -I veth1 ${PEER_IP}: ${summary ?? ping.stdout.trim()}`);
    const code = await stopChild(vethd.child);
    say(`fw: vethd stopped on SIGTERM (exit ${code}); veth1 is gone`);
  } finally {
    await lab.destroy();
    say('lab removed');
  }
}
