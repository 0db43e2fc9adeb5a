// new Relay() takes one complete options shape: the binding checks types only (TypeError naming the key), the C core ranges (EINVAL naming the value).
import { expect, test } from 'vitest';
import { loadNative, type NativeError, type RelayOptions } from '../../src/native/native';
import { resolveRelayOptions } from '../../src/native/options';

const complete = (): RelayOptions => resolveRelayOptions({ parent: 'vdnone0', vnics: [{ tap: 'vdnone1' }] });

test('resolveRelayOptions gives every key, the defaults where none is given', () => {
  expect(complete()).toEqual({
    parent: 'vdnone0',
    vnics: [{ tap: 'vdnone1', mac: null, netns: null, arpSysctls: true, vlan: 0, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false }],
    membership: 'promisc', vnetHdr: true, rcvbuf: 4 << 20, rxRing: 'auto', kernelFilter: true, txBatch: 32, qdiscBypass: false, rxCoalesceUs: 200, queues: 1, fanout: 'cpu', followCpu: true, hostPath: true, hostPathMark: 0x56440000,
  });
  expect(resolveRelayOptions({ parent: 'p', vnics: [{ tap: 't', vlan: 7, mac: undefined }], txBatch: undefined, queues: 2 })).toMatchObject({ vnics: [{ vlan: 7, mac: null }], txBatch: 32, queues: 2 });
});

test.each([
  ['txBatch', (o: Record<string, unknown>) => delete o.txBatch, /options\.txBatch must be a 32-bit integer/],
  ['followCpu', (o: Record<string, unknown>) => (o.followCpu = 1), /options\.followCpu must be a boolean/],
  ['hostPathMark', (o: Record<string, unknown>) => (o.hostPathMark = -1), /options\.hostPathMark must be an unsigned 32-bit integer/],
  ['hostPath', (o: Record<string, unknown>) => delete o.hostPath, /options\.hostPath must be a boolean/],
  ['rxRing', (o: Record<string, unknown>) => (o.rxRing = undefined), /options\.rxRing must be one of auto, v3, v2, off/],
  ['vnics', (o: Record<string, unknown>) => (o.vnics = { tap: 'x' }), /options\.vnics must be an array/],
  ['vnics[0].mac', (o: Record<string, unknown>) => ((o.vnics as Record<string, unknown>[])[0].mac = undefined), /options\.vnics\[0\]\.mac must be a 6-byte Buffer or null/],
  ['vnics[0].vlan', (o: Record<string, unknown>) => ((o.vnics as Record<string, unknown>[])[0].vlan = 1.5), /options\.vnics\[0\]\.vlan must be a 32-bit integer/],
  ['vnics[0].raGuard', (o: Record<string, unknown>) => delete (o.vnics as Record<string, unknown>[])[0].raGuard, /options\.vnics\[0\]\.raGuard must be a boolean/],
])('a missing or wrongly typed %s is a TypeError naming it', (_key, spoil, message) => {
  const o = complete() as unknown as Record<string, unknown>;
  spoil(o);
  expect(() => new (loadNative().Relay)(o as unknown as RelayOptions)).toThrow(TypeError);
  expect(() => new (loadNative().Relay)(o as unknown as RelayOptions)).toThrow(message);
});

test.each([
  [{ txBatch: 40 }, 'vdnone0: cannot open relay: tx batch 40 is outside 1..32: Invalid argument (EINVAL)'],
  [{ queues: 0 }, 'vdnone0: cannot open relay: queue count 0 is outside 1..16: Invalid argument (EINVAL)'],
  [{ rxCoalesceUs: 5000 }, 'vdnone0: cannot open relay: rx coalescing pause 5000 µs is outside 0..1000 µs: Invalid argument (EINVAL)'],
  [{ vnics: Array.from({ length: 65 }, (_, i) => ({ tap: `vdnone${i + 1}` })) }, 'vdnone0: cannot open relay: vNIC count 65 is outside 0..64: Invalid argument (EINVAL)'],
  [{ vnics: [{ tap: 'vdnone1', vlan: 4095 }] }, 'vdnone1: cannot open relay: VLAN ID 4095 is outside 0..4094: Invalid argument (EINVAL)'],
  [{ vnics: [{ tap: 'vdnone1', linkLocalPass: 0x10000 }] }, 'vdnone1: cannot open relay: link-local group mask 65536 is outside 0..65535: Invalid argument (EINVAL)'],
])('a value out of range is refused by the C core, EINVAL naming it: %j', (settings, message) => {
  const o = resolveRelayOptions({ parent: 'vdnone0', vnics: [{ tap: 'vdnone1' }], ...settings });
  let err: NativeError | undefined;
  try {
    new (loadNative().Relay)(o);
  } catch (e) {
    err = e as NativeError;
  }
  expect(err?.message).toBe(message);
  expect(err).toMatchObject({ code: 'EINVAL', syscall: 'relay_open' });
});
