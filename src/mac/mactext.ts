/**
 * What `vethd mac inspect` says of an address, and the warning for a
 * universally administered vNIC MAC.
 */
import { formatMac, isGroup, isLocal } from './mac';
import { vendorOf } from './oui';

/** The IPv6 link-local address a MAC yields by modified EUI-64 (RFC 4291 appendix A): U/L bit flipped, ff:fe inserted. */
export function eui64LinkLocal(mac: Buffer): string {
  const b = [mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]];
  const groups = [0, 2, 4, 6].map((i) => ((b[i] << 8) | b[i + 1]).toString(16));
  // The WHATWG URL serializer writes the RFC 5952 canonical form (longest zero run as ::).
  return new URL(`http://[fe80:0:0:0:${groups.join(':')}]`).hostname.slice(1, -1);
}

export interface MacFacts {
  address: string;
  cast: 'unicast' | 'multicast' | 'broadcast';
  administered: 'locally administered' | 'universally administered';
  /** Registered organisation of the OUI (universally administered addresses only). */
  vendor?: string;
  oui: string;
  /** Only for unicast addresses. */
  ipv6LinkLocal?: string;
}

export function macFacts(mac: Buffer): MacFacts {
  const broadcast = mac.every((b) => b === 0xff);
  const cast = broadcast ? 'broadcast' : isGroup(mac) ? 'multicast' : 'unicast';
  return {
    address: formatMac(mac),
    cast,
    administered: isLocal(mac) ? 'locally administered' : 'universally administered',
    vendor: vendorOf(mac),
    oui: formatMac(mac).slice(0, 8),
    ipv6LinkLocal: cast === 'unicast' ? eui64LinkLocal(mac) : undefined,
  };
}

/** `vethd mac inspect` output: aligned "key  value" lines. */
export function inspectLines(mac: Buffer): string[] {
  const f = macFacts(mac);
  const vendor = f.administered === 'locally administered' ? '(none: locally administered)' : (f.vendor ?? `(OUI ${f.oui} not registered)`);
  return [
    `address          ${f.address}`,
    `type             ${f.cast}, ${f.administered}`,
    `vendor           ${vendor}`,
    `OUI              ${f.oui}`,
    `IPv6 link-local  ${f.ipv6LinkLocal ?? '(none: not a station address)'}`,
  ];
}

/** The warning for a universally administered vNIC MAC, or undefined for a locally administered one. */
export function universalWarning(mac: Buffer): string | undefined {
  if (isLocal(mac)) return undefined;
  const vendor = vendorOf(mac);
  const owner = vendor ? `registered to ${vendor}` : `in OUI ${formatMac(mac).slice(0, 8)} (not registered)`;
  return (
    `MAC ${formatMac(mac)} is universally administered, ${owner}: a real NIC may carry it, and a duplicate on the ` +
    'segment breaks both stations; a locally administered address (first octet x2, x6, xA or xE, e.g. 02:...) cannot clash with one'
  );
}
