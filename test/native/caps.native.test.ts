// Builds and runs the C tests of the capability drop (native/caps.c): it needs a permitted set to drop, so root.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');

test.skipIf(process.getuid?.() !== 0)('every thread drops, one blocking every signal too; one blocking glibc\'s reserved ones as well is named', () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-ctest-')), 'caps_test');
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-pthread', '-o', exe, path.join(root, 'test/native/caps_test.c'), path.join(root, 'native/caps.c')]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
});
