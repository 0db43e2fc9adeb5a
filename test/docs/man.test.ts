// The man pages (docs/man/*.md, turned into roff by marked-man at build): they render without a
// warning, and every option the CLI accepts, and every key the config file takes, is in them.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { buildProgram } from '../../src/cli/cli';

const root = path.join(__dirname, '..', '..');
const page = (name: string) => path.join(root, 'dist', 'man', name);

/** The page as man shows it, on lines long enough that no option is hyphenated across two. */
function render(name: string): { text: string; warnings: string; status: number | null } {
  const r = spawnSync('man', ['--warnings', '-l', page(name)], { env: { ...process.env, MANWIDTH: '400', MAN_KEEP_FORMATTING: '', LC_ALL: 'C.UTF-8' }, encoding: 'utf8' });
  return { text: execFileSync('col', ['-b'], { input: r.stdout, encoding: 'utf8' }), warnings: r.stderr, status: r.status };
}

/** Every long option of program and its subcommands, as typed (--veth, --no-anti-spoofing). */
function longOptions(program: Command): string[] {
  return [...program.options.map((o) => o.long ?? ''), ...program.commands.flatMap(longOptions)].filter(Boolean);
}

describe.each(['vethd.8', 'vethd.toml.5'])('%s', (name) => {
  test('man renders it without a warning', () => {
    const r = render(name);
    expect(r.warnings).toBe('');
    expect(r.status).toBe(0);
    expect(r.text).toMatch(/^NAME$/m);
  });
});

test('vethd(8) names every option of the command and its subcommands, and each subcommand', () => {
  const text = render('vethd.8').text;
  const program = buildProgram();
  const missing = longOptions(program).filter((o) => !text.includes(o));
  expect(missing).toEqual([]);
  for (const cmd of program.commands) expect(text).toContain(`vethd ${cmd.name()}`);
  for (const section of ['SYNOPSIS', 'SIGNALS', 'EXIT STATUS', 'FILES', 'ENVIRONMENT', 'EXAMPLES', 'SEE ALSO']) expect(text).toMatch(new RegExp(`^${section}$`, 'm'));
});

test('vethd.toml(5) names every key a config file takes', () => {
  const text = render('vethd.toml.5').text;
  const keys = buildProgram()
    .options.map((o) => (o.long ?? '').replace(/^--(no-)?/, ''))
    .filter((k) => k && !['config', 'version', 'help'].includes(k));
  expect(keys.filter((k) => !new RegExp(`\\b${k}\\b`).test(text))).toEqual([]);
  expect(text).toContain('[[vnic]]');
});
