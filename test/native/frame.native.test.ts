// Builds and runs the C unit tests of the pure frame classifier, transmit guards, CPU-following policy and live vNIC changes (with ASan/UBSan).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');

test.each(['frame_test', 'txguard_test', 'follow_test', 'live_test'])('C unit tests %s pass under ASan/UBSan', (name) => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-ctest-')), name);
  execFileSync('cc', [
    '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all',
    '-o', exe, path.join(root, `test/native/${name}.c`), path.join(root, 'native/frame.c'), path.join(root, 'native/txguard.c'), path.join(root, 'native/vnictab.c'), path.join(root, 'native/filter.c'),
  ]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
});
