// vNICs added and removed while the relay threads run under traffic (test/native/live_stress.c), built with
// ThreadSanitizer: the round-boundary protocol (relay.h) leaves no data race, and no frame for the vNIC that stays is lost.
// As root, in a network namespace of its own (unshare -n) with a veth pair: the machine's NICs are never touched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const isRoot = process.getuid?.() === 0;
const SOURCES = [
  'test/native/live_stress.c',
  ...['ctl', 'follow', 'live', 'loop', 'rx', 'setup', 'stats', 'tx'].map((f) => `native/relay/${f}.c`),
  ...['bpfconv', 'caps', 'filter', 'frame', 'hostlink', 'hostpath', 'ifconf', 'netdev', 'netns', 'psock', 'ring', 'rxcpu', 'tap', 'txguard', 'vnictab'].map((f) => `native/${f}.c`),
];

test.skipIf(!isRoot)('200 vNICs added and removed beside a busy one: no ThreadSanitizer report, every frame for it counted', () => {
  const exe = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-livetest-')), 'live_stress');
  execFileSync('cc', [
    '-std=gnu11', '-D_GNU_SOURCE', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror', '-g', '-O1', '-fsanitize=thread',
    '-o', exe, ...SOURCES.map((s) => path.join(root, s)), '-lpthread',
  ]);
  // ThreadSanitizer exits 66 after a report, which execFileSync throws with its output.
  const out = execFileSync('unshare', ['-n', 'sh', '-ec', `ip link add eth0 type veth peer name peer0; ip link set eth0 up; ip link set peer0 up; "${exe}" 200`], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(out).toMatch(/^cycles 200; /m);
  expect(out).toMatch(/^\d+ passed, 0 failed$/m);
});
