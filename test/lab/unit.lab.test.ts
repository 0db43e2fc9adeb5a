/**
 * The shipped systemd/vethd@.service under a real systemd (the machine's, booted
 * in the lab by tools/lab/systemd.ts; issue 28). The unit file is the shipped
 * one, byte for byte; drop-ins change only what the lab needs:
 *   lab.conf       ExecStart= this checkout's bin/vethd instead of /usr/bin/vethd, and
 *                  Environment= instead of EnvironmentFile=/etc/vethd/%i.conf;
 *   watchdog.conf  WatchdogSec=3s instead of 30s, so "stays up past WatchdogSec" takes
 *                  seconds, not a minute (vethd pings every WatchdogSec/2 either way).
 * /dev/net/tun is 0666 in the booted system, as udev makes it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { cgroup2Root, PROJECT, PROJECT_INSIDE, SystemdLab } from '../../tools/lab/systemd';
import { formatMac } from '../../src/mac/mac';
import { readMachineId } from '../../src/mac/machineid';
import { resolveMac } from '../../src/mac/macpolicy';
import { linkExists, promiscuity, skipLab } from './tools';

const UNIT = 'vethd@veth1.service';
const METRICS = '127.0.0.1:10823';
const WATCHDOG_SEC = 3;

const LAB_DROPIN = `# The lab's paths (test/lab/unit.lab.test.ts): this checkout's vethd; settings inline, not /etc/vethd/%i.conf.
[Service]
EnvironmentFile=
Environment=VETHD_PARENT=eth0 VETHD_MAC=persistent VETHD_METRICS_LISTEN=${METRICS}
ExecStart=
ExecStart=${path.join(PROJECT_INSIDE, 'bin', 'vethd')} -v %i
`;
const WATCHDOG_DROPIN = `# Shorter than the shipped 30s, so the test of the watchdog takes seconds.
[Service]
WatchdogSec=${WATCHDOG_SEC}s
`;

/**
 * What a lab run must leave as it found it: namespaces, cgroup v2 children, and the mounts on the
 * paths the booted system has its own of (/, /tmp, /run, /sys, /proc, /dev, /etc, the project): one
 * that leaked out of its mount namespace would show there. (Mounts elsewhere are other people's:
 * someone may build a chroot under /work meanwhile.)
 */
function machineState(): { netns: string; cgroups: string; mounts: string } {
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
  const ours = (target: string) => target === '/' || ['/tmp', '/run', '/sys', '/proc', '/dev', '/etc', PROJECT].some((p) => target === p || target.startsWith(`${p}/`));
  return {
    netns: sh('ip', ['netns', 'list']),
    cgroups: sh('find', [cgroup2Root(), '-mindepth', '1', '-type', 'd']).split('\n').sort().join('\n'),
    mounts: sh('findmnt', ['-rn', '-o', 'TARGET,FSTYPE,SOURCE,OPTIONS']).split('\n').filter((l) => ours(l.split(' ')[0])).join('\n'),
  };
}

describe.skipIf(skipLab)('vethd@.service as shipped, under a real systemd', () => {
  let sd: SystemdLab;
  let before: ReturnType<typeof machineState>;
  // A file in the machine's /tmp that must outlive the boot (systemd-tmpfiles empties /tmp: the booted one has its own).
  const canary = path.join(os.tmpdir(), `vdlab${process.pid}-canary`);
  // The persistent MAC: derived from the machine id (the booted system's /etc is the machine's) and the names.
  const machineId = readMachineId();
  const mac = machineId ? formatMac(resolveMac({ kind: 'persistent' }, { machineId, tap: 'veth1', parent: 'eth0' })) : '';

  /** The unit's properties now. */
  const props = () => sd.show(UNIT, ['ActiveState', 'SubState', 'StatusText', 'MainPID', 'NRestarts', 'WatchdogUSec', 'WatchdogTimestampMonotonic']);
  /** The unit's journal, for failure messages. */
  const journal = async () => (await sd.journalctl('-u', UNIT, '-o', 'short-monotonic')).stdout;
  const vnicMac = async () => / link\/ether (\S+) /.exec((await sd.exec('ip', ['-o', 'link', 'show', 'dev', 'veth1'])).stdout)?.[1];

  beforeAll(async () => {
    before = machineState();
    writeFileSync(canary, 'systemd-tmpfiles must not see this\n');
    sd = await SystemdLab.boot({
      units: {
        'vethd@.service': readFileSync(path.join(PROJECT, 'systemd', 'vethd@.service'), 'utf8'),
        'vethd@.service.d/lab.conf': LAB_DROPIN,
        'vethd@.service.d/watchdog.conf': WATCHDOG_DROPIN,
      },
    });
  });
  afterAll(async () => {
    await sd?.destroy();
    rmSync(canary, { force: true });
  });

  test('systemctl start: active (running) once READY, with its status line; the vNIC has its MAC; the metrics answer on 127.0.0.1', async () => {
    expect(mac, 'no /etc/machine-id here: the persistent MAC cannot be derived').not.toBe('');
    // Type=notify: start returns once vethd sent READY=1 (or fails).
    await sd.systemctl('start', UNIT).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await journal()}`);
    });
    const p = await props();
    expect(p, await journal()).toMatchObject({ ActiveState: 'active', SubState: 'running', StatusText: `Attached veth1 into eth0 (${mac})` });
    expect(await vnicMac()).toBe(mac);
    const metrics = (await sd.exec('curl', ['-fsS', '--max-time', '5', `http://${METRICS}/metrics`])).stdout;
    expect(metrics).toMatch(/^vethd_\w+\{[^}]*veth1/m);
  });

  test(`stays up past WatchdogSec (${WATCHDOG_SEC}s): the watchdog is fed`, async () => {
    const first = await props();
    expect(first.WatchdogUSec).toBe(`${WATCHDOG_SEC}s`);
    // systemd stamps each WATCHDOG=1 it gets; without them it would kill vethd (SIGABRT) after WatchdogSec.
    const stamps = new Set([first.WatchdogTimestampMonotonic]);
    const t0 = Date.now();
    await waitFor(`${2 * WATCHDOG_SEC} s under the watchdog`, async () => {
      const p = await props();
      if (p.MainPID !== first.MainPID || p.ActiveState !== 'active') throw new Error(`vethd did not stay up: ${JSON.stringify(p)}\n${await journal()}`);
      stamps.add(p.WatchdogTimestampMonotonic);
      return Date.now() - t0 >= 2 * WATCHDOG_SEC * 1000;
    }, (2 * WATCHDOG_SEC + 5) * 1000, 250);
    const last = await props();
    expect(last).toMatchObject({ ActiveState: 'active', SubState: 'running', MainPID: first.MainPID, NRestarts: '0' });
    // vethd pings every WatchdogSec/2: at least 3 stamps in 2 x WatchdogSec (the first one included).
    expect(stamps.size).toBeGreaterThanOrEqual(3);
  });

  test('systemctl reload: SIGHUP to the same process, which reloads and runs on', async () => {
    const first = await props();
    await sd.systemctl('reload', UNIT).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await journal()}`);
    });
    await waitFor('the SIGHUP line in the journal', async () => /SIGHUP: /.test(await journal()), 10_000, 200);
    expect(await props()).toMatchObject({ ActiveState: 'active', SubState: 'running', MainPID: first.MainPID, NRestarts: '0' });
  });

  test('kill -9 of the main process: Restart=on-failure brings it back, with the same MAC', async () => {
    const first = await props();
    await sd.exec('kill', ['-9', first.MainPID]);
    // RestartSec=2s, then the start until READY.
    const p = await waitFor('vethd to be restarted and READY', async () => {
      const q = await props();
      return q.NRestarts === '1' && q.ActiveState === 'active' && q.SubState === 'running' ? q : undefined;
    }, 20_000, 200).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await journal()}`);
    });
    expect(p.MainPID).not.toBe(first.MainPID);
    expect(p.StatusText).toBe(`Attached veth1 into eth0 (${mac})`);
    expect(await vnicMac()).toBe(mac);
  });

  test('systemctl stop: no TAP left, the parent\'s promiscuity back to 0', async () => {
    await sd.systemctl('stop', UNIT);
    expect(await sd.show(UNIT, ['ActiveState', 'Result'])).toEqual({ ActiveState: 'inactive', Result: 'success' });
    expect(await linkExists(sd.lab, 'fw', 'veth1')).toBe(false);
    expect(await promiscuity(sd.lab, 'fw', 'eth0')).toBe(0);
  });

  test('destroy() leaves the machine as found: namespaces, cgroup tree, mounts, /tmp', async () => {
    const labDir = sd.lab.dir;
    await sd.destroy();
    const after = machineState();
    expect(after.netns).toBe(before.netns);
    expect(after.cgroups).toBe(before.cgroups);
    expect(after.mounts).toBe(before.mounts);
    expect(existsSync(canary)).toBe(true);
    expect(existsSync(labDir)).toBe(false);
  });
});
