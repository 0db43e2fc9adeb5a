import { describe, expect, test } from 'vitest';
import { checkTargets, deliveredRatio, formatScale, formatTable, median, rssGrowthKiB, scaleTarget, type SubjectResult } from '../../tools/bench/report';

const tcp = (cc: string, inBps: number, outBps = inBps) => ({ cc, inBps, outBps, inRuns: [inBps], outRuns: [outBps] });
const subject = (name: string, over: Partial<SubjectResult> = {}): SubjectResult => ({
  name, tcp: [tcp('cubic', 10e9), tcp('bbr', 10e9)], framesOffered: 1000, framesDelivered: 1000, framesSeconds: 1,
  rttAvgUs: 20, rttMinUs: 10, rssKiB: [], ...over,
});
const floor = { frames: 1000, cpuUsPerFrame: 1 };

describe('bench report', () => {
  test('median: the middle round, or the mean of the middle two; the order rounds came in does not matter', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([9, 1, 5, 3])).toBe(4);
    expect(median([7])).toBe(7);
  });

  test('targets pass at the limits of issue 5 and miss just past them', () => {
    const macvlan = subject('macvlan');
    const atLimit = subject('vethd', { tcp: [tcp('cubic', 9e9), tcp('bbr', 9e9)], framesDelivered: 990, cpuUsPerFrame: 1.3, rttAvgUs: 50, rssKiB: [100, 100, 100] });
    expect(checkTargets(atLimit, macvlan, floor, [100, 100, 100, 1124, 1124, 1124]).map((t) => [t.name, t.pass])).toEqual([
      ['TCP in vs macvlan (cubic)', true], ['TCP out vs macvlan (cubic)', true], ['TCP in vs macvlan (bbr)', true], ['TCP out vs macvlan (bbr)', true],
      ['64-byte frames delivered', true],
      ['CPU per frame vs TAP-write floor', true], ['ping RTT over macvlan', true], ['RSS growth during soak', true],
    ]);
    const past = subject('vethd', { tcp: [tcp('cubic', 8.9e9), tcp('bbr', 8.9e9)], framesDelivered: 989, cpuUsPerFrame: 1.31, rttAvgUs: 51 });
    expect(checkTargets(past, macvlan, floor, [100, 100, 100, 1125, 1125, 1125]).every((t) => !t.pass)).toBe(true);
  });

  test('TCP is judged per congestion control against macvlan with the same one; one macvlan lacks gives no verdict', () => {
    const vethd = subject('vethd', { tcp: [tcp('cubic', 9.5e9, 8e9), tcp('bbr', 7e9)] });
    const macvlan = subject('macvlan', { tcp: [tcp('cubic', 10e9)] });
    expect(checkTargets(vethd, macvlan, floor, []).filter((t) => t.name.startsWith('TCP')).map((t) => [t.name, t.value, t.pass])).toEqual([
      ['TCP in vs macvlan (cubic)', 0.95, true], ['TCP out vs macvlan (cubic)', 0.8, false],
    ]);
  });

  test('RSS growth compares the last third of the samples with the first', () => {
    expect(rssGrowthKiB([10, 10, 10, 40, 40, 40])).toBe(30);
    expect(rssGrowthKiB([10, 20])).toBe(0);
  });

  test('delivery never exceeds 100% and is 0 when nothing was offered', () => {
    expect(deliveredRatio(subject('x', { framesDelivered: 1010 }))).toBe(1);
    expect(deliveredRatio(subject('x', { framesOffered: 0, framesDelivered: 0 }))).toBe(0);
  });

  test('the table has a column per subject and vethd/macvlan, vethd/socat ratios; a stalled socat gives "-"', () => {
    const rows = [subject('vethd', { cpuUsPerFrame: 1.2 }), subject('macvlan', { tcp: [tcp('cubic', 20e9, 10e9), tcp('bbr', 10e9)] }), subject('socat', { tcp: [tcp('cubic', 0)], cpuUsPerFrame: 8 })];
    const text = formatTable(rows, floor, checkTargets(rows[0], rows[1], floor, []));
    const lines = text.split('\n');
    expect(lines[0].trim().split(/\s+/)).toEqual(['vethd', 'macvlan', 'socat', 'vethd/macvlan', 'vethd/socat']);
    expect(lines[1]).toMatch(/^TCP in \(cubic\), Gbit\/s\s+10\.00\s+20\.00\s+0\.00\s+0\.50\s+-$/);
    expect(lines[3]).toMatch(/^TCP in \(bbr\), Gbit\/s\s+10\.00\s+10\.00\s+-\s+1\.00\s+-$/);
    expect(text).toContain('CPU per frame, µs');
    expect(text).toContain('MISS  TCP in vs macvlan (cubic): 0.500 x (target >= 0.9)');
    expect(text).toContain('PASS  TCP in vs macvlan (bbr): 1.000 x (target >= 0.9)');
    expect(text).toContain('TAP-write floor: 1.00 µs CPU per 64-byte frame');
  });

  test('the vNIC-count scan: per-frame CPU at the most vNICs over the fewest, flat within 1.25x', () => {
    const point = (vnics: number, cpuUsPerFrame: number) => ({ vnics, framesOffered: 1000, framesDelivered: 990, framesSeconds: 1, cpuUsPerFrame });
    expect(scaleTarget([point(64, 1.25), point(1, 1), point(16, 1.1)])).toMatchObject({ name: 'CPU per frame, 64 vNICs vs 1', value: 1.25, pass: true });
    expect(scaleTarget([point(1, 1), point(64, 1.26)])?.pass).toBe(false);
    expect(scaleTarget([point(1, 1)])).toBeUndefined();
    expect(formatScale([point(1, 1.5), point(64, 1.65)]).split('\n')[2]).toMatch(/^64 +1 +99\.0 +1\.65 +1\.10$/);
  });
});
