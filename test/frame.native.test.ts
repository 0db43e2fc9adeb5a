// Builds and runs the C unit tests of the pure frame classifier (with ASan/UBSan).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..');

test('C classifier unit tests pass under ASan/UBSan', () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-ctest-')), 'frame_test');
  execFileSync('cc', [
    '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
    '-o', exe, path.join(root, 'test/native/frame_test.c'), path.join(root, 'native/frame.c'), path.join(root, 'native/vnictab.c'),
  ]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
});
