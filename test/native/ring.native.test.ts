// ring_rx_probe_setup() leaves the socket as it was when the kernel refuses a mode (ring.h), in a network namespace of its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const isRoot = process.getuid?.() === 0;

test.skipIf(!isRoot)('a refused ring mode comes back as 1 with the version and reserve put back; the next mode is taken', () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-ringtest-')), 'ring_test');
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', exe, path.join(root, 'test/native/ring_test.c'), path.join(root, 'native/ring.c')]);
  const out = execFileSync('unshare', ['-n', exe], { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
});
