/**
 * Hostile tenants: what a program inside a vNIC (a container's, say) writes
 * into it, sent with a raw socket as an attacker would (test/lab/rawsend.c),
 * and what of it reaches the wire, captured on the switch port that faces
 * the parent (p-fw: a Linux bridge never forwards the 01:80:c2:00:00:0X
 * groups, so the far side would not show them). Each case sends its frames,
 * then a marker frame from the same vNIC: one vNIC's frames are relayed in
 * order, so once the marker is on the wire the frames before it were judged.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_MAC } from '../../tools/lab/lab';
import { Capture, linkExists, MARKER_TYPE, promiscuity, skipLab, VethdProcess } from './tools';

const VMAC = '02:00:c0:00:02:21';
const AMAC = '02:00:c0:00:02:22'; // an access port of VLAN 100
const GMAC = '02:00:c0:00:02:23'; // --ra-guard --dhcp-guard
const FORGED = '02:00:00:00:66:66';
const BCAST = 'ff:ff:ff:ff:ff:ff';

const macBytes = (m: string) => m.split(':').map((o) => Number.parseInt(o, 16));
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
/** An Ethernet frame, padded to the 60-byte minimum. */
const eth = (dst: string, src: string, type: number, payload: number[]) => {
  const f = [...macBytes(dst), ...macBytes(src), ...be16(type), ...payload];
  return [...f, ...Array<number>(Math.max(0, 60 - f.length)).fill(0)];
};
const ipv4 = (proto: number, src: number[], dst: number[], payload: number[]) => [0x45, 0, ...be16(20 + payload.length), 0, 0, 0, 0, 64, proto, 0, 0, ...src, ...dst, ...payload];
const ipv6 = (nh: number, src: number[], dst: number[], payload: number[]) => [0x60, 0, 0, 0, ...be16(payload.length), nh, 255, ...src, ...dst, ...payload];
const udp = (sport: number, dport: number, payload: number[]) => [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
const LL6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21];
const ALL_NODES = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SOLICITED = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0x01];
/** An ICMPv6 neighbour solicitation for fe80::1 with a source link-layer address option naming lladdr. */
const ns = (src: string, lladdr: string) =>
  eth('33:33:ff:00:00:01', src, 0x86dd, ipv6(58, LL6, SOLICITED, [135, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, ...macBytes(lladdr)]));
/** A router advertisement from src (lifetime 1800 s) with its source link-layer address. */
const ra = (src: string) => eth('33:33:00:00:00:01', src, 0x86dd, ipv6(58, LL6, ALL_NODES, [134, 0, 0, 0, 64, 0, ...be16(1800), 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, ...macBytes(src)]));
/** A BOOTP message (RFC 2131) from sport to dport: op 1 (request) or 2 (reply) for chaddr. */
const bootp = (src: string, sport: number, dport: number, op: number, chaddr: string) => {
  const msg = [op, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, ...Array<number>(20).fill(0), ...macBytes(chaddr), ...Array<number>(10 + 192).fill(0), 0x63, 0x82, 0x53, 0x63, 53, 1, op === 1 ? 1 : 2, 255];
  return eth(BCAST, src, 0x0800, ipv4(17, [0, 0, 0, 0], [255, 255, 255, 255], udp(sport, dport, msg)));
};
/** An ARP (0x0806) or RARP (0x8035) request whose sender hardware address is sha. */
const arp = (src: string, type: number, sha: string) => eth(BCAST, src, type, [0, 1, 8, 0, 6, 4, 0, type === 0x8035 ? 3 : 1, ...macBytes(sha), 192, 0, 2, 77, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1]);
/** A 16-bit TCI-tagged (tpid) frame from src carrying an IPv4 EtherType inside. */
const tagged = (src: string, tpid: number, vid: number) => eth(PEER_MAC, src, tpid, [...be16(vid), 0x08, 0x00, ...Array<number>(46).fill(0x41)]);
const hex = (bytes: number[]) => Buffer.from(bytes).toString('hex');
/** A struct virtio_net_hdr, little-endian as on x86 and arm64: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset. */
const vnetHdr = (flags: number, gso: number, hdrLen: number, gsoSize: number, start: number, offset: number) => {
  const b = Buffer.alloc(10);
  b.writeUInt8(flags, 0);
  b.writeUInt8(gso, 1);
  b.writeUInt16LE(hdrLen, 2);
  b.writeUInt16LE(gsoSize, 4);
  b.writeUInt16LE(start, 6);
  b.writeUInt16LE(offset, 8);
  return b.toString('hex');
};
/** A pcap filter for ARP frames whose sender hardware address is not mac. */
const arpSenderNot = (mac: string) => {
  const b = macBytes(mac).map((x) => x.toString(16).padStart(2, '0'));
  return `arp and not (arp[8:2] = 0x${b[0]}${b[1]} and arp[10:4] = 0x${b.slice(2).join('')})`;
};

describe.skipIf(skipLab)('hostile tenants: what a vNIC may put on the wire', () => {
  let lab: Lab;
  let rawsend: string;
  let plain: VethdProcess;
  let access: VethdProcess;

  /** Send frames (count copies of each) from host/ifname, then a marker from src, and return the switch port's capture of it all. */
  const sendAndCapture = async (ifname: string, src: string, frames: { frame: number[]; vnet?: string }[], count: number): Promise<Capture> => {
    const cap = await Capture.start(lab, 'sw', 'p-fw');
    for (const { frame, vnet } of frames) await lab.exec('fw', rawsend, [ifname, String(count), hex(frame), ...(vnet ? [vnet] : [])]);
    await lab.exec('fw', rawsend, [ifname, '1', hex(eth(PEER_MAC, src, MARKER_TYPE, [1, 2, 3]))]);
    await cap.waitCount(`ether proto ${MARKER_TYPE} or (vlan and ether proto ${MARKER_TYPE})`, 1); // an access port's is tagged
    await cap.stop();
    return cap;
  };

  beforeAll(async () => {
    lab = await Lab.create('tenant');
    rawsend = path.join(lab.dir, 'rawsend');
    execFileSync('cc', ['-std=gnu11', '-O1', '-Wall', '-Werror', '-o', rawsend, path.join(__dirname, 'rawsend.c')]);
    // The parent computes checksums in software, as many NICs' drivers and every tx-off set-up do:
    // a checksum request then becomes bytes on the wire, wherever it points.
    await lab.exec('fw', 'ethtool', ['-K', 'eth0', 'tx', 'off']);
    // The vNICs' own stacks stay quiet (no DAD, router solicitations or MLD): the wire carries only what the tests send.
    await lab.exec('fw', 'sysctl', ['-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
    plain = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC, '--announce', '0']);
    access = await VethdProcess.start(lab, ['-v', 'veth2', '-e', 'eth0', '-m', AMAC, '--vlan', '100', '--announce', '0']);
  });
  afterAll(async () => {
    await plain?.stop();
    await access?.stop();
    await lab?.destroy();
  });

  test('a checksum request aimed at an ARP sender is refused and counted (bad_vnet_hdr), never written on the wire', async () => {
    const before = (await plain.stats()).transmit.drops.bad_vnet_hdr;
    // NEEDS_CSUM, csum_start 26 (the last two bytes of the sender hardware address), csum_offset 0
    const cap = await sendAndCapture('veth1', VMAC, [{ frame: arp(VMAC, 0x0806, VMAC), vnet: vnetHdr(1, 0, 0, 0, 26, 0) }], 10);
    expect(await cap.count(`ether src ${VMAC} and ${arpSenderNot(VMAC)}`)).toBe(0);
    expect((await plain.stats()).transmit.drops.bad_vnet_hdr - before).toBe(10);
    // The same frame without the request goes out unchanged (the control).
    const ok = await sendAndCapture('veth1', VMAC, [{ frame: arp(VMAC, 0x0806, VMAC) }], 3);
    expect(await ok.count(`arp and ether src ${VMAC}`)).toBeGreaterThanOrEqual(3);
  });

  test('an access port\'s frames that carry a tag of their own are dropped and counted (vlan_hop)', async () => {
    const before = (await access.stats()).transmit.drops.vlan_hop;
    const cap = await sendAndCapture('veth2', AMAC, [{ frame: tagged(AMAC, 0x8100, 200) }, { frame: tagged(AMAC, 0x88a8, 300) }, { frame: tagged(AMAC, 0x9100, 400) }], 5);
    expect(await cap.count(`ether src ${AMAC}`)).toBe(1); // the marker alone: no frame with VLAN 200, 300 or 400 inside 100
    expect(await cap.count(`vlan 100 and ether proto ${MARKER_TYPE}`)).toBe(1); // its own frames leave tagged 100
    expect((await access.stats()).transmit.drops.vlan_hop - before).toBe(15);
  });

  test('link-local control frames (STP, PAUSE, LACP) are dropped and counted; EAPOL and LLDP pass', async () => {
    const before = (await plain.stats()).transmit.drops.link_local;
    const frames = [
      eth('01:80:c2:00:00:00', VMAC, 0x0026, [0x42, 0x42, 0x03, 0, 0, 0, 0, 0]), // STP BPDU (802.3 length, LLC)
      eth('01:80:c2:00:00:01', VMAC, 0x8808, [0, 1, 0xff, 0xff]), // PAUSE, quanta 65535
      eth('01:80:c2:00:00:02', VMAC, 0x8809, [1, 1]), // LACPDU
      eth(PEER_MAC, VMAC, 0x8808, [0, 1, 0xff, 0xff]), // PAUSE to a unicast address
      eth('01:80:c2:00:00:03', VMAC, 0x888e, [1, 1, 0, 0]), // EAPOL-Start
      eth('01:80:c2:00:00:0e', VMAC, 0x88cc, [2, 7, 4, ...macBytes(VMAC)]), // LLDPDU
    ].map((frame) => ({ frame }));
    const cap = await sendAndCapture('veth1', VMAC, frames, 4);
    for (const g of ['00', '01', '02']) expect(await cap.count(`ether dst 01:80:c2:00:00:${g}`)).toBe(0);
    expect(await cap.count('ether proto 0x8808 or ether proto 0x8809')).toBe(0);
    expect(await cap.count('ether dst 01:80:c2:00:00:03 and ether proto 0x888e')).toBe(4);
    expect(await cap.count('ether dst 01:80:c2:00:00:0e and ether proto 0x88cc')).toBe(4);
    expect((await plain.stats()).transmit.drops.link_local - before).toBe(16);
  });

  test('neighbour discovery naming another MAC is dropped and counted (spoofed_nd); its own passes', async () => {
    const before = (await plain.stats()).transmit.drops.spoofed_nd;
    const cap = await sendAndCapture('veth1', VMAC, [{ frame: ns(VMAC, FORGED) }, { frame: ns(VMAC, VMAC) }], 5);
    expect(await cap.count(`icmp6 and ip6[40] = 135 and ether src ${VMAC}`)).toBe(5);
    expect((await plain.stats()).transmit.drops.spoofed_nd - before).toBe(5);
  });

  test('DHCP client messages for 20 other MACs (pool exhaustion) and RARP for another are dropped and counted', async () => {
    const before = (await plain.stats()).transmit.drops;
    const forged = Array.from({ length: 20 }, (_, i) => ({ frame: bootp(VMAC, 68, 67, 1, `02:00:00:00:77:${(i + 16).toString(16)}`) }));
    const cap = await sendAndCapture('veth1', VMAC, [...forged, { frame: bootp(VMAC, 68, 67, 1, VMAC) }, { frame: arp(VMAC, 0x8035, FORGED) }], 1);
    expect(await cap.count('udp dst port 67')).toBe(1); // its own DISCOVER
    expect(await cap.count('rarp')).toBe(0);
    const after = (await plain.stats()).transmit.drops;
    expect(after.spoofed_dhcp - before.spoofed_dhcp).toBe(20);
    expect(after.spoofed_arp - before.spoofed_arp).toBe(1);
  });

  test('--ra-guard and --dhcp-guard: router advertisements and DHCP/DHCPv6 server messages are dropped and counted; without them they pass', async () => {
    const guarded = await VethdProcess.start(lab, ['-v', 'veth3', '-e', 'eth0', '-m', GMAC, '--ra-guard', '--dhcp-guard', '--announce', '0']);
    try {
      const offer = (src: string) => bootp(src, 67, 68, 2, PEER_MAC);
      const advertise6 = (src: string) => eth('33:33:00:01:00:02', src, 0x86dd, ipv6(17, LL6, ALL_NODES, udp(547, 546, [2, 0, 0, 1])));
      const rogue = bootp(GMAC, 1234, 68, 2, PEER_MAC); // a rogue server picks its source port
      const cap = await sendAndCapture('veth3', GMAC, [{ frame: ra(GMAC) }, { frame: offer(GMAC) }, { frame: advertise6(GMAC) }, { frame: rogue }], 3);
      expect(await cap.count(`ether src ${GMAC} and not ether proto ${MARKER_TYPE}`)).toBe(0);
      const drops = (await guarded.stats()).transmit.drops;
      expect(drops.ra_guard).toBe(3);
      expect(drops.dhcp_guard).toBe(9);
      const open = await sendAndCapture('veth1', VMAC, [{ frame: ra(VMAC) }, { frame: offer(VMAC) }], 1);
      expect(await open.count(`icmp6 and ip6[40] = 134`)).toBe(1);
      expect(await open.count('udp src port 67')).toBe(1);
    } finally {
      await guarded.stop();
    }
  });
});

/**
 * One tenant's vNIC deleted from outside (`ip link del` in its namespace)
 * must not touch the others: the relay retires it alone, the others keep
 * every frame, and the daemon exits only when the last vNIC is gone.
 */
describe.skipIf(skipLab)('hostile tenants: one vNIC deleted from outside', () => {
  let lab: Lab;
  let vethd: VethdProcess;

  beforeAll(async () => {
    lab = await Lab.create('retire');
    const conf = lab.file('two.toml', `eth = "eth0"\nannounce = 0\n[[vnic]]\nveth = "vn4"\nmac = "02:00:c0:00:02:24"\n[[vnic]]\nveth = "vn5"\nmac = "02:00:c0:00:02:25"\n`);
    vethd = await VethdProcess.start(lab, ['-c', conf]);
    await lab.exec('fw', 'ip', ['addr', 'add', '192.0.2.55/24', 'dev', 'vn5']);
    await lab.exec('peer', 'ping', ['-n', '-q', '-c', '1', '-w', '5', '192.0.2.55']);
  });
  afterAll(async () => {
    await vethd?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  test('the other vNIC misses no frame while one is deleted; vethd logs it once and keeps running', async () => {
    // 200 echo requests 10 ms apart to vn5, while vn4 is deleted in the middle.
    const ping = lab.exec('peer', 'ping', ['-n', '-q', '-c', '200', '-i', '0.01', '-W', '1', '192.0.2.55'], 30_000);
    const start = (await vethd.stats()).vnics?.[1]?.receive.frames ?? 0;
    await waitFor('the stream to start', async () => ((await vethd.stats()).vnics?.[1]?.receive.frames ?? 0) >= start + 20 || undefined);
    await lab.exec('fw', 'ip', ['link', 'del', 'vn4']);
    const r = await ping;
    expect(r.stdout).toMatch(/200 packets transmitted, 200 received/);
    await waitFor('the retirement to be logged', () => vethd.log().includes('vNIC vn4 retired'));
    expect(vethd.child.exitCode).toBeNull();
    expect(vethd.log().split('\n').filter((l) => l.includes('vNIC vn4 retired'))).toHaveLength(1);
    expect(vethd.log()).toMatch(/vNIC vn4 retired: vn4: relay stopped reading the TAP: File descriptor in bad state \(EBADFD\); 1 other vNIC\(s\) keep running/);
    expect(await linkExists(lab, 'fw', 'vn5')).toBe(true);
  });

  test('the last vNIC deleted: exit 1 with one line, the membership dropped', async () => {
    await lab.exec('fw', 'ip', ['link', 'del', 'vn5']);
    const code = await waitFor('vethd to exit', () => vethd.child.exitCode ?? undefined);
    expect(code).toBe(1);
    expect(vethd.log()).toMatch(/vethd: vn5: relay stopped reading the TAP: File descriptor in bad state \(EBADFD\); the vNIC was deleted from outside/);
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(0);
  });
});
