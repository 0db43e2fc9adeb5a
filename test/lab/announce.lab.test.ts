/**
 * Announcements: the peer holds stale neighbour entries for addresses at an
 * old MAC (as after the address moved from another host); when the vNIC gains
 * the address, or comes up holding it, the peer's entry flips to the vNIC's
 * MAC at once, without the peer asking: a gratuitous ARP for IPv4, an
 * unsolicited neighbour advertisement (after DAD) for IPv6.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab } from '../../tools/lab/lab';
import { skipLab, VethdProcess } from './tools';

const VMAC = '02:00:c0:00:02:32';
const OLD_MAC = '02:00:00:00:99:99';
const IP4 = '192.0.2.50';
const IP6 = '2001:db8::50';

describe.skipIf(skipLab)('gratuitous ARP and unsolicited neighbour advertisements', () => {
  let lab: Lab;
  let vethd: VethdProcess;

  /** The peer's neighbour entry for ip, as `ip neigh` prints it. */
  const neigh = async (ip: string) => (await lab.exec('peer', 'ip', ['neigh', 'show', ip, 'dev', 'eth0'])).stdout.trim();
  /** Give the peer a stale entry for ip at the old MAC. */
  const stale = (ip: string) => lab.exec('peer', 'ip', ['neigh', 'replace', ip, 'lladdr', OLD_MAC, 'dev', 'eth0', 'nud', 'stale']);
  /** Wait until the peer maps ip to the vNIC's MAC; "at once": well within the first repeat (2 s). */
  const flipped = (ip: string, ms: number) => waitFor(`the peer to map ${ip} to ${VMAC}`, async () => (await neigh(ip)).includes(`lladdr ${VMAC}`), ms);

  beforeAll(async () => {
    lab = await Lab.create('garp');
    await lab.exec('peer', 'ip', ['addr', 'add', '2001:db8::1/64', 'dev', 'eth0', 'nodad']);
    vethd = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC]);
  });
  afterAll(async () => {
    await vethd?.stop();
    await lab?.destroy();
  });

  test('IPv4: a new address on the vNIC flips the peer\'s entry at once', async () => {
    await stale(IP4);
    expect(await neigh(IP4)).toContain(`lladdr ${OLD_MAC}`);
    await lab.exec('fw', 'ip', ['addr', 'add', `${IP4}/24`, 'dev', 'veth1']);
    await flipped(IP4, 1500);
    expect(vethd.log()).toContain(`"msg":"announcing ${IP4} (gratuitous ARP)"`);
  });

  test('IPv6: once DAD is done, an unsolicited neighbour advertisement flips it', async () => {
    await stale(IP6);
    await lab.exec('fw', 'ip', ['addr', 'add', `${IP6}/64`, 'dev', 'veth1']);
    // DAD takes about a second (one probe, RetransTimer 1 s); the NA follows it at once.
    await flipped(IP6, 5000);
    expect(vethd.log()).toContain(`"msg":"announcing ${IP6} (unsolicited neighbour advertisement)"`);
  });

  test('the vNIC coming up announces the addresses it holds', async () => {
    await lab.exec('fw', 'ip', ['link', 'set', 'veth1', 'down']);
    await stale(IP4);
    await lab.exec('fw', 'ip', ['link', 'set', 'veth1', 'up']);
    await flipped(IP4, 1500);
  });
});
