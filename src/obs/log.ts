/**
 * Logs: pino JSON lines on stdout by default; human-readable (pino-pretty)
 * when stdout is a TTY, or when asked. On the journal, each line carries its
 * syslog priority (journal.ts). Lifecycle events only, never one line per
 * frame.
 */
import pino from 'pino';
import pretty, { prettyFactory, type PrettyOptions } from 'pino-pretty';
import { journalDestination, journalFd } from './journal';
import { summaryLines, type StatsSummary } from './summary';

/** A pino logger: the daemon logs JSON lines with it, children bound to {device, parent}. */
export type Logger = pino.Logger;

/** pino's levels, most severe first; 'silent' logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Log line formats: 'json', 'pretty' (pino-pretty), 'auto' (pretty on a TTY, else JSON). */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
/** One of LOG_FORMATS. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Whether format writes pretty lines on a terminal or not (tty): 'pretty', or 'auto' on a TTY; 'json' and 'auto' elsewhere write JSON lines. */
export function prettyLogs(format: LogFormat, tty: boolean): boolean {
  return format === 'auto' ? tty : format === 'pretty';
}

/**
 * pino-pretty's options for vethd: without pid and hostname; the shutdown
 * record's counters (a StatsSummary) as a line per vNIC rather than nested
 * JSON. colorize: ANSI colours (auto format on a TTY).
 */
export function prettyOptions(colorize: boolean): PrettyOptions {
  return {
    colorize,
    ignore: 'pid,hostname',
    customPrettifiers: {
      counters: (value) => (value && typeof value === 'object' ? summaryLines(value as StatsSummary).map((l) => `\n  ${l}`).join('') : String(value)),
    },
  };
}

/** File destinations opened by createLogger(), for reopenLogFiles(). */
const files = new Set<ReturnType<typeof pino.destination>>();

/**
 * A root logger at level. With logFile: JSON lines appended to that file
 * (created 0600 when missing, see reopenLogFiles()). Otherwise on fd (default
 * 1, stdout): 'auto' is pretty on a TTY, JSON otherwise. When fd is the
 * journal's stream (journalFd(fd, env): $JOURNAL_STREAM names it), each line
 * starts with the record's syslog priority, '<4>{"level":40,...}'; pretty
 * there (only when asked: the journal is no TTY) is without colours, each
 * line of a record with its priority.
 */
export function createLogger(level: LogLevel = 'info', format: LogFormat = 'auto', logFile?: string, fd = 1, env: NodeJS.ProcessEnv = process.env): Logger {
  if (logFile) {
    const dest = pino.destination({ dest: logFile, append: true, sync: true, mode: 0o600 });
    files.add(dest);
    return pino({ name: 'vethd', level }, dest);
  }
  const opts = { name: 'vethd', level };
  const prettyLines = prettyLogs(format, Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY));
  if (journalFd(fd, env)) return pino(opts, journalDestination(fd, prettyLines ? prettyFactory(prettyOptions(false)) : undefined));
  if (prettyLines) return pino(opts, pretty({ ...prettyOptions(format === 'auto'), destination: fd, sync: true }));
  return pino(opts, pino.destination({ fd, sync: true }));
}

/** Close and reopen every log file (after logrotate moved it): the next line goes to a new file at the same path. */
export function reopenLogFiles(): void {
  for (const f of files) f.reopen();
}
