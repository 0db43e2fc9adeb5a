// The relay's limits have one source, the C headers: src/limits.ts reads them from the addon; the TS defaults must lie within them.
import { expect, test } from 'vitest';
import { parseLinkLocal, LINK_LOCAL_DEFAULT } from '../../src/mac/linklocal';
import { RELAY_LIMITS } from '../../src/native/limits';
import { loadNative } from '../../src/native/native';
import { RELAY_DEFAULTS, VNIC_DEFAULTS } from '../../src/native/options';

test("src/limits.ts gives the addon's native/relay.h limits, and nothing else", () => {
  expect({ ...RELAY_LIMITS }).toEqual(loadNative().limits);
  expect(Object.keys(loadNative().limits).sort()).toEqual(['queuesMax', 'rxCoalesceMaxUs', 'txBatchMax', 'vnicsMax']);
});

test('the TS defaults are values the relay takes', () => {
  const lim = loadNative().limits;
  expect(RELAY_DEFAULTS.txBatch).toBeGreaterThanOrEqual(1);
  expect(RELAY_DEFAULTS.txBatch).toBeLessThanOrEqual(lim.txBatchMax);
  expect(RELAY_DEFAULTS.rxCoalesceUs).toBeLessThanOrEqual(lim.rxCoalesceMaxUs);
  expect(RELAY_DEFAULTS.queues).toBeLessThanOrEqual(lim.queuesMax);
  expect(VNIC_DEFAULTS.linkLocalPass).toBe(parseLinkLocal(LINK_LOCAL_DEFAULT));
});
