import { describe, expect, test } from 'vitest';
import { applyFixes, confKey, diagnose, report, type HostView } from '../../src/cli/doctor';
import { sysctlPath } from '../../src/host/hostview';

const CAPS = (1n << 12n) | (1n << 13n);

/** A host where everything is right; override what a test needs. */
function host(over: Partial<HostView> & { sysctls?: Record<string, string> } = {}): HostView & { written: Record<string, string> } {
  const sysctls: Record<string, string> = {
    'net.ipv4.conf.all.arp_ignore': '0',
    'net.ipv4.conf.all.arp_announce': '0',
    'net.ipv4.conf.all.arp_filter': '0',
    'net.ipv4.conf.all.rp_filter': '0',
    'net.ipv4.conf.eth0.arp_ignore': '1',
    'net.ipv4.conf.eth0.arp_announce': '2',
    'net.ipv4.conf.eth0.arp_filter': '0',
    'net.ipv4.conf.eth0.rp_filter': '2',
    'net.ipv4.conf.veth1.arp_ignore': '1',
    'net.ipv4.conf.veth1.arp_announce': '2',
    'net.ipv4.conf.veth1.arp_filter': '0',
    'net.ipv4.conf.veth1.rp_filter': '0',
    ...over.sysctls,
  };
  const written: Record<string, string> = {};
  return {
    written,
    sysctl: (k) => sysctls[k],
    setSysctl: (k, v) => {
      written[k] = v;
      sysctls[k] = v;
    },
    fileKind: () => 'char',
    link: (name) => (name === 'eth0' || name === 'veth1' ? { type: 1, mtu: 1500, operstate: 'up' } : undefined),
    capEff: () => CAPS,
    linkFiles: () => [],
    offloads: () => ({ gro: true, lro: false }),
    ...over,
  };
}

const OPTS = { parent: 'eth0', vnic: 'veth1', vnetHdr: true };
const fails = (h: HostView, opts = OPTS) => diagnose(opts, h).filter((f) => f.status === 'FAIL');

describe('vethd doctor', () => {
  test('a host set up right: nothing fails, exit 0', () => {
    const r = report(diagnose(OPTS, host()), false);
    expect(r.exitCode).toBe(0);
    expect(r.lines[r.lines.length - 1]).toBe('all good');
  });

  test('kernel defaults on the parent: arp_ignore and arp_announce fail, each with its sysctl', () => {
    const f = fails(host({ sysctls: { 'net.ipv4.conf.eth0.arp_ignore': '0', 'net.ipv4.conf.eth0.arp_announce': '0' } }));
    expect(f.map((x) => [x.text, x.fix])).toEqual([
      ['eth0: arp_ignore 0', 'sysctl -w net.ipv4.conf.eth0.arp_ignore=1'],
      ['eth0: arp_announce 0', 'sysctl -w net.ipv4.conf.eth0.arp_announce=2'],
    ]);
    const r = report(f, false);
    expect(r.exitCode).toBe(1);
    expect(r.lines[r.lines.length - 1]).toBe('2 problem(s), 2 fixable with --fix');
  });

  test('the value in force is the larger of conf.all and the interface (ip-sysctl.rst)', () => {
    expect(fails(host({ sysctls: { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.eth0.arp_ignore': '0' } }))).toEqual([]);
    // rp_filter: all=1 makes veth1 (0) strict, not eth0 (2); the fix raises the interface to loose
    const f = fails(host({ sysctls: { 'net.ipv4.conf.all.rp_filter': '1' } }));
    expect(f.map((x) => x.fix)).toEqual(['sysctl -w net.ipv4.conf.veth1.rp_filter=2']);
  });

  test('arp_filter is on when conf.all or the interface says so; the fix names the one that does', () => {
    const f = fails(host({ sysctls: { 'net.ipv4.conf.all.arp_filter': '1' } }));
    expect(f.map((x) => x.fix)).toEqual(['sysctl -w net.ipv4.conf.all.arp_filter=0', 'sysctl -w net.ipv4.conf.all.arp_filter=0']);
  });

  test('the vNIC is checked when it exists: its ARP sysctls and an MTU other than the parent\'s', () => {
    const h = host({
      sysctls: { 'net.ipv4.conf.veth1.arp_ignore': '0' },
      link: (name) => (name === 'eth0' ? { type: 1, mtu: 9000, operstate: 'up' } : name === 'veth1' ? { type: 1, mtu: 1500, operstate: 'up' } : undefined),
    });
    expect(fails(h).map((x) => [x.text, x.fix])).toEqual([
      ['veth1: arp_ignore 0', 'sysctl -w net.ipv4.conf.veth1.arp_ignore=1'],
      ['veth1: MTU 1500, eth0 has 9000', 'ip link set veth1 mtu 9000'],
    ]);
    const absent = diagnose(OPTS, host({ link: (n) => (n === 'eth0' ? { type: 1, mtu: 1500, operstate: 'up' } : undefined) }));
    expect(absent.find((x) => x.status === 'skip')?.text).toMatch(/^veth1: not in this namespace/);
  });

  test('parent missing, not Ethernet, down; LRO; GRO only without virtio_net_hdr', () => {
    expect(fails(host({ link: () => undefined }))[0].text).toBe('eth0: no such interface');
    expect(fails(host({ link: (n) => (n === 'eth0' ? { type: 772, mtu: 65536, operstate: 'unknown' } : undefined) }))[0].text).toBe('eth0: link type 772, not Ethernet');
    expect(fails(host({ link: (n) => (n === 'eth0' ? { type: 1, mtu: 1500, operstate: 'down' } : undefined) }))[0].fix).toBe('ip link set eth0 up (and check the cable)');
    expect(fails(host({ offloads: () => ({ gro: false, lro: true }) })).map((x) => x.fix)).toEqual(['ethtool -K eth0 lro off']);
    expect(fails(host())).toEqual([]);
    expect(fails(host(), { ...OPTS, vnetHdr: false }).map((x) => x.text)).toEqual(['eth0: GRO on, with --no-vnet-hdr']);
  });

  test('/dev/net/tun missing and capabilities missing', () => {
    expect(fails(host({ fileKind: () => undefined }))[0].fix).toMatch(/^modprobe tun/);
    expect(fails(host({ capEff: () => 1n << 13n }))[0].text).toBe('capabilities: CAP_NET_ADMIN missing');
  });

  test('a .link file with MACAddressPolicy=persistent matching the TAP fails; udev picks the first file by name, /etc overriding', () => {
    const dflt = { dir: '/usr/lib/systemd/network', name: '99-default.link', text: '[Match]\nOriginalName=*\n\n[Link]\nNamePolicy=keep kernel\nMACAddressPolicy=persistent\n' };
    const f = fails(host({ linkFiles: () => [dflt] }));
    expect(f.map((x) => x.text)).toEqual(['/usr/lib/systemd/network/99-default.link: MACAddressPolicy=persistent matches veth1']);
    expect(f[0].fix).toContain('OriginalName=veth1');
    // an earlier file for the TAP with MACAddressPolicy=none wins
    const ours = { dir: '/etc/systemd/network', name: '10-vethd-veth1.link', text: '[Match]\nOriginalName=veth1\n[Link]\nMACAddressPolicy=none\n' };
    expect(fails(host({ linkFiles: () => [ours, dflt] }))).toEqual([]);
    // the same name in /etc masks the vendor file
    const masked = { dir: '/etc/systemd/network', name: '99-default.link', text: '' };
    expect(fails(host({ linkFiles: () => [masked, dflt] }))).toEqual([]);
    // files for other drivers or names do not match
    const other = { dir: '/etc/systemd/network', name: '50-nic.link', text: '[Match]\nDriver=e1000e\n[Link]\nMACAddressPolicy=random\n' };
    const notUs = { dir: '/etc/systemd/network', name: '51-nic.link', text: '[Match]\nOriginalName=!veth*\n[Link]\nMACAddressPolicy=random\n' };
    expect(fails(host({ linkFiles: () => [other, notUs] }))).toEqual([]);
  });

  test('--fix writes the sysctls of failing findings only; a write that fails stays FAIL with why', () => {
    const h = host({ sysctls: { 'net.ipv4.conf.eth0.arp_ignore': '0', 'net.ipv4.conf.eth0.arp_announce': '1' } });
    const fixed = applyFixes(diagnose(OPTS, h), h);
    expect(h.written).toEqual({ 'net.ipv4.conf.eth0.arp_ignore': '1', 'net.ipv4.conf.eth0.arp_announce': '2' });
    const r = report(fixed, true);
    expect(r.exitCode).toBe(0);
    expect(r.lines).toContain('fixed eth0: arp_ignore 0 -> 1');
    expect(r.lines).toContain('  net.ipv4.conf.eth0.arp_ignore = 1');

    const ro = host({ sysctls: { 'net.ipv4.conf.eth0.arp_ignore': '0' }, setSysctl: () => { throw new Error('net.ipv4.conf.eth0.arp_ignore: cannot write: EROFS'); } });
    const still = applyFixes(diagnose(OPTS, ro), ro).filter((x) => x.status === 'FAIL');
    expect(still[0].why).toMatch(/--fix could not write it: net.ipv4.conf.eth0.arp_ignore: cannot write: EROFS$/);
  });

  test('a dotted interface name takes the slash form of the key, which maps to the same /proc/sys file', () => {
    expect(confKey('eth0.100', 'arp_ignore')).toBe('net/ipv4/conf/eth0.100/arp_ignore');
    expect(sysctlPath(confKey('eth0.100', 'arp_ignore'))).toBe('/proc/sys/net/ipv4/conf/eth0.100/arp_ignore');
    expect(sysctlPath(confKey('eth0', 'arp_ignore'))).toBe('/proc/sys/net/ipv4/conf/eth0/arp_ignore');
  });
});
