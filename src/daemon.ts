/**
 * The daemon's lifecycle: build the relay, start it, say so, watch its threads,
 * stop cleanly on SIGINT/SIGTERM. Everything it touches is passed in, so tests
 * drive it with a fake native module and a fake signal source.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from './log';
import { loadNative, type Membership, type NativeModule, type Relay, type RelayStats } from './native';

export interface DaemonOptions {
  /** vNIC (TAP) name. */
  tap: string;
  /** Parent NIC name. */
  parent: string;
  /** The vNIC's MAC, 6 bytes; undefined keeps the kernel's choice. */
  mac?: Buffer;
  membership: Membership;
  /** Pass virtio_net_hdr through (default true); false relays plain frames with checksums completed in C. */
  vnetHdr?: boolean;
}

export interface DaemonDeps {
  log: Logger;
  /** Where the one status line goes (stdout). */
  out: (line: string) => void;
  native?: NativeModule;
  /** Emits 'SIGINT' / 'SIGTERM' (stop) and 'SIGUSR1' (log the counters); default: process. */
  signals?: Pick<EventEmitter, 'on' | 'off'>;
  /** How often the relay threads' health is checked, ms (default 250). */
  healthIntervalMs?: number;
}

/** How the daemon ended: 0 on a signal, 1 when a relay thread failed. */
export interface DaemonExit {
  code: number;
  reason: string;
  stats: RelayStats;
  error?: Error;
}

/**
 * Open the relay (throws the native set-up error, leaving nothing behind),
 * start it, print `Attached <tap> into <parent> (<mac>)`, and resolve when it
 * ends. The relay is closed (TAP deleted, membership dropped) before resolving.
 */
export async function runDaemon(opts: DaemonOptions, deps: DaemonDeps): Promise<DaemonExit> {
  const native = deps.native ?? loadNative();
  const signals = deps.signals ?? process;
  const relay: Relay = new native.Relay({
    tap: opts.tap,
    parent: opts.parent,
    mac: opts.mac,
    membership: opts.membership,
    vnetHdr: opts.vnetHdr ?? true,
  });
  try {
    relay.start();
  } catch (err) {
    relay.close();
    throw err;
  }
  const info = relay.info();
  const log = deps.log.child({ device: info.tap, parent: info.parent });
  deps.out(`Attached ${info.tap} into ${info.parent} (${info.mac})`);
  log.info(
    { mac: info.mac, mtu: info.mtu, vnetHdr: info.vnetHdr, membership: info.membership, ifindex: info.tapIfindex },
    `relay running (${info.vnetHdr ? 'virtio_net_hdr passthrough' : 'plain frames, checksums completed in software'}, ${info.membership} membership)`,
  );

  const exit = await new Promise<Omit<DaemonExit, 'stats'>>((resolve) => {
    const onSignal = (name: string) => () => finish({ code: 0, reason: name });
    const handlers = {
      SIGINT: onSignal('SIGINT'),
      SIGTERM: onSignal('SIGTERM'),
      SIGUSR1: () => log.info({ stats: relay.stats() }, 'counters'),
    };
    const timer = setInterval(() => {
      const st = relay.status();
      const error = st.rxError ?? st.txError;
      if (error) finish({ code: 1, reason: 'relay thread failed', error });
    }, deps.healthIntervalMs ?? 250);
    function finish(result: Omit<DaemonExit, 'stats'>): void {
      clearInterval(timer);
      for (const [name, fn] of Object.entries(handlers)) signals.off(name, fn);
      resolve(result);
    }
    for (const [name, fn] of Object.entries(handlers)) signals.on(name, fn);
  });
  const stats = relay.stats();
  relay.close();
  if (exit.error) log.error({ err: exit.error, stats }, 'relay stopped');
  else log.info({ stats }, `stopped on ${exit.reason}`);
  return { ...exit, stats };
}
