/**
 * The relay end to end, in a namespace lab (tools/lab/lab.ts): a peer running
 * dnsmasq, a third station, and the "firewall" fw whose eth0 is a bridge port
 * and where vethd runs. veth keeps its offloads on (partial checksums, GSO).
 */
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_IP, PEER_MAC } from '../../tools/lab/lab';
import { Capture, linkExists, MARKER_TYPE, promiscuity, sendFrames, sendThenMarker, skipLab, VethdProcess } from './tools';

const VMAC = '02:00:c0:00:02:03';

/**
 * Every hot-path mode runs the whole suite: the default (TPACKET_V2 ring, BPF
 * filter, sendmmsg batches), TPACKET_V3, the plain path (recvmsg, no filter,
 * one send per frame), and two queues (a PACKET_FANOUT group
 * and a multi-queue TAP).
 */
const MODES: { name: string; tag: string; args: string[]; kernelFilter: boolean; ring: string; follow: string; queues?: number }[] = [
  { name: 'default: tpacket_v2, BPF filter, batched send', tag: 'r2', args: [], kernelFilter: true, ring: 'tpacket_v2', follow: 'rx-cpu' },
  { name: '--rx-ring v3', tag: 'r3', args: ['--rx-ring', 'v3'], kernelFilter: true, ring: 'tpacket_v3', follow: 'rx-cpu' },
  { name: '--rx-ring off --no-kernel-filter --tx-batch 1', tag: 'r0', args: ['--rx-ring', 'off', '--no-kernel-filter', '--tx-batch', '1'], kernelFilter: false, ring: 'off', follow: 'off' },
  { name: '--queues 2: PACKET_FANOUT_CPU, multi-queue TAP', tag: 'q2', args: ['--queues', '2'], kernelFilter: true, ring: 'tpacket_v2', follow: 'rx-cpu', queues: 2 },
];

describe.skipIf(skipLab).each(MODES)('relay in the namespace lab ($name)', (mode) => {
  const startVethd = (lab: Lab, args: string[]) => VethdProcess.start(lab, [...args, ...mode.args]);
  let lab: Lab;
  let vethd: VethdProcess;
  let eth0Ip: string;
  let vethIp: string;

  beforeAll(async () => {
    lab = await Lab.create(mode.tag);
    await lab.startDhcpServer();
    vethd = await startVethd(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC]);
  });

  afterAll(async () => {
    await vethd?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  test('0. the mode in force is logged once', async () => {
    // The line follows "Attached" on the same pipe, maybe in a later chunk: wait for it.
    const lines = () => vethd.stdout().split('\n').filter((l) => l.includes('"relay mode"'));
    await waitFor('the relay mode line', () => lines().length > 0);
    const modes = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(modes).toHaveLength(1);
    expect(modes[0]).toMatchObject({ rxRing: mode.ring, kernelFilter: mode.kernelFilter, vnetHdr: true, queues: mode.queues ?? 1, followCpu: mode.follow });
  });

  test.runIf((mode.queues ?? 1) > 1)('0b. the vNIC has one transmit queue per relay queue', async () => {
    const q = await lab.exec('fw', 'ls', ['/sys/class/net/veth1/queues']);
    expect(q.stdout.split(/\s+/).filter((n) => n.startsWith('tx-')).sort()).toEqual(Array.from({ length: mode.queues ?? 1 }, (_, i) => `tx-${i}`));
  });

  test('1. dhclient veth1 gets its own lease, and dnsmasq lists the virtual MAC', async () => {
    eth0Ip = await lab.dhclient('fw', 'eth0');
    vethIp = await lab.dhclient('fw', 'veth1');
    expect(vethIp).toMatch(/^192\.0\.2\.1\d\d$/);
    expect(vethIp).not.toBe(eth0Ip);
    const leases = lab.leases();
    expect(leases).toMatch(new RegExp(`${VMAC} ${vethIp.replace(/\./g, '\\.')} `));
    expect(leases).toMatch(new RegExp(`02:00:00:00:0f:01 ${eth0Ip.replace(/\./g, '\\.')} `));
  });

  test('2. ping and a 4 MB TCP transfer each way between the peer and veth1', async () => {
    expect(vethIp).toBeDefined();
    // Replies from veth1's address leave through veth1 (eth0 shares the subnet).
    await lab.exec('fw', 'ip', ['rule', 'add', 'from', vethIp, 'table', '101']);
    await lab.exec('fw', 'ip', ['route', 'add', '192.0.2.0/24', 'dev', 'veth1', 'table', '101']);
    const before = await vethd.stats();

    const ping = await lab.exec('peer', 'ping', ['-c', '5', '-i', '0.2', '-W', '2', vethIp]);
    expect(ping.stdout).toContain('5 received');

    const data = randomBytes(4 << 20);
    const sha = createHash('sha256').update(data).digest('hex');
    const src = lab.file('tcp-4m.bin', data);
    // peer -> veth1
    const into = `${lab.dir}/into-fw.bin`;
    const server = lab.spawn('fw', 'socat', ['-u', `TCP-LISTEN:5001,bind=${vethIp},reuseaddr`, `CREATE:${into}`]);
    await waitFor('socat to listen on veth1', async () => (await lab.exec('fw', 'ss', ['-Hltn', 'sport = :5001'])).stdout.includes('5001'));
    await lab.exec('peer', 'socat', ['-u', `OPEN:${src}`, `TCP:${vethIp}:5001`]);
    await waitFor('the transfer into veth1 to finish', () => server.exitCode !== null, 20_000);
    expect(await sha256(lab, 'fw', into)).toBe(sha);
    // veth1 -> peer
    const out = `${lab.dir}/into-peer.bin`;
    const server2 = lab.spawn('peer', 'socat', ['-u', `TCP-LISTEN:5002,bind=${PEER_IP},reuseaddr`, `CREATE:${out}`]);
    await waitFor('socat to listen on the peer', async () => (await lab.exec('peer', 'ss', ['-Hltn', 'sport = :5002'])).stdout.includes('5002'));
    await lab.exec('fw', 'socat', ['-u', `OPEN:${src}`, `TCP:${PEER_IP}:5002,bind=${vethIp}`]);
    await waitFor('the transfer out of veth1 to finish', () => server2.exitCode !== null, 20_000);
    expect(await sha256(lab, 'peer', out)).toBe(sha);

    // Both transfers went through the relay, not around it.
    const after = await vethd.stats();
    expect(after.receive.bytes - before.receive.bytes).toBeGreaterThan(4 << 20);
    expect(after.transmit.bytes - before.transmit.bytes).toBeGreaterThan(4 << 20);
  });

  test('3. IPv6 on veth1 passes DAD (no echoed frames), and DAD still catches a real duplicate', async () => {
    await lab.exec('peer', 'ip', ['-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    await lab.exec('other', 'ip', ['-6', 'addr', 'add', '2001:db8::99/64', 'dev', 'eth0', 'nodad']);
    await lab.exec('fw', 'ip', ['-6', 'addr', 'add', '2001:db8::11/64', 'dev', 'veth1']);
    await lab.exec('fw', 'ip', ['-6', 'addr', 'add', '2001:db8::99/64', 'dev', 'veth1']);
    const state = async (addr: string) => {
      const r = await lab.exec('fw', 'ip', ['-6', 'addr', 'show', 'dev', 'veth1']);
      const line = r.stdout.split('\n').find((l) => l.includes(`${addr}/64`)) ?? '';
      return line.includes('dadfailed') ? 'dadfailed' : line.includes('tentative') ? 'tentative' : 'ok';
    };
    // The duplicate is detected: DAD runs through the relay in both directions...
    await waitFor('DAD to fail for the address the third station holds', async () => (await state('2001:db8::99')) === 'dadfailed', 10_000);
    // ...and the vNIC's own probes never come back as a duplicate.
    await waitFor('DAD to finish for 2001:db8::11', async () => (await state('2001:db8::11')) !== 'tentative', 10_000);
    expect(await state('2001:db8::11')).toBe('ok');
    const ll = await lab.exec('fw', 'ip', ['-6', 'addr', 'show', 'dev', 'veth1', 'scope', 'link']);
    expect(ll.stdout).toContain('fe80::');
    expect(ll.stdout).not.toContain('dadfailed');
    const ping = await lab.exec('peer', 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '2', '2001:db8::11']);
    expect(ping.stdout).toContain('3 received');
  });

  test('4. unicast for another MAC, seen on the LAN, never reaches veth1', async () => {
    const cap = await Capture.start(lab, 'fw', 'veth1');
    const before = await vethd.stats();
    const foreign = { dst: '02:00:00:00:99:99', src: PEER_MAC, type: 0x88b5 };
    await sendThenMarker(lab, cap, 'peer', 'eth0', foreign, 20, { dst: VMAC, src: PEER_MAC, type: 0 });
    expect(await cap.count('ether dst 02:00:00:00:99:99')).toBe(0);
    // With the BPF filter the kernel drops them before any copy; without it, the relay does and counts them.
    const after = await vethd.stats();
    const notForUs = after.receive.drops.not_for_us - before.receive.drops.not_for_us;
    if (mode.kernelFilter) expect(notForUs).toBe(0);
    else expect(notForUs).toBeGreaterThanOrEqual(20);
  });

  test('5. a frame written into veth1 with a forged source MAC never reaches the peer', async () => {
    const cap = await Capture.start(lab, 'peer', 'eth0');
    const before = await vethd.stats();
    const forged = { dst: PEER_MAC, src: '02:00:00:00:66:66', type: 0x88b5 };
    await sendThenMarker(lab, cap, 'fw', 'veth1', forged, 20, { dst: PEER_MAC, src: VMAC, type: 0 });
    expect(await cap.count('ether src 02:00:00:00:66:66')).toBe(0);
    const after = await vethd.stats();
    expect(after.transmit.drops.spoofed_source - before.transmit.drops.spoofed_source).toBeGreaterThanOrEqual(20);
  });

  test('7. 802.1Q-tagged frames for the virtual MAC reach veth1 still tagged', async () => {
    const cap = await Capture.start(lab, 'fw', 'veth1');
    await sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: 0x88b5, vlan: 100 }], 10);
    await cap.waitCount(`vlan 100 and ether dst ${VMAC} and ether proto ${0x88b5}`, 10);
    await cap.stop();
    expect(await cap.count(`ether dst ${VMAC} and not vlan and ether proto ${0x88b5}`)).toBe(0);
  });

  test('8. while a stream of frames keeps the relay busy towards veth1, veth1 still answers pings', async () => {
    expect(vethIp).toBeDefined();
    const before = (await vethd.stats()).receive.frames;
    // 300,000 frames at 100 kpps: 3 s of bursts, so the relay pauses between them; the same thread must still serve veth1.
    let streaming = true;
    const stream = sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: 0x88b5 }], 300_000, 100_000).finally(() => {
      streaming = false;
    });
    await waitFor('the stream to reach veth1', async () => (await vethd.stats()).receive.frames - before > 10_000);
    const ping = await lab.exec('peer', 'ping', ['-c', '10', '-i', '0.1', '-W', '1', vethIp]);
    const overlapped = streaming;
    await stream;
    expect(overlapped).toBe(true);
    // A starved transmit side answers none; a ring overrun while other suites share the CPUs may cost a reply or two.
    expect(Number(/(\d+) received/.exec(ping.stdout)?.[1])).toBeGreaterThanOrEqual(8);
  });

  // The filter records the CPU each frame arrived on; under PACKET_FANOUT_CPU, frames received on CPU c go to queue c % 2.
  test.runIf(mode.follow !== 'off' && availableParallelism() >= 2)(
    '9. a relay thread waits pinned to the CPU its frames arrive on while traffic is sparse, and may run anywhere while it is dense',
    async () => {
      expect(vethIp).toBeDefined();
      const all = vethd.processCpus();
      expect(all).toMatch(/^0-\d+|^0,/);
      const queue = (cpu: number) => cpu % (mode.queues ?? 1);
      const sparse = (cpu: number) => lab.exec('peer', 'taskset', ['-c', String(cpu), 'ping', '-c', '3', '-i', '0.05', '-W', '1', vethIp]);
      await sparse(1);
      await waitFor(`vethd-q${queue(1)} pinned to CPU 1`, () => vethd.relayThreadCpus(queue(1)) === '1');

      // A flood ping from CPU 1 (the next echo as soon as the reply is in): dense, for at most 5 s.
      const flood = lab.spawn('peer', 'taskset', ['-c', '1', 'ping', '-f', '-w', '5', '-q', vethIp]);
      try {
        await waitFor(`vethd-q${queue(1)} free to run on every CPU`, () => vethd.relayThreadCpus(queue(1)) === all, 5_000, 10);
      } finally {
        flood.kill('SIGINT');
      }
      await sparse(1);
      await waitFor(`vethd-q${queue(1)} pinned to CPU 1 again`, () => vethd.relayThreadCpus(queue(1)) === '1');
      // Frames from another CPU: the thread that takes them moves there.
      await sparse(0);
      await waitFor(`vethd-q${queue(0)} pinned to CPU 0`, () => vethd.relayThreadCpus(queue(0)) === '0');
    },
  );

  test('writes to a vNIC that is down (EIO) are counted as tap_down and the relay keeps running', async () => {
    await lab.exec('fw', 'ip', ['link', 'set', 'veth1', 'down']);
    const before = await vethd.stats();
    await sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: 0x88b5 }], 10);
    await waitFor('10 tap_down drops', async () => (await vethd.stats()).receive.drops.tap_down - before.receive.drops.tap_down >= 10);
    await lab.exec('fw', 'ip', ['link', 'set', 'veth1', 'up']);
    const cap = await Capture.start(lab, 'fw', 'veth1');
    await sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: MARKER_TYPE }], 3);
    await cap.waitCount(`ether proto ${MARKER_TYPE}`, 3);
    await cap.stop();
    expect(vethd.child.exitCode).toBeNull();
  });

  test('fallback without virtio_net_hdr: partial checksums completed in software, dhclient gets a lease', async () => {
    const v = await startVethd(lab, ['-v', 'veth3', '-e', 'eth0', '-m', '02:00:c0:00:02:05', '--no-vnet-hdr']);
    try {
      // Logged just after the Attached line, which start() waited for: it may come in a later read.
      await waitFor('the relay-running line', () => v.log().includes('plain frames, checksums completed in software'));
      const ip = await lab.dhclient('fw', 'veth3');
      expect(lab.leases()).toContain(`02:00:c0:00:02:05 ${ip} `);
    } finally {
      await v.stop();
    }
  });

  test('--membership unicast: the vNIC MAC goes into the parent\'s unicast filter instead of promiscuous mode', async () => {
    const base = await promiscuity(lab, 'fw', 'eth0');
    const v = await startVethd(lab, ['-v', 'veth4', '-e', 'eth0', '-m', '02:00:c0:00:02:06', '--membership', 'unicast']);
    try {
      // veth has no unicast filter (IFF_UNICAST_FLT): the kernel falls back to promiscuous mode itself.
      const ip = await lab.dhclient('fw', 'veth4');
      expect(lab.leases()).toContain(`02:00:c0:00:02:06 ${ip} `);
      expect(await promiscuity(lab, 'fw', 'eth0')).toBeGreaterThanOrEqual(base);
    } finally {
      await v.stop();
    }
    await waitFor('eth0 promiscuity back to its baseline', async () => (await promiscuity(lab, 'fw', 'eth0')) === base);
  });

  test.each(['SIGTERM', 'SIGKILL'] as const)('6. after %s: no TAP left, parent promiscuity back', async (sig) => {
    const base = await promiscuity(lab, 'fw', 'eth0');
    const v = await startVethd(lab, ['-v', 'veth2', '-e', 'eth0', '-m', '02:00:c0:00:02:04']);
    expect(await linkExists(lab, 'fw', 'veth2')).toBe(true);
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(base + 1);
    const code = await v.stop(sig);
    if (sig === 'SIGTERM') expect(code).toBe(0);
    await waitFor('veth2 to disappear', async () => !(await linkExists(lab, 'fw', 'veth2')));
    await waitFor('eth0 promiscuity back to its baseline', async () => (await promiscuity(lab, 'fw', 'eth0')) === base);
  });
});

async function sha256(lab: Lab, host: 'fw' | 'peer', file: string): Promise<string> {
  const r = await lab.exec(host, 'sha256sum', [file]);
  return r.stdout.split(' ')[0];
}
