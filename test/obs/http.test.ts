// The metrics endpoint bounds its clients (issue #25: 19,995 idle connections took vethd to its descriptor limit).
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Registry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import { ENDPOINT_LIMITS, serveMetrics, type MetricsServer } from '../../src/obs/http';
import { waitFor } from '../../tools/lab/exec';

const registry = { metrics: async () => 'vethd_test 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' } as unknown as Registry;
const LIMITS = { maxConnections: 4, idleTimeoutMs: 1000, headersTimeoutMs: 500, requestTimeoutMs: 1000 };

/** A client connection and what the server did to it. */
interface Client {
  socket: net.Socket;
  received: string;
  closed: boolean;
}

function connect(port: number): Client {
  const c: Client = { socket: net.connect(port, '127.0.0.1'), received: '', closed: false };
  c.socket.on('data', (d) => (c.received += d.toString()));
  c.socket.on('close', () => (c.closed = true));
  c.socket.on('error', () => undefined); // a reset is a close too
  return c;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('serveMetrics: bounded clients', () => {
  let server: MetricsServer | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.socket.destroy());
    await server?.close();
  });

  test('production defaults: 64 connections, idle ones dropped after 5 s, headers within 5 s, a request within 10 s', () => {
    expect(ENDPOINT_LIMITS).toEqual({ maxConnections: 64, idleTimeoutMs: 5000, headersTimeoutMs: 5000, requestTimeoutMs: 10_000 });
  });

  test('past maxConnections a new connection is closed by the server; the idle ones time out and /metrics answers again', async () => {
    server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 }, () => true, LIMITS);
    const { port } = server.address;
    const fds = openFds();
    // maxConnections keep-alive clients, each answered once (so the server holds them all).
    for (let i = 0; i < LIMITS.maxConnections; i++) {
      const c = connect(port);
      clients.push(c);
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: vethd\r\n\r\n');
      await waitFor(`answer ${i + 1}`, () => c.received.includes('ok\n'), 2000);
    }
    const held = [...clients];
    // Three more, silent: the server closes them at once, sending nothing, while it holds the others.
    const extra = [0, 1, 2].map(() => connect(port));
    clients.push(...extra);
    await waitFor('the connections over the cap to be closed by the server', () => extra.every((c) => c.closed), 2000);
    expect(extra.map((c) => c.received)).toEqual(['', '', '']);
    expect(held.some((c) => c.closed)).toBe(false);
    // This process holds each held connection twice (client and server end), and nothing for those over the cap.
    expect(openFds() - fds).toBeLessThanOrEqual(2 * LIMITS.maxConnections);
    // Idle past idleTimeoutMs: the server closes them, and the endpoint answers again.
    await waitFor('the idle connections to be closed by the server', () => held.every((c) => c.closed), 5 * LIMITS.idleTimeoutMs);
    expect(await get(port, '/metrics')).toEqual({ status: 200, body: 'vethd_test 1\n' });
  });

  test('a connection that never sends is closed after idleTimeoutMs', async () => {
    server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 }, () => true, LIMITS);
    const c = connect(server.address.port);
    clients.push(c);
    await waitFor('the silent connection to be closed by the server', () => c.closed, 5 * LIMITS.idleTimeoutMs);
  });

  test('headers dribbled a byte at a time (never idle) are cut off after headersTimeoutMs', async () => {
    server = await serveMetrics(registry, { host: '127.0.0.1', port: 0 }, () => true, LIMITS);
    const c = connect(server.address.port);
    clients.push(c);
    const text = `GET /metrics HTTP/1.1\r\nX-Slow: ${'x'.repeat(1000)}`;
    let i = 0;
    const timer = setInterval(() => c.closed || c.socket.write(text[i++ % text.length]), 100);
    try {
      await waitFor('the slow client to be closed by the server', () => c.closed, 6 * LIMITS.headersTimeoutMs);
    } finally {
      clearInterval(timer);
    }
    expect(c.received).not.toContain('vethd_test');
  });
});
