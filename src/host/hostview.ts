/**
 * The real HostView for `vethd doctor`: sysctls from /proc/sys, interfaces
 * from /sys/class/net, capabilities from /proc/self/status, systemd .link
 * files from their directories, GRO/LRO from the addon (SIOCETHTOOL). All in
 * this process's network namespace.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { HostView } from '../cli/doctor';
import { loadNative, type NativeModule } from '../native/native';

/** systemd.link(5) directories, highest precedence first. */
export const LINK_DIRS = ['/etc/systemd/network', '/run/systemd/network', '/usr/local/lib/systemd/network', '/usr/lib/systemd/network', '/lib/systemd/network'];

/** /proc/sys path of a sysctl(8) key (dots, or slashes for keys with a dotted interface name). */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
}

function readTrim(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function realHost(native: () => NativeModule = loadNative, dirs: string[] = LINK_DIRS): HostView {
  return {
    sysctl: (key) => readTrim(sysctlPath(key)),
    setSysctl(key, value) {
      try {
        writeFileSync(sysctlPath(key), value);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new Error(`${key}: cannot write: ${e.code ?? e.message}`);
      }
    },
    fileKind(path) {
      try {
        return statSync(path).isCharacterDevice() ? 'char' : 'other';
      } catch {
        return undefined;
      }
    },
    link(name) {
      const base = `/sys/class/net/${name}`;
      const type = readTrim(`${base}/type`);
      if (type === undefined) return undefined;
      return { type: Number(type), mtu: Number(readTrim(`${base}/mtu`)), operstate: readTrim(`${base}/operstate`) ?? 'unknown' };
    },
    capEff() {
      const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? BigInt(`0x${m[1]}`) : 0n;
    },
    linkFiles() {
      const out: { dir: string; name: string; text: string }[] = [];
      for (const dir of dirs) {
        let names: string[];
        try {
          names = readdirSync(dir).filter((n) => n.endsWith('.link'));
        } catch {
          continue;
        }
        for (const name of names) {
          const text = readTrim(`${dir}/${name}`);
          if (text !== undefined) out.push({ dir, name, text });
        }
      }
      return out;
    },
    offloads(name) {
      try {
        return native().netdevOffloads(name);
      } catch {
        return undefined;
      }
    },
  };
}
