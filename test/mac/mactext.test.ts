import { expect, test } from 'vitest';
import { parseMac } from '../../src/mac/mac';
import { eui64LinkLocal, inspectLines, macFacts, universalWarning } from '../../src/mac/mactext';

test('the Raspberry Pi Foundation OUI, from the IEEE registry', () => {
  const f = macFacts(parseMac('b8:27:eb:12:34:56'));
  expect(f).toMatchObject({ cast: 'unicast', administered: 'universally administered', vendor: 'Raspberry Pi Foundation', oui: 'b8:27:eb' });
  expect(f.ipv6LinkLocal).toBe('fe80::ba27:ebff:fe12:3456');
});

test('EUI-64 link-local: U/L bit flipped, ff:fe inserted, canonical text (RFC 5952)', () => {
  expect(eui64LinkLocal(parseMac('02:00:c0:00:02:03'))).toBe('fe80::c0ff:fe00:203');
  expect(eui64LinkLocal(parseMac('00:16:3e:00:00:01'))).toBe('fe80::216:3eff:fe00:1');
});

test('inspect lines for a locally administered and a multicast address', () => {
  expect(inspectLines(parseMac('02:00:c0:00:02:03'))).toEqual([
    'address          02:00:c0:00:02:03',
    'type             unicast, locally administered',
    'vendor           (none: locally administered)',
    'OUI              02:00:c0',
    'IPv6 link-local  fe80::c0ff:fe00:203',
  ]);
  expect(inspectLines(parseMac('33:33:00:00:00:01'))[1]).toBe('type             multicast, locally administered');
  expect(inspectLines(parseMac('ff:ff:ff:ff:ff:ff'))[4]).toBe('IPv6 link-local  (none: not a station address)');
});

test('a universally administered vNIC MAC gets a warning naming the vendor; a local one none', () => {
  expect(universalWarning(parseMac('00:16:3e:00:00:01'))).toMatch(/^MAC 00:16:3e:00:00:01 is universally administered, registered to Xensource, Inc\.: .*locally administered/);
  expect(universalWarning(parseMac('02:00:c0:00:02:03'))).toBeUndefined();
});
