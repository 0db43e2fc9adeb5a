// The CLI and config checks use src/limits.ts before the addon is loaded; the addon's own limits must be the same figures.
import { expect, test } from 'vitest';
import { RELAY_LIMITS } from '../../src/native/limits';
import { loadNative } from '../../src/native/native';

test("src/limits.ts matches the addon's native/relay.h limits and defaults", () => {
  expect(loadNative().limits).toEqual(RELAY_LIMITS);
});
