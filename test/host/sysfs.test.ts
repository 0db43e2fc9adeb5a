import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { sysfsIfindex, sysfsOperUp } from '../../src/host/sysfs';

const sysfs = mkdtempSync(path.join(os.tmpdir(), 'vethd-sysfs-'));
afterAll(() => rmSync(sysfs, { recursive: true }));

/** A fake /sys/class/net/<name> with these files. */
function link(name: string, files: Record<string, string>): string {
  mkdirSync(path.join(sysfs, name));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(sysfs, name, file), `${text}\n`);
  return name;
}

test.each([
  ['up', true],
  ['down', false],
  ['lowerlayerdown', false],
  ['dormant', false],
  ['unknown', undefined],
  ['notpresent', undefined],
  ['testing', undefined],
])('sysfsOperUp: operstate %s -> %s', (state, up) => {
  expect(sysfsOperUp(link(`op-${state}`, { operstate: state }), sysfs)).toBe(up);
});

test('sysfsOperUp: no such interface -> false', () => {
  expect(sysfsOperUp('gone0', sysfs)).toBe(false);
});

test('sysfsIfindex: the number, or undefined when there is no such interface', () => {
  expect(sysfsIfindex(link('eth7', { ifindex: '42' }), sysfs)).toBe(42);
  expect(sysfsIfindex('gone0', sysfs)).toBeUndefined();
});
