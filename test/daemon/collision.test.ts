import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ConflictWatch, localUsers } from '../../src/daemon/collision';
import { parseMac } from '../../src/mac/mac';
import { readMachineId } from '../../src/mac/machineid';

test('localUsers finds interfaces with the MAC in sysfs, case-insensitively', () => {
  const sys = mkdtempSync(path.join(os.tmpdir(), 'vethd-sysfs-'));
  for (const [name, addr] of [['lo', '00:00:00:00:00:00'], ['eth0', '02:00:00:00:0F:01'], ['br0', '02:00:00:00:0f:01'], ['eth1', '02:00:00:00:0f:02']]) {
    mkdirSync(path.join(sys, name));
    writeFileSync(path.join(sys, name, 'address'), `${addr}\n`);
  }
  mkdirSync(path.join(sys, 'bonding_masters_dir'));
  expect(localUsers(parseMac('02:00:00:00:0f:01'), sys).sort()).toEqual(['br0', 'eth0']);
  expect(localUsers(parseMac('02:00:00:00:0f:99'), sys)).toEqual([]);
});

test('ConflictWatch: one new-burst per quiet gap', () => {
  const w = new ConflictWatch(0, 10_000);
  expect(w.observe(0, 0)).toBeUndefined();
  expect(w.observe(2, 1_000)).toBe('new-burst');
  expect(w.observe(5, 2_000)).toBe('ongoing');
  expect(w.observe(5, 30_000)).toBeUndefined();
  expect(w.observe(6, 30_000)).toBe('new-burst');
});

test('readMachineId takes the first valid file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-mid-'));
  const bad = path.join(dir, 'bad');
  const good = path.join(dir, 'good');
  writeFileSync(bad, 'uninitialized\n');
  writeFileSync(good, '3D1219C7C4C5404AAA1F6D2A48ADFDA4\n');
  expect(readMachineId([path.join(dir, 'missing'), bad, good])).toBe('3d1219c7c4c5404aaa1f6d2a48adfda4');
  expect(readMachineId([bad])).toBeUndefined();
});
