/**
 * The relays the bench compares, each giving the fw namespace a second NIC
 * on eth0 with BENCH_MAC and BENCH_IP:
 *   vethd   - this project (bin/vethd), optionally with extra arguments, and
 *             optionally another checkout's build (vethd@base, --baseline);
 *   macvlan - the kernel's own (the ceiling);
 *   socat   - `socat INTERFACE:eth0 TUN,tun-type=tap` (the obvious user-space alternative).
 * Only one runs at a time.
 */
import type { ChildProcess } from 'node:child_process';
import { attachedLines, startVethd, stopChild } from '../lab/vethd';
import type { Lab } from '../lab/lab';
import { run, waitFor } from '../lab/exec';
import { BENCH_IP } from './measure';

export const BENCH_MAC = '02:00:c0:00:02:03';

export interface Subject {
  name: string;
  /** The second NIC in fw. */
  ifname: string;
  /** The relay process (absent for macvlan: the kernel relays). */
  pid?: number;
  /** vethd's "relay mode" log fields. */
  mode?: Record<string, unknown>;
  stop(): Promise<void>;
}

async function addAddress(lab: Lab, ifname: string): Promise<void> {
  await lab.exec('fw', 'ip', ['addr', 'add', `${BENCH_IP}/24`, 'dev', ifname]);
}

/** The first JSON log line with msg "relay mode", without pino's own fields. */
function modeFields(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.includes('"relay mode"')) continue;
    const { level: _l, time: _t, pid: _p, hostname: _h, msg: _m, veth: _v, eth: _e, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return rest;
  }
  return undefined;
}

/** vethd on veth1 with extra arguments; bin: another checkout's bin/vethd (--baseline), default this one's. */
export async function startVethdSubject(lab: Lab, name: string, extra: string[], bin?: string): Promise<Subject> {
  const v = await startVethd(lab, ['-v', 'veth1', '-e', 'eth0', '-m', BENCH_MAC, '--probe-window', '0', '--metrics-listen', 'off', ...extra], [], bin);
  await addAddress(lab, 'veth1');
  return {
    name,
    ifname: 'veth1',
    pid: v.child.pid,
    mode: modeFields(v.stdout()),
    stop: async () => {
      await stopChild(v.child);
    },
  };
}

/** The MAC of vNIC i (1-based) in the vNIC-count scan: 02:00:c0:00:03:<i>. */
export function scaleMac(i: number): string {
  return `02:00:c0:00:03:${i.toString(16).padStart(2, '0')}`;
}

/**
 * vethd serving n vNICs (vs1..vsN, one [[vnic]] table each) on fw's eth0;
 * the subject's ifname is the last one, the one at the end of the BPF
 * filter's compare chain.
 */
export async function startVethdScale(lab: Lab, n: number, extra: string[]): Promise<Subject> {
  const tables = Array.from({ length: n }, (_, i) => `[[vnic]]\nveth = "vs${i + 1}"\nmac = "${scaleMac(i + 1)}"\nannounce = 0\n`);
  const conf = lab.file(`scale-${n}.toml`, `eth = "eth0"\nprobe-window = 0\nmetrics-listen = "off"\n${tables.join('')}`);
  const v = await startVethd(lab, ['-c', conf, ...extra]);
  await waitFor(`${n} vNICs attached`, () => attachedLines(v.stdout()).length === n);
  return {
    name: `vethd x${n}`,
    ifname: `vs${n}`,
    pid: v.child.pid,
    mode: modeFields(v.stdout()),
    stop: async () => {
      await stopChild(v.child);
    },
  };
}

export async function startMacvlan(lab: Lab): Promise<Subject> {
  const fw = lab.ns('fw');
  await run('ip', ['-n', fw, 'link', 'add', 'mv1', 'link', 'eth0', 'address', BENCH_MAC, 'type', 'macvlan', 'mode', 'bridge']);
  await run('ip', ['-n', fw, 'link', 'set', 'mv1', 'up']);
  await addAddress(lab, 'mv1');
  return { name: 'macvlan', ifname: 'mv1', stop: () => run('ip', ['-n', fw, 'link', 'del', 'mv1']).then(() => undefined) };
}

export async function startSocat(lab: Lab): Promise<Subject> {
  const child: ChildProcess = lab.spawn('fw', 'socat', ['INTERFACE:eth0', `TUN:${BENCH_IP}/24,tun-type=tap,iff-no-pi,iff-up,tun-name=sc1`]);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor('socat to create its TAP', async () => {
    if (child.exitCode !== null) throw new Error(`socat exited ${child.exitCode}: ${err.trim()}`);
    return lab.exec('fw', 'ip', ['link', 'show', 'dev', 'sc1']).then(() => true, () => false);
  });
  await lab.exec('fw', 'ip', ['link', 'set', 'sc1', 'address', BENCH_MAC]);
  return {
    name: 'socat',
    ifname: 'sc1',
    pid: child.pid,
    stop: async () => {
      await stopChild(child);
    },
  };
}
