/**
 * The host reaches its containers (issue 29): a vNIC inside a container's
 * namespace (--netns) and fw's own address on eth0, the parent, ping and
 * talk TCP both ways through the host path (a tc program on eth0's egress,
 * attached with a tcx link), where macvlan, the control, reaches only the
 * rest of the LAN: 0 of 2 pings either way, no TCP connection. vethd
 * --no-host-path shows the same 0 with the same binary; --no-vnet-hdr
 * carries the host's TCP (GSO, partial checksums) to the container too. The
 * relay never hands the vNIC a frame of its own (own_echo, mac_conflict and
 * a capture of what the vNIC receives), and nothing is left on eth0 after
 * vethd stops.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { run, tryRun, waitFor } from '../../tools/lab/exec';
import { FW_MAC, Lab, PEER_IP, type Host } from '../../tools/lab/lab';
import { Capture, linkExists, skipLab, VethdProcess } from './tools';

const HOST_IP = '192.0.2.10'; // fw's own address on eth0, the parent
const CTR_IP = '192.0.2.40';
const CTR_MAC = '02:00:c0:00:02:41';
const HOST_IP6 = '2001:db8::10';
const CTR_IP6 = '2001:db8::40';
const MARK = '0x56440000'; // as the mode line gives it
const NEW_FW_MAC = '02:00:00:00:0f:02';
const CTR2_IP = '192.0.2.41';
const CTR2_MAC = '02:00:c0:00:02:42';
let port = 5100;

/** Echo replies to `count` pings from host to ip (0 when none came back). */
async function pings(lab: Lab, from: Host, ip: string, count = 2): Promise<number> {
  const r = await lab.exec(from, 'sh', ['-c', `ping -n -c ${count} -i 0.2 -W 1 ${ip} || true`], 20_000);
  const m = /(\d+) received/.exec(r.stdout);
  if (!m) throw new Error(`no ping summary: ${r.stdout}`);
  return Number(m[1]);
}

/**
 * 4 MB over TCP from `from` to `to` (listening on toIp), content checked:
 * true when it arrived whole; false when the connection never came up (3 s).
 */
async function tcp(lab: Lab, from: Host, to: Host, toIp: string): Promise<boolean> {
  const data = randomBytes(4 << 20);
  const sha = createHash('sha256').update(data).digest('hex');
  const src = lab.file(`tcp-${port}.bin`, data);
  const dst = `${lab.dir}/into-${to}-${port}.bin`;
  const p = port++;
  const server = lab.spawn(to, 'socat', ['-u', `TCP-LISTEN:${p},bind=${toIp},reuseaddr`, `CREATE:${dst}`]);
  try {
    await waitFor(`socat to listen on ${to}`, async () => (await lab.exec(to, 'ss', ['-Hltn', `sport = :${p}`])).stdout.includes(String(p)));
    const sent = await tryRun('ip', ['netns', 'exec', lab.ns(from), 'socat', '-u', `OPEN:${src}`, `TCP:${toIp}:${p},connect-timeout=3`], { timeoutMs: 30_000 });
    if (!sent) return false;
    await waitFor('the transfer to finish', () => server.exitCode !== null, 20_000);
    const got = await lab.exec(to, 'sha256sum', [dst]);
    return got.stdout.split(' ')[0] === sha;
  } finally {
    server.kill('SIGKILL');
  }
}

/** The fields of vethd's "relay mode" line. */
function modeLine(v: VethdProcess): Record<string, unknown> {
  const line = v.log().split('\n').find((l) => l.includes('"msg":"relay mode"'));
  if (!line) throw new Error(`no relay mode line in: ${v.log()}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/**
 * The ids of the loaded programs named vethd_hostpath (bpftool prog show), or
 * undefined without bpftool. (Debian 12's bpftool 7.1 lists tcx links
 * without their device: the program's id, taken while vethd runs, is what a
 * later look names.)
 */
async function hostPrograms(): Promise<string[] | undefined> {
  if (!(await tryRun('sh', ['-c', 'command -v bpftool']))) return undefined;
  const r = await tryRun('bpftool', ['prog', 'show', 'name', 'vethd_hostpath']);
  return [...(r?.stdout ?? '').matchAll(/^(\d+): sched_cls\s+name vethd_hostpath/gm)].map((m) => m[1]);
}

/** Whether program id is still loaded (bpftool prog show id). */
async function programLoaded(id: string): Promise<boolean> {
  return (await tryRun('bpftool', ['prog', 'show', 'id', id])) !== undefined;
}

/** Nothing of vethd's left on fw's eth0: no tc filter or clsact qdisc, and none of the programs ids loaded. */
async function expectNoResidue(lab: Lab, ids: string[] | undefined): Promise<void> {
  expect((await lab.exec('fw', 'tc', ['filter', 'show', 'dev', 'eth0', 'egress'])).stdout).toBe('');
  expect((await lab.exec('fw', 'tc', ['qdisc', 'show', 'dev', 'eth0'])).stdout).not.toContain('clsact');
  for (const id of ids ?? []) await waitFor(`program ${id} to be unloaded`, async () => !(await programLoaded(id)));
}

/** Forget every neighbour, so each scenario starts with ARP. */
async function flushNeighbours(lab: Lab): Promise<void> {
  await lab.exec('fw', 'ip', ['neigh', 'flush', 'dev', 'eth0']);
  if (await linkExists(lab, 'ctr', 'eth0')) await lab.exec('ctr', 'ip', ['neigh', 'flush', 'dev', 'eth0']);
}

/** The container's eth0 given its address (the vNIC, or the macvlan moved in). */
async function addressContainer(lab: Lab): Promise<void> {
  await lab.exec('ctr', 'ip', ['addr', 'add', `${CTR_IP}/24`, 'dev', 'eth0', 'nodad']);
  await lab.exec('ctr', 'ip', ['link', 'set', 'eth0', 'up']);
}

describe.skipIf(skipLab)('the host and a container on its parent reach each other (the host path)', () => {
  let lab: Lab;
  /** Stops a vethd a failed test left running, so the next one starts clean. */
  let afterStop: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    lab = await Lab.create('hp', { container: true });
    await lab.exec('fw', 'ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', 'eth0', 'nodad']);
  });
  afterEach(async () => {
    await afterStop?.();
    afterStop = undefined;
    if (await linkExists(lab, 'ctr', 'eth0')) await waitFor('the container eth0 to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test('with the host path: pings and 4 MB of TCP both ways between fw and the container, the peer reached too; no echo; nothing left on eth0', async () => {
    await flushNeighbours(lab);
    const before = await hostPrograms();
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC]);
    let ids: string[] | undefined;
    try {
      expect(modeLine(v)).toMatchObject({ hostPath: 'on', hostPathMark: MARK });
      expect(modeLine(v).hostPathError).toBeUndefined();
      ids = (await hostPrograms())?.filter((id) => !before?.includes(id));
      if (ids) expect(ids).toHaveLength(1);
      await addressContainer(lab);
      const cap = await Capture.start(lab, 'ctr', 'eth0', { inbound: true });

      expect(await pings(lab, 'fw', CTR_IP)).toBe(2);
      expect(await pings(lab, 'ctr', HOST_IP)).toBe(2);
      expect(await pings(lab, 'ctr', PEER_IP)).toBe(2);
      // IPv6: neighbour discovery (the container's solicitations to a multicast group reach fw as copies).
      await lab.exec('fw', 'ip', ['-6', 'addr', 'add', `${HOST_IP6}/64`, 'dev', 'eth0', 'nodad']);
      await lab.exec('ctr', 'ip', ['-6', 'addr', 'add', `${CTR_IP6}/64`, 'dev', 'eth0', 'nodad']);
      expect(await pings(lab, 'fw', CTR_IP6)).toBe(2);
      expect(await pings(lab, 'ctr', HOST_IP6)).toBe(2);
      await lab.exec('fw', 'ip', ['-6', 'addr', 'del', `${HOST_IP6}/64`, 'dev', 'eth0']);
      expect(await tcp(lab, 'fw', 'ctr', CTR_IP)).toBe(true);
      expect(await tcp(lab, 'ctr', 'fw', HOST_IP)).toBe(true);

      // The relay gave the vNIC nothing of its own: the host path's copies of its ARP requests
      // never came back (the filter drops the mark at ingress), and none read as a MAC conflict.
      const s = await v.stats();
      expect(s.vnics[0].receive.drops.own_echo).toBe(0);
      expect(s.vnics[0].receive.drops.mac_conflict).toBe(0);
      expect(s.vnics[0].receive.bytes).toBeGreaterThan(4 << 20); // the host's 4 MB came through the relay
      await cap.stop();
      expect(await cap.count(`ether src ${CTR_MAC}`)).toBe(0);
      expect(await cap.count(`ether dst ${CTR_MAC}`)).toBeGreaterThan(100);
      // fw maps the container's address to the vNIC's MAC: its ARP reply reached fw's stack.
      expect((await lab.exec('fw', 'ip', ['neigh', 'show', CTR_IP])).stdout).toContain(CTR_MAC);
    } finally {
      expect(await v.stop()).toBe(0);
    }
    await expectNoResidue(lab, ids);
  }, 120_000);

  test('the host path gone on SIGKILL too: the tcx link goes with the process', async () => {
    const before = await hostPrograms();
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC]);
    const ids = (await hostPrograms())?.filter((id) => !before?.includes(id));
    try {
      expect(modeLine(v)).toMatchObject({ hostPath: 'on' });
      if (ids) expect(ids).toHaveLength(1);
    } finally {
      await v.stop('SIGKILL');
    }
    await waitFor('the container vNIC to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
    await expectNoResidue(lab, ids);
  }, 60_000);

  test('the host path follows the parent: deleted and re-created (a new link on the new device, capabilities long gone), then given another MAC', async () => {
    await flushNeighbours(lab);
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC]);
    afterStop = () => v.stop();
    await addressContainer(lab);
    expect(await pings(lab, 'ctr', HOST_IP)).toBe(2);

    // Re-created: a new ifindex (the old link went with the old device).
    await lab.unplug('fw');
    await waitFor('vethd to notice the parent is gone', () => v.log().includes('parent eth0 was deleted or left this namespace'));
    await lab.plug('fw');
    await lab.exec('fw', 'ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', 'eth0']);
    await waitFor('vethd to rebind', () => v.log().includes('packet socket rebound'));
    expect(v.log()).not.toContain('host path off');
    await flushNeighbours(lab);
    expect(await pings(lab, 'ctr', HOST_IP)).toBe(2);
    expect(await pings(lab, 'fw', CTR_IP)).toBe(2);

    // Another MAC on the same device: read again at the link event, the program follows.
    await lab.exec('fw', 'ip', ['link', 'set', 'dev', 'eth0', 'address', NEW_FW_MAC]);
    await waitFor('vethd to take the new MAC', () => v.log().includes("the parent's MAC changed"));
    await flushNeighbours(lab);
    expect(await pings(lab, 'ctr', HOST_IP)).toBe(2);
    expect((await lab.exec('ctr', 'ip', ['neigh', 'show', HOST_IP])).stdout).toContain(NEW_FW_MAC);
    expect(await tcp(lab, 'ctr', 'fw', HOST_IP)).toBe(true);
    await lab.exec('fw', 'ip', ['link', 'set', 'dev', 'eth0', 'address', FW_MAC]);
    expect(await v.stop()).toBe(0);
    afterStop = undefined;
  }, 120_000);

  test('--queues 2: every packet socket marked and filtered, one program for the parent: pings and TCP both ways, no echo', async () => {
    await flushNeighbours(lab);
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC, '--queues', '2']);
    afterStop = () => v.stop();
    expect(modeLine(v)).toMatchObject({ hostPath: 'on', queues: 2 });
    await addressContainer(lab);
    expect(await pings(lab, 'fw', CTR_IP)).toBe(2);
    expect(await pings(lab, 'ctr', HOST_IP)).toBe(2);
    expect(await tcp(lab, 'fw', 'ctr', CTR_IP)).toBe(true);
    expect(await tcp(lab, 'ctr', 'fw', HOST_IP)).toBe(true);
    const s = await v.stats();
    expect(s.vnics[0].receive.drops.own_echo + s.vnics[0].receive.drops.mac_conflict).toBe(0);
    expect(await v.stop()).toBe(0);
    afterStop = undefined;
  }, 120_000);

  test('two vethd on one parent (one mark): each container reaches fw, and the other container, once: no DUP!, no conflict', async () => {
    const ctr2 = `${lab.prefix}-ctr2`; // a second container, made and deleted here
    await run('ip', ['netns', 'add', ctr2]);
    const a = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC]);
    afterStop = () => a.stop();
    let b: VethdProcess | undefined;
    try {
      b = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', `/run/netns/${ctr2}`, '-m', CTR2_MAC]);
      expect(modeLine(b)).toMatchObject({ hostPath: 'on' });
      await addressContainer(lab);
      await run('ip', ['-n', ctr2, 'addr', 'add', `${CTR2_IP}/24`, 'dev', 'eth0']);
      await flushNeighbours(lab);
      const ping = async (ns: string, ip: string) => (await run('ip', ['netns', 'exec', ns, 'sh', '-c', `ping -n -c 3 -i 0.2 -W 1 ${ip} || true`])).stdout;
      for (const [from, to] of [[lab.ns('ctr'), HOST_IP], [ctr2, HOST_IP], [lab.ns('ctr'), CTR2_IP], [ctr2, CTR_IP], [lab.ns('fw'), CTR2_IP]]) {
        const out = await ping(from, to);
        expect(out, `${from} -> ${to}`).toContain('3 received');
        expect(out, `${from} -> ${to}`).not.toContain('DUP!');
      }
      for (const v of [a, b]) {
        const st = await v.stats();
        expect(st.vnics[0].receive.drops.own_echo + st.vnics[0].receive.drops.mac_conflict).toBe(0);
      }
      expect(await b.stop()).toBe(0);
      expect(await a.stop()).toBe(0);
      afterStop = undefined;
    } finally {
      await b?.stop();
      await run('ip', ['netns', 'del', ctr2]);
    }
  }, 120_000);

  test('--no-vnet-hdr: the host\'s TCP (GSO, partial checksums) reaches the container whole, and back', async () => {
    await flushNeighbours(lab);
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC, '--no-vnet-hdr']);
    afterStop = () => v.stop();
    expect(modeLine(v)).toMatchObject({ hostPath: 'on', vnetHdr: false });
    await addressContainer(lab);
    expect(await pings(lab, 'fw', CTR_IP)).toBe(2);
    expect(await pings(lab, 'ctr', HOST_IP)).toBe(2);
    expect(await tcp(lab, 'fw', 'ctr', CTR_IP)).toBe(true);
    expect(await tcp(lab, 'ctr', 'fw', HOST_IP)).toBe(true);
    const s = await v.stats();
    expect(s.vnics[0].receive.drops.own_echo + s.vnics[0].receive.drops.mac_conflict).toBe(0);
    expect(await v.stop()).toBe(0);
    await waitFor('the container vNIC to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
  }, 120_000);

  test('controls: vethd --no-host-path and macvlan reach the peer but not fw (0 of 2 pings either way, no TCP)', async () => {
    // vethd without the host path: the container's frames to fw's MAC leave on the wire.
    await flushNeighbours(lab);
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC, '--no-host-path']);
    afterStop = () => v.stop();
    expect(modeLine(v)).toMatchObject({ hostPath: 'off', hostPathMark: MARK });
    expect(modeLine(v).hostPathError).toBeUndefined(); // turned off, not refused
    await addressContainer(lab);
    expect(await pings(lab, 'ctr', PEER_IP)).toBe(2);
    expect(await pings(lab, 'fw', CTR_IP)).toBe(0);
    expect(await pings(lab, 'ctr', HOST_IP)).toBe(0);
    expect(await tcp(lab, 'ctr', 'fw', HOST_IP)).toBe(false);
    expect(await v.stop()).toBe(0);
    await waitFor('the container vNIC to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));

    // macvlan (bridge mode), moved into the container as its eth0: the same 0.
    await flushNeighbours(lab);
    await lab.exec('fw', 'ip', ['link', 'add', 'mv0', 'link', 'eth0', 'address', CTR_MAC, 'type', 'macvlan', 'mode', 'bridge']);
    await lab.exec('fw', 'ip', ['link', 'set', 'mv0', 'netns', lab.ns('ctr')]);
    await lab.exec('ctr', 'ip', ['link', 'set', 'mv0', 'name', 'eth0']);
    await addressContainer(lab);
    try {
      expect(await pings(lab, 'ctr', PEER_IP)).toBe(2);
      expect(await pings(lab, 'fw', CTR_IP)).toBe(0);
      expect(await pings(lab, 'ctr', HOST_IP)).toBe(0);
      expect(await tcp(lab, 'ctr', 'fw', HOST_IP)).toBe(false);
    } finally {
      await lab.exec('ctr', 'ip', ['link', 'del', 'eth0']);
    }
  }, 120_000);
});
