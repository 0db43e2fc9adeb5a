// A CI-bounded libFuzzer run over the pure C frame path (test/fuzz/run.sh):
// receive pipeline, transmit classifier, rtnetlink parser, under ASan/UBSan.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const hasClang = spawnSync('clang', ['--version']).status === 0;
const SECONDS = Number(process.env.VETHD_FUZZ_SECONDS ?? 30);

test.skipIf(!hasClang)(`libFuzzer: ${SECONDS} s over the frame path and the link-event parser, no crash or sanitizer report`, () => {
  const r = spawnSync(path.join(root, 'test/fuzz/run.sh'), [String(SECONDS)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const log = `${r.stdout}${r.stderr}`;
  const done = /Done (\d+) runs/.exec(log);
  expect(r.status, log.split('\n').filter((l) => /ERROR|SUMMARY|Base64|crash|leak/i.test(l)).join('\n')).toBe(0);
  expect(Number(done?.[1])).toBeGreaterThan(10_000);
}, (SECONDS + 120) * 1000);
