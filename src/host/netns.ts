/**
 * --netns NAME|PATH: which network namespace file the vNIC is created in. A
 * name is one `ip netns add` made (/run/netns/NAME); anything with a slash is
 * a path (/proc/PID/ns/net, a bind mount a container runtime made).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { codedError } from '../errors';

/** Where `ip netns` keeps named namespaces (iproute2's NETNS_RUN_DIR). */
export const NETNS_RUN_DIR = '/run/netns';

/**
 * The namespace file spec names. Throws a coded Error ('netns') for an
 * empty name, "." or "..", or a file that does not exist.
 */
export function resolveNetns(spec: string, exists: (p: string) => boolean = existsSync): string {
  if (spec === '' || spec === '.' || spec === '..') throw codedError('vethd.netns', `--netns "${spec}": not a namespace name or path`);
  const file = spec.includes('/') ? spec : path.join(NETNS_RUN_DIR, spec);
  if (!exists(file)) {
    const hint = spec.includes('/') ? '' : `; create it with "ip netns add ${spec}"`;
    throw codedError('vethd.netns', `--netns ${spec}: no such network namespace (${file} does not exist${hint})`);
  }
  return file;
}
