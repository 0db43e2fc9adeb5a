/**
 * The command line, compatible with the original vethd:
 *   vethd [-v veth-device] [-e eth-device] [-m mac-address]
 * plus `vethd demo`. One error path: program.error(message, {exitCode, code}).
 */
import { Command, Option } from 'commander';
import { runDaemon } from './daemon';
import { runDemo } from './demo';
import { describeError, errorCode, EXIT_RUNTIME, EXIT_SETUP, EXIT_USAGE } from './errors';
import { checkIfname } from './ifname';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './log';
import { parseStationMac } from './mac';
import type { Membership, NativeModule } from './native';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../package.json').version;

export interface CliDeps {
  native?: NativeModule;
  /** stdout line writer. */
  out?: (line: string) => void;
  /** Build the logger (tests pass a silent one). */
  logger?: (level: LogLevel) => Logger;
  signals?: Parameters<typeof runDaemon>[1]['signals'];
}

interface RootOptions {
  veth: string;
  eth: string;
  mac?: string;
  membership: Membership;
  vnetHdr: boolean;
  logLevel: LogLevel;
}

function demoCommand(program: Command, out: (line: string) => void): Command {
  return new Command('demo')
    .description('build a namespace lab, run vethd in it, get veth1 its own DHCP lease, clean up (needs root)')
    .action(async () => {
      try {
        await runDemo(out);
      } catch (err) {
        program.error(`vethd demo: ${describeError(err)}`, { exitCode: EXIT_RUNTIME, code: errorCode(err) });
      }
    });
}

/** The commander program; parse with `await program.parseAsync(argv)`. */
export function buildProgram(deps: CliDeps = {}): Command {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const program: Command = new Command('vethd');
  program
    .description('Give a host a second Ethernet identity: a TAP device with its own MAC, relayed onto a parent NIC')
    .version(VERSION, '--version', 'print the version')
    .option('-v, --veth <device>', 'virtual NIC (TAP) to create', 'veth0')
    .option('-e, --eth <device>', 'parent NIC to relay onto', 'eth0')
    .option('-m, --mac <address>', 'MAC of the virtual NIC, e.g. 02:00:c0:00:02:03 (default: one the kernel picks)')
    .addOption(
      new Option('--membership <mode>', 'how the parent delivers the vNIC\'s frames: promiscuous membership, unicast filter entry, or none')
        .choices(['promisc', 'unicast', 'none'])
        .default('promisc')
        .env('VETHD_MEMBERSHIP'),
    )
    .option('--no-vnet-hdr', 'relay plain frames, completing partial checksums in software, instead of passing virtio_net_hdr through (slower; for kernels or set-ups without it)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info').env('VETHD_LOG_LEVEL'))
    .action(async (opts: RootOptions) => {
      let mac: Buffer | undefined;
      try {
        checkIfname(opts.veth);
        checkIfname(opts.eth);
        if (opts.veth === opts.eth) throw Object.assign(new Error(`-v and -e name the same interface "${opts.veth}"`), { code: 'same-interface' });
        mac = opts.mac === undefined ? undefined : parseStationMac(opts.mac);
      } catch (err) {
        program.error(`vethd: ${describeError(err)}`, { exitCode: EXIT_USAGE, code: errorCode(err) });
      }
      const log = (deps.logger ?? createLogger)(opts.logLevel);
      let exit;
      try {
        exit = await runDaemon(
          { tap: opts.veth, parent: opts.eth, mac, membership: opts.membership, vnetHdr: opts.vnetHdr },
          { log, out, native: deps.native, signals: deps.signals },
        );
      } catch (err) {
        program.error(`vethd: ${describeError(err)}`, { exitCode: EXIT_SETUP, code: errorCode(err) });
      }
      if (exit.code !== 0) {
        program.error(`vethd: ${describeError(exit.error ?? exit.reason)}`, { exitCode: EXIT_RUNTIME, code: errorCode(exit.error) });
      }
    });
  program.addCommand(demoCommand(program, out));
  return program;
}

/** Entry point for bin/vethd. */
export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
