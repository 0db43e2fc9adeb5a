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

/** A root logger at level on fd (default 1, stdout); 'auto' is pretty on a TTY, JSON otherwise. */
export function createLogger(level: LogLevel = 'info', format: LogFormat = 'auto', fd = 1): Logger {
  const isTty = format === 'auto' ? Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY) : format === 'pretty';
  const opts = { name: 'vethd', level };
  if (isTty) return pino(opts, pretty({ destination: fd, sync: true, colorize: format === 'auto', ignore: 'pid,hostname' }));
  return pino(opts, pino.destination({ fd, sync: true }));
}
