/**
 * vethd as a library: what a Node.js program may rely on (`require('vethd')`).
 * Everything else under dist/ is the daemon's own and may change.
 *
 * Start a daemon: one or more vNICs (TAP devices with their own MACs) relayed
 * onto a parent NIC. It needs CAP_NET_ADMIN and CAP_NET_RAW (root, or the
 * capabilities), and Linux; the native addon is built at `npm install`.
 *
 *   const { runDaemon, createLogger, parseStationMac } = require('vethd');
 *   const exit = await runDaemon(
 *     { parent: 'eth0', membership: 'promisc', vnics: [{ tap: 'veth1', mac: parseStationMac('02:00:c0:00:02:03') }] },
 *     { log: createLogger('info', 'json'), out: (line) => console.log(line) },
 *   );
 *   // exit.code: 0 after SIGINT/SIGTERM, 1 when the relay failed (exit.error says why)
 *
 * runDaemon rejects, leaving nothing behind (no TAP, no membership), with a
 * NativeError when the kernel refuses the set-up (code: the errno name,
 * ENODEV, EPERM; describeError() adds what to do), a MacConflictError
 * (vethd.mac-conflict) when another station used a vNIC's MAC during
 * probeWindowMs, or a coded Error when cpuLatencyUs or metricsListen cannot
 * be had (the errno name, else vethd.cpu-latency / vethd.listen). vethd's own
 * codes are `vethd.<kebab-case>`; ERROR_CODES says what each means.
 */
import type * as daemon from './daemon/daemon';
import type * as native from './native/native';

// Running a daemon.
export { runDaemon, DEFAULT_ANNOUNCE } from './daemon/daemon';
export type { VnicSpec, DaemonExit, ReloadResult } from './daemon/daemon';
export type { AnnouncePolicy } from './daemon/announce';
export { createLogger } from './obs/log';
export type { Logger, LogLevel, LogFormat } from './obs/log';
export type { ListenAddress } from './obs/http';

/**
 * What runDaemon runs: the parent (`parent`, a NIC name), its vNICs
 * (`vnics`, 0 to 64 VnicSpec; 0 with `empty`), how the parent delivers their frames
 * (`membership`), and optional modes, each documented on its field (times
 * in ms unless the name says Us: µs). The CLI validates what a user types;
 * runDaemon hands the values to the relay as they are: check names with
 * checkIfname() and MACs with parseStationMac() first.
 */
export type DaemonOptions = daemon.DaemonOptions;

/**
 * What runDaemon uses besides its options. Required: `log` (a pino logger,
 * e.g. createLogger()). `out` gets the one "Attached <tap> into <parent>
 * (<mac>)" line per vNIC; without it that line is an info record in the log
 * (as vethd does when stdout carries JSON). The rest default to the real thing:
 * the native addon, `process` for SIGINT/SIGTERM (stop), SIGUSR1 (log the
 * counters) and SIGHUP (reload, reopen logs), sysfs for link state, and
 * process.env for sd_notify; tests and embedders may pass their own.
 */
export type DaemonDeps = daemon.DaemonDeps;

/** What runDaemon does when another station sends with a vNIC's MAC while it runs: 'warn' (one warning per burst) or 'exit' (end with code 1, MacConflictError). */
export type OnConflict = daemon.OnConflict;

// MAC addresses.
export { parseMac, parseStationMac, formatMac, isGroup, isLocal, MacError } from './mac/mac';
export { parseMacSpec, resolveMac, MAC_POLICIES } from './mac/macpolicy';
export type { MacSpec, MacContext } from './mac/macpolicy';
export { readMachineId } from './mac/machineid';
export { checkIfname, IfnameError, IFNAME_MAX } from './host/ifname';

// The relay's types (the native addon's shapes).
export type { DropReason, Membership, FollowCpu, VnicOptions, DirectionStats, VnicStats, RelayStats, VnicInfo, RelayInfo, NativeError } from './native/native';

/** The native relay's options (the addon's shape; runDaemon builds it from DaemonOptions): the parent, its vNICs (VnicOptions) and the hot-path modes, each documented on its field. */
export type RelayOptions = native.RelayOptions;

/** How the receive queues share frames when queues > 1: PACKET_FANOUT_CPU ('cpu': by the receiving CPU) or PACKET_FANOUT_HASH ('hash': by flow). */
export type Fanout = native.Fanout;

/** The receive path asked for: 'auto' (TPACKET_V3, else V2), 'v3', 'v2' (PACKET_MMAP rings) or 'off' (recvmsg). RelayInfo.rxRing says which is in force. */
export type RxRing = native.RxRing;

/** The relay's health: `open`, `rxError` (a relay thread ended on this error) and `retired` (per vNIC, the error that retired it, else null). */
export type RelayStatus = native.RelayStatus;

// Errors.
export { MacConflictError } from './daemon/collision';
export { ERROR_CODES, isNativeError, describeError } from './errors';
export type { ErrorCode, ErrnoName } from './errors';

export { VERSION } from './version';
