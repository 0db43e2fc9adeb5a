import { expect, test } from 'vitest';
import { labSkipped, skipLines } from './skipreport';

test('labSkipped: root runs the lab; another user skips it; under CI another user is an error naming the uid', () => {
  expect(labSkipped({}, 0)).toBe(false);
  expect(labSkipped({ CI: 'true' }, 0)).toBe(false);
  expect(labSkipped({}, 1000)).toBe(true);
  expect(() => labSkipped({ CI: 'true' }, 65534)).toThrow('the lab suites need root (they create network namespaces) and this run is uid 65534; CI ($CI="true") must run them');
});

test('skipLines: one loud line for the lab suites, one per skip reason; nothing when nothing was skipped', () => {
  const byNote = new Map([['systemd-analyze is not installed', 2]]);
  expect(skipLines({ labSuites: 22, labFiles: 15, byNote }, 1000, false)).toEqual([
    '22 lab suites in 15 files SKIPPED: not root (uid 1000): the lab makes network namespaces; run as root to run them (CI does)',
    '2 tests SKIPPED: systemd-analyze is not installed',
  ]);
  expect(skipLines({ labSuites: 1, labFiles: 1, byNote: new Map() }, 0, true)).toEqual(['1 lab suite in 1 file SKIPPED: as root, by a skip in the file; CI must run every lab suite: this run FAILS']);
  expect(skipLines({ labSuites: 0, labFiles: 0, byNote: new Map() }, 1000, false)).toEqual([]);
});
