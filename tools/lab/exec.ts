/**
 * Running the lab's tools: argument vectors only (no shell, so no value is
 * ever interpreted by one), bounded in time, and waiting on conditions with a
 * deadline instead of sleeping.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command after this many ms (default 30 000). */
  timeoutMs?: number;
}

/** Run cmd with args; resolve with its output, or reject with one line naming the command, exit status and stderr. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const status = err.killed ? `killed after ${opts.timeoutMs ?? 30_000} ms` : `exit ${String(err.code)}`;
        reject(new Error(`${cmd} ${args.join(' ')}: ${status}: ${String(stderr).trim()}`));
      } else {
        resolve({ stdout: String(stdout), stderr: String(stderr) });
      }
    });
  });
}

/** Like run(), but resolves to undefined instead of rejecting. */
export async function tryRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult | undefined> {
  try {
    return await run(cmd, args, opts);
  } catch {
    return undefined;
  }
}

/**
 * Poll check until it returns a value other than undefined/false, at most
 * timeoutMs (default 10 000); reject with "timed out after N ms waiting for
 * <what>" (plus the last error check threw, if any).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const tail = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
