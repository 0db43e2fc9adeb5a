// vethd-cni against the real daemon: `vethd -e eth1 --empty` (the CLI and daemon code as they run,
// on the fake addon of test/fakes.ts, in this process), so the table the plugin sends is the one the
// daemon's schema and parsers take, and the ids, MACs and namespaces come back as CHECK expects them.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildProgram } from '../../src/cli/cli';
import { controlRequest } from '../../src/cli/client';
import type { StatusReply } from '../../src/daemon/status';
import { waitFor } from '../../tools/lab/exec';
import { FakeNative, FakeSignals } from '../fakes';
import { World } from './harness';

const w = new World();
const fake = new FakeNative();
const signals = new FakeSignals();
let run: Promise<unknown>;

beforeAll(async () => {
  const program = buildProgram({
    native: fake.module(),
    out: () => {},
    stdoutIsTty: true,
    logger: () => pino({ level: 'silent' }),
    signals,
    machineId: () => '0123456789abcdef0123456789abcdef',
    localUsers: () => [],
    parentUp: () => true,
    defaultControlSocket: () => path.join(os.tmpdir(), `vethd-cni-daemon-${process.pid}`, 'control.sock'),
  });
  program.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  run = program.parseAsync(['node', 'vethd', '-e', 'eth1', '--empty', '--probe-window', '0', '--metrics-listen', 'off', '--control-socket', w.socket]);
  await waitFor('the control socket', async () => (await controlRequest(w.socket, 'GET', 'status').catch(() => undefined))?.status === 200);
});
afterAll(async () => {
  signals.emit('SIGTERM');
  await run.catch(() => undefined);
  await w.close();
});

test('ADD: the daemon builds the vNIC in CNI_NETNS with the plugin\'s MAC, VLAN and guards, id <container>/<ifname>; CHECK passes; DEL removes it, twice', async () => {
  const conf = w.conf({ master: 'eth1', vethd: { vlan: 100, raGuard: true, dhcpGuard: true, antiSpoofing: true } });
  const add = await w.run('ADD', conf);
  expect(add.code, add.stdout + add.stderr).toBe(0);
  const mac = (add.json?.interfaces as { mac: string }[])[0].mac;
  expect(fake.added).toEqual([{ slot: 0, options: expect.objectContaining({ tap: 'eth0', netns: w.netns, vlan: 100, raGuard: true, dhcpGuard: true, antiSpoofing: true, mac: Buffer.from(mac.replace(/:/g, ''), 'hex') }) }]);
  const st = (await controlRequest(w.socket, 'GET', 'status')).body as StatusReply;
  expect(st.vnics).toMatchObject([{ name: 'eth0', id: 'ctr1/eth0', mac, netns: w.netns, vlan: 100, state: 'serving' }]);

  w.setAddrs([{ local: '192.0.2.50', prefixlen: 24 }], mac);
  w.setRoutes([{ dst: 'default', gateway: '192.0.2.1' }]);
  const check = await w.run('CHECK', { ...conf, prevResult: add.json });
  expect(check.code, check.stdout).toBe(0);

  // A second container's eth0 beside it, in its own namespace: another id, another persistent MAC.
  const ctr2 = { CNI_CONTAINERID: 'ctr2', CNI_NETNS: path.join(w.dir, 'netns-ctr2') };
  writeFileSync(ctr2.CNI_NETNS, '');
  const second = await w.run('ADD', w.conf({ master: 'eth1' }, null), ctr2);
  expect(second.code, second.stdout).toBe(0);
  expect((second.json?.interfaces as { mac: string }[])[0].mac).not.toBe(mac);

  expect((await w.run('DEL', conf)).code).toBe(0);
  expect((await w.run('DEL', conf)).code).toBe(0);
  expect((await w.run('DEL', w.conf({ master: 'eth1' }, null), ctr2)).code).toBe(0);
  expect(fake.removed).toEqual([0, 1]);
  expect(((await controlRequest(w.socket, 'GET', 'status')).body as StatusReply).vnics).toEqual([]);
});

test('a MAC policy the daemon refuses with its own parser comes back as an invalid configuration (7), nothing built', async () => {
  const before = fake.added.length;
  const r = await w.run('ADD', w.conf({ master: 'eth1', mac: 'ip:192.0.2.300' }, null));
  expect(r.code).toBe(1);
  expect(r.json).toMatchObject({ code: 7 });
  expect(fake.added.length).toBe(before);
});
