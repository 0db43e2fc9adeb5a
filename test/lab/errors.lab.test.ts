/**
 * Bad input and refused set-up: one line naming the input or interface, the
 * operation and the cause; exit status != 0; nothing left behind (no TAP, no
 * promiscuous membership).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab } from '../../tools/lab/lab';
import { linkExists, promiscuity, skipLab, VethdProcess } from './tools';

const BIN = path.join(__dirname, '..', '..', 'bin', 'vethd');
const CONF_DIR = mkdtempSync(path.join(os.tmpdir(), 'vethd-badconf-'));

/** A config file holding text, for the bad-input table. */
function conf(name: string, text: string): string {
  const p = path.join(CONF_DIR, `${name}.toml`);
  writeFileSync(p, `${text}\n`);
  return p;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(skipLab)('set-up errors in the namespace lab', () => {
  let lab: Lab;
  let baseline: number;
  let links: string[];

  beforeAll(async () => {
    lab = await Lab.create('err');
    // A real NIC (a veth pair) whose name the TAP may not take.
    await lab.exec('fw', 'ip', ['link', 'add', 'nic1', 'type', 'veth', 'peer', 'name', 'nic2']);
    baseline = await promiscuity(lab, 'fw', 'eth0');
    links = await linkNames();
  });
  afterAll(async () => {
    await lab?.destroy();
    rmSync(CONF_DIR, { recursive: true, force: true });
  });

  function vethd(args: string[], prefix: string[] = []): Promise<Outcome> {
    return new Promise((resolve) => {
      const argv = ['netns', 'exec', lab.ns('fw'), ...prefix, process.execPath, BIN, ...args];
      execFile('ip', argv, { timeout: 15_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }

  async function linkNames(): Promise<string[]> {
    const r = await lab.exec('fw', 'ip', ['-o', 'link', 'show']);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
  }

  /** The fw namespace has the same interfaces as before, and eth0 no extra promiscuous membership. */
  async function expectNoResidue(): Promise<void> {
    expect(await linkNames()).toEqual(links);
    expect(await promiscuity(lab, 'fw', 'eth0')).toBe(baseline);
  }

  test.each([
    [['-v', 'veth1', '-e', 'eth9'], 'vethd: eth9: cannot bind packet socket: No such device (ENODEV)'],
    [['-v', 'veth1', '-e', 'lo'], 'vethd: lo: cannot use as parent (link type is not Ethernet): Invalid argument (EINVAL)'],
    [['-v', 'lo', '-e', 'eth0'], 'vethd: lo: cannot create TAP: File exists (EEXIST); an interface with this name already exists'],
    [['-v', 'veth1', '-e', 'eth0', '-m', '02:00:c0:00:02'], 'vethd: invalid MAC "02:00:c0:00:02": expected six hex octets'],
    [['-v', 'veth1', '-e', 'eth0', '-m', '01:00:5e:00:00:01'], 'vethd: invalid MAC "01:00:5e:00:00:01": multicast (I/G bit set) cannot be a station address'],
    [['-v', 'veth1', '-e', 'eth0', '-m', '00:00:00:00:00:00'], 'vethd: invalid MAC "00:00:00:00:00:00": all-zero is not a station address'],
    [['-v', 'veth1', '-e', 'eth0', '-m', 'ff:ff:ff:ff:ff:ff'], 'vethd: invalid MAC "ff:ff:ff:ff:ff:ff": broadcast cannot be a station address'],
    [['-v', 'veth123456789012', '-e', 'eth0'], 'vethd: invalid interface name "veth123456789012": 16 bytes, longer than 15'],
    [['-v', 'eth0', '-e', 'eth0'], 'vethd: -v and -e name the same interface "eth0"'],
    [['-v', 'veth1', '-e', 'eth0', '--membership', 'all'], "vethd: option '--membership <mode>' argument 'all' is invalid"],
    [['-v', 'veth1', '--veht', 'veth2'], "vethd: unknown option '--veht' (did you mean --veth?)"],
    [['-v', 'veth1', '-e'], "vethd: option '-e, --eth <device>' argument missing"],
    // names: hostile characters, empty, reserved, too long for the parent too; a real NIC's name for the TAP
    [['-v', 'a/b', '-e', 'eth0'], 'vethd: invalid interface name "a/b": contains "/"'],
    [['-v', 'a b', '-e', 'eth0'], 'vethd: invalid interface name "a b": contains " "'],
    [['-v', '', '-e', 'eth0'], 'vethd: invalid interface name "": empty'],
    [['-v', '..', '-e', 'eth0'], 'vethd: invalid interface name "..": reserved name'],
    [['-v', 'veth1', '-e', 'eth0123456789012'], 'vethd: invalid interface name "eth0123456789012": 16 bytes, longer than 15'],
    [['-v', 'nic1', '-e', 'eth0'], 'vethd: nic1: cannot create TAP: File exists (EEXIST)'],
    // MAC forms and policies, hostile text included
    [['-v', 'veth1', '-e', 'eth0', '-m', '02:00:c0:00:02:03:04'], 'vethd: invalid MAC "02:00:c0:00:02:03:04": expected six hex octets'],
    [['-v', 'veth1', '-e', 'eth0', '-m', '$(reboot)'], 'vethd: invalid MAC "$(reboot)": expected six hex octets'],
    [['-v', 'veth1', '-e', 'eth0', '-m', 'ip:1.2.3'], 'vethd: invalid MAC "ip:1.2.3": "1.2.3" is not an IPv4 address'],
    [['-v', 'veth1', '-e', 'eth0', '-m', 'oui:zz:00:00'], 'vethd: invalid MAC "oui:zz:00:00": expected a 3-octet prefix'],
    // every other option, out of range or not one of its choices
    [['--probe-window', '70000'], 'expected milliseconds from 0 to 60000, got "70000"'],
    [['--probe-window', 'abc'], 'expected milliseconds from 0 to 60000, got "abc"'],
    [['--tx-batch', '0'], 'expected a frame count from 1 to 32, got "0"'],
    [['--rx-ring', 'v4'], "vethd: option '--rx-ring <mode>' argument 'v4' is invalid"],
    [['--queues', '0'], 'expected a queue count from 1 to 16, got "0"'],
    [['--queues', '17'], 'expected a queue count from 1 to 16, got "17"'],
    [['--host-path-mark', '0'], 'expected a mark from 1 to 0xffffffff (decimal or 0x hexadecimal), got "0"'],
    [['--host-path-mark', '0x1ffffffff'], 'expected a mark from 1 to 0xffffffff (decimal or 0x hexadecimal), got "0x1ffffffff"'],
    [['--vlan', '0'], 'expected a VLAN ID from 1 to 4094, got "0"'],
    [['--vlan', '4095'], 'expected a VLAN ID from 1 to 4094, got "4095"'],
    [['--announce', '11'], 'expected a frame count from 0 to 10, got "11"'],
    [['--announce-interval', '50'], 'expected milliseconds from 100 to 60000, got "50"'],
    [['--cpu-latency', '-1'], 'expected microseconds from 0 to 2000000000, got "-1"'],
    [['--fanout', 'rr'], "vethd: option '--fanout <mode>' argument 'rr' is invalid"],
    [['--on-conflict', 'ignore'], "vethd: option '--on-conflict <action>' argument 'ignore' is invalid"],
    [['--metrics-listen', '127.0.0.1:99999'], 'vethd: invalid --metrics-listen "127.0.0.1:99999": expected HOST:PORT, [IPv6]:PORT or off'],
    [['--metrics-listen', 'nohost'], 'vethd: invalid --metrics-listen "nohost"'],
    [['--log-level', 'loud'], "vethd: option '--log-level <level>' argument 'loud' is invalid"],
    [['--log-format', 'xml'], "vethd: option '--log-format <format>' argument 'xml' is invalid"],
    // the same checks for config file values
    [['-c', '/nonexistent/vethd.toml'], 'vethd: config /nonexistent/vethd.toml: cannot read: no such file or directory (ENOENT)'],
    [['-c', conf('unknown', 'colour = 1')], 'unknown key "colour"'],
    [['-c', conf('name', 'veth = "a/b"\neth = "eth0"')], 'vethd: invalid interface name "a/b": contains "/"'],
    [['-c', conf('mac', 'veth = "veth1"\neth = "eth0"\nmac = "ff:ff:ff:ff:ff:ff"')], 'broadcast cannot be a station address'],
    [['-c', conf('window', 'probe-window = 999999')], '"probe-window": expected milliseconds from 0 to 60000'],
    [['-c', conf('choice', 'membership = "everything"')], '"membership" must be one of promisc, unicast, none'],
    [['-c', conf('type', 'anti-spoofing = 1')], '"anti-spoofing" must be true or false'],
    [['-c', conf('toml', 'veth = "unterminated')], 'not valid TOML'],
    [['-c', conf('same', 'veth = "eth0"\neth = "eth0"')], 'vethd: -v and -e name the same interface "eth0"'],
    // [[vnic]] tables: names or MACs given twice, keys of the parent, a missing name, bad values, -v beside them;
    // a vNIC that cannot be made after another was: neither is left
    [['-c', conf('dupmac', 'eth = "eth0"\nmac = "02:00:c0:00:02:51"\n[[vnic]]\nveth = "veth1"\n[[vnic]]\nveth = "veth2"')], 'vethd: [[vnic]] 2: vNIC "veth2" would have MAC 02:00:c0:00:02:51, as "veth1" has; choose another mac'],
    [['-c', conf('dupname', 'eth = "eth0"\n[[vnic]]\nveth = "veth1"\n[[vnic]]\nveth = "veth1"')], 'vethd: [[vnic]] 2: vNIC "veth1" is already [[vnic]] 1'],
    [['-c', conf('vnickey', 'eth = "eth0"\n[[vnic]]\nveth = "veth1"\nqueues = 2')], 'vethd: config ' + path.join(CONF_DIR, 'vnickey.toml') + ': [[vnic]] 1: "queues" is a setting of the parent, not of one vNIC: put it at the top of the file'],
    [['-c', conf('noname', 'eth = "eth0"\n[[vnic]]\nmac = "random"')], '[[vnic]] 1: "veth" (the vNIC\'s name) is missing'],
    [['-c', conf('vnicvlan', 'eth = "eth0"\n[[vnic]]\nveth = "veth1"\nvlan = 5000')], '[[vnic]] 1: "vlan": expected a VLAN ID from 1 to 4094, got "5000"'],
    [['-v', 'veth1', '-c', conf('vnicv', 'eth = "eth0"\n[[vnic]]\nveth = "veth2"')], 'its [[vnic]] tables name the vNICs: leave -v off the command line'],
    [['-c', conf('second', 'eth = "eth0"\n[[vnic]]\nveth = "veth1"\n[[vnic]]\nveth = "nic1"')], 'vethd: nic1: cannot create TAP: File exists (EEXIST)'],
    // --netns: a name ip netns does not know, a file that is not a network namespace
    [['-v', 'veth1', '-e', 'eth0', '--netns', 'vdlab-no-such-ns'], 'vethd: --netns vdlab-no-such-ns: no such network namespace (/run/netns/vdlab-no-such-ns does not exist; create it with "ip netns add vdlab-no-such-ns")'],
    [['-v', 'veth1', '-e', 'eth0', '--netns', conf('notns', '')], 'vethd: veth1: cannot enter network namespace: Invalid argument (EINVAL); the --netns file is not a network namespace'],
  ])('vethd %j', async (args, message) => {
    const r = await vethd(args);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(lines[0]).toMatch(/^vethd: /); // one prefix: the parser's errors, the config's and the kernel's
    await expectNoResidue();
  });

  test('SIGHUP after the config file became a symlink to /dev/zero: one line, the running settings stay, SIGTERM still ends it at once', async () => {
    const conf = path.join(CONF_DIR, 'swapped.toml');
    const text = 'veth = "veth1"\neth = "eth0"\nmac = "02:00:c0:00:02:61"\nprobe-window = 0\n';
    writeFileSync(conf, text);
    // RLIMIT_DATA 1 GiB: were the file read whole again, vethd would abort there instead of filling the shared machine's memory.
    const v = await VethdProcess.start(lab, ['-c', conf], ['prlimit', `--data=${1 << 30}`, '--']);
    const lines = (has: string) => v.stdout().split('\n').filter((l) => l.includes(has)).map((l) => JSON.parse(l) as { err?: { message: string } });
    try {
      rmSync(conf);
      symlinkSync('/dev/zero', conf);
      v.child.kill('SIGHUP');
      await waitFor('the refusal', () => lines('SIGHUP: config not reloaded').length > 0, 5000);
      expect(lines('SIGHUP: config not reloaded')[0].err?.message).toBe(`config ${conf}: not a regular file (character device)`);
      expect(await linkExists(lab, 'fw', 'veth1')).toBe(true);
      // The event loop runs: a good file again is read at the next SIGHUP.
      rmSync(conf);
      writeFileSync(conf, text);
      v.child.kill('SIGHUP');
      await waitFor('the reload', () => lines('SIGHUP: config reloaded').length > 0, 5000);
      const t0 = performance.now();
      expect(await v.stop()).toBe(0);
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      if (v.child.exitCode === null && v.child.signalCode === null) v.child.kill('SIGKILL');
    }
    await expectNoResidue();
  });

  test('without CAP_NET_RAW / CAP_NET_ADMIN: one line naming the capability, nothing left', async () => {
    const r = await vethd(['-v', 'veth1', '-e', 'eth0'], ['setpriv', '--bounding-set=-net_raw,-net_admin', '--']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      'vethd: eth0: cannot open packet socket: Operation not permitted (EPERM); needs CAP_NET_ADMIN and CAP_NET_RAW (run as root, or grant them to the service)',
    );
    await expectNoResidue();
  });

  test('--netns without CAP_SYS_ADMIN: one line naming it, and the packet socket is closed again', async () => {
    const r = await vethd(['-v', 'veth1', '-e', 'eth0', '--netns', lab.ns('peer')], ['setpriv', '--bounding-set=-sys_admin', '--']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(
      'vethd: veth1: cannot enter network namespace: Operation not permitted (EPERM); entering another network namespace (--netns) needs CAP_SYS_ADMIN',
    );
    await expectNoResidue();
    expect(await lab.exec('peer', 'ip', ['link', 'show', 'dev', 'veth1']).then(() => true, () => false)).toBe(false);
  });

  test('without CAP_NET_ADMIN only: the TAP cannot be created, and the packet socket is closed again', async () => {
    const r = await vethd(['-v', 'veth1', '-e', 'eth0'], ['setpriv', '--bounding-set=-net_admin', '--']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^vethd: veth1: cannot create TAP: Operation not permitted \(EPERM\); needs CAP_NET_ADMIN/);
    await expectNoResidue();
  });
});
