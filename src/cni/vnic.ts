/**
 * The plugin's side of the vethd daemon: where its control socket is, the
 * vNIC an attachment asks for (one [[vnic]] table as JSON, docs/control.md),
 * and the daemon's replies as CNI errors. The plugin never builds anything
 * itself: the daemon makes the TAP in the container's namespace, gives it its
 * MAC and brings it up; the plugin adds and removes it by the attachment's id.
 */
import { controlRequest, controlSocketOf, replyError, type ClientReply } from '../cli/client';
import type { StatusReply, VnicStatus } from '../daemon/status';
import { formatMac } from '../mac/mac';
import { parseMacSpec, resolveMac } from '../mac/macpolicy';
import { CNI_ERR, CniError } from './errors';
import type { NetConf } from './config';

/** One attachment (SPEC.md: the container, its namespace and the interface's name in it). */
export interface Attachment {
  containerId: string;
  /** CNI_NETNS as an absolute path; undefined on a DEL without it. */
  netns?: string;
  ifname: string;
}

/** How long one request to the daemon may take (an add includes its --probe-window, 1 s by default). */
export const DAEMON_TIMEOUT_MS = 30_000;

/** The daemon's control socket: "socket", else the default of a daemon on master (/run/vethd/<master>/control.sock, as vethd@<master> has it too). */
export function socketOf(conf: NetConf): string {
  return conf.vethd.socket ?? controlSocketOf(conf.master as string);
}

/** The vNIC's id in the daemon: the attachment's (container, interface), unique on a host; what DEL and CHECK find it by. */
export function vnicId(a: Attachment): string {
  return `${a.containerId}/${a.ifname}`;
}

/**
 * The vNIC's MAC as the daemon is told it: the runtime's (CNI_ARGS MAC,
 * runtimeConfig.mac, args.cni.mac), else the configuration's "mac", else
 * persistent. persistent and oui: are derived here, per attachment (network,
 * container, interface, parent): the daemon's own persistent MAC is per vNIC
 * name, and every container's is eth0. random and ip: are the daemon's to
 * resolve. Without a machine id a persistent MAC cannot be derived: random.
 */
export function chooseMac(conf: NetConf, a: Attachment, parent: string, asked: string | undefined, machineId: string | undefined, warn: (line: string) => void): string {
  if (asked !== undefined) return asked;
  const text = conf.vethd.mac ?? 'persistent';
  const spec = parseMacSpec(text);
  if (spec.kind !== 'persistent' && spec.kind !== 'oui') return text;
  if (!machineId) {
    warn(`vethd-cni: no valid /etc/machine-id to derive a persistent MAC from: ${a.ifname} gets a random one`);
    return 'random';
  }
  // The hash's input names: NUL-separated, so no attachment's can be a vNIC name the daemon hashes (those have no NUL).
  return formatMac(resolveMac(spec, { machineId, tap: ['cni', conf.name, a.containerId, a.ifname].join('\0'), parent }));
}

/** The [[vnic]] table POST /v1/vnics gets for the attachment: its name, namespace, id and MAC, and vethd's keys the configuration gives. */
export function vnicTable(conf: NetConf, a: Attachment, mac: string): Record<string, unknown> {
  const v = conf.vethd;
  return {
    veth: a.ifname,
    netns: a.netns,
    id: vnicId(a),
    mac,
    ...(v.vlan !== undefined ? { vlan: v.vlan } : {}),
    ...(v.antiSpoofing !== undefined ? { 'anti-spoofing': v.antiSpoofing } : {}),
    ...(v.raGuard !== undefined ? { 'ra-guard': v.raGuard } : {}),
    ...(v.dhcpGuard !== undefined ? { 'dhcp-guard': v.dhcpGuard } : {}),
  };
}

/** The errno a failed connection to the socket named (controlRequest's "... (ENOENT)"), if any. */
function errnoOf(err: unknown): string | undefined {
  return /\((E[A-Z]+)\)$/.exec((err as Error)?.message ?? '')?.[1];
}

/** Whether err says no daemon runs on the socket at all (no file, or a file nobody listens on): its vNICs went with it. */
export function noDaemon(err: unknown): boolean {
  const e = errnoOf(err);
  return e === 'ENOENT' || e === 'ECONNREFUSED';
}

/** One request; a socket nobody answers on is code 11 (the daemon may be starting: try again), naming the socket and how to run one. */
async function ask(socket: string, method: string, what: string, body?: unknown): Promise<ClientReply> {
  try {
    return await controlRequest(socket, method, what, body, DAEMON_TIMEOUT_MS);
  } catch (err) {
    const hint = noDaemon(err) ? ' (run one: vethd -e <parent> --empty, or systemctl start vethd@<parent> with live-vnics)' : '';
    throw Object.assign(new CniError(CNI_ERR.tryAgainLater, 'no vethd daemon answers on the control socket', `${(err as Error).message}${hint}`), { cause: err });
  }
}

/** A daemon's refusal as a CNI error: busy is 11; a value it refused (the configuration's) 7; the rest 100, with its code and message. */
function refusal(reply: ClientReply, what: string): CniError | undefined {
  const err = replyError(reply);
  if (!err) return undefined;
  const details = `${err.code}: ${err.message}`;
  if (reply.status === 503) return new CniError(CNI_ERR.tryAgainLater, `vethd is busy: ${what}`, details);
  if (['vethd.control-bad-request', 'vethd.invalid-mac', 'vethd.invalid-vlan', 'vethd.invalid-ifname'].includes(err.code)) return new CniError(CNI_ERR.invalidConfig, `vethd refused the vNIC's settings: ${what}`, details);
  const hint = err.code === 'vethd.control-not-live' ? ' (start the daemon with --empty or --live-vnics)' : '';
  return new CniError(CNI_ERR.daemon, `vethd refused: ${what}${hint}`, details);
}

/** GET /v1/status: the daemon's parent and vNICs. */
export async function daemonStatus(socket: string): Promise<StatusReply> {
  const reply = await ask(socket, 'GET', 'status');
  const err = refusal(reply, 'status');
  if (err) throw err;
  return reply.body as StatusReply;
}

/** POST /v1/vnics: the vNIC added, as the daemon reports it (name, id, mac, netns...). */
export async function addVnic(socket: string, table: Record<string, unknown>): Promise<VnicStatus> {
  const reply = await ask(socket, 'POST', 'vnics', table);
  const err = refusal(reply, `add ${String(table.id)}`);
  if (err) throw err;
  return reply.body as VnicStatus;
}

/**
 * DELETE /v1/vnics/<id>: 'removed'; 'absent' when the daemon has no such
 * vNIC (a second DEL), or when no daemon runs on the socket (its TAPs went
 * with it). Throws code 11 for a daemon that is busy or too slow, 100 for
 * another refusal.
 */
export async function removeVnic(socket: string, id: string): Promise<'removed' | 'absent'> {
  let reply: ClientReply;
  try {
    reply = await controlRequest(socket, 'DELETE', `vnics/${encodeURIComponent(id)}`, undefined, DAEMON_TIMEOUT_MS);
  } catch (err) {
    if (noDaemon(err)) return 'absent';
    throw new CniError(CNI_ERR.tryAgainLater, 'no vethd daemon answers on the control socket', (err as Error).message);
  }
  if (reply.status === 404) return 'absent';
  const err = refusal(reply, `remove ${id}`);
  if (err) throw err;
  return 'removed';
}
