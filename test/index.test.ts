// The public API (src/index.ts, `require('vethd')`) and the package that ships it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as api from '../src/index';
import { waitFor } from '../tools/lab/exec';
import { FakeNative, FakeSignals } from './fakes';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string; types: string; version: string; license: string };

/** The values the entry exports (types leave no trace at run time). */
const VALUES = [
  'runDaemon',
  'DEFAULT_ANNOUNCE',
  'createLogger',
  'parseMac',
  'parseStationMac',
  'formatMac',
  'isGroup',
  'isLocal',
  'MacError',
  'parseMacSpec',
  'resolveMac',
  'MAC_POLICIES',
  'readMachineId',
  'checkIfname',
  'IfnameError',
  'IFNAME_MAX',
  'MacConflictError',
  'ERROR_CODES',
  'isNativeError',
  'describeError',
  'VERSION',
];

describe('src/index.ts', () => {
  test('exports the API and nothing else', () => {
    expect(Object.keys(api).sort()).toEqual([...VALUES].sort());
    expect(api.VERSION).toBe(pkg.version);
  });

  test('MAC helpers: parse, format and parse again give the same 6 bytes; the bits; a bad address is a MacError with its code', () => {
    for (const text of ['02:00:c0:00:02:03', '02-00-C0-00-02-03', '0200.c000.0203', '0200c0000203']) {
      const mac = api.parseMac(text);
      expect(mac).toEqual(Buffer.from('0200c0000203', 'hex'));
      expect(api.parseMac(api.formatMac(mac))).toEqual(mac);
    }
    expect(api.isLocal(api.parseMac('02:00:00:00:00:01'))).toBe(true);
    expect(api.isGroup(api.parseMac('01:00:5e:00:00:01'))).toBe(true);
    let err: unknown;
    try {
      api.parseStationMac('01:00:5e:00:00:01');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(api.MacError);
    expect((err as InstanceType<typeof api.MacError>).code).toBe('vethd.invalid-mac');
    expect(Object.keys(api.ERROR_CODES)).toContain('vethd.invalid-mac');
  });

  test('MAC policies: a spec resolved in a context', () => {
    const ctx: api.MacContext = { tap: 'veth1', parent: 'eth0', machineId: '0123456789abcdef0123456789abcdef' };
    expect(api.formatMac(api.resolveMac(api.parseMacSpec('ip:192.0.2.3'), ctx))).toBe('02:00:c0:00:02:03');
    const persistent = api.resolveMac(api.parseMacSpec('persistent'), ctx);
    expect(api.resolveMac({ kind: 'persistent' }, ctx)).toEqual(persistent);
    expect(api.isLocal(persistent) && !api.isGroup(persistent)).toBe(true);
  });

  test('runDaemon as the entry documents it: options, a logger and an out line; SIGTERM ends it with code 0', async () => {
    const fake = new FakeNative();
    const signals = new FakeSignals();
    const lines: string[] = [];
    const opts: api.DaemonOptions = { parent: 'eth0', membership: 'promisc', probeWindowMs: 0, vnics: [{ tap: 'veth1', mac: api.parseStationMac('02:00:c0:00:02:03') }] };
    const deps: api.DaemonDeps = { log: pino({ level: 'silent' }), out: (l) => lines.push(l), native: fake.module(), signals, parentUp: () => true };
    const run = api.runDaemon(opts, deps);
    await waitFor('the attach line', () => lines.length > 0);
    expect(lines).toEqual(['Attached veth1 into eth0 (02:00:c0:00:02:03)']);
    signals.emit('SIGTERM');
    const exit: api.DaemonExit = await run;
    expect(exit.code).toBe(0);
    expect(fake.closed).toBe(1);
  });

  test('every export has a doc comment', () => {
    const file = path.join(root, 'src', 'index.ts');
    const program = ts.createProgram([file], { strict: true, types: ['node'] });
    const checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    const undocumented = checker.getExportsOfModule(module).flatMap((s) => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() ? [] : [s.name];
    });
    expect(undocumented).toEqual([]);
  });
});

describe('the package', () => {
  test('package.json: main and types are the built entry; the license is MIT and LICENSE says so', () => {
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the vethd authors\n/);
  });

  test("require('vethd') from this checkout (exports self-reference, the built dist/): the same API", () => {
    if (!existsSync(path.join(root, pkg.main))) throw new Error(`${pkg.main} is missing: run npm run build (npm test does)`);
    const built = createRequire(__filename)('vethd') as typeof api;
    expect(Object.keys(built).sort(), 'dist/ is stale: run npm run build').toEqual(Object.keys(api).sort());
    expect(built.formatMac(built.parseMac('0200.c000.0203'))).toBe('02:00:c0:00:02:03');
    expect(existsSync(path.join(root, pkg.types))).toBe(true);
  });

  describe('npm pack', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-pack-'));
    const unpacked = path.join(dir, 'package');
    let paths: string[] = [];
    beforeAll(() => {
      // --ignore-scripts: prepare would rebuild dist/, which npm test has just done.
      const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
      const { filename, files } = JSON.parse(out)[0] as { filename: string; files: { path: string }[] };
      paths = files.map((f) => f.path);
      execFileSync('tar', ['xzf', path.join(dir, filename), '-C', dir]);
      symlinkSync(path.join(root, 'node_modules'), path.join(unpacked, 'node_modules'));
      // The addon, as `npm install` of the package builds it from the shipped native/ and binding.gyp.
      symlinkSync(path.join(root, 'build'), path.join(unpacked, 'build'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('ships the commands (vethd, vethd-cni), the built JS and its types, the C sources and the toolchain check, the unit, README and LICENSE: no tests, tools, bench, source maps', () => {
      const allowed = [/^bin\/vethd(-cni)?$/, /^dist\/.+\.(js|d\.ts)$/, /^dist\/man\/vethd\.(8|toml\.5)$/, /^native\/.+\.(c|cc|h)$/, /^native\/check-toolchain\.sh$/, /^binding\.gyp$/, /^systemd\/vethd@\.service$/, /^README\.md$/, /^LICENSE$/, /^package\.json$/];
      expect(paths.filter((p) => !allowed.some((re) => re.test(p)))).toEqual([]);
      for (const p of ['bin/vethd', 'bin/vethd-cni', 'dist/cni/plugin.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/cli.js', 'native/binding.cc', 'native/check-toolchain.sh', 'binding.gyp', 'systemd/vethd@.service', 'README.md', 'LICENSE']) expect(paths).toContain(p);
      expect(paths.filter((p) => /^(test|tools|dist-tools|bench)\/|\.map$/.test(p))).toEqual([]);
    });

    test('unpacked: require() of the package gives the API, and bin/vethd and bin/vethd-cni run (exports does not hide dist/cli/cli.js from it)', () => {
      const keys = execFileSync(process.execPath, ['-e', 'console.log(Object.keys(require(process.argv[1])).sort().join(","))', unpacked], { encoding: 'utf8' }).trim();
      expect(keys).toBe(Object.keys(api).sort().join(','));
      expect(execFileSync(process.execPath, [path.join(unpacked, 'bin', 'vethd'), '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
      const version = execFileSync(process.execPath, [path.join(unpacked, 'bin', 'vethd-cni')], { env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '{"cniVersion":"1.0.0"}', encoding: 'utf8' });
      expect(JSON.parse(version)).toEqual({ cniVersion: '1.0.0', supportedVersions: expect.arrayContaining(['1.0.0']) });
    });
  });
});
