/**
 * The relay's options as callers give them (RelaySettings: only what differs
 * from a default) and as the addon takes them (RelayOptions: complete): every
 * default in one place, here; the addon has none, and the CLI's option
 * defaults are these. Ranges are the addon's (limits.ts); it refuses a value
 * outside them with EINVAL.
 */
import type { RelayOptions, VnicOptions } from './native';

/** A vNIC as a caller may give it: its name, and whichever fields differ from VNIC_DEFAULTS. */
export type VnicSettings = Pick<VnicOptions, 'tap'> & Partial<Omit<VnicOptions, 'tap'>>;

/** A relay as a caller may give it: the parent, the vNICs, and whichever settings differ from RELAY_DEFAULTS. */
export type RelaySettings = Pick<RelayOptions, 'parent'> & Partial<Omit<RelayOptions, 'parent' | 'vnics'>> & { vnics: VnicSettings[] };

/** Every vNIC default, in one place (the addon has none). */
export const VNIC_DEFAULTS: Readonly<Omit<VnicOptions, 'tap'>> = Object.freeze({
  mac: null,
  netns: null,
  arpSysctls: true,
  vlan: 0,
  antiSpoofing: true,
  /** EAPOL (bit 3) and LLDP (bit 14): linklocal.ts's LINK_LOCAL_DEFAULT, 'eapol,lldp' (test/limits.native.test.ts checks). */
  linkLocalPass: 0x4008,
  raGuard: false,
  dhcpGuard: false,
});

/** Every relay default, in one place (the addon has none; the CLI's option defaults are these). */
export const RELAY_DEFAULTS: Readonly<Omit<RelayOptions, 'parent' | 'vnics'>> = Object.freeze({
  membership: 'promisc',
  vnetHdr: true,
  rcvbuf: 4 << 20,
  rxRing: 'auto',
  kernelFilter: true,
  txBatch: 32,
  qdiscBypass: false,
  rxCoalesceUs: 200,
  queues: 1,
  fanout: 'cpu',
  followCpu: true,
  hostPath: true,
  /** "VD" in the upper 16 bits (native/hostpath.h HOSTPATH_MARK_DEFAULT). */
  hostPathMark: 0x56440000,
});

/** defaults, with each key given defined in `given` instead (an undefined value keeps the default). */
function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T>): T {
  const out = { ...defaults } as T;
  for (const key of Object.keys(defaults) as (keyof T)[]) if (given[key] !== undefined) out[key] = given[key] as T[keyof T];
  return out;
}

/** The complete options Relay.addVnic() takes: v, each field not given from VNIC_DEFAULTS (keys it does not know are left out). */
export function resolveVnicOptions(v: VnicSettings): VnicOptions {
  return { tap: v.tap, ...withDefaults(VNIC_DEFAULTS, v) };
}

/** The complete options new Relay() takes: settings, each one not given from RELAY_DEFAULTS / VNIC_DEFAULTS (keys neither knows are left out). */
export function resolveRelayOptions(settings: RelaySettings): RelayOptions {
  return {
    parent: settings.parent,
    vnics: settings.vnics.map(resolveVnicOptions),
    ...withDefaults(RELAY_DEFAULTS, settings),
  };
}
