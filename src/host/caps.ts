/**
 * The one log line that says what dropping the capabilities came to: true of
 * every thread, naming any that kept its set and why (native/caps.h).
 */
import type { CapsReport } from '../native/native';

/** Why thread h could keep its capabilities, and what bounds it. */
function holderText(h: CapsReport['held'][number]): string {
  const who = `thread ${h.tid} (${h.name || 'unnamed'})`;
  if (!h.masked) return `${who} did not answer the request to drop them within 500 ms`;
  return `${who} blocks every signal it could be asked with, so it kept them; it runs only Node.js's own code (Node 20's inspector SIGUSR1 watcher is such a thread: it sleeps until Node's SIGUSR1 handler wakes it, and bin/vethd replaced that handler before set-up)`;
}

/** Capability numbers vethd may keep (linux/capability.h), by name. */
export const CAP = Object.freeze({ CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21, CAP_BPF: 39 });

const capName = (n: number) => Object.entries(CAP).find(([, v]) => v === n)?.[0] ?? `capability ${n}`;

/**
 * "capabilities dropped (N of N threads hold none)", or which threads still
 * hold and why; with kept, what the JS thread keeps and what for.
 */
export function capsDroppedLine(caps: Pick<CapsReport, 'threads' | 'holding' | 'held'> & { kept?: number[] }): string {
  const kept = caps.kept ?? [];
  const keeper = kept.length ? 1 : 0;
  const counts = `${caps.threads - caps.holding - keeper} of ${caps.threads} threads hold none${kept.length ? `; the JS thread keeps ${kept.map(capName).join(' and ')}, to add vNICs through the control socket` : ''}`;
  if (caps.holding === 0) return `capabilities dropped (${counts})`;
  const unnamed = caps.holding - caps.held.length;
  const named = caps.held.map(holderText).join('; ');
  return `capabilities dropped (${counts}): ${named}${unnamed > 0 ? `; and ${unnamed} more` : ''}`;
}
