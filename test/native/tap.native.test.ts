// tap_open() refuses a persistent TAP made after it looked the name up (IFF_TUN_EXCL), in a network namespace of its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const isRoot = process.getuid?.() === 0;

test.skipIf(!isRoot)('a persistent TAP made after the look-up is refused with EEXIST, not adopted; its device is left as it was', () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-taptest-')), 'tap_test');
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-o', exe, path.join(root, 'test/native/tap_test.c'), path.join(root, 'native/tap.c')]);
  // unshare -n: a namespace that exists for this command only; the persistent TAP goes with it.
  const out = execFileSync('unshare', ['-n', 'sh', '-ec', `ip tuntap add dev vdx0 mode tap && "${exe}" vdx0 vdx1 && ip -o link show dev vdx0`], { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
  expect(out).toMatch(/\d+: vdx0: /); // still there: someone else's persistent TAP
});
