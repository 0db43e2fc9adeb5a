// Results: an IPAM plugin's output read (either spec's IP form), ADD's result built, each written in its version.
import { describe, expect, test } from 'vitest';
import { addResult, ipamResult, parseCidr, resultJson } from '../../src/cni/result';

describe('result', () => {
  test('parseCidr: address, prefix and family; undefined for what is none', () => {
    expect(parseCidr('192.0.2.5/24')).toEqual({ ip: '192.0.2.5', prefix: 24, family: 4 });
    expect(parseCidr('2001:db8::5/64')).toEqual({ ip: '2001:db8::5', prefix: 64, family: 6 });
    for (const bad of ['192.0.2.5', '192.0.2.5/33', 'x/24', '2001:db8::/129']) expect(parseCidr(bad)).toBeUndefined();
  });

  test('an IPAM result of 0.4.0 (IPs with version) and of 1.0.0 read alike; a bad address is code 101 naming it', () => {
    const out = ipamResult(JSON.stringify({ cniVersion: '0.4.0', ips: [{ version: '4', address: '192.0.2.5/24', gateway: '192.0.2.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} }), 'host-local');
    expect(out).toEqual({ ips: [{ address: '192.0.2.5/24', gateway: '192.0.2.1' }], routes: [{ dst: '0.0.0.0/0' }], dns: {} });
    expect(() => ipamResult(JSON.stringify({ ips: [{ address: '192.0.2.5' }] }), 'host-local')).toThrow(expect.objectContaining({ code: 101, details: 'ips[0].address is not an address in CIDR form: "192.0.2.5"' }));
  });

  test('addResult: IPs bound to interface 0; the IPAM plugin\'s dns, else the configuration\'s', () => {
    const iface = { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/c' };
    const ipam = { ips: [{ address: '192.0.2.5/24' }], routes: [], dns: {} };
    expect(addResult('1.0.0', iface, ipam, { nameservers: ['192.0.2.53'] })).toEqual({ cniVersion: '1.0.0', interfaces: [iface], ips: [{ address: '192.0.2.5/24', interface: 0 }], routes: [], dns: { nameservers: ['192.0.2.53'] } });
    expect(addResult('1.0.0', iface, { ...ipam, dns: { nameservers: ['192.0.2.1'] } }, { nameservers: ['192.0.2.53'] }).dns).toEqual({ nameservers: ['192.0.2.1'] });
  });

  test('resultJson: before 1.0.0 each IP names its version', () => {
    const r = { cniVersion: '0.3.1', ips: [{ address: '2001:db8::5/64', interface: 0 }] };
    expect(resultJson(r)).toEqual({ cniVersion: '0.3.1', ips: [{ version: '6', address: '2001:db8::5/64', interface: 0 }] });
    expect(resultJson({ ...r, cniVersion: '1.0.0' })).toEqual({ ...r, cniVersion: '1.0.0' });
  });
});
