/**
 * Link state read from sysfs (/sys/class/net/<name>/...): at start-up, and
 * after rtnetlink events were lost. Everything else comes from link events.
 */
import { readFileSync } from 'node:fs';

/** The parent's operstate from sysfs: "up" -> true, "down"/"lowerlayerdown" -> false, else undefined. */
export function sysfsOperUp(ifname: string, sysfs = '/sys/class/net'): boolean | undefined {
  try {
    const state = readFileSync(`${sysfs}/${ifname}/operstate`, 'utf8').trim();
    if (state === 'up') return true;
    if (state === 'down' || state === 'lowerlayerdown' || state === 'dormant') return false;
    return undefined;
  } catch {
    return false; // gone
  }
}

/** The ifindex of ifname from sysfs, undefined when there is no such device here. */
export function sysfsIfindex(ifname: string, sysfs = '/sys/class/net'): number | undefined {
  try {
    return Number.parseInt(readFileSync(`${sysfs}/${ifname}/ifindex`, 'utf8'), 10);
  } catch {
    return undefined;
  }
}
