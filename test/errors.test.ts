import { expect, test } from 'vitest';
import { MacConflictError } from '../src/daemon/collision';
import { codedError, ERROR_CODES, errnoOr, errorCode } from '../src/errors';
import { IfnameError } from '../src/host/ifname';
import { MacError } from '../src/mac/mac';

test('every code of vethd is vethd.<kebab-case>, with what it means', () => {
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    expect(code).toMatch(/^vethd\.[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(meaning.length).toBeGreaterThan(10);
  }
});

test('the error classes carry their code from ERROR_CODES', () => {
  for (const err of [new MacError('x', 'bad'), new IfnameError('x', 'bad'), new MacConflictError('x')]) {
    expect(Object.keys(ERROR_CODES)).toContain(err.code);
  }
  expect(new MacError('x', 'bad').code).toBe('vethd.invalid-mac');
});

test('errorCode: own codes as they are, errno names namespaced, vethd.error without a code', () => {
  expect(errorCode(new MacError('x', 'bad'))).toBe('vethd.invalid-mac');
  expect(errorCode(codedError('vethd.config', 'x'))).toBe('vethd.config');
  expect(errorCode(Object.assign(new Error('x'), { code: 'ENODEV' }))).toBe('vethd.ENODEV');
  expect(errorCode(new Error('x'))).toBe('vethd.error');
  expect(errorCode('a string')).toBe('vethd.error');
});

test("errnoOr: an errno name as it is; Node's ERR_* codes and no code give the fallback", () => {
  expect(errnoOr(Object.assign(new Error('x'), { code: 'EADDRINUSE' }), 'vethd.listen')).toBe('EADDRINUSE');
  expect(errnoOr(Object.assign(new Error('x'), { code: 'ERR_SOCKET_BAD_PORT' }), 'vethd.listen')).toBe('vethd.listen');
  expect(errnoOr(new Error('x'), 'vethd.log-file')).toBe('vethd.log-file');
  expect(errnoOr(undefined, 'vethd.log-file')).toBe('vethd.log-file');
});
