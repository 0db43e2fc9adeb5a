/**
 * A real systemd (the machine's, 252 on Debian 12) booted in the namespace lab,
 * for testing the unit as shipped (issue 28). It runs as pid 1 of its own pid,
 * mount, cgroup, uts and ipc namespaces, in the lab's fw network namespace (so
 * it plays fw: eth0 is fw's cable to the lab switch), on a tmpfs overlay of /
 * with tmpfs on /run and /tmp, a read-only /sys, its own cgroup2 mount and a
 * private /dev; tools/lab/systemd-boot sets that up and says why for each step.
 * It boots a target with DefaultDependencies=no, so none of the host's services
 * start, and it is driven through nsenter.
 *
 * Bounded: the boot has a deadline; anything that fails on the way tears down
 * what was built. destroy() kills the pid namespace's init (the kernel then
 * kills the rest), removes the cgroup child it made and the lab; its mounts
 * were only ever in its own mount namespace, and leave with it.
 *
 * Runs as root; run lab tests under the shared lock (flock /tmp/vethd-lab.lock).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Lab, LAB_NS_PREFIX } from './lab';
import { run, tryRun, waitFor, type RunResult } from './exec';

/** The project (this checkout): bound read-only into the booted system at the same path. */
export const PROJECT = path.join(__dirname, '..', '..');
const BOOT = path.join(PROJECT, 'tools', 'lab', 'systemd-boot');
/** Where the booted system sees the project (bound read-only; outside /tmp, which PrivateTmp= hides from a unit). */
export const PROJECT_INSIDE = '/opt/vethd';

/** Where cgroup v2 is mounted here: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one (this machine). */
export function cgroup2Root(): string {
  for (const p of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    if (existsSync(path.join(p, 'cgroup.procs')) && existsSync(path.join(p, 'cgroup.subtree_control'))) return p;
  }
  throw new Error('no cgroup v2 hierarchy mounted (looked at /sys/fs/cgroup/unified and /sys/fs/cgroup)');
}

/** The unit systemd boots into: nothing but what a test starts. */
export const LAB_TARGET = 'vethd-lab.target';
const TARGET_UNIT = `[Unit]
Description=vethd lab: nothing but what a test starts
DefaultDependencies=no
AllowIsolate=yes
`;

/** Capabilities that reach past a namespace: the booted system never holds them. */
const DROPPED_CAPS = ['sys_module', 'sys_time', 'sys_boot', 'sys_rawio', 'syslog', 'mac_admin', 'mac_override', 'wake_alarm', 'block_suspend', 'sys_pacct'];

export interface SystemdOptions {
  /** Files for /run/systemd/system, by path relative to it (e.g. "vethd@.service.d/lab.conf"). */
  units?: Record<string, string>;
  /** Other files the booted system has from the start, by absolute path inside it (e.g. "/etc/vethd/eth0.toml"). */
  files?: Record<string, string>;
  /** Run on the lab before systemd boots (e.g. start the peer's DHCP server for a unit started at boot). */
  beforeBoot?: (lab: Lab) => Promise<void>;
  /** Boot deadline (default 30 000 ms). */
  bootTimeoutMs?: number;
  /** Lab tag (see Lab.create). */
  tag?: string;
}

/** A booted systemd in the lab. */
export class SystemdLab {
  private constructor(
    readonly lab: Lab,
    /** The unshare process (host pid); its child is the booted systemd. */
    private readonly starter: ChildProcess,
    /** The cgroup v2 child everything runs in. */
    readonly cgroup: string,
    /** systemd's pid as the machine sees it (0 until known). */
    public pid: number,
    /** systemd's console (its own log and its units' output that goes to the console). */
    readonly console: () => string,
  ) {}

  /**
   * Build a lab, boot systemd in its fw namespace and wait (with a deadline)
   * until the boot finished. On any failure, everything built is removed and
   * the error says what systemd printed.
   */
  static async boot(opts: SystemdOptions = {}): Promise<SystemdLab> {
    const missing = Object.entries({ '/lib/systemd/systemd': 'systemd', '/usr/bin/curl': 'curl' }).filter(([f]) => !existsSync(f)).map(([, pkg]) => pkg);
    if (missing.length) throw new Error(`the systemd lab needs: apt-get install ${missing.join(' ')}`);
    await sweepStaleCgroups();
    const lab = await Lab.create(opts.tag ?? 'sysd');
    const cgroup = path.join(cgroup2Root(), `${lab.prefix}-systemd`);
    let sd: SystemdLab | undefined;
    try {
      // The tree copied over the booted system's /: the units under run/systemd/system.
      const tree = path.join(lab.dir, 'tree');
      const scratch = path.join(lab.dir, 'sd');
      mkdirSync(scratch);
      const unitFiles = Object.entries({ [LAB_TARGET]: TARGET_UNIT, ...opts.units }).map(([rel, content]) => [path.join('/run/systemd/system', rel), content]);
      for (const [abs, content] of [...unitFiles, ...Object.entries(opts.files ?? {})]) {
        const p = path.join(tree, abs);
        if (!path.isAbsolute(abs) || !p.startsWith(tree + path.sep)) throw new Error(`lab file "${abs}" is not an absolute path inside the booted system`);
        mkdirSync(path.dirname(p), { recursive: true });
        writeFileSync(p, content);
      }
      await opts.beforeBoot?.(lab);
      mkdirSync(cgroup);
      // sh moves itself into the child, then becomes setpriv, then unshare: one pid throughout.
      const starter = spawn('nsenter', [
        `--net=/run/netns/${lab.ns('fw')}`, '--', 'sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup,
        'setpriv', `--bounding-set=${DROPPED_CAPS.map((c) => `-${c}`).join(',')}`, '--',
        'unshare', '--pid', '--mount', '--cgroup', '--uts', '--ipc', '--fork', '--kill-child',
        BOOT, scratch, PROJECT, tree, LAB_TARGET,
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      starter.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      starter.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      sd = new SystemdLab(lab, starter, cgroup, 0, () => out);
      const deadline = opts.bootTimeoutMs ?? 30_000;
      const t0 = Date.now();
      // A check that sees the starter gone answers 'exited' (waitFor would retry a throw until the deadline).
      const gone = () => starter.exitCode !== null || starter.signalCode !== null;
      const pid = await waitFor('systemd to start', () => {
        if (gone()) return 'exited';
        const p = childOf(starter.pid ?? 0);
        return p && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'systemd' ? p : undefined;
      }, deadline);
      if (pid === 'exited') throw new Error(`the boot script exited ${starter.exitCode ?? starter.signalCode}`);
      sd.pid = pid;
      const state = await waitFor('the boot to finish (systemctl is-system-running)', async () => {
        if (gone()) return 'exited';
        const s = (await sd!.execStatus('systemctl', ['is-system-running'])).stdout.trim();
        return s === 'running' || s === 'degraded' ? s : undefined;
      }, Math.max(1, deadline - (Date.now() - t0)), 200);
      if (state === 'exited') throw new Error(`systemd exited ${starter.exitCode ?? starter.signalCode}`);
      if (state === 'degraded') {
        const failed = await sd.systemctl('--failed', '--no-legend', '--plain');
        throw new Error(`the lab's systemd booted degraded: ${failed.stdout.trim()}`);
      }
      return sd;
    } catch (err) {
      const con = sd?.console().trim();
      if (sd) await sd.destroy();
      else {
        removeCgroupTree(cgroup);
        await lab.destroy();
      }
      if (con && err instanceof Error) err.message += `\n--- systemd console ---\n${con.split('\n').slice(-40).join('\n')}`;
      throw err;
    }
  }

  /** Run a command inside the booted system (all its namespaces and root); rejects on a non-zero exit. */
  exec(cmd: string, args: string[], timeoutMs?: number): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.pid), '-a', cmd, ...args], { timeoutMs });
  }

  /** As exec(), resolving whatever the exit status: with it in `status`. */
  execStatus(cmd: string, args: string[], timeoutMs = 30_000): Promise<RunResult & { status: number }> {
    return new Promise((resolve) => {
      const c = spawn('nsenter', ['-t', String(this.pid), '-a', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      c.on('close', (code, sig) => {
        clearTimeout(t);
        resolve({ stdout, stderr, status: code ?? (sig ? 128 : 1) });
      });
    });
  }

  systemctl(...args: string[]): Promise<RunResult> {
    return this.exec('systemctl', args);
  }

  journalctl(...args: string[]): Promise<RunResult> {
    return this.exec('journalctl', ['--no-pager', ...args]);
  }

  /** Properties of a unit (systemctl show -p), by name. */
  async show(unit: string, props: string[]): Promise<Record<string, string>> {
    const r = await this.systemctl('show', unit, ...props.map((p) => `--property=${p}`));
    const out: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  }

  /** Write a file inside the booted system (e.g. a unit under /run/systemd/system; then daemon-reload). */
  async writeFile(file: string, content: string): Promise<void> {
    await this.exec('sh', ['-c', 'mkdir -p "$(dirname "$0")" && printf %s "$1" > "$0"', file, content]);
  }

  /**
   * Kill the pid namespace's init (the kernel kills everything else in it),
   * wait for it, remove the cgroup child and the lab. Safe to call twice.
   */
  async destroy(): Promise<void> {
    const s = this.starter;
    if (s.exitCode === null && s.signalCode === null) {
      const exited = new Promise<void>((resolve) => s.once('exit', () => resolve()));
      if (this.pid) killQuietly(this.pid);
      else killQuietly(s.pid ?? 0);
      // unshare --kill-child: the starter goes once its child did; SIGKILL it after a deadline.
      const t = setTimeout(() => killQuietly(s.pid ?? 0), 5_000);
      await exited;
      clearTimeout(t);
    }
    await waitFor(`${this.cgroup} to empty`, () => !cgroupPopulated(this.cgroup), 10_000).catch(() => undefined);
    removeCgroupTree(this.cgroup);
    await this.lab.destroy();
  }
}

function killQuietly(pid: number): void {
  if (pid <= 1) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** The first child of pid (/proc/<pid>/task/<pid>/children), or undefined. */
function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

function cgroupPopulated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(path.join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** rmdir a cgroup and the ones systemd made under it, deepest first; quiet when gone. */
export function removeCgroupTree(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) removeCgroupTree(path.join(dir, e));
  try {
    rmdirSync(dir);
  } catch {
    /* busy or gone: destroy() waited for it to empty */
  }
}

/** Remove lab cgroup children whose owner (the pid in the name) is dead, killing what is left in them. */
async function sweepStaleCgroups(): Promise<void> {
  const root = cgroup2Root();
  for (const name of readdirSync(root)) {
    const m = new RegExp(`^${LAB_NS_PREFIX}(\\d+)\\S*-systemd$`).exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue;
    } catch {
      /* dead owner */
    }
    const dir = path.join(root, name);
    // cgroup.kill (Linux 5.14) kills every process in the subtree.
    await tryRun('sh', ['-c', 'echo 1 > "$0/cgroup.kill"', dir]);
    await waitFor(`${dir} to empty`, () => !cgroupPopulated(dir), 5_000).catch(() => undefined);
    removeCgroupTree(dir);
  }
}
