// The configurations people copy parse with the plugin's own parser: the Multus network in deploy/,
// and the conflist and host-local ipam in docs/containers.md (so the docs cannot drift from the code).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { parseCniArgs, parseConfig, runtimeMac } from '../../src/cni/config';

const root = path.join(__dirname, '..', '..');
const parsed = (conf: unknown) => parseConfig(Buffer.from(JSON.stringify(conf)));

describe('shipped configurations', () => {
  test('deploy/network-attachment.yaml: its config is a vethd network on eth0 with dhcp', () => {
    const nad = parse(readFileSync(path.join(root, 'deploy', 'network-attachment.yaml'), 'utf8')) as { spec: { config: string } };
    const conf = parseConfig(Buffer.from(nad.spec.config));
    expect(conf).toMatchObject({ cniVersion: '1.0.0', name: 'lan', type: 'vethd', master: 'eth0', ipam: { type: 'dhcp' } });
  });

  test('docs/containers.md: the conflist\'s plugin (as a runtime derives it) and the host-local ipam', () => {
    const doc = readFileSync(path.join(root, 'docs', 'containers.md'), 'utf8');
    const blocks = [...doc.matchAll(/\n\n((?: {4}.*\n)+)/g)].map((m) => m[1].replace(/^ {4}/gm, ''));
    const list = JSON.parse(blocks.find((b) => b.includes('"plugins"')) ?? '') as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const conf = parsed({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] });
    expect(conf).toMatchObject({ type: 'vethd', master: 'eth0', vethd: { raGuard: true, dhcpGuard: true }, ipam: { type: 'dhcp' } });
    const ipam = JSON.parse(`{${blocks.find((b) => b.startsWith('"ipam"')) ?? ''}}`) as Record<string, unknown>;
    expect(parsed({ cniVersion: '1.0.0', name: 'lan', type: 'vethd', master: 'eth0', ...ipam }).ipam).toMatchObject({ type: 'host-local' });
  });
});

describe('parseConfig', () => {
  test('vethd\'s keys at the top level and in "vethd" are one set; the same value twice is fine', () => {
    expect(parsed({ cniVersion: '1.0.0', name: 'n', type: 'vethd', master: 'eth0', vlan: 7, raGuard: true, vethd: { raGuard: true, socket: '/run/x.sock' } }).vethd).toEqual({ vlan: 7, raGuard: true, socket: '/run/x.sock' });
  });

  test('no ipam type: layer 2 only; keys runtimes add pass', () => {
    const conf = parsed({ cniVersion: '1.1.0', name: 'n', type: 'vethd', master: 'eth0', ipam: {}, capabilities: { mac: true }, 'cni.dev/attachment': 'x', args: { cni: { labels: [] } } });
    expect(conf.ipam).toBeUndefined();
  });
});

describe('CNI_ARGS', () => {
  test('pairs kept, MAC read (args.cni.mac and runtimeConfig.mac beat it)', () => {
    const args = parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web;MAC=02:00:00:00:00:09');
    expect(args.get('K8S_POD_NAME')).toBe('web');
    const conf = parsed({ cniVersion: '1.0.0', name: 'n', type: 'vethd', master: 'eth0' });
    expect(runtimeMac(conf, args)).toBe('02:00:00:00:00:09');
    expect(runtimeMac(parsed({ cniVersion: '1.0.0', name: 'n', type: 'vethd', master: 'eth0', runtimeConfig: { mac: '02:00:00:00:00:0a' } }), args)).toBe('02:00:00:00:00:0a');
    expect(() => runtimeMac(conf, parseCniArgs('MAC=ff:ff:ff:ff:ff:ff'))).toThrow(expect.objectContaining({ code: 4 }));
  });
});
