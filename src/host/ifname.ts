/**
 * Interface names as the kernel accepts them (net/core/dev.c dev_valid_name):
 * 1 to 15 bytes (IFNAMSIZ 16 with the NUL), not "." or "..", no '/', ':' or
 * white space. '%' is refused too: TUNSETIFF would treat it as a pattern.
 */
import { quote, type ErrorCode } from '../errors';

/** An interface name error (code vethd.invalid-ifname): message names the bad value and the cause. */
export class IfnameError extends Error {
  readonly code = 'vethd.invalid-ifname' satisfies ErrorCode;
  constructor(readonly input: string, cause: string) {
    super(`invalid interface name ${quote(input)}: ${cause}`);
  }
}

/** Maximum interface name length in bytes (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

/** Returns name when valid; throws IfnameError naming the bad value and the cause. */
export function checkIfname(name: string): string {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0) throw new IfnameError(name, 'empty');
  if (bytes > IFNAME_MAX) throw new IfnameError(name, `${bytes} bytes, longer than ${IFNAME_MAX}`);
  if (name === '.' || name === '..') throw new IfnameError(name, 'reserved name');
  const bad = /[/:%\s]/.exec(name);
  if (bad) throw new IfnameError(name, `contains ${JSON.stringify(bad[0])}`);
  return name;
}
