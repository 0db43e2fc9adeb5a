import { expect, test } from 'vitest';
import { statsSummary, summaryLines } from '../../src/obs/summary';
import { zeroDir, zeroStats } from '../fakes';

test('nothing moved: an empty summary', () => {
  const s = zeroStats();
  s.vnics = [{ slot: 0, receive: zeroDir(), transmit: zeroDir() }];
  expect(statsSummary(s, [{ tap: 'veth1' }])).toEqual({});
  expect(summaryLines({})).toEqual(['nothing relayed or dropped']);
});

test('only the non-zero counters, per vNIC by name (and namespace) and unrouted; a quiet vNIC is left out', () => {
  const s = zeroStats();
  const busy = { slot: 0, receive: zeroDir(), transmit: zeroDir() };
  busy.receive.frames = 12;
  busy.receive.bytes = 1500;
  busy.transmit.drops.spoofed_arp = 3;
  const ctr = { slot: 2, receive: zeroDir(), transmit: zeroDir() };
  ctr.transmit.frames = 1;
  ctr.transmit.bytes = 60;
  s.vnics = [busy, { slot: 1, receive: zeroDir(), transmit: zeroDir() }, ctr];
  s.receive = busy.receive; // totals are left out: the rows add up to them
  s.unrouted.drops.not_for_us = 40;
  expect(statsSummary(s, [{ tap: 'veth1' }, { tap: 'veth2' }, { tap: 'eth0', netns: '/run/netns/ctr' }])).toEqual({
    vnics: [
      { device: 'veth1', receive: { frames: 12, bytes: 1500 }, transmit: { drops: { spoofed_arp: 3 } } },
      { device: 'eth0', netns: '/run/netns/ctr', transmit: { frames: 1, bytes: 60 } },
    ],
    unrouted: { drops: { not_for_us: 40 } },
  });
  expect(summaryLines(statsSummary(s, [{ tap: 'veth1' }, { tap: 'veth2' }, { tap: 'eth0', netns: '/run/netns/ctr' }]))).toEqual([
    'veth1: received 12 frames, 1500 bytes; sent no frames, dropped spoofed_arp 3',
    'eth0 (/run/netns/ctr): sent 1 frames, 60 bytes',
    'unrouted: dropped not_for_us 40',
  ]);
});
