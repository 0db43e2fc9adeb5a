import { describe, expect, test } from 'vitest';
import type { LinkEvent } from '../../src/native/native';
import { linkIsUp, ParentWatch } from '../../src/daemon/parentwatch';

const ev = (e: Partial<LinkEvent>): LinkEvent => ({ type: 'new', ifindex: 2, flags: 0, operstate: -1, mtu: -1, name: 'eth0', ...e });

describe('ParentWatch', () => {
  test('link state: operstate first, else IFF_UP and IFF_RUNNING', () => {
    expect(linkIsUp({ operstate: 6, flags: 0 })).toBe(true);
    expect(linkIsUp({ operstate: 2, flags: 0x41 })).toBe(false);
    expect(linkIsUp({ operstate: 0, flags: 0x41 })).toBe(true);
    expect(linkIsUp({ operstate: 0, flags: 0x1 })).toBe(false);
  });

  test('a repeated state is not a change; other devices are ignored', () => {
    const w = new ParentWatch('eth0', 2, true, [7]);
    expect(w.handle(ev({ operstate: 6 }))).toEqual([]);
    expect(w.handle(ev({ ifindex: 3, name: 'eth1', operstate: 2 }))).toEqual([]);
    expect(w.handle(ev({ operstate: 2 }))).toEqual([{ kind: 'down' }]);
    expect(w.handle(ev({ operstate: 2 }))).toEqual([]);
  });

  test('gone, then back under the same name with a new ifindex; a new device with another name is not ours', () => {
    const w = new ParentWatch('eth0', 2, true, [7]);
    expect(w.handle(ev({ type: 'del' }))).toEqual([{ kind: 'gone' }]);
    expect(w.handle(ev({ ifindex: 9, name: 'eth9', operstate: 6 }))).toEqual([]);
    expect(w.handle(ev({ ifindex: 12, operstate: 6, mtu: 1500 }))).toEqual([{ kind: 'back', ifindex: 12, name: 'eth0', mtu: 1500 }, { kind: 'up' }]);
    expect(w.ifindex).toBe(12);
    // the old ifindex means nothing now
    expect(w.handle(ev({ ifindex: 2, type: 'del' }))).toEqual([]);
  });

  test('the vNIC leaving the namespace is reported, its other events are not', () => {
    const w = new ParentWatch('eth0', 2, true, [7]);
    expect(w.handle(ev({ ifindex: 7, name: 'veth1', operstate: 2 }))).toEqual([]);
    expect(w.handle(ev({ ifindex: 7, name: 'veth1', type: 'del' }))).toEqual([{ kind: 'vnic-left', ifindex: 7 }]);
  });

  test('after lost events, resync reports what was missed', () => {
    const w = new ParentWatch('eth0', 2, true, [7]);
    expect(w.handle(ev({ type: 'resync', ifindex: 0 }))).toEqual([{ kind: 'resync' }]);
    expect(w.resync(2, true)).toEqual([]);
    expect(w.resync(2, false)).toEqual([{ kind: 'down' }]);
    // re-created while events were lost: gone, then back
    expect(w.resync(15, true)).toEqual([{ kind: 'gone' }, { kind: 'back', ifindex: 15, name: 'eth0', mtu: -1 }, { kind: 'up' }]);
    expect(w.resync(undefined, undefined)).toEqual([{ kind: 'gone' }]);
    expect(w.resync(undefined, undefined)).toEqual([]);
  });
});
