/**
 * The CNI result (SPEC.md section 5, "ADD Success"): what an IPAM plugin
 * returns (ips, routes, dns, no interfaces), what vethd-cni prints after ADD
 * (the vNIC as interface 0, each IP bound to it), and the previous result
 * CHECK compares with. Results of spec 0.3.x and 0.4.0 carry each IP's
 * "version" ("4" or "6"); 1.0.0 dropped it: both are read, and each is
 * written in the configuration's version.
 */
import { isIP } from 'node:net';
import { CNI_ERR, CniError } from './errors';
import type { Dns } from './config';

export interface Interface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface IpConfig {
  /** CIDR: 192.0.2.10/24. */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface Route {
  /** CIDR: 0.0.0.0/0. */
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IpConfig[];
  routes?: Route[];
  dns?: Dns;
}

/** An address in CIDR form split: the address, its prefix length and family; undefined when it is not one. */
export function parseCidr(cidr: string): { ip: string; prefix: number; family: 4 | 6 } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return undefined;
  const family = isIP(m[1]);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { ip: m[1], prefix, family: family as 4 | 6 };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The ips, routes and dns of a result in JSON (an IPAM plugin's output, or a
 * prevResult), checked: every address and route destination in CIDR form,
 * every gateway an address. Throws what bad(detail) makes.
 */
export function readResult(json: unknown, bad: (detail: string) => CniError): Pick<Result, 'interfaces' | 'ips' | 'routes' | 'dns'> {
  if (!isObject(json)) throw bad('not a JSON object');
  const ips: IpConfig[] = [];
  for (const [i, ip] of (Array.isArray(json.ips) ? json.ips : []).entries()) {
    if (!isObject(ip) || typeof ip.address !== 'string' || !parseCidr(ip.address)) throw bad(`ips[${i}].address is not an address in CIDR form: ${JSON.stringify(isObject(ip) ? ip.address : ip)}`);
    if (ip.gateway !== undefined && (typeof ip.gateway !== 'string' || !isIP(ip.gateway))) throw bad(`ips[${i}].gateway is not an IP address: ${JSON.stringify(ip.gateway)}`);
    ips.push({ address: ip.address, ...(ip.gateway ? { gateway: ip.gateway as string } : {}), ...(typeof ip.interface === 'number' ? { interface: ip.interface } : {}) });
  }
  const routes: Route[] = [];
  for (const [i, r] of (Array.isArray(json.routes) ? json.routes : []).entries()) {
    if (!isObject(r) || typeof r.dst !== 'string' || !parseCidr(r.dst)) throw bad(`routes[${i}].dst is not a destination in CIDR form: ${JSON.stringify(isObject(r) ? r.dst : r)}`);
    if (r.gw !== undefined && (typeof r.gw !== 'string' || !isIP(r.gw))) throw bad(`routes[${i}].gw is not an IP address: ${JSON.stringify(r.gw)}`);
    const route: Route = { dst: r.dst };
    if (r.gw) route.gw = r.gw as string;
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (typeof r[k] === 'number') route[k] = r[k] as number;
    routes.push(route);
  }
  const interfaces = Array.isArray(json.interfaces) ? json.interfaces.filter(isObject).map((x) => ({ name: String(x.name ?? ''), ...(typeof x.mac === 'string' ? { mac: x.mac } : {}), ...(typeof x.sandbox === 'string' ? { sandbox: x.sandbox } : {}) })) : undefined;
  return { ...(interfaces ? { interfaces } : {}), ips, routes, ...(isObject(json.dns) ? { dns: json.dns as Dns } : {}) };
}

/** The IPAM plugin's stdout as its ips, routes and dns; throws code 101 when it is not a result or holds no IP (as macvlan refuses it). */
export function ipamResult(stdout: string, plugin: string): Pick<Result, 'ips' | 'routes' | 'dns'> {
  const bad = (detail: string) => new CniError(CNI_ERR.ipam, `the IPAM plugin "${plugin}" returned a result vethd-cni cannot use`, detail);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw bad(`its output is not JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const r = readResult(json, bad);
  if (!r.ips?.length) throw bad('it returned no IP configuration (ips is empty)');
  return { ips: r.ips, routes: r.routes, dns: r.dns };
}

/** Whether a DNS object says anything. */
const hasDns = (d: Dns | undefined): d is Dns => Boolean(d && (d.nameservers?.length || d.domain || d.search?.length || d.options?.length));

/**
 * ADD's result: the vNIC as the only interface, the IPAM plugin's IPs bound to
 * it (interface 0) and its routes; its dns, or the configuration's when it
 * gave none (macvlan prints the configuration's).
 */
export function addResult(cniVersion: string, iface: Interface, ipam: Pick<Result, 'ips' | 'routes' | 'dns'> | undefined, confDns: Dns | undefined): Result {
  const dns = hasDns(ipam?.dns) ? ipam?.dns : confDns;
  return {
    cniVersion,
    interfaces: [iface],
    ips: (ipam?.ips ?? []).map((ip) => ({ ...ip, interface: 0 })),
    routes: ipam?.routes ?? [],
    ...(hasDns(dns) ? { dns } : {}),
  };
}

/** result as JSON in its cniVersion: before 1.0.0, each IP names its version ("4" or "6"), as types/040 writes it. */
export function resultJson(result: Result): unknown {
  const old = /^0\./.test(result.cniVersion);
  return {
    ...result,
    ips: result.ips?.map((ip) => (old ? { version: String(parseCidr(ip.address)?.family ?? 4), ...ip } : ip)),
  };
}
