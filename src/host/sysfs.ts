/**
 * Link state read from sysfs (/sys/class/net/<name>/...): at start-up, and
 * after rtnetlink events were lost. Everything else comes from link events.
 */
import { readFileSync } from 'node:fs';

/**
 * Whether ifname is up, from its sysfs operstate (RFC 2863 names): "up" -> true;
 * "down", "lowerlayerdown" and "dormant" -> false; any other state ("unknown",
 * "notpresent", "testing") -> undefined (not known); no such interface (the file
 * cannot be read) -> false.
 */
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
