import { describe, expect, test } from 'vitest';
import { LINK_LOCAL_DEFAULT, parseLinkLocal } from '../../src/mac/linklocal';

describe('--link-local groups', () => {
  test('names, numbers and addresses give the pass mask; none and all', () => {
    expect(parseLinkLocal(LINK_LOCAL_DEFAULT)).toBe((1 << 0x3) | (1 << 0xe));
    expect(parseLinkLocal('stp, 0x0d,01:80:c2:00:00:01')).toBe((1 << 0) | (1 << 0xd) | (1 << 1));
    expect(parseLinkLocal('none')).toBe(0);
    expect(parseLinkLocal('ALL')).toBe(0xffff);
  });
  test.each(['', 'bogus', '0x10', '01:80:c2:00:00:10', 'none,stp', 'constructor', '__proto__', 'toString'])('"%s" is refused with the list of what is taken', (text) => {
    expect(() => parseLinkLocal(text)).toThrow(/is not a link-local group: use stp, pause, slow, eapol, lldp/);
  });
});
