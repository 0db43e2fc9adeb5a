// The systemd unit: systemd-analyze verify is clean and the offline security exposure is low.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** The unit with ExecStart pointing at this checkout (verify checks the binary exists). */
function localUnit(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-unit-'));
  const unit = readFileSync(path.join(root, 'systemd/vethd@.service'), 'utf8').replace('/usr/bin/vethd', path.join(root, 'bin/vethd'));
  const file = path.join(dir, 'vethd@.service');
  writeFileSync(file, unit);
  return file;
}

describe.skipIf(!hasAnalyze)('systemd/vethd@.service', () => {
  test('systemd-analyze verify reports nothing', () => {
    const r = spawnSync('systemd-analyze', ['verify', localUnit()], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  test('systemd-analyze security --offline=yes: exposure at most 2.5', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', localUnit()], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.5);
  });

  test('Type=notify, capabilities limited to CAP_NET_ADMIN and CAP_NET_RAW, no MemoryDenyWriteExecute', () => {
    const unit = readFileSync(path.join(root, 'systemd/vethd@.service'), 'utf8');
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW$/m);
    expect(unit).toMatch(/^DeviceAllow=\/dev\/net\/tun rw$/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=yes/m);
  });

  test('the syscall filter lets through the two calls vethd needs from denied groups: capset, sched_setaffinity (--queues)', () => {
    const unit = readFileSync(path.join(root, 'systemd/vethd@.service'), 'utf8');
    expect(unit).toMatch(/^SystemCallFilter=~.*@privileged.*@resources/m);
    expect(unit).toMatch(/^SystemCallFilter=capset sched_setaffinity$/m);
  });
});
