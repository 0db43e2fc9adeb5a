import pino from 'pino';
import { prettyFactory } from 'pino-pretty';
import { expect, test } from 'vitest';
import { runDaemon, type DaemonDeps } from '../../src/daemon/daemon';
import { prettyOptions } from '../../src/obs/log';
import { waitFor } from '../../tools/lab/exec';
import { FakeNative, FakeSignals, nativeError } from '../fakes';

/** runDaemon with one vNIC on a fake addon, its log lines kept; resolves once it attached. */
async function start(deps: Partial<DaemonDeps> = {}) {
  const fake = new FakeNative();
  const signals = new FakeSignals();
  const logs: string[] = [];
  const lines: string[] = [];
  const run = runDaemon(
    { vnics: [{ tap: 'veth1' }], parent: 'eth0', membership: 'promisc', probeWindowMs: 0 },
    { log: pino({ level: 'info' }, { write: (s: string) => logs.push(s) }), out: (l) => lines.push(l), native: fake.module(), signals, parentUp: () => true, ...deps },
  );
  await waitFor('attach', () => lines.length > 0);
  const stop = async () => {
    signals.emit('SIGTERM');
    return (await run).code;
  };
  return { fake, signals, logs, stop };
}

test('SIGHUP whose log files cannot be reopened (directory gone, EMFILE) logs one error and the daemon runs on', async () => {
  const { signals, logs, stop } = await start({
    reopenLog: () => {
      throw Object.assign(new Error("ENOENT: no such file or directory, open '/var/log/gone/vethd.log'"), { code: 'ENOENT' });
    },
  });
  signals.emit('SIGHUP');
  expect(logs.filter((l) => l.includes('SIGHUP: cannot reopen the log files'))).toHaveLength(1);
  expect(await stop()).toBe(0);
});

test('the health tick folds in the socket overruns and reads the conflict counts from status(), never the whole stats()', async () => {
  const { fake, stop } = await start({ healthIntervalMs: 5 });
  const reads = fake.statsReads;
  const ticks = fake.overrunCollections;
  await waitFor('five health ticks', () => fake.overrunCollections >= ticks + 5);
  expect(fake.statsReads).toBe(reads);
  expect(await stop()).toBe(0);
});

test('a link monitor that cannot read warns once per spell of errors, however many resyncs it brings', async () => {
  const { fake, logs, stop } = await start();
  const error = nativeError('rtnetlink', 'cannot read link events', 'EIO', 5, 'Input/output error');
  const warnings = () => logs.filter((l) => l.includes('"msg":"link monitor: ')).length;
  fake.linkEvents({ type: 'resync', error }, { type: 'resync', error });
  fake.linkEvents({ type: 'resync', error });
  expect(warnings()).toBe(1);
  fake.linkEvents({ type: 'new', ifindex: 9, flags: 0x41, name: 'eth9' });
  fake.linkEvents({ type: 'resync', error });
  expect(warnings()).toBe(2);
  expect(await stop()).toBe(0);
});

test('the shutdown record gives the non-zero counters only: a few lines in pretty mode, not a hundred zeros', async () => {
  const { fake, logs, stop } = await start();
  fake.stats.receive.frames = 7;
  fake.stats.receive.bytes = 700;
  fake.stats.transmit.drops.spoofed_source = 2;
  expect(await stop()).toBe(0);
  const line = logs.find((l) => l.includes('"msg":"stopped on SIGTERM"')) ?? '{}';
  const record = JSON.parse(line);
  expect(record.counters).toEqual({ vnics: [{ device: 'veth1', receive: { frames: 7, bytes: 700 }, transmit: { drops: { spoofed_source: 2 } } }] });
  expect(record.stats).toBeUndefined();
  // As --log-format pretty shows it: was ~110 lines of zeros.
  const text = prettyFactory(prettyOptions(false))(line);
  expect(text).toMatch(/\n {4}counters:\n {6}veth1: received 7 frames, 700 bytes; sent no frames, dropped spoofed_source 2\n$/);
  expect(text.split('\n').length).toBeLessThan(8);
});
