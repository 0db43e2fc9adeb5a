/**
 * vethd-cni, a CNI plugin (SPEC.md 1.0.0, also 0.3.x, 0.4.0 and 1.1.0's
 * STATUS and GC): the command dispatch. The runtime runs it with CNI_COMMAND,
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH in the
 * environment and the network configuration on stdin; it prints the result
 * (or the spec's error object, and exits 1) on stdout. It is a thin client of
 * a running vethd: ADD asks the daemon for a vNIC in the container's
 * namespace, then delegates IPAM and sets the addresses as the reference
 * macvlan plugin does; DEL releases both; CHECK compares them with the
 * previous result. Like macvlan: parse config, do the one thing, delegate
 * IPAM, print the result, undo on failure, DEL idempotent.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { checkIfname } from '../host/ifname';
import { readMachineId } from '../mac/machineid';
import { VERSION } from '../version';
import { parseCniArgs, parseConfig, runtimeMac, SUPPORTED_VERSIONS, type NetConf } from './config';
import { asCniError, CNI_ERR, CniError } from './errors';
import { checkIface, configureIface, nsenterExec, type NetnsExec } from './iface';
import { delegate, type DelegateCommand } from './ipam';
import { addResult, ipamResult, readResult, resultJson, type Result } from './result';
import { addVnic, chooseMac, daemonStatus, removeVnic, socketOf, vnicId, vnicTable, type Attachment } from './vnic';

/** What one run reads and writes, and what it calls out to (tests pass fakes). */
export interface PluginIo {
  env: NodeJS.ProcessEnv;
  stdin: Buffer;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  netnsExec?: NetnsExec;
  machineId?: () => string | undefined;
  delegate?: (plugin: string, command: DelegateCommand, stdin: Buffer, env: NodeJS.ProcessEnv) => Promise<string>;
}

/** The version an error is printed in when the configuration gave none that parses. */
const FALLBACK_VERSION = '1.0.0';

/** CNI_CONTAINERID's form (SPEC.md; libcni utils.ValidateContainerID). */
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Which variables each command needs (as libcni's skel asks for them; CNI_PATH only when there is an IPAM plugin to find). */
const REQUIRED: Record<string, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  STATUS: [],
  GC: [],
  VERSION: [],
};

const ABOUT = `vethd-cni ${VERSION}: CNI plugin for vethd (type "vethd")
CNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}
A container runtime runs it with CNI_COMMAND=ADD|DEL|CHECK|STATUS|GC|VERSION, CNI_CONTAINERID,
CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH in the environment and the network configuration on
stdin; it asks the vethd daemon on the parent's control socket for the container's vNIC
(vethd -e eth0 --empty). See docs/containers.md.
`;

/** The attachment the environment names, checked (code 4 naming the variable); netns made absolute, as the daemon takes a path. */
function attachment(env: NodeJS.ProcessEnv, command: string): Attachment {
  const missing = (REQUIRED[command] ?? []).filter((k) => !env[k]);
  if (missing.length) throw new CniError(CNI_ERR.invalidEnv, `required env variables [${missing.join(',')}] missing`);
  const containerId = env.CNI_CONTAINERID ?? '';
  const ifname = env.CNI_IFNAME ?? '';
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    if (!CONTAINER_ID.test(containerId)) throw new CniError(CNI_ERR.invalidEnv, 'invalid characters in CNI_CONTAINERID', containerId);
    try {
      checkIfname(ifname);
    } catch (err) {
      throw new CniError(CNI_ERR.invalidEnv, 'invalid CNI_IFNAME', (err as Error).message);
    }
  }
  return { containerId, ifname, netns: env.CNI_NETNS ? path.resolve(env.CNI_NETNS) : undefined };
}

/** ADD's and CHECK's namespace: it exists and is not the plugin's own (libcni's skel refuses that: code 8). */
function checkNetns(netns: string): void {
  let ns;
  try {
    ns = statSync(netns);
  } catch (err) {
    throw new CniError(CNI_ERR.invalidEnv, 'invalid CNI_NETNS', `${netns}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const own = statSync('/proc/self/ns/net');
  if (ns.dev === own.dev && ns.ino === own.ino) throw new CniError(CNI_ERR.invalidNetns, "plugin's netns and netns from CNI_NETNS should not be the same", netns);
}

/** Whether version is at least min (both x.y.z). */
function atLeast(version: string, min: string): boolean {
  const [a, b] = [version, min].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

function needVersion(conf: NetConf, min: string, command: string): void {
  if (!atLeast(conf.cniVersion, min)) throw new CniError(CNI_ERR.incompatibleVersion, `config version does not allow ${command}`, `config is "${conf.cniVersion}", ${command} needs ${min} or later`);
}

/** The daemon's parent must be master, when the configuration names one (a "socket" of another daemon is a mistake). */
function checkParent(conf: NetConf, parent: string, socket: string): void {
  if (conf.master !== undefined && conf.master !== parent) {
    throw new CniError(CNI_ERR.invalidConfig, `invalid network configuration: "master" is ${conf.master}, but the vethd on ${socket} serves ${parent}`);
  }
}

async function cmdAdd(conf: NetConf, a: Attachment, io: Required<PluginIo>): Promise<Result> {
  const netns = a.netns as string;
  checkNetns(netns);
  const asked = runtimeMac(conf, parseCniArgs(io.env.CNI_ARGS));
  const socket = socketOf(conf);
  const status = await daemonStatus(socket);
  const parent = status.parent.name;
  checkParent(conf, parent, socket);
  if (conf.mtu && conf.mtu !== status.parent.mtu) {
    throw new CniError(CNI_ERR.unsupportedField, `unsupported field "mtu": ${conf.mtu}`, `vethd gives the vNIC its parent's MTU, ${status.parent.mtu} on ${parent}: leave "mtu" out, or set it to ${status.parent.mtu}`);
  }
  const mac = chooseMac(conf, a, parent, asked, io.machineId(), (line) => io.stderr(`${line}\n`));
  const vnic = await addVnic(socket, vnicTable(conf, a, mac));
  // From here on, a failure takes the vNIC out again (and the IP, once IPAM gave one).
  try {
    const iface = { name: vnic.name, mac: vnic.mac, sandbox: io.env.CNI_NETNS as string };
    if (!conf.ipam?.type) return addResult(conf.cniVersion, iface, undefined, conf.dns);
    // The IPAM plugin's ADD failing, a result without an IP, an address that cannot be set: IPAM DEL
    // before the error (SPEC.md section 4: a delegated plugin that failed ADD is run again with DEL).
    try {
      const result = addResult(conf.cniVersion, iface, ipamResult(await io.delegate(conf.ipam.type, 'ADD', conf.raw, io.env), conf.ipam.type), conf.dns);
      await configureIface(netns, a.ifname, result, io.netnsExec);
      return result;
    } catch (err) {
      await io.delegate(conf.ipam.type, 'DEL', conf.raw, io.env).catch((e: unknown) => io.stderr(`vethd-cni: undoing ADD: IPAM DEL: ${(e as Error).message}\n`));
      throw err;
    }
  } catch (err) {
    await removeVnic(socket, vnicId(a)).catch((e: unknown) => io.stderr(`vethd-cni: undoing ADD: removing ${vnicId(a)}: ${(e as Error).message}\n`));
    throw err;
  }
}

/**
 * DEL: the IP released (IPAM DEL, first: DHCP sends its release on the vNIC),
 * then the vNIC removed. A vNIC the daemon does not have, a namespace that is
 * gone, no daemon on the socket (its TAPs went with it): success. An IPAM
 * failure is reported after the vNIC is gone, so the runtime's next DEL
 * retries the IPAM plugin alone.
 */
async function cmdDel(conf: NetConf, a: Attachment, io: Required<PluginIo>): Promise<void> {
  let ipamError: unknown;
  if (conf.ipam?.type) await io.delegate(conf.ipam.type, 'DEL', conf.raw, io.env).catch((err: unknown) => (ipamError = err));
  await removeVnic(socketOf(conf), vnicId(a));
  if (ipamError) throw ipamError;
}

/**
 * CHECK: IPAM CHECK passes; the daemon serves the vNIC by this attachment's
 * id on master, with the previous result's MAC, in CNI_NETNS; the interface
 * there has that MAC, each previous IP and route.
 */
async function cmdCheck(conf: NetConf, a: Attachment, io: Required<PluginIo>): Promise<void> {
  needVersion(conf, '0.4.0', 'CHECK');
  if (conf.prevResult === undefined) throw new CniError(CNI_ERR.invalidConfig, 'invalid network configuration: required prevResult missing');
  const netns = a.netns as string;
  checkNetns(netns);
  if (conf.ipam?.type) await io.delegate(conf.ipam.type, 'CHECK', conf.raw, io.env);
  const prev = { cniVersion: conf.cniVersion, ...readResult(conf.prevResult, (d) => new CniError(CNI_ERR.decode, 'cannot decode prevResult', d)) };
  const fail = (what: string) => new CniError(CNI_ERR.check, `${vnicId(a)} is not as ADD left it`, what);
  const iface = prev.interfaces?.find((i) => i.name === a.ifname && i.sandbox === io.env.CNI_NETNS);
  if (!iface) throw fail(`prevResult has no interface ${a.ifname} in sandbox ${io.env.CNI_NETNS}`);
  const socket = socketOf(conf);
  let status;
  try {
    status = await daemonStatus(socket);
  } catch (err) {
    throw fail(`the vethd daemon that relays it does not answer: ${(err as CniError).details ?? (err as Error).message}`);
  }
  checkParent(conf, status.parent.name, socket);
  const vnic = status.vnics.find((v) => v.id === vnicId(a));
  if (!vnic) throw fail(`the vethd on ${socket} has no vNIC ${vnicId(a)}`);
  if (vnic.state !== 'serving') throw fail(`vethd retired it: ${vnic.error ?? 'its TAP is gone'}`);
  if (iface.mac && vnic.mac !== iface.mac.toLowerCase()) throw fail(`vethd gives it MAC ${vnic.mac}, the previous result says ${iface.mac}`);
  if (vnic.netns !== netns) throw fail(`vethd has it in ${vnic.netns ?? "the daemon's own namespace"}, not ${netns}`);
  await checkIface(netns, a.ifname, iface, prev, io.netnsExec);
}

/** STATUS (1.1.0): a vethd answers on the socket (else code 50), and the IPAM plugin says it is ready. */
async function cmdStatus(conf: NetConf, io: Required<PluginIo>): Promise<void> {
  needVersion(conf, '1.1.0', 'STATUS');
  const socket = socketOf(conf);
  try {
    checkParent(conf, (await daemonStatus(socket)).parent.name, socket);
  } catch (err) {
    const e = asCniError(err);
    throw new CniError(CNI_ERR.notAvailable, `vethd-cni cannot serve ADD: ${e.message}`, e.details);
  }
  if (conf.ipam?.type) await io.delegate(conf.ipam.type, 'STATUS', conf.raw, io.env);
}

/**
 * GC (1.1.0): the IPAM plugin's GC, then the daemon's vNICs that an
 * attachment made (id <container>/<ifname>), that are not in
 * cni.dev/valid-attachments and whose TAP is gone (retired: their namespace
 * was deleted without a DEL). A vNIC still serving is left alone: its id does
 * not say which network made it. Every step is tried; the first error is
 * reported.
 */
async function cmdGc(conf: NetConf, io: Required<PluginIo>): Promise<void> {
  needVersion(conf, '1.1.0', 'GC');
  const errors: unknown[] = [];
  if (conf.ipam?.type) await io.delegate(conf.ipam.type, 'GC', conf.raw, io.env).catch((err: unknown) => errors.push(err));
  const valid = new Set((conf.validAttachments ?? []).map((v) => `${v.containerID}/${v.ifname}`));
  const socket = socketOf(conf);
  const status = await daemonStatus(socket).catch((err: unknown) => void errors.push(err));
  for (const v of status?.vnics ?? []) {
    if (v.state !== 'retired' || valid.has(v.id) || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*\/[^/]+$/.test(v.id)) continue;
    await removeVnic(socket, v.id).then(
      () => io.stderr(`vethd-cni: GC: removed ${v.id} (${v.name}, retired: ${v.error ?? 'TAP gone'})\n`),
      (err: unknown) => errors.push(err),
    );
  }
  if (errors.length) throw errors[0];
}

/** VERSION's reply: the input's cniVersion (when stdin gave one) and the versions this plugin speaks. */
function versionReply(stdin: Buffer): unknown {
  let cniVersion = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] as string;
  try {
    const v = (JSON.parse(stdin.toString('utf8')) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string' && v) cniVersion = v;
  } catch {
    /* no input: the latest */
  }
  return { cniVersion, supportedVersions: SUPPORTED_VERSIONS };
}

/** One run: the command's output (or the error object) written, the exit status returned (0, or 1 on error). */
export async function runPlugin(given: PluginIo): Promise<number> {
  const io: Required<PluginIo> = { netnsExec: nsenterExec, machineId: readMachineId, delegate, ...given };
  const command = io.env.CNI_COMMAND ?? '';
  let cniVersion = FALLBACK_VERSION;
  try {
    const v = (JSON.parse(io.stdin.toString('utf8')) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string') cniVersion = v;
  } catch {
    /* parseConfig says what is wrong */
  }
  try {
    if (command === '') {
      io.stderr(ABOUT);
      return 0;
    }
    if (command === 'VERSION') {
      io.stdout(`${JSON.stringify(versionReply(io.stdin))}\n`);
      return 0;
    }
    if (!(command in REQUIRED)) throw new CniError(CNI_ERR.invalidEnv, `unknown CNI_COMMAND: ${command}`, 'ADD, DEL, CHECK, STATUS, GC or VERSION');
    const a = attachment(io.env, command);
    const conf = parseConfig(io.stdin);
    switch (command) {
      case 'ADD': {
        const result = await cmdAdd(conf, a, io);
        io.stdout(`${JSON.stringify(resultJson(result), null, 2)}\n`);
        break;
      }
      case 'DEL':
        await cmdDel(conf, a, io);
        break;
      case 'CHECK':
        await cmdCheck(conf, a, io);
        break;
      case 'STATUS':
        await cmdStatus(conf, io);
        break;
      case 'GC':
        await cmdGc(conf, io);
        break;
    }
    return 0;
  } catch (err) {
    io.stdout(`${JSON.stringify(asCniError(err).toJSON(cniVersion), null, 2)}\n`);
    return 1;
  }
}

/** Read all of stdin (nothing when it is a terminal: VERSION or a person asking what this is). */
function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (d: Buffer) => chunks.push(d));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks)));
    process.stdin.on('error', reject);
  });
}

/** bin/vethd-cni. */
export async function main(): Promise<void> {
  let stdin: Buffer;
  try {
    stdin = await readStdin();
  } catch (err) {
    process.stdout.write(`${JSON.stringify(new CniError(CNI_ERR.io, 'error reading from stdin', (err as Error).message).toJSON(FALLBACK_VERSION))}\n`);
    process.exitCode = 1;
    return;
  }
  process.exitCode = await runPlugin({ env: process.env, stdin, stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
}
