// Builds and runs the C unit tests of the host path's tc program (with ASan/UBSan); as root the kernel loads it, attaches it
// to lo's egress with a tcx link in a network namespace of the test's own, and runs it: verdicts and the mark it leaves.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const isRoot = process.getuid?.() === 0;

test(`host path tc program unit tests pass under ASan/UBSan${isRoot ? ', and the kernel runs the program: verdicts, the mark, the MAC from its map' : ''}`, () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-ctest-')), 'hostpath_test');
  const sources = ['test/native/hostpath_test.c', 'native/hostpath.c', 'native/hostlink.c', 'native/rxcpu.c', 'native/bpfconv.c'];
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', exe, ...sources.map((s) => path.join(root, s))]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
  if (isRoot) expect(out).toMatch(/^kernel: run$/m);
});
