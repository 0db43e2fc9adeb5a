/**
 * The control socket's client side: one HTTP/1.1 request over the AF_UNIX
 * socket of a running daemon (src/daemon/control.ts; protocol in
 * docs/control.md), for `vethd status`, `vethd add` and `vethd remove`.
 */
import http from 'node:http';
import path from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { codedError, errnoOr, fileErrorText } from '../errors';
import { CONTROL_API } from '../daemon/control';

/** Where the daemons' control sockets live outside systemd: <dir>/<instance>/control.sock. */
export const CONTROL_DIR = '/run/vethd';

/**
 * The control socket a daemon listens on when not told: under systemd,
 * $RUNTIME_DIRECTORY/control.sock (the unit's RuntimeDirectory=vethd/%i, the
 * first when it lists several); otherwise /run/vethd/<parent>/control.sock.
 */
export function defaultControlSocket(parent: string, env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0];
  return runtime ? path.join(runtime, 'control.sock') : controlSocketOf(parent);
}

/** The socket of instance (a unit's instance name, or the parent's name outside systemd): /run/vethd/<instance>/control.sock. */
export function controlSocketOf(instance: string): string {
  return path.join(CONTROL_DIR, instance, 'control.sock');
}

/** A reply from the daemon: HTTP status and the parsed JSON body. */
export interface ClientReply {
  status: number;
  body: unknown;
}

/**
 * Send one request (method, /v1/<what>, an optional JSON body) to the daemon
 * on socketPath and resolve with its reply, whatever the status. Rejects with
 * one line naming the socket when no daemon answers (code
 * vethd.control-unreachable with the errno in the text: ENOENT, ECONNREFUSED,
 * EACCES) or the reply is not JSON, and after timeoutMs.
 */
export function controlRequest(socketPath: string, method: string, what: string, body?: unknown, timeoutMs = 15_000): Promise<ClientReply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { socketPath, method, path: `/v${CONTROL_API}/${what}`, headers: data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(codedError('vethd.control-unreachable', `${socketPath}: the reply is not JSON (HTTP ${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
        res.on('error', (err) => reject(codedError(errnoOr(err, 'vethd.control-unreachable'), `${socketPath}: reading the reply: ${fileErrorText(err)}`)));
      },
    );
    req.on('timeout', () => req.destroy(codedError('vethd.control-unreachable', `${socketPath}: no reply within ${timeoutMs} ms`)));
    req.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'vethd.control-unreachable') return reject(err);
      reject(codedError('vethd.control-unreachable', `${socketPath}: no vethd answers: ${socketErrorText(err)}`));
    });
    req.end(data);
  });
}

/** A socket error as "<strerror> (<ERRNO>)": "no such file or directory (ENOENT)"; Node's own message when it has no errno. */
function socketErrorText(err: NodeJS.ErrnoException): string {
  const known = typeof err.errno === 'number' ? getSystemErrorMap().get(err.errno) : undefined;
  return known ? `${known[1]} (${known[0]})` : fileErrorText(err);
}

/** The daemon's error reply as an Error with its code and message, or undefined for a 2xx reply. */
export function replyError(reply: ClientReply): (Error & { code: string }) | undefined {
  if (reply.status >= 200 && reply.status < 300) return undefined;
  const e = (reply.body as { error?: { code?: string; message?: string } })?.error;
  return Object.assign(new Error(e?.message ?? `HTTP ${reply.status}`), { code: e?.code ?? 'vethd.control-internal' });
}
