// The systemd unit, by what it means: its settings parsed, then systemd's own verdict (verify, security).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { EXIT_USAGE } from '../../src/errors';

const root = path.join(__dirname, '..', '..');
const UNIT_FILE = path.join(root, 'systemd/vethd@.service');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const NO_ANALYZE = 'systemd-analyze is not installed (apt-get install systemd)';

/** A unit's sections, each key with the values of its assignments in order (an empty assignment clears the list, as systemd does). */
type Unit = Map<string, Map<string, string[]>>;

/** Parse a unit file as systemd reads one: [Section] headers, Key=Value lines, # and ; comments, a trailing backslash continues a line. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = unit.get(head[1]) ?? new Map();
      unit.set(head[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 1) throw new Error(`not a unit file line: ${JSON.stringify(line)}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    section.set(key, value === '' ? [] : [...(section.get(key) ?? []), value]);
  }
  return unit;
}

const unit = parseUnit(readFileSync(UNIT_FILE, 'utf8'));
const service = unit.get('Service') ?? new Map<string, string[]>();

/** The one value of a key set once; undefined when unset. */
function one(key: string): string | undefined {
  const values = service.get(key) ?? [];
  expect(values.length, `${key}= is set ${values.length} times`).toBeLessThanOrEqual(1);
  return values[0];
}

/** Every word of every assignment of a list setting. */
function words(key: string): string[] {
  return (service.get(key) ?? []).flatMap((v) => v.split(/\s+/));
}

/** systemd's boolean: 1, yes, y, true, t, on. */
const isTrue = (v: string | undefined) => v !== undefined && ['1', 'yes', 'y', 'true', 't', 'on'].includes(v.toLowerCase());

/** A systemd time span in seconds: "30s", "1min 30s", "500ms", or a bare number of seconds. */
function seconds(span: string): number {
  const units: Record<string, number> = { ms: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const part of span.split(/\s+/)) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|sec|m|min|h)?$/.exec(part);
    if (!m) throw new Error(`not a time span: ${JSON.stringify(span)}`);
    total += Number(m[1]) * units[m[2] ?? 's'];
  }
  return total;
}

/** The unit with ExecStart pointing at this checkout (verify checks the binary exists). */
function localUnit(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-unit-'));
  const text = readFileSync(UNIT_FILE, 'utf8').replace('/usr/bin/vethd', path.join(root, 'bin/vethd'));
  const file = path.join(dir, 'vethd@.service');
  writeFileSync(file, text);
  return file;
}

describe('systemd/vethd@.service, parsed', () => {
  test('the parser keeps sections, lists and resets as systemd does', () => {
    const u = parseUnit('# c\n[A]\nK=1 2\nK=3\n; c\n[B]\nL=x \\\n  y\nL=\nL=z\n');
    expect(u.get('A')?.get('K')).toEqual(['1 2', '3']);
    expect(u.get('B')?.get('L')).toEqual(['z']);
    expect(() => parseUnit('K=v\n')).toThrow('not a unit file line');
  });

  test('Type=notify with the main process notifying, and a watchdog (vethd sends WATCHDOG=1 every WatchdogSec/2)', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(seconds(one('WatchdogSec') ?? '0')).toBeGreaterThan(0);
  });

  test('one config file per instance: vethd -c /etc/vethd/%i.toml, no environment file; restarted on failure, but not for a bad config, and not forever', () => {
    const argv = (one('ExecStart') ?? '').replace(/^[-@:+!]+/, '').split(/\s+/);
    expect(path.basename(argv[0])).toBe('vethd');
    expect(argv.slice(1)).toEqual(['-c', '/etc/vethd/%i.toml']);
    expect(service.get('EnvironmentFile')).toBeUndefined();
    // The environment would beat the file (command line > environment > file): none is set.
    expect(service.get('Environment')).toBeUndefined();
    // errors.ts tells a user whose vNIC was deleted from outside that systemd restarts vethd.
    expect(one('Restart')).toBe('on-failure');
    expect(words('RestartPreventExitStatus')).toContain(String(EXIT_USAGE));
    const unitSection = unit.get('Unit');
    expect(Number(unitSection?.get('StartLimitBurst')?.at(-1))).toBeGreaterThan(1);
    expect(seconds(unitSection?.get('StartLimitIntervalSec')?.at(-1) ?? '0')).toBeGreaterThanOrEqual(5 * seconds(one('RestartSec') ?? '0'));
  });

  test('capabilities: CAP_NET_ADMIN and CAP_NET_RAW only, bounding and ambient, for a dynamic non-root user that cannot gain more', () => {
    const caps = ['CAP_NET_ADMIN', 'CAP_NET_RAW'];
    expect(new Set(words('CapabilityBoundingSet'))).toEqual(new Set(caps));
    expect(new Set(words('AmbientCapabilities'))).toEqual(new Set(caps));
    expect(isTrue(one('DynamicUser'))).toBe(true);
    expect(isTrue(one('NoNewPrivileges'))).toBe(true);
    expect(one('User')).toBeUndefined();
  });

  test('devices and sockets: /dev/net/tun read-write only; the address families vethd opens', () => {
    expect(one('DevicePolicy')).toBe('closed');
    expect(service.get('DeviceAllow')).toEqual(['/dev/net/tun rw']);
    const families = words('RestrictAddressFamilies');
    expect(families[0]).not.toMatch(/^~/); // an allow list
    for (const f of ['AF_PACKET', 'AF_NETLINK', 'AF_UNIX', 'AF_INET', 'AF_INET6']) expect(families).toContain(f);
  });

  test('no MemoryDenyWriteExecute=yes: V8 needs writable and executable pages, and aborts under it', () => {
    expect(isTrue(one('MemoryDenyWriteExecute'))).toBe(false);
  });

  test('the syscall filter denies @privileged and @resources, then lets through the two calls vethd needs from them: capset, sched_setaffinity (--queues)', () => {
    const filters = service.get('SystemCallFilter') ?? [];
    const denies = filters.map((f, i) => ({ f, i })).filter(({ f }) => f.startsWith('~'));
    const denied = denies.flatMap(({ f }) => f.slice(1).trim().split(/\s+/));
    expect(denied).toEqual(expect.arrayContaining(['@privileged', '@resources']));
    // A later deny list would take them away again: the exceptions come after the last one.
    const lastDeny = Math.max(...denies.map(({ i }) => i));
    const allowedAfter = filters.slice(lastDeny + 1).flatMap((f) => f.split(/\s+/));
    expect(allowedAfter).toEqual(expect.arrayContaining(['capset', 'sched_setaffinity']));
  });
});

describe('systemd/vethd@.service, as systemd sees it', () => {
  test('systemd-analyze verify reports nothing', (ctx) => {
    ctx.skip(!hasAnalyze, NO_ANALYZE);
    const r = spawnSync('systemd-analyze', ['verify', localUnit()], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  test('systemd-analyze security --offline=yes: exposure at most 2.5', (ctx) => {
    ctx.skip(!hasAnalyze, NO_ANALYZE);
    const out = execFileSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', localUnit()], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2.5);
  });
});
