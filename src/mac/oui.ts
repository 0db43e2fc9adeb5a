/**
 * Vendor look-up from the IEEE MA-L (OUI) registry, via the maintained
 * `oui-data` package. The 5 MB table is loaded on first use only.
 */

let table: Record<string, string> | undefined;

/** The registered organisation for mac's first three octets, or undefined (unregistered, or locally administered). */
export function vendorOf(mac: Buffer): string | undefined {
  if (mac[0] & 0x02) return undefined; // locally administered: no OUI applies
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  table ??= require('oui-data') as Record<string, string>;
  const entry = table[mac.subarray(0, 3).toString('hex').toUpperCase()];
  return entry?.split('\n')[0].trim();
}
