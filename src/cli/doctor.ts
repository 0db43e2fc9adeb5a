/**
 * `vethd doctor`: everything on this host that breaks a vNIC beside its
 * parent, each finding with the exact fix. Pure over a HostView (the real one
 * reads /proc, /sys and the systemd .link directories), so every check is
 * unit-tested with a fake host.
 *
 * ARP flux (the OpenVZ multiple-interfaces problem): Linux answers ARP for
 * any local address on any interface and announces from any of them, so with
 * the parent and the vNIC in one subnet, clients see an IP drift between two
 * MACs. The parent needs arp_ignore=1 (answer only for its own addresses) and
 * arp_announce=2 (ARP requests carry its own address); arp_filter=1 breaks
 * one of the two interfaces (replies only where the route table points) and a
 * strict rp_filter drops what arrives on the interface the route does not
 * prefer. See Documentation/networking/ip-sysctl.rst.
 */

/** What doctor reads (and, with --fix, writes) on the host. */
export interface HostView {
  /** A sysctl's value ("net.ipv4.conf.eth0.arp_ignore"), trimmed; undefined when there is no such key. */
  sysctl(key: string): string | undefined;
  /** Write a sysctl (--fix); throws a one-line Error. */
  setSysctl(key: string, value: string): void;
  /** 'char' for a character device, 'other' for anything else, undefined when missing. */
  fileKind(path: string): 'char' | 'other' | undefined;
  /** An interface in this namespace (sysfs): ARPHRD type, MTU, operstate; undefined when there is none. */
  link(name: string): { type: number; mtu: number; operstate: string } | undefined;
  /** This process's effective capability set (CapEff in /proc/self/status). */
  capEff(): bigint;
  /** systemd .link files, in precedence order per name: [{dir, name, text}]. */
  linkFiles(): { dir: string; name: string; text: string }[];
  /** GRO/LRO state of a device; undefined when it cannot be read. */
  offloads(name: string): { gro: boolean; lro: boolean } | undefined;
}

export interface DoctorOptions {
  /** The parent NIC. */
  parent: string;
  /** The vNIC; its checks run when it exists in this namespace. */
  vnic: string;
  /** Whether vethd runs with virtio_net_hdr passthrough (GRO super-frames pass through it). */
  vnetHdr: boolean;
}

export type Status = 'ok' | 'FAIL' | 'skip' | 'fixed';

export interface Finding {
  status: Status;
  /** One line: what was checked and what was found. */
  text: string;
  /** Why it breaks the set-up (FAIL only). */
  why?: string;
  /** The command or change that fixes it (FAIL only). */
  fix?: string;
  /** A sysctl --fix may write to mend it. */
  sysctl?: { key: string; value: string };
}

/** Capability bits (linux/capability.h). */
const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;
const ARPHRD_ETHER = 1;

/** sysctl(8) key of a per-interface setting; a dotted name (eth0.100) takes the slash form. */
export function confKey(ifname: string, key: string, proto = 'ipv4'): string {
  return ifname.includes('.') ? `net/${proto}/conf/${ifname}/${key}` : `net.${proto}.conf.${ifname}.${key}`;
}

/** An integer sysctl, NaN when unreadable. */
function intSysctl(host: HostView, key: string): number {
  const v = host.sysctl(key);
  return v === undefined ? Number.NaN : Number.parseInt(v, 10);
}

/** The conf value in force for ifname: the larger of conf.all and conf.<ifname> (arp_ignore, arp_announce, rp_filter). */
function effectiveMax(host: HostView, ifname: string, key: string): { value: number; all: number; dev: number } {
  const all = intSysctl(host, confKey('all', key));
  const dev = intSysctl(host, confKey(ifname, key));
  return { value: Math.max(all, dev), all, dev };
}

function fail(text: string, why: string, fix: string, sysctl?: Finding['sysctl']): Finding {
  return { status: 'FAIL', text, why, fix, sysctl };
}

function setFix(key: string, value: string): { fix: string; sysctl: Finding['sysctl'] } {
  return { fix: `sysctl -w ${key}=${value}`, sysctl: { key, value } };
}

/** arp_ignore >= 1 and arp_announce = 2 on ifname (in force: the larger of all and the interface). */
function arpChecks(host: HostView, ifname: string, other: string): Finding[] {
  const out: Finding[] = [];
  const ignore = effectiveMax(host, ifname, 'arp_ignore');
  if (ignore.value >= 1) out.push({ status: 'ok', text: `${ifname}: arp_ignore ${ignore.value}: answers ARP only for its own addresses` });
  else {
    const f = setFix(confKey(ifname, 'arp_ignore'), '1');
    out.push(fail(`${ifname}: arp_ignore ${ignore.value}`, `${ifname} answers ARP for ${other}'s addresses with its own MAC (ARP flux)`, f.fix, f.sysctl));
  }
  const announce = effectiveMax(host, ifname, 'arp_announce');
  if (announce.value >= 2) out.push({ status: 'ok', text: `${ifname}: arp_announce ${announce.value}: announces only its own addresses` });
  else {
    const f = setFix(confKey(ifname, 'arp_announce'), '2');
    out.push(fail(`${ifname}: arp_announce ${announce.value}`, `ARP requests sent on ${ifname} may carry ${other}'s address as sender, mapping it to ${ifname}'s MAC in every cache that hears them`, f.fix, f.sysctl));
  }
  return out;
}

/** arp_filter off (in force: all OR the interface) and rp_filter not strict (the larger of all and the interface). */
function filterChecks(host: HostView, ifname: string): Finding[] {
  const out: Finding[] = [];
  const all = intSysctl(host, confKey('all', 'arp_filter'));
  const dev = intSysctl(host, confKey(ifname, 'arp_filter'));
  if (all === 1 || dev === 1) {
    const key = dev === 1 ? confKey(ifname, 'arp_filter') : confKey('all', 'arp_filter');
    const f = setFix(key, '0');
    out.push(fail(`${ifname}: arp_filter 1`, `${ifname} answers ARP only where the route table would send the reply: with two interfaces in one subnet, one of them goes unanswered`, f.fix, f.sysctl));
  } else {
    out.push({ status: 'ok', text: `${ifname}: arp_filter 0` });
  }
  const rp = effectiveMax(host, ifname, 'rp_filter');
  if (rp.value === 1) {
    const f = setFix(confKey(ifname, 'rp_filter'), '2');
    out.push(fail(`${ifname}: rp_filter 1 (strict)`, `packets arriving on ${ifname} from a subnet whose route prefers the other interface are dropped`, f.fix, f.sysctl));
  } else {
    out.push({ status: 'ok', text: `${ifname}: rp_filter ${rp.value}${rp.value === 2 ? ' (loose)' : ''}` });
  }
  return out;
}

/** A systemd link file's [Match] section as key -> space-separated values (the last assignment wins). */
function parseLinkFile(text: string): { match: Map<string, string[]>; policy?: string } {
  const match = new Map<string, string[]>();
  let section = '';
  let policy: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (section === 'Match') match.set(key, value.split(/\s+/).filter(Boolean));
    else if (section === 'Link' && key === 'MACAddressPolicy') policy = value;
  }
  return { match, policy };
}

/** A shell-style glob (*, ?, [..]) as a RegExp. */
function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether a .link [Match] could match a TAP named tap (Driver=tun, Type=ether, Kind=tun); keys doctor cannot judge count as matching. */
function matchesTap(match: Map<string, string[]>, tap: string): boolean {
  const facts: Record<string, string> = { OriginalName: tap, Driver: 'tun', Type: 'ether', Kind: 'tun' };
  for (const [key, values] of match) {
    if (!(key in facts) || values.length === 0) continue;
    const negate = values[0].startsWith('!');
    const globs = values.map((v, i) => (i === 0 && negate ? v.slice(1) : v));
    const hit = globs.some((g) => globRegExp(g).test(facts[key]));
    if (hit === negate) return false;
  }
  return true;
}

/** The first .link file (by name, across directories) that matches the vNIC, as udev picks it. */
function macPolicyCheck(host: HostView, tap: string): Finding {
  const files = host.linkFiles();
  const byName = new Map<string, { dir: string; text: string }>();
  for (const f of files) if (!byName.has(f.name)) byName.set(f.name, f);
  for (const name of [...byName.keys()].sort()) {
    const f = byName.get(name)!;
    const { match, policy } = parseLinkFile(f.text);
    if (!matchesTap(match, tap)) continue;
    if (policy === 'persistent' || policy === 'random') {
      return fail(
        `${f.dir}/${name}: MACAddressPolicy=${policy} matches ${tap}`,
        `udev may rewrite the TAP's MAC if it handles the new device before vethd has set its own`,
        `printf '[Match]\\nOriginalName=${tap}\\n\\n[Link]\\nMACAddressPolicy=none\\n' > /etc/systemd/network/10-vethd-${tap}.link`,
      );
    }
    return { status: 'ok', text: `${f.dir}/${name} matches ${tap} first: MACAddressPolicy=${policy ?? 'unset'} keeps vethd's MAC` };
  }
  return { status: 'ok', text: `no systemd .link file sets a MACAddressPolicy for ${tap}` };
}

function capabilityCheck(host: HostView): Finding {
  const eff = host.capEff();
  const missing = [
    [CAP_NET_ADMIN, 'CAP_NET_ADMIN'],
    [CAP_NET_RAW, 'CAP_NET_RAW'],
  ].filter(([bit]) => ((eff >> (bit as bigint)) & 1n) === 0n).map(([, name]) => name as string);
  if (!missing.length) return { status: 'ok', text: 'capabilities: CAP_NET_ADMIN and CAP_NET_RAW' };
  return fail(
    `capabilities: ${missing.join(' and ')} missing`,
    'vethd needs CAP_NET_ADMIN to create the TAP and CAP_NET_RAW to open the packet socket',
    'run vethd as root, or grant them (systemd: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)',
  );
}

function tunCheck(host: HostView): Finding {
  const kind = host.fileKind('/dev/net/tun');
  if (kind === 'char') return { status: 'ok', text: '/dev/net/tun: a character device' };
  if (kind === undefined) return fail('/dev/net/tun: missing', 'vethd creates the vNIC through it', 'modprobe tun (and, without udev: mkdir -p /dev/net && mknod /dev/net/tun c 10 200)');
  return fail('/dev/net/tun: not a character device', 'vethd creates the vNIC through it', 'rm /dev/net/tun && mknod /dev/net/tun c 10 200');
}

/** The parent: present, Ethernet, up; its offloads. Returns the findings and its MTU (undefined when absent). */
function parentChecks(host: HostView, opts: DoctorOptions): { findings: Finding[]; mtu?: number } {
  const p = opts.parent;
  const link = host.link(p);
  if (!link) return { findings: [fail(`${p}: no such interface`, 'the parent must exist in this namespace', `choose the parent with -e (see ip link)`)] };
  const findings: Finding[] = [];
  if (link.type !== ARPHRD_ETHER) findings.push(fail(`${p}: link type ${link.type}, not Ethernet`, 'vethd relays Ethernet frames', 'choose an Ethernet NIC with -e (see ip link)'));
  else findings.push({ status: 'ok', text: `${p}: Ethernet, MTU ${link.mtu}` });
  if (link.operstate === 'down' || link.operstate === 'lowerlayerdown') {
    findings.push(fail(`${p}: link ${link.operstate}`, 'nothing is relayed while the parent is down', `ip link set ${p} up (and check the cable)`));
  }
  const off = host.offloads(p);
  if (!off) findings.push({ status: 'skip', text: `${p}: GRO/LRO unknown (cannot read its offloads)` });
  else {
    if (off.lro) findings.push(fail(`${p}: LRO on`, 'LRO merges frames the kernel cannot split again exactly; the kernel turns it off on forwarding devices for the same reason', `ethtool -K ${p} lro off`));
    if (off.gro && !opts.vnetHdr) findings.push(fail(`${p}: GRO on, with --no-vnet-hdr`, 'GRO super-frames are larger than the vNIC MTU and are dropped as oversize without virtio_net_hdr', `ethtool -K ${p} gro off (or run vethd without --no-vnet-hdr)`));
    if (!off.lro && (!off.gro || opts.vnetHdr)) findings.push({ status: 'ok', text: `${p}: LRO off, GRO ${off.gro ? 'on (virtio_net_hdr passes its super-frames through)' : 'off'}` });
  }
  return { findings, mtu: link.mtu };
}

/** Every check, in the order printed. */
export function diagnose(opts: DoctorOptions, host: HostView): Finding[] {
  const out: Finding[] = [tunCheck(host), capabilityCheck(host)];
  const parent = parentChecks(host, opts);
  out.push(...parent.findings);
  if (parent.mtu !== undefined) out.push(...arpChecks(host, opts.parent, 'the vNIC'), ...filterChecks(host, opts.parent));
  const vnic = host.link(opts.vnic);
  if (!vnic) {
    out.push({ status: 'skip', text: `${opts.vnic}: not in this namespace (vethd not running, or --netns): its checks are skipped` });
  } else {
    out.push(...arpChecks(host, opts.vnic, opts.parent), ...filterChecks(host, opts.vnic));
    if (parent.mtu !== undefined && vnic.mtu !== parent.mtu) {
      out.push(fail(`${opts.vnic}: MTU ${vnic.mtu}, ${opts.parent} has ${parent.mtu}`, 'frames larger than the smaller MTU are dropped on one side', `ip link set ${opts.vnic} mtu ${parent.mtu}`));
    } else if (parent.mtu !== undefined) {
      out.push({ status: 'ok', text: `${opts.vnic}: MTU ${vnic.mtu}, the parent's` });
    }
  }
  out.push(macPolicyCheck(host, opts.vnic));
  return out;
}

/**
 * --fix: write the sysctl of every FAIL that has one; it becomes 'fixed', or
 * stays FAIL with the write's error as its why.
 */
export function applyFixes(findings: Finding[], host: HostView): Finding[] {
  return findings.map((f) => {
    if (f.status !== 'FAIL' || !f.sysctl) return f;
    try {
      host.setSysctl(f.sysctl.key, f.sysctl.value);
      return { ...f, status: 'fixed', text: `${f.text} -> ${f.sysctl.value}` };
    } catch (err) {
      return { ...f, why: `${f.why}; --fix could not write it: ${(err as Error).message}` };
    }
  });
}

/** The report: a line per finding (why and fix indented under a FAIL), then a summary; exit 0 when nothing FAILs. */
export function report(findings: Finding[], fixing: boolean): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${f.status.padEnd(5)} ${f.text}`);
    if (f.status === 'FAIL') {
      lines.push(`      why: ${f.why}`);
      lines.push(`      fix: ${f.fix}`);
    }
  }
  const failing = findings.filter((f) => f.status === 'FAIL');
  const fixed = findings.filter((f) => f.status === 'fixed');
  const fixable = failing.filter((f) => f.sysctl).length;
  if (!failing.length) lines.push(fixed.length ? `all good after ${fixed.length} fix(es)` : 'all good');
  else lines.push(`${failing.length} problem(s)${!fixing && fixable ? `, ${fixable} fixable with --fix` : ''}`);
  if (fixed.length) {
    lines.push('sysctl -w lasts until reboot; to keep the fixes, put these lines in /etc/sysctl.d/60-vethd.conf:');
    for (const f of fixed) lines.push(`  ${f.sysctl!.key} = ${f.sysctl!.value}`);
  }
  return { lines, exitCode: failing.length ? 1 : 0 };
}
