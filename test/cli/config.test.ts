// Reading the config file: only a regular file of bounded size is read (issue #25: /dev/zero, a FIFO).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildProgram } from '../../src/cli/cli';
import { CONFIG_MAX_BYTES, readBounded, readConfig } from '../../src/cli/config';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** readConfig(file)'s error message, or undefined when it read the file. */
function refusal(file: string): string | undefined {
  try {
    readConfig(file, buildProgram());
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('readConfig: what it reads', () => {
  test('a symlink to /dev/zero is refused without reading it', () => {
    const file = path.join(dir, 'zero.toml');
    symlinkSync('/dev/zero', file);
    expect(refusal(file)).toBe(`config ${file}: not a regular file (character device)`);
  });

  test('a FIFO is refused at once (no writer needed)', () => {
    const file = path.join(dir, 'fifo.toml');
    execFileSync('mkfifo', [file]);
    expect(refusal(file)).toBe(`config ${file}: not a regular file (FIFO)`);
  }, 5000);

  test('a directory is refused', () => {
    const file = path.join(dir, 'dir.toml');
    mkdirSync(file);
    expect(refusal(file)).toBe(`config ${file}: not a regular file (directory)`);
  });

  test('a file over the limit is refused, naming its size and the limit', () => {
    const file = path.join(dir, 'big.toml');
    writeFileSync(file, '');
    truncateSync(file, 17 << 20);
    expect(refusal(file)).toBe(`config ${file}: 17825792 bytes, more than the ${CONFIG_MAX_BYTES} a config file may have`);
    expect(CONFIG_MAX_BYTES).toBe(1 << 20);
  });

  test('a file of exactly the limit is read', () => {
    const file = path.join(dir, 'limit.toml');
    const line = 'log-level = "info"\n';
    writeFileSync(file, line + '#'.repeat(CONFIG_MAX_BYTES - line.length - 1) + '\n');
    expect(refusal(file)).toBeUndefined();
  });

  test('a missing file: the errno, as before', () => {
    expect(refusal(path.join(dir, 'none.toml'))).toBe(`config ${path.join(dir, 'none.toml')}: cannot read: no such file or directory (ENOENT)`);
  });

  test("a missing <name>.toml beside the old unit's environment file <name>.conf: the keys to write, which read back as the same settings", () => {
    const sub = path.join(dir, 'etc-vethd');
    mkdirSync(sub);
    const toml = path.join(sub, 'veth1.toml');
    const conf = path.join(sub, 'veth1.conf');
    writeFileSync(conf, '# vethd@veth1\nVETHD_PARENT=eth0\nVETHD_MAC="persistent"\nVETHD_METRICS_LISTEN=127.0.0.1:10824\nVETHD_LOG_LEVEL=debug\nVETHD_UNKNOWN=1\n');
    const msg = refusal(toml) ?? '';
    const prefix = `config ${toml}: cannot read: no such file or directory (ENOENT); ${conf} is the environment file vethd@veth1.service read before: write ${toml} with: `;
    expect(msg.startsWith(prefix), msg).toBe(true);
    expect(msg).toMatch(/ \(one key per line, see vethd\.toml\(5\)\)$/);
    const keys = msg.slice(prefix.length, msg.lastIndexOf(' (one key')).split('; ');
    expect(keys).toEqual(['veth = "veth1"', 'eth = "eth0"', 'mac = "persistent"', 'metrics-listen = "127.0.0.1:10824"', 'log-level = "debug"']);
    writeFileSync(toml, keys.join('\n') + '\n');
    const program = buildProgram();
    expect(readConfig(toml, program).values).toEqual({ veth: 'veth1', eth: 'eth0', mac: 'persistent', metricsListen: '127.0.0.1:10824', logLevel: 'debug' });
  });
});

describe('readBounded', () => {
  test('reads at most max + 1 bytes from the descriptor: a file that grows past its fstat size is refused', () => {
    // A procfs file is regular with size 0 and more to read, as a file that grew after fstat.
    expect(() => readBounded('/proc/self/status', 64)).toThrow(/^more than the 64 bytes a config file may have \(it grew while being read\)$/);
    expect(readBounded('/proc/self/status', 1 << 16)).toMatch(/^Name:/);
  });
});
