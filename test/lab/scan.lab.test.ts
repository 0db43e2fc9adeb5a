/**
 * A scanner's view: `arp-scan --localnet` from the peer lists each vNIC with
 * its own MAC, once (no ARP flux duplicates), and the vendor when the OUI is
 * registered (IEEE data in arp-scan's own file), beside the parent and the
 * lab's third station.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FW_MAC, Lab, OTHER_IP, OTHER_MAC } from '../../tools/lab/lab';
import { skipLab, VethdProcess } from './tools';

const LOCAL_MAC = '02:00:c0:00:02:0c';

describe.skipIf(skipLab)('arp-scan --localnet from the peer', () => {
  let lab: Lab;
  const vethds: VethdProcess[] = [];
  let xenMac: string;

  beforeAll(async () => {
    lab = await Lab.create('scan');
    await lab.exec('fw', 'ip', ['addr', 'add', '192.0.2.10/24', 'dev', 'eth0']);
    vethds.push(await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', 'oui:00:16:3e']));
    vethds.push(await VethdProcess.start(lab, ['-v', 'veth2', '-e', 'eth0', '-m', LOCAL_MAC]));
    xenMac = /\(([0-9a-f:]{17})\)/.exec(vethds[0].stdout())![1];
    await lab.exec('fw', 'ip', ['addr', 'add', '192.0.2.11/24', 'dev', 'veth1']);
    await lab.exec('fw', 'ip', ['addr', 'add', '192.0.2.12/24', 'dev', 'veth2']);
  });
  afterAll(async () => {
    for (const v of vethds) await v.stop();
    await lab?.destroy();
  });

  test('each vNIC once, at its own MAC, with the vendor of a registered OUI', async () => {
    const r = await lab.exec('peer', 'arp-scan', ['-I', 'eth0', '--localnet', '--retry=2', '--timeout=300']);
    const rows = r.stdout.split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+\t/.test(l)).map((l) => l.split('\t'));
    rows.sort((a, b) => Number(a[0].split('.')[3]) - Number(b[0].split('.')[3]));
    expect(rows).toEqual([
      [OTHER_IP, OTHER_MAC, '(Unknown: locally administered)'],
      ['192.0.2.10', FW_MAC, '(Unknown: locally administered)'],
      ['192.0.2.11', xenMac, 'Xensource, Inc.'],
      ['192.0.2.12', LOCAL_MAC, '(Unknown: locally administered)'],
    ]);
    expect(xenMac.startsWith('00:16:3e:')).toBe(true);
  });
});
