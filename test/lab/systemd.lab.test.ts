/**
 * vethd as systemd runs it: configuration from the environment (the unit's
 * EnvironmentFile), READY=1 once the vNIC is up, WATCHDOG=1 while running,
 * STOPPING=1 on SIGTERM, over a real AF_UNIX datagram socket.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stopChild } from '../../tools/lab/vethd';
import { waitFor } from '../../tools/lab/exec';
import { Lab } from '../../tools/lab/lab';
import { skipLab } from './tools';

const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd');

describe.skipIf(skipLab)('sd_notify in the namespace lab', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.create('sd');
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test('READY=1 after attach, WATCHDOG=1 every WatchdogSec/2, STOPPING=1 on SIGTERM; settings from the environment', async () => {
    const sock = path.join(lab.dir, 'notify.sock');
    const listener = lab.spawn('fw', 'socat', ['-u', `UNIX-RECV:${sock}`, 'STDOUT']);
    let got = '';
    listener.stdout?.on('data', (d: Buffer) => (got += d.toString()));
    await waitFor('the notify socket', async () => (await lab.exec('fw', 'test', ['-S', sock]).then(() => true, () => false)));

    const vethd = lab.spawn('fw', 'env', [
      `NOTIFY_SOCKET=${sock}`, 'WATCHDOG_USEC=200000', 'VETHD_PARENT=eth0', 'VETHD_MAC=ip:192.0.2.7', 'VETHD_METRICS_LISTEN=off',
      'VETHD_LOG_FORMAT=json', process.execPath, BIN, '-v', 'veth1',
    ]);
    let out = '';
    vethd.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('READY=1', () => got.includes('READY=1'));
    expect(out).toContain('Attached veth1 into eth0 (02:00:c0:00:02:07)');
    expect(got).toContain('STATUS=Attached veth1 into eth0 (02:00:c0:00:02:07)');
    await waitFor('two WATCHDOG=1 pings', () => got.split('WATCHDOG=1').length - 1 >= 2, 5_000);
    expect(await stopChild(vethd)).toBe(0);
    await waitFor('STOPPING=1', () => got.includes('STOPPING=1'));
    listener.kill('SIGKILL');
  });
});
