/**
 * The counters vethd logs when it stops, in short: only the ones that are not
 * zero. The full set (every drop reason, both directions, per vNIC and in
 * total) is about a hundred numbers, most of them 0; SIGUSR1 and /metrics
 * give all of them.
 */
import type { DirectionStats, RelayStats } from '../native/native';

/** One direction's non-zero counters: frames, bytes and drops by reason, each left out when 0. */
export type DirectionSummary = Partial<Pick<DirectionStats, 'frames' | 'bytes'>> & { drops?: Partial<DirectionStats['drops']> };

/** A vNIC's non-zero counters, named by its device (and namespace: two vNICs may share a name in two namespaces). */
export interface VnicSummary {
  device: string;
  netns?: string;
  receive?: DirectionSummary;
  transmit?: DirectionSummary;
}

/** The relay's non-zero counters: the vNICs that moved or dropped a frame, in the relay's order, and the unrouted drops; {} when nothing did. */
export interface StatsSummary {
  vnics?: VnicSummary[];
  unrouted?: DirectionSummary;
}

/** d without its zero counters; undefined when every one is 0. */
function direction(d: DirectionStats): DirectionSummary | undefined {
  const drops = Object.fromEntries(Object.entries(d.drops).filter(([, n]) => n !== 0));
  const s: DirectionSummary = { ...(d.frames ? { frames: d.frames } : {}), ...(d.bytes ? { bytes: d.bytes } : {}), ...(Object.keys(drops).length ? { drops } : {}) };
  return Object.keys(s).length ? s : undefined;
}

/** stats in short (see StatsSummary); vnics: each vNIC's device and namespace, in stats.vnics order. */
export function statsSummary(stats: RelayStats, vnics: { tap: string; netns?: string }[]): StatsSummary {
  const rows = stats.vnics.flatMap((v, i): VnicSummary[] => {
    const receive = direction(v.receive);
    const transmit = direction(v.transmit);
    if (!receive && !transmit) return [];
    const { tap, netns } = vnics[i] ?? { tap: `vNIC ${i}` };
    return [{ device: tap, ...(netns ? { netns } : {}), ...(receive ? { receive } : {}), ...(transmit ? { transmit } : {}) }];
  });
  const unrouted = direction(stats.unrouted);
  return { ...(rows.length ? { vnics: rows } : {}), ...(unrouted ? { unrouted } : {}) };
}

/** A direction's drops in words: "dropped tap_down 2, own_echo 1"; '' for none. */
function dropsText(d: DirectionSummary): string {
  const drops = Object.entries(d.drops ?? {});
  return drops.length ? `dropped ${drops.map(([reason, n]) => `${reason} ${n}`).join(', ')}` : '';
}

/** One direction in words: "7 frames, 700 bytes, dropped tap_down 2", "no frames, dropped ra_guard 1". */
function directionText(d: DirectionSummary): string {
  return [d.frames ? `${d.frames} frames` : 'no frames', ...(d.bytes ? [`${d.bytes} bytes`] : []), dropsText(d)].filter(Boolean).join(', ');
}

/**
 * s as lines for a person (pretty logs): a line per vNIC, one for the
 * unrouted drops; "nothing relayed or dropped" for an empty summary.
 */
export function summaryLines(s: StatsSummary): string[] {
  const lines = (s.vnics ?? []).map((v) => {
    const dirs = [...(v.receive ? [`received ${directionText(v.receive)}`] : []), ...(v.transmit ? [`sent ${directionText(v.transmit)}`] : [])];
    return `${v.device}${v.netns ? ` (${v.netns})` : ''}: ${dirs.join('; ')}`;
  });
  if (s.unrouted) lines.push(`unrouted: ${dropsText(s.unrouted)}`); // frames that reached no vNIC: drops only
  return lines.length ? lines : ['nothing relayed or dropped'];
}
