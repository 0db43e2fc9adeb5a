/**
 * One error path for the CLI: every failure becomes one line naming the input
 * or interface, the operation and the cause, with a namespaced code and an
 * exit status.
 */
import type { NativeError } from './native/native';

/** Exit statuses: 1 runtime failure, 2 bad usage or input (as commander uses), 3 set-up refused by the kernel. */
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
export const EXIT_SETUP = 3;

/** What the user can do about the errno names they meet most. */
const HINTS: Record<string, string> = {
  EPERM: 'needs CAP_NET_ADMIN and CAP_NET_RAW (run as root, or grant them to the service)',
  // Capabilities fail with EPERM; EACCES is a file mode: /dev/net/tun is 0666 by udev's default.
  EACCES: "this user may not open it (udev's default mode for /dev/net/tun is 0666: fix the mode, or run as root, or grant CAP_DAC_OVERRIDE, as the systemd unit's tun.conf drop-in does)",
  ENODEV: 'no such interface (see `ip link`)',
  EEXIST: 'an interface with this name already exists: choose another -v name',
  EBUSY: 'the TAP is held by another process',
  ENETDOWN: 'the link is down',
  EBADFD: 'the vNIC was deleted from outside; restart vethd (systemd does, with Restart=on-failure) to recreate it',
};

/** Hints for one system call's errno, ahead of HINTS. */
const CALL_HINTS: Record<string, string> = {
  'setns:EPERM': 'entering another network namespace (--netns) needs CAP_SYS_ADMIN',
  'setns:EINVAL': 'the --netns file is not a network namespace',
};

/**
 * vethd's own error codes, as the `.code` of the errors it throws, with what
 * each means: one scheme, `vethd.<kebab-case>`. An error that a system call
 * or a file operation refused carries its errno name instead (`ENODEV`,
 * `EACCES`: NativeError, and the file and socket errors made with errnoOr()),
 * so a code says which kind it is.
 */
export const ERROR_CODES = Object.freeze({
  'vethd.invalid-mac': 'a MAC address or -m policy that does not parse, or cannot be a station address (MacError)',
  'vethd.invalid-ifname': 'an interface name the kernel would refuse (IfnameError)',
  'vethd.mac-conflict': "another station on the parent sends with a vNIC's MAC, in the probe window or while running (MacConflictError)",
  'vethd.mac-in-use': 'an interface on this host, or another vNIC of the same configuration, already has the MAC',
  'vethd.no-machine-id': 'no valid /etc/machine-id to derive a persistent (or oui:) MAC from',
  'vethd.same-interface': 'a vNIC named like the parent, or two vNICs with one name',
  'vethd.config': 'the configuration file cannot be read, is not TOML, or has a bad key or value',
  'vethd.netns': '--netns names no network namespace',
  'vethd.invalid-listen': '--metrics-listen is not HOST:PORT, [IPv6]:PORT or off',
  'vethd.listen': 'the metrics endpoint cannot listen (when the socket gave no errno)',
  'vethd.log-file': 'the log file cannot be opened (when the file system gave no errno)',
  'vethd.cpu-latency': 'the CPU latency request cannot be made (when the device gave no errno)',
  'vethd.control': 'the control socket cannot be made or listened on (when the file system gave no errno)',
  'vethd.control-in-use': 'another vethd answers on the control socket path',
  'vethd.control-unreachable': 'no vethd answers on the control socket (`vethd status`, `add`, `remove`)',
  'vethd.control-bad-request': 'a control request that is not JSON, not the schema, or not HTTP/1.1 (the reply\'s code)',
  'vethd.control-not-found': 'a control request for no such path or vNIC (the reply\'s code)',
  'vethd.control-forbidden': 'a control client whose uid is neither root\'s nor vethd\'s own (the reply\'s code)',
  'vethd.control-too-large': 'a control request body over 64 KiB (the reply\'s code)',
  'vethd.control-busy': 'more control clients at once than the daemon serves (the reply\'s code)',
  'vethd.control-last-vnic': 'a control request to remove a daemon\'s last vNIC (the reply\'s code)',
  'vethd.control-not-live': 'a control request to add a vNIC to a vethd started without --live-vnics (the reply\'s code)',
  'vethd.control-internal': 'a control request failed inside the daemon (the reply\'s code)',
  'vethd.doctor': '`vethd doctor` found a problem it did not fix (the CLI\'s code only)',
  'vethd.error': 'an error with no code of its own (the CLI\'s code only, see errorCode())',
} as const);

/** One of vethd's own error codes (see ERROR_CODES). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** An errno name as Node and the addon give it: ENOENT, EADDRINUSE. */
export type ErrnoName = `E${string}`;

/** An Error carrying a code: one of vethd's own, or the errno name of the call that failed; one line, naming the bad value. */
export function codedError(code: ErrorCode | ErrnoName, message: string): Error & { code: ErrorCode | ErrnoName } {
  return Object.assign(new Error(message), { code });
}

/** The errno name err carries (a failed file or socket call: ENOENT, EADDRINUSE), else code. Node's own ERR_* codes are not errno names. */
export function errnoOr(err: unknown, code: ErrorCode): ErrorCode | ErrnoName {
  const c = (err as { code?: unknown })?.code;
  return typeof c === 'string' && /^E[A-Z0-9]+$/.test(c) ? (c as ErrnoName) : code;
}

/** Whether err came from the native addon: an Error with a string code (the errno name) and the interface it was about (ifname). */
export function isNativeError(err: unknown): err is NativeError {
  return err instanceof Error && typeof (err as NativeError).code === 'string' && typeof (err as NativeError).ifname === 'string';
}

/** The one line a user sees for err: the native message plus a hint for the common errno names. */
export function describeError(err: unknown): string {
  if (isNativeError(err)) {
    const hint = CALL_HINTS[`${err.syscall}:${err.code}`] ?? HINTS[err.code];
    return hint ? `${err.message}; ${hint}` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A failed file operation's cause as the user reads it: "no such file or directory (ENOENT)" (Node's libuv text, without the call and path). */
export function fileErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.message.split(',')[0].replace(`${e.code}: `, '')} (${e.code})` : String(e?.message ?? err);
}

/** The most characters of a bad value an error quotes; a longer one is cut there, and its length given. */
export const QUOTE_MAX = 32;

/** Characters JSON.stringify leaves as they are but a terminal or a log reader would act on: DEL, C1, line and paragraph separators, bidi controls. */
const UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * A bad value as an error shows it: in double quotes, every control character
 * escaped (JSON's escapes, \uXXXX for the rest), so the error stays one line
 * and shows what was given; past QUOTE_MAX characters, the start, then '…' and
 * the length: "aaaa…aaaa"… (52428800 characters).
 */
export function quote(value: string): string {
  const cut = value.length > QUOTE_MAX;
  const text = JSON.stringify(cut ? value.slice(0, QUOTE_MAX) : value).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut ? `${text}… (${value.length} characters)` : text;
}

/**
 * The commander error code for err, always namespaced: vethd's own code as it
 * is (vethd.invalid-mac), an errno name under vethd. (vethd.ENODEV), and
 * vethd.error for an error without a code.
 */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string') return 'vethd.error';
  return code.startsWith('vethd.') ? code : `vethd.${code}`;
}
