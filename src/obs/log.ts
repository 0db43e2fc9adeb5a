/**
 * Logs: pino JSON lines on stdout by default; human-readable (pino-pretty)
 * when stdout is a TTY, or when asked. Lifecycle events only, never one line
 * per frame.
 */
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** File destinations opened by createLogger(), for reopenLogFiles(). */
const files = new Set<ReturnType<typeof pino.destination>>();

/**
 * A root logger at level. With logFile: JSON lines appended to that file
 * (created 0600 when missing, see reopenLogFiles()). Otherwise on fd (default
 * 1, stdout): 'auto' is pretty on a TTY, JSON otherwise.
 */
export function createLogger(level: LogLevel = 'info', format: LogFormat = 'auto', logFile?: string, fd = 1): Logger {
  if (logFile) {
    const dest = pino.destination({ dest: logFile, append: true, sync: true, mode: 0o600 });
    files.add(dest);
    return pino({ name: 'vethd', level }, dest);
  }
  const isTty = format === 'auto' ? Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY) : format === 'pretty';
  const opts = { name: 'vethd', level };
  if (isTty) return pino(opts, pretty({ destination: fd, sync: true, colorize: format === 'auto', ignore: 'pid,hostname' }));
  return pino(opts, pino.destination({ fd, sync: true }));
}

/** Close and reopen every log file (after logrotate moved it): the next line goes to a new file at the same path. */
export function reopenLogFiles(): void {
  for (const f of files) f.reopen();
}
