/**
 * One [[vnic]] table as JSON, as the control socket's POST /v1/vnics takes
 * it (`vethd add`, the CNI plugin): the keys of vethd.toml(5)'s [[vnic]]
 * tables, with the same meanings. Its JSON shape is checked here against a
 * JSON Schema (Ajv); each value is then checked exactly as in a config file
 * (config.ts checkTable: the options' own parsers).
 */
import Ajv, { type ErrorObject } from 'ajv';
import type { Command } from 'commander';
import { codedError, quote } from '../errors';
import { checkTable, VNIC_KEYS } from './config';

/** A number or a string that one of the options' parsers reads (TOML allows either). */
const NUMBER = { type: ['integer', 'string'], maxLength: 32 };

/** The JSON Schema of a [[vnic]] table (draft 2020-12 keywords that Ajv's default draft also knows). */
export const VNIC_TABLE_SCHEMA = {
  $id: 'https://vethd.invalid/schema/vnic-table.json',
  title: 'vethd [[vnic]] table',
  type: 'object',
  additionalProperties: false,
  required: ['veth'],
  properties: {
    veth: { type: 'string', minLength: 1, maxLength: 15 },
    // Not a config file key: the caller's handle for the vNIC (remove takes it), default its name.
    id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' },
    mac: { type: 'string', minLength: 1, maxLength: 64 },
    netns: { type: 'string', minLength: 1, maxLength: 4096 },
    vlan: NUMBER,
    'arp-sysctls': { type: 'boolean' },
    'anti-spoofing': { type: 'boolean' },
    'link-local': { type: 'string', maxLength: 256 },
    'ra-guard': { type: 'boolean' },
    'dhcp-guard': { type: 'boolean' },
    announce: NUMBER,
    'announce-interval': NUMBER,
  },
} as const;

let validate: ReturnType<Ajv['compile']> | undefined;

/** One Ajv error as a line: 'vlan: must be integer,string', 'unknown key "foo"'. */
function errorText(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown key ${quote(String(e.params.additionalProperty))} (the keys of a [[vnic]] table: ${VNIC_KEYS.join(', ')}; and id)`;
  if (e.keyword === 'required') return `"${String(e.params.missingProperty)}" (the vNIC's name) is missing`;
  const key = e.instancePath.replace(/^\//, '');
  return `${key ? `"${key}" ` : 'the request '}${e.message ?? 'is invalid'}`;
}

/**
 * The table's options as {attributeName: value} and its id, checked: the JSON shape by
 * the schema (a JSON object, known keys only, veth required, types), then
 * each value by its option's parser. Throws a coded Error, one line:
 * "add: unknown key "foo" (...)", "add: "vlan": expected a VLAN ID from 1 to 4094, got "5000"".
 */
export function readVnicTable(json: unknown, program: Command, where = 'add'): { table: Record<string, unknown>; id?: string } {
  validate ??= new Ajv({ allErrors: false, strict: true, allowUnionTypes: true }).compile(VNIC_TABLE_SCHEMA);
  if (!validate(json)) throw codedError('vethd.control-bad-request', `${where}: ${errorText((validate.errors ?? [])[0])}`);
  // Integers as TOML gives them (bigint), so checkTable treats them alike.
  const { id, ...rest } = json as Record<string, unknown>;
  const table = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === 'number' ? BigInt(v) : v]));
  try {
    return { table: checkTable(where, program, table, (key) => (VNIC_KEYS as readonly string[]).includes(key)), id: id as string | undefined };
  } catch (err) {
    throw codedError('vethd.control-bad-request', (err as Error).message);
  }
}
