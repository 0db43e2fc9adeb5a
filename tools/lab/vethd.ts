/**
 * vethd in the lab, as the lab tests, the demo and the bench start it: bin/vethd
 * spawned in the fw namespace, its output kept, stopped with a deadline.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Lab } from './lab';
import { run, waitFor } from './exec';

const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd');
let spawned = 0;
const TOOLS: Record<string, string> = { ip: 'iproute2', sysctl: 'procps', dnsmasq: 'dnsmasq-base', dhclient: 'isc-dhcp-client', ping: 'iputils-ping' };

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
 * ['setpriv', '--bounding-set', '-bpf', '--']), without waiting for it. bin: another
 * checkout's bin/vethd (the bench's --baseline), default this one's.
 */
export function spawnVethd(lab: Lab, args: string[], wrap: string[] = [], bin = BIN): LabVethd {
  const [cmd, ...rest] = [...wrap, bin, ...args];
  // Its default control socket in the lab's directory, one per vethd (RUNTIME_DIRECTORY, as systemd sets it), not the machine's /run/vethd.
  const child = lab.spawn('fw', cmd, rest, { env: { RUNTIME_DIRECTORY: path.join(lab.dir, `run-${++spawned}`) } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

/**
 * The "Attached <tap> into <parent> (<mac>)" texts in vethd's stdout, in order:
 * plain lines (pretty logs: a person's terminal) or the msg of JSON log records
 * (JSON logs: a pipe, as in the lab, or --log-format json).
 */
export function attachedLines(stdout: string): string[] {
  return stdout.split('\n').flatMap((line) => {
    if (line.startsWith('Attached')) return [line];
    if (!line.startsWith('{') || !line.includes('"msg":"Attached')) return [];
    return [(JSON.parse(line) as { msg: string }).msg];
  });
}

/** Resolve once vethd printed its "Attached" line; throws when it exited first. */
export function attached(v: LabVethd): Promise<boolean> {
  return waitFor('vethd to attach', () => {
    if (v.child.exitCode !== null || v.child.signalCode !== null) throw new Error(`vethd exited ${v.child.exitCode ?? v.child.signalCode}: ${v.stderr().trim()}`);
    return attachedLines(v.stdout()).length > 0;
  });
}

/** spawnVethd(), resolving once it printed its "Attached" line. */
export async function startVethd(lab: Lab, args: string[], wrap: string[] = [], bin = BIN): Promise<LabVethd> {
  const v = spawnVethd(lab, args, wrap, bin);
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
