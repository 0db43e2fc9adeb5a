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
  EACCES: "this user may not open it (udev's default mode for /dev/net/tun is 0666; run as root, or fix the mode)",
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

/** An Error carrying a code (namespaced to vethd.<code> by errorCode()): one line, naming the bad value. */
export function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

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

/** The commander error code for err, namespaced: vethd.ENODEV, vethd.invalid-mac. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? `vethd.${code}` : 'vethd.error';
}
