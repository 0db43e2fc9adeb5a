import { describe, expect, test } from 'vitest';
import { formatMac, isGroup, isLocal } from '../../src/mac/mac';
import { parseMacSpec, resolveMac } from '../../src/mac/macpolicy';

const ID = '3d1219c7c4c5404aaa1f6d2a48adfda4';
const ctx = { machineId: ID, tap: 'veth1', parent: 'eth0' };

describe('persistent (the default)', () => {
  test('stable for the same machine and names, locally administered unicast', () => {
    const a = resolveMac(parseMacSpec('persistent'), ctx);
    expect(resolveMac(parseMacSpec('persistent'), { ...ctx })).toEqual(a);
    expect(isLocal(a)).toBe(true);
    expect(isGroup(a)).toBe(false);
  });

  test('differs with the vNIC name, the parent name and the machine', () => {
    const a = formatMac(resolveMac(parseMacSpec('persistent'), ctx));
    expect(formatMac(resolveMac(parseMacSpec('persistent'), { ...ctx, tap: 'veth2' }))).not.toBe(a);
    expect(formatMac(resolveMac(parseMacSpec('persistent'), { ...ctx, parent: 'eth1' }))).not.toBe(a);
    expect(formatMac(resolveMac(parseMacSpec('persistent'), { ...ctx, machineId: 'f'.repeat(32) }))).not.toBe(a);
  });

  test('does not reveal the machine id', () => {
    expect(ID).not.toContain(resolveMac(parseMacSpec('persistent'), ctx).toString('hex').slice(2));
  });

  test('refused without a valid machine id', () => {
    expect(() => resolveMac(parseMacSpec('persistent'), { ...ctx, machineId: undefined })).toThrow('cannot derive a persistent MAC: no valid /etc/machine-id');
    expect(() => resolveMac(parseMacSpec('persistent'), { ...ctx, machineId: 'uninitialized' })).toThrow('no valid /etc/machine-id');
  });
});

test('random: locally administered unicast from the random source, new each time', () => {
  const mac = resolveMac(parseMacSpec('random'), { ...ctx, random: () => Buffer.from('ffffffffffff', 'hex') });
  expect(formatMac(mac)).toBe('fe:ff:ff:ff:ff:ff');
  expect(formatMac(resolveMac(parseMacSpec('random'), ctx))).not.toBe(formatMac(resolveMac(parseMacSpec('random'), ctx)));
});

test('ip: the 02:00:<IPv4 octets> scheme', () => {
  expect(formatMac(resolveMac(parseMacSpec('ip:192.0.2.3'), ctx))).toBe('02:00:c0:00:02:03');
  expect(formatMac(resolveMac(parseMacSpec('IP:198.51.100.255'), ctx))).toBe('02:00:c6:33:64:ff');
});

test('oui: the prefix with a persistent suffix', () => {
  const mac = resolveMac(parseMacSpec('oui:00:16:3e'), ctx);
  expect(formatMac(mac).slice(0, 8)).toBe('00:16:3e');
  expect(mac.subarray(3)).toEqual(resolveMac(parseMacSpec('persistent'), ctx).subarray(3));
  expect(formatMac(resolveMac(parseMacSpec('oui:00163e'), ctx)).slice(0, 8)).toBe('00:16:3e');
});

test('explicit addresses pass through, checked as station addresses', () => {
  expect(resolveMac(parseMacSpec('02-00-c0-00-02-03'), ctx)).toEqual(Buffer.from('0200c0000203', 'hex'));
  expect(() => parseMacSpec('ff:ff:ff:ff:ff:ff')).toThrow('broadcast cannot be a station address');
});

test.each([
  ['bogus', 'unknown policy'],
  ['ip:192.0.2', '"192.0.2" is not an IPv4 address'],
  ['oui:00:16', 'expected a 3-octet prefix'],
  ['oui:33:33:00', 'I/G bit set'],
])('refuses %j', (spec, msg) => {
  expect(() => parseMacSpec(spec)).toThrow(`invalid MAC "${spec}": `);
  expect(() => parseMacSpec(spec)).toThrow(msg);
});
