/**
 * A CPU wake-up latency request held through the kernel's PM QoS interface
 * (/dev/cpu_dma_latency; Documentation/power/pm_qos_interface.rst), as
 * cyclictest and tuned's latency-performance profile hold one. While the file
 * stays open, the cpuidle governor keeps every idle CPU out of the states
 * whose exit latency is above the request; closing it, or the process ending
 * in any way, withdraws the request, so nothing outlives vethd.
 *
 * Why a relay wants it: each frame that finds the relay asleep needs a wake-up,
 * and a wake-up that lands on an idle CPU costs that CPU's exit latency
 * (tens of µs for a halted vCPU). 0 keeps idle CPUs polling: the fastest
 * wake-ups, and a busy-looping CPU whenever it is idle (power, and on a VM the
 * host's CPU time).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import { codedError, errnoOr, fileErrorText } from '../errors';

/** The kernel's PM QoS device for the system-wide CPU latency request. */
export const CPU_LATENCY_DEVICE = '/dev/cpu_dma_latency';

/** The largest request: PM_QOS_CPU_LATENCY_DEFAULT_VALUE, µs ("no constraint"). */
export const CPU_LATENCY_MAX_US = 2_000_000_000;

/** A request being held; release() withdraws it (idempotent). */
export interface CpuLatencyHold {
  /** The requested wake-up latency, µs. */
  readonly us: number;
  release(): void;
}

/** us as the s32 the device takes, in this CPU's byte order (pm_qos_interface.rst: a 4-byte binary write). */
function s32(us: number): Buffer {
  const b = Buffer.alloc(4);
  if (os.endianness() === 'LE') b.writeInt32LE(us);
  else b.writeInt32BE(us);
  return b;
}

/** The one-line error for a request the device refused (err: from openSync or writeSync). */
function requestError(err: unknown, device: string, us: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? "; the device is root's (mode 0600): run vethd as root (under the systemd unit, see the README's cpu-latency drop-in)"
      : code === 'ENOENT'
        ? '; this kernel has no PM QoS device (CONFIG_CPU_IDLE off?)'
        : '';
  return codedError(errnoOr(err, 'vethd.cpu-latency'), `${device}: cannot request CPU wake-up latency of ${us} µs: ${fileErrorText(err)}${hint}`);
}

/**
 * Ask for CPU wake-up latency ≤ us (µs, 0 to CPU_LATENCY_MAX_US, checked by the
 * caller: the CLI's parser) until release(). Throws a coded Error, one line:
 * "/dev/cpu_dma_latency: cannot request CPU wake-up latency of 0 µs: permission
 * denied (EACCES); ..." (the device is root's, mode 0600). device: for tests.
 */
export function holdCpuLatency(us: number, device = CPU_LATENCY_DEVICE): CpuLatencyHold {
  let fd = -1;
  try {
    fd = openSync(device, 'w');
    writeSync(fd, s32(us));
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    throw requestError(err, device, us);
  }
  const held = fd;
  let open = true;
  return {
    us,
    release() {
      if (!open) return;
      open = false;
      closeSync(held);
    },
  };
}
