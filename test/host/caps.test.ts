import { describe, expect, test } from 'vitest';
import { capsDroppedLine } from '../../src/host/caps';

describe('capsDroppedLine', () => {
  test('every thread dropped: the counts only', () => {
    expect(capsDroppedLine({ threads: 9, holding: 0, held: [] })).toBe('capabilities dropped (9 of 9 threads hold none)');
  });

  test('a thread that blocks every signal is named, with why it kept its set and what bounds it', () => {
    const line = capsDroppedLine({ threads: 8, holding: 1, held: [{ tid: 4242, name: 'node', masked: true }] });
    expect(line).toMatch(/^capabilities dropped \(7 of 8 threads hold none\): thread 4242 \(node\) blocks every signal it could be asked with, so it kept them; it runs only Node\.js's own code/);
    expect(line).toContain('inspector SIGUSR1 watcher');
  });

  test('a thread that did not answer is named as such; holders past the first four are counted', () => {
    const held = [1, 2, 3, 4].map((tid) => ({ tid, name: '', masked: false }));
    const line = capsDroppedLine({ threads: 10, holding: 6, held });
    expect(line).toContain('thread 1 (unnamed) did not answer the request to drop them within 500 ms');
    expect(line).toMatch(/; and 2 more$/);
    expect(line).not.toContain('inspector');
  });
});
