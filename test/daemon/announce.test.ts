import { afterEach, describe, expect, test, vi } from 'vitest';
import { ANNOUNCE_RATE, Announcer, VnicAddresses } from '../../src/daemon/announce';
import type { LinkEvent } from '../../src/native/native';

const IFF_UP_RUNNING = 0x1 | 0x40;
const link = (ifindex: number, up: boolean): LinkEvent => ({ type: 'new', ifindex, flags: up ? IFF_UP_RUNNING : 0, operstate: -1, mtu: 1500, name: 'veth1' });
const addr = (ifindex: number, address: string, addrFlags = 0, type: 'addr' | 'deladdr' = 'addr'): LinkEvent => ({
  type, ifindex, flags: 0, operstate: -1, mtu: -1, name: '', family: address.includes(':') ? 6 : 4, address, addrFlags,
});

describe('VnicAddresses: when to announce', () => {
  test('an address added while up is announced once; while down, at the next up', () => {
    const v = new VnicAddresses(7);
    expect(v.handle(addr(7, '192.0.2.50'))).toEqual([]); // down
    expect(v.handle(link(7, true))).toEqual(['192.0.2.50']);
    expect(v.handle(link(7, true))).toEqual([]); // still up: no transition
    expect(v.handle(addr(7, '192.0.2.51'))).toEqual(['192.0.2.51']);
    expect(v.handle(addr(7, '192.0.2.51'))).toEqual([]); // the same address again (a lifetime update)
    expect(v.handle(link(7, false))).toEqual([]);
    expect(v.handle(link(7, true)).sort()).toEqual(['192.0.2.50', '192.0.2.51']);
  });

  test('IPv6 waits for DAD: tentative, optimistic or failed addresses are not announced', () => {
    const v = new VnicAddresses(7);
    v.handle(link(7, true));
    expect(v.handle(addr(7, '2001:db8::50', 0x40))).toEqual([]); // tentative
    expect(v.handle(addr(7, '2001:db8::50', 0x80))).toEqual(['2001:db8::50']); // DAD done (IFA_F_PERMANENT only)
    expect(v.handle(addr(7, '2001:db8::51', 0x04))).toEqual([]); // optimistic
    expect(v.handle(addr(7, '2001:db8::52', 0x08))).toEqual([]); // DAD failed
  });

  test('removed addresses and other interfaces are never announced', () => {
    const v = new VnicAddresses(7);
    v.handle(link(7, true));
    expect(v.handle(addr(8, '192.0.2.9'))).toEqual([]);
    expect(v.handle(link(8, true))).toEqual([]);
    v.handle(addr(7, '192.0.2.50'));
    v.handle(addr(7, '192.0.2.50', 0, 'deladdr'));
    v.handle(link(7, false));
    expect(v.handle(link(7, true))).toEqual([]);
  });
});

describe('Announcer: how often', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('count frames, intervalMs apart, the first at once; counted by family', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const a = new Announcer({ count: 3, intervalMs: 1000 }, (x) => sent.push(x), () => {});
    a.announce('192.0.2.50');
    a.announce('2001:db8::50');
    expect(sent).toEqual(['192.0.2.50', '2001:db8::50']);
    vi.advanceTimersByTime(2000);
    expect(sent).toHaveLength(6);
    expect(a.sent).toEqual({ ipv4: 3, ipv6: 3 });
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(6);
  });

  test('count 0 sends nothing; cancel() and close() stop the repeats', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    new Announcer({ count: 0, intervalMs: 1000 }, (x) => sent.push(x), () => {}).announce('192.0.2.50');
    expect(sent).toEqual([]);
    const a = new Announcer({ count: 3, intervalMs: 1000 }, (x) => sent.push(x), () => {});
    a.announce('192.0.2.50');
    a.announce('192.0.2.51');
    a.cancel('192.0.2.50');
    vi.advanceTimersByTime(1000);
    a.close();
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual(['192.0.2.50', '192.0.2.51', '192.0.2.51']);
  });

  test('a failing send is reported once per announcement, and not counted', () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    const a = new Announcer({ count: 2, intervalMs: 1000 }, () => { throw new Error('eth0: cannot send gratuitous ARP: Network is down (ENETDOWN)'); }, (address, err) => errors.push(`${address}: ${err.message}`));
    a.announce('192.0.2.50');
    vi.advanceTimersByTime(1000);
    expect(errors).toEqual(['192.0.2.50: eth0: cannot send gratuitous ARP: Network is down (ENETDOWN)']);
    expect(a.sent).toEqual({ ipv4: 0, ipv6: 0 });
  });
});

describe('Announcer: how many (a token bucket per vNIC)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** An Announcer on a clock the test moves, recording frames and skip reports. */
  function limited(count = 1) {
    let t = 0;
    const sent: string[] = [];
    const skips: [string, number][] = [];
    const a = new Announcer({ count, intervalMs: 1000 }, (x) => sent.push(x), () => {}, { now: () => t, onSkip: (address, skipped) => skips.push([address, skipped]) });
    return { a, sent, skips, tick: (ms: number) => void (t += ms) };
  }
  const addresses = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `10.${(from + i) >> 16}.${((from + i) >> 8) & 255}.${(from + i) & 255}`);

  test('the rate: 16 addresses a second, 32 at once', () => {
    expect(ANNOUNCE_RATE).toEqual({ perSecond: 16, burst: 32 });
  });

  test('2,000 addresses at once: the first 32 announced (count frames each), the rest skipped, counted and reported once', () => {
    vi.useFakeTimers();
    const { a, sent, skips } = limited(2);
    const announced = addresses(2000).filter((x) => a.announce(x));
    expect(announced).toEqual(addresses(32));
    vi.advanceTimersByTime(10_000);
    expect(sent).toHaveLength(64);
    expect(a.skipped).toBe(1968);
    expect(skips).toEqual([['10.0.0.32', 1]]);
  });

  test('the bucket refills at 16 a second; each new burst of skips is reported once, with the total so far', () => {
    const { a, skips, tick } = limited();
    addresses(40).forEach((x) => a.announce(x));
    tick(1000);
    const next = addresses(20, 100).filter((x) => a.announce(x));
    expect(next).toEqual(addresses(16, 100));
    expect(skips).toEqual([['10.0.0.32', 1], ['10.0.0.116', 9]]);
    expect(a.skipped).toBe(12);
  });

  test('addresses added at the rate or slower are never skipped; a clock that steps back gives nothing', () => {
    const { a, skips, tick } = limited();
    for (const x of addresses(200)) {
      expect(a.announce(x)).toBe(true);
      tick(1000 / 16);
    }
    expect(skips).toEqual([]);
    const { a: b, tick: tickB } = limited();
    addresses(32).forEach((x) => b.announce(x));
    tickB(-60_000);
    expect(b.announce('192.0.2.1')).toBe(false);
  });
});
