import { describe, expect, test } from 'vitest';
import { formatMac, isGroup, isLocal, MacError, parseMac, parseStationMac } from '../../src/mac/mac';

describe('parseMac', () => {
  test.each([
    ['02:00:c0:00:02:03'],
    ['02-00-C0-00-02-03'],
    ['0200.c000.0203'],
    ['0200c0000203'],
    ['2:0:c0:0:2:3'],
    [' 02:00:c0:00:02:03 '],
  ])('%s', (text) => {
    expect(formatMac(parseMac(text))).toBe('02:00:c0:00:02:03');
  });

  test.each([['02:00:c0:00:02'], ['02:00:c0:00:02:03:04'], ['02:00-c0:00:02:03'], ['zz:00:c0:00:02:03'], [''], ['0200.c000.020']])(
    'refuses %j',
    (text) => {
      expect(() => parseMac(text)).toThrow(MacError);
      expect(() => parseMac(text)).toThrow(`invalid MAC "${text}"`);
    },
  );
});

describe('parseStationMac', () => {
  test('accepts a locally administered unicast address', () => {
    const mac = parseStationMac('02:00:c0:00:02:03');
    expect(isLocal(mac)).toBe(true);
    expect(isGroup(mac)).toBe(false);
  });

  test('accepts a universally administered unicast address', () => {
    expect(isLocal(parseStationMac('00:16:3e:12:34:56'))).toBe(false);
  });

  test.each([
    ['01:00:5e:00:00:01', 'invalid MAC "01:00:5e:00:00:01": multicast (I/G bit set) cannot be a station address'],
    ['33:33:00:00:00:01', 'multicast (I/G bit set)'],
    ['ff:ff:ff:ff:ff:ff', 'invalid MAC "ff:ff:ff:ff:ff:ff": broadcast cannot be a station address'],
    ['00:00:00:00:00:00', 'invalid MAC "00:00:00:00:00:00": all-zero is not a station address'],
  ])('refuses %s', (text, msg) => {
    expect(() => parseStationMac(text)).toThrow(msg);
  });
});
