/**
 * The network configuration vethd-cni reads on stdin (CNI SPEC.md section 1,
 * one plugin object as the runtime derives it): the reference macvlan
 * plugin's keys where they mean the same (master, mtu, mode, mac, ipam, dns),
 * so a macvlan network switches by changing "type" to "vethd", plus vethd's
 * own keys, at the top level or in a "vethd" object. Its shape is checked by
 * a JSON Schema (Ajv); each failure is the spec's error code.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { checkIfname } from '../host/ifname';
import { parseStationMac } from '../mac/mac';
import { parseMacSpec } from '../mac/macpolicy';
import { CNI_ERR, CniError } from './errors';

/** The spec versions this plugin speaks (VERSION lists them; a configuration in another is refused with code 1). */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** vethd's own keys: the vNIC's settings that the daemon takes from a [[vnic]] table, and where the daemon is. */
export interface VethdKeys {
  /** The daemon's control socket (default /run/vethd/<master>/control.sock). */
  socket?: string;
  /** An address, or a policy: persistent (the default: stable per network, container and interface), random, ip:<IPv4>, oui:<xx:xx:xx>. */
  mac?: string;
  vlan?: number;
  antiSpoofing?: boolean;
  raGuard?: boolean;
  dhcpGuard?: boolean;
}

/** The DNS settings of a configuration or a result (SPEC.md "dns"). */
export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A checked network configuration. */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  /** The parent NIC; undefined when only the socket was given (the daemon names its parent). */
  master?: string;
  /** macvlan's mtu: 0 or undefined (the parent's), else it must equal the parent's MTU. */
  mtu?: number;
  ipam?: { type?: string } & Record<string, unknown>;
  dns?: Dns;
  /** The result of the previous ADD (DEL, CHECK). */
  prevResult?: unknown;
  vethd: VethdKeys;
  /** A MAC the runtime asks for: args.cni.mac, else runtimeConfig.mac (CNI_ARGS MAC= is read by the caller). */
  runtimeMac?: string;
  /** GC (1.1.0): the attachments still valid (cni.dev/valid-attachments). */
  validAttachments?: { containerID: string; ifname: string }[];
  /** The bytes as read: what a delegated (IPAM) plugin gets, unchanged. */
  raw: Buffer;
}

const VETHD_PROPERTIES = {
  socket: { type: 'string', minLength: 1, maxLength: 107 }, // sun_path holds 108 bytes with the NUL
  mac: { type: 'string', minLength: 1, maxLength: 64 },
  vlan: { type: 'integer', minimum: 1, maximum: 4094 },
  antiSpoofing: { type: 'boolean' },
  raGuard: { type: 'boolean' },
  dhcpGuard: { type: 'boolean' },
} as const;

/** The JSON Schema of one plugin object for type "vethd". Keys it does not name pass (runtimes add their own). */
export const NETCONF_SCHEMA = {
  $id: 'https://vethd.invalid/schema/cni-netconf.json',
  title: 'vethd CNI network configuration',
  type: 'object',
  required: ['cniVersion', 'name', 'type'],
  properties: {
    cniVersion: { type: 'string' },
    name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.\\-]*$' },
    type: { type: 'string', minLength: 1 },
    master: { type: 'string', minLength: 1 },
    mtu: { type: 'integer', minimum: 0 },
    mode: { type: 'string' },
    linkInContainer: { type: 'boolean' },
    bcqueuelen: { type: 'integer', minimum: 0 },
    ipam: { type: 'object', properties: { type: { type: 'string' } } },
    dns: {
      type: 'object',
      properties: {
        nameservers: { type: 'array', items: { type: 'string' } },
        domain: { type: 'string' },
        search: { type: 'array', items: { type: 'string' } },
        options: { type: 'array', items: { type: 'string' } },
      },
    },
    args: { type: 'object', properties: { cni: { type: 'object', properties: { mac: { type: 'string' } } } } },
    runtimeConfig: { type: 'object', properties: { mac: { type: 'string' } } },
    prevResult: { type: 'object' },
    'cni.dev/valid-attachments': {
      type: 'array',
      items: { type: 'object', required: ['containerID', 'ifname'], properties: { containerID: { type: 'string' }, ifname: { type: 'string' } } },
    },
    ...VETHD_PROPERTIES,
    vethd: { type: 'object', additionalProperties: false, properties: VETHD_PROPERTIES },
  },
} as const;

let validate: ReturnType<Ajv['compile']> | undefined;

/** One Ajv error as the text after "invalid network configuration: ". */
function errorText(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown key "${String(e.params.additionalProperty)}" in "vethd" (its keys: ${Object.keys(VETHD_PROPERTIES).join(', ')})`;
  if (e.keyword === 'required') return `"${String(e.params.missingProperty)}" is missing`;
  const key = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  return `${key ? `"${key}" ` : ''}${e.message ?? 'is invalid'}`;
}

const invalid = (what: string, details?: string) => new CniError(CNI_ERR.invalidConfig, `invalid network configuration: ${what}`, details);

/**
 * The configuration in bytes, checked. Throws CniError: 6 not a JSON object,
 * 1 a cniVersion this plugin does not speak, 7 a key or value that is wrong,
 * 2 a macvlan key whose value vethd cannot honour (mode other than bridge,
 * linkInContainer).
 */
export function parseConfig(bytes: Buffer): NetConf {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new CniError(CNI_ERR.decode, 'cannot decode the network configuration', `stdin is not JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CniError(CNI_ERR.decode, 'cannot decode the network configuration', 'stdin is not a JSON object');
  const o = json as Record<string, unknown>;
  // The version first, as libcni's skel does: a configuration of another version may mean other things by its keys.
  if (o.cniVersion !== undefined && typeof o.cniVersion !== 'string') throw new CniError(CNI_ERR.decode, 'cannot decode the network configuration', '"cniVersion" is not a string');
  const version = (o.cniVersion as string | undefined) ?? '0.1.0'; // the spec's meaning of none
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(CNI_ERR.incompatibleVersion, 'incompatible CNI versions', `config is "${version}", plugin supports ${JSON.stringify(SUPPORTED_VERSIONS)}`);
  }
  validate ??= new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(NETCONF_SCHEMA);
  if (!validate(json)) throw invalid(errorText((validate.errors ?? [])[0]));

  const c = json as Record<string, unknown> & { vethd?: VethdKeys };
  const vethd: VethdKeys = {};
  for (const key of Object.keys(VETHD_PROPERTIES) as (keyof VethdKeys)[]) {
    const top = c[key];
    const inner = c.vethd?.[key];
    if (top !== undefined && inner !== undefined && top !== inner) throw invalid(`"${key}" is given twice, at the top level (${JSON.stringify(top)}) and in "vethd" (${JSON.stringify(inner)}): keep one`);
    const v = inner ?? top;
    if (v !== undefined) (vethd as Record<string, unknown>)[key] = v;
  }
  if (c.mode !== undefined && c.mode !== '' && c.mode !== 'bridge') {
    throw new CniError(CNI_ERR.unsupportedField, `unsupported field "mode": ${JSON.stringify(c.mode)}`, 'vethd relays like macvlan\'s bridge mode, and the host reaches its containers too; leave "mode" out or set it to "bridge"');
  }
  if (c.linkInContainer === true) throw new CniError(CNI_ERR.unsupportedField, 'unsupported field "linkInContainer": true', 'vethd\'s parent is a NIC of the daemon\'s namespace');
  const master = c.master as string | undefined;
  if (master !== undefined) {
    try {
      checkIfname(master);
    } catch (err) {
      throw invalid(`"master": ${(err as Error).message}`);
    }
  }
  if (master === undefined && vethd.socket === undefined) throw invalid('"master" (the parent NIC vethd serves) is missing; give it, or "socket" (the daemon\'s control socket)');
  if (vethd.mac !== undefined) {
    try {
      parseMacSpec(vethd.mac);
    } catch (err) {
      throw invalid(`"mac": ${(err as Error).message}`);
    }
  }
  const args = c.args as { cni?: { mac?: string } } | undefined;
  const rc = c.runtimeConfig as { mac?: string } | undefined;
  // As the reference tuning plugin: args.cni.mac beats runtimeConfig.mac.
  const runtimeMac = args?.cni?.mac ?? rc?.mac;
  if (runtimeMac !== undefined) checkStationMac(runtimeMac, args?.cni?.mac !== undefined ? 'args.cni.mac' : 'runtimeConfig.mac');
  const ipam = c.ipam as NetConf['ipam'];
  return {
    cniVersion: version,
    name: c.name as string,
    type: c.type as string,
    master,
    mtu: c.mtu as number | undefined,
    ipam: ipam?.type ? ipam : undefined,
    dns: c.dns as Dns | undefined,
    prevResult: c.prevResult,
    vethd,
    runtimeMac,
    validAttachments: c['cni.dev/valid-attachments'] as NetConf['validAttachments'],
    raw: bytes,
  };
}

/** Throws code 7 naming where a MAC came from, when it cannot be a station's. */
function checkStationMac(mac: string, where: string): void {
  try {
    parseStationMac(mac);
  } catch (err) {
    throw invalid(`"${where}": ${(err as Error).message}`);
  }
}

/**
 * CNI_ARGS ("K=V;K2=V2", SPEC.md): its pairs. Keys other plugins read
 * (IgnoreUnknown, K8S_POD_NAME, IP...) are kept and not looked at. Throws code
 * 4 for a pair without one "=".
 */
export function parseCniArgs(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!text) return out;
  for (const pair of text.split(';')) {
    const kv = pair.split('=');
    if (kv.length !== 2) throw new CniError(CNI_ERR.invalidEnv, 'invalid CNI_ARGS', `not a KEY=VALUE pair: ${JSON.stringify(pair)}`);
    out.set(kv[0], kv[1]);
  }
  return out;
}

/**
 * The MAC the runtime asks for, if any, by the reference plugins' precedence
 * (macvlan, tuning): CNI_ARGS MAC=, then runtimeConfig.mac, then
 * args.cni.mac, each beating the one before. Throws code 7 (4 for CNI_ARGS)
 * for one that is not a station address.
 */
export function runtimeMac(conf: NetConf, cniArgs: Map<string, string>): string | undefined {
  if (conf.runtimeMac !== undefined) return conf.runtimeMac;
  const env = cniArgs.get('MAC');
  if (env === undefined || env === '') return undefined;
  try {
    parseStationMac(env);
  } catch (err) {
    throw new CniError(CNI_ERR.invalidEnv, 'invalid CNI_ARGS', `MAC: ${(err as Error).message}`);
  }
  return env;
}
