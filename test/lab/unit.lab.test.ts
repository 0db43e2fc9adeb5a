/**
 * The shipped systemd/vethd@.service under a real systemd (the machine's, booted
 * in the lab by tools/lab/systemd.ts; issue 28). The unit file is the shipped
 * one, byte for byte; drop-ins change only what the lab needs:
 *   lab.conf       ExecStart= this checkout's bin/vethd instead of /usr/bin/vethd;
 *   watchdog.conf  WatchdogSec=3s instead of 30s, so "stays up past WatchdogSec" takes
 *                  seconds, not a minute (vethd pings every WatchdogSec/2 either way).
 * The configuration, the .network file and the /dev/net/tun drop-in are the ones
 * docs/systemd.md shows, read from it. vethd@eth0 and systemd-networkd start at
 * boot, with the lab's DHCP server (dnsmasq on the peer) already up. /dev/net/tun
 * is 0666 in the booted system, as udev makes it, until a test makes it 0600.
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
import { linkExists, promiscuity, sendFrames, skipLab } from './tools';

const UNIT = 'vethd@eth0.service';
const METRICS = '127.0.0.1:10823';
const METRICS2 = '127.0.0.1:10824';
const WATCHDOG_SEC = 3;
const SHIPPED = readFileSync(path.join(PROJECT, 'systemd', 'vethd@.service'), 'utf8');

/**
 * The file a docs page (default docs/systemd.md) shows under its path: the indented block whose
 * first line is "# <file>", that line included (a comment in each of these formats).
 */
function docFile(file: string, page = 'systemd.md'): string {
  const lines = readFileSync(path.join(PROJECT, 'docs', page), 'utf8').split('\n');
  const i = lines.indexOf(`    # ${file}`);
  if (i < 0) throw new Error(`docs/${page} shows no ${file}`);
  const block: string[] = [];
  for (const l of lines.slice(i)) {
    if (l !== '' && !l.startsWith('    ')) break;
    block.push(l.slice(4));
  }
  while (block.at(-1) === '') block.pop();
  return `${block.join('\n')}\n`;
}

/** The shipped ExecStart=, with this checkout's bin/vethd for /usr/bin/vethd: the one change the lab makes to the unit. */
const execStart = /^ExecStart=(.*)$/m.exec(SHIPPED)?.[1] ?? '';
const LAB_DROPIN = `# The lab's path (test/lab/unit.lab.test.ts): this checkout's vethd.
[Service]
ExecStart=
ExecStart=${execStart.replace('/usr/bin/vethd', path.join(PROJECT_INSIDE, 'bin', 'vethd'))}
`;
const WATCHDOG_DROPIN = `# Shorter than the shipped 30s, so the test of the watchdog takes seconds.
[Service]
WatchdogSec=${WATCHDOG_SEC}s
`;
/** The system as installed by docs/systemd.md: vethd@eth0 and systemd-networkd enabled, started at boot. */
const BOOT_DROPIN = `[Unit]
Wants=${UNIT} systemd-networkd.service
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
  // The persistent MACs: derived from the machine id (the booted system's /etc is the machine's) and the names.
  const machineId = readMachineId();
  const macOf = (tap: string) => (machineId ? formatMac(resolveMac({ kind: 'persistent' }, { machineId, tap, parent: 'eth0' })) : '');
  const [mac1, mac2] = [macOf('veth1'), macOf('veth2')];
  /** The address networkd got for veth1 at boot. */
  let address = '';

  /** A unit's properties now. */
  const props = (unit = UNIT) => sd.show(unit, ['ActiveState', 'SubState', 'Result', 'StatusText', 'MainPID', 'NRestarts', 'ExecMainStatus', 'WatchdogUSec', 'WatchdogTimestampMonotonic']);
  /** A unit's journal (message text only), from priority 7 (all) up to priority, e.g. 4 (warning) and more severe. */
  const journal = async (unit = UNIT, priority = 7) => (await sd.journalctl('-u', unit, '-p', String(priority), '-o', 'cat')).stdout;
  const failing = (unit = UNIT) => async (err: Error) => {
    throw new Error(`${err.message}\n${await journal(unit)}`);
  };
  const vnicMac = async (tap: string) => / link\/ether (\S+) /.exec((await sd.exec('ip', ['-o', 'link', 'show', 'dev', tap])).stdout)?.[1];
  /** veth1's IPv4 address (as networkd set it), or undefined. */
  const veth1Address = async () => {
    const r = await sd.execStatus('ip', ['-4', '-o', 'addr', 'show', 'dev', 'veth1']);
    return / inet (192\.0\.2\.\d+)\//.exec(r.stdout)?.[1];
  };
  const metricsOf = async (listen: string) => (await sd.exec('curl', ['-fsS', '--max-time', '5', `http://${listen}/metrics`])).stdout;

  beforeAll(async () => {
    before = machineState();
    writeFileSync(canary, 'systemd-tmpfiles must not see this\n');
    sd = await SystemdLab.boot({
      units: {
        'vethd@.service': SHIPPED,
        'vethd@.service.d/lab.conf': LAB_DROPIN,
        'vethd@.service.d/watchdog.conf': WATCHDOG_DROPIN,
        'vethd-lab.target.d/boot.conf': BOOT_DROPIN,
      },
      files: {
        '/etc/vethd/eth0.toml': docFile('/etc/vethd/eth0.toml'),
        '/etc/systemd/network/50-vethd-veth1.network': docFile('/etc/systemd/network/50-vethd-veth1.network'),
      },
      beforeBoot: (lab) => lab.startDhcpServer(),
    });
  });
  afterAll(async () => {
    await sd?.destroy();
    rmSync(canary, { force: true });
  });

  test('at boot: active (running) once READY, with its status line; each vNIC of /etc/vethd/eth0.toml has its MAC; the metrics answer on 127.0.0.1', async () => {
    expect(machineId, 'no /etc/machine-id here: the persistent MAC cannot be derived').not.toBe('');
    // The boot finished: Type=notify, so the unit's start job ended with READY=1 (or failed).
    const p = await props();
    expect(p, await journal()).toMatchObject({ ActiveState: 'active', SubState: 'running', StatusText: 'Attached veth1, veth2 into eth0' });
    expect(await vnicMac('veth1')).toBe(mac1);
    expect(await vnicMac('veth2')).toBe(mac2);
    const metrics = await metricsOf(METRICS);
    expect(metrics).toMatch(/^vethd_\w+\{[^}]*"veth1"/m);
    expect(metrics).toMatch(/^vethd_\w+\{[^}]*"veth2"/m);
  });

  test('vethd status -i eth0 reaches it on /run/vethd/eth0/control.sock (RuntimeDirectory=vethd/%i), as root', async () => {
    const vethd = path.join(PROJECT_INSIDE, 'bin', 'vethd');
    const reply = JSON.parse((await sd.exec(vethd, ['status', '-i', 'eth0', '--json'])).stdout);
    expect(reply).toMatchObject({ api: 1, pid: Number((await props()).MainPID), parent: { name: 'eth0', up: true }, vnics: [{ name: 'veth1', mac: mac1, state: 'serving' }, { name: 'veth2', mac: mac2, state: 'serving' }] });
    const mode = (await sd.exec('stat', ['-c', '%a %U', '/run/vethd/eth0', '/run/vethd/eth0/control.sock'])).stdout.trim().split('\n');
    expect(mode.map((l) => l.split(' ')[0])).toEqual(['700', '600']);
    const lines = (await sd.exec(vethd, ['status', '-i', 'eth0'])).stdout;
    expect(lines).toContain(`  veth1  ${mac1}  serving`);
  });

  test("systemd-networkd, started at boot, gets veth1 a lease from the LAN's DHCP server through vethd", async () => {
    address = await waitFor('networkd to configure a DHCP address on veth1', veth1Address, 30_000, 250).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${(await sd.journalctl('-u', 'systemd-networkd', '-o', 'cat')).stdout}`);
    });
    expect(sd.lab.leases()).toContain(`${mac1} ${address} `);
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
    await sd.systemctl('reload', UNIT).catch(failing());
    await waitFor('the SIGHUP line in the journal', async () => /SIGHUP: /.test(await journal()), 10_000, 200);
    expect(await props()).toMatchObject({ ActiveState: 'active', SubState: 'running', MainPID: first.MainPID, NRestarts: '0' });
  });

  test('journald priorities: a MAC conflict is a warning to journalctl -p warning; the info lines are not', async () => {
    // Another station on the LAN broadcasts with veth2's MAC.
    await sendFrames(sd.lab, 'other', 'eth0', [{ dst: 'ff:ff:ff:ff:ff:ff', src: mac2, type: 0x88b5 }], 5);
    await waitFor('the MAC conflict at priority warning', async () => /MAC conflict/.test(await journal(UNIT, 4)), 10_000, 200).catch(failing());
    const warnings = await journal(UNIT, 4);
    expect(warnings).not.toMatch(/Attached|SIGHUP/);
    expect(await journal()).toMatch(/Attached/);
  });

  test('kill -9 of the main process: Restart=on-failure brings it back, with the same MACs', async () => {
    const first = await props();
    await sd.exec('kill', ['-9', first.MainPID]);
    // RestartSec=2s, then the start until READY.
    const p = await waitFor('vethd to be restarted and READY', async () => {
      const q = await props();
      return q.NRestarts === '1' && q.ActiveState === 'active' && q.SubState === 'running' ? q : undefined;
    }, 20_000, 200).catch(failing());
    expect(p.MainPID).not.toBe(first.MainPID);
    expect(p.StatusText).toBe('Attached veth1, veth2 into eth0');
    expect(await vnicMac('veth1')).toBe(mac1);
    expect(await vnicMac('veth2')).toBe(mac2);
  });

  test('systemctl restart: networkd gets veth1 the same address again', async () => {
    expect(address).not.toBe('');
    const first = await props();
    await sd.systemctl('restart', UNIT).catch(failing());
    expect((await props()).MainPID).not.toBe(first.MainPID);
    expect(await waitFor('networkd to configure veth1 again', veth1Address, 30_000, 250)).toBe(address);
  });

  test('a second instance from the same recipe, with its own metrics port, runs beside the first', async () => {
    const recipe = docFile('/etc/vethd/eth0.toml').replace(METRICS, METRICS2).replace('"veth1"', '"veth3"').replace('"veth2"', '"veth4"');
    expect(recipe).toContain(METRICS2);
    await sd.writeFile('/etc/vethd/lab2.toml', recipe);
    await sd.systemctl('start', 'vethd@lab2.service').catch(failing('vethd@lab2.service'));
    expect(await props('vethd@lab2.service')).toMatchObject({ ActiveState: 'active', StatusText: 'Attached veth3, veth4 into eth0' });
    expect(await props()).toMatchObject({ ActiveState: 'active', SubState: 'running' });
    expect(await metricsOf(METRICS2)).toMatch(/^vethd_\w+\{[^}]*"veth3"/m);
    expect(await metricsOf(METRICS)).toMatch(/^vethd_\w+\{[^}]*"veth1"/m);
    await sd.systemctl('stop', 'vethd@lab2.service');
  });

  test('live-vnics = true in the file, as docs/systemd.md says: vethd add and remove work under the unit\'s sandbox', async () => {
    const recipe = docFile('/etc/vethd/eth0.toml').replace(METRICS, METRICS2).replace('"veth1"', '"veth3"').replace('"veth2"', '"veth4"');
    await sd.writeFile('/etc/vethd/lab2.toml', `live-vnics = true\n${recipe}`);
    await sd.systemctl('start', 'vethd@lab2.service').catch(failing('vethd@lab2.service'));
    const vethd = path.join(PROJECT_INSIDE, 'bin', 'vethd');
    const added = await sd.execStatus(vethd, ['add', '-i', 'lab2', '-v', 'veth5']);
    expect(added, await journal('vethd@lab2.service')).toMatchObject({ status: 0, stdout: `added veth5 (${macOf('veth5')}) to lab2\n` });
    expect(await vnicMac('veth5')).toBe(macOf('veth5'));
    expect((await sd.execStatus(vethd, ['remove', '-i', 'lab2', 'veth5'])).status).toBe(0);
    expect(await linkExists(sd.lab, 'fw', 'veth5')).toBe(false);
    expect(await props('vethd@lab2.service')).toMatchObject({ ActiveState: 'active', SubState: 'running', NRestarts: '0' });
    await sd.systemctl('stop', 'vethd@lab2.service');
  });

  test('the CNI daemon under the unit (empty = true, docs/containers.md\'s netns drop-in): vethd-cni ADD gives a container a vNIC and an address, DEL takes them', async () => {
    const unit = 'vethd@cni.service';
    await sd.writeFile('/etc/vethd/cni.toml', 'eth = "eth0"\nempty = true\nmetrics-listen = "127.0.0.1:10825"\n');
    const dropin = docFile('/etc/systemd/system/vethd@eth0.service.d/netns.conf', 'containers.md');
    await sd.writeFile('/etc/systemd/system/vethd@cni.service.d/netns.conf', dropin);
    await sd.systemctl('daemon-reload');
    await sd.systemctl('start', unit).catch(failing(unit));
    expect(await props(unit)).toMatchObject({ ActiveState: 'active', StatusText: 'Serving eth0, no vNIC yet' });
    await sd.exec('ip', ['netns', 'add', 'ct1']);
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'lan', type: 'vethd', master: 'eth0', socket: '/run/vethd/cni/control.sock', ipam: { type: 'host-local', subnet: '192.0.2.0/24', rangeStart: '192.0.2.60', rangeEnd: '192.0.2.69' } });
    const cni = (command: string) =>
      sd.execStatus('sh', ['-c', 'printf %s "$1" | env CNI_COMMAND="$2" CNI_CONTAINERID=ct1 CNI_NETNS=/run/netns/ct1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$3"', 'sh', conf, command, path.join(PROJECT_INSIDE, 'bin', 'vethd-cni')]);
    try {
      const add = await cni('ADD');
      expect(add.status, `${add.stdout}${add.stderr}\n${await journal(unit)}`).toBe(0);
      const result = JSON.parse(add.stdout);
      expect(result).toMatchObject({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/ct1' }], ips: [{ address: expect.stringMatching(/^192\.0\.2\.6\d\/24$/) }] });
      const ping = await sd.exec('ip', ['netns', 'exec', 'ct1', 'ping', '-c', '2', '-i', '0.2', '-W', '2', '192.0.2.1']);
      expect(ping.stdout).toContain('2 received');
      expect((await cni('DEL')).status).toBe(0);
      expect((await sd.execStatus('ip', ['netns', 'exec', 'ct1', 'ip', 'link', 'show', 'eth0'])).status).not.toBe(0);
    } finally {
      await sd.execStatus('ip', ['netns', 'del', 'ct1']);
      await sd.systemctl('stop', unit);
    }
  });

  test("only the old unit's environment file: exit 2 with the keys to write, at priority err, and no restart", async () => {
    const old = 'vethd@veth5.service';
    await sd.writeFile('/etc/vethd/veth5.conf', 'VETHD_PARENT=eth0\nVETHD_MAC=persistent\n');
    const start = await sd.execStatus('systemctl', ['start', old]);
    expect(start.status).not.toBe(0);
    // RestartPreventExitStatus=2: failed at once, no restart scheduled (that would be activating/auto-restart).
    expect(await props(old)).toMatchObject({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '2', NRestarts: '0' });
    expect(await journal(old, 3)).toContain('vethd: config /etc/vethd/veth5.toml: cannot read: no such file or directory (ENOENT); /etc/vethd/veth5.conf is the environment file vethd@veth5.service read before: write /etc/vethd/veth5.toml with: veth = "veth5"; eth = "eth0"; mac = "persistent"');
  });

  test('/dev/net/tun at 0600: the one-line EACCES error, no endless restarts; the drop-in of docs/systemd.md cures it', async () => {
    await sd.systemctl('stop', UNIT);
    // The tests before started it several times within StartLimitIntervalSec: count from here.
    await sd.systemctl('reset-failed', UNIT);
    await sd.exec('chmod', ['0600', '/dev/net/tun']);
    try {
      expect((await sd.execStatus('systemctl', ['start', UNIT])).status).not.toBe(0);
      // Restart=on-failure every 2 s until StartLimitBurst=5 starts in StartLimitIntervalSec=20s; then failed for good
      // (while a restart is pending the unit is activating/auto-restart). systemd 252 keeps Result=exit-code.
      await waitFor('the unit to give up', async () => (await props()).ActiveState === 'failed', 30_000, 250).catch(failing());
      const errors = (await journal(UNIT, 3)).split('\n').filter((l) => l.includes('/dev/net/tun'));
      expect(errors).toHaveLength(5);
      expect(errors[0]).toMatch(/^vethd: veth1: cannot open \/dev\/net\/tun: Permission denied \(EACCES\); .*tun\.conf drop-in/);
      expect(await journal()).toMatch(/Start request repeated too quickly/);
      expect(await linkExists(sd.lab, 'fw', 'veth1')).toBe(false);

      const dropin = '/etc/systemd/system/vethd@eth0.service.d/tun.conf';
      await sd.writeFile(dropin, docFile(dropin));
      await sd.systemctl('daemon-reload');
      await sd.systemctl('reset-failed', UNIT);
      await sd.systemctl('start', UNIT).catch(failing());
      expect(await props()).toMatchObject({ ActiveState: 'active', SubState: 'running', StatusText: 'Attached veth1, veth2 into eth0' });
      // Held for set-up only: the running vethd has no capability left.
      const status = (await sd.exec('grep', ['^Cap', `/proc/${(await props()).MainPID}/status`])).stdout;
      expect(status).toMatch(/^CapEff:\s+0+$/m);
      expect(status).toMatch(/^CapPrm:\s+0+$/m);
    } finally {
      await sd.exec('chmod', ['0666', '/dev/net/tun']);
    }
  });

  test('systemctl stop: no TAP left, the parent\'s promiscuity back to 0', async () => {
    await sd.systemctl('stop', UNIT);
    expect(await sd.show(UNIT, ['ActiveState', 'Result'])).toEqual({ ActiveState: 'inactive', Result: 'success' });
    expect(await linkExists(sd.lab, 'fw', 'veth1')).toBe(false);
    expect(await linkExists(sd.lab, 'fw', 'veth2')).toBe(false);
    expect(await promiscuity(sd.lab, 'fw', 'eth0')).toBe(0);
    expect((await sd.execStatus('test', ['-e', '/run/vethd/eth0'])).status).not.toBe(0);
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
