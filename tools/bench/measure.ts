/**
 * The bench's measurements, each run inside the lab's namespaces: iperf3 TCP
 * each way, a trafgen (PACKET_MMAP) stream of 64-byte frames, ping RTT,
 * process CPU and RSS from /proc, and the TAP-write floor (bench/tapfloor.c).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PEER_IP, PEER_MAC, type Lab } from '../lab/lab';
import { trafgenConfig } from '../lab/trafgen';
import { run, waitFor } from '../lab/exec';
import type { FloorResult } from './report';

/** The vNIC's address in the bench; the peer is PEER_IP on the same /24. */
export const BENCH_IP = '192.0.2.50';
const IPERF_PORT = '5201';
/** EtherType of the 64-byte test frames (IEEE 802 local experimental): the vNIC's stack counts and drops them. */
const FRAME_TYPE = 0x88b5;

/** A counter of a device in the fw or peer namespace (/sys/class/net/IF/statistics/NAME). */
async function devCounter(lab: Lab, host: 'fw' | 'peer', ifname: string, name: string): Promise<number> {
  const r = await lab.exec(host, 'cat', [`/sys/class/net/${ifname}/statistics/${name}`]);
  return Number(r.stdout.trim());
}

/** User+system CPU of a process and all its threads, µs (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Resident set size of a process, KiB (/proc/PID/status VmRSS). */
export function processRssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`pid ${pid}: no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** Resolve once the peer reaches BENCH_IP (the relay is up and ARP resolved). */
export async function waitReachable(lab: Lab): Promise<void> {
  await run('ip', ['-n', lab.ns('peer'), 'neigh', 'flush', 'dev', 'eth0']);
  await waitFor(`peer to reach ${BENCH_IP}`, () =>
    lab.exec('peer', 'ping', ['-c', '1', '-W', '1', BENCH_IP]).then(() => true, () => false), 15_000);
}

/** ping RTT peer -> vNIC over `count` echo requests 2 ms apart; µs. */
export async function pingRtt(lab: Lab, count: number): Promise<{ avgUs: number; minUs: number }> {
  const r = await lab.exec('peer', 'ping', ['-q', '-c', String(count), '-i', '0.002', '-W', '1', BENCH_IP], 60_000);
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(r.stdout);
  if (!m) throw new Error(`ping: no rtt summary in: ${r.stdout.trim()}`);
  return { minUs: Number(m[1]) * 1000, avgUs: Number(m[2]) * 1000 };
}

/**
 * Make every TCP connection between the peer and the vNIC start with
 * congestion control `cc`: a host route at each end with `congctl` (route
 * metric RTAX_CC_ALGO, applied when a connection opens, actively or
 * passively). iperf3 -C is no substitute: it sets TCP_CONGESTION once the
 * connection is established, after the namespace's default control has run
 * its init, and bbr's (this VM's default) leaves internal pacing on
 * (sk_pacing_status), so "cubic" would send paced by hrtimers, as no cubic
 * host does. Throws with ip's error when the kernel lacks cc. The fw route
 * goes with the vNIC; the peer's is replaced on the next call.
 */
export async function routeCongestionControl(lab: Lab, vnic: string, cc: string): Promise<void> {
  await lab.exec('fw', 'ip', ['route', 'replace', `${PEER_IP}/32`, 'dev', vnic, 'congctl', cc]);
  await lab.exec('peer', 'ip', ['route', 'replace', `${BENCH_IP}/32`, 'dev', 'eth0', 'congctl', cc]);
}

/**
 * TCP throughput with iperf3 for `seconds`: `in` = peer sends to the vNIC,
 * `out` = the vNIC sends to the peer (-R), with the congestion control the
 * lab's routes give (routeCongestionControl; else the namespaces' default).
 * Returns iperf3's receiver bits/s, or 0 when the transfer stalled (no report
 * within 15 s of its end); throws with iperf3's error otherwise.
 */
export async function tcpThroughput(lab: Lab, dir: 'in' | 'out', seconds: number): Promise<number> {
  const server = lab.spawn('fw', 'iperf3', ['-s', '-1', '-B', BENCH_IP, '-p', IPERF_PORT]);
  try {
    await waitFor('iperf3 server to listen', async () => {
      if (server.exitCode !== null) throw new Error(`iperf3 -s exited ${server.exitCode}`);
      const ss = await lab.exec('fw', 'ss', ['-Hltn', `sport = :${IPERF_PORT}`]);
      return ss.stdout.includes(`:${IPERF_PORT}`);
    });
    const args = ['-c', BENCH_IP, '-p', IPERF_PORT, '-t', String(seconds), '-J', ...(dir === 'out' ? ['-R'] : [])];
    // A relay that cannot carry the peer's GSO super-frames (socat) stalls the transfer: that is 0 bit/s.
    const r = await lab.exec('peer', 'iperf3', args, (seconds + 15) * 1000).catch((err: Error) => {
      if (/killed after/.test(err.message)) return undefined;
      throw err;
    });
    if (!r) return 0;
    const json = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
    const bps = json.end?.sum_received?.bits_per_second;
    if (bps === undefined) throw new Error(`iperf3 ${dir}: ${json.error ?? 'no sum_received in its report'}`);
    return bps;
  } finally {
    server.kill('SIGKILL');
  }
}

export interface FrameRun {
  offered: number;
  delivered: number;
  seconds: number;
  /** Relay process CPU over the run, µs (undefined without a pid). */
  cpuUs?: number;
}

/**
 * Offer 64-byte frames addressed to `mac` from the peer as fast as trafgen
 * (one CPU, PACKET_MMAP TX ring, qdisc bypassed) can for `seconds`, then wait
 * until the vNIC's receive counter settles. Offered = frames the parent (fw
 * eth0) received; delivered = frames the vNIC received.
 */
export async function frameStream(lab: Lab, vnic: string, mac: string, seconds: number, pid?: number): Promise<FrameRun> {
  const conf = lab.file('bench-frames.cfg', trafgenConfig([{ dst: mac, src: PEER_MAC, type: FRAME_TYPE }]));
  const parent0 = await devCounter(lab, 'fw', 'eth0', 'rx_packets');
  const vnic0 = await devCounter(lab, 'fw', vnic, 'rx_packets');
  const cpu0 = pid === undefined ? 0 : processCpuUs(pid);
  const t0 = Date.now();
  // timeout(1) signals trafgen's whole process group: its per-CPU workers too. Exit 124 = stopped on time.
  const args = ['-s', 'INT', String(seconds), 'trafgen', '--dev', 'eth0', '--conf', conf, '--no-sock-mem', '--notouch-irq', '--cpus', '1', '--no-cpu-stats'];
  await lab.exec('peer', 'timeout', args, (seconds + 20) * 1000).catch((err: Error) => {
    if (!/exit 124/.test(err.message)) throw err;
  });
  const elapsed = (Date.now() - t0) / 1000;
  let last = -1;
  const vnic1 = await waitFor('the vNIC receive counter to settle', async () => {
    const now = await devCounter(lab, 'fw', vnic, 'rx_packets');
    const settled = now === last;
    last = now;
    return settled ? now : undefined;
  }, 10_000, 200);
  const cpuUs = pid === undefined ? undefined : processCpuUs(pid) - cpu0;
  const parent1 = await devCounter(lab, 'fw', 'eth0', 'rx_packets');
  return { offered: parent1 - parent0, delivered: vnic1 - vnic0, seconds: elapsed, cpuUs };
}

/**
 * The TAP-write floor: compile bench/tapfloor.c into the lab's scratch
 * directory and run it in fw `rounds` times; the lowest CPU per frame wins
 * (the least disturbed round).
 */
export async function tapFloor(lab: Lab, frames: number, rounds = 3): Promise<FloorResult> {
  const src = path.join(__dirname, '..', '..', 'bench', 'tapfloor.c');
  const bin = path.join(lab.dir, 'tapfloor');
  await run('cc', ['-O2', '-o', bin, src]);
  let best: FloorResult | undefined;
  for (let i = 0; i < rounds; i++) {
    const r = await lab.exec('fw', bin, ['tapfloor0', String(frames)], 120_000);
    const j = JSON.parse(r.stdout) as { frames: number; cpu_us_per_frame: number };
    if (!best || j.cpu_us_per_frame < best.cpuUsPerFrame) best = { frames: j.frames, cpuUsPerFrame: j.cpu_us_per_frame };
  }
  return best as FloorResult;
}
