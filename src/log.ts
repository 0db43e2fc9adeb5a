/**
 * Logs: pino JSON lines on stderr (stdout carries the one-line status the
 * original vethd printed). Lifecycle events only, never one line per frame.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A root logger at level, writing to fd (default 2, stderr). */
export function createLogger(level: LogLevel = 'info', fd = 2): Logger {
  return pino({ name: 'vethd', level }, pino.destination({ fd, sync: true }));
}
