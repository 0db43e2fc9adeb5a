import { CommanderError } from 'commander';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { buildProgram } from '../src/cli';
import { waitFor } from '../src/lab/exec';
import { FakeNative, FakeSignals, nativeError } from './fakes';

function setup() {
  const fake = new FakeNative();
  const signals = new FakeSignals();
  const lines: string[] = [];
  const errors: string[] = [];
  const program = buildProgram({ native: fake.module(), out: (l) => lines.push(l), logger: () => pino({ level: 'silent' }), signals });
  program.exitOverride().configureOutput({ writeErr: (s) => errors.push(s), writeOut: (s) => lines.push(s) });
  const parse = (...args: string[]) => program.parseAsync(['node', 'vethd', ...args]);
  return { fake, signals, lines, errors, parse };
}

/** Run parse() to its end and return the CommanderError it threw (or undefined). */
async function outcome(p: Promise<unknown>): Promise<CommanderError | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err;
    throw err;
  }
}

describe('vethd [-v veth] [-e eth] [-m mac]', () => {
  test('defaults: veth0 on eth0, the kernel\'s MAC, promiscuous membership; SIGTERM stops it cleanly', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse();
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened).toEqual([{ tap: 'veth0', parent: 'eth0', mac: undefined, membership: 'promisc', vnetHdr: true }]);
    expect(fake.started).toBe(1);
    expect(lines).toEqual(['Attached veth0 into eth0 (5e:1a:00:00:00:01)']);
    signals.emit('SIGTERM');
    expect(await outcome(run)).toBeUndefined();
    expect(fake.closed).toBe(1);
  });

  test('the original interface: -v -e -m, any MAC notation', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('-v', 'veth1', '-e', 'eth1', '-m', '0200.c000.0203');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0].mac).toEqual(Buffer.from('0200c0000203', 'hex'));
    expect(lines).toEqual(['Attached veth1 into eth1 (02:00:c0:00:02:03)']);
    signals.emit('SIGINT');
    expect(await outcome(run)).toBeUndefined();
  });

  test('--membership unicast and --no-vnet-hdr are passed to the relay', async () => {
    const { fake, signals, lines, parse } = setup();
    const run = parse('--membership', 'unicast', '--no-vnet-hdr');
    await waitFor('attach', () => lines.length > 0);
    expect(fake.opened[0].membership).toBe('unicast');
    expect(fake.opened[0].vnetHdr).toBe(false);
    signals.emit('SIGTERM');
    await run;
  });

  test('a set-up error: one line with a hint, exit 3, nothing opened', async () => {
    const { fake, errors, parse } = setup();
    fake.openError = nativeError('eth9', 'cannot bind packet socket', 'ENODEV', 19, 'No such device');
    const err = await outcome(parse('-e', 'eth9'));
    expect(err?.exitCode).toBe(3);
    expect(err?.code).toBe('vethd.ENODEV');
    expect(errors.join('')).toBe('vethd: eth9: cannot bind packet socket: No such device (ENODEV); no such interface (see `ip link`)\n');
  });

  test('a relay thread that dies ends the daemon with exit 1 and the relay closed', async () => {
    const { fake, lines, errors, parse } = setup();
    const run = parse('-v', 'veth1');
    await waitFor('attach', () => lines.length > 0);
    fake.status = { open: true, rxError: null, txError: nativeError('veth1', 'relay stopped reading the TAP', 'EBADFD', 77, 'File descriptor in bad state') };
    const err = await outcome(run);
    expect(err?.exitCode).toBe(1);
    expect(errors.join('')).toContain('vethd: veth1: relay stopped reading the TAP: File descriptor in bad state (EBADFD); the TAP was deleted from outside');
    expect(fake.closed).toBe(1);
  });

  test.each([
    [['-m', 'nonsense'], 'vethd: invalid MAC "nonsense"'],
    [['-v', 'a/b'], 'vethd: invalid interface name "a/b": contains "/"'],
    [['-v', 'eth0'], 'vethd: -v and -e name the same interface "eth0"'],
  ])('bad input %j: exit 2, one line, relay never opened', async (args, msg) => {
    const { fake, errors, parse } = setup();
    const err = await outcome(parse(...args));
    expect(err?.exitCode).toBe(2);
    expect(errors.join('')).toContain(msg);
    expect(errors.join('').trim().split('\n')).toHaveLength(1);
    expect(fake.opened).toHaveLength(0);
  });

  test('--version prints the package version', async () => {
    const { lines, parse } = setup();
    const err = await outcome(parse('--version'));
    expect(err?.code).toBe('commander.version');
    expect(lines.join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
