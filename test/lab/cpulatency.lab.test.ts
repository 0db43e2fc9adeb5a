/**
 * --cpu-latency against the kernel's real PM QoS device: the request is in
 * force while vethd runs and withdrawn when it ends, by SIGTERM or by SIGKILL
 * (the kernel drops it with the file), so nothing outlives the daemon.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab } from '../../tools/lab/lab';
import { CPU_LATENCY_DEVICE } from '../../src/host/cpulatency';
import { skipLab, VethdProcess } from './tools';

/** The request in force now, µs (the lowest held; 2000000000 when none). */
function inForce(): number {
  const b = readFileSync(CPU_LATENCY_DEVICE);
  return os.endianness() === 'LE' ? b.readInt32LE(0) : b.readInt32BE(0);
}

describe.skipIf(skipLab)('--cpu-latency with the real PM QoS device', () => {
  let lab: Lab;
  let baseline: number;

  beforeAll(async () => {
    lab = await Lab.create('qos');
    baseline = inForce();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test.each([['SIGTERM'], ['SIGKILL']] as const)('in force while vethd runs, withdrawn after %s', async (signal) => {
    // Another holder at or below 7 µs would hide ours: then there is nothing to see.
    expect(baseline).toBeGreaterThan(7);
    const vethd = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', '02:00:c0:00:02:23', '--probe-window', '0', '--cpu-latency', '7']);
    try {
      expect(inForce()).toBe(7);
      await waitFor('the request logged', () => vethd.log().includes('holding a CPU wake-up latency request of 7 µs'));
    } finally {
      await vethd.stop(signal);
    }
    await waitFor(`the request withdrawn after ${signal}`, () => inForce() === baseline || undefined, 5000);
  });
});
