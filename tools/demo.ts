/**
 * `npm run demo`: the main job on an embedded default. Builds the namespace lab,
 * runs vethd -v veth1 -e eth0 -m 02:00:c0:00:02:03 on the lab's "firewall",
 * gets eth0 and veth1 a DHCP lease each from the peer's dnsmasq, pings the
 * peer through veth1, stops vethd and removes the lab.
 */
import { Lab, PEER_IP } from './lab/lab';
import { attachedLines, checkLabHost, startVethd, stopChild } from './lab/vethd';

const DEMO_MAC = '02:00:c0:00:02:03';

/** Run the demo, printing each step with say(). Resolves when the lab is gone. */
export async function runDemo(say: (line: string) => void): Promise<void> {
  await checkLabHost();
  say('building the lab: namespaces peer (dnsmasq), fw (eth0) and a bridge between them');
  const lab = await Lab.create('demo');
  try {
    await lab.startDhcpServer();
    say(`peer: dnsmasq serving 192.0.2.100-199 on ${PEER_IP}`);
    const vethd = await startVethd(lab, ['-v', 'veth1', '-e', 'eth0', '-m', DEMO_MAC]);
    const [attached] = attachedLines(vethd.stdout());
    say(`fw: vethd -v veth1 -e eth0 -m ${DEMO_MAC}: ${attached}`);
    const eth0Ip = await lab.dhclient('fw', 'eth0');
    say(`fw: dhclient eth0  -> ${eth0Ip}`);
    const vethIp = await lab.dhclient('fw', 'veth1');
    say(`fw: dhclient veth1 -> ${vethIp}`);
    say('peer: dnsmasq leases:');
    for (const line of lab.leases().trim().split('\n')) say(`  ${line}`);
    const ping = await lab.exec('fw', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', 'veth1', PEER_IP]);
    const summary = ping.stdout.split('\n').find((l) => l.includes('packets transmitted'));
    say(`fw: ping -I veth1 ${PEER_IP}: ${summary ?? ping.stdout.trim()}`);
    const code = await stopChild(vethd.child);
    say(`fw: vethd stopped on SIGTERM (exit ${code}); veth1 is gone`);
  } finally {
    await lab.destroy();
    say('lab removed');
  }
}

if (require.main === module) {
  runDemo((line) => process.stdout.write(`${line}\n`)).catch((err: unknown) => {
    process.stderr.write(`vethd demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
