/**
 * The relay's limits and defaults that the CLI and the config file check
 * before the addon is loaded: the same figures as native/relay.h, which the
 * addon exports as `limits` (test/limits.native.test.ts keeps the two equal).
 */
import type { RelayLimits } from './native';

export const RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  txBatchMax: 32,
  rxCoalesceMaxUs: 1000,
  rxCoalesceDefaultUs: 200,
  queuesMax: 16,
  vnicsMax: 64,
});
