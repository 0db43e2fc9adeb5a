/**
 * The bench's verdicts and table: pure functions from measured figures to
 * ratios, target checks and text. No I/O, so they are unit-tested directly.
 */

/** What the bench measured for one relay (vethd, a vethd variant, macvlan or socat). */
export interface SubjectResult {
  /** Column name: "vethd", "vethd[recvmsg]", "macvlan", "socat". */
  name: string;
  /** vethd's "relay mode" log line fields, when the subject is vethd. */
  mode?: Record<string, unknown>;
  /** TCP each way, one entry per sender congestion control, in the bench's --tcp-cc order. */
  tcp: TcpResult[];
  /** 64-byte frames that reached the parent (its rx_packets delta) while the generator ran. */
  framesOffered: number;
  /** Of those, frames the vNIC received (its rx_packets delta). */
  framesDelivered: number;
  /** Generator run time, seconds. */
  framesSeconds: number;
  /** Relay process CPU (user+system) per delivered frame, µs; undefined for macvlan (no process). */
  cpuUsPerFrame?: number;
  /** ping RTT peer -> vNIC, µs. */
  rttAvgUs: number;
  rttMinUs: number;
  /** Relay process RSS samples, KiB, in time order (first after warm-up); empty for macvlan. */
  rssKiB: number[];
}

/**
 * TCP through one relay with one congestion control on the sending side
 * (set on the lab's routes; the peer sends in, the vNIC out): bits/s, iperf3's
 * receiver figure.
 * A window-based control (cubic) is bound by CPU per byte; with a pacing one
 * (bbr) the relay's round-trip time and the sender's CPU weigh too.
 */
export interface TcpResult {
  /** The congestion control's kernel name: "cubic", "bbr". */
  cc: string;
  /** peer -> vNIC: the median of inRuns. */
  inBps: number;
  /** vNIC -> peer: the median of outRuns. */
  outBps: number;
  /** Each round's peer -> vNIC figure. */
  inRuns: number[];
  /** Each round's vNIC -> peer figure. */
  outRuns: number[];
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The TAP-write floor: one write() per 64-byte frame, measured in the same run. */
export interface FloorResult {
  frames: number;
  cpuUsPerFrame: number;
}

export interface Target {
  name: string;
  /** The measured figure (ratio, µs or KiB as `unit` says). */
  value: number;
  /** The limit from issue 5. */
  limit: number;
  unit: string;
  /** "min": value must be >= limit; "max": value must be <= limit. */
  kind: 'min' | 'max';
  pass: boolean;
}

/** Growth of RSS over a run, KiB: mean of the last third of samples minus mean of the first third (0 with < 3 samples). */
export function rssGrowthKiB(samples: number[]): number {
  if (samples.length < 3) return 0;
  const third = Math.floor(samples.length / 3);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return mean(samples.slice(-third)) - mean(samples.slice(0, third));
}

/** Delivered fraction of the offered 64-byte frames (0 when nothing was offered). */
export function deliveredRatio(r: SubjectResult): number {
  return r.framesOffered > 0 ? Math.min(1, r.framesDelivered / r.framesOffered) : 0;
}

/** RSS growth allowed over a soak: allocator and page-cache noise, not a leak. */
export const RSS_NOISE_KIB = 1024;

function target(name: string, value: number, limit: number, unit: string, kind: 'min' | 'max'): Target {
  return { name, value, limit, unit, kind, pass: kind === 'min' ? value >= limit : value <= limit };
}

/** Issue 5's targets for `vethd` against macvlan and the floor of the same run. */
export function checkTargets(vethd: SubjectResult, macvlan: SubjectResult, floor: FloorResult, soakKiB: number[]): Target[] {
  const t: Target[] = [];
  for (const v of vethd.tcp) {
    const m = macvlan.tcp.find((x) => x.cc === v.cc);
    if (!m) continue;
    t.push(target(`TCP in vs macvlan (${v.cc})`, v.inBps / m.inBps, 0.9, 'x', 'min'));
    t.push(target(`TCP out vs macvlan (${v.cc})`, v.outBps / m.outBps, 0.9, 'x', 'min'));
  }
  t.push(target('64-byte frames delivered', deliveredRatio(vethd), 0.99, 'of offered', 'min'));
  if (vethd.cpuUsPerFrame !== undefined) t.push(target('CPU per frame vs TAP-write floor', vethd.cpuUsPerFrame / floor.cpuUsPerFrame, 1.3, 'x', 'max'));
  t.push(target('ping RTT over macvlan', vethd.rttAvgUs - macvlan.rttAvgUs, 30, 'µs', 'max'));
  if (soakKiB.length >= 3) t.push(target('RSS growth during soak', rssGrowthKiB(soakKiB), RSS_NOISE_KIB, 'KiB', 'max'));
  return t;
}

const fmt = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

interface Row {
  label: string;
  value: (r: SubjectResult) => number | undefined;
  digits: number;
}

/** Two rows per congestion control: TCP in, TCP out (a subject without that control shows "-"). */
function tcpRows(ccs: string[]): Row[] {
  const bps = (r: SubjectResult, cc: string, dir: 'inBps' | 'outBps') => {
    const x = r.tcp.find((t) => t.cc === cc);
    return x ? x[dir] / 1e9 : undefined;
  };
  return ccs.flatMap((cc) => [
    { label: `TCP in (${cc}), Gbit/s`, value: (r: SubjectResult) => bps(r, cc, 'inBps'), digits: 2 },
    { label: `TCP out (${cc}), Gbit/s`, value: (r: SubjectResult) => bps(r, cc, 'outBps'), digits: 2 },
  ]);
}

const ROWS: Row[] = [
  { label: '64 B offered, kpps', value: (r) => r.framesOffered / r.framesSeconds / 1e3, digits: 0 },
  { label: '64 B delivered, %', value: (r) => deliveredRatio(r) * 100, digits: 1 },
  { label: 'CPU per frame, µs', value: (r) => r.cpuUsPerFrame, digits: 2 },
  { label: 'ping RTT avg, µs', value: (r) => r.rttAvgUs, digits: 0 },
  { label: 'RSS, MiB', value: (r) => (r.rssKiB.length ? r.rssKiB[r.rssKiB.length - 1] / 1024 : undefined), digits: 1 },
];

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/**
 * The results as a fixed-width table: one column per subject, then vethd's
 * ratio to macvlan and to socat, then the floor and the target checks.
 */
export function formatTable(results: SubjectResult[], floor: FloorResult, targets: Target[]): string {
  const by = (n: string) => results.find((r) => r.name === n);
  const vethd = by('vethd');
  const refs = ['macvlan', 'socat'].map(by).filter((r): r is SubjectResult => r !== undefined);
  const head = ['', ...results.map((r) => r.name), ...refs.map((r) => `vethd/${r.name}`)];
  const ccs = [...new Set(results.flatMap((r) => r.tcp.map((t) => t.cc)))];
  const body = [...tcpRows(ccs), ...ROWS].map((row) => {
    const ratios = refs.map((ref) => {
      const a = vethd ? row.value(vethd) : undefined;
      const b = row.value(ref);
      return a === undefined || b === undefined || b === 0 ? '-' : fmt(a / b, 2);
    });
    return [row.label, ...results.map((r) => fmt(row.value(r), row.digits)), ...ratios];
  });
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((cells) => cells[i].length)));
  const lines = [pad(head, widths), ...body.map((cells) => pad(cells, widths))];
  lines.push('', `TAP-write floor: ${fmt(floor.cpuUsPerFrame, 2)} µs CPU per 64-byte frame (${floor.frames} write() calls)`);
  for (const t of targets) {
    const op = t.kind === 'min' ? '>=' : '<=';
    lines.push(`${t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${fmt(t.value, 3)} ${t.unit} (target ${op} ${t.limit})`);
  }
  return lines.join('\n');
}

/** One point of the vNIC-count scan: 64-byte frames to the last of `vnics` vNICs sharing the parent. */
export interface ScaleResult {
  /** vNICs on the one parent (one vethd, one packet socket). */
  vnics: number;
  framesOffered: number;
  framesDelivered: number;
  framesSeconds: number;
  /** vethd's CPU (user+system) per delivered frame, µs. */
  cpuUsPerFrame?: number;
}

/** Most growth of per-frame CPU allowed from the fewest vNICs to the most (issue 7: "flat"). */
export const SCALE_LIMIT = 1.25;

/** Per-frame CPU with the most vNICs over that with the fewest; undefined with fewer than two points. */
export function scaleTarget(points: ScaleResult[]): Target | undefined {
  const ok = points.filter((p) => p.cpuUsPerFrame !== undefined && p.framesDelivered > 0);
  if (ok.length < 2) return undefined;
  const few = ok.reduce((a, b) => (b.vnics < a.vnics ? b : a));
  const many = ok.reduce((a, b) => (b.vnics > a.vnics ? b : a));
  return target(`CPU per frame, ${many.vnics} vNICs vs ${few.vnics}`, (many.cpuUsPerFrame as number) / (few.cpuUsPerFrame as number), SCALE_LIMIT, 'x', 'max');
}

/** The scan as a table: one row per vNIC count, its CPU per frame against the first row's. */
export function formatScale(points: ScaleResult[]): string {
  const base = points[0]?.cpuUsPerFrame;
  const head = ['vNICs', 'offered, kpps', 'delivered, %', 'CPU per frame, µs', 'vs first'];
  const body = points.map((p) => [
    String(p.vnics),
    fmt(p.framesOffered / p.framesSeconds / 1e3, 0),
    fmt(p.framesOffered > 0 ? Math.min(1, p.framesDelivered / p.framesOffered) * 100 : undefined, 1),
    fmt(p.cpuUsPerFrame, 2),
    base && p.cpuUsPerFrame !== undefined ? fmt(p.cpuUsPerFrame / base, 2) : '-',
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((cells) => cells[i].length)));
  return [pad(head, widths), ...body.map((cells) => pad(cells, widths))].join('\n');
}
