// vethd-cni as a runtime drives it (env + stdin -> stdout + exit status), against a fake vethd,
// a fake IPAM plugin and a fake nsenter (harness.ts): ADD, DEL, CHECK, VERSION, STATUS, GC, and
// every refusal as the spec's error object with its code.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { FakeDaemon, World } from './harness';

let w: World;
let daemon: FakeDaemon;
beforeAll(async () => {
  w = new World();
  daemon = await w.startDaemon();
});
afterAll(async () => {
  await w?.close();
});
beforeEach(() => {
  daemon.vnics.clear();
  daemon.calls.length = 0;
  w.ipamCalls();
  w.nsCommands();
  w.setAddrs([]);
  w.setRoutes([]);
});

/** The error object a failed run printed, checked for the spec's shape and exit status 1. */
function errorOf(r: { code: number | null; json: Record<string, unknown> | undefined; stdout: string }) {
  expect(r.code, r.stdout).toBe(1);
  expect(r.json).toMatchObject({ cniVersion: expect.any(String), code: expect.any(Number), msg: expect.any(String) });
  return r.json as { cniVersion: string; code: number; msg: string; details?: string };
}

describe('VERSION', () => {
  test('the versions it speaks, in the cniVersion it was asked in', async () => {
    const r = await w.run('VERSION', { cniVersion: '0.4.0' }, { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined, CNI_PATH: undefined });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    expect((await w.run('VERSION', '')).json).toEqual({ cniVersion: '1.1.0', supportedVersions: expect.arrayContaining(['1.0.0']) });
  });

  test('no CNI_COMMAND: what it is, on stderr, exit 0 (as libcni plugins do)', async () => {
    const r = await w.run('', '', { CNI_COMMAND: undefined });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^vethd-cni .*CNI plugin for vethd/);
    expect(r.stderr).toContain('CNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0');
  });
});

describe('ADD', () => {
  test('asks the daemon for the vNIC, delegates IPAM with the same env and stdin, sets addresses and routes in the namespace, prints the 1.0.0 result', async () => {
    const conf = w.conf({ raGuard: true, vethd: { dhcpGuard: true, vlan: 100 } });
    const r = await w.run('ADD', conf, { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const add = daemon.calls[0] as { add: Record<string, unknown> };
    expect(add.add).toEqual({ veth: 'eth0', netns: w.netns, id: 'ctr1/eth0', mac: expect.stringMatching(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/), vlan: 100, 'ra-guard': true, 'dhcp-guard': true });
    const mac = add.add.mac as string;
    expect(r.json).toEqual({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'eth0', mac, sandbox: w.netns }],
      ips: [{ address: '192.0.2.50/24', gateway: '192.0.2.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: { nameservers: ['192.0.2.1'] },
    });
    const [ipam] = w.ipamCalls();
    expect(ipam).toMatchObject({ command: 'ADD', containerId: 'ctr1', ifname: 'eth0', netns: w.netns, args: 'IgnoreUnknown=1;K8S_POD_NAME=web', stdin: JSON.stringify(conf) });
    expect(r.stderr).toContain('fake-ipam: ADD'); // the delegated plugin's stderr is ours
    expect(w.nsCommands()).toEqual([`${w.netns} ip addr add 192.0.2.50/24 dev eth0`, `${w.netns} ip link set dev eth0 up`, `${w.netns} ip route append 0.0.0.0/0 via 192.0.2.1 dev eth0`]);
  });

  test('the persistent MAC is per attachment: the same for the same container and interface, another for another container', async () => {
    const macOf = async (id: string) => {
      const r = await w.run('ADD', w.conf({}, null), { CNI_CONTAINERID: id });
      expect(r.code, r.stdout).toBe(0);
      return (r.json?.interfaces as { mac: string }[])[0].mac;
    };
    const a = await macOf('ctrA');
    daemon.vnics.clear();
    expect(await macOf('ctrA')).toBe(a);
    expect(await macOf('ctrB')).not.toBe(a);
  });

  test('the MAC the runtime asks for wins, as in the reference plugins: args.cni.mac > runtimeConfig.mac > CNI_ARGS MAC > "mac"', async () => {
    const macAsked = async (extra: Record<string, unknown>, cniArgs?: string) => {
      daemon.vnics.clear();
      daemon.calls.length = 0;
      const r = await w.run('ADD', w.conf({ mac: '02:00:00:00:00:01', ...extra }, null), { CNI_ARGS: cniArgs });
      expect(r.code, r.stdout).toBe(0);
      return (daemon.calls[0] as { add: { mac: string } }).add.mac;
    };
    expect(await macAsked({})).toBe('02:00:00:00:00:01');
    expect(await macAsked({}, 'IgnoreUnknown=1;MAC=02:00:00:00:00:02')).toBe('02:00:00:00:00:02');
    expect(await macAsked({ runtimeConfig: { mac: '02:00:00:00:00:03' } }, 'MAC=02:00:00:00:00:02')).toBe('02:00:00:00:00:03');
    expect(await macAsked({ runtimeConfig: { mac: '02:00:00:00:00:03' }, args: { cni: { mac: '02:00:00:00:00:04' } } })).toBe('02:00:00:00:00:04');
    expect(await macAsked({ mac: 'random' })).toBe('random'); // a policy the daemon resolves
  });

  test('a 0.4.0 configuration gets a 0.4.0 result: each IP names its version', async () => {
    const r = await w.run('ADD', w.conf({ cniVersion: '0.4.0' }, { result: { ips: [{ version: '4', address: '192.0.2.50/24' }, { version: '6', address: '2001:db8::50/64', gateway: '2001:db8::1' }] } }));
    expect(r.code, r.stdout).toBe(0);
    expect(r.json?.ips).toEqual([
      { version: '4', address: '192.0.2.50/24', interface: 0 },
      { version: '6', address: '2001:db8::50/64', gateway: '2001:db8::1', interface: 0 },
    ]);
    // IPv6: enabled on lo and the vNIC, addresses kept when down, DAD settled before routes
    expect(w.nsCommands()).toEqual(expect.arrayContaining([`${w.netns} sysctl -q -w net/ipv6/conf/eth0/keep_addr_on_down=1`, `${w.netns} ip addr add 2001:db8::50/64 dev eth0`, `${w.netns} ip -6 -o addr show dev eth0 tentative`]));
  });

  test('without ipam: the vNIC alone (layer 2), the configuration\'s dns', async () => {
    const r = await w.run('ADD', w.conf({ dns: { nameservers: ['192.0.2.53'] } }, null), { CNI_PATH: undefined });
    expect(r.code, r.stdout).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', mac: expect.any(String), sandbox: w.netns }], ips: [], routes: [], dns: { nameservers: ['192.0.2.53'] } });
    expect(w.nsCommands()).toEqual([]);
  });

  test('the IPAM plugin fails: its error object is passed on; it is run again with DEL (SPEC.md section 4), and the vNIC is taken out again', async () => {
    const r = await w.run('ADD', w.conf({}, { fail: { ADD: { code: 11, msg: 'no free address in 192.0.2.0/24' } } }));
    expect(errorOf(r)).toEqual({ cniVersion: '1.0.0', code: 11, msg: 'no free address in 192.0.2.0/24' });
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['ADD', 'DEL']);
    expect(daemon.calls).toEqual([{ add: expect.objectContaining({ id: 'ctr1/eth0' }) }, { remove: 'ctr1/eth0' }]);
    expect(daemon.vnics.size).toBe(0);
  });

  test('the IPAM plugin returns no address, or no JSON: code 101, whatever it allocated released (IPAM DEL), the vNIC taken out', async () => {
    for (const result of [{ ips: [] }, 'garbage']) {
      daemon.calls.length = 0;
      const e = errorOf(await w.run('ADD', w.conf({}, { result })));
      expect(e.code).toBe(101);
      expect(w.ipamCalls().map((c) => c.command)).toEqual(['ADD', 'DEL']);
      expect(daemon.calls.at(-1)).toEqual({ remove: 'ctr1/eth0' });
    }
  });

  test('no such IPAM plugin in CNI_PATH: code 101 naming the directories; the vNIC taken out', async () => {
    const e = errorOf(await w.run('ADD', w.conf({}, { type: 'host-local-missing' })));
    expect(e.code).toBe(101);
    expect(e.msg).toContain('failed to find plugin "host-local-missing" in path');
    expect(daemon.vnics.size).toBe(0);
  });

  test('an address cannot be set in the namespace: code 102, the IP released (IPAM DEL) and the vNIC taken out', async () => {
    const r = await w.run('ADD', w.conf(), { FAKE_NS_FAIL: 'route append' });
    const e = errorOf(r);
    expect(e.code).toBe(102);
    expect(e.details).toContain('RTNETLINK answers: File exists');
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['ADD', 'DEL']);
    expect(daemon.calls.at(-1)).toEqual({ remove: 'ctr1/eth0' });
  });

  test('the daemon refuses the vNIC: code 100 with its code and message; a value it refuses is the configuration\'s (7)', async () => {
    daemon.refuseNextAdd = { code: 'vethd.mac-in-use', message: 'add: MAC 02:00:00:00:00:01 is already used by veth1 on this host; choose another mac' };
    const e = errorOf(await w.run('ADD', w.conf()));
    expect(e.code).toBe(100);
    expect(e.details).toBe('vethd.mac-in-use: add: MAC 02:00:00:00:00:01 is already used by veth1 on this host; choose another mac');
    daemon.refuseNextAdd = { code: 'vethd.control-bad-request', message: 'add: "mac": invalid MAC' };
    expect(errorOf(await w.run('ADD', w.conf())).code).toBe(7);
    expect(w.ipamCalls()).toEqual([]); // IPAM never asked
  });

  test('the same attachment twice without DEL: the daemon refuses the second (its id is taken)', async () => {
    expect((await w.run('ADD', w.conf())).code).toBe(0);
    const e = errorOf(await w.run('ADD', w.conf()));
    expect(e).toMatchObject({ code: 100, details: 'vethd.same-interface: add: id "ctr1/eth0" is already in use' });
    expect(daemon.vnics.size).toBe(1); // the first one is not touched
  });

  test('no daemon on the socket: code 11 (try again later), naming the socket and how to run one', async () => {
    const e = errorOf(await w.run('ADD', w.conf({ socket: `${w.dir}/none/control.sock` })));
    expect(e.code).toBe(11);
    expect(e.details).toContain(`${w.dir}/none/control.sock: no vethd answers: no such file or directory (ENOENT)`);
    expect(e.details).toContain('vethd -e <parent> --empty');
  });

  test('the default socket is /run/vethd/<master>/control.sock', async () => {
    const e = errorOf(await w.run('ADD', { ...w.conf(), socket: undefined, master: 'nosuch9' }));
    expect(e.details).toContain('/run/vethd/nosuch9/control.sock');
  });
});

describe('refused configurations and environments, each with the spec\'s code', () => {
  const cases: [string, () => unknown, Record<string, string | undefined>, number, RegExp][] = [
    ['stdin not JSON', () => '{"cniVersion":', {}, 6, /cannot decode/],
    ['stdin not an object', () => '[1]', {}, 6, /cannot decode/],
    ['a cniVersion it does not speak', () => w.conf({ cniVersion: '0.2.0' }), {}, 1, /incompatible CNI versions/],
    ['no name', () => ({ ...w.conf(), name: undefined }), {}, 7, /"name" is missing/],
    ['a name with a slash', () => w.conf({ name: 'a/b' }), {}, 7, /"name" must match/],
    ['neither master nor socket', () => ({ ...w.conf(), master: undefined, socket: undefined }), {}, 7, /"master" \(the parent NIC vethd serves\) is missing/],
    ['a master no interface can be named', () => w.conf({ master: 'a very long name' }), {}, 7, /"master": invalid interface name/],
    ['a VLAN out of range', () => w.conf({ vethd: { vlan: 5000 } }), {}, 7, /"vethd.vlan" must be <= 4094/],
    ['an unknown key in "vethd"', () => w.conf({ vethd: { antispoofing: false } }), {}, 7, /unknown key "antispoofing" in "vethd"/],
    ['a key at the top and in "vethd" with two values', () => w.conf({ raGuard: true, vethd: { raGuard: false } }), {}, 7, /"raGuard" is given twice/],
    ['a MAC policy that is none', () => w.conf({ mac: 'sticky' }), {}, 7, /"mac": invalid MAC "sticky": unknown policy/],
    ['a multicast MAC from the runtime', () => w.conf({ runtimeConfig: { mac: '01:00:5e:00:00:01' } }), {}, 7, /runtimeConfig.mac/],
    ['macvlan mode vepa', () => w.conf({ mode: 'vepa' }), {}, 2, /unsupported field "mode": "vepa"/],
    ['macvlan linkInContainer', () => w.conf({ linkInContainer: true }), {}, 2, /unsupported field "linkInContainer"/],
    ['an MTU other than the parent\'s', () => w.conf({ mtu: 9000 }), {}, 2, /unsupported field "mtu": 9000/],
    ['a master the daemon does not serve', () => w.conf({ master: 'eth1' }), {}, 7, /"master" is eth1, but the vethd on .* serves eth0/],
    ['CNI_CONTAINERID and CNI_IFNAME missing', () => w.conf(), { CNI_CONTAINERID: undefined, CNI_IFNAME: undefined }, 4, /required env variables \[CNI_CONTAINERID,CNI_IFNAME\] missing/],
    ['CNI_NETNS missing on ADD', () => w.conf(), { CNI_NETNS: undefined }, 4, /\[CNI_NETNS\]/],
    ['a container id with a space', () => w.conf(), { CNI_CONTAINERID: 'a b' }, 4, /invalid characters in CNI_CONTAINERID/],
    ['an interface name too long', () => w.conf(), { CNI_IFNAME: 'a23456789012345x' }, 4, /invalid CNI_IFNAME/],
    ['a namespace that does not exist', () => w.conf(), { CNI_NETNS: '/nonexistent/ns' }, 4, /invalid CNI_NETNS/],
    ['the plugin\'s own namespace', () => w.conf(), { CNI_NETNS: '/proc/self/ns/net' }, 8, /should not be the same/],
    ['a CNI_ARGS pair without =', () => w.conf(), { CNI_ARGS: 'IgnoreUnknown' }, 4, /invalid CNI_ARGS/],
    ['an unknown command', () => w.conf(), { CNI_COMMAND: 'UPDATE' }, 4, /unknown CNI_COMMAND: UPDATE/],
  ];
  test.each(cases)('%s', async (_what, conf, env, code, msg) => {
    const e = errorOf(await w.run('ADD', conf(), env));
    expect(e.code).toBe(code);
    expect(`${e.msg} ${e.details ?? ''}`).toMatch(msg);
    expect(daemon.vnics.size).toBe(0);
  });

  test('an error is printed in the configuration\'s cniVersion', async () => {
    expect(errorOf(await w.run('ADD', w.conf({ cniVersion: '0.3.1', mode: 'private' }))).cniVersion).toBe('0.3.1');
  });

  test('macvlan\'s own keys that mean nothing to vethd pass: mode bridge, bcqueuelen, mtu equal to the parent\'s', async () => {
    const r = await w.run('ADD', w.conf({ mode: 'bridge', bcqueuelen: 1000, mtu: 1500 }, null));
    expect(r.code, r.stdout).toBe(0);
  });
});

describe('DEL', () => {
  test('releases the IP (IPAM DEL, before the vNIC goes) and removes the vNIC by the attachment\'s id; prints nothing', async () => {
    expect((await w.run('ADD', w.conf())).code).toBe(0);
    w.ipamCalls();
    daemon.calls.length = 0;
    const r = await w.run('DEL', w.conf());
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toBe('');
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['DEL']);
    expect(daemon.calls).toEqual([{ remove: 'ctr1/eth0' }]);
    expect(daemon.vnics.size).toBe(0);
  });

  test('idempotent: a second DEL, a DEL without CNI_NETNS or for a namespace gone, a DEL with no daemon running all succeed', async () => {
    expect((await w.run('ADD', w.conf())).code).toBe(0);
    expect((await w.run('DEL', w.conf())).code).toBe(0);
    expect((await w.run('DEL', w.conf())).code).toBe(0);
    expect((await w.run('DEL', w.conf(), { CNI_NETNS: undefined })).code).toBe(0);
    expect((await w.run('DEL', w.conf(), { CNI_NETNS: '/nonexistent/ns' })).code).toBe(0);
    const gone = await w.run('DEL', w.conf({ socket: `${w.dir}/none/control.sock` }));
    expect(gone.code, gone.stdout).toBe(0);
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['ADD', 'DEL', 'DEL', 'DEL', 'DEL', 'DEL']);
  });

  test('the IPAM plugin fails DEL: the vNIC is removed all the same, and the IPAM error reported (the next DEL retries it)', async () => {
    expect((await w.run('ADD', w.conf())).code).toBe(0);
    const e = errorOf(await w.run('DEL', w.conf({}, { fail: { DEL: { code: 11, msg: 'store locked' } } })));
    expect(e).toMatchObject({ code: 11, msg: 'store locked' });
    expect(daemon.vnics.size).toBe(0);
    expect((await w.run('DEL', w.conf())).code).toBe(0);
  });
});

describe('CHECK', () => {
  /** ADD, then the fake namespace made to show what ADD set; returns the configuration with prevResult. */
  async function added(extra: Record<string, unknown> = {}) {
    const conf = w.conf(extra);
    const r = await w.run('ADD', conf);
    expect(r.code, r.stdout).toBe(0);
    const mac = (r.json?.interfaces as { mac: string }[])[0].mac;
    w.setAddrs([{ local: '192.0.2.50', prefixlen: 24 }, { local: 'fe80::1', prefixlen: 64 }], mac);
    w.setRoutes([{ dst: 'default', gateway: '192.0.2.1' }, { dst: '192.0.2.0/24' }]);
    w.ipamCalls();
    return { ...conf, prevResult: r.json } as Record<string, unknown>;
  }

  test('passes when the daemon serves the vNIC with its MAC in the namespace, IPAM CHECK passes, and the addresses and routes are there', async () => {
    const conf = await added();
    const r = await w.run('CHECK', conf);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toBe('');
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['CHECK']);
  });

  test('fails (103) for a missing address, a missing route, another MAC, a vNIC the daemon lost or retired', async () => {
    const conf = await added();
    const prevMac = ((conf.prevResult as { interfaces: { mac: string }[] }).interfaces[0]).mac;
    w.setAddrs([], prevMac);
    expect(errorOf(await w.run('CHECK', conf))).toMatchObject({ code: 103, details: 'address 192.0.2.50/24 is missing (it has none)' });
    w.setAddrs([{ local: '192.0.2.50', prefixlen: 24 }], prevMac);
    w.setRoutes([]);
    expect(errorOf(await w.run('CHECK', conf))).toMatchObject({ code: 103, details: 'route to 0.0.0.0/0 is missing' });
    w.setRoutes([{ dst: 'default', gateway: '192.0.2.1' }]);
    w.setAddrs([{ local: '192.0.2.50', prefixlen: 24 }], '02:00:00:00:99:99');
    expect(errorOf(await w.run('CHECK', conf)).details).toMatch(/its MAC is 02:00:00:00:99:99, the previous result says/);
    const v = daemon.vnics.get('ctr1/eth0');
    if (!v) throw new Error('no vNIC');
    daemon.vnics.set('ctr1/eth0', { ...v, state: 'retired', error: 'eth0: read: File descriptor in bad state (EBADFD)' });
    expect(errorOf(await w.run('CHECK', conf)).details).toMatch(/vethd retired it: eth0: read/);
    daemon.vnics.clear();
    expect(errorOf(await w.run('CHECK', conf)).details).toMatch(/has no vNIC ctr1\/eth0/);
  });

  test('the IPAM plugin\'s CHECK error is passed on', async () => {
    const conf = await added();
    const e = errorOf(await w.run('CHECK', { ...conf, ipam: { ...(conf.ipam as object), fail: { CHECK: { code: 7, msg: 'lease lost' } } } }));
    expect(e).toMatchObject({ code: 7, msg: 'lease lost' });
  });

  test('needs 0.4.0 or later (1), and a prevResult (7)', async () => {
    expect(errorOf(await w.run('CHECK', w.conf({ cniVersion: '0.3.1', prevResult: {} }))).code).toBe(1);
    expect(errorOf(await w.run('CHECK', w.conf())).msg).toMatch(/required prevResult missing/);
  });
});

describe('1.1.0: STATUS and GC', () => {
  test('STATUS: ready while a vethd answers (and the IPAM plugin is), 50 when none does', async () => {
    expect((await w.run('STATUS', w.conf({ cniVersion: '1.1.0' }), { CNI_CONTAINERID: undefined, CNI_IFNAME: undefined, CNI_NETNS: undefined })).code).toBe(0);
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['STATUS']);
    expect(errorOf(await w.run('STATUS', w.conf({ cniVersion: '1.1.0', socket: `${w.dir}/none/control.sock` }))).code).toBe(50);
    expect(errorOf(await w.run('STATUS', w.conf())).code).toBe(1); // 1.0.0 has no STATUS
  });

  test('GC: delegated to IPAM; removes the retired vNICs of attachments no longer valid, and nothing else', async () => {
    const serving = { name: 'eth0', mac: '02:00:00:00:00:10', ifindex: 3, antiSpoofing: true, raGuard: false, dhcpGuard: false, state: 'serving' } as const;
    daemon.vnics.set('a/eth0', { ...serving, id: 'a/eth0', state: 'retired' } as never);
    daemon.vnics.set('b/eth0', { ...serving, id: 'b/eth0', state: 'retired' } as never);
    daemon.vnics.set('c/eth0', { ...serving, id: 'c/eth0' } as never);
    daemon.vnics.set('veth1', { ...serving, id: 'veth1', name: 'veth1', state: 'retired' } as never);
    const r = await w.run('GC', w.conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }] }));
    expect(r.code, r.stdout).toBe(0);
    expect([...daemon.vnics.keys()].sort()).toEqual(['b/eth0', 'c/eth0', 'veth1']);
    expect(w.ipamCalls().map((c) => c.command)).toEqual(['GC']);
  });
});
