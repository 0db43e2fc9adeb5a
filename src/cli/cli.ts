/**
 * The command line, compatible with the original vethd:
 *   vethd [-v veth-device] [-e eth-device] [-m mac-address]
 * plus `vethd mac generate|inspect`, `vethd doctor` and `vethd help`. One
 * error path: program.error(message, {exitCode, code}); every error, the
 * parser's too, is one line starting "vethd: " (commanderErrorText()), after
 * "<3>" when stderr is the journal.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { localUsers } from '../daemon/collision';
import { applyConfig, readConfig } from './config';
import { CPU_LATENCY_MAX_US } from '../host/cpulatency';
import type { VnicSpec } from '../daemon/daemon';
import { runDaemon, type OnConflict, type ReloadResult } from '../daemon/daemon';
import { codedError, describeError, errnoOr, errorCode, EXIT_RUNTIME, EXIT_SETUP, EXIT_USAGE, fileErrorText, quote, type ErrorCode } from '../errors';
import { DEFAULT_METRICS_LISTEN, parseListen } from '../obs/http';
import { checkIfname } from '../host/ifname';
import { journalFd, prefixLines, SD_ERR } from '../obs/journal';
import { controlRequest, controlSocketOf, CONTROL_DIR, defaultControlSocket, replyError } from './client';
import { statusLines, type StatusReply, type VnicStatus } from '../daemon/status';
import { readVnicTable } from './vnictable';
import { createLogger, LOG_FORMATS, LOG_LEVELS, prettyLogs, reopenLogFiles, type LogFormat, type Logger, type LogLevel } from '../obs/log';
import { formatMac, parseMac } from '../mac/mac';
import { MAC_POLICIES, parseMacSpec, resolveMac, type MacContext } from '../mac/macpolicy';
import { inspectLines, universalWarning } from '../mac/mactext';
import { applyFixes, diagnose, report, type HostView } from './doctor';
import { realHost } from '../host/hostview';
import { readMachineId } from '../mac/machineid';
import { resolveNetns } from '../host/netns';
import { LINK_LOCAL_DEFAULT, parseLinkLocal } from '../mac/linklocal';
import { RELAY_LIMITS } from '../native/limits';
import { loadNative, type Fanout, type Membership, type NativeModule, type RxRing, type VnicInfo } from '../native/native';
import { RELAY_DEFAULTS } from '../native/options';

import { VERSION } from '../version';

export interface CliDeps {
  native?: NativeModule;
  /** stdout line writer. */
  out?: (line: string) => void;
  /** Whether stdout is a terminal (default process.stdout.isTTY): --log-format auto is pretty there, and only there may a plain line share stdout with the log. */
  stdoutIsTty?: boolean;
  /** Whether stderr is the journal's stream (default journalFd(2)): the error line then starts with "<3>" (SD_ERR), so `journalctl -p err` shows it. */
  stderrIsJournal?: boolean;
  /** Build the logger (tests pass a silent one); logFile: append JSON lines there instead of stdout. */
  logger?: (level: LogLevel, format: LogFormat, logFile?: string) => Logger;
  signals?: Parameters<typeof runDaemon>[1]['signals'];
  /** The machine id (default: read /etc/machine-id). */
  machineId?: () => string | undefined;
  /** Interfaces on this host that already have a MAC (default: sysfs). */
  localUsers?: (mac: Buffer) => string[];
  /** What `vethd doctor` reads and fixes (default: this host). */
  host?: HostView;
  /** The parent's operational state (default: sysfs). */
  parentUp?: (parent: string) => boolean | undefined;
  /** The PM QoS device --cpu-latency writes (default /dev/cpu_dma_latency). */
  cpuLatencyDevice?: string;
  /** The control socket a daemon on parent listens on when not told (default defaultControlSocket()). */
  defaultControlSocket?: (parent: string) => string;
}

interface RootOptions {
  veth: string;
  eth: string;
  mac?: string;
  membership: Membership;
  vnetHdr: boolean;
  antiSpoofing: boolean;
  linkLocal: number;
  raGuard: boolean;
  dhcpGuard: boolean;
  probeWindow: number;
  onConflict: OnConflict;
  metricsListen: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  logFile?: string;
  config?: string;
  rxRing: RxRing;
  kernelFilter: boolean;
  txBatch: number;
  qdiscBypass: boolean;
  rxCoalesce: number;
  queues: number;
  fanout: Fanout;
  followCpu: boolean;
  hostPath: boolean;
  hostPathMark: number;
  netns?: string;
  arpSysctls: boolean;
  announce: number;
  announceInterval: number;
  vlan?: number;
  cpuLatency?: number;
  controlSocket?: string;
  liveVnics: boolean;
  empty?: boolean;
}

/** Settings SIGHUP cannot change in a running daemon (a restart applies them). */
const FIXED_SETTINGS = ['veth', 'eth', 'mac', 'membership', 'vnetHdr', 'probeWindow', 'metricsListen', 'logFormat', 'logFile', 'rxRing', 'kernelFilter', 'txBatch', 'qdiscBypass', 'rxCoalesce', 'queues', 'fanout', 'followCpu', 'hostPath', 'hostPathMark', 'netns', 'arpSysctls', 'announce', 'announceInterval', 'vlan', 'cpuLatency', 'linkLocal', 'raGuard', 'dhcpGuard', 'controlSocket', 'liveVnics', 'empty'] as const;

const MAC_HELP = `MAC of the virtual NIC: an address (02:00:c0:00:02:03, 02-00-c0-00-02-03, 0200.c000.0203) or a policy: ${MAC_POLICIES.join(', ')}`;

/** Every error vethd writes starts so, its own (fail()) and commander's alike. */
const ERROR_PREFIX = 'vethd: ';

function fail(program: Command, err: unknown, exitCode: number): never {
  program.error(`${ERROR_PREFIX}${describeError(err)}`, { exitCode, code: errorCode(err) });
}

/**
 * Commander's own errors put a bad value in single quotes as it came:
 * "argument '<value>' is invalid", "value '<value>' from env", "unknown
 * option '<value>'". One with a control character, or longer than QUOTE_MAX,
 * is shown as quote() shows it instead, so the error stays one line of
 * bounded length; the others are left as commander wrote them.
 */
const RAW_VALUE = [
  /^(error: option '[^']*' argument )'([\s\S]*)'( is invalid\.[^\n]*\n)$/,
  /^(error: option '[^']*' value )'([\s\S]*)'( from env '[^']*' is invalid\.[^\n]*\n)$/,
  /^(error: command-argument value )'([\s\S]*)'( is invalid for argument '[^']*'\.[^\n]*\n)$/,
  /^(error: unknown (?:option|command) )'([\s\S]*?)'((?:\n\(Did you mean [^\n]*\?\))?\n)$/,
];

/**
 * text, a commander error, as vethd writes its own: "vethd: " for
 * commander's "error: ", the raw value quoted (see RAW_VALUE), and the
 * "(Did you mean --veth?)" line it adds folded into the one line. commands:
 * the names an "unknown command" error lists after it.
 */
export function commanderErrorText(text: string, commands: string[] = []): string {
  let t = text;
  for (const re of RAW_VALUE) {
    const m = re.exec(t);
    if (m && quote(m[2]) !== `"${m[2]}"`) {
      t = `${m[1]}${quote(m[2])}${m[3]}`;
      break;
    }
  }
  t = t.replace(/\n\(Did you mean ([^\n]*)\?\)\n$/, ' (did you mean $1?)\n');
  if (commands.length && t.startsWith('error: unknown command ')) t = t.replace(/\n$/, `; commands: ${commands.join(', ')}\n`);
  return t.replace(/^error: /, ERROR_PREFIX);
}

/** The commands c lists in an "unknown command" error: its subcommands and help (commander's, for a command that has subcommands). */
function commandNames(c: Command): string[] {
  return c.commands.length ? [...c.commands.map((sub) => sub.name()), 'help'] : [];
}

/**
 * A word where vethd takes no argument (`vethd status`): an unknown command,
 * worded as commander words it for a command without an action of its own
 * (`vethd mac status`), so it is written as those are (commanderErrorText).
 * Commander itself would say "too many arguments": vethd's action runs the
 * daemon, as vethd 1.0 did without arguments.
 */
function unknownCommand(c: Command, word: string): never {
  c.error(`error: unknown command '${word}'`, { exitCode: EXIT_USAGE, code: 'commander.unknownCommand' });
}

/**
 * A commander argument parser for an integer from lo to hi, named `what` in
 * its error. Decimal digits only: Number() would take "1e2", "0x64", "0b1",
 * " 100" and "100.0" as 100 (issue #25).
 */
function intInRange(lo: number, hi: number, what: string): (value: string) => number {
  return (value) => {
    const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
    if (!(n >= lo && n <= hi)) throw new InvalidArgumentError(`expected ${what} from ${lo} to ${hi}, got ${quote(value)}`);
    return n;
  };
}

const probeWindowMs = intInRange(0, 60_000, 'milliseconds');

// Read when a value is parsed: the limits come from the addon (limits.ts).
const txBatch = (value: string) => intInRange(1, RELAY_LIMITS.txBatchMax, 'a frame count')(value);
const coalesceUs = (value: string) => intInRange(0, RELAY_LIMITS.rxCoalesceMaxUs, 'microseconds')(value);
const queueCount = (value: string) => intInRange(1, RELAY_LIMITS.queuesMax, 'a queue count')(value);
const vlanId = intInRange(1, 4094, 'a VLAN ID');
const announceCount = intInRange(0, 10, 'a frame count');
const announceMs = intInRange(100, 60_000, 'milliseconds');
const cpuLatencyUs = intInRange(0, CPU_LATENCY_MAX_US, 'microseconds');

/** --host-path-mark: an skb mark, decimal or 0x hexadecimal, 1 to 2^32-1 (0 would be every unmarked frame). */
function hostPathMark(value: string): number {
  const n = /^(0x[0-9a-f]{1,8}|[0-9]{1,10})$/i.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 0xffffffff)) throw new InvalidArgumentError(`expected a mark from 1 to 0xffffffff (decimal or 0x hexadecimal), got ${quote(value)}`);
  return n;
}

/** The MAC for -m (default persistent) in ctx; without a machine id the default falls back to random, with a warning. */
function chooseMac(text: string | undefined, ctx: MacContext, log: Logger): Buffer {
  if (text === undefined && !ctx.machineId) {
    log.warn('no /etc/machine-id: the default persistent MAC policy is not available, using -m random (the MAC will change at each start)');
    return resolveMac({ kind: 'random' }, ctx);
  }
  return resolveMac(parseMacSpec(text ?? 'persistent'), ctx);
}

function macCommand(deps: CliDeps, out: (line: string) => void, program: Command): Command {
  const mac = new Command('mac').description('generate or inspect MAC addresses');
  mac
    .command('generate')
    .description(`print the MAC a policy gives (default persistent): ${MAC_POLICIES.join(', ')}, or an address`)
    .argument('[policy]', 'policy or address', 'persistent')
    .option('-v, --veth <device>', 'virtual NIC name (keys the persistent policy)', 'veth0')
    .option('-e, --eth <device>', 'parent NIC name (keys the persistent policy)', 'eth0')
    .action((policy: string, opts: { veth: string; eth: string }) => {
      try {
        const ctx = { machineId: (deps.machineId ?? readMachineId)(), tap: checkIfname(opts.veth), parent: checkIfname(opts.eth) };
        out(formatMac(resolveMac(parseMacSpec(policy), ctx)));
      } catch (err) {
        fail(program, err, EXIT_USAGE);
      }
    });
  mac
    .command('inspect')
    .description('unicast or multicast, locally or universally administered, vendor, IPv6 link-local (EUI-64)')
    .argument('<mac>', 'address to inspect')
    .action((text: string) => {
      try {
        for (const line of inspectLines(parseMac(text))) out(line);
      } catch (err) {
        fail(program, err, EXIT_USAGE);
      }
    });
  return mac;
}

/** Options every control command takes: which daemon, and how to print. */
interface ControlOptions {
  instance?: string;
  controlSocket?: string;
  json?: boolean;
}

/** `vethd status`, `vethd add`, `vethd remove`: requests to a running daemon's control socket (client.ts). */
function controlCommands(out: (line: string) => void, program: Command): Command[] {
  const target = (c: Command) =>
    c
      .option('-i, --instance <name>', `the daemon's instance: the unit's instance name, or its parent's name outside systemd (socket ${CONTROL_DIR}/<instance>/control.sock)`, 'eth0')
      .option('-s, --control-socket <path>', 'the control socket itself (beats --instance)')
      .option('--json', "print the daemon's JSON reply as it is");
  const socketOf = (o: ControlOptions) => o.controlSocket ?? controlSocketOf(checkIfname(o.instance ?? 'eth0'));
  /** Send, then print the reply (JSON, or lines(body)); a refusal is the daemon's one line, exit 2 (its 5xx: 1). */
  const ask = async (o: ControlOptions, method: string, what: string, body: unknown, lines: (b: never) => string[]) => {
    let reply;
    try {
      reply = await controlRequest(socketOf(o), method, what, body);
    } catch (err) {
      fail(program, err, EXIT_RUNTIME);
    }
    const err = replyError(reply);
    if (err) fail(program, err, reply.status >= 500 ? EXIT_RUNTIME : EXIT_USAGE);
    if (o.json) out(JSON.stringify(reply.body, null, 2));
    else for (const line of lines(reply.body as never)) out(line);
  };
  const add = target(new Command('add').description("add a vNIC to a running daemon (started with --live-vnics): the options of one [[vnic]] table; its MAC follows the daemon's -m policy unless -m is given"))
    .requiredOption('-v, --veth <device>', 'the vNIC (TAP) to create')
    .option('-m, --mac <address|policy>', MAC_HELP)
    .option('--netns <name|path>', 'create it inside this network namespace')
    .option('--vlan <id>', 'make it an access port of this 802.1Q VLAN (1 to 4094)')
    .option('--no-arp-sysctls', 'leave its arp_ignore/arp_announce as they are')
    .option('--no-anti-spoofing', 'relay its frames whatever identity they claim')
    .option('--link-local <groups>', 'reserved 802.1 groups it may send to (as the daemon\'s option)')
    .option('--ra-guard', 'drop its router advertisements and redirects')
    .option('--dhcp-guard', 'drop its DHCP server and relay messages')
    .option('--announce <count>', 'announcements of each of its addresses (0: off)')
    .option('--announce-interval <ms>', 'time between two announcements of one address')
    .option('--id <handle>', 'a handle for it that remove takes (default its name): vNICs in different namespaces may share a name')
    .action(function (this: Command, o: ControlOptions) {
      // The table: only the options given, as the [[vnic]] keys (the daemon checks them as a config file's).
      const table: Record<string, unknown> = {};
      for (const opt of this.options) {
        const attr = opt.attributeName();
        if (!opt.long || ['instance', 'controlSocket', 'json'].includes(attr) || this.getOptionValueSource(attr) !== 'cli') continue;
        table[opt.long.replace(/^--(no-)?/, '')] = this.getOptionValue(attr);
      }
      return ask(o, 'POST', 'vnics', table, (v: VnicStatus) => [`added ${v.name} (${v.mac})${v.netns ? ` in ${v.netns}` : ''}${v.vlan ? `, VLAN ${v.vlan}` : ''} to ${o.instance ?? 'eth0'}`]);
    });
  const remove = target(new Command('remove').description('remove a vNIC from a running daemon: its TAP is deleted, its counters printed'))
    .argument('<vnic>', 'the vNIC')
    .action((name: string, o: ControlOptions) =>
      ask(o, 'DELETE', `vnics/${encodeURIComponent(name)}`, undefined, (b: { name: string; receive: { frames: number }; transmit: { frames: number } }) => [`removed ${b.name}: ${b.receive.frames} frames received, ${b.transmit.frames} sent`]),
    );
  const status = target(new Command('status').description('show a running daemon: its parent, and each vNIC with its MAC, namespace, VLAN, state, MAC conflicts and counters')).action((o: ControlOptions) =>
    ask(o, 'GET', 'status', undefined, (b: StatusReply) => statusLines(b)),
  );
  return [status, add, remove];
}

function doctorCommand(deps: CliDeps, out: (line: string) => void, program: Command): Command {
  return new Command('doctor')
    .description('report what on this host breaks a vNIC beside its parent (ARP flux sysctls, rp_filter, MACAddressPolicy, GRO/LRO, MTU, /dev/net/tun, capabilities), each with its fix')
    .option('-v, --veth <device>', 'the vNIC vethd runs (or will run)', 'veth0')
    .addOption(new Option('-e, --eth <device>', 'the parent NIC').default('eth0').env('VETHD_PARENT'))
    .option('--no-vnet-hdr', 'check for a vethd run with --no-vnet-hdr (GRO on the parent then matters)')
    .option('--fix', 'apply the sysctl fixes (they last until reboot; the report says what to keep in /etc/sysctl.d)')
    .action((opts: { veth: string; eth: string; vnetHdr: boolean; fix?: boolean }) => {
      let lines: string[];
      let exitCode: number;
      try {
        const host = deps.host ?? realHost(() => deps.native ?? loadNative());
        let findings = diagnose({ parent: checkIfname(opts.eth), vnic: checkIfname(opts.veth), vnetHdr: opts.vnetHdr }, host);
        if (opts.fix) findings = applyFixes(findings, host);
        ({ lines, exitCode } = report(findings, opts.fix ?? false));
      } catch (err) {
        fail(program, err, EXIT_USAGE);
      }
      for (const line of lines.slice(0, -1)) out(line);
      const summary = lines[lines.length - 1];
      if (exitCode !== 0) program.error(`${ERROR_PREFIX}doctor: ${summary}`, { exitCode, code: 'vethd.doctor' satisfies ErrorCode });
      out(summary);
    });
}

/**
 * SIGHUP: read the config file again; a key that left the file goes back to
 * its default (unless the command line or environment set it). Returns what
 * the daemon can apply live, and the settings that changed but need a
 * restart. Throws the file's error, leaving the settings as they were.
 */
function reloadConfig(program: Command, started: RootOptions, running: Map<string, Record<string, unknown>> | undefined, deps: CliDeps, log: Logger): ReloadResult {
  const { values, vnics } = readConfig(started.config as string, program);
  for (const o of program.options) {
    const attr = o.attributeName();
    if (program.getOptionValueSource(attr) === 'config' && !(attr in values)) program.setOptionValueWithSource(attr, o.defaultValue, 'default');
  }
  applyConfig(program, values);
  const now = program.opts<RootOptions>();
  const result: ReloadResult = {
    logLevel: now.logLevel,
    onConflict: now.onConflict,
    antiSpoofing: vnics ? Object.fromEntries(vnics.map((t) => [String(t.veth), (t.antiSpoofing as boolean | undefined) ?? now.antiSpoofing])) : now.antiSpoofing,
    restartNeeded: FIXED_SETTINGS.filter((k) => now[k] !== started[k]),
  };
  // The [[vnic]] tables against the running ones, by name; anti-spoofing alone applies in place.
  if (!running || !vnics) {
    if (Boolean(running) !== Boolean(vnics)) result.restartNeeded.push('vnic');
    return result;
  }
  const same = (a: Record<string, unknown>, b: Record<string, unknown>) => {
    const { antiSpoofing: _a, ...x } = a;
    const { antiSpoofing: _b, ...y } = b;
    return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) === JSON.stringify(y, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
  };
  const wanted = new Map(vnics.map((t) => [String(t.veth), t]));
  const remove = [...running.keys()].filter((name) => !wanted.has(name));
  const add = vnics.flatMap((t) => {
    const name = String(t.veth);
    const was = running.get(name);
    if (was && same(was, t)) return [];
    const plan = (vinfo: readonly VnicInfo[]) => planRunning(t, `[[vnic]] ${name}: `, started, vinfo, deps, log);
    return [{ name, changed: Boolean(was), plan }];
  });
  if (remove.length || add.length) {
    result.vnics = {
      remove,
      add,
      applied: (name, isRunning) => {
        if (isRunning) running.set(name, wanted.get(name) as Record<string, unknown>);
        else running.delete(name);
      },
    };
  }
  return result;
}

/** The per-vNIC options ([[vnic]] keys) as RootOptions holds them. */
type VnicOptions = Pick<RootOptions, 'veth' | 'mac' | 'netns' | 'vlan' | 'arpSysctls' | 'antiSpoofing' | 'linkLocal' | 'raGuard' | 'dhcpGuard' | 'announce' | 'announceInterval'>;

/** The names and (VLAN, MAC) pairs already taken, for the duplicate checks: keys `<netns>\0<name>` and `<vlan> <mac>`. */
interface Taken {
  names: Map<string, string>;
  macs: Map<string, string>;
}

/**
 * One vNIC from a table (a [[vnic]] table, {} for the command line's one, or
 * a control socket's add) over the top-level options base; its name and
 * (VLAN, MAC) must not be in taken (whose entries say who has them), and are
 * added to it. Throws a coded Error (where prefixes it).
 */
function planVnic(base: RootOptions, table: Record<string, unknown>, where: string, taken: Taken, machineId: string | undefined, log: Logger): VnicSpec & { mac: Buffer } {
  const b: VnicOptions = { veth: base.veth, mac: base.mac, netns: base.netns, vlan: base.vlan, arpSysctls: base.arpSysctls, antiSpoofing: base.antiSpoofing, linkLocal: base.linkLocal, raGuard: base.raGuard, dhcpGuard: base.dhcpGuard, announce: base.announce, announceInterval: base.announceInterval };
  const v = { ...b, ...table } as VnicOptions;
  checkIfname(v.veth);
  const netns = v.netns === undefined ? undefined : resolveNetns(v.netns);
  // In a container the vNIC is often eth0 too: the same name is another interface there.
  if (v.veth === base.eth && !netns) throw codedError('vethd.same-interface', `${where}-v and -e name the same interface "${v.veth}"`);
  const key = `${netns ?? ''}\0${v.veth}`;
  if (taken.names.has(key)) throw codedError('vethd.same-interface', `${where}vNIC "${v.veth}" is already ${taken.names.get(key)}`);
  const mac = chooseMac(v.mac, { machineId, tap: v.veth, parent: base.eth }, log);
  const id = `${v.vlan ?? 0} ${formatMac(mac)}`;
  if (taken.macs.has(id)) throw codedError('vethd.mac-in-use', `${where}vNIC "${v.veth}" would have MAC ${formatMac(mac)}, as "${taken.macs.get(id)}" has${v.vlan ? ` in VLAN ${v.vlan}` : ''}; choose another mac`);
  taken.names.set(key, where ? where.replace(/: $/, '') : `vNIC "${v.veth}"`);
  taken.macs.set(id, v.veth);
  return { tap: v.veth, mac, netns, vlan: v.vlan, arpSysctls: v.arpSysctls, antiSpoofing: v.antiSpoofing, linkLocalPass: v.linkLocal, raGuard: v.raGuard, dhcpGuard: v.dhcpGuard, announce: { count: v.announce, intervalMs: v.announceInterval } };
}

/**
 * The vNICs to run: one from the options, or one per [[vnic]] table, each
 * key it leaves out taken from the options. Names resolved and checked, MACs
 * chosen; throws a coded Error for a name or (netns, name) given twice, and
 * for two vNICs that would share a MAC in one VLAN.
 */
function planVnics(opts: RootOptions, tables: Record<string, unknown>[] | undefined, machineId: string | undefined, log: Logger): (VnicSpec & { mac: Buffer })[] {
  const taken: Taken = { names: new Map(), macs: new Map() };
  return (tables ?? [{}]).map((table, i) => planVnic(opts, table, tables ? `[[vnic]] ${i + 1}: ` : '', taken, machineId, log));
}

/**
 * The vNIC a control socket's add asks for (json: one [[vnic]] table), over
 * the options the daemon started with, beside the running ones; refused
 * (coded Error, one line) as a config file's table would be, or when an
 * interface on this host has its MAC.
 */
function planAdded(json: unknown, program: Command, started: RootOptions, running: readonly VnicInfo[], deps: CliDeps, log: Logger): VnicSpec & { mac: Buffer } {
  const { table, id } = readVnicTable(json, program);
  return { ...planRunning(table, 'add: ', started, running, deps, log), id };
}

/** One checked table's vNIC (attribute-named options) beside the running ones: planVnic, plus no interface here may have its MAC. */
function planRunning(table: Record<string, unknown>, where: string, started: RootOptions, running: readonly VnicInfo[], deps: CliDeps, log: Logger): VnicSpec & { mac: Buffer } {
  const taken: Taken = { names: new Map(), macs: new Map() };
  for (const v of running) {
    taken.names.set(`${v.netns ?? ''}\0${v.tap}`, `running on ${started.eth}`);
    taken.macs.set(`${v.vlan ?? 0} ${v.mac}`, v.tap);
  }
  const spec = planVnic(started, table, where, taken, (deps.machineId ?? readMachineId)(), log);
  const users = (deps.localUsers ?? localUsers)(spec.mac);
  if (users.length) throw codedError('vethd.mac-in-use', `${where}MAC ${formatMac(spec.mac)} is already used by ${users.join(', ')} on this host; choose another mac`);
  return spec;
}

/** The end of `vethd --help`. */
const HELP_EXAMPLES = `
Examples:
  vethd -v veth1 -e eth0 -m 02:00:c0:00:02:03
      veth1 on eth0 with that MAC, as vethd 1.0 ran it
  vethd -c /etc/vethd/eth0.toml
      the options, and a vNIC per [[vnic]] table, from a file
  vethd doctor -e eth0
      what on this host breaks a vNIC beside eth0, and the fix for each

See vethd(8) and vethd.toml(5).`;

/**
 * The commander program; parse with `await program.parseAsync(argv)`. Its
 * options are grouped for --help: the essentials first, relay tuning last.
 */
export function buildProgram(deps: CliDeps = {}): Command {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const program: Command = new Command('vethd');
  program
    .description('Give a host a second Ethernet identity: a TAP device with its own MAC, relayed onto a parent NIC')
    .enablePositionalOptions()
    .allowExcessArguments() // a word left over is an unknown command: the action says so (unknownCommand())
    .helpCommand(true)
    .optionsGroup('Essentials:')
    .option('-v, --veth <device>', 'virtual NIC (TAP) to create', 'veth0')
    .addOption(new Option('-e, --eth <device>', 'parent NIC to relay onto').default('eth0').env('VETHD_PARENT'))
    .addOption(new Option('-m, --mac <address|policy>', MAC_HELP).env('VETHD_MAC'))
    .addOption(new Option('-c, --config <file>', 'read options from a TOML file (keys are the long option names; the command line and environment win); SIGHUP re-reads it').env('VETHD_CONFIG'))
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'display help for command') // named here so it lists with the essentials
    .optionsGroup('The vNIC:')
    .addOption(
      new Option('--membership <mode>', "how the parent delivers the vNIC's frames: promiscuous membership, unicast filter entry, or none")
        .choices(['promisc', 'unicast', 'none'])
        .default(RELAY_DEFAULTS.membership)
        .env('VETHD_MEMBERSHIP'),
    )
    .addOption(new Option('--netns <name|path>', 'create the vNIC inside this network namespace (a name from `ip netns`, or a path such as /proc/PID/ns/net), for a container; the packet socket stays on the parent here').env('VETHD_NETNS'))
    .addOption(new Option('--vlan <id>', 'make the vNIC an access port of this 802.1Q VLAN on the parent: relay only frames tagged with it, untagged towards the vNIC, and tag the vNIC\'s frames towards the wire (1 to 4094)').argParser(vlanId))
    .option('--no-arp-sysctls', "leave the vNIC's arp_ignore and arp_announce as they are; by default vethd sets them to 1 and 2, so the vNIC answers ARP and announces only for its own addresses (no ARP flux with a parent in the same subnet)")
    .addOption(
      new Option('--announce <count>', "when the vNIC comes up or gains an address, announce it this many times: gratuitous ARP (IPv4), unsolicited neighbour advertisement (IPv6), so caches that knew the address at another MAC take the vNIC's at once (0: off)")
        .argParser(announceCount)
        .default(2),
    )
    .addOption(new Option('--announce-interval <ms>', 'time between two announcements of one address (100 to 60000)').argParser(announceMs).default(2000))
    .optionsGroup('What the vNIC may send:')
    .option('--no-anti-spoofing', "relay the vNIC's frames whatever identity they claim (for a vNIC that is a bridge port); by default a source MAC, ARP/RARP sender, IPv6 neighbour discovery link-layer address or DHCP client chaddr other than the vNIC's MAC is dropped and counted")
    .addOption(
      new Option('--link-local <groups>', `reserved 802.1 groups 01:80:c2:00:00:0X the vNIC may send to (a switch takes them as its own link's: STP, PAUSE, LACP); the rest are dropped and counted: names stp, pause (and EtherType 0x8808), slow (LACP; 0x8809), eapol, lldp, numbers 0x00-0x0f, none or all, comma-separated`)
        .argParser(parseLinkLocal)
        .default(parseLinkLocal(LINK_LOCAL_DEFAULT), LINK_LOCAL_DEFAULT),
    )
    .option('--ra-guard', "drop router advertisements and ICMPv6 redirects from the vNIC (RA guard, RFC 6105), for a vNIC that must not act as a router")
    .option('--dhcp-guard', "drop DHCP and DHCPv6 server and relay messages from the vNIC (from ports 67/547, to ports 68/546, BOOTREPLYs to 67), for a vNIC that must not act as a DHCP server")
    .optionsGroup('Conflicts, metrics and logs:')
    .addOption(
      new Option('--probe-window <ms>', 'before bringing the vNIC up, listen this long on the parent for another station using the MAC (0: skip)')
        .argParser(probeWindowMs)
        .default(500),
    )
    .addOption(
      new Option('--on-conflict <action>', 'when another station uses the MAC while running: warn once per burst, or exit 1')
        .choices(['warn', 'exit'])
        .default('warn'),
    )
    .addOption(
      new Option('--metrics-listen <host:port|off>', 'Prometheus /metrics and /healthz endpoint (loopback by default)')
        .default(DEFAULT_METRICS_LISTEN)
        .env('VETHD_METRICS_LISTEN'),
    )
    .addOption(
      new Option('--control-socket <path|off>', `where \`vethd status\`, \`add\` and \`remove\` reach this daemon (default: $RUNTIME_DIRECTORY/control.sock under systemd, else ${CONTROL_DIR}/<parent>/control.sock)`)
        .env('VETHD_CONTROL_SOCKET'),
    )
    .option('--empty', 'start with no vNIC and wait for `vethd add` on the control socket (implies --live-vnics); stay up when the last vNIC goes: the daemon a container runtime or the CNI plugin drives')
    .option('--live-vnics', 'keep CAP_NET_ADMIN (and CAP_SYS_ADMIN and CAP_BPF, when held) on the JS thread after set-up, so `vethd add` can build vNICs while this daemon runs; otherwise every capability goes after set-up and add is refused (the relay threads never hold any)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info').env('VETHD_LOG_LEVEL'))
    .addOption(new Option('--log-format <format>', 'log lines on stdout: JSON, or pretty; auto is pretty on a TTY').choices(LOG_FORMATS).default('auto').env('VETHD_LOG_FORMAT'))
    .addOption(new Option('--log-file <path>', 'append JSON log lines to this file instead of stdout; SIGHUP reopens it (for logrotate)').env('VETHD_LOG_FILE'))
    .optionsGroup('Relay tuning (the defaults suit most hosts):')
    .option('--no-vnet-hdr', 'relay plain frames, completing partial checksums in software, instead of passing virtio_net_hdr through (slower; for kernels or set-ups without it)')
    .addOption(
      new Option('--rx-ring <mode>', 'receive path on the parent: TPACKET_V2 ring (auto), TPACKET_V3 ring (fewest wake-ups, up to 1 ms added latency), or recvmsg() per frame (off); falls back when the kernel refuses')
        .choices(['auto', 'v3', 'v2', 'off'])
        .default(RELAY_DEFAULTS.rxRing),
    )
    .option('--no-kernel-filter', "deliver every frame on the parent to the relay and drop other stations' unicast there (counted as not_for_us), instead of in the kernel with a BPF filter")
    .addOption(new Option('--tx-batch <frames>', `most frames sent with one sendmmsg() (1 to ${RELAY_LIMITS.txBatchMax})`).argParser(txBatch).default(RELAY_DEFAULTS.txBatch))
    .addOption(
      new Option('--rx-coalesce <us>', 'adaptive interrupt coalescing, like ethtool adaptive-rx: after a burst of 8 or more frames, wait for more before sleeping until the next one; the wait starts at 25 µs and doubles while bursts keep coming, up to this many µs (a lone frame is never delayed; 0: off)')
        .argParser(coalesceUs)
        .default(RELAY_DEFAULTS.rxCoalesceUs),
    )
    .addOption(
      new Option('--queues <n>', `relay with n threads: n packet sockets in a PACKET_FANOUT group and a multi-queue TAP (1 to ${RELAY_LIMITS.queuesMax}); for more than one core's worth of traffic`)
        .argParser(queueCount)
        .default(RELAY_DEFAULTS.queues),
    )
    .addOption(
      new Option('--fanout <mode>', 'with --queues > 1, spread frames by the CPU that received them or by flow hash')
        .choices(['cpu', 'hash'])
        .default(RELAY_DEFAULTS.fanout),
    )
    .option('--no-follow-cpu', "keep the relay threads where the scheduler puts them, instead of letting each wait, while traffic is sparse, on the CPU its last frame arrived on (so the next one does not have to wake an idle CPU; the CPU is recorded by the kernel filter as eBPF, which needs CAP_BPF; without it, --queues N --fanout cpu still follows by queue)")
    .addOption(
      new Option('--cpu-latency <us>', "while running, hold a PM QoS request (/dev/cpu_dma_latency) that keeps idle CPUs out of sleep states slower than this many µs to wake, so a frame that finds the relay asleep waits less; 0 keeps idle CPUs polling (lowest latency, but every idle CPU busy-loops); system-wide, withdrawn when vethd exits (default: none)")
        .argParser(cpuLatencyUs)
        .env('VETHD_CPU_LATENCY'),
    )
    .option('--qdisc-bypass', "send the vNIC's frames straight to the parent's driver (PACKET_QDISC_BYPASS), skipping its qdisc and any tc shaping (and the host path, which runs at tc egress)")
    .option('--no-host-path', "leave a vNIC's frames to this host's own MAC on the wire (where they never reach it, as with macvlan) instead of giving them, and its ARP and neighbour discovery, to this host's stack with a tc program on the parent (which needs CAP_BPF and Linux 6.6)")
    .addOption(
      new Option('--host-path-mark <mark>', "the mark (SO_MARK) on the relay's frames, which the host path's tc program acts on; choose another when this host's policy routing or firewall uses it (decimal or 0x hex)")
        .argParser(hostPathMark)
        .default(RELAY_DEFAULTS.hostPathMark, '0x56440000'),
    )
    .action(async (cliOpts: RootOptions) => {
      if (program.args.length) unknownCommand(program, program.args[0]);
      let opts = cliOpts;
      let tables: Record<string, unknown>[] | undefined;
      if (opts.config) {
        try {
          const file = readConfig(opts.config, program);
          applyConfig(program, file.values);
          tables = file.vnics;
          const source = program.getOptionValueSource('veth');
          if (tables && (source === 'cli' || source === 'env')) {
            throw codedError('vethd.config', `config ${opts.config}: its [[vnic]] tables name the vNICs: leave -v off the command line`);
          }
        } catch (err) {
          fail(program, err, EXIT_USAGE);
        }
        opts = program.opts<RootOptions>();
      }
      let log: Logger;
      try {
        log = (deps.logger ?? createLogger)(opts.logLevel, opts.logFormat, opts.logFile);
      } catch (err) {
        fail(program, codedError(errnoOr(err, 'vethd.log-file'), `${opts.logFile}: cannot open log file: ${fileErrorText(err)}`), EXIT_USAGE);
      }
      let vnics: (VnicSpec & { mac: Buffer })[];
      let metricsListen: ReturnType<typeof parseListen>;
      try {
        checkIfname(opts.eth);
        metricsListen = parseListen(opts.metricsListen);
        if (opts.empty) {
          const named = program.getOptionValueSource('veth');
          if (tables || (named && named !== 'default')) throw codedError('vethd.config', '--empty starts with no vNIC: leave out -v and the [[vnic]] tables');
          if (opts.controlSocket === 'off') throw codedError('vethd.config', '--empty waits for vethd add on the control socket: it cannot be off');
        }
        vnics = opts.empty ? [] : planVnics(opts, tables, (deps.machineId ?? readMachineId)(), log);
      } catch (err) {
        fail(program, err, EXIT_USAGE);
      }
      for (const { mac } of vnics) {
        const warning = universalWarning(mac);
        if (warning) log.warn({ mac: formatMac(mac) }, warning);
        const users = (deps.localUsers ?? localUsers)(mac);
        if (users.length) {
          fail(program, codedError('vethd.mac-in-use', `MAC ${formatMac(mac)} is already used by ${users.join(', ')} on this host; choose another -m`), EXIT_SETUP);
        }
      }
      // JSON log lines on stdout: the Attached line goes into the log, so `vethd | jq` reads every line.
      const jsonStdout = !opts.logFile && !prettyLogs(opts.logFormat, deps.stdoutIsTty ?? Boolean(process.stdout.isTTY));
      const started = { ...opts }; // opts() is live: keep what the daemon started with
      // The [[vnic]] tables running, by name: a reload's changes are made against them.
      const runningTables = tables && new Map(tables.map((t) => [String(t.veth), t]));
      let exit;
      try {
        exit = await runDaemon(
          {
            vnics,
            parent: opts.eth,
            membership: opts.membership,
            vnetHdr: opts.vnetHdr,
            rxRing: opts.rxRing,
            kernelFilter: opts.kernelFilter,
            txBatch: opts.txBatch,
            qdiscBypass: opts.qdiscBypass,
            rxCoalesceUs: opts.rxCoalesce,
            queues: opts.queues,
            fanout: opts.fanout,
            followCpu: opts.followCpu,
            hostPath: opts.hostPath,
            hostPathMark: opts.hostPathMark,
            probeWindowMs: opts.probeWindow,
            onConflict: opts.onConflict,
            metricsListen,
            cpuLatencyUs: opts.cpuLatency,
            liveVnics: opts.liveVnics || opts.empty,
            empty: opts.empty,
            controlSocket: opts.controlSocket === 'off' ? undefined : opts.controlSocket ? { path: opts.controlSocket, explicit: true } : { path: (deps.defaultControlSocket ?? defaultControlSocket)(opts.eth), explicit: false },
          },
          { log, out: jsonStdout ? undefined : out, native: deps.native, cpuLatencyDevice: deps.cpuLatencyDevice, signals: deps.signals, parentUp: deps.parentUp, reload: opts.config ? () => reloadConfig(program, started, runningTables, deps, log) : undefined, reopenLog: reopenLogFiles, planVnic: (json, running) => planAdded(json, program, started, running, deps, log) },
        );
      } catch (err) {
        fail(program, err, EXIT_SETUP);
      }
      if (exit.code !== 0) fail(program, exit.error ?? exit.reason, EXIT_RUNTIME);
    });
  program.addCommand(macCommand(deps, out, program));
  program.addCommand(doctorCommand(deps, out, program));
  for (const c of controlCommands(out, program)) program.addCommand(c);
  program.addHelpText('after', HELP_EXAMPLES);
  const errorPriority = deps.stderrIsJournal ?? journalFd(2);
  const oneErrorFormat = (c: Command): void => {
    c.configureOutput({
      outputError: (text, write) => {
        const line = commanderErrorText(text, commandNames(c));
        write(errorPriority ? prefixLines(line, SD_ERR) : line);
      },
    });
    c.commands.forEach(oneErrorFormat);
  };
  oneErrorFormat(program);
  return program;
}

/** Entry point for bin/vethd. Commander's own usage errors exit 2, like ours. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    process.exitCode = err.exitCode === 1 && err.code.startsWith('commander.') ? EXIT_USAGE : err.exitCode;
  }
}
