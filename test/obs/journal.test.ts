import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { journalFd, prefixLines, syslogPriority } from '../../src/obs/journal';

const root = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** "<dev>:<ino>" of fd, as systemd puts it in $JOURNAL_STREAM. */
function streamId(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

let files = 0;
/** A new empty file under dir, opened for writing: its path and fd. */
function newFile(): { file: string; fd: number } {
  const file = path.join(dir, `out${files++}`);
  return { file, fd: openSync(file, 'w') };
}

/**
 * Runs args (after node) with stdout and stderr redirected to files, as
 * systemd connects them to the journal; journal says which of them
 * $JOURNAL_STREAM names ('both': one file for both, as StandardError=inherit
 * does; 'other': a third file). Returns what each stream got and the exit status.
 */
function run(args: string[], journal: 'stdout' | 'stderr' | 'both' | 'other' | 'none'): { stdout: string; stderr: string; status: number | null } {
  const out = newFile();
  const err = journal === 'both' ? out : newFile();
  const other = newFile();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'JOURNAL_STREAM' && !k.startsWith('VETHD_')));
  if (journal !== 'none') env.JOURNAL_STREAM = streamId({ stdout: out.fd, both: out.fd, stderr: err.fd, other: other.fd }[journal]);
  try {
    const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', out.fd, err.fd], timeout: 30_000 });
    if (r.error) throw r.error;
    return { stdout: readFileSync(out.file, 'utf8'), stderr: journal === 'both' ? '' : readFileSync(err.file, 'utf8'), status: r.status };
  } finally {
    for (const f of new Set([out, err, other])) closeSync(f.fd);
  }
}

const LOG_JS = path.join(root, 'dist', 'obs', 'log.js');
const VETHD = path.join(root, 'bin', 'vethd');

/** A node script that logs one record at each level through createLogger(level, format, logFile). */
function logScript(format = 'json', logFile?: string): string[] {
  if (!existsSync(LOG_JS)) throw new Error(`${LOG_JS} is missing: run npm run build (npm test does)`);
  const body = `const log = require(${JSON.stringify(LOG_JS)}).createLogger('trace', ${JSON.stringify(format)}, ${JSON.stringify(logFile)});
    log.trace('t'); log.debug('d'); log.info('i'); log.warn({ mac: 'b8:27:eb:00:00:01' }, 'w'); log.error('e'); log.fatal('f');`;
  return ['-e', body];
}

describe('journalFd()', () => {
  test('true only when $JOURNAL_STREAM is the fd\'s own "<dev>:<ino>"', () => {
    const a = newFile();
    const b = newFile();
    try {
      expect(journalFd(a.fd, { JOURNAL_STREAM: streamId(a.fd) })).toBe(true);
      expect(journalFd(a.fd, { JOURNAL_STREAM: streamId(b.fd) })).toBe(false); // inherited by a redirected child
      expect(journalFd(a.fd, {})).toBe(false);
      for (const bad of ['', ':', '8', `${streamId(a.fd)}:1`, ` ${streamId(a.fd)}`, 'x:y']) expect(journalFd(a.fd, { JOURNAL_STREAM: bad })).toBe(false);
    } finally {
      closeSync(a.fd);
      closeSync(b.fd);
    }
  });

  test('false for a closed fd', () => {
    const a = newFile();
    const id = streamId(a.fd);
    closeSync(a.fd);
    expect(journalFd(a.fd, { JOURNAL_STREAM: id })).toBe(false);
  });
});

test('syslog priorities for pino levels, as sd-daemon(3) numbers them', () => {
  expect([60, 50, 40, 30, 20, 10].map(syslogPriority)).toEqual([2, 3, 4, 6, 7, 7]);
  expect(syslogPriority(45)).toBe(4);
  expect(prefixLines('a\n  b\n', 4)).toBe('<4>a\n<4>  b\n');
  expect(prefixLines('a\n\nb\n', 3)).toBe('<3>a\n\n<3>b\n');
});

describe('createLogger() on the journal', () => {
  const PRIORITIES = ['<7>', '<7>', '<6>', '<4>', '<3>', '<2>'];

  test('each JSON line starts with its priority, and is the same JSON after it', () => {
    const { stdout, status } = run(logScript(), 'stdout');
    expect(status).toBe(0);
    const lines = stdout.split('\n').slice(0, -1);
    expect(lines.map((l) => l.slice(0, 4))).toEqual(PRIORITIES.map((p) => `${p}{`));
    const records = lines.map((l) => JSON.parse(l.slice(3)) as { level: number; msg: string; mac?: string });
    expect(records.map((r) => [r.level, r.msg])).toEqual([[10, 't'], [20, 'd'], [30, 'i'], [40, 'w'], [50, 'e'], [60, 'f']]);
    expect(records[3].mac).toBe('b8:27:eb:00:00:01');
  });

  test('not the journal: no prefix (no $JOURNAL_STREAM, or one naming another file)', () => {
    for (const journal of ['none', 'other', 'stderr'] as const) {
      const { stdout, status } = run(logScript(), journal);
      expect(status).toBe(0);
      const lines = stdout.split('\n').slice(0, -1);
      expect(lines).toHaveLength(6);
      for (const l of lines) expect(l).toMatch(/^\{"level":/);
    }
  });

  test('--log-file: the file gets plain JSON lines even when stdout is the journal', () => {
    const file = path.join(dir, 'vethd.log');
    const { stdout, status } = run(logScript('json', file), 'stdout');
    expect(status).toBe(0);
    expect(stdout).toBe('');
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    expect(lines).toHaveLength(6);
    for (const l of lines) expect(l).toMatch(/^\{"level":/);
  });

  test('pretty, when asked: every line of a record with its priority, no colours', () => {
    const { stdout, status } = run(logScript('pretty'), 'stdout');
    expect(status).toBe(0);
    const lines = stdout.split('\n').slice(0, -1);
    expect(lines.find((l) => l.includes('WARN (vethd): w'))).toMatch(/^<4>\[[0-9:.]+\] WARN \(vethd\): w$/);
    expect(lines.find((l) => l.includes('mac:'))).toBe('<4>    mac: "b8:27:eb:00:00:01"');
    expect(lines.find((l) => l.includes('FATAL (vethd): f'))).toMatch(/^<2>/);
    expect(stdout).not.toContain('\x1b[');
    for (const l of lines) expect(l).toMatch(/^<[2-7]>/);
  });
});

describe('bin/vethd on the journal', () => {
  // A universally administered MAC draws a warning before set-up; the parent does not exist, so set-up
  // then fails (ENODEV as root, before any TAP is made; EPERM otherwise) with one error line.
  const WARN_THEN_FAIL = [VETHD, '-v', 'vjournal0', '-e', 'vethd-nx0', '-m', 'b8:27:eb:00:00:01', '--probe-window', '0', '--metrics-listen', 'off', '--log-format', 'json'];

  test('the warning at <4> on stdout, the failure at <3> on stderr', () => {
    const { stdout, stderr, status } = run(WARN_THEN_FAIL, 'both');
    expect(status).toBe(3);
    const lines = stdout.split('\n').slice(0, -1);
    const warning = lines.find((l) => l.includes('universally administered'));
    expect(warning).toMatch(/^<4>\{"level":40,/);
    expect(lines[lines.length - 1]).toMatch(/^<3>vethd: vethd-nx0: /);
    expect(stderr).toBe('');
  });

  test('only stdout the journal: the error line on stderr is as it was', () => {
    const { stdout, stderr, status } = run(WARN_THEN_FAIL, 'stdout');
    expect(status).toBe(3);
    expect(stdout).toMatch(/^<4>\{"level":40,.*universally administered/);
    expect(stderr).toMatch(/^vethd: vethd-nx0: [^\n]*\n$/);
  });

  test('only stderr the journal: the error line has <3>, the JSON on stdout none', () => {
    const { stdout, stderr, status } = run(WARN_THEN_FAIL, 'stderr');
    expect(status).toBe(3);
    expect(stdout).toMatch(/^\{"level":40,.*universally administered/);
    expect(stderr).toMatch(/^<3>vethd: vethd-nx0: [^\n]*\n$/);
  });

  test('a usage error: one line, <3> and then the text as without the journal', () => {
    const args = [VETHD, '--vlan', '5000'];
    const plain = run(args, 'none');
    expect(plain.status).toBe(2);
    expect(plain.stderr).toMatch(/^vethd: option '--vlan <id>' argument '5000' is invalid\. [^\n]*\n$/);
    const journal = run(args, 'stderr');
    expect(journal.status).toBe(2);
    expect(journal.stderr).toBe(`<3>${plain.stderr}`);
    expect(journal.stdout).toBe('');
  });
});
