/**
 * The control socket: a running daemon answers `vethd status`, `vethd add`
 * and `vethd remove` (and any program: a container runtime, the CNI plugin)
 * on an AF_UNIX stream socket, owner-only, with HTTP/1.1 and JSON as the
 * protocol (Node's http server; the protocol is docs/control.md's). Every
 * client is checked before its request is read: its credentials at connect()
 * (SO_PEERCRED) must be root's or the daemon's own user's. A client's bad
 * input gets a JSON error for that client alone: a body over CONTROL_LIMITS.bodyBytes,
 * a client that sends nothing for CONTROL_LIMITS.headersMs, more than
 * CONTROL_LIMITS.connections at once. The relay never waits on a client.
 */
import { chmodSync, lstatSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { codedError, errnoOr, fileErrorText, type ErrorCode } from '../errors';

/** The protocol's version: the path prefix (/v1/...) and status().api. */
export const CONTROL_API = 1;

/** A client's bounds: request body bytes, ms to send the request head, ms for the whole request, clients at once. */
export interface ControlLimits {
  bodyBytes: number;
  headersMs: number;
  requestMs: number;
  connections: number;
}
export const CONTROL_LIMITS: Readonly<ControlLimits> = Object.freeze({ bodyBytes: 64 << 10, headersMs: 5_000, requestMs: 10_000, connections: 32 });

/** A reply: HTTP status and a JSON body. An error's body is {error: {code, message}}. */
export interface ControlReply {
  status: number;
  body: unknown;
}

/** What the daemon does for each request; each may throw an Error with .code (see replyFor). */
export interface ControlHandlers {
  /** GET /v1/status. */
  status(): unknown;
  /** POST /v1/vnics with one [[vnic]] table as JSON: the vNIC added. */
  add?(table: unknown): Promise<unknown>;
  /** DELETE /v1/vnics/<name>: the vNIC removed, with its last counters. */
  remove?(name: string): Promise<unknown>;
}

/** Who may talk to the daemon: the peer's uid (SO_PEERCRED). */
export type PeerCheck = (fd: number) => { uid: number; pid: number };

export interface ControlServer {
  /** The socket's path. */
  readonly path: string;
  /** Stop answering, end every connection, remove the socket (and the directory, when it made it). */
  close(): Promise<void>;
}

/** HTTP status of an error code: the caller's mistake (4xx) or the daemon's (500). */
const STATUS_OF: Record<string, number> = {
  'vethd.control-bad-request': 400,
  'vethd.config': 400,
  'vethd.invalid-mac': 400,
  'vethd.invalid-ifname': 400,
  'vethd.invalid-vlan': 400,
  'vethd.same-interface': 409,
  'vethd.mac-in-use': 409,
  'vethd.control-not-found': 404,
  'vethd.control-forbidden': 403,
  'vethd.control-too-large': 413,
  'vethd.control-busy': 503,
  'vethd.control-last-vnic': 409,
  'vethd.control-not-live': 409,
  'vethd.mac-conflict': 409,
  EEXIST: 409,
  ENOSPC: 409,
  ENOENT: 404,
  EINVAL: 400,
};

/** The reply for an error thrown by a handler: its code's status (500 when unknown), {error: {code, message}}. */
export function replyFor(err: unknown): ControlReply {
  const e = err as Error & { code?: string };
  const code = typeof e?.code === 'string' ? e.code : 'vethd.control-internal';
  return { status: STATUS_OF[code] ?? 500, body: { error: { code, message: e?.message ?? String(err) } } };
}

function errorReply(code: string, message: string): ControlReply {
  return replyFor(codedError(code as ErrorCode, message));
}

/** A whole HTTP response for a raw socket (before http parses anything: a refused peer, too many clients). */
function rawResponse(reply: ControlReply): string {
  const body = `${JSON.stringify(reply.body)}\n`;
  const reason = http.STATUS_CODES[reply.status] ?? '';
  return `HTTP/1.1 ${reply.status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** Read a request body of at most limit bytes: the text, or undefined once it is over (the reply is the caller's). */
function readBody(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return resolve(undefined);
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > limit) {
        req.removeAllListeners('data');
        req.pause();
        return resolve(undefined);
      }
      chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Route one request to its handler. */
async function route(req: http.IncomingMessage, handlers: ControlHandlers, bodyBytes: number): Promise<ControlReply> {
  const url = new URL(req.url ?? '/', 'http://vethd');
  const prefix = `/v${CONTROL_API}/`;
  if (!url.pathname.startsWith(prefix)) return errorReply('vethd.control-not-found', `no such path ${url.pathname}: this daemon speaks ${prefix}`);
  const rest = url.pathname.slice(prefix.length);
  const method = req.method ?? 'GET';
  const allow = (methods: string) => errorReply('vethd.control-bad-request', `${method} ${url.pathname}: use ${methods}`);
  if (rest === 'status') {
    if (method !== 'GET') return allow('GET');
    req.socket.setTimeout(0); // the request is in: the handler may take its time
    return { status: 200, body: handlers.status() };
  }
  if (rest === 'vnics') {
    if (method !== 'POST' || !handlers.add) return allow('POST');
    const text = await readBody(req, bodyBytes);
    if (text === undefined) return errorReply('vethd.control-too-large', `request body over ${bodyBytes} bytes`);
    let table: unknown;
    try {
      table = JSON.parse(text);
    } catch (err) {
      return errorReply('vethd.control-bad-request', `request body is not JSON: ${(err as Error).message}`);
    }
    req.socket.setTimeout(0);
    return { status: 201, body: await handlers.add(table) };
  }
  const m = /^vnics\/([^/]+)$/.exec(rest);
  if (m) {
    if (method !== 'DELETE' || !handlers.remove) return allow('DELETE');
    req.socket.setTimeout(0);
    return { status: 200, body: await handlers.remove(decodeURIComponent(m[1])) };
  }
  return errorReply('vethd.control-not-found', `no such path ${url.pathname}`);
}

/**
 * Whether something answers on the socket at file: true when a connect()
 * succeeds (another daemon serves it), false when it is refused (a stale file
 * a dead daemon left).
 */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Listen on the AF_UNIX socket file (mode 0600; its directory made 0700 when
 * missing) and answer with handlers. allowed(uid) says who may use it;
 * peer(fd) reads a connection's credentials (SO_PEERCRED). A stale socket
 * file is replaced; one that a live daemon answers on is an error. Rejects
 * with one line naming the path and the errno.
 */
export async function serveControl(
  file: string,
  handlers: ControlHandlers,
  peer: PeerCheck,
  allowed: (uid: number) => boolean,
  onError?: (err: Error) => void,
  limits: Readonly<ControlLimits> = CONTROL_LIMITS,
): Promise<ControlServer> {
  const dir = path.dirname(file);
  let madeDir: string | undefined; // the first directory it made (dir or an ancestor): removed again on close

  const fail = (what: string, err: unknown) => codedError(errnoOr(err, 'vethd.control'), `${file}: ${what}: ${fileErrorText(err)}`);
  try {
    lstatSync(dir);
  } catch {
    try {
      madeDir = mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fail('cannot make the control socket directory', err);
    }
  }
  let existing;
  try {
    existing = lstatSync(file);
  } catch {
    /* none: the usual case */
  }
  if (existing) {
    if (!existing.isSocket()) throw codedError('vethd.control', `${file}: cannot make the control socket: a file that is not a socket is there`);
    if (await answers(file)) throw codedError('vethd.control-in-use', `${file}: another vethd answers on this control socket (give this one another --control-socket, or off)`);
    unlinkSync(file);
  }
  const sockets = new Set<net.Socket>();
  // Connections whose peer may talk: http's parser sees every connection's bytes, so a request from any other is dropped unread.
  const trusted = new WeakSet<net.Socket>();
  const server = http.createServer({ headersTimeout: limits.headersMs, requestTimeout: limits.requestMs, keepAliveTimeout: 1_000, maxHeaderSize: 8 << 10 }, (req, res) => {
    if (!trusted.has(req.socket)) return void req.socket.destroy();
    req.socket.setTimeout(limits.requestMs); // the head is in: the rest of the request has requestMs
    route(req, handlers, limits.bodyBytes)
      .catch((err: unknown) => replyFor(err))
      .then((reply) => {
        const body = `${JSON.stringify(reply.body)}\n`;
        res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
        res.end(body);
      })
      .catch((err: unknown) => onError?.(err as Error));
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy()); // a client that went away: its business alone
    if (sockets.size > limits.connections) {
      s.end(rawResponse(errorReply('vethd.control-busy', `more than ${limits.connections} clients at once: try again`)));
      return;
    }
    let who: { uid: number; pid: number };
    try {
      who = peer(socketFd(s));
    } catch (err) {
      s.end(rawResponse(errorReply('vethd.control-forbidden', `cannot tell who you are: ${(err as Error).message}`)));
      return;
    }
    if (!allowed(who.uid)) return void s.end(rawResponse(errorReply('vethd.control-forbidden', `uid ${who.uid} may not use this control socket: root and vethd's own user only`)));
    trusted.add(s);
    // http's own header timeout is checked every connectionsCheckingInterval (30 s): a client that sends nothing goes at headersMs.
    s.setTimeout(limits.headersMs);
  });
  // A socket timeout (the head not in within headersMs, or the request not within requestMs): that client's error.
  server.on('timeout', (s: net.Socket) => {
    if (s.writable) s.end(rawResponse(errorReply('vethd.control-bad-request', `no whole request within ${s.timeout} ms`)));
    else s.destroy();
  });
  server.on('clientError', (err: Error & { code?: string }, s: net.Socket) => {
    if (!s.writable) return void s.destroy();
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    s.end(rawResponse(errorReply('vethd.control-bad-request', timeout ? `no whole request within ${limits.headersMs} ms` : `not an HTTP/1.1 request: ${err.message}`)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(fail('cannot listen', err)));
    server.listen(file, () => resolve());
  }).catch((err) => {
    removeMade(dir, madeDir);
    throw err;
  });
  chmodSync(file, 0o600);
  return {
    path: file,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }).then(() => {
        try {
          unlinkSync(file);
        } catch {
          /* Node removed it on close */
        }
        removeMade(dir, madeDir);
      }),
  };
}

/** rmdir dir and its ancestors up to made (the first one mkdir made), while they are empty; nothing when made is undefined. */
function removeMade(dir: string, made: string | undefined): void {
  if (!made) return;
  for (let d = dir; d.startsWith(made); d = path.dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (another daemon's socket is there), or gone
    }
    if (d === made) return;
  }
}

/** The file descriptor of an accepted AF_UNIX connection (Node's Pipe handle keeps it in .fd on Unix). */
function socketFd(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor on the connection');
  return fd;
}
