/**
 * Lab test tools: packet capture (tcpdump), frame generation (trafgen), and a
 * handle on a running vethd (its counters via SIGUSR1). Everything runs inside
 * the lab's namespaces.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Host, Lab } from '../../tools/lab/lab';
import { waitFor } from '../../tools/lab/exec';
import { trafgenConfig, type FrameSpec } from '../../tools/lab/trafgen';
import { labSkipped } from '../skipreport';

export type { FrameSpec };
import { attached, spawnVethd, stopChild } from '../../tools/lab/vethd';
import type { RelayStats } from '../../src/native/native';

/** Whether this run skips the lab suites: `describe.skipIf(skipLab)` (see labSkipped; throws under CI when not root). */
export const skipLab = labSkipped();

/** A tcpdump writing every frame seen on an interface (never promiscuous: -p) to a pcap file. */
export class Capture {
  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
  ) {}

  /**
   * inbound: only the frames the interface receives (tcpdump -Q in), not
   * those it sends; each handed to tcpdump at once (--immediate-mode), so a
   * count after stop() holds the last ones too (else libpcap's TPACKET_V3
   * ring keeps up to its 1 s block timeout's worth unread at stop).
   */
  static async start(lab: Lab, host: Host, ifname: string, opts: { inbound?: boolean } = {}): Promise<Capture> {
    const file = path.join(lab.dir, `cap-${host}-${ifname}-${Date.now()}.pcap`);
    const child = lab.spawn(host, 'tcpdump', ['-p', '-U', '-nn', '-i', ifname, ...(opts.inbound ? ['-Q', 'in', '--immediate-mode'] : []), '-s', '256', '-w', file]);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(`tcpdump on ${host}/${ifname}`, () => {
      if (child.exitCode !== null) throw new Error(`tcpdump exited: ${err.trim()}`);
      return err.includes('listening on');
    });
    return new Capture(child, file);
  }

  /** Frames captured so far that match a pcap filter expression. */
  count(filter: string): Promise<number> {
    // The file is still being written: a torn last record makes tcpdump exit non-zero after
    // printing every whole one, so count stdout whatever the status.
    return new Promise((resolve) => {
      execFile('tcpdump', ['-nn', '-r', this.file, filter], { timeout: 10_000 }, (_err, stdout) => {
        // One line per frame; tcpdump adds indented hex lines for an EtherType it cannot decode.
        resolve(String(stdout).split('\n').filter((l) => l && !/^\s/.test(l)).length);
      });
    });
  }

  /** Wait (with a deadline) until at least n frames match filter. */
  waitCount(filter: string, n: number, timeoutMs = 10_000): Promise<number> {
    return waitFor(`${n} frame(s) matching "${filter}"`, async () => {
      const c = await this.count(filter);
      return c >= n ? c : undefined;
    }, timeoutMs, 100);
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGINT').catch(() => this.child.kill('SIGKILL'));
  }
}

/** The 6 bytes of a colon-form MAC. */
export function macOctets(mac: string): number[] {
  return mac.split(':').map((o) => Number.parseInt(o, 16));
}

/** An ARP request payload (RFC 826, Ethernet/IPv4) from sha/spa asking for tpa. */
export function arpRequest(sha: string, spa: string, tpa: string): number[] {
  const ip = (a: string) => a.split('.').map(Number);
  return [0, 1, 0x08, 0, 6, 4, 0, 1, ...macOctets(sha), ...ip(spa), 0, 0, 0, 0, 0, 0, ...ip(tpa)];
}

/** Send count copies of each frame from host's ifname with trafgen (PACKET_MMAP TX ring), as fast as it goes or at ratePps frames/s. */
export async function sendFrames(lab: Lab, host: Host, ifname: string, frames: FrameSpec[], count = 1, ratePps?: number): Promise<void> {
  const file = lab.file(`trafgen-${Date.now()}-${Math.random().toString(36).slice(2)}.cfg`, trafgenConfig(frames));
  const rate = ratePps === undefined ? [] : ['--rate', `${ratePps}pps`];
  await lab.exec(host, 'trafgen', ['--dev', ifname, '--conf', file, '--num', String(count * frames.length), ...rate, '--no-sock-mem', '--cpus', '1', '-q'], 30_000);
}

/** EtherType of the marker frame sent after the frames under test. */
export const MARKER_TYPE = 0x88b6;

/**
 * Send `count` copies of `frame` from host/ifname, then one marker frame (same
 * addresses, EtherType MARKER_TYPE), and wait until cap has seen the marker:
 * frames on one path are handled in order, so by then the ones under test were
 * processed too. Stops the capture; count what it holds afterwards.
 */
export async function sendThenMarker(lab: Lab, cap: Capture, host: Host, ifname: string, frame: FrameSpec, count: number, marker: FrameSpec): Promise<void> {
  await sendFrames(lab, host, ifname, [frame], count);
  await sendFrames(lab, host, ifname, [{ ...marker, type: MARKER_TYPE }]);
  await cap.waitCount(`ether proto ${MARKER_TYPE}`, 1);
  await cap.stop();
}

/** A vethd process running in the lab's fw namespace. */
export class VethdProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly stdout: () => string,
    private readonly stderr: () => string,
  ) {}

  /** Start vethd in fw (under `wrap`, as startVethd) and wait until it attached; without --metrics-listen in args the endpoint is off (several may run at once). */
  static async start(lab: Lab, args: string[], wrap: string[] = []): Promise<VethdProcess> {
    const v = VethdProcess.spawn(lab, args, wrap);
    await v.attached();
    return v;
  }

  /** As start(), without waiting: for what happens during set-up. */
  static spawn(lab: Lab, args: string[], wrap: string[] = []): VethdProcess {
    const v = spawnVethd(lab, args.includes('--metrics-listen') ? args : [...args, '--metrics-listen', 'off'], wrap);
    return new VethdProcess(v.child, v.stdout, v.stderr);
  }

  /** Resolves once vethd printed its "Attached" line; throws when it exited first. */
  attached(): Promise<boolean> {
    return attached({ child: this.child, stdout: this.stdout, stderr: this.stderr });
  }

  /** The relay counters now: SIGUSR1 makes vethd log them; the next "counters" line is returned. */
  async stats(): Promise<RelayStats> {
    const before = this.countersLines().length;
    this.child.kill('SIGUSR1');
    return waitFor('vethd to log its counters', () => {
      const lines = this.countersLines();
      return lines.length > before ? lines[lines.length - 1].stats : undefined;
    });
  }

  private countersLines(): { stats: RelayStats }[] {
    return this.stdout()
      .split('\n')
      .filter((l) => l.includes('"msg":"counters"'))
      .map((l) => JSON.parse(l) as { stats: RelayStats });
  }

  /**
   * The CPUs relay thread `vethd-q<queue>` may run on now, as /proc shows them
   * (Cpus_allowed_list, e.g. "1" or "0-1"); undefined while no such thread runs.
   */
  relayThreadCpus(queue: number): string | undefined {
    const t = threads(this.child.pid ?? 0).find((x) => x.comm === `vethd-q${queue}`);
    return t && statusField(t.status, 'Cpus_allowed_list');
  }

  /** The CPUs vethd's main thread may run on (Cpus_allowed_list): every CPU the relay may use. */
  processCpus(): string | undefined {
    return statusField(readFileSync(`/proc/${this.child.pid ?? 0}/status`, 'utf8'), 'Cpus_allowed_list');
  }

  /** Everything vethd wrote: log lines (stdout) and errors (stderr). */
  log(): string {
    return this.stdout() + this.stderr();
  }

  stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return stopChild(this.child, sig);
  }
}

/** One field of a /proc status text ("Cpus_allowed_list", "CapEff", ...), undefined when absent. */
export function statusField(text: string, key: string): string | undefined {
  return new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text)?.[1];
}

/** Process pid's threads now: tid, name (comm) and /proc status text; a thread that ends while being read is left out. */
export function threads(pid: number): { tid: string; comm: string; status: string }[] {
  const out: { tid: string; comm: string; status: string }[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push({ tid, comm: readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), status: readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8') });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** The parent's promiscuity count (`ip -d link`): memberships plus IFF_PROMISC users. */
export async function promiscuity(lab: Lab, host: Host, ifname: string): Promise<number> {
  const r = await lab.exec(host, 'ip', ['-d', 'link', 'show', 'dev', ifname]);
  const m = /promiscuity (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no promiscuity in: ${r.stdout}`);
  return Number(m[1]);
}

/** True when ifname exists in host's namespace. */
export async function linkExists(lab: Lab, host: Host, ifname: string): Promise<boolean> {
  return lab.exec(host, 'ip', ['link', 'show', 'dev', ifname]).then(() => true, () => false);
}
