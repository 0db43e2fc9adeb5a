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
