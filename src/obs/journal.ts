/**
 * The systemd journal as the other end of stdout or stderr. journald reads a
 * "<N>" at the start of a line as that line's syslog priority (sd-daemon(3);
 * SyslogLevelPrefix= in systemd.exec(5), on by default), so `journalctl -p
 * warning` finds a warning. The prefix is written only to a descriptor that
 * is the journal's stream: anywhere else (a file, a pipe to jq) it would be
 * noise in the JSON.
 */
import { fstatSync } from 'node:fs';
import pino from 'pino';

/**
 * Whether fd is connected to the journal: env.JOURNAL_STREAM is
 * "<dev>:<ino>" in decimal and fstat(fd) has that device and inode
 * (systemd.exec(5), "$JOURNAL_STREAM"). systemd sets the variable for a
 * service whose stdout or stderr is the journal; a child whose output was
 * redirected inherits it too, hence the fstat(). A missing or malformed
 * variable, or an fd fstat() refuses (closed), is false.
 */
export function journalFd(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^([0-9]+):([0-9]+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true }); // an inode number may not fit a double
    return st.dev === BigInt(m[1]) && st.ino === BigInt(m[2]);
  } catch {
    return false;
  }
}

/** sd-daemon(3)'s SD_ERR: the priority of the CLI's final error line. */
export const SD_ERR = 3;

/**
 * The syslog priority for a pino level number: fatal (60) 2 (SD_CRIT), error
 * (50) 3, warn (40) 4, info (30) 6, debug (20) and trace (10) 7. A level
 * between two of pino's takes the less severe one's priority.
 */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** text with "<priority>" before each of its non-empty lines: "a\nb\n" at 4 → "<4>a\n<4>b\n". journald takes each line as its own entry. */
export function prefixLines(text: string, priority: number): string {
  return text.replace(/^(?=.)/gm, `<${priority}>`);
}

/** A pino destination that learns each record's level before it is written (pino's metadata streams: pino sets lastLevel, then calls write()). */
export interface JournalDestination extends pino.DestinationStream {
  readonly [pino.symbols.needsMetadataGsym]: true;
  /** The level number of the record write() is given (30, info, until pino sets it). */
  lastLevel: number;
}

/**
 * A pino destination for the journal on fd: each record's lines prefixed
 * with its syslogPriority(), written synchronously (pino.destination({fd,
 * sync: true}), as createLogger() writes elsewhere, so nothing is lost at
 * exit). format turns pino's JSON line into the text written (pino-pretty's
 * prettyFactory() for pretty lines); by default the JSON line as it is, e.g.
 * '<4>{"level":40,...}\n'.
 */
export function journalDestination(fd: number, format: (json: string) => string = (json) => json): JournalDestination {
  const out = pino.destination({ fd, sync: true });
  return {
    [pino.symbols.needsMetadataGsym]: true,
    lastLevel: 30,
    write(json: string) {
      out.write(prefixLines(format(json), syslogPriority(this.lastLevel)));
    },
  };
}
