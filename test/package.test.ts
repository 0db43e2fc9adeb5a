// The package as a user installs it: npm's install step checks the toolchain before node-gyp
// (native/check-toolchain.sh), and the packed tarball installs globally into a prefix, builds its
// addon from the shipped sources, and runs from there. What the tarball holds: index.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; man?: string[]; scripts: Record<string, string> };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vethd-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CHECK = path.join(root, 'native', 'check-toolchain.sh');
const LINE = (missing: string) => `vethd: cannot build the native addon: missing ${missing} (on Debian: apt-get install make g++ python3)\n`;

/** A directory for PATH holding the named commands: each a stub that exits 0, or a link to the real one when given. */
function binDir(name: string, commands: string[], real: Record<string, string> = {}): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  for (const c of commands) {
    if (real[c]) symlinkSync(real[c], path.join(dir, c));
    else writeFileSync(path.join(dir, c), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  return dir;
}

/** Run the check as npm does, with only PATH and the given variables in its environment. */
function check(PATH: string, env: Record<string, string> = {}) {
  return spawnSync('/bin/sh', [CHECK], { env: { PATH, ...env }, encoding: 'utf8' });
}

describe('native/check-toolchain.sh: before node-gyp, one line naming what is missing', () => {
  test('nothing on PATH: all four named, exit 1', () => {
    const r = check(binDir('none', []));
    expect(r.stderr).toBe(LINE('cc, g++, make, python3'));
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  test('some missing: only those named', () => {
    const r = check(binDir('some', ['cc', 'python3']));
    expect(r.stderr).toBe(LINE('g++, make'));
    expect(r.status).toBe(1);
  });

  test('cc, g++, make and python3 (or python) present: silent, exit 0', () => {
    for (const python of ['python3', 'python']) {
      const r = check(binDir(`all-${python}`, ['cc', 'g++', 'make', python]));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  test('what node-gyp would call is what is checked: $CC, $CXX (first word), $MAKE, $PYTHON', () => {
    const dir = binDir('configured', ['cc', 'g++', 'make', 'python3', 'ccache']);
    expect(check(dir, { CC: 'clang', CXX: 'ccache g++', MAKE: 'gmake', PYTHON: '/nonexistent/python3.11' }).stderr).toBe(LINE('clang, gmake, /nonexistent/python3.11'));
    expect(check(dir, { npm_config_python: 'python3.12' }).stderr).toBe(LINE('python3.12'));
  });

  test("npm's install step runs it before node-gyp: npm stops there, node-gyp never starts", () => {
    // A copy of the two files npm needs, so that a check passing by mistake makes node-gyp fail here, not rebuild build/.
    const dir = path.join(tmp, 'npm-install');
    mkdirSync(path.join(dir, 'native'), { recursive: true });
    copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
    copyFileSync(CHECK, path.join(dir, 'native', 'check-toolchain.sh'));
    const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
    const PATH = binDir('npm-only', ['sh', 'node'], { sh: '/bin/sh', node: process.execPath });
    const r = spawnSync(process.execPath, [npmCli, 'run', 'install'], { cwd: dir, env: { PATH, HOME: tmp, npm_config_update_notifier: 'false' }, encoding: 'utf8' });
    expect(pkg.scripts.install).toMatch(/^sh native\/check-toolchain\.sh && node-gyp rebuild$/);
    expect(r.stderr).toContain(LINE('cc, g++, make, python3'));
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^gyp (info|ERR)/m);
    expect(r.status).not.toBe(0);
  });
});

/** man's rendering of a page file: status, warnings (as test/docs/man.test.ts asks for them), text without overstrikes. */
function man(file: string) {
  const r = spawnSync('man', ['--warnings', '-l', file], { env: { ...process.env, LC_ALL: 'C.UTF-8' }, encoding: 'utf8' });
  return { status: r.status, warnings: r.stderr, text: r.stdout.replace(/.\x08/g, '') };
}

// One test: the install builds the addon with node-gyp (some seconds). Dependencies come from npm's
// cache: --prefer-offline takes a cached packument as it is and a cached tarball by integrity, and
// asks the registry only for what the cache lacks. Not --offline: a global install resolves the
// package's ranges with full packuments, which `npm ci` (abbreviated ones, from the lock) never
// stores, so on a fresh machine's cache --offline fails (ENOTCACHED); after one run with a
// network, this test runs offline.
test('npm install -g of the packed tarball into a temporary prefix: the addon builds from the shipped sources; the installed vethd runs --version and mac generate, vethd-cni answers VERSION; man renders its pages', (ctx) => {
  if (!existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run npm run build (npm test does)');
  const dir = path.join(tmp, 'global');
  mkdirSync(dir);
  // --ignore-scripts: prepare would rebuild dist/, which npm test has just done.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })) as { filename: string }[];
  const tarball = path.join(dir, packed[0].filename);
  const prefix = path.join(dir, 'prefix');
  // --allow-scripts: npm 11 warns, and a later npm refuses, to run a global package's install script not
  // named there; for a tarball the name is its path. (npm 10 warns that it does not know the option.)
  const install = spawnSync('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', `--allow-scripts=${tarball}`, tarball], { cwd: dir, encoding: 'utf8' });
  expect(install.status, `npm install -g failed:\n${install.stdout}${install.stderr}`).toBe(0);

  const installed = path.join(prefix, 'lib', 'node_modules', 'vethd');
  const addon = path.join(installed, 'build', 'Release', 'vethd.node');
  expect(existsSync(addon), 'the install step did not build the addon').toBe(true);
  const exported = execFileSync(process.execPath, ['-e', 'console.log(Object.keys(require(process.argv[1])).length)', addon], { cwd: dir, encoding: 'utf8' });
  expect(Number(exported)).toBeGreaterThan(0);

  const vethd = path.join(prefix, 'bin', 'vethd');
  expect(realpathSync(vethd)).toBe(realpathSync(path.join(installed, 'bin', 'vethd')));
  expect(execFileSync(vethd, ['--version'], { cwd: dir, encoding: 'utf8' }).trim()).toBe(pkg.version);
  const cni = path.join(prefix, 'bin', 'vethd-cni');
  expect(realpathSync(cni)).toBe(realpathSync(path.join(installed, 'bin', 'vethd-cni')));
  expect(JSON.parse(execFileSync(cni, [], { cwd: dir, env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '', encoding: 'utf8' })).supportedVersions).toContain('1.0.0');
  const mac = execFileSync(vethd, ['mac', 'generate'], { cwd: dir, encoding: 'utf8' }).trim();
  expect(mac).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/); // locally administered unicast

  const pages = pkg.man ?? [];
  ctx.skip(pages.length === 0, 'the package has no man page yet (package.json "man"): man -l not run on the installed copy');
  for (const page of pages) {
    const name = path.basename(page);
    // npm links each page into <prefix>/share/man/man<section>/, where `man` finds it.
    const r = man(path.join(prefix, 'share', 'man', `man${name.slice(-1)}`, name));
    expect(r.warnings, name).toBe('');
    expect(r.status, name).toBe(0);
    expect(r.text).toMatch(/^NAME$/m);
  }
}, 300_000);
