/**
 * MAC collisions. Before the vNIC comes up: no interface on this host (this
 * network namespace) may already have the MAC. On the wire: frames from the
 * parent whose source is the vNIC's MAC mean another station has it; the C
 * classifier counts them as `mac_conflict`, and ConflictWatch turns the
 * counter into one warning per burst.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ErrorCode } from '../errors';
import { formatMac } from '../mac/mac';

/** Interfaces whose MAC is mac, from sysfs (/sys/class/net/<name>/address). */
export function localUsers(mac: Buffer, sysfs = '/sys/class/net'): string[] {
  const want = formatMac(mac);
  const users: string[] = [];
  for (const name of readdirSync(sysfs)) {
    try {
      if (readFileSync(path.join(sysfs, name, 'address'), 'utf8').trim().toLowerCase() === want) users.push(name);
    } catch {
      /* vanished, or no address */
    }
  }
  return users;
}

/** A collision error (code vethd.mac-conflict): one line naming the MAC and who has it. */
export class MacConflictError extends Error {
  readonly code = 'vethd.mac-conflict' satisfies ErrorCode;
  constructor(message: string) {
    super(message);
  }
}

/**
 * Turns the mac_conflict counter into events: `observe(count, now)` returns
 * 'new-burst' for the first increase after at least gapMs without one (the
 * moment to warn), 'ongoing' for later increases in the same burst, and
 * undefined when the counter did not move.
 */
export class ConflictWatch {
  private last: number;
  private lastIncreaseAt = -Infinity;

  constructor(initial: number, private readonly gapMs = 10_000) {
    this.last = initial;
  }

  /** Whether the counter rose within gapMs before now: a conflict going on. */
  ongoing(now: number): boolean {
    return now - this.lastIncreaseAt < this.gapMs;
  }

  observe(count: number, now: number): 'new-burst' | 'ongoing' | undefined {
    if (count <= this.last) return undefined;
    this.last = count;
    const fresh = now - this.lastIncreaseAt >= this.gapMs;
    this.lastIncreaseAt = now;
    return fresh ? 'new-burst' : 'ongoing';
  }
}
