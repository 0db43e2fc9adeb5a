/**
 * --vlan: the vNIC as an access port of VLAN 100 on the parent. These
 * machines have no 8021q module, so the peer cannot have a VLAN interface:
 * it sends tagged (and wrongly tagged, and untagged) ARP requests with
 * trafgen, and tcpdump on both sides shows what crossed and how.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Lab, PEER_MAC } from '../../tools/lab/lab';
import { arpRequest, Capture, sendFrames, skipLab, VethdProcess } from './tools';

const VMAC = '02:00:c0:00:02:64';
const VNIC_IP = '198.51.100.2';
const PEER_VLAN_IP = '198.51.100.1';
const BCAST = 'ff:ff:ff:ff:ff:ff';
const ask = (vlan?: number) => ({ dst: BCAST, src: PEER_MAC, type: 0x0806, vlan, payload: arpRequest(PEER_MAC, PEER_VLAN_IP, VNIC_IP) });

describe.skipIf(skipLab).each([
  ['in the kernel (BPF filter)', []],
  ['in the relay (--no-kernel-filter)', ['--no-kernel-filter']],
])('an access port of VLAN 100, other VLANs dropped %s', (_mode, extra) => {
  let lab: Lab;
  let vethd: VethdProcess;
  let onWire: Capture;
  let onVnic: Capture;

  beforeAll(async () => {
    lab = await Lab.create('vlan');
    vethd = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC, '--vlan', '100', ...extra]);
    onWire = await Capture.start(lab, 'peer', 'eth0');
    onVnic = await Capture.start(lab, 'fw', 'veth1');
    await lab.exec('fw', 'ip', ['addr', 'add', `${VNIC_IP}/24`, 'dev', 'veth1']);
    // VLAN 200, untagged, then VLAN 100: frames on one path are handled in order.
    await sendFrames(lab, 'peer', 'eth0', [ask(200), ask(undefined), ask(100)]);
    await onWire.waitCount(`vlan 100 and ether src ${VMAC} and arp[6:2] = 2`, 1);
    await onVnic.waitCount(`ether src ${PEER_MAC} and arp`, 1);
    await onWire.stop();
    await onVnic.stop();
  });
  afterAll(async () => {
    await vethd?.stop();
    await lab?.destroy();
  });

  test('the tagged request reaches the vNIC untagged; the other two never do', async () => {
    expect(await onVnic.count(`ether src ${PEER_MAC} and arp`)).toBe(1);
    expect(await onVnic.count('vlan')).toBe(0);
  });

  test('the vNIC\'s frames leave tagged with VLAN 100: the ARP reply, and the gratuitous ARP for its new address', async () => {
    expect(await onWire.count(`vlan 100 and ether src ${VMAC} and arp[6:2] = 2 and arp[24:4] = 0xc6336401`)).toBe(1); // reply to 198.51.100.1
    expect(await onWire.count(`vlan 100 and ether src ${VMAC} and ether dst ${BCAST} and arp[6:2] = 1 and arp[14:4] = arp[24:4]`)).toBeGreaterThanOrEqual(1);
    expect(await onWire.count(`ether src ${VMAC} and not vlan`)).toBe(0);
  });

  test.runIf(extra.length > 0)('without the kernel filter, the relay counts them as wrong_vlan', async () => {
    const s = await vethd.stats();
    expect(s.receive.drops.wrong_vlan).toBeGreaterThanOrEqual(2);
  });
});

/**
 * Two vNICs on one parent, one an access port of VLAN 100 and one untagged
 * ([[vnic]] tables): each VLAN's frames reach its own vNIC only, a VLAN no
 * vNIC claims reaches the untagged one with its tag, and the VLAN 100 vNIC's
 * broadcasts never reach the untagged one.
 */
describe.skipIf(skipLab)('two vNICs on one parent: VLAN 100 and untagged', () => {
  const UMAC = '02:00:c0:00:02:65';
  let lab: Lab;
  let vethd: VethdProcess;
  let onTagged: Capture;
  let onUntagged: Capture;
  let onWire: Capture;

  beforeAll(async () => {
    lab = await Lab.create('vlan2');
    const conf = lab.file('vlans.toml', `eth = "eth0"\n[[vnic]]\nveth = "veth1"\nmac = "${VMAC}"\nvlan = 100\n[[vnic]]\nveth = "veth0"\nmac = "${UMAC}"\n`);
    vethd = await VethdProcess.start(lab, ['-c', conf]);
    onTagged = await Capture.start(lab, 'fw', 'veth1');
    onUntagged = await Capture.start(lab, 'fw', 'veth0');
    onWire = await Capture.start(lab, 'peer', 'eth0');
    await lab.exec('fw', 'ip', ['addr', 'add', `${VNIC_IP}/24`, 'dev', 'veth1']);
    await sendFrames(lab, 'peer', 'eth0', [ask(200), ask(undefined), ask(100)]);
    await onTagged.waitCount(`ether src ${PEER_MAC} and arp`, 1);
    await onUntagged.waitCount(`vlan 200 and arp`, 1);
    // veth1's gratuitous ARP on the wire: the relay hands a broadcast to its other vNICs before it sends it.
    await onWire.waitCount(`vlan 100 and ether src ${VMAC} and ether dst ${BCAST}`, 1);
    await Promise.all([onTagged.stop(), onUntagged.stop(), onWire.stop()]);
  });
  afterAll(async () => {
    await vethd?.stop();
    await lab?.destroy();
  });

  test('VLAN 100 reaches veth1 untagged; untagged and VLAN 200 reach veth0, VLAN 200 still tagged', async () => {
    expect(await onTagged.count(`ether src ${PEER_MAC} and arp`)).toBe(1);
    expect(await onTagged.count('vlan')).toBe(0);
    expect(await onUntagged.count(`ether src ${PEER_MAC} and arp`)).toBe(1);
    expect(await onUntagged.count(`vlan 200 and ether src ${PEER_MAC} and arp`)).toBe(1);
    expect(await onUntagged.count('vlan 100')).toBe(0);
  });

  test("veth1's broadcasts (its gratuitous ARP) stay in VLAN 100: veth0 never sees them", async () => {
    expect(await onUntagged.count(`ether src ${VMAC}`)).toBe(0);
  });
});
