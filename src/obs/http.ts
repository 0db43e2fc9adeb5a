/**
 * The metrics endpoint: GET /metrics (Prometheus text format) and GET
 * /healthz (200 while the relay runs, 503 otherwise), on node:http.
 */
import http from 'node:http';
import { isIP } from 'node:net';
import type { Registry } from 'prom-client';
import { codedError, errnoOr } from '../errors';

/** Where the endpoint listens. */
export interface ListenAddress {
  /** An IPv4 or IPv6 address (without brackets) or a host name. */
  host: string;
  /** TCP port. */
  port: number;
}

/** The default: loopback only. 10823 is outside the 9100-9999 range the Prometheus default port allocations list fills. */
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:10823';

/** Parse `HOST:PORT`, `[v6]:PORT` or `off` (undefined). Throws one line naming the value. */
export function parseListen(text: string): ListenAddress | undefined {
  if (text === 'off') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port < 1 || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw codedError('vethd.invalid-listen', `invalid --metrics-listen "${text}": expected HOST:PORT, [IPv6]:PORT or off`);
  }
  return { host, port };
}

/**
 * How the endpoint bounds its clients, so that it degrades alone: 19,995 idle
 * connections once took vethd to its descriptor limit, /healthz unreachable
 * and SIGHUP failing with EMFILE (issue #25). A scraper needs one connection
 * and a request takes milliseconds.
 */
export interface EndpointLimits {
  /** Most connections open at once; the server closes one more at once, unanswered. */
  maxConnections: number;
  /** A connection with no byte either way this long is closed, ms (also keep-alive between requests). */
  idleTimeoutMs: number;
  /** A request's headers must have arrived this long after it began, ms. */
  headersTimeoutMs: number;
  /** A whole request must have arrived this long after it began, ms (at least headersTimeoutMs). */
  requestTimeoutMs: number;
}

/** The production limits: 64 connections (a few scrapers and curls, far below LimitNOFILE), 5 s idle or for headers, 10 s for a request (Prometheus' default scrape timeout). */
export const ENDPOINT_LIMITS: Readonly<EndpointLimits> = Object.freeze({ maxConnections: 64, idleTimeoutMs: 5000, headersTimeoutMs: 5000, requestTimeoutMs: 10_000 });

export interface MetricsServer {
  /** The address actually bound (port 0 resolves to the kernel's pick). */
  address: ListenAddress;
  close(): Promise<void>;
}

/** Serve registry on addr, within limits. Rejects with one line naming the address and errno when it cannot listen. */
export function serveMetrics(registry: Registry, addr: ListenAddress, healthy: () => boolean, limits: EndpointLimits = ENDPOINT_LIMITS): Promise<MetricsServer> {
  const options: http.ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    // How often headersTimeout and requestTimeout are checked (Node's default, 30 s, would let them run late).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  const server = http.createServer(options, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
      );
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'relay not running\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('see /metrics and /healthz\n');
    }
  });
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.idleTimeoutMs; // a socket idle this long is destroyed (no 'timeout' listener)
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(codedError(errnoOr(err, 'vethd.listen'), `metrics: cannot listen on ${addr.host}:${addr.port}: ${err.message.replace(/^listen \w+: /, '')}`));
    });
    server.listen(addr.port, addr.host, () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : addr.port;
      resolve({
        address: { host: addr.host, port },
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections(); // Prometheus keeps its connection alive between scrapes
          }),
      });
      server.unref();
    });
  });
}
