/**
 * A vitest reporter (vitest.config.mts) that makes quiet skips loud: after the run's summary,
 * one line for the lab suites that did not run (they need root: test/lab/tools.ts skipLab), and
 * one line per reason given to ctx.skip(condition, note). Under CI ($CI set; .ci/run runs as
 * root) a skipped lab suite fails the run, whatever skipped it: tools.ts already fails a non-root
 * CI run, and this catches a suite skipped some other way. A run filtered by test name (-t) skips
 * suites by the user's choice and is not counted.
 */
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';

/**
 * Whether this run skips the lab suites (test/lab/tools.ts: `describe.skipIf(skipLab)`): they make network
 * namespaces, which needs root. A developer's run as another user skips them, and the run's
 * summary says so (the reporter below). CI ($CI set; .ci/run runs as root) must run them: there
 * this throws, and since tools.ts calls it on import, every lab file fails with the reason instead
 * of skipping. env, uid: for tests.
 */
export function labSkipped(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): boolean {
  if (uid === 0) return false;
  if (env.CI) throw new Error(`the lab suites need root (they create network namespaces) and this run is uid ${uid}; CI ($CI=${JSON.stringify(env.CI)}) must run them: run .ci/run as root`);
  return true;
}

/** What a run skipped, for the summary lines. */
export interface Skips {
  /** Lab suites (top-level suites of test/lab/ files) that were skipped, and the files they are in. */
  labSuites: number;
  labFiles: number;
  /** Skipped tests by the note given to ctx.skip. */
  byNote: Map<string, number>;
}

/** Count the skips of a finished run. */
export function countSkips(modules: ReadonlyArray<TestModule>): Skips {
  const skips: Skips = { labSuites: 0, labFiles: 0, byNote: new Map() };
  for (const m of modules) {
    if (m.moduleId.includes('/test/lab/')) {
      const n = [...m.children.suites()].filter((s) => s.state() === 'skipped').length;
      skips.labSuites += n;
      if (n) skips.labFiles++;
    }
    for (const t of m.children.allTests() as Iterable<TestCase>) {
      const r = t.result();
      if (r.state === 'skipped' && r.note) skips.byNote.set(r.note, (skips.byNote.get(r.note) ?? 0) + 1);
    }
  }
  return skips;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The summary lines for skips, as the reporter prints them; uid: the run's. */
export function skipLines(skips: Skips, uid: number | undefined, ci: boolean): string[] {
  const lines: string[] = [];
  if (skips.labSuites) {
    const why = uid === 0 ? 'as root, by a skip in the file' : `not root (uid ${uid}): the lab makes network namespaces${ci ? '' : '; run as root to run them (CI does)'}`;
    lines.push(`${count(skips.labSuites, 'lab suite')} in ${count(skips.labFiles, 'file')} SKIPPED: ${why}${ci ? '; CI must run every lab suite: this run FAILS' : ''}`);
  }
  for (const [note, n] of skips.byNote) lines.push(`${count(n, 'test')} SKIPPED: ${note}`);
  return lines;
}

export default class SkipReport implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (this.vitest?.config.testNamePattern) return;
    const skips = countSkips(modules);
    const ci = Boolean(process.env.CI);
    const lines = skipLines(skips, process.getuid?.(), ci);
    const log = (line: string) => (this.vitest ? this.vitest.logger.log(line) : console.log(line));
    if (lines.length) log('');
    lines.forEach((l) => log(` ⚠ ${l}`));
    if (ci && skips.labSuites) process.exitCode = 1;
  }
}
