/**
 * Talking to systemd for a Type=notify service: READY=1 once the vNIC is up
 * and the relay runs, STOPPING=1 on shutdown, WATCHDOG=1 from the JS event
 * loop every WatchdogSec/2 (so a stuck event loop is noticed). Datagrams are
 * sent by the native addon (Node has no AF_UNIX datagram sockets).
 */

export interface Notifier {
  ready(status: string): void;
  stopping(): void;
  /** Stop the watchdog timer. */
  close(): void;
}

type Send = (socketPath: string | undefined, state: string) => number;

/**
 * A notifier for env ($NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID); a no-op
 * when not run by systemd. Send errors are reported to onError, never thrown.
 */
export function createNotifier(send: Send, env: NodeJS.ProcessEnv = process.env, onError: (err: Error) => void = () => undefined): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const notify = (state: string) => {
    if (!socket) return;
    try {
      send(socket, state);
    } catch (err) {
      onError(err as Error);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
  return {
    ready(status) {
      notify(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`);
      if (socket && forUs && Number.isFinite(usec) && usec > 0) {
        timer = setInterval(() => notify('WATCHDOG=1'), Math.max(1, Math.floor(usec / 2000)));
        timer.unref();
      }
    },
    stopping() {
      notify('STOPPING=1');
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
