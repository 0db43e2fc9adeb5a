/**
 * Robustness in the namespace lab: the network changes under a running vethd
 * (parent link flaps, the parent deleted and re-created, the socket buffer
 * overrun, the vNIC deleted from outside) and hostile frames from the vNIC
 * side (forged ARP). Each step is bounded in time.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, OTHER_IP, OTHER_MAC, PEER_IP, PEER_MAC } from '../../tools/lab/lab';
import { arpRequest, Capture, linkExists, MARKER_TYPE, promiscuity, sendFrames, sendThenMarker, skipLab, statusField, threads, VethdProcess } from './tools';

const VMAC = '02:00:c0:00:02:13';
const FORGED = '02:00:00:00:66:66';
const ETH_P_ARP = 0x0806;

describe.skipIf(skipLab)('robustness in the namespace lab', () => {
  let lab: Lab;
  let vethd: VethdProcess;
  let vethIp: string;

  /** One ping from the peer to veth1's address answered, trying every 50 ms for at most deadlineS seconds. */
  const pingVeth = async (deadlineS: number) => {
    const r = await lab.exec('peer', 'ping', ['-n', '-q', '-c', '1', '-i', '0.05', '-w', String(deadlineS), vethIp]).catch((e: Error) => e);
    return !(r instanceof Error);
  };

  beforeAll(async () => {
    lab = await Lab.create('robust');
    await lab.startDhcpServer();
    vethd = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC]);
    vethIp = await lab.dhclient('fw', 'veth1');
  });

  afterAll(async () => {
    await vethd?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  test('parent link down and up 20 times: the relay resumes within 1 s of each link-up, and a DHCP renew succeeds', async () => {
    expect(await pingVeth(5)).toBe(true);
    const resume: number[] = [];
    for (let i = 0; i < 20; i++) {
      await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'down']);
      await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'up']);
      const t0 = performance.now();
      const ok = await pingVeth(2);
      resume.push(performance.now() - t0);
      expect(ok, `flap ${i + 1}: no reply through the relay within 2 s of link-up`).toBe(true);
    }
    // Measured from the link-up command's return to the reply, process start-up included.
    expect(Math.max(...resume)).toBeLessThan(1000);
    expect(vethd.child.exitCode).toBeNull();
    expect(await lab.dhclient('fw', 'veth1')).toBe(vethIp);
    // Each change was heard from rtnetlink and logged.
    await waitFor('20 link-up lines', () => vethd.log().split('parent link eth0 is up').length - 1 >= 20);
  });

  test('parent deleted and re-created with the same name (new ifindex): vethd rebinds and traffic resumes', async () => {
    const ifindex = async () => Number((await lab.exec('fw', 'cat', ['/sys/class/net/eth0/ifindex'])).stdout);
    const before = await ifindex();
    await lab.unplug('fw');
    await waitFor('vethd to notice the parent is gone', () => vethd.log().includes('parent eth0 was deleted or left this namespace'));
    await lab.plug('fw');
    const after = await ifindex();
    expect(after).not.toBe(before);
    await waitFor('vethd to rebind', () => vethd.log().includes(`parent eth0 is back (ifindex ${after}): packet socket rebound`));
    // The promiscuous membership is back on the new device, and frames flow both ways again.
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(1);
    expect(await pingVeth(5)).toBe(true);
    expect(vethd.child.exitCode).toBeNull();
  });

  test('--queues 2 started while the parent is down relays once it is up', async () => {
    await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'down']);
    let mq: VethdProcess | undefined;
    try {
      mq = await VethdProcess.start(lab, ['-v', 'veth3', '-e', 'eth0', '-m', '02:00:c0:00:02:15', '--queues', '2']);
    } finally {
      await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'up']);
    }
    try {
      const cap = await Capture.start(lab, 'fw', 'veth3');
      await sendFrames(lab, 'peer', 'eth0', [{ dst: '02:00:c0:00:02:15', src: PEER_MAC, type: MARKER_TYPE }]);
      await cap.waitCount(`ether proto ${MARKER_TYPE}`, 1);
      await cap.stop();
    } finally {
      await mq.stop();
    }
    expect(await pingVeth(5)).toBe(true);
  });

  test('with --queues 2 a re-created parent cannot be rebound (fanout members): exit 1, one line, no vNIC left', async () => {
    const mq = await VethdProcess.start(lab, ['-v', 'veth2', '-e', 'eth0', '-m', '02:00:c0:00:02:14', '--queues', '2']);
    const rebinds = () => vethd.log().split('packet socket rebound').length - 1;
    const before = rebinds();
    await lab.unplug('fw');
    await lab.plug('fw');
    const code = await waitFor('vethd --queues 2 to exit', () => mq.child.exitCode ?? undefined);
    expect(code).toBe(1);
    expect(mq.log()).toMatch(/vethd: eth0: cannot rebind packet sockets in a fanout group \(restart vethd\): Invalid argument \(EINVAL\)/);
    expect((await lab.exec('fw', 'ip', ['-o', 'link', 'show'])).stdout).not.toMatch(/veth2/);
    // The single-queue vethd rebinds as before.
    await waitFor('the single-queue vethd to rebind', () => rebinds() > before);
    expect(await pingVeth(5)).toBe(true);
  });

  test('socket buffer overrun while vethd is stopped: kernel drops counted as socket_overrun, never fatal', async () => {
    const before = await vethd.stats();
    vethd.child.kill('SIGSTOP');
    try {
      await sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: 0x88b5 }], 60_000);
    } finally {
      vethd.child.kill('SIGCONT');
    }
    const after = await vethd.stats();
    expect(after.receive.drops.socket_overrun - before.receive.drops.socket_overrun).toBeGreaterThan(0);
    expect(await pingVeth(5)).toBe(true);
  });

  test('other stations\' unicast never reaches veth1, even with the parent promiscuous and the switch flooding', async () => {
    // A hub: the bridge forgets addresses at once and floods all unicast; eth0 itself promiscuous.
    await lab.exec('sw', 'ip', ['link', 'set', 'br0', 'type', 'bridge', 'ageing_time', '0']);
    await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'promisc', 'on']);
    try {
      const onParent = await Capture.start(lab, 'fw', 'eth0');
      const onVnic = await Capture.start(lab, 'fw', 'veth1');
      const before = await vethd.stats();
      const ping = await lab.exec('peer', 'ping', ['-n', '-q', '-c', '20', '-i', '0.01', '-W', '2', OTHER_IP]);
      expect(ping.stdout).toContain('20 received');
      const icmp = `icmp and host ${PEER_IP} and host ${OTHER_IP}`;
      // The parent saw the conversation (the control), the vNIC none of it.
      await onParent.waitCount(icmp, 40);
      await sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: MARKER_TYPE }]);
      await onVnic.waitCount(`ether proto ${MARKER_TYPE}`, 1);
      await onVnic.stop();
      await onParent.stop();
      expect(await onVnic.count(icmp)).toBe(0);
      // (its broadcast ARP is for everyone, the vNIC included)
      expect(await onVnic.count(`ether host ${OTHER_MAC} and not ether broadcast and not ether multicast`)).toBe(0);
      // The kernel's BPF filter dropped them: the relay never even read them.
      const after = await vethd.stats();
      expect(after.receive.drops.not_for_us - before.receive.drops.not_for_us).toBe(0);
    } finally {
      await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'promisc', 'off']);
      await lab.exec('sw', 'ip', ['link', 'set', 'br0', 'type', 'bridge', 'ageing_time', '30000']);
    }
  });

  test('ARP with a foreign sender hardware address never leaves; --no-anti-spoofing lets it through', async () => {
    const forgedArp = (src: string) => ({ dst: 'ff:ff:ff:ff:ff:ff', src, type: ETH_P_ARP, payload: arpRequest(FORGED, '192.0.2.77', PEER_IP) });
    // Only the forged frames: the vNIC's own stack may ARP for the peer meanwhile, from the same source.
    const forgedOnly = (src: string) => `arp and ether src ${src} and arp[8:2] = 0x${FORGED.slice(0, 5).replace(':', '')} and arp[10:4] = 0x${FORGED.slice(6).replace(/:/g, '')}`;
    const cap = await Capture.start(lab, 'peer', 'eth0');
    const before = await vethd.stats();
    await sendThenMarker(lab, cap, 'fw', 'veth1', forgedArp(VMAC), 20, { dst: PEER_MAC, src: VMAC, type: 0 });
    expect(await cap.count(forgedOnly(VMAC))).toBe(0);
    const after = await vethd.stats();
    expect(after.transmit.drops.spoofed_arp - before.transmit.drops.spoofed_arp).toBeGreaterThanOrEqual(20);

    // The same frames through a vNIC with anti-spoofing off (a bridge-port set-up) do arrive.
    const open = await VethdProcess.start(lab, ['-v', 'veth2', '-e', 'eth0', '-m', '02:00:c0:00:02:14', '--no-anti-spoofing']);
    try {
      const cap2 = await Capture.start(lab, 'peer', 'eth0');
      await sendThenMarker(lab, cap2, 'fw', 'veth2', forgedArp('02:00:c0:00:02:14'), 5, { dst: PEER_MAC, src: '02:00:c0:00:02:14', type: 0 });
      expect(await cap2.count(forgedOnly('02:00:c0:00:02:14'))).toBe(5);
    } finally {
      await open.stop();
    }
  });

  test('SIGHUP reopens the log file (logrotate) and re-reads the config without touching the vNIC', async () => {
    const log = `${lab.dir}/vethd3.log`;
    const conf = lab.file('vethd3.toml', `veth = "veth3"\neth = "eth0"\nmac = "02:00:c0:00:02:15"\nlog-file = "${log}"\n`);
    const v = await VethdProcess.start(lab, ['-c', conf]);
    try {
      const ifindex = async () => (await lab.exec('fw', 'cat', ['/sys/class/net/veth3/ifindex'])).stdout.trim();
      const before = await ifindex();
      await waitFor('the log file to fill', () => existsSync(log) && readFileSync(log, 'utf8').includes('relay running'));
      renameSync(log, `${log}.1`);
      writeFileSync(conf, `veth = "veth3"\neth = "eth0"\nmac = "02:00:c0:00:02:15"\nlog-file = "${log}"\nanti-spoofing = false\n`);
      v.child.kill('SIGHUP');
      await waitFor('the reload line in a new log file', () => existsSync(log) && readFileSync(log, 'utf8').includes('SIGHUP: config reloaded'));
      expect(readFileSync(log, 'utf8')).toContain('"antiSpoofing":false');
      expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('SIGHUP');
      expect(await ifindex()).toBe(before);
      expect(v.child.exitCode).toBeNull();
    } finally {
      await v.stop();
    }
  });

  test('after set-up vethd holds no capability: every thread (main, relay, Node.js\'s own) has empty sets and no_new_privs', async () => {
    const pid = vethd.child.pid ?? 0;
    const tasks = threads(pid);
    const main = tasks.find((t) => t.tid === String(pid))?.status ?? '';
    for (const key of ['CapEff', 'CapPrm', 'CapInh', 'CapAmb']) expect(statusField(main, key), key).toBe('0000000000000000');
    // The one Node.js thread that blocks every signal (its inspector SIGUSR1 watcher) too: caps.h says how it is asked.
    for (const t of tasks) {
      expect(statusField(t.status, 'CapPrm'), `thread ${t.tid} (${t.comm}) CapPrm`).toBe('0000000000000000');
      expect(statusField(t.status, 'NoNewPrivs'), `thread ${t.tid} (${t.comm}) NoNewPrivs`).toBe('1');
    }
    expect(tasks.length).toBeGreaterThanOrEqual(4); // main + 2 relay threads + Node's own
    expect(vethd.log()).toMatch(/capabilities dropped \((\d+) of \1 threads hold none\)"/);
  });

  test('without CAP_BPF the kernel filter stays classic, the one relay thread does not follow its frames and the host path is off: each said once, with the errno', async () => {
    // The bounding set without CAP_BPF and CAP_SYS_ADMIN (either lets bpf() load the program), as under the shipped unit.
    const v = await VethdProcess.start(lab, ['-v', 'vnobpf', '-e', 'eth0', '-m', '02:00:c0:00:02:14', '--probe-window', '0'], ['setpriv', '--bounding-set', '-bpf,-sys_admin', '--']);
    const lines = (has: string) => v.stdout().split('\n').filter((l) => l.includes(has)).map((l) => JSON.parse(l) as Record<string, unknown>);
    try {
      await waitFor('the following hint', () => lines('"followCpuError"').length > 0);
      expect(lines('"msg":"relay mode"')).toEqual([expect.objectContaining({ kernelFilter: true, followCpu: 'off', hostPath: 'off' })]);
      const hints = lines('"followCpuError"');
      expect(hints).toHaveLength(1);
      expect(hints[0]).toMatchObject({ followCpuError: 'Operation not permitted (EPERM)' });
      expect(String(hints[0].msg)).toMatch(/^the relay thread does not follow its frames: .*CAP_BPF/);
      // The host path's program is refused the same way: the relay runs on without it (issue 29).
      const host = lines('"hostPathError"');
      expect(host).toHaveLength(1);
      expect(host[0]).toMatchObject({ hostPathError: 'Operation not permitted (EPERM)' });
      expect(String(host[0].msg)).toMatch(/^host path off: .*it needs CAP_BPF and the bpf\(\) system call at start/);
    } finally {
      expect(await v.stop()).toBe(0);
    }
    expect(await linkExists(lab, 'fw', 'vnobpf')).toBe(false);
  });

  test('the vNIC deleted from outside: exit 1, one line that says so, the membership dropped', async () => {
    await lab.exec('fw', 'ip', ['link', 'del', 'veth1']);
    const code = await waitFor('vethd to exit', () => vethd.child.exitCode ?? undefined);
    expect(code).toBe(1);
    expect(vethd.log()).toMatch(/vethd: veth1: relay stopped reading the TAP: File descriptor in bad state \(EBADFD\); the vNIC was deleted from outside/);
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(0);
  });
});
