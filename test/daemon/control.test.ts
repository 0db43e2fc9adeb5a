// The control socket as a client sees it: replies, refusals, bad input, many clients, who may connect.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { controlRequest } from '../../src/cli/client';
import { waitFor } from '../../tools/lab/exec';
import { CONTROL_LIMITS, serveControl, type ControlLimits, type ControlHandlers, type ControlServer } from '../../src/daemon/control';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const servers: ControlServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const me = () => ({ uid: process.getuid?.() ?? 0, pid: process.pid });
const LIMITS = { ...CONTROL_LIMITS, headersMs: 300, requestMs: 600 };

/** A server on a fresh path with handlers that count their calls. */
async function start(opts: { uid?: number; handlers?: Partial<ControlHandlers>; limits?: ControlLimits } = {}) {
  const file = path.join(dir, `s${n++}`, 'control.sock');
  const calls = { status: 0, add: [] as unknown[], remove: [] as string[] };
  const handlers: ControlHandlers = {
    status: () => (calls.status++, { api: 1, ok: true }),
    add: async (t) => (calls.add.push(t), { added: t }),
    remove: async (name) => (calls.remove.push(name), { removed: name }),
    ...opts.handlers,
  };
  const s = await serveControl(file, handlers, () => ({ ...me(), uid: opts.uid ?? me().uid }), (uid) => uid === me().uid, undefined, opts.limits ?? LIMITS);
  servers.push(s);
  return { file, calls, server: s };
}

/** Raw bytes to the socket; resolves with everything the server sent before it closed. */
function raw(file: string, data: string | Buffer | undefined, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(file);
    let got = '';
    const t = setTimeout(() => (c.destroy(), reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(got)}`))), timeoutMs);
    c.on('data', (d) => (got += d.toString()));
    c.on('error', () => undefined);
    c.on('close', () => (clearTimeout(t), resolve(got)));
    if (data !== undefined) c.write(data);
  });
}

describe('serveControl: replies', () => {
  test('GET /v1/status: 200 and the handler\'s JSON; the socket is 0600 in a 0700 directory it made', async () => {
    const { file } = await start();
    expect(await controlRequest(file, 'GET', 'status')).toEqual({ status: 200, body: { api: 1, ok: true } });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  test('POST /v1/vnics gives the handler the parsed table; DELETE /v1/vnics/<name> the name', async () => {
    const { file, calls } = await start();
    expect(await controlRequest(file, 'POST', 'vnics', { veth: 'veth2', vlan: 100 })).toEqual({ status: 201, body: { added: { veth: 'veth2', vlan: 100 } } });
    expect(await controlRequest(file, 'DELETE', 'vnics/veth2')).toEqual({ status: 200, body: { removed: 'veth2' } });
    expect(calls.remove).toEqual(['veth2']);
  });

  test("a handler's coded error: its status and {error: {code, message}}", async () => {
    const refuse = async () => {
      throw Object.assign(new Error('veth2: cannot create TAP: File exists (EEXIST)'), { code: 'EEXIST' });
    };
    const { file } = await start({ handlers: { add: refuse } });
    expect(await controlRequest(file, 'POST', 'vnics', { veth: 'veth2' })).toEqual({ status: 409, body: { error: { code: 'EEXIST', message: 'veth2: cannot create TAP: File exists (EEXIST)' } } });
  });

  test('close() removes the socket and the directories it made (as /run/vethd/<instance>), none it found', async () => {
    const top = path.join(dir, 'run-vethd');
    const file = path.join(top, 'eth0', 'control.sock');
    const server = await serveControl(file, { status: () => ({}) }, me, () => true);
    expect(statSync(top).mode & 0o777).toBe(0o700);
    await server.close();
    expect(existsSync(file)).toBe(false);
    expect(existsSync(top)).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });
});

describe('serveControl: bad input is that client\'s alone', () => {
  test('unknown path 404, another API version 404, wrong method 400', async () => {
    const { file } = await start();
    expect((await controlRequest(file, 'GET', 'nothing')).status).toBe(404);
    const v2 = await new Promise<number>((resolve) => http.get({ socketPath: file, path: '/v2/status' }, (res) => (res.resume(), resolve(res.statusCode ?? 0))));
    expect(v2).toBe(404);
    expect(await controlRequest(file, 'POST', 'status', {})).toMatchObject({ status: 400, body: { error: { code: 'vethd.control-bad-request', message: 'POST /v1/status: use GET' } } });
  });

  test('malformed JSON: 400 naming it; the handler never called', async () => {
    const { file, calls } = await start();
    const body = '{"veth": "veth2",';
    const reply = await raw(file, `POST /v1/vnics HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('"code":"vethd.control-bad-request"');
    expect(reply).toContain('request body is not JSON');
    expect(calls.add).toEqual([]);
  });

  test('a 10 MB body: 413 without reading it all; the next client is answered', async () => {
    const { file, calls } = await start();
    const big = Buffer.alloc(10 << 20, 0x20);
    const reply = await raw(file, Buffer.concat([Buffer.from(`POST /v1/vnics HTTP/1.1\r\nhost: x\r\ncontent-length: ${big.length}\r\n\r\n`), big]));
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(reply).toContain('"code":"vethd.control-too-large"');
    expect(calls.add).toEqual([]);
    expect((await controlRequest(file, 'GET', 'status')).status).toBe(200);
  });

  test('a client that connects and sends nothing is answered and closed after the header timeout', async () => {
    const { file } = await start();
    const t0 = Date.now();
    const reply = await raw(file, undefined);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(LIMITS.headersMs - 50);
    expect(reply).toMatch(/^HTTP\/1\.1 (400|408) /);
    expect((await controlRequest(file, 'GET', 'status')).status).toBe(200);
  });

  test('not HTTP: 400', async () => {
    const { file } = await start();
    expect(await raw(file, 'hello\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
  });

  test('100 clients at once: each gets a JSON reply, 200 or 503 busy; the daemon answers afterwards', async () => {
    const { file } = await start({ limits: { ...LIMITS, connections: 32 } });
    // Hold 40 connections open (no request yet), then ask 60 more for status.
    const held = await Promise.all(Array.from({ length: 40 }, () => new Promise<net.Socket>((resolve) => {
      const c = net.connect(file, () => resolve(c));
      c.on('error', () => undefined);
    })));
    const replies = await Promise.all(Array.from({ length: 60 }, () => controlRequest(file, 'GET', 'status').catch((e: Error) => ({ status: -1, body: e.message }))));
    held.forEach((c) => c.destroy());
    await waitFor('the held clients to be gone', async () => (await controlRequest(file, 'GET', 'status')).status === 200, 5_000);
    const busy = replies.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0].body).toEqual({ error: { code: 'vethd.control-busy', message: 'more than 32 clients at once: try again' } });
    expect(replies.every((r) => r.status === 200 || r.status === 503)).toBe(true);
  });
});

describe('serveControl: who may connect', () => {
  test('a peer whose uid is not allowed (SO_PEERCRED): 403 naming its uid; its request is never read', async () => {
    const { file, calls } = await start({ uid: 4242 });
    const reply = await controlRequest(file, 'GET', 'status');
    expect(reply).toEqual({ status: 403, body: { error: { code: 'vethd.control-forbidden', message: "uid 4242 may not use this control socket: root and vethd's own user only" } } });
    expect(calls.status).toBe(0);
  });

  test('a stale socket file (no daemon behind it) is replaced; a live one is refused with one line', async () => {
    const { file } = await start();
    const other = serveControl(file, { status: () => ({}) }, me, () => true);
    await expect(other).rejects.toThrow(`${file}: another vethd answers on this control socket (give this one another --control-socket, or off)`);
    // A socket file nobody listens on: what a SIGKILLed daemon leaves.
    const staleFile = path.join(dir, 'stale.sock');
    execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', staleFile]);
    expect(statSync(staleFile).isSocket()).toBe(true);
    const s = await serveControl(staleFile, { status: () => ({ fresh: true }) }, me, () => true);
    servers.push(s);
    expect((await controlRequest(staleFile, 'GET', 'status')).body).toEqual({ fresh: true });
  });

  test('a file that is not a socket is left alone, with one line', async () => {
    const file = path.join(dir, 'plain');
    writeFileSync(file, 'x');
    await expect(serveControl(file, { status: () => ({}) }, me, () => true)).rejects.toThrow(`${file}: cannot make the control socket: a file that is not a socket is there`);
    expect(existsSync(file)).toBe(true);
  });
});
