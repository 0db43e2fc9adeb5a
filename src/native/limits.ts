/**
 * The relay's limits, read from the addon (its `limits`, native/relay.h) the
 * first time one is asked for: the C headers are their one source. The CLI
 * and the config file check against them; the defaults are RELAY_DEFAULTS
 * (options.ts).
 */
import { loadNative, type RelayLimits } from './native';

export const RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  get txBatchMax() {
    return loadNative().limits.txBatchMax;
  },
  get rxCoalesceMaxUs() {
    return loadNative().limits.rxCoalesceMaxUs;
  },
  get queuesMax() {
    return loadNative().limits.queuesMax;
  },
  get vnicsMax() {
    return loadNative().limits.vnicsMax;
  },
});
