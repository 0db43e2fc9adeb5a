// Builds and runs the C unit tests of the classic -> eBPF filter rewrite (with ASan/UBSan); as root the kernel runs the loaded program too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const isRoot = process.getuid?.() === 0;

test(`eBPF filter rewrite unit tests pass under ASan/UBSan${isRoot ? ', and the kernel runs the program: verdicts and the recorded CPU' : ''}`, () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-ctest-')), 'bpfconv_test');
  const sources = ['test/native/bpfconv_test.c', 'native/bpfconv.c', 'native/rxcpu.c', 'native/filter.c', 'native/vnictab.c', 'native/frame.c', 'native/txguard.c'];
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-o', exe, ...sources.map((s) => path.join(root, s))]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
  if (isRoot) expect(out).toMatch(/^kernel: run$/m);
});
