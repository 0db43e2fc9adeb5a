// tools/setup.sh, the README's two commands, run on a copy of itself in a scratch checkout with
// stubs first on PATH for id, node, npm, dpkg-query and apt-get: each stub writes its arguments
// to a log, so a test reads what the script would have run. (.ci/run runs the real thing.)
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';

const root = path.join(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vethd-setup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const STUBS: Record<string, string> = {
  id: 'echo "$UID_STUB"',
  node: 'echo "$NODE_VERSION"',
  npm: 'echo "npm $*" >>"$LOG"',
  // dpkg-query -W -f='${Status}' <package>: installed unless named in $MISSING.
  'dpkg-query': 'eval "p=\\${$#}"; case " $MISSING " in *" $p "*) exit 1 ;; esac; printf "install ok installed"',
  // apt-get also notes what the service policy answers while it runs (101: services may not start).
  'apt-get': 'if [ -x "$VETHD_SETUP_POLICY_RC_D" ]; then "$VETHD_SETUP_POLICY_RC_D"; p=$?; else p=none; fi; echo "apt-get $* (policy $p)" >>"$LOG"',
};

const checkout = path.join(tmp, 'checkout');
const stubs = path.join(tmp, 'stubs');
const log = path.join(tmp, 'log');
const policy = path.join(tmp, 'policy-rc.d');
const script = path.join(checkout, 'tools', 'setup.sh');

mkdirSync(stubs);
for (const [name, body] of Object.entries(STUBS)) writeFileSync(path.join(stubs, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });

/** Files of the scratch checkout, oldest first: an installed tree with a built addon, nothing stale. */
const FILES = ['native/tap.c', 'binding.gyp', 'package-lock.json', 'node_modules/.package-lock.json', 'build/Release/vethd.node'];

/** Give the scratch checkout's files ages in this order (a second apart), the named ones last. */
function touch(newest: string[] = []) {
  const order = [...FILES.filter((f) => !newest.includes(f)), ...newest];
  order.forEach((f, i) => utimesSync(path.join(checkout, f), 1_700_000_000 + i, 1_700_000_000 + i));
}

beforeEach(() => {
  rmSync(checkout, { recursive: true, force: true });
  for (const f of FILES) {
    mkdirSync(path.dirname(path.join(checkout, f)), { recursive: true });
    writeFileSync(path.join(checkout, f), '');
  }
  mkdirSync(path.dirname(script), { recursive: true });
  copyFileSync(path.join(root, 'tools', 'setup.sh'), script);
  touch();
  rmSync(policy, { force: true });
});

/** Run the copy with its argument and the stubs' settings; what the stubs ran, one line each. */
function setup(verb: string, env: { uid?: string; node?: string; missing?: string } = {}) {
  rmSync(log, { force: true });
  const r = spawnSync('/bin/sh', [script, verb], {
    env: {
      PATH: `${stubs}:/usr/bin:/bin`, LOG: log, VETHD_SETUP_POLICY_RC_D: policy,
      UID_STUB: env.uid ?? '0', NODE_VERSION: env.node ?? '20.20.2', MISSING: env.missing ?? '',
    },
    encoding: 'utf8',
  });
  const ran = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ran };
}

describe('tools/setup.sh', () => {
  test('nothing missing: straight to npm test (or npm run demo), no apt-get, no npm ci', () => {
    expect(setup('test')).toMatchObject({ status: 0, stdout: '', stderr: '', ran: ['npm test'] });
    expect(setup('demo').ran).toEqual(['npm run demo']);
  });

  test('missing Debian packages: apt-get update, then only those, without Recommends, while the policy forbids starting services; the policy is gone after', () => {
    const r = setup('test', { missing: 'make clang' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('tools/setup.sh: installing Debian packages (without Recommends, no service started): make clang\n');
    expect(r.ran).toEqual(['apt-get update -qq (policy 101)', 'apt-get install -y -qq --no-install-recommends make clang (policy 101)', 'npm test']);
    expect(existsSync(policy)).toBe(false);
  });

  test('a machine with its own policy-rc.d keeps it, untouched', () => {
    writeFileSync(policy, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    expect(setup('demo', { missing: 'make' }).ran).toContain('apt-get install -y -qq --no-install-recommends make (policy 0)');
    expect(readFileSync(policy, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
  });

  test('the demo needs only the toolchain and the lab: the test-only packages are not asked for', () => {
    expect(setup('demo', { missing: 'clang prometheus' }).ran).toEqual(['npm run demo']);
    expect(setup('demo', { missing: 'g++ procps dnsmasq-base prometheus' }).ran).toContain('apt-get install -y -qq --no-install-recommends g++ procps dnsmasq-base (policy 101)');
  });

  test('npm ci when node_modules is missing or older than package-lock.json, or the addon is missing', () => {
    touch(['package-lock.json']);
    expect(setup('test').ran).toEqual(['npm ci', 'npm test']);
    touch();
    rmSync(path.join(checkout, 'build'), { recursive: true });
    expect(setup('test').ran).toEqual(['npm ci', 'npm test']);
    rmSync(path.join(checkout, 'node_modules'), { recursive: true });
    expect(setup('test').ran).toEqual(['npm ci', 'npm test']);
  });

  test('native/ or binding.gyp newer than the addon (a pull changed the C): the addon is rebuilt, npm ci is not run', () => {
    touch(['native/tap.c']);
    expect(setup('test').ran).toEqual(['npm run install', 'npm test']);
    touch(['binding.gyp']);
    expect(setup('test').ran).toEqual(['npm run install', 'npm test']);
  });

  test('not root, no Node.js, Node.js older than 20: one line saying what to do, nothing run', () => {
    const notRoot = setup('test', { uid: '1000' });
    expect(notRoot.stderr).toMatch(/^tools\/setup\.sh: run me as root: [^\n]+\n$/);
    const old = setup('test', { node: '18.19.0' });
    expect(old.stderr).toMatch(/^tools\/setup\.sh: Node\.js 20 or later is needed, this is 18\.19\.0: install Node\.js 20 from NodeSource \(curl -fsSL https:\/\/deb\.nodesource\.com\/setup_20\.x \| bash - && apt-get install -y nodejs;[^\n]+\n$/);
    for (const r of [notRoot, old]) expect(r).toMatchObject({ status: 1, ran: [] });
    // A PATH with none: the stubs' id, and dirname.
    const bare = path.join(tmp, 'no-node');
    mkdirSync(bare);
    symlinkSync(path.join(stubs, 'id'), path.join(bare, 'id'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v dirname'], { encoding: 'utf8' }).trim(), path.join(bare, 'dirname'));
    rmSync(log, { force: true });
    const none = spawnSync('/bin/sh', [script, 'test'], { env: { PATH: bare, UID_STUB: '0', LOG: log }, encoding: 'utf8' });
    expect(none.stderr).toMatch(/^tools\/setup\.sh: Node\.js 20 or later is needed and there is no node: install Node\.js 20 from NodeSource[^\n]+\n$/);
    expect(none.status).toBe(1);
  });

  test('no verb, or another: the usage, exit 2', () => {
    for (const verb of ['', 'install']) {
      const r = setup(verb);
      expect(r.stderr).toMatch(/^usage: tools\/setup\.sh demo\|test/);
      expect(r.status).toBe(2);
    }
  });
});
