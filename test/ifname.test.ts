import { expect, test } from 'vitest';
import { checkIfname } from '../src/ifname';

test.each(['veth1', 'eth0', 'a', 'abcdefghijklmno', 'br-lan.100'])('accepts %s', (name) => {
  expect(checkIfname(name)).toBe(name);
});

test.each([
  ['', 'empty'],
  ['abcdefghijklmnop', '16 bytes, longer than 15'],
  ['vethé1234567890', 'bytes, longer than 15'],
  ['.', 'reserved name'],
  ['..', 'reserved name'],
  ['veth/1', 'contains "/"'],
  ['veth 1', 'contains " "'],
  ['veth:1', 'contains ":"'],
  ['veth%d', 'contains "%"'],
])('refuses %j', (name, cause) => {
  expect(() => checkIfname(name)).toThrow(`invalid interface name "${name}": `);
  expect(() => checkIfname(name)).toThrow(cause);
});
