/**
 * Signals during set-up, in the namespace lab: while vethd probes its MAC
 * (--probe-window, the vNIC down), SIGUSR1 must not open Node's inspector
 * (ws://127.0.0.1:9229, a debugger in a process holding a packet socket) and
 * SIGHUP must not end it; SIGTERM ends it leaving nothing behind. After set-up
 * no thread holds a capability.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { run, waitFor } from '../../tools/lab/exec';
import { Lab } from '../../tools/lab/lab';
import { linkExists, promiscuity, skipLab, statusField, threads, VethdProcess } from './tools';

const INSPECTOR_PORT = 9229;

describe.skipIf(skipLab)('signals during set-up', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.create('sig');
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  /** TCP sockets listening on the inspector's port in fw (where vethd runs), as `ss -Hltn` lists them. */
  const inspectorListeners = async () => (await lab.exec('fw', 'ss', ['-Hltn', `sport = :${INSPECTOR_PORT}`])).stdout.trim();

  /** vethd on tap with a 3 s probe window, resolved once its TAP exists (set-up has begun, the vNIC still down). */
  const inProbeWindow = async (tap: string, mac: string, wrap: string[] = []) => {
    const v = VethdProcess.spawn(lab, ['-v', tap, '-e', 'eth0', '-m', mac, '--probe-window', '3000'], wrap);
    await waitFor(`${tap} to exist`, async () => {
      if (v.child.exitCode !== null) throw new Error(`vethd exited ${v.child.exitCode}: ${v.log()}`);
      return linkExists(lab, 'fw', tap);
    });
    expect(v.log()).not.toContain('Attached');
    return v;
  };

  test('SIGUSR1 during the probe window opens no debugger; vethd then attaches, SIGUSR1 logs its counters, SIGTERM exits 0', async () => {
    const v = await inProbeWindow('vsig1', '02:00:c0:00:02:31');
    let code;
    try {
      v.child.kill('SIGUSR1');
      await v.attached();
      expect(v.log()).not.toContain('Debugger listening');
      expect(await inspectorListeners()).toBe('');
      expect((await v.stats()).receive).toBeDefined();
      expect(await inspectorListeners()).toBe('');
    } finally {
      code = await v.stop();
    }
    expect(code).toBe(0);
    expect(v.log()).not.toContain('Debugger listening');
    expect(await linkExists(lab, 'fw', 'vsig1')).toBe(false);
  });

  test('SIGHUP during the probe window does not end vethd: it attaches and stops with 0', async () => {
    const v = await inProbeWindow('vsig2', '02:00:c0:00:02:32');
    let code;
    try {
      v.child.kill('SIGHUP');
      await v.attached();
    } finally {
      code = await v.stop();
    }
    expect(code).toBe(0);
  });

  test('SIGTERM during the probe window ends vethd leaving nothing behind: no vNIC, no membership on the parent', async () => {
    const v = await inProbeWindow('vsig3', '02:00:c0:00:02:33');
    // The TAP is made before the membership is added: wait for the membership, so the test shows it dropped.
    await waitFor('the membership on eth0', async () => (await promiscuity(lab, 'fw', 'eth0')) > 0 || undefined);
    v.child.kill('SIGTERM');
    await waitFor('vethd to end', () => v.child.exitCode !== null || v.child.signalCode !== null);
    expect(v.log()).not.toContain('Attached');
    expect(await linkExists(lab, 'fw', 'vsig3')).toBe(false);
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(0);
  });

  test('--inspect in NODE_OPTIONS (the inspector opened before vethd runs a line, as by a SIGUSR1 during Node start-up) never listens', async () => {
    const v = await inProbeWindow('vsig4', '02:00:c0:00:02:34', ['env', `NODE_OPTIONS=--inspect=127.0.0.1:${INSPECTOR_PORT}`]);
    let code;
    try {
      expect(await inspectorListeners()).toBe('');
      await v.attached();
      expect(await inspectorListeners()).toBe('');
      expect(v.log()).not.toContain('Debugger listening');
    } finally {
      code = await v.stop();
    }
    expect(code).toBe(0);
  });

  test('the process is named vethd, so pidof finds it; its relay thread keeps its own name', async () => {
    const v = await VethdProcess.start(lab, ['-v', 'vsig6', '-e', 'eth0', '-m', '02:00:c0:00:02:36', '--probe-window', '0']);
    let code;
    try {
      const pid = String(v.child.pid);
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8')).toBe('vethd\n');
      expect((await run('pidof', ['vethd'])).stdout.trim().split(' ')).toContain(pid);
      expect(threads(v.child.pid ?? 0).map((t) => t.comm)).toContain('vethd-q0');
    } finally {
      code = await v.stop();
    }
    expect(code).toBe(0);
  });

  test('after set-up every thread, Node\'s inspector SIGUSR1 watcher (it blocks every signal) too, holds no capability, and the log says so', async () => {
    const v = VethdProcess.spawn(lab, ['-v', 'vsig5', '-e', 'eth0', '-m', '02:00:c0:00:02:35', '--probe-window', '0']);
    let code;
    try {
      await v.attached();
      const tasks = threads(v.child.pid ?? 0);
      expect(tasks.some((t) => statusField(t.status, 'SigBlk')?.startsWith('fffffffe'))).toBe(true);
      for (const t of tasks) expect(statusField(t.status, 'CapPrm'), `thread ${t.tid} (${t.comm})`).toBe('0000000000000000');
      const line = v.stdout().split('\n').find((l) => l.includes('capabilities dropped'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ holding: 0, held: [], msg: expect.stringMatching(/^capabilities dropped \((\d+) of \1 threads hold none\)$/) });
    } finally {
      code = await v.stop();
    }
    expect(code).toBe(0);
  });
});
