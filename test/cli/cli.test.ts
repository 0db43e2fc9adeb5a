import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommanderError } from 'commander';
import pino from 'pino';
import { describe, expect, test, vi } from 'vitest';
import { buildProgram, main } from '../../src/cli/cli';
import { controlRequest } from '../../src/cli/client';
import { waitFor } from '../../tools/lab/exec';
import { formatMac } from '../../src/mac/mac';
import { resolveMac } from '../../src/mac/macpolicy';
import { createLogger, type LogFormat, type LogLevel } from '../../src/obs/log';
import { FakeNative, FakeSignals, nativeError } from '../fakes';

const MACHINE_ID = '0123456789abcdef0123456789abcdef';
// The daemons these tests start serve metrics unless told not to: on a port of this run's own
// (from its pid), not the real default 127.0.0.1:10823, which a vethd on this host may hold.
process.env.VETHD_METRICS_LISTEN = `127.0.0.1:${20000 + (process.pid % 40000)}`;

let daemons = 0;

/** A CLI on a fake addon; stdout a terminal unless tty is false (--log-format auto is then JSON). */
function setup(opts: { machineId?: string; users?: string[]; cpuLatencyDevice?: string; tty?: boolean } = {}) {
  const fake = new FakeNative();
  const signals = new FakeSignals();
  const lines: string[] = [];
  const errors: string[] = [];
  const logs: string[] = [];
  // --log-file goes to the real logger (the file is opened as vethd opens it); the rest is kept here.
  const logger = (level: LogLevel, format: LogFormat, logFile?: string) => (logFile ? createLogger(level, format, logFile) : pino({ level: 'info' }, { write: (s: string) => logs.push(s) }));
  const program = buildProgram({
    native: fake.module(),
    out: (l) => lines.push(l),
    stdoutIsTty: opts.tty ?? true,
    logger,
    signals,
    machineId: () => ('machineId' in opts ? opts.machineId : MACHINE_ID),
    localUsers: () => opts.users ?? [],
    parentUp: () => true,
    cpuLatencyDevice: opts.cpuLatencyDevice,
    // Each daemon's control socket in a directory of its own under /tmp (made and removed by the daemon), not /run/vethd.
    defaultControlSocket: () => path.join(os.tmpdir(), `vethd-cli-${process.pid}-${++daemons}`, 'control.sock'),
  });
  program.exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: (s) => lines.push(s) });
  const parse = (...args: string[]) => program.parseAsync(['node', 'vethd', ...args]);
  return { fake, signals, lines, errors, logs, parse };
}

/** Run parse() to its end and return the CommanderError it threw (or undefined). */
async function outcome(p: Promise<unknown>): Promise<CommanderError | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err;
    throw err;
  }
}

/** main() as bin/vethd runs it, on argv (after "vethd"): what it wrote and the exit status it set. Only for runs that never reach the daemon. */
async function runMain(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const keep = (to: string[]) => (chunk: string | Uint8Array) => (to.push(String(chunk)), true);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(keep(stdout));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(keep(stderr));
  const before = process.exitCode;
  try {
    process.exitCode = undefined;
    await main(['node', 'vethd', ...args]);
    return { stdout: stdout.join(''), stderr: stderr.join(''), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}

describe('vethd [-v veth] [-e eth] [-m mac]', () => {
  test('defaults: veth0 on eth0, the persistent MAC, promiscuous membership; SIGTERM stops it cleanly', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    const mac = resolveMac({ kind: 'persistent' }, { machineId: MACHINE_ID, tap: 'veth0', parent: 'eth0' });
    expect(fake.opened).toEqual([{ parent: 'eth0', vnics: [{ tap: 'veth0', mac, netns: null, arpSysctls: true, vlan: 0, antiSpoofing: true, linkLocalPass: 0x4008, raGuard: false, dhcpGuard: false }], membership: 'promisc', vnetHdr: true, rcvbuf: 4 << 20, rxRing: 'auto', kernelFilter: true, txBatch: 32, qdiscBypass: false, rxCoalesceUs: 200, queues: 1, fanout: 'cpu', followCpu: true, hostPath: true, hostPathMark: 0x56440000 }]);
    expect(fake.started).toBe(1);
    expect(fake.ups).toBe(1);
    expect(lines).toEqual([`Attached veth0 into eth0 (${formatMac(mac)})`]);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(fake.closed).toBe(1);
  });

  test('no arguments at all: veth0 on eth0, as vethd 1.0', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse();
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0].parent).toBe('eth0');
    expect(fake.opened[0].vnics.map((v) => v.tap)).toEqual(['veth0']);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test('the original interface: -v -e -m, any MAC notation', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('-v', 'veth1', '-e', 'eth1', '-m', '0200.c000.0203', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0].vnics[0].mac).toEqual(Buffer.from('0200c0000203', 'hex'));
    expect(lines).toEqual(['Attached veth1 into eth1 (02:00:c0:00:02:03)']);
    signals.emit('SIGINT');
    expect(await outcome(run)).toBeUndefined();
  });

  test('--membership unicast and --no-vnet-hdr are passed to the relay', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('--membership', 'unicast', '--no-vnet-hdr', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0].membership).toBe('unicast');
    expect(fake.opened[0].vnetHdr).toBe(false);
    signals.emit('SIGTERM');
    await run;
  });

  test('a set-up error: one line with a hint, exit 3, nothing opened', async () => {
    const { fake, errors, parse } = setup();
    fake.openError = nativeError('eth9', 'cannot bind packet socket', 'ENODEV', 19, 'No such device');
    const err = await outcome(parse('-e', 'eth9'));
    expect(err?.exitCode).toBe(3);
    expect(err?.code).toBe('vethd.ENODEV');
    expect(errors.join('')).toBe('vethd: eth9: cannot bind packet socket: No such device (ENODEV); no such interface (see `ip link`)\n');
  });

  test('a relay thread that dies ends the daemon with exit 1 and the relay closed', async () => {
    const { fake, lines, errors, parse } = setup();
    const run = parse('-v', 'veth1', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    fake.status = { open: true, rxError: nativeError('eth0', 'relay stopped reading the parent', 'EFAULT', 14, 'Bad address'), retired: [null] };
    const err = await outcome(run);
    expect(err?.exitCode).toBe(1);
    expect(errors.join('')).toContain('vethd: eth0: relay stopped reading the parent: Bad address (EFAULT)');
    expect(fake.closed).toBe(1);
  });

  test('the only vNIC retired (deleted from outside) ends the daemon with exit 1 and the relay closed', async () => {
    const { fake, lines, errors, parse } = setup();
    const run = parse('-v', 'veth1', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    fake.status = { open: true, rxError: null, retired: [nativeError('veth1', 'relay stopped reading the TAP', 'EBADFD', 77, 'File descriptor in bad state')] };
    const err = await outcome(run);
    expect(err?.exitCode).toBe(1);
    expect(errors.join('')).toContain('vethd: veth1: relay stopped reading the TAP: File descriptor in bad state (EBADFD); the vNIC was deleted from outside; restart vethd (systemd does, with Restart=on-failure) to recreate it');
    expect(fake.closed).toBe(1);
  });

  test.each([
    [['-m', 'nonsense'], 'vethd: invalid MAC "nonsense": unknown policy', 'vethd.invalid-mac'],
    [['-m', 'ip:300.1.1.1'], 'vethd: invalid MAC "ip:300.1.1.1": "300.1.1.1" is not an IPv4 address', 'vethd.invalid-mac'],
    [['-m', 'oui:01:00:5e'], 'vethd: invalid MAC "oui:01:00:5e": the prefix has the I/G bit set', 'vethd.invalid-mac'],
    [['-v', 'a/b'], 'vethd: invalid interface name "a/b": contains "/"', 'vethd.invalid-ifname'],
    [['-v', 'a\nb'], 'vethd: invalid interface name "a\\nb": contains "\\n"', 'vethd.invalid-ifname'],
    [['-e', `eth${'\n'.repeat(1 << 20)}`], `vethd: invalid interface name "eth${'\\n'.repeat(29)}"… (1048579 characters): 1048579 bytes, longer than 15`, 'vethd.invalid-ifname'],
    [['-v', 'eth0'], 'vethd: -v and -e name the same interface "eth0"', 'vethd.same-interface'],
    [['--netns', 'vdlab-no-such-ns'], 'vethd: --netns vdlab-no-such-ns: no such network namespace (/run/netns/vdlab-no-such-ns does not exist; create it with "ip netns add vdlab-no-such-ns")', 'vethd.netns'],
    [['--netns', '..'], 'vethd: --netns "..": not a namespace name or path', 'vethd.netns'],
  ])('bad input %j: exit 2, one line, its code, relay never opened', async (args, msg, code) => {
    const { fake, errors, parse } = setup();
    const err = await outcome(parse(...args));
    expect(err?.exitCode).toBe(2);
    expect(err?.code).toBe(code);
    expect(errors.join('')).toContain(msg);
    expect(errors.join('').trim().split('\n')).toHaveLength(1);
    expect(fake.opened).toHaveLength(0);
  });

  test('hot-path modes reach the relay, and the mode in force is logged once', async () => {
    const { fake, signals, lines, parse, logs } = setup();
    const run = parse('--rx-ring', 'v3', '--no-kernel-filter', '--tx-batch', '4', '--qdisc-bypass', '--queues', '2', '--fanout', 'hash', '--no-follow-cpu', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0]).toMatchObject({ rxRing: 'v3', kernelFilter: false, txBatch: 4, qdiscBypass: true, queues: 2, fanout: 'hash', followCpu: false });
    expect(logs.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg === 'relay mode')).toEqual([expect.objectContaining({ rxRing: 'tpacket_v2', kernelFilter: false, txBatch: 4, qdiscBypass: true, queues: 2, fanout: 'hash', followCpu: 'off' })]);
    signals.emit('SIGTERM');
    await run;
  });

  test('the host path: on by default with its mark, in the mode line; --no-host-path and --host-path-mark reach the relay', async () => {
    for (const [args, want, mode] of [
      [[], { hostPath: true, hostPathMark: 0x56440000 }, 'on'],
      [['--no-host-path'], { hostPath: false, hostPathMark: 0x56440000 }, 'off'],
      [['--host-path-mark', '0x10'], { hostPath: true, hostPathMark: 16 }, 'on'],
      [['--host-path-mark', '4294967295'], { hostPath: true, hostPathMark: 0xffffffff }, 'on'],
    ] as const) {
      const { fake, signals, lines, parse, logs } = setup();
      const run = parse(...args, '--probe-window', '0');
      await waitFor('attach', () => lines.length > 0);
      expect(fake.opened[0]).toMatchObject(want);
      expect(logs.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg === 'relay mode')).toEqual([expect.objectContaining({ hostPath: mode })]);
      signals.emit('SIGTERM');
      await run;
    }
  });

  test.each(['0', '0x100000000', '-1', '1e3', 'mark', ''])('--host-path-mark %j is refused, naming the value', async (bad) => {
    const r = await runMain('--host-path-mark', bad);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('expected a mark from 1 to 0xffffffff');
  });

  test('a refused host path is said once, with its errno and the cure; a parent link event reads its MAC again and a new one is said', async () => {
    for (const refused of [undefined, 'Operation not permitted (EPERM)', 'Invalid argument (EINVAL)']) {
      const { fake, signals, lines, parse, logs } = setup();
      fake.hostPathError = refused;
      const run = parse('--probe-window', '0');
      await waitFor('attach', () => lines.length > 0);
      const hints = logs.map((l) => JSON.parse(l) as { msg: string; hostPathError?: string }).filter((l) => l.hostPathError);
      if (!refused) {
        expect(hints).toEqual([]);
        fake.hostMacChanged = true;
        fake.linkEvents({ ifindex: 2, name: 'eth0', flags: 0x1 | 0x40 | 0x10000, operstate: 6 });
        await waitFor('the new MAC said', () => logs.some((l) => l.includes("the parent's MAC changed")));
        expect(fake.hostRefreshes).toBe(1);
        fake.linkEvents({ ifindex: 7, name: 'eth1' }); // another device: nothing to read
        expect(fake.hostRefreshes).toBe(1);
      } else {
        expect(hints).toHaveLength(1);
        expect(hints[0].hostPathError).toBe(refused);
        expect(hints[0].msg).toMatch(/^host path off: a vNIC's frames to this host's own address on the parent go to the wire and never reach it/);
        expect(hints[0].msg).toMatch(refused.includes('EPERM') ? /it needs CAP_BPF and the bpf\(\) system call .*follow-cpu drop-in/ : /it needs tcx \(Linux 6.6 or later\)/);
      }
      signals.emit('SIGTERM');
      await run;
    }
  });

  test('a refused filter for following the frames is said once, with its errno and the cure; nothing is said when it was attached', async () => {
    for (const refused of [undefined, 'Operation not permitted (EPERM)']) {
      const { fake, signals, lines, parse, logs } = setup();
      fake.followCpuError = refused;
      const run = parse('--probe-window', '0');
      await waitFor('attach', () => lines.length > 0);
      const hints = logs.map((l) => JSON.parse(l) as { msg: string; followCpuError?: string }).filter((l) => l.followCpuError);
      if (!refused) expect(hints).toEqual([]);
      else {
        expect(hints).toHaveLength(1);
        expect(hints[0].followCpuError).toBe(refused);
        expect(hints[0].msg).toMatch(/^the relay thread does not follow its frames: the kernel refused the eBPF filter .*: Operation not permitted \(EPERM\); it needs CAP_BPF .*follow-cpu drop-in/);
      }
      signals.emit('SIGTERM');
      await run;
    }
  });

  test('--netns reaches the relay as a namespace file, where the vNIC may share the parent\'s name; --no-arp-sysctls too', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('-v', 'eth0', '--netns', '/proc/self/ns/net', '--no-arp-sysctls', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0]).toMatchObject({ parent: 'eth0', vnics: [{ tap: 'eth0', netns: '/proc/self/ns/net', arpSysctls: false }] });
    signals.emit('SIGTERM');
    await run;
  });

  test('--announce: an address the vNIC gains while up is announced that many times; --announce 0 never', async () => {
    for (const [count, expected] of [['1', ['192.0.2.50']], ['0', []]] as const) {
      const { fake, signals, lines, parse } = setup();
      const run = parse('--announce', count, '--probe-window', '0');
      await waitFor('attach', () => lines.length > 0);
      for (const fn of fake.linkListeners) {
        fn([{ type: 'new', ifindex: 7, flags: 0x41, operstate: -1, mtu: 1500, name: 'veth0' }]);
        fn([{ type: 'addr', ifindex: 7, flags: 0, operstate: -1, mtu: -1, name: '', family: 4, address: '192.0.2.50', addrFlags: 0x80 }]);
      }
      expect(fake.announced).toEqual(expected);
      signals.emit('SIGTERM');
      await run;
    }
  });

  test('--announce: a vNIC gaining 2,000 addresses at once announces a burst of them, logs each of those and one line for the rest', async () => {
    const { fake, signals, lines, logs, parse } = setup();
    const run = parse('--probe-window', '0', '--metrics-listen', 'off');
    await waitFor('attach', () => lines.length > 0);
    fake.linkEvents({ type: 'new', ifindex: 7, flags: 0x41, name: 'veth0' });
    const events = Array.from({ length: 2000 }, (_, i) => ({ type: 'addr' as const, ifindex: 7, family: 4 as const, address: `10.0.${i >> 8}.${i & 255}`, addrFlags: 0x80 }));
    fake.linkEvents(...events);
    expect(fake.announced).toHaveLength(32);
    expect(logs.filter((l) => l.includes('"msg":"announcing '))).toHaveLength(32);
    const over = logs.filter((l) => l.includes('announcements over the rate'));
    expect(over).toHaveLength(1);
    expect(JSON.parse(over[0])).toMatchObject({ address: '10.0.0.32', skipped: 1 });
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test('-m policies reach the relay: ip:, random, oui:', async () => {
    for (const [spec, check] of [
      ['ip:192.0.2.3', (m: string) => m === '02:00:c0:00:02:03'],
      ['random', (m: string) => /^[0-9a-f][26ae]:/.test(m)],
      ['oui:00:16:3e', (m: string) => m.startsWith('00:16:3e:')],
    ] as const) {
      const { fake, signals, lines, parse } = setup();
      const run = parse('-m', spec, '--probe-window', '0');
      await waitFor('attach', () => lines.length > 0);
      expect(check(formatMac(fake.opened[0].vnics[0].mac!))).toBe(true);
      signals.emit('SIGTERM');
      await run;
    }
  });

  test('a universally administered MAC draws a warning naming the vendor', async () => {
    const { signals, lines, logs, parse } = setup();
    const run = parse('-m', 'b8:27:eb:00:00:01', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    signals.emit('SIGTERM');
    await run;
    const warn = logs.map((l) => JSON.parse(l)).find((l) => l.level === 40);
    expect(warn.msg).toContain('b8:27:eb:00:00:01 is universally administered, registered to Raspberry Pi Foundation');
    expect(warn.msg).toContain('locally administered');
  });

  test('no machine id: the default falls back to random with a warning; an explicit persistent is refused', async () => {
    const a = setup({ machineId: undefined });
    const run = a.parse('--probe-window', '0');
    await waitFor('attach', () => a.lines.length > 0);
    a.signals.emit('SIGTERM');
    await run;
    expect(a.logs.join('')).toContain('no /etc/machine-id');
    const b = setup({ machineId: undefined });
    const err = await outcome(b.parse('-m', 'persistent'));
    expect(err?.exitCode).toBe(2);
    expect(err?.code).toBe('vethd.no-machine-id');
    expect(b.errors.join('')).toContain('cannot derive a persistent MAC: no valid /etc/machine-id');
  });

  test('a MAC an interface on this host already has is refused before anything is opened', async () => {
    const { fake, errors, parse } = setup({ users: ['eth0'] });
    const err = await outcome(parse('-m', '02:00:00:00:0f:01'));
    expect(err?.exitCode).toBe(3);
    expect(err?.code).toBe('vethd.mac-in-use');
    expect(errors.join('')).toBe('vethd: MAC 02:00:00:00:0f:01 is already used by eth0 on this host; choose another -m\n');
    expect(fake.opened).toHaveLength(0);
  });

  test('--cpu-latency: the request is written to the PM QoS device as a 4-byte integer and logged once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-qos-'));
    const device = path.join(dir, 'cpu_dma_latency');
    writeFileSync(device, '');
    const { signals, lines, parse, logs } = setup({ cpuLatencyDevice: device });
    const run = parse('--cpu-latency', '7', '--probe-window', '0');
    await waitFor('attach', () => lines.length > 0);
    const written = readFileSync(device);
    expect(written.length).toBe(4);
    expect(os.endianness() === 'LE' ? written.readInt32LE(0) : written.readInt32BE(0)).toBe(7);
    expect(logs.filter((l) => l.includes('CPU wake-up latency request of 7 µs'))).toHaveLength(1);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    rmSync(dir, { recursive: true });
  });

  test('--cpu-latency without the device: one line naming it and the errno, exit 3, relay closed, vNIC never up', async () => {
    const { fake, errors, parse } = setup({ cpuLatencyDevice: '/nonexistent/cpu_dma_latency' });
    const err = await outcome(parse('--cpu-latency', '0', '--probe-window', '0'));
    expect(err?.exitCode).toBe(3);
    expect(err?.code).toBe('vethd.ENOENT');
    expect(errors.join('')).toBe('vethd: /nonexistent/cpu_dma_latency: cannot request CPU wake-up latency of 0 µs: no such file or directory (ENOENT); this kernel has no PM QoS device (CONFIG_CPU_IDLE off?)\n');
    expect(fake.ups).toBe(0);
    expect(fake.closed).toBe(1);
  });

  test('frames from our MAC during the probe window: refused, relay closed, vNIC never up', async () => {
    const { fake, errors, parse } = setup();
    fake.stats.receive.drops.mac_conflict = 3;
    const err = await outcome(parse('-v', 'veth1', '-m', '02:00:c0:00:02:03', '--probe-window', '50'));
    expect(err?.exitCode).toBe(3);
    expect(err?.code).toBe('vethd.mac-conflict');
    expect(errors.join('')).toBe('vethd: veth1: MAC 02:00:c0:00:02:03 is already used on eth0: 3 frame(s) from it in 50 ms; choose another -m\n');
    expect(fake.ups).toBe(0);
    expect(fake.closed).toBeGreaterThanOrEqual(1);
  });

  test('a conflict while running: one warning per burst with --on-conflict warn, exit 1 with exit', async () => {
    const a = setup();
    const run = a.parse('-m', '02:00:c0:00:02:03', '--probe-window', '0');
    await waitFor('attach', () => a.lines.length > 0);
    a.fake.stats.receive.drops.mac_conflict = 1;
    await waitFor('a warning', () => a.logs.some((l) => l.includes('MAC conflict')));
    // The counter moves again within the burst: count the health checks that read it, so the
    // assertion below comes after two of them saw 5 (a slower tick makes the wait longer, not the test vacuous).
    let reads = 0;
    Object.defineProperty(a.fake.stats.receive.drops, 'mac_conflict', { get: () => (reads++, 5), configurable: true });
    await waitFor('two health checks reading the conflict counter at 5', () => reads >= 2);
    expect(a.logs.filter((l) => l.includes('MAC conflict'))).toHaveLength(1);
    a.signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();

    const b = setup();
    const run2 = b.parse('-v', 'veth1', '-m', '02:00:c0:00:02:03', '--probe-window', '0', '--on-conflict', 'exit');
    await waitFor('attach', () => b.lines.length > 0);
    b.fake.stats.receive.drops.mac_conflict = 2;
    const err = await outcome(run2);
    expect(err?.exitCode).toBe(1);
    expect(err?.code).toBe('vethd.mac-conflict');
    expect(b.errors.join('')).toContain('vethd: veth1: another station on eth0 sends with our MAC 02:00:c0:00:02:03 (2 frame(s) so far)');
  });

  test('a bad --probe-window is a usage error naming the value', async () => {
    const { fake, errors, parse } = setup();
    const err = await outcome(parse('--probe-window', '-5'));
    expect(err?.code).toBe('commander.invalidArgument');
    expect(errors.join('')).toContain('expected milliseconds from 0 to 60000, got "-5"');
    expect(fake.opened).toHaveLength(0);
  });

  test.each([
    ['--vlan', '1e2', 'a VLAN ID from 1 to 4094'],
    ['--vlan', '0x64', 'a VLAN ID from 1 to 4094'],
    ['--vlan', '100.0', 'a VLAN ID from 1 to 4094'],
    ['--vlan', '+100', 'a VLAN ID from 1 to 4094'],
    ['--vlan', ' 100', 'a VLAN ID from 1 to 4094'],
    ['--vlan', '', 'a VLAN ID from 1 to 4094'],
    ['--probe-window', '1e3', 'milliseconds from 0 to 60000'],
    ['--probe-window', '0x10', 'milliseconds from 0 to 60000'],
    ['--tx-batch', '0b11', 'a frame count from 1 to 32'],
    ['--queues', '2.', 'a queue count from 1 to 16'],
    ['--announce', '0o2', 'a frame count from 0 to 10'],
    ['--announce-interval', '1e3', 'milliseconds from 100 to 60000'],
    ['--rx-coalesce', '1E2', 'microseconds from 0 to 1000'],
    ['--cpu-latency', '0x0', 'microseconds from 0 to 2000000000'],
  ])('an integer option takes decimal digits only: %s %j is refused, naming the value', async (option, value, range) => {
    const { fake, errors, parse } = setup();
    const err = await outcome(parse(option, value, '--probe-window', '0'));
    expect(err?.code).toBe('commander.invalidArgument');
    expect(errors.join('')).toContain(`expected ${range}, got ${JSON.stringify(value)}`);
    expect(fake.opened).toHaveLength(0);
  });

  test('an integer option\'s bad value is quoted escaped and cut: one line', async () => {
    const { errors, parse } = setup();
    const err = await outcome(parse('--vlan', `1\n${'2'.repeat(100_000)}`));
    expect(err?.code).toBe('commander.invalidArgument');
    expect(errors.join('')).toContain(`expected a VLAN ID from 1 to 4094, got "1\\n${'2'.repeat(30)}"… (100002 characters)`);
    expect(errors.join('').trim().split('\n')).toHaveLength(1);
  });

  test('commander\'s own errors show a raw value quoted the same way; a plain one as it was', async () => {
    const a = setup();
    expect((await outcome(a.parse('--membership', 'a\nb')))?.code).toBe('commander.invalidArgument');
    expect(a.errors.join('')).toBe('vethd: option \'--membership <mode>\' argument "a\\nb" is invalid. Allowed choices are promisc, unicast, none.\n');
    const b = setup();
    expect((await outcome(b.parse(`--x\n${'y'.repeat(5000)}`)))?.code).toBe('commander.unknownOption');
    expect(b.errors.join('')).toBe(`vethd: unknown option "--x\\n${'y'.repeat(28)}"… (5004 characters)\n`);
    const c = setup();
    await outcome(c.parse('--membership', 'all'));
    expect(c.errors.join('')).toBe("vethd: option '--membership <mode>' argument 'all' is invalid. Allowed choices are promisc, unicast, none.\n");
  });

  test.each([
    [['--vet', 'veth1'], 'commander.unknownOption', "vethd: unknown option '--vet' (did you mean --veth?)"],
    [['--x'], 'commander.unknownOption', "vethd: unknown option '--x'"],
    [['-v'], 'commander.optionMissingArgument', "vethd: option '-v, --veth <device>' argument missing"],
    [['--fanout', 'rr'], 'commander.invalidArgument', "vethd: option '--fanout <mode>' argument 'rr' is invalid. Allowed choices are cpu, hash."],
    [['--vlan', '0'], 'commander.invalidArgument', 'vethd: option \'--vlan <id>\' argument \'0\' is invalid. expected a VLAN ID from 1 to 4094, got "0"'],
    [['-c', '/nonexistent/vethd.toml'], 'vethd.config', 'vethd: config /nonexistent/vethd.toml: cannot read: no such file or directory (ENOENT)'],
  ])('one error prefix: %j is one line starting "vethd: "', async (args, code, line) => {
    const { errors, parse } = setup();
    const err = await outcome(parse(...args));
    expect(err?.code).toBe(code);
    expect(errors.join('')).toBe(`${line}\n`);
  });

  test.each([
    [['mac', 'inspect'], "vethd: missing required argument 'mac'"],
    [['mac', 'inspect', 'zz'], 'vethd: invalid MAC "zz": expected six hex octets such as 02:00:c0:00:02:03, 02-00-c0-00-02-03 or 0200.c000.0203'],
    [['mac', 'generate', '--bogus'], "vethd: unknown option '--bogus'"],
    [['mac', 'generate', 'persistent', 'x'], "vethd: too many arguments for 'generate'. Expected 1 argument but got 2."],
    [['doctor', '--fixx'], "vethd: unknown option '--fixx' (did you mean --fix?)"],
  ])('one error prefix in the subcommands: vethd %j writes one line starting "vethd: ", exit 2', async (args, line) => {
    const r = await runMain(...args);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe('');
    expect(r.exitCode).toBe(2);
  });

  test.each([
    [['stat'], "vethd: unknown command 'stat'; commands: mac, doctor, status, add, remove, help"],
    [['-v', 'veth1', 'up', 'now'], "vethd: unknown command 'up'; commands: mac, doctor, status, add, remove, help"],
    [['a\nb'], 'vethd: unknown command "a\\nb"; commands: mac, doctor, status, add, remove, help'],
  ])('an unknown word: vethd %j names it and lists the commands, one line, exit 2, nothing opened', async (args, line) => {
    const { fake, errors, parse } = setup();
    const err = await outcome(parse(...args));
    expect(err?.code).toBe('commander.unknownCommand');
    expect(errors.join('')).toBe(`${line}\n`);
    expect(fake.opened).toHaveLength(0);
    const r = await runMain(...args);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.exitCode).toBe(2);
  });

  test.each([
    [['mac', 'status'], "vethd: unknown command 'status'; commands: generate, inspect, help"],
    [['mac', 'inspec'], "vethd: unknown command 'inspec' (did you mean inspect?); commands: generate, inspect, help"],
  ])('an unknown word after a command: vethd %j names it and lists that command\'s commands, one line, exit 2', async (args, line) => {
    const r = await runMain(...args);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.exitCode).toBe(2);
  });

  test('--help: the options under headings, the essentials first and relay tuning last, then the commands and examples', async () => {
    const r = await runMain('--help');
    expect(r.exitCode).toBe(0);
    const headings = r.stdout.split('\n').filter((l) => /^\S.*:$/.test(l));
    expect(headings).toEqual(['Essentials:', 'The vNIC:', 'What the vNIC may send:', 'Conflicts, metrics and logs:', 'Relay tuning (the defaults suit most hosts):', 'Commands:', 'Examples:']);
    /** The options listed under heading, as their first flag. */
    const under = (heading: string) => (r.stdout.split(`\n${heading}\n`)[1] ?? '').split('\n\n')[0].match(/^ {2}(-[\w-]+)/gm)?.map((f) => f.trim()) ?? [];
    expect(under('Essentials:')).toEqual(['-v', '-e', '-m', '-c', '-V', '-h']);
    expect(under('What the vNIC may send:')).toEqual(['--no-anti-spoofing', '--link-local', '--ra-guard', '--dhcp-guard']);
    expect(under('Relay tuning (the defaults suit most hosts):')).toEqual(['--no-vnet-hdr', '--rx-ring', '--no-kernel-filter', '--tx-batch', '--rx-coalesce', '--queues', '--fanout', '--no-follow-cpu', '--cpu-latency', '--qdisc-bypass', '--no-host-path', '--host-path-mark']);
    // Every option is in one of the groups (none left under a plain "Options:").
    const listed = headings.slice(0, 5).flatMap(under);
    const program = buildProgram();
    expect(listed.sort()).toEqual([...program.options.map((o) => o.short ?? o.long ?? ''), '-h'].sort());
    expect(r.stdout).toContain('\nExamples:\n  vethd -v veth1 -e eth0 -m 02:00:c0:00:02:03\n');
  });

  test('vethd help, vethd help mac: the help, exit 0', async () => {
    const top = await runMain('help');
    expect(top.stdout).toMatch(/^Usage: vethd /);
    expect(top.stdout).toContain('--veth <device>');
    expect(top.exitCode).toBe(0);
    const mac = await runMain('help', 'mac');
    expect(mac.stdout).toMatch(/^Usage: vethd mac /);
    expect(mac.exitCode).toBe(0);
  });

  test('one error prefix: a bad value from the environment too', async () => {
    const { errors, parse } = setup();
    process.env.VETHD_MEMBERSHIP = 'all';
    try {
      await outcome(parse());
    } finally {
      delete process.env.VETHD_MEMBERSHIP;
    }
    expect(errors.join('')).toBe("vethd: option '--membership <mode>' value 'all' from env 'VETHD_MEMBERSHIP' is invalid. Allowed choices are promisc, unicast, none.\n");
  });

  test('decimal digits, leading zeros too, are taken', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('--vlan', '0100', '--tx-batch', '8', '--probe-window', '0', '--metrics-listen', 'off');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0]).toMatchObject({ vnics: [{ vlan: 100 }], txBatch: 8 });
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test.each([
    ['--log-format json', ['--log-format', 'json'], true],
    ['--log-format auto, stdout not a terminal', [], false],
  ])('%s: stdout carries only JSON, the Attached line a log record with the same text', async (_name, args, tty) => {
    const { signals, lines, logs, parse } = setup({ tty });
    const run = parse('-v', 'veth1', '-m', '02:00:c0:00:02:03', '--probe-window', '0', '--metrics-listen', 'off', ...args);
    await waitFor('the Attached record', () => logs.some((l) => l.includes('Attached')));
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(lines).toEqual([]);
    const attached = logs.map((l) => JSON.parse(l)).filter((r) => r.msg.startsWith('Attached'));
    expect(attached).toEqual([expect.objectContaining({ level: 30, msg: 'Attached veth1 into eth0 (02:00:c0:00:02:03)', device: 'veth1', parent: 'eth0', mac: '02:00:c0:00:02:03' })]);
  });

  test.each([
    ['--log-format pretty', ['--log-format', 'pretty'], false],
    ['--log-format auto on a terminal', [], true],
  ])('%s: the Attached line on stdout, for a person', async (_name, args, tty) => {
    const { signals, lines, logs, parse } = setup({ tty });
    const run = parse('-v', 'veth1', '-m', '02:00:c0:00:02:03', '--probe-window', '0', '--metrics-listen', 'off', ...args);
    await waitFor('attach', () => lines.length > 0);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(lines).toEqual(['Attached veth1 into eth0 (02:00:c0:00:02:03)']);
    expect(logs.filter((l) => l.includes('Attached'))).toEqual([]);
  });

  test('--log-file: the log goes to the file, so the Attached line stays on stdout', async () => {
    // Left in the temporary directory: the process keeps the file among those a later SIGHUP reopens.
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-log-')), 'vethd.log');
    const { signals, lines, parse } = setup({ tty: false });
    const run = parse('-v', 'veth1', '-m', '02:00:c0:00:02:03', '--probe-window', '0', '--metrics-listen', 'off', '--log-format', 'json', '--log-file', file);
    await waitFor('attach', () => lines.length > 0);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(lines).toEqual(['Attached veth1 into eth0 (02:00:c0:00:02:03)']);
    expect(readFileSync(file, 'utf8')).toContain('"msg":"relay running');
  });

  test('--log-file in a missing directory: one line naming the file and the errno, exit 2, relay never opened', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-log-')), 'missing', 'vethd.log');
    const { fake, errors, parse } = setup();
    const err = await outcome(parse('--log-file', file, '--probe-window', '0'));
    expect(err?.exitCode).toBe(2);
    expect(err?.code).toBe('vethd.ENOENT');
    expect(errors.join('')).toBe(`vethd: ${file}: cannot open log file: no such file or directory (ENOENT)\n`);
    expect(fake.opened).toHaveLength(0);
  });

  test('parent link down and up, from link events, are logged once each', async () => {
    const { fake, signals, lines, logs, parse } = setup();
    const run = parse('-e', 'eth1', '--probe-window', '0', '--metrics-listen', 'off');
    await waitFor('attach', () => lines.length > 0);
    fake.linkEvents({ ifindex: 2, name: 'eth1', operstate: 2, flags: 0x1 });
    fake.linkEvents({ ifindex: 2, name: 'eth1', operstate: 2, flags: 0x1 });
    await waitFor('a link-down warning', () => logs.some((l) => l.includes('parent link eth1 is down')));
    fake.linkEvents({ ifindex: 9, name: 'eth9', operstate: 2 }); // another device: nothing
    fake.linkEvents({ ifindex: 2, name: 'eth1', operstate: 6, flags: 0x10041 });
    await waitFor('a link-up line', () => logs.some((l) => l.includes('parent link eth1 is up')));
    signals.emit('SIGTERM');
    await run;
    expect(logs.filter((l) => l.includes('parent link eth1 is down'))).toHaveLength(1);
    expect(logs.some((l) => l.includes('eth9'))).toBe(false);
    expect(fake.linkListeners.size).toBe(0);
  });

  test('a parent deleted and re-created is rebound to its new ifindex; a rename is followed', async () => {
    const { fake, signals, lines, logs, parse } = setup();
    const run = parse('-e', 'eth1', '--probe-window', '0', '--metrics-listen', 'off');
    await waitFor('attach', () => lines.length > 0);
    fake.linkEvents({ type: 'del', ifindex: 2, name: 'eth1' });
    await waitFor('a gone warning', () => logs.some((l) => l.includes('parent eth1 was deleted or left this namespace')));
    fake.linkEvents({ type: 'new', ifindex: 11, name: 'eth2', operstate: 6 }); // not ours
    fake.linkEvents({ type: 'new', ifindex: 12, name: 'eth1', operstate: 6, mtu: 9000 });
    await waitFor('the rebind', () => fake.rebinds.length > 0);
    expect(fake.rebinds).toEqual([{ parent: 'eth1', ifindex: 12 }]);
    expect(logs.join('')).toContain('parent eth1 is back (ifindex 12): packet socket rebound');
    expect(logs.join('')).toContain('parent eth1 now has MTU 9000, the vNIC keeps 1500');
    fake.linkEvents({ type: 'new', ifindex: 12, name: 'lan0', operstate: 6 });
    await waitFor('the rename', () => logs.some((l) => l.includes('parent eth1 was renamed lan0: the relay follows it')));
    fake.linkEvents({ type: 'del', ifindex: 7, name: 'veth0' });
    await waitFor('vNIC left', () => logs.some((l) => l.includes('vNIC veth0 left this network namespace')));
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test('a parent that comes back as something unusable is reported and waited for', async () => {
    const { fake, signals, lines, logs, parse } = setup();
    fake.rebindError = nativeError('eth1', 'cannot use as parent (link type is not Ethernet)', 'EINVAL', 22, 'Invalid argument');
    const run = parse('-e', 'eth1', '--probe-window', '0', '--metrics-listen', 'off');
    await waitFor('attach', () => lines.length > 0);
    fake.linkEvents({ type: 'del', ifindex: 2, name: 'eth1' }, { type: 'new', ifindex: 13, name: 'eth1' });
    await waitFor('the error', () => logs.some((l) => l.includes('parent eth1 is back (ifindex 13) but cannot be used: still waiting')));
    fake.rebindError = undefined;
    fake.linkEvents({ type: 'del', ifindex: 13, name: 'eth1' }, { type: 'new', ifindex: 14, name: 'eth1' });
    await waitFor('the rebind', () => fake.rebinds.length > 0);
    expect(fake.rebinds).toEqual([{ parent: 'eth1', ifindex: 14 }]);
    signals.emit('SIGTERM');
    await run;
  });

  test('anti-spoofing is on by default and --no-anti-spoofing turns it off', async () => {
    for (const [args, want] of [[[], true], [['--no-anti-spoofing'], false]] as const) {
      const { fake, signals, lines, parse } = setup();
      const run = parse(...args, '--probe-window', '0', '--metrics-listen', 'off');
      await waitFor('attach', () => lines.length > 0);
      expect(fake.opened[0].vnics[0].antiSpoofing).toBe(want);
      signals.emit('SIGTERM');
      await run;
    }
  });

  test('a TOML config file supplies options; the command line wins over it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-'));
    const conf = path.join(dir, 'vethd.toml');
    writeFileSync(conf, 'veth = "veth7"\neth = "eth3"\nmac = "02:00:c0:00:02:07"\nmembership = "unicast"\nanti-spoofing = false\nprobe-window = 0\nmetrics-listen = "off"\n');
    const { fake, signals, lines, parse } = setup();
    const run = parse('-c', conf, '-v', 'veth8');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0]).toMatchObject({ parent: 'eth3', membership: 'unicast', vnics: [{ tap: 'veth8', antiSpoofing: false }] });
    expect(formatMac(fake.opened[0].vnics[0].mac as Buffer)).toBe('02:00:c0:00:02:07');
    signals.emit('SIGTERM');
    await run;
  });

  test('[[vnic]] tables: one vNIC retired keeps the daemon running with one warning; the last one ends it (exit 1)', async () => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'two.toml');
    writeFileSync(conf, 'eth = "eth3"\nprobe-window = 0\nmetrics-listen = "off"\n[[vnic]]\nveth = "vn4"\n[[vnic]]\nveth = "vn5"\n');
    const { fake, lines, logs, errors, parse } = setup();
    const run = parse('-c', conf);
    await waitFor('attach', () => lines.length === 2);
    const gone = (tap: string) => nativeError(tap, 'relay stopped reading the TAP', 'EBADFD', 77, 'File descriptor in bad state');
    fake.status = { open: true, rxError: null, retired: [gone('vn4'), null] };
    await waitFor('the warning', () => logs.some((l) => l.includes('vNIC vn4 retired')));
    expect(logs.filter((l) => l.includes('retired'))).toHaveLength(1);
    expect(logs.find((l) => l.includes('vNIC vn4 retired'))).toContain('1 other vNIC(s) keep running');
    expect(fake.closed).toBe(0);
    fake.status = { open: true, rxError: null, retired: [gone('vn4'), gone('vn5')] };
    const err = await outcome(run);
    expect(err?.exitCode).toBe(1);
    expect(errors.join('')).toContain('vethd: vn5: relay stopped reading the TAP: File descriptor in bad state (EBADFD)');
    expect(logs.filter((l) => l.includes('retired'))).toHaveLength(1);
    expect(fake.closed).toBe(1);
  });

  test('[[vnic]] tables: one relay for several vNICs, each key it leaves out taken from the top; an Attached line each', async () => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'multi.toml');
    writeFileSync(
      conf,
      'eth = "eth3"\nprobe-window = 0\nmetrics-listen = "off"\nvlan = 7\n[[vnic]]\nveth = "veth1"\nmac = "02:00:c0:00:02:51"\n[[vnic]]\nveth = "veth2"\nvlan = 100\nanti-spoofing = false\nannounce = 0\n',
    );
    const { fake, signals, lines, parse } = setup();
    const run = parse('-c', conf);
    await waitFor('attach', () => lines.length === 2);
    const veth2Mac = resolveMac({ kind: 'persistent' }, { machineId: MACHINE_ID, tap: 'veth2', parent: 'eth3' });
    expect(fake.opened).toHaveLength(1);
    expect(fake.opened[0]).toMatchObject({ parent: 'eth3', vnics: [
      { tap: 'veth1', mac: Buffer.from('0200c0000251', 'hex'), vlan: 7, antiSpoofing: true, arpSysctls: true },
      { tap: 'veth2', mac: veth2Mac, vlan: 100, antiSpoofing: false, arpSysctls: true },
    ] });
    expect(lines).toEqual(['Attached veth1 into eth3 (02:00:c0:00:02:51)', `Attached veth2 into eth3 (${formatMac(veth2Mac)})`]);
    expect(fake.ups).toBe(1);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(fake.closed).toBe(1);
  });

  test.each([
    ['colour = "blue"', 'unknown key "colour"'],
    ['membership = "all"', '"membership" must be one of promisc, unicast, none, got "all"'],
    ['probe-window = -1', '"probe-window": expected milliseconds from 0 to 60000, got "-1"'],
    ['anti-spoofing = "no"', '"anti-spoofing" must be true or false'],
    ['veth = [1, 2]', '"veth" must be a string or an integer'],
    ['veth = ', 'not valid TOML'],
    ['[[vnic]]\nmac = "random"', '[[vnic]] 1: "veth" (the vNIC\'s name) is missing'],
    ['[[vnic]]\nveth = "veth1"\nlog-level = "debug"', '[[vnic]] 1: "log-level" is a setting of the parent, not of one vNIC'],
    ['vnic = 3', '"vnic" must be [[vnic]] tables'],
    ['vlan = "1e2"', '"vlan": expected a VLAN ID from 1 to 4094, got "1e2"'],
    ['probe-window = "0x10"', '"probe-window": expected milliseconds from 0 to 60000, got "0x10"'],
    ['vlan = 1e2', '"vlan" must be a string or an integer, got the float 100'],
    ['tx-batch = 8.0', '"tx-batch" must be a string or an integer, got the float 8'],
    ['membership = "a\\nb"', '"membership" must be one of promisc, unicast, none, got "a\\nb"'],
    ['"col\\nour" = 1', 'unknown key "col\\nour"'],
    [Array.from({ length: 65 }, (_, i) => `[[vnic]]\nveth = "vs${i}"`).join('\n'), '65 [[vnic]] tables, at most 64 vNICs share a parent'],
  ])('a bad config file (%s): exit 2, one line naming the file and the key', async (text, want) => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'bad.toml');
    writeFileSync(conf, `${text}\n`);
    const { fake, errors, parse } = setup();
    const err = await outcome(parse('-c', conf));
    expect(err?.exitCode).toBe(2);
    expect(err?.code).toBe('vethd.config');
    expect(errors.join('')).toContain(`vethd: config ${conf}: ${want}`);
    expect(errors.join('').trim().split('\n')).toHaveLength(1);
    expect(fake.opened).toHaveLength(0);
  });

  test('a config file that is a symlink to /dev/zero: exit 2, one line naming the file and what it is', async () => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'zero.toml');
    symlinkSync('/dev/zero', conf);
    const { fake, errors, parse } = setup();
    const err = await outcome(parse('-c', conf));
    expect(err?.exitCode).toBe(2);
    expect(errors.join('')).toBe(`vethd: config ${conf}: not a regular file (character device)\n`);
    expect(fake.opened).toHaveLength(0);
  });

  test('SIGHUP re-reads the config: live settings apply, the rest is named as needing a restart, a broken file changes nothing', async () => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'vethd.toml');
    writeFileSync(conf, 'eth = "eth1"\nprobe-window = 0\nmetrics-listen = "off"\n');
    const { fake, signals, lines, logs, parse } = setup();
    const run = parse('-c', conf);
    await waitFor('attach', () => lines.length > 0);
    writeFileSync(conf, 'eth = "eth2"\nprobe-window = 0\nmetrics-listen = "off"\nanti-spoofing = false\non-conflict = "exit"\n');
    signals.emit('SIGHUP');
    await waitFor('the reload line', () => logs.some((l) => l.includes('SIGHUP: config reloaded')));
    expect(fake.antiSpoofing).toEqual([false]);
    expect(logs.join('')).toContain('SIGHUP: eth changed: takes effect when vethd restarts');
    writeFileSync(conf, 'eth = \n');
    signals.emit('SIGHUP');
    await waitFor('the refusal', () => logs.some((l) => l.includes('SIGHUP: config not reloaded, the running settings stay')));
    expect(fake.antiSpoofing).toEqual([false]);
    // on-conflict = "exit" took effect: a conflict now ends the daemon.
    fake.stats.receive.drops.mac_conflict = 1;
    const err = await outcome(run);
    expect(err?.exitCode).toBe(1);
    expect(fake.opened).toHaveLength(1);
  });

  test('SIGHUP with [[vnic]] tables: anti-spoofing applies per vNIC at once; a table gone removes its vNIC; without --live-vnics a new one waits for a restart', async () => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'vethd.toml');
    const file = (veth2: string) => `eth = "eth1"\nprobe-window = 0\nmetrics-listen = "off"\ncontrol-socket = "off"\n[[vnic]]\nveth = "veth1"\n[[vnic]]\n${veth2}\n`;
    writeFileSync(conf, file('veth = "veth2"'));
    const { fake, signals, lines, logs, parse } = setup();
    const run = parse('-c', conf);
    await waitFor('attach', () => lines.length === 2);
    writeFileSync(conf, file('veth = "veth2"\nanti-spoofing = false'));
    signals.emit('SIGHUP');
    await waitFor('the reload line', () => logs.some((l) => l.includes('SIGHUP: config reloaded')));
    expect(fake.antiSpoofing).toEqual([[0, true], [1, false]]);
    expect(logs.join('')).not.toContain('takes effect when vethd restarts');
    writeFileSync(conf, file('veth = "veth3"'));
    signals.emit('SIGHUP');
    await waitFor('the refusal', () => logs.some((l) => l.includes('SIGHUP: vNIC veth3 not added: this vethd gave up its capabilities after set-up: takes effect when vethd restarts (or at once with --live-vnics)')));
    expect(logs.some((l) => l.includes('vNIC veth2 removed by SIGHUP'))).toBe(true);
    expect(fake.removed).toEqual([1]);
    expect(fake.added).toEqual([]);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test('SIGHUP with --live-vnics: a new [[vnic]] table is added, a changed one removed and added again, the others untouched', async () => {
    const conf = path.join(mkdtempSync(path.join(os.tmpdir(), 'vethd-conf-')), 'vethd.toml');
    const head = `eth = "eth1"\nprobe-window = 0\nmetrics-listen = "off"\ncontrol-socket = "off"\nlive-vnics = true\n[[vnic]]\nveth = "veth1"\n[[vnic]]\nveth = "veth2"\n`;
    writeFileSync(conf, head);
    const { fake, signals, lines, logs, parse } = setup();
    const run = parse('-c', conf);
    await waitFor('attach', () => lines.length === 2);
    writeFileSync(conf, `${head}vlan = 100\n[[vnic]]\nveth = "veth3"\n`);
    signals.emit('SIGHUP');
    await waitFor('veth2 and veth3 added', () => fake.added.length === 2);
    expect(fake.removed).toEqual([1]);
    expect(fake.added.map((a) => [a.slot, a.options.tap, a.options.vlan])).toEqual([[1, 'veth2', 100], [2, 'veth3', 0]]);
    expect(logs.filter((l) => l.includes('added by SIGHUP'))).toHaveLength(2);
    // The same file again: nothing to do.
    signals.emit('SIGHUP');
    await waitFor('the second reload line', () => logs.filter((l) => l.includes('SIGHUP: config reloaded')).length === 2);
    expect(fake.added).toHaveLength(2);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test.each(['--version', '-V'])('%s prints the package version', async (flag) => {
    const { lines, parse } = setup();
    const err = await outcome(parse(flag));
    expect(err?.code).toBe('commander.version');
    expect(lines.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('vethd status: a running daemon, through its control socket', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-status-'));

  test('lines for a person, the reply as it is with --json; the socket goes with the daemon', async () => {
    const sock = path.join(dir, 'a', 'control.sock');
    const { signals, lines, parse } = setup();
    const run = parse('-v', 'veth1', '-e', 'eth1', '-m', '02:00:c0:00:02:03', '--probe-window', '0', '--control-socket', sock);
    await waitFor('attach', () => lines.length > 0);
    const client = setup();
    await client.parse('status', '-s', sock);
    expect(client.lines[0]).toMatch(/^eth1: ifindex \d+, up, MTU 1500, promisc membership; 1 vNIC\(s\); vethd \S+, pid \d+$/);
    expect(client.lines[1]).toBe('  veth1  02:00:c0:00:02:03  serving');
    expect(client.lines[2]).toMatch(/^    receive  \d+ frames, \d+ bytes; drops: /);
    const json = setup();
    await json.parse('status', '-s', sock, '--json');
    const reply = JSON.parse(json.lines.join('\n'));
    expect(reply).toMatchObject({ api: 1, parent: { name: 'eth1' }, vnics: [{ name: 'veth1', mac: '02:00:c0:00:02:03', state: 'serving', macConflict: { frames: 0, ongoing: false } }] });
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(existsSync(sock)).toBe(false);
  });

  test('no daemon there: one line naming the socket and the errno, exit 1', async () => {
    const sock = path.join(dir, 'none', 'control.sock');
    const { errors, parse } = setup();
    const err = await outcome(parse('status', '-s', sock));
    expect(err?.exitCode).toBe(1);
    expect(errors.join('')).toBe(`vethd: ${sock}: no vethd answers: no such file or directory (ENOENT)\n`);
  });

  test('--instance names /run/vethd/<instance>/control.sock', async () => {
    const { errors, parse } = setup();
    await outcome(parse('status', '-i', 'nosuchinstance0'));
    expect(errors.join('')).toContain('/run/vethd/nosuchinstance0/control.sock: no vethd answers');
  });
});

describe('vethd add / remove: vNICs in and out of a running daemon', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-live-'));
  let k = 0;
  async function daemon(...extra: string[]) {
    const sock = path.join(dir, `d${k++}`, 'control.sock');
    const d = setup();
    const run = d.parse('-v', 'veth1', '-e', 'eth1', '--probe-window', '0', '--metrics-listen', 'off', '--control-socket', sock, ...extra);
    await waitFor('attach', () => d.lines.length > 0);
    const cli = async (...args: string[]) => {
      const c = setup();
      const err = await outcome(c.parse(...args, '-s', sock));
      return { out: c.lines.join('\n'), err: c.errors.join(''), code: err?.exitCode ?? 0 };
    };
    const stop = async () => {
      d.signals.emit('SIGTERM');
      expect(await outcome(run)).toBeUndefined();
    };
    return { ...d, sock, cli, stop };
  }

  test('add: the vNIC built with the daemon\'s MAC policy, up, in status; remove: gone, its counters printed', async () => {
    const d = await daemon('--live-vnics');
    const added = await d.cli('add', '-v', 'veth2', '--vlan', '100', '--ra-guard');
    const mac = formatMac(resolveMac({ kind: 'persistent' }, { machineId: MACHINE_ID, tap: 'veth2', parent: 'eth1' }));
    expect(added).toEqual({ out: `added veth2 (${mac}), VLAN 100 to eth0`, err: '', code: 0 });
    expect(d.fake.added).toEqual([{ slot: 1, options: expect.objectContaining({ tap: 'veth2', vlan: 100, raGuard: true, antiSpoofing: true, mac: Buffer.from(mac.replace(/:/g, ''), 'hex') }) }]);
    const status = JSON.parse((await d.cli('status', '--json')).out);
    expect(status.vnics.map((v: { name: string }) => v.name)).toEqual(['veth1', 'veth2']);
    expect(await d.cli('remove', 'veth2')).toEqual({ out: 'removed veth2: 0 frames received, 0 sent', err: '', code: 0 });
    expect(d.fake.removed).toEqual([1]);
    expect(JSON.parse((await d.cli('status', '--json')).out).vnics.map((v: { name: string }) => v.name)).toEqual(['veth1']);
    await d.stop();
  });

  test('refusals: one line each, exit 2, nothing added', async () => {
    const d = await daemon('--live-vnics');
    expect(await d.cli('add', '-v', 'veth1')).toEqual({ out: '', err: 'vethd: add: vNIC "veth1" is already running on eth1\n', code: 2 });
    expect(await d.cli('add', '-v', 'veth3', '--vlan', '5000')).toEqual({ out: '', err: 'vethd: add: "vlan": expected a VLAN ID from 1 to 4094, got "5000"\n', code: 2 });
    expect(await d.cli('add', '-v', 'eth1')).toMatchObject({ err: 'vethd: add: -v and -e name the same interface "eth1"\n', code: 2 });
    expect(await d.cli('remove', 'veth9')).toEqual({ out: '', err: 'vethd: remove: no vNIC named "veth9" on eth1 (it has veth1)\n', code: 2 });
    expect(await d.cli('remove', 'veth1')).toEqual({ out: '', err: 'vethd: remove: veth1 is the last vNIC of this vethd: stop vethd instead\n', code: 2 });
    // Straight to the socket: what the CLI would never send.
    expect((await controlRequest(d.sock, 'POST', 'vnics', { veth: 'veth3', foo: 1 })).body).toEqual({ error: { code: 'vethd.control-bad-request', message: 'add: unknown key "foo" (the keys of a [[vnic]] table: veth, mac, netns, vlan, arp-sysctls, anti-spoofing, link-local, ra-guard, dhcp-guard, announce, announce-interval; and id)' } });
    expect((await controlRequest(d.sock, 'POST', 'vnics', { veth: 'veth3', vlan: 1.5 })).body).toMatchObject({ error: { code: 'vethd.control-bad-request', message: 'add: "vlan" must be integer,string' } });
    expect((await controlRequest(d.sock, 'POST', 'vnics', ['veth3'])).body).toMatchObject({ error: { code: 'vethd.control-bad-request', message: 'add: the request must be object' } });
    expect(d.fake.added).toEqual([]);
    await d.stop();
  });

  test('ids: two vNICs named eth0 in two namespaces; remove takes the id, and refuses the shared name', async () => {
    const d = await daemon('--live-vnics');
    const first = await d.cli('add', '-v', 'eth0', '--netns', '/proc/self/ns/net', '--id', 'ctr-a/eth0', '-m', '02:00:c0:00:02:a1');
    expect(first.err).toBe('');
    const second = await d.cli('add', '-v', 'eth0', '--netns', `/proc/${process.pid}/ns/net`, '--id', 'ctr-b/eth0', '-m', '02:00:c0:00:02:b1');
    expect(second.err).toBe('');
    expect(await d.cli('add', '-v', 'eth2', '--id', 'ctr-a/eth0')).toEqual({ out: '', err: 'vethd: add: id "ctr-a/eth0" is already vNIC eth0 in /proc/self/ns/net\n', code: 2 });
    expect((await d.cli('remove', 'eth0')).err).toBe(`vethd: remove: 2 vNICs are named "eth0" (in /proc/self/ns/net, /proc/${process.pid}/ns/net): remove one by its id (ctr-a/eth0, ctr-b/eth0)\n`);
    expect(await d.cli('remove', 'ctr-a/eth0')).toEqual({ out: 'removed eth0: 0 frames received, 0 sent', err: '', code: 0 });
    const status = JSON.parse((await d.cli('status', '--json')).out);
    expect(status.vnics.map((v: { id: string }) => v.id)).toEqual(['veth1', 'ctr-b/eth0']);
    await d.stop();
  });

  test('without --live-vnics: add refused in one line (every capability is gone); the JS thread kept none', async () => {
    const d = await daemon();
    expect(await d.cli('add', '-v', 'veth2')).toEqual({ out: '', err: 'vethd: add: this vethd gave up its capabilities after set-up and cannot build a vNIC: start it with --live-vnics\n', code: 2 });
    expect(d.fake.added).toEqual([]);
    await d.stop();
  });
});

describe('vethd --empty: a daemon for vNICs added later', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-empty-'));

  test('starts with none, takes adds, stays up when the last one is removed', async () => {
    const sock = path.join(dir, 'a', 'control.sock');
    const d = setup();
    const run = d.parse('-e', 'eth1', '--empty', '--probe-window', '0', '--metrics-listen', 'off', '--control-socket', sock);
    await waitFor('the control socket', async () => (await controlRequest(sock, 'GET', 'status').catch(() => undefined))?.status === 200);
    expect(d.fake.opened[0].vnics).toEqual([]);
    await waitFor('the serving line', () => d.logs.some((l) => l.includes('serving eth1 with no vNIC yet: vethd add builds them')));
    const cli = async (...args: string[]) => {
      const c = setup();
      const err = await outcome(c.parse(...args, '-s', sock));
      return { out: c.lines.join('\n'), err: c.errors.join(''), code: err?.exitCode ?? 0 };
    };
    expect((await cli('add', '-v', 'ct1', '-m', '02:00:c0:00:02:71')).out).toBe('added ct1 (02:00:c0:00:02:71) to eth0');
    expect(await cli('remove', 'ct1')).toEqual({ out: 'removed ct1: 0 frames received, 0 sent', err: '', code: 0 });
    expect(JSON.parse((await cli('status', '--json')).out).vnics).toEqual([]);
    d.signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
  });

  test('--empty with a vNIC named, or without a control socket: one line, exit 2', async () => {
    for (const [args, line] of [
      [['--empty', '-v', 'veth1'], 'vethd: --empty starts with no vNIC: leave out -v and the [[vnic]] tables\n'],
      [['--empty', '--control-socket', 'off'], 'vethd: --empty waits for vethd add on the control socket: it cannot be off\n'],
    ] as const) {
      const d = setup();
      const err = await outcome(d.parse(...args));
      expect(err?.exitCode).toBe(2);
      expect(d.errors.join('')).toBe(line);
      expect(d.fake.opened).toEqual([]);
    }
  });
});
