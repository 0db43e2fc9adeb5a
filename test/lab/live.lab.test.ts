/**
 * vNICs added and removed while the relay runs (issue 29), driving the addon
 * directly: a Relay made in fw by a small node process that takes one JSON
 * request a line (addVnic, removeVnic, stats...). While vNIC A receives a
 * numbered stream from the peer (test/lab/seqstream.c, checked on A), vNICs
 * come and go beside it: each gets frames sent to it, is removed (its TAP
 * gone, its frames then delivered nowhere), and the next one takes its slot
 * with its old MAC or name, once inside a container's namespace. A gets every
 * frame of its stream, in order; the parent's promiscuity or unicast filter is
 * back to what it was; refusals are one line, nothing half-made left. Run with
 * the defaults (promiscuous membership, the kernel filter: eBPF as root) and
 * with membership unicast, two queues and no kernel filter.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_MAC } from '../../tools/lab/lab';
import { stopChild } from '../../tools/lab/vethd';
import type { RelayInfo, RelayOptions, RelayStats, VnicOptions, VnicStats } from '../../src/native/native';
import { resolveRelayOptions, type RelaySettings, type VnicSettings } from '../../src/native/options';
import { linkExists, promiscuity, skipLab } from './tools';

const ADDON = path.join(__dirname, '..', '..', 'build', 'Release', 'vethd.node');
const MAC_A = '02:00:c0:00:02:61';
const MAC_B = '02:00:c0:00:02:62';
const MAC_C = '02:00:c0:00:02:63';
/** EtherTypes (IEEE local experimental): A's stream, and the frames sent to the vNICs that come and go. */
const STREAM = 0x88b5;
const VISIT = 0x88b7;
/** A's stream: frames a second, and at most this many (it is stopped once the changes are done). */
const STREAM_PPS = 1000;
const STREAM_MAX = 30_000;
/** Frames sent to each visiting vNIC while it is there, and after it left. */
const VISIT_FRAMES = 50;
/** vNICs that come and go: at least CYCLES, and more while A's stream is shorter than STREAM_MIN frames, at most CYCLES_MAX. */
const CYCLES = 6;
const CYCLES_MAX = 60;
const STREAM_MIN = 3000;

/**
 * The relay's process in fw: one JSON request a line on stdin ({id, op, arg};
 * MACs as hex strings), one reply a line on stdout ({id, value, ms} or {id,
 * error: {name, message, code}}).
 */
const HELPER = `
const native = require(process.argv[2]);
const vnic = (o) => ({ ...o, mac: o.mac === null ? null : Buffer.from(o.mac, 'hex') });
let relay;
const ops = {
  open: (o) => { relay = new native.Relay({ ...o, vnics: o.vnics.map(vnic) }); relay.start(); relay.up(); return relay.info(); },
  add: (o) => relay.addVnic(vnic(o)),
  up: (slot) => relay.up(slot),
  remove: (slot) => relay.removeVnic(slot),
  info: () => relay.info(),
  stats: () => relay.stats(),
  status: () => { const s = relay.status(); return { ...s, rxError: s.rxError && s.rxError.message, retired: s.retired.map((e) => e && e.message) }; },
  close: () => relay.close(),
};
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, op, arg } = JSON.parse(line);
  const t0 = process.hrtime.bigint();
  let reply;
  try {
    const value = ops[op](arg);
    reply = { id, value: value === undefined ? null : value, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  } catch (e) {
    reply = { id, error: { name: e.constructor.name, message: e.message, code: e.code } };
  }
  process.stdout.write(JSON.stringify(reply) + '\\n');
});
process.stdout.write('{"ready":true}\\n');
`;

interface Reply {
  id?: number;
  ready?: boolean;
  value?: unknown;
  ms?: number;
  error?: { name: string; message: string; code?: string };
}

/** An Error carrying what the addon threw: its class name, message and code. */
class HelperError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The relay process: requests in, replies out, in order. */
class RelayCtl {
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private buf = '';
  private err = '';
  /** How long each addVnic and removeVnic took in the addon, ms. */
  readonly times: { add: number[]; remove: number[] } = { add: [], remove: [] };

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => (this.err += d.toString()));
    // A request it will never answer fails at once, with what it said.
    child.on('exit', (code, sig) => {
      for (const done of this.waiting.values()) done({ error: { name: 'Error', message: `relay helper exited ${code ?? sig}: ${this.err.trim()}` } });
    });
    child.stdout?.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const reply = JSON.parse(this.buf.slice(0, nl)) as Reply;
        this.buf = this.buf.slice(nl + 1);
        this.waiting.get(reply.ready ? 0 : (reply.id ?? -1))?.(reply);
      }
    });
  }

  static async start(lab: Lab): Promise<RelayCtl> {
    const ctl = new RelayCtl(lab.spawn('fw', process.execPath, [lab.file('relayctl.js', HELPER), ADDON], { stdin: true }));
    await new Promise<void>((resolve, reject) => ctl.waiting.set(0, (r) => (r.error ? reject(new Error(r.error.message)) : resolve())));
    return ctl;
  }

  call<T>(op: string, arg?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, (r) => {
        this.waiting.delete(id);
        if (r.error) reject(new HelperError(r.error.name, r.error.message, r.error.code));
        else {
          if (op === 'add' || op === 'remove') this.times[op].push(r.ms ?? 0);
          resolve(r.value as T);
        }
      });
      this.child.stdin?.write(`${JSON.stringify({ id, op, arg })}\n`);
    });
  }

  open(settings: RelaySettings): Promise<RelayInfo> {
    const o: RelayOptions = resolveRelayOptions(settings);
    return this.call('open', { ...o, vnics: o.vnics.map(wire) });
  }
  add(v: VnicSettings): Promise<number> {
    return this.call('add', wire(resolveRelayOptions({ parent: '', vnics: [v] }).vnics[0]));
  }
  remove(slot: number): Promise<VnicStats> {
    return this.call('remove', slot);
  }
  stats(): Promise<RelayStats> {
    return this.call('stats');
  }
  info(): Promise<RelayInfo> {
    return this.call('info');
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    await stopChild(this.child).catch(() => this.child.kill('SIGKILL'));
  }
}

/** VnicOptions as JSON: the MAC as a hex string. */
function wire(v: VnicOptions): Omit<VnicOptions, 'mac'> & { mac: string | null } {
  return { ...v, mac: v.mac && v.mac.toString('hex') };
}

function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((o) => Number.parseInt(o, 16)));
}

/** What the caught call threw, as "<Class>: <message>". */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${e instanceof HelperError ? e.kind : 'Error'}: ${(e as Error).message}`;
  }
  return 'no error';
}

/** The last JSON line a seqstream recv printed. */
interface StreamResult {
  frames: number;
  next: number;
  missing: number;
  late: number;
  strays: number;
  kernel_drops: number;
}

const modes: [string, Partial<RelaySettings>][] = [
  ['defaults: promiscuous, kernel filter, one queue', {}],
  ['membership unicast, two queues (fanout hash), no kernel filter', { membership: 'unicast', queues: 2, fanout: 'hash', kernelFilter: false }],
];

describe.skipIf(skipLab).each(modes)('vNICs added and removed while the relay runs: %s', (_name, settings) => {
  let lab: Lab;
  let seq: string;
  let ctl: RelayCtl;
  let base: number;
  const unicast = settings.membership === 'unicast';

  /** The parent's unicast filter entries (bridge fdb lists a device's own: "<mac> self permanent"), sorted. */
  const unicastFilter = async () =>
    (await lab.exec('fw', 'bridge', ['fdb', 'show', 'dev', 'eth0'])).stdout
      .split('\n')
      .filter((l) => l.includes('self permanent') && !/^(33:33|01:)/.test(l))
      .map((l) => l.split(' ')[0])
      .sort();
  /** Every link in fw and in ctr, by name: "eth0@if5 lo veth1 | lo". */
  const allLinks = async () => {
    const names: string[] = [];
    for (const h of ['fw', 'ctr'] as const) {
      const out = (await lab.exec(h, 'ip', ['-o', 'link'])).stdout;
      names.push(out.split('\n').map((l) => l.split(': ')[1]).filter(Boolean).sort().join(' '));
    }
    return names.join(' | ');
  };
  /** Send n numbered frames of the VISIT EtherType from the peer to dst, as fast as it goes. */
  const visit = (dst: string, n = VISIT_FRAMES) => lab.exec('peer', seq, ['send', 'eth0', dst, PEER_MAC, VISIT.toString(16), String(n), '20000']);

  beforeAll(async () => {
    lab = await Lab.create(settings.queues ? 'live2' : 'live', { container: true });
    seq = path.join(lab.dir, 'seqstream');
    execFileSync('cc', ['-std=gnu11', '-O1', '-Wall', '-Werror', '-o', seq, path.join(__dirname, 'seqstream.c')]);
    // The LAN stays quieter (no DAD, router solicitations or MLD from any host, vNIC or bridge); the bridge's IGMP reports
    // remain, so exact counts come from the stream's receiver, and the relay's counters are checked at least or by their sums.
    for (const h of ['fw', 'ctr', 'peer', 'other', 'sw'] as const) {
      for (const conf of ['all', 'default']) await lab.exec(h, 'sysctl', ['-q', '-w', `net.ipv6.conf.${conf}.disable_ipv6=1`]);
    }
    base = await promiscuity(lab, 'fw', 'eth0');
    ctl = await RelayCtl.start(lab);
    const info = await ctl.open({ parent: 'eth0', vnics: [{ tap: 'veth1', mac: mac(MAC_A) }], ...settings });
    expect(info.vnics.map((v) => [v.slot, v.tap, v.mac])).toEqual([[0, 'veth1', MAC_A]]);
  });
  afterAll(async () => {
    await ctl?.stop();
    await lab?.destroy();
  });

  test(`A's stream arrives whole and in order while ${CYCLES} to ${CYCLES_MAX} vNICs come and go beside it`, async () => {
    const promiscWith = await promiscuity(lab, 'fw', 'eth0');
    const filterWith = await unicastFilter();
    const linksWith = await allLinks();
    if (unicast) expect(filterWith).toEqual([MAC_A]);
    else expect(promiscWith).toBe(base + 1);

    const recv = lab.spawn('fw', seq, ['recv', 'veth1', STREAM.toString(16), VISIT.toString(16)]);
    let recvOut = '';
    recv.stdout?.on('data', (d: Buffer) => (recvOut += d.toString()));
    await waitFor('the receiver on veth1', () => recvOut.includes('ready'));
    const send = lab.spawn('peer', seq, ['send', 'eth0', MAC_A, PEER_MAC, STREAM.toString(16), String(STREAM_MAX), String(STREAM_PPS)]);
    let sendOut = '';
    send.stdout?.on('data', (d: Buffer) => (sendOut += d.toString()));
    // The stream is flowing through the relay before the first change.
    await waitFor('A to receive 200 frames', async () => (await ctl.stats()).vnics[0].receive.frames >= 200);

    const unroutedBefore = (await ctl.stats()).unrouted.drops.not_for_us;
    let strayFrames = 0; // frames sent to a vNIC after it left
    let visitors = 0;
    let departed = 0; // what the visitors had received when they left
    for (let i = 0; i < CYCLES_MAX && (i < CYCLES || (await ctl.stats()).vnics[0].receive.frames < STREAM_MIN); i++) {
      // B, then C with B's MAC, then B's name with C's MAC, ..., the fourth inside the container.
      const inCtr = i === 3;
      const tap = inCtr ? 'eth0' : i % 2 ? 'veth3' : 'veth2';
      const vmac = i % 4 === 2 ? MAC_C : MAC_B;
      const slot = await ctl.add({ tap, mac: mac(vmac), ...(inCtr ? { netns: `/run/netns/${lab.ns('ctr')}` } : {}) });
      expect(slot).toBe(1); // the lowest free slot: the one the last vNIC left
      expect(await linkExists(lab, inCtr ? 'ctr' : 'fw', tap)).toBe(true);
      const fresh = await ctl.stats();
      expect(fresh.vnics.map((v) => v.slot)).toEqual([0, 1]);
      expect(fresh.vnics[1].receive.frames).toBe(0); // the slot's counters start from zero
      if (unicast) expect(await unicastFilter()).toEqual([MAC_A, vmac].sort());
      await ctl.call('up', slot);
      await visit(vmac);
      await waitFor(`${tap} to receive ${VISIT_FRAMES} frames`, async () => (await ctl.stats()).vnics[1]?.receive.frames >= VISIT_FRAMES);

      const last = await ctl.remove(slot);
      expect(last.receive.frames).toBeGreaterThanOrEqual(VISIT_FRAMES);
      departed += last.receive.frames;
      expect(await linkExists(lab, inCtr ? 'ctr' : 'fw', tap)).toBe(false);
      expect((await ctl.info()).vnics.map((v) => v.tap)).toEqual(['veth1']);
      if (unicast) expect(await unicastFilter()).toEqual([MAC_A]);
      await visit(vmac); // for nobody now
      strayFrames += VISIT_FRAMES;
      visitors++;
    }
    expect(visitors).toBeGreaterThanOrEqual(CYCLES);

    send.kill('SIGTERM');
    await waitFor('the sender to stop', () => /sent (\d+)/.exec(sendOut)?.[1]);
    const sent = Number(/sent (\d+)/.exec(sendOut)?.[1]);
    expect(sent).toBeLessThan(STREAM_MAX); // stopped: the stream lasted through every change
    await waitFor(`A's relay counter to reach ${sent}`, async () => (await ctl.stats()).vnics[0].receive.frames >= sent);
    recv.kill('SIGTERM');
    await waitFor('the receiver to report', () => recvOut.includes('{'));
    const got = JSON.parse(recvOut.slice(recvOut.indexOf('{'))) as StreamResult;
    expect(got).toEqual({ frames: sent, next: sent, missing: 0, late: 0, strays: 0, kernel_drops: 0 });

    const end = await ctl.stats();
    expect(end.vnics.map((v) => v.slot)).toEqual([0]);
    expect(end.vnics[0].receive.frames).toBeGreaterThanOrEqual(sent);
    // What the visitors got stays in the totals (A's and theirs, nothing else); what came after they left went to nobody.
    expect(end.receive.frames - end.vnics[0].receive.frames).toBe(departed);
    // Without the kernel filter the relay reads them and counts them for no vNIC; with it, the kernel drops them unread.
    expect(end.unrouted.drops.not_for_us - unroutedBefore).toBe(settings.kernelFilter === false ? strayFrames : 0);
    expect(await allLinks()).toBe(linksWith);
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(promiscWith);
    expect(await unicastFilter()).toEqual(filterWith);
    // eslint-disable-next-line no-console
    console.log(`[live ${_name}] ${visitors} vNICs came and went during a stream of ${sent} frames at ${STREAM_PPS}/s, all in order; addVnic ms ${summary(ctl.times.add)}, removeVnic ms ${summary(ctl.times.remove)} (min/median/max)`);
  });

  test('refusals are one line naming the value, with nothing half-made left; the same MAC in another VLAN is another vNIC', async () => {
    const before = { links: await allLinks(), filter: await unicastFilter(), promisc: await promiscuity(lab, 'fw', 'eth0'), vnics: (await ctl.info()).vnics };
    const refused = [
      await refusal(ctl.add({ tap: 'veth1', mac: mac(MAC_B) })),
      await refusal(ctl.add({ tap: 'veth9', mac: mac(MAC_A) })),
      await refusal(ctl.add({ tap: 'veth9', vlan: 4095 })),
      await refusal(ctl.add({ tap: 'veth9', linkLocalPass: -1 })),
      await refusal(ctl.add({ tap: 'a-name-of-16-ch' + 'x' })),
      await refusal(ctl.add({ tap: 'veth9', netns: '/run/netns/none-such' })),
      await refusal(ctl.call('add', { ...wire(resolveRelayOptions({ parent: '', vnics: [{ tap: 'veth9' }] }).vnics[0]), vlan: 'seven' })),
      await refusal(ctl.remove(7)),
      await refusal(ctl.remove(64)),
    ];
    expect(refused).toEqual([
      'Error: veth1: cannot create TAP: File exists (EEXIST)',
      `Error: veth9: cannot add vNIC: MAC ${MAC_A} is vNIC veth1's: File exists (EEXIST)`,
      'Error: veth9: cannot add vNIC: VLAN ID 4095 is outside 0..4094: Invalid argument (EINVAL)',
      'Error: veth9: cannot add vNIC: link-local group mask -1 is outside 0..65535: Invalid argument (EINVAL)',
      'Error: a-name-of-16-ch: cannot add vNIC: vNIC name of 16 bytes is outside 1..15: Invalid argument (EINVAL)',
      'Error: veth9: cannot open network namespace /run/netns/none-such: No such file or directory (ENOENT)',
      'TypeError: options.vlan must be a 32-bit integer',
      'RangeError: no vNIC in slot 7',
      'RangeError: no vNIC in slot 64',
    ]);
    expect(refused.every((line) => !line.includes('\n'))).toBe(true);
    expect({ links: await allLinks(), filter: await unicastFilter(), promisc: await promiscuity(lab, 'fw', 'eth0'), vnics: (await ctl.info()).vnics }).toEqual(before);

    // A's MAC in VLAN 7 is another vNIC; removing it leaves A's unicast filter entry (the kernel counts the two).
    const slot = await ctl.add({ tap: 'veth7', mac: mac(MAC_A), vlan: 7 });
    expect((await ctl.info()).vnics.map((v) => [v.slot, v.tap, v.mac, v.vlan])).toEqual([[0, 'veth1', MAC_A, undefined], [slot, 'veth7', MAC_A, 7]]);
    await ctl.remove(slot);
    expect({ links: await allLinks(), filter: await unicastFilter(), promisc: await promiscuity(lab, 'fw', 'eth0'), vnics: (await ctl.info()).vnics }).toEqual(before);
  });

  test('the 65th vNIC is refused naming the limit, nothing of it left; the 63 beside A all go again', async () => {
    const before = { links: await allLinks(), filter: await unicastFilter(), vnics: (await ctl.info()).vnics };
    const slots: number[] = [];
    for (let i = 0; i < 63; i++) slots.push(await ctl.add({ tap: `vl${i}`, arpSysctls: false }));
    expect(slots).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(await refusal(ctl.add({ tap: 'vl63' }))).toBe('Error: vl63: cannot add vNIC: the relay has 64 vNICs, the most it takes: No space left on device (ENOSPC)');
    expect(await linkExists(lab, 'fw', 'vl63')).toBe(false);
    if (unicast) expect((await unicastFilter()).length).toBe(64);
    // Holes: every other one out first, then the rest; A still relays after each half.
    for (const s of slots.filter((s) => s % 2)) await ctl.remove(s);
    expect((await ctl.info()).vnics.map((v) => v.slot)).toEqual([0, ...slots.filter((s) => s % 2 === 0)]);
    for (const s of slots.filter((s) => s % 2 === 0)) await ctl.remove(s);
    const a0 = (await ctl.stats()).vnics[0].receive.frames;
    await lab.exec('peer', seq, ['send', 'eth0', MAC_A, PEER_MAC, STREAM.toString(16), '10', '20000']);
    await waitFor('A to receive 10 more frames', async () => (await ctl.stats()).vnics[0].receive.frames >= a0 + 10);
    expect({ links: await allLinks(), filter: await unicastFilter(), vnics: (await ctl.info()).vnics }).toEqual(before);
  });

  test('closing the relay leaves no TAP and the parent as it was before it', async () => {
    await ctl.call('close');
    expect(await linkExists(lab, 'fw', 'veth1')).toBe(false);
    await waitFor('eth0 promiscuity back to its baseline', async () => (await promiscuity(lab, 'fw', 'eth0')) === base);
    expect(await unicastFilter()).toEqual([]);
  });
});

/** "min/median/max" of ms values, 2 decimals. */
function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return s.length ? `${s[0].toFixed(2)}/${s[Math.floor(s.length / 2)].toFixed(2)}/${s[s.length - 1].toFixed(2)}` : '-';
}
