/**
 * IPAM delegation (SPEC.md section 4), as the reference plugins' pkg/ipam and
 * libcni's invoke package do it: the plugin named by ipam.type is looked up
 * in each CNI_PATH directory in turn, run with the environment vethd-cni got
 * (CNI_COMMAND set to the delegated command) and the configuration bytes it
 * read, unchanged; its stderr is ours, its stdout the result, and its error
 * object, when it fails, is passed on as it gave it.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CNI_ERR, CniError } from './errors';

/** A delegated plugin's command. */
export type DelegateCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';

/** How long a delegated plugin may take (a DHCP exchange included) before it is killed and the runtime told to retry. */
export const IPAM_TIMEOUT_MS = 120_000;

/** The executable plugin in the first CNI_PATH directory that has it (as invoke.FindInPath). Throws code 4 or 101. */
export function findPlugin(plugin: string, cniPath: string | undefined): string {
  if (plugin.includes('/')) throw new CniError(CNI_ERR.invalidConfig, 'invalid network configuration: "ipam.type" names a file, not a plugin', JSON.stringify(plugin));
  const dirs = (cniPath ?? '').split(':').filter(Boolean);
  if (dirs.length === 0) throw new CniError(CNI_ERR.invalidEnv, 'required env variables [CNI_PATH] missing', `CNI_PATH lists where the IPAM plugin "${plugin}" is`);
  for (const dir of dirs) {
    const file = path.join(dir, plugin);
    try {
      if (statSync(file).isFile()) return file;
    } catch {
      /* not in this one */
    }
  }
  throw new CniError(CNI_ERR.ipam, `failed to find plugin "${plugin}" in path [${dirs.join(' ')}]`);
}

/**
 * Run the plugin file with command, stdin and env (CNI_COMMAND replaced);
 * resolve with its stdout when it exits 0. Rejects with its own error object
 * (its code, msg, details) when it prints one and fails, code 101 when it
 * fails without one, code 11 when it takes longer than timeoutMs.
 */
export function execPlugin(file: string, command: DelegateCommand, stdin: Buffer, env: NodeJS.ProcessEnv, timeoutMs = IPAM_TIMEOUT_MS): Promise<string> {
  const name = path.basename(file);
  const once = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(file, [], { env: { ...env, CNI_COMMAND: command }, stdio: ['pipe', 'pipe', 'inherit'] });
      const out: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stdin.on('error', () => {}); // a plugin that exits without reading: its exit status says what happened
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const text = Buffer.concat(out).toString('utf8');
        if (timedOut) return reject(new CniError(CNI_ERR.tryAgainLater, `the IPAM plugin "${name}" did not finish ${command} within ${timeoutMs / 1000} s`));
        if (code === 0) return resolve(text);
        reject(pluginError(name, command, text, code === null ? `signal ${signal}` : `exit status ${code}`));
      });
      child.stdin.end(stdin);
    });
  // "text file busy": the plugin is being written (an upgrade); libcni's RawExec waits a second and tries again, 5 times.
  const attempt = async (left: number): Promise<string> => {
    try {
      return await once();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ETXTBSY' && left > 0) {
        await new Promise((r) => setTimeout(r, 1000));
        return attempt(left - 1);
      }
      if (err instanceof CniError) throw err;
      throw new CniError(CNI_ERR.ipam, `cannot run the IPAM plugin "${name}"`, `${file}: ${(err as Error).message}`);
    }
  };
  return attempt(5);
}

/** A failed plugin's error: the object it printed (code, msg, details), or code 101 naming how it ended. */
function pluginError(name: string, command: string, stdout: string, how: string): CniError {
  try {
    const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.code === 'number' && typeof e.msg === 'string') return new CniError(e.code, e.msg, typeof e.details === 'string' ? e.details : undefined);
  } catch {
    /* not an error object */
  }
  const said = stdout.trim() ? `: ${JSON.stringify(stdout.trim().slice(0, 200))}` : ' with no error message';
  return new CniError(CNI_ERR.ipam, `the IPAM plugin "${name}" failed ${command}${said}`, how);
}

/** ipam.type's plugin, found in CNI_PATH and run (findPlugin, then execPlugin). */
export function delegate(plugin: string, command: DelegateCommand, stdin: Buffer, env: NodeJS.ProcessEnv): Promise<string> {
  return execPlugin(findPlugin(plugin, env.CNI_PATH), command, stdin, env);
}
