// The container side: the commands configureIface runs inside the namespace (pkg/ipam ConfigureIface's
// steps), and what checkIface accepts from `ip -j` (iproute2's forms of addresses and route destinations).
import { describe, expect, test } from 'vitest';
import { canonicalIp, checkIface, configureIface, type NetnsExec } from '../../src/cni/iface';
import type { Result } from '../../src/cni/result';

/** A NetnsExec that records "NETNS CMD ARGS" and answers from a table of exact command lines. */
function fake(answers: Record<string, string> = {}) {
  const calls: string[] = [];
  const exec: NetnsExec = async (netns, cmd, args) => {
    const line = [cmd, ...args].join(' ');
    calls.push(`${netns} ${line}`);
    return answers[line] ?? '';
  };
  return { calls, exec };
}

describe('configureIface', () => {
  test('addresses, link up, then routes: a route without gw goes through its family\'s first gateway; route options as ip route takes them', async () => {
    const { calls, exec } = fake({ 'sysctl -n net/ipv6/conf/lo/disable_ipv6': '0\n', 'sysctl -n net/ipv6/conf/eth0.5/disable_ipv6': '1\n' });
    const result: Result = {
      cniVersion: '1.0.0',
      ips: [
        { address: '192.0.2.50/24', gateway: '192.0.2.1', interface: 0 },
        { address: '198.51.100.7/24', gateway: '198.51.100.1', interface: 0 },
        { address: '2001:db8::50/64', gateway: '2001:db8::1', interface: 0 },
        { address: '203.0.113.9/24', interface: 1 }, // another interface's: not ours
      ],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '203.0.113.0/24', gw: '192.0.2.254', priority: 100, table: 200, scope: 0, mtu: 1400, advmss: 1360 }, { dst: '::/0' }],
    };
    await configureIface('/run/netns/c', 'eth0.5', result, exec);
    expect(calls.map((c) => c.replace('/run/netns/c ', ''))).toEqual([
      'ip addr add 192.0.2.50/24 dev eth0.5',
      'ip addr add 198.51.100.7/24 dev eth0.5',
      'sysctl -n net/ipv6/conf/lo/disable_ipv6',
      'sysctl -n net/ipv6/conf/eth0.5/disable_ipv6',
      'sysctl -q -w net/ipv6/conf/eth0.5/disable_ipv6=0',
      'sysctl -q -w net/ipv6/conf/eth0.5/keep_addr_on_down=1',
      'ip addr add 2001:db8::50/64 dev eth0.5',
      'ip link set dev eth0.5 up',
      'ip -6 -o addr show dev eth0.5 tentative',
      'ip route append 0.0.0.0/0 via 192.0.2.1 dev eth0.5',
      'ip route append 203.0.113.0/24 via 192.0.2.254 dev eth0.5 metric 100 table 200 scope 0 mtu 1400 advmss 1360',
      'ip -6 route append ::/0 via 2001:db8::1 dev eth0.5',
    ]);
  });

  test('a command that fails: code 102 with its stderr', async () => {
    const exec: NetnsExec = async (_n, cmd, args) => {
      if (args[0] === 'addr') throw new Error(`${cmd} ${args.join(' ')}: Error: ipv4: Address already assigned.`);
      return '';
    };
    await expect(configureIface('/run/netns/c', 'eth0', { cniVersion: '1.0.0', ips: [{ address: '192.0.2.50/24' }] }, exec)).rejects.toMatchObject({ code: 102, details: 'ip addr add 192.0.2.50/24 dev eth0: Error: ipv4: Address already assigned.' });
  });
});

describe('checkIface', () => {
  const link = (addrs: { local: string; prefixlen: number }[]) => JSON.stringify([{ ifname: 'eth0', address: '02:00:00:00:00:01', addr_info: addrs }]);
  test('IPv6 in another spelling, a host route and default routes match iproute2\'s forms', async () => {
    const { exec } = fake({
      'ip -j addr show dev eth0': link([{ local: '2001:db8::50', prefixlen: 64 }]),
      'ip -j -4 route show table all': JSON.stringify([{ dst: 'default', gateway: '192.0.2.1' }, { dst: '203.0.113.5' }]),
      'ip -j -6 route show table all': JSON.stringify([{ dst: 'default', gateway: '2001:db8::1' }]),
    });
    const prev: Result = { cniVersion: '1.0.0', ips: [{ address: '2001:DB8:0:0::50/64', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '192.0.2.1' }, { dst: '203.0.113.5/32' }, { dst: '::/0', gw: '2001:0db8::1' }] };
    await expect(checkIface('/run/netns/c', 'eth0', { name: 'eth0', mac: '02:00:00:00:00:01' }, prev, exec)).resolves.toBeUndefined();
    await expect(checkIface('/run/netns/c', 'eth0', { name: 'eth0' }, { ...prev, routes: [{ dst: '0.0.0.0/0', gw: '192.0.2.2' }] }, exec)).rejects.toMatchObject({ code: 103, details: 'route to 0.0.0.0/0 via 192.0.2.2 is missing' });
  });

  test('no such interface: 103', async () => {
    const exec: NetnsExec = async () => {
      throw new Error('Device "eth0" does not exist.');
    };
    await expect(checkIface('/run/netns/c', 'eth0', { name: 'eth0' }, { cniVersion: '1.0.0' }, exec)).rejects.toMatchObject({ code: 103, details: 'no interface eth0 there: Device "eth0" does not exist.' });
  });

  test('canonicalIp: IPv6 compressed and lower-case, IPv4 unchanged', () => {
    expect(canonicalIp('2001:0DB8:0000::0001')).toBe('2001:db8::1');
    expect(canonicalIp('192.0.2.1')).toBe('192.0.2.1');
  });
});
