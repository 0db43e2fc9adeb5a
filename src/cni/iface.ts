/**
 * The container side of an attachment: the IPAM result's addresses and routes
 * set on the vNIC inside the container's namespace, as the reference plugins'
 * pkg/ipam ConfigureIface does it, and CHECK's reading of them back (as
 * ip.ValidateExpectedInterfaceIPs and ValidateExpectedRoute). Done with
 * iproute2 inside the namespace (`nsenter --net=<CNI_NETNS> ip ...`): the
 * plugin holds no netlink code of its own, and the daemon has already made
 * the link and brought it up.
 */
import { execFile } from 'node:child_process';
import { CNI_ERR, CniError } from './errors';
import { parseCidr, type Interface, type Result } from './result';

/** Runs cmd with args inside the network namespace file netns; resolves with its stdout, rejects with one line (its stderr). */
export type NetnsExec = (netns: string, cmd: string, args: string[]) => Promise<string>;

/** Where ip, nsenter and sysctl are when the runtime gives the plugin no PATH (some run plugins with CNI_* alone). */
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** nsenter(1) --net=netns: the command runs in that network namespace, with everything else (mounts, /sys) as it is here. */
export const nsenterExec: NetnsExec = (netns, cmd, args) =>
  new Promise((resolve, reject) => {
    const env = { ...process.env, PATH: process.env.PATH || SYSTEM_PATH };
    execFile('nsenter', [`--net=${netns}`, '--', cmd, ...args], { env, timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });

/** How long IPv6 addresses may stay tentative (DAD) before routes through a v6 gateway are added (pkg/ipam's dadSettleTimeout). */
export const DAD_SETTLE_MS = 5_000;

/**
 * Give ifname in netns the result's IPs (those of interface 0, or with no
 * interface) and routes, a route without gw going through its family's first
 * gateway; IPv6 is enabled on lo and ifname first when an IPv6 address comes,
 * and the addresses settle (DAD) before IPv6 routes are added. Throws code 102
 * naming the command that failed.
 */
export async function configureIface(netns: string, ifname: string, result: Result, exec: NetnsExec = nsenterExec): Promise<void> {
  const run = async (cmd: string, args: string[]) => {
    try {
      return await exec(netns, cmd, args);
    } catch (err) {
      throw new CniError(CNI_ERR.configure, `cannot configure ${ifname} in ${netns}`, (err as Error).message);
    }
  };
  let v4gw: string | undefined;
  let v6gw: string | undefined;
  let v6 = false;
  for (const ip of result.ips ?? []) {
    if (ip.interface !== undefined && ip.interface !== 0) continue;
    const family = parseCidr(ip.address)?.family;
    if (family === 6 && !v6) {
      for (const dev of ['lo', ifname]) {
        const key = `net/ipv6/conf/${dev}/disable_ipv6`; // slashes: an interface name may hold dots (VLANs)
        if ((await run('sysctl', ['-n', key]).catch(() => '0')).trim() !== '0') await run('sysctl', ['-q', '-w', `${key}=0`]);
      }
      await run('sysctl', ['-q', '-w', `net/ipv6/conf/${ifname}/keep_addr_on_down=1`]);
      v6 = true;
    }
    await run('ip', ['addr', 'add', ip.address, 'dev', ifname]);
    if (ip.gateway && family === 4) v4gw ??= ip.gateway;
    if (ip.gateway && family === 6) v6gw ??= ip.gateway;
  }
  await run('ip', ['link', 'set', 'dev', ifname, 'up']);
  if (v6gw) await settle(netns, ifname, exec);
  for (const r of result.routes ?? []) {
    const family = parseCidr(r.dst)?.family;
    const gw = r.gw ?? (family === 4 ? v4gw : v6gw);
    const args = ['route', 'append', r.dst, ...(gw ? ['via', gw] : []), 'dev', ifname];
    if (r.priority !== undefined) args.push('metric', String(r.priority));
    if (r.table !== undefined) args.push('table', String(r.table));
    if (r.scope !== undefined) args.push('scope', String(r.scope));
    if (r.mtu !== undefined) args.push('mtu', String(r.mtu));
    if (r.advmss !== undefined) args.push('advmss', String(r.advmss));
    await run('ip', family === 6 ? ['-6', ...args] : args);
  }
}

/** Wait (DAD_SETTLE_MS at most) until no IPv6 address of ifname is tentative; throws code 102 after. */
async function settle(netns: string, ifname: string, exec: NetnsExec): Promise<void> {
  const deadline = Date.now() + DAD_SETTLE_MS;
  for (;;) {
    const out = await exec(netns, 'ip', ['-6', '-o', 'addr', 'show', 'dev', ifname, 'tentative']).catch(() => '');
    if (!out.trim()) return;
    if (Date.now() >= deadline) throw new CniError(CNI_ERR.configure, `cannot configure ${ifname} in ${netns}`, `its IPv6 addresses are still tentative after ${DAD_SETTLE_MS / 1000} s (DAD): ${out.trim()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An address as iproute2 prints it: IPv6 compressed and lower-case (the URL parser's form), IPv4 as it is. */
export function canonicalIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** A route's destination as `ip -j route` prints it: "default", a host route without its prefix, else CIDR. */
function routeDst(cidr: string): string {
  const c = parseCidr(cidr);
  if (!c) return cidr;
  if (c.prefix === 0) return 'default';
  const ip = canonicalIp(c.ip);
  return c.prefix === (c.family === 4 ? 32 : 128) ? ip : `${ip}/${c.prefix}`;
}

/**
 * CHECK inside the namespace: ifname is there with the previous result's MAC,
 * holds each of its IPs, and each of its routes is in a routing table (a
 * chained plugin may have added more: only missing ones count). Throws code
 * 103 naming what differs.
 */
export async function checkIface(netns: string, ifname: string, iface: Interface, prev: Result, exec: NetnsExec = nsenterExec): Promise<void> {
  const fail = (what: string) => new CniError(CNI_ERR.check, `${ifname} in ${netns} is not as ADD left it`, what);
  let links: { ifname: string; address?: string; addr_info?: { local: string; prefixlen: number }[] }[];
  try {
    links = JSON.parse(await exec(netns, 'ip', ['-j', 'addr', 'show', 'dev', ifname])) as typeof links;
  } catch (err) {
    throw fail(`no interface ${ifname} there: ${(err as Error).message}`);
  }
  const link = links[0];
  if (!link) throw fail(`no interface ${ifname} there`);
  if (iface.mac && link.address?.toLowerCase() !== iface.mac.toLowerCase()) throw fail(`its MAC is ${link.address}, the previous result says ${iface.mac}`);
  const have = new Set((link.addr_info ?? []).map((a) => `${canonicalIp(a.local)}/${a.prefixlen}`));
  for (const ip of prev.ips ?? []) {
    if (ip.interface !== undefined && ip.interface !== 0) continue;
    const c = parseCidr(ip.address);
    if (c && !have.has(`${canonicalIp(c.ip)}/${c.prefix}`)) throw fail(`address ${ip.address} is missing (it has ${[...have].join(', ') || 'none'})`);
  }
  if (!prev.routes?.length) return;
  const tables: { dst: string; gateway?: string }[] = [];
  for (const family of ['-4', '-6']) {
    try {
      tables.push(...(JSON.parse(await exec(netns, 'ip', ['-j', family, 'route', 'show', 'table', 'all'])) as { dst: string; gateway?: string }[]));
    } catch (err) {
      throw fail(`cannot read its routes: ${(err as Error).message}`);
    }
  }
  for (const r of prev.routes) {
    const dst = routeDst(r.dst);
    const gw = r.gw && canonicalIp(r.gw);
    if (!tables.some((t) => t.dst === dst && (!gw || (t.gateway && canonicalIp(t.gateway) === gw)))) throw fail(`route to ${r.dst}${r.gw ? ` via ${r.gw}` : ''} is missing`);
  }
}
