/**
 * --netns: the vNIC is created inside a container's network namespace while
 * the packet socket stays on the parent in fw; the container gets its own
 * DHCP lease through it, and nothing is left in either namespace afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_IP } from '../../tools/lab/lab';
import { linkExists, skipLab, VethdProcess } from './tools';

const CTR_MAC = '02:00:c0:00:02:40';

describe.skipIf(skipLab)('a vNIC inside a container namespace (--netns)', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await Lab.create('ctr', { container: true });
    await lab.startDhcpServer();
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  test('the container gets its own lease and reaches the peer; the vNIC is named eth0 like the parent', async () => {
    const before = (await lab.exec('fw', 'ip', ['-o', 'link', 'show'])).stdout;
    const v = await VethdProcess.start(lab, ['-v', 'eth0', '-e', 'eth0', '--netns', lab.ns('ctr'), '-m', CTR_MAC]);
    expect(v.stdout()).toContain(`Attached eth0 into eth0 (${CTR_MAC}) in network namespace /run/netns/${lab.ns('ctr')}`);
    const link = await lab.exec('ctr', 'ip', ['-d', 'link', 'show', 'dev', 'eth0']);
    expect(link.stdout).toContain(`link/ether ${CTR_MAC}`);
    expect(link.stdout).toContain('tun type tap');

    const ip = await lab.dhclient('ctr', 'eth0');
    expect(lab.leases()).toContain(`${CTR_MAC} ${ip}`);
    const ping = await lab.exec('ctr', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', PEER_IP]);
    expect(ping.stdout).toContain('2 received');
    // the vNIC's ARP flux guard was set inside the container, where the vNIC is
    const sysctl = await lab.exec('ctr', 'sysctl', ['-n', 'net.ipv4.conf.eth0.arp_ignore', 'net.ipv4.conf.eth0.arp_announce']);
    expect(sysctl.stdout.split('\n').filter(Boolean)).toEqual(['1', '2']);

    expect(await v.stop()).toBe(0);
    await waitFor('the container vNIC to go', async () => !(await linkExists(lab, 'ctr', 'eth0')));
    expect((await lab.exec('fw', 'ip', ['-o', 'link', 'show'])).stdout).toBe(before);
  });
});
