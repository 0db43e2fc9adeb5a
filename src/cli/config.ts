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
 * Only a regular file of at most CONFIG_MAX_BYTES (1 MiB) is read.
 *
 * Several vNICs on one parent: a [[vnic]] table each, holding the per-vNIC
 * options (VNIC_KEYS); a key left out takes the top-level value (or its
 * default):
 *
 *   eth = "eth0"
 *   mac = "persistent"
 *
 *   [[vnic]]
 *   veth = "veth1"
 *   mac = "02:00:c0:00:02:03"
 *
 *   [[vnic]]
 *   veth = "veth2"
 *   vlan = 100
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { parse as parseToml } from 'smol-toml';
import { codedError, fileErrorText, quote } from '../errors';
import { RELAY_LIMITS } from '../native/limits';

/** Options that only make sense on the command line. */
const NOT_IN_FILE = new Set(['config', 'version', 'help']);

/** The options a [[vnic]] table may hold (long names); veth is required there. */
export const VNIC_KEYS = ['veth', 'mac', 'netns', 'vlan', 'arp-sysctls', 'anti-spoofing', 'link-local', 'ra-guard', 'dhcp-guard', 'announce', 'announce-interval'] as const;

/** A config file, checked: the top-level options and the [[vnic]] tables, each as {attributeName: value}. */
export interface ConfigFile {
  values: Record<string, unknown>;
  /** Absent when the file has no [[vnic]] table. */
  vnics?: Record<string, unknown>[];
}

/** The option whose long name (without --, or its --no- form) is key; undefined when none may be set from a file. */
function optionFor(program: Command, key: string): Option | undefined {
  return program.options.find((o) => o.long && !NOT_IN_FILE.has(o.attributeName()) && (o.long === `--${key}` || o.long === `--no-${key}`));
}

/**
 * The most bytes a config file may have: a file with 64 [[vnic]] tables is a
 * few KiB; reading and parsing 1 MiB takes milliseconds, so SIGHUP cannot
 * stall the event loop (issue #25: /dev/zero took 120 s and 16.8 GB).
 */
export const CONFIG_MAX_BYTES = 1 << 20;

/** What a file that is not a regular one is, for the error. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'directory';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  return 'not a file';
}

function checkStats(st: Stats, max: number): void {
  if (!st.isFile()) throw new Error(`not a regular file (${fileKind(st)})`);
  if (st.size > max) throw new Error(`${st.size} bytes, more than the ${max} a config file may have`);
}

/** fn(), its failure as "cannot read: <strerror> (<ERRNO>)". */
function fsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`cannot read: ${fileErrorText(err)}`);
  }
}

/**
 * The text of file, a regular file of at most max bytes; throws an Error
 * whose message is the problem ("not a regular file (FIFO)", "17825792
 * bytes, more than the 1048576 a config file may have", "cannot read: ...").
 * stat() first, so a device is never opened (opening some does something:
 * /dev/watchdog arms the watchdog); then open with O_NONBLOCK (a FIFO
 * swapped in meanwhile does not block the open) and O_NOCTTY, and fstat()
 * the descriptor, which decides; then read at most max + 1 bytes from it, so
 * a file that grows after the fstat() is refused too.
 */
export function readBounded(file: string, max = CONFIG_MAX_BYTES): string {
  checkStats(fsCall(() => statSync(file)), max);
  const fd = fsCall(() => openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY));
  try {
    checkStats(fsCall(() => fstatSync(fd)), max);
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const r = fsCall(() => readSync(fd, buf, n, buf.length - n, null));
      n += r;
      if (r === 0 || n === buf.length) break;
    }
    if (n > max) throw new Error(`more than the ${max} bytes a config file may have (it grew while being read)`);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read and check a config file. Throws a coded Error, one line naming the
 * file and the key: "config <file>: ..." ("config <file>: [[vnic]] 2: ..." in a table).
 */
export function readConfig(file: string, program: Command): ConfigFile {
  const where = `config ${file}`;
  let text: string;
  try {
    text = readBounded(file);
  } catch (err) {
    throw codedError('vethd.config', `${where}: ${(err as Error).message}${envFileHint(file, program)}`);
  }
  let doc: Record<string, unknown>;
  try {
    // Integers as bigint, so a float (1e2, 100.0) can be told from one: no option takes a float.
    doc = parseToml(text, { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (err) {
    throw codedError('vethd.config', `${where}: not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const { vnic, ...top } = doc;
  const values = checkTable(where, program, top, () => true);
  if (vnic === undefined) return { values };
  if (!Array.isArray(vnic) || vnic.length === 0 || vnic.some((t) => typeof t !== 'object' || t === null || Array.isArray(t))) {
    throw codedError('vethd.config', `${where}: "vnic" must be [[vnic]] tables`);
  }
  if (vnic.length > RELAY_LIMITS.vnicsMax) throw codedError('vethd.config', `${where}: ${vnic.length} [[vnic]] tables, at most ${RELAY_LIMITS.vnicsMax} vNICs share a parent`);
  const vnics = vnic.map((t: Record<string, unknown>, i: number) => {
    const at = `${where}: [[vnic]] ${i + 1}`;
    if (t.veth === undefined) throw codedError('vethd.config', `${at}: "veth" (the vNIC's name) is missing`);
    return checkTable(at, program, t, (key) => (VNIC_KEYS as readonly string[]).includes(key));
  });
  return { values, vnics };
}

/**
 * For a missing <dir>/<name>.toml beside a <dir>/<name>.conf: "; <conf> is the
 * environment file the unit read before (vethd@<name> ran `vethd -v <name>`
 * with it); write <toml> with: veth = "<name>"; eth = "eth0"; ..." (its
 * VETHD_* lines as keys, unknown ones left out). "" otherwise.
 */
export function envFileHint(file: string, program: Command): string {
  if (!file.endsWith('.toml') || existsSync(file)) return '';
  const conf = `${file.slice(0, -'.toml'.length)}.conf`;
  let text: string;
  try {
    text = readBounded(conf, 64 << 10);
  } catch {
    return '';
  }
  const name = path.basename(conf, '.conf');
  const keys = [`veth = ${JSON.stringify(name)}`];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?(VETHD_\w+)=(["']?)(.*)\2\s*$/.exec(line);
    const opt = m && program.options.find((o) => o.envVar === m[1]);
    if (!m || !opt?.long || opt.attributeName() === 'config') continue;
    // commander: a boolean option's variable, whatever its value, acts as the flag (--no-x: x = false).
    const value = opt.isBoolean() || opt.negate ? String(!opt.negate) : /^\d+$/.test(m[3]) ? m[3] : JSON.stringify(m[3]);
    keys.push(`${opt.long.replace(/^--(no-)?/, '')} = ${value}`);
  }
  return `; ${conf} is the environment file vethd@${name}.service read before: write ${file} with: ${keys.join('; ')} (one key per line, see vethd.toml(5))`;
}

/** Check one table's keys and values: {attributeName: value}. allowed(key) false: a key that has no place there. */
export function checkTable(where: string, program: Command, table: Record<string, unknown>, allowed: (key: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    const opt = optionFor(program, key);
    if (!opt) throw codedError('vethd.config', `${where}: unknown key ${quote(key)}`);
    if (!allowed(key)) throw codedError('vethd.config', `${where}: "${key}" is a setting of the parent, not of one vNIC: put it at the top of the file`);
    out[opt.attributeName()] = checkValue(where, key, opt, value);
  }
  return out;
}

function checkValue(where: string, key: string, opt: Option, value: unknown): unknown {
  if (opt.negate || opt.isBoolean()) {
    if (typeof value !== 'boolean') throw codedError('vethd.config', `${where}: "${key}" must be true or false`);
    return value;
  }
  if (typeof value === 'number') throw codedError('vethd.config', `${where}: "${key}" must be a string or an integer, got the float ${value}`);
  if (typeof value !== 'string' && typeof value !== 'bigint') throw codedError('vethd.config', `${where}: "${key}" must be a string or an integer`);
  // A TOML integer (0x64 and 1_000 are TOML's forms of one) in decimal digits, for the option's own parser.
  const text = String(value);
  if (opt.argChoices && !opt.argChoices.includes(text)) {
    throw codedError('vethd.config', `${where}: "${key}" must be one of ${opt.argChoices.join(', ')}, got ${quote(text)}`);
  }
  if (!opt.parseArg) return text;
  try {
    return opt.parseArg(text, undefined);
  } catch (err) {
    throw codedError('vethd.config', `${where}: "${key}": ${(err as Error).message}`);
  }
}

/** Give the file's values to every option still at its default (command line and environment win). */
export function applyConfig(program: Command, values: Record<string, unknown>): void {
  for (const [attr, value] of Object.entries(values)) {
    const source = program.getOptionValueSource(attr);
    if (source === undefined || source === 'default' || source === 'config') program.setOptionValueWithSource(attr, value, 'config');
  }
}
