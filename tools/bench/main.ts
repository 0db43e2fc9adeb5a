/**
 * `npm run bench`: build a namespace lab (peer - bridge - fw eth0) and
 * measure, in one run, vethd against the kernel's macvlan and socat: TCP each
 * way, 64-byte frame delivery, relay CPU per frame against the TAP-write
 * floor, ping RTT and RSS (with an optional soak). Prints a table and writes
 * JSON (default bench/results/latest.json). Root only; touches nothing
 * outside the namespaces it creates.
 */
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkLabHost } from '../lab/vethd';
import { run } from '../lab/exec';
import { Lab } from '../lab/lab';
import { frameStream, pingRtt, processRssKiB, routeCongestionControl, tapFloor, tcpThroughput, waitReachable } from './measure';
import { checkTargets, formatScale, formatTable, median, scaleTarget, type ScaleResult, type SubjectResult, type TcpResult } from './report';
import { BENCH_MAC, scaleMac, startMacvlan, startSocat, startVethdScale, startVethdSubject, type Subject } from './subjects';

interface BenchOptions {
  tcpSeconds: number;
  tcpRounds: number;
  /** Congestion controls TCP is measured with, each both ways (the lab's routes' congctl). */
  tcpCc: string[];
  framesSeconds: number;
  soak: number;
  floorFrames: number;
  json: string;
  variant: string[];
  socat: boolean;
  /** Another checkout, built (npm ci), measured as vethd@base in the same run: the old build against the new. */
  baseline?: string;
  /** vNIC counts for the scan (empty: skip it). */
  vnics: number[];
}

const TOOLS = ['iperf3', 'trafgen', 'socat', 'cc'];

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
}

const gbit = (bps: number) => (bps / 1e9).toFixed(2);

/** One round of TCP each way with each congestion control in o.tcpCc, appended to tcp (one entry per control); says each round as `label`. */
async function tcpRound(lab: Lab, s: Subject, tcp: TcpResult[], o: BenchOptions, label: string, say: (l: string) => void): Promise<void> {
  for (const cc of o.tcpCc) {
    let t = tcp.find((x) => x.cc === cc);
    if (!t) tcp.push((t = { cc, inBps: 0, outBps: 0, inRuns: [], outRuns: [] }));
    await routeCongestionControl(lab, s.ifname, cc);
    const inBps = await tcpThroughput(lab, 'in', o.tcpSeconds);
    const outBps = await tcpThroughput(lab, 'out', o.tcpSeconds);
    t.inRuns.push(inBps);
    t.outRuns.push(outBps);
    say(`  ${label}: TCP (${cc}) in ${gbit(inBps)} Gbit/s, out ${gbit(outBps)} Gbit/s`);
  }
}

/** Measure one subject: reachability, RTT, TCP both ways per congestion control, the frame stream, RSS before and after. */
async function measure(lab: Lab, s: Subject, o: BenchOptions, say: (l: string) => void): Promise<SubjectResult> {
  await waitReachable(lab);
  const rss: number[] = s.pid ? [processRssKiB(s.pid)] : [];
  const rtt = await pingRtt(lab, 500);
  say(`  ${s.name}: ping avg ${rtt.avgUs.toFixed(0)} µs`);
  const tcp: TcpResult[] = [];
  await tcpRound(lab, s, tcp, o, s.name, say);
  const f = await frameStream(lab, s.ifname, BENCH_MAC, o.framesSeconds, s.pid);
  const cpuUsPerFrame = f.cpuUs !== undefined && f.delivered > 0 ? f.cpuUs / f.delivered : undefined;
  say(`  ${s.name}: 64 B frames ${f.delivered}/${f.offered} delivered` + (cpuUsPerFrame ? `, ${cpuUsPerFrame.toFixed(2)} µs CPU each` : ''));
  if (s.pid) rss.push(processRssKiB(s.pid));
  return {
    name: s.name, mode: s.mode, tcp, framesOffered: f.offered, framesDelivered: f.delivered,
    framesSeconds: f.seconds, cpuUsPerFrame, rttAvgUs: rtt.avgUs, rttMinUs: rtt.minUs, rssKiB: rss,
  };
}

/**
 * Rounds 2..o.tcpRounds of TCP each way with each congestion control,
 * subject after subject, so that a slow spell of the machine falls on every
 * subject alike; each result's TCP figures become the median of its rounds.
 * socat (it stalls) runs once.
 */
async function tcpRounds(lab: Lab, starts: [string, (lab: Lab) => Promise<Subject>][], results: SubjectResult[], o: BenchOptions, say: (l: string) => void): Promise<void> {
  for (let round = 2; round <= o.tcpRounds; round++) {
    for (const [name, start] of starts) {
      const r = results.find((x) => x.name === name);
      if (!r || name === 'socat') continue;
      const s = await start(lab);
      try {
        await waitReachable(lab);
        await tcpRound(lab, s, r.tcp, o, `round ${round} ${name}`, say);
      } finally {
        await s.stop();
      }
    }
  }
  for (const t of results.flatMap((r) => r.tcp)) {
    t.inBps = median(t.inRuns);
    t.outBps = median(t.outRuns);
  }
}

/** Keep traffic on vethd for `seconds` (alternating frame bursts and TCP), sampling its RSS; KiB samples. */
async function soak(lab: Lab, s: Subject, seconds: number, cc: string, say: (l: string) => void): Promise<number[]> {
  const samples: number[] = [];
  const end = Date.now() + seconds * 1000;
  await routeCongestionControl(lab, s.ifname, cc);
  while (Date.now() < end && s.pid) {
    samples.push(processRssKiB(s.pid));
    await frameStream(lab, s.ifname, BENCH_MAC, 2);
    samples.push(processRssKiB(s.pid));
    await tcpThroughput(lab, 'in', 2);
    await tcpThroughput(lab, 'out', 2);
  }
  if (s.pid) samples.push(processRssKiB(s.pid));
  say(`  soak: ${samples.length} RSS samples over ${seconds} s, ${samples[0]} -> ${samples[samples.length - 1]} KiB`);
  return samples;
}

/**
 * The vNIC-count scan: for each count n, one vethd with n vNICs on the
 * parent, and the 64-byte stream sent to the last of them; per-frame CPU
 * should not grow with n (O(1) demultiplexing).
 */
async function scale(lab: Lab, counts: number[], o: BenchOptions, say: (l: string) => void): Promise<ScaleResult[]> {
  const points: ScaleResult[] = [];
  for (const n of counts) {
    const s = await startVethdScale(lab, n, []);
    try {
      const f = await frameStream(lab, s.ifname, scaleMac(n), o.framesSeconds, s.pid);
      const cpuUsPerFrame = f.cpuUs !== undefined && f.delivered > 0 ? f.cpuUs / f.delivered : undefined;
      points.push({ vnics: n, framesOffered: f.offered, framesDelivered: f.delivered, framesSeconds: f.seconds, cpuUsPerFrame });
      say(`  ${n} vNICs: 64 B frames ${f.delivered}/${f.offered} delivered to ${s.ifname}` + (cpuUsPerFrame ? `, ${cpuUsPerFrame.toFixed(2)} µs CPU each` : ''));
    } finally {
      await s.stop();
    }
  }
  return points;
}

async function machine(): Promise<Record<string, unknown>> {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  const kernel = (await run('uname', ['-r'])).stdout.trim();
  return { date: new Date().toISOString(), kernel, cpu, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}

/** vethd@base: the checkout dir's bin/vethd; throws when it is not built. */
function baselineStart(dir: string): [string, (lab: Lab) => Promise<Subject>] {
  const bin = path.resolve(dir, 'bin', 'vethd');
  for (const f of [bin, path.resolve(dir, 'build', 'Release', 'vethd.node')])
    if (!existsSync(f)) throw new Error(`--baseline ${dir}: ${f} is missing (clone it and run npm ci there)`);
  return ['vethd@base', (lab) => startVethdSubject(lab, 'vethd@base', [], bin)];
}

/** Start each subject in turn on one lab, measure it, stop it. */
async function runBench(o: BenchOptions, say: (l: string) => void): Promise<void> {
  await checkLabHost();
  for (const t of TOOLS) {
    await run('sh', ['-c', 'command -v "$0"', t]).catch(() => {
      throw new Error(`bench tool missing: ${t} (apt-get install iperf3 netsniff-ng socat gcc)`);
    });
  }
  const starts: [string, (lab: Lab) => Promise<Subject>][] = [
    ['vethd', (lab) => startVethdSubject(lab, 'vethd', [])],
    ...o.variant.map((v): [string, (lab: Lab) => Promise<Subject>] => {
      const [name, ...args] = v.split(/\s+/);
      return [`vethd[${name}]`, (lab) => startVethdSubject(lab, `vethd[${name}]`, args)];
    }),
    ...(o.baseline ? [baselineStart(o.baseline)] : []),
    ['macvlan', startMacvlan],
    ...(o.socat ? [['socat', startSocat] as [string, (lab: Lab) => Promise<Subject>]] : []),
  ];
  say('building the bench lab: peer - br0 - fw eth0');
  const lab = await Lab.create('bench');
  try {
    const floor = await tapFloor(lab, o.floorFrames);
    say(`TAP-write floor: ${floor.cpuUsPerFrame.toFixed(3)} µs CPU per frame`);
    const results: SubjectResult[] = [];
    let soakKiB: number[] = [];
    for (const [name, start] of starts) {
      say(`${name}:`);
      const s = await start(lab);
      try {
        if (s.mode) say(`  mode: ${JSON.stringify(s.mode)}`);
        results.push(await measure(lab, s, o, say));
        if (name === 'vethd' && o.soak > 0) soakKiB = await soak(lab, s, o.soak, o.tcpCc[0], say);
      } finally {
        await s.stop();
      }
    }
    if (o.tcpRounds > 1) say(`TCP rounds 2 to ${o.tcpRounds}:`);
    await tcpRounds(lab, starts, results, o, say);
    const vethd = results.find((r) => r.name === 'vethd') as SubjectResult;
    const macvlan = results.find((r) => r.name === 'macvlan') as SubjectResult;
    if (o.vnics.length) say(`vNIC-count scan (${o.vnics.join(', ')} vNICs on one parent):`);
    const scan = o.vnics.length ? await scale(lab, o.vnics, o, say) : [];
    const scanTarget = scaleTarget(scan);
    const targets = [...checkTargets(vethd, macvlan, floor, soakKiB), ...(scanTarget ? [scanTarget] : [])];
    say('');
    for (const line of formatTable(results, floor, targets).split('\n')) say(line);
    if (scan.length) {
      say('');
      for (const line of formatScale(scan).split('\n')) say(line);
    }
    mkdirSync(path.dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify({ machine: await machine(), options: o, floor, results, soakKiB, scan, targets }, null, 2)}\n`);
    say(`\nwrote ${o.json}`);
  } finally {
    await lab.destroy();
  }
}

function ccList(v: string): string[] {
  const ccs = v.split(',').filter(Boolean);
  if (!ccs.length || ccs.some((cc) => !/^[a-z0-9_]{1,15}$/.test(cc))) throw new InvalidArgumentError('expected congestion control names, comma-separated, e.g. cubic,bbr');
  return ccs;
}

function vnicCounts(v: string): number[] {
  const counts = v.split(',').filter(Boolean).map(Number);
  const max = addonLimits().vnicsMax;
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > max)) throw new InvalidArgumentError(`expected vNIC counts from 1 to ${max}, e.g. 1,16,${max}`);
  return counts;
}

export function main(argv = process.argv): void {
  const program = new Command('vethd-bench')
    .description('measure vethd against macvlan and socat in a namespace lab')
    .option('--tcp-seconds <s>', 'iperf3 run length each way', positive, 5)
    .option('--tcp-rounds <n>', 'TCP rounds per subject (interleaved; the median is reported)', positive, 3)
    .option('--tcp-cc <list>', 'congestion controls to measure TCP with, comma-separated (set on the lab\'s routes, so connections start with it): cubic is window-based; bbr paces, so round-trip time and the sending CPU weigh too', ccList, ['cubic', 'bbr'])
    .option('--frames-seconds <s>', '64-byte frame stream length', positive, 5)
    .option('--soak <s>', 'keep traffic on vethd this long and check RSS (0: skip)', positive, 30)
    .option('--floor-frames <n>', 'write() calls per TAP-floor round', positive, 1_000_000)
    .option('--variant <spec>', 'also measure vethd with extra arguments, "NAME ARGS..." (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-socat', 'skip socat')
    .option('--baseline <dir>', 'also measure another checkout\'s build as vethd@base (e.g. a clone of an older commit, after npm ci there)')
    .option('--vnics <list>', 'vNIC counts for the per-frame cost scan, comma-separated (1 to 64; "" skips it)', vnicCounts, [1, 16, 64])
    .option('--json <file>', 'where to write the results', path.join(__dirname, '..', '..', 'bench', 'results', 'latest.json'))
    .action(async (o: BenchOptions) => {
      try {
        await runBench(o, (l) => process.stdout.write(`${l}\n`));
      } catch (err) {
        process.stderr.write(`vethd-bench: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
  program.parse(argv);
}

if (require.main === module) main();

/** The relay's compiled-in limits, from the built addon (native/relay.h is their one source). */
function addonLimits(): { vnicsMax: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(__dirname, '..', '..', 'build', 'Release', 'vethd.node')) as { limits: { vnicsMax: number } }).limits;
}
