/**
 * The host's machine id (machine-id(5)): 32 lower-case hex digits, the key of
 * the persistent MAC policy. Never logged or printed.
 */
import { readFileSync } from 'node:fs';

const PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** The machine id, or undefined when neither file holds a valid one. */
export function readMachineId(paths: string[] = PATHS): string | undefined {
  for (const p of paths) {
    try {
      const id = readFileSync(p, 'utf8').trim();
      if (/^[0-9a-f]{32}$/i.test(id)) return id.toLowerCase();
    } catch {
      /* try the next */
    }
  }
  return undefined;
}
