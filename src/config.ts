/**
 * The configuration file (TOML, parsed by smol-toml): the daemon's long
 * options as keys, e.g.
 *
 *   veth = "veth1"
 *   eth = "eth0"
 *   mac = "persistent"
 *   anti-spoofing = true
 *   log-level = "info"
 *
 * Each value is checked exactly as the same command-line option would be
 * (choices, parsers). Precedence: command line > environment > file > default.
 * SIGHUP reads the file again (see daemon.ts for what can change live).
 */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { parse as parseToml } from 'smol-toml';
import { codedError } from './errors';

/** Options that only make sense on the command line. */
const NOT_IN_FILE = new Set(['config', 'version', 'help']);

/** The option whose long name (without --, or its --no- form) is key; undefined when none may be set from a file. */
function optionFor(program: Command, key: string): Option | undefined {
  return program.options.find((o) => o.long && !NOT_IN_FILE.has(o.attributeName()) && (o.long === `--${key}` || o.long === `--no-${key}`));
}

/**
 * Read and check a config file: {attributeName: value}. Throws a coded Error,
 * one line naming the file and the key: "config <file>: ...".
 */
export function readConfig(file: string, program: Command): Record<string, unknown> {
  const where = `config ${file}`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code ? `${e.message.split(',')[0].replace(`${e.code}: `, '')} (${e.code})` : e.message;
    throw codedError('config', `${where}: cannot read: ${why}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw codedError('config', `${where}: not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const opt = optionFor(program, key);
    if (!opt) throw codedError('config', `${where}: unknown key "${key}"`);
    out[opt.attributeName()] = checkValue(where, key, opt, value);
  }
  return out;
}

function checkValue(where: string, key: string, opt: Option, value: unknown): unknown {
  if (opt.negate || opt.isBoolean()) {
    if (typeof value !== 'boolean') throw codedError('config', `${where}: "${key}" must be true or false`);
    return value;
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw codedError('config', `${where}: "${key}" must be a string or a number`);
  const text = String(value);
  if (opt.argChoices && !opt.argChoices.includes(text)) {
    throw codedError('config', `${where}: "${key}" must be one of ${opt.argChoices.join(', ')}, got "${text}"`);
  }
  if (!opt.parseArg) return text;
  try {
    return opt.parseArg(text, undefined);
  } catch (err) {
    throw codedError('config', `${where}: "${key}": ${(err as Error).message}`);
  }
}

/** Give the file's values to every option still at its default (command line and environment win). */
export function applyConfig(program: Command, values: Record<string, unknown>): void {
  for (const [attr, value] of Object.entries(values)) {
    const source = program.getOptionValueSource(attr);
    if (source === undefined || source === 'default' || source === 'config') program.setOptionValueWithSource(attr, value, 'config');
  }
}
