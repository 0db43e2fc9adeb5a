/**
 * MAC addresses: parsing the forms operators write, formatting, and the checks
 * a station address must pass (IEEE 802: the I/G bit is the least-significant
 * bit of the first octet, the U/L bit the next one).
 */

import type { ErrorCode } from '../errors';

/** A MAC address error (code vethd.invalid-mac): message names the bad value and the cause. */
export class MacError extends Error {
  readonly code = 'vethd.invalid-mac' satisfies ErrorCode;
  constructor(readonly input: string, cause: string) {
    super(`invalid MAC "${input}": ${cause}`);
  }
}

const COLON_OR_DASH = /^([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})$/i;
const CISCO_DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;
const BARE = /^[0-9a-f]{12}$/i;

/**
 * Parse `02:00:c0:00:02:03`, `02-00-c0-00-02-03`, `0200.c000.0203` or
 * `0200c0000203` into 6 bytes. Throws MacError when the text is none of these.
 */
export function parseMac(text: string): Buffer {
  const s = text.trim();
  let hex: string | undefined;
  const sep = COLON_OR_DASH.exec(s);
  if (sep && !(s.includes(':') && s.includes('-'))) hex = sep.slice(1).map((o) => o.padStart(2, '0')).join('');
  const dotted = CISCO_DOTTED.exec(s);
  if (dotted) hex = dotted.slice(1).join('');
  if (BARE.test(s)) hex = s;
  if (hex === undefined) {
    throw new MacError(text, 'expected six hex octets such as 02:00:c0:00:02:03, 02-00-c0-00-02-03 or 0200.c000.0203');
  }
  return Buffer.from(hex, 'hex');
}

/** Lower-case colon form: 02:00:c0:00:02:03. */
export function formatMac(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** True when the I/G bit is set: a group (multicast or broadcast) address. */
export function isGroup(mac: Buffer): boolean {
  return (mac[0] & 0x01) !== 0;
}

/** True when the U/L bit is set: a locally administered address. */
export function isLocal(mac: Buffer): boolean {
  return (mac[0] & 0x02) !== 0;
}

/**
 * Parse text and check it can be a station's (a vNIC's) own address: not
 * all-zero, not broadcast, not multicast. Returns the 6 bytes; throws MacError.
 */
export function parseStationMac(text: string): Buffer {
  const mac = parseMac(text);
  if (mac.every((b) => b === 0)) throw new MacError(text, 'all-zero is not a station address');
  if (mac.every((b) => b === 0xff)) throw new MacError(text, 'broadcast cannot be a station address');
  if (isGroup(mac)) throw new MacError(text, 'multicast (I/G bit set) cannot be a station address');
  return mac;
}
