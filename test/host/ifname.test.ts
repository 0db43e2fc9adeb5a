import { expect, test } from 'vitest';
import { checkIfname } from '../../src/host/ifname';

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

test('a bad name is quoted escaped, so the error stays one line', () => {
  expect(() => checkIfname('a\nb')).toThrow('invalid interface name "a\\nb": contains "\\n"');
  expect(() => checkIfname('a\u202e\u0085/')).toThrow('invalid interface name "a\\u202e\\u0085/": contains "/"');
});

test('a huge name is quoted cut to its start, with its length', () => {
  const name = 'x'.repeat(50 << 20);
  let message = '';
  try {
    checkIfname(name);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toBe(`invalid interface name "${'x'.repeat(32)}"… (52428800 characters): 52428800 bytes, longer than 15`);
});
