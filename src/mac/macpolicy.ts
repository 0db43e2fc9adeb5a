/**
 * How the vNIC's MAC is chosen (`-m`): an explicit address, or a policy.
 *
 *   persistent     the default: stable for the same (vNIC, parent) names on this host, across
 *                  restarts and reboots: HMAC-SHA256 keyed by /etc/machine-id (the idea of
 *                  systemd's MACAddressPolicy=persistent), I/G bit cleared, U/L bit set
 *   random         locally administered unicast, new at every start
 *   ip:192.0.2.3   the 02:00:<IPv4 octets> scheme: 02:00:c0:00:02:03
 *   oui:00:16:3e   that prefix (e.g. Xen's), the last three octets from the persistent hash
 *
 * Pure functions: the machine id and the random source are passed in.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { codedError } from '../errors';
import { MacError, parseStationMac } from './mac';

/** What -m asks for, parsed (parseMacSpec): an explicit address, or a policy (see the top of this file); resolveMac() turns it into 6 bytes. */
export type MacSpec =
  | { kind: 'explicit'; mac: Buffer }
  | { kind: 'persistent' }
  | { kind: 'random' }
  | { kind: 'ip'; ip: string }
  | { kind: 'oui'; prefix: Buffer };

/** The policy forms -m accepts besides an address, as help text shows them. */
export const MAC_POLICIES = ['persistent', 'random', 'ip:<IPv4>', 'oui:<xx:xx:xx>'] as const;

/** Parse an `-m` value: a policy name or an explicit station address. Throws MacError naming the value. */
export function parseMacSpec(text: string): MacSpec {
  const s = text.trim().toLowerCase();
  if (s === 'persistent') return { kind: 'persistent' };
  if (s === 'random') return { kind: 'random' };
  if (s.startsWith('ip:')) {
    const ip = s.slice(3);
    if (!isIPv4(ip)) throw new MacError(text, `"${ip}" is not an IPv4 address (ip:192.0.2.3 gives 02:00:c0:00:02:03)`);
    return { kind: 'ip', ip };
  }
  if (s.startsWith('oui:')) {
    const m = /^([0-9a-f]{2})[:-]?([0-9a-f]{2})[:-]?([0-9a-f]{2})$/.exec(s.slice(4));
    if (!m) throw new MacError(text, 'expected a 3-octet prefix such as oui:00:16:3e');
    const prefix = Buffer.from(m.slice(1).join(''), 'hex');
    if (prefix[0] & 0x01) throw new MacError(text, 'the prefix has the I/G bit set: a multicast OUI cannot start a station address');
    return { kind: 'oui', prefix };
  }
  if (/^[a-z]+$/.test(s)) throw new MacError(text, `unknown policy; use an address or one of ${MAC_POLICIES.join(', ')}`);
  return { kind: 'explicit', mac: parseStationMac(text) };
}

/** What resolveMac needs besides the spec: the machine id and the names the persistent MAC is derived from, and a random source. */
export interface MacContext {
  /** /etc/machine-id contents (32 hex digits); needed by persistent and oui. */
  machineId?: string;
  /** vNIC name. */
  tap: string;
  /** Parent name. */
  parent: string;
  /** Source of random bytes (default crypto.randomBytes). */
  random?: (n: number) => Buffer;
}

/** 6 bytes derived from the machine id and the interface names; never the machine id itself (HMAC). */
export function persistentBytes(ctx: MacContext): Buffer {
  const id = ctx.machineId?.trim();
  if (!id || !/^[0-9a-f]{32}$/i.test(id)) {
    throw codedError('vethd.no-machine-id', 'cannot derive a persistent MAC: no valid /etc/machine-id (give -m an address, or -m random)');
  }
  return createHmac('sha256', Buffer.from(id.toLowerCase(), 'hex'))
    .update(`vethd\0${ctx.tap}\0${ctx.parent}`)
    .digest()
    .subarray(0, 6);
}

/** Unicast (I/G cleared), locally administered (U/L set). */
function localUnicast(b: Buffer): Buffer {
  const mac = Buffer.from(b);
  mac[0] = (mac[0] & 0xfe) | 0x02;
  return mac;
}

/** The 6-byte MAC a spec yields in ctx. Throws when persistent/oui have no machine id. */
export function resolveMac(spec: MacSpec, ctx: MacContext): Buffer {
  switch (spec.kind) {
    case 'explicit':
      return spec.mac;
    case 'persistent':
      return localUnicast(persistentBytes(ctx));
    case 'random':
      return localUnicast((ctx.random ?? randomBytes)(6));
    case 'ip':
      return Buffer.from([0x02, 0x00, ...spec.ip.split('.').map(Number)]);
    case 'oui':
      return Buffer.concat([spec.prefix, persistentBytes(ctx).subarray(3, 6)]);
  }
}

