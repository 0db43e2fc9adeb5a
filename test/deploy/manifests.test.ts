// deploy/: the Kubernetes manifests by what they mean (parsed), and the init container's install script run on a scratch tree.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';

const deploy = path.join(__dirname, '..', '..', 'deploy');
/** Every document of a manifest file, as plain objects; a YAML error fails the test. */
function docs(file: string): Record<string, any>[] {
  return parseAllDocuments(readFileSync(path.join(deploy, file), 'utf8')).map((d) => {
    expect(d.errors, `${file}: ${d.errors.join('; ')}`).toEqual([]);
    return d.toJS() as Record<string, any>;
  });
}

describe('deploy/vethd.yaml', () => {
  const all = docs('vethd.yaml');
  const ds = all.find((d) => d.kind === 'DaemonSet') as Record<string, any>;
  const pod = ds.spec.template.spec;
  const vethd = pod.containers.find((c: { name: string }) => c.name === 'vethd');
  const volume = (name: string) => pod.volumes.find((v: { name: string }) => v.name === name);
  const mount = (c: { volumeMounts: { name: string; mountPath: string }[] }, name: string) => c.volumeMounts.find((m) => m.name === name);

  test('a DaemonSet whose selector matches its pods, on the node\'s network, with the ConfigMap it reads', () => {
    expect(ds.apiVersion).toBe('apps/v1');
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
    expect(pod.hostNetwork).toBe(true);
    const cm = all.find((d) => d.kind === 'ConfigMap');
    expect(vethd.env.find((e: { name: string }) => e.name === 'VETHD_PARENT').valueFrom.configMapKeyRef).toEqual({ name: cm?.metadata.name, key: 'parent' });
    expect(cm?.data.parent).toMatch(/^\S{1,15}$/);
  });

  test('vethd runs --empty, not privileged, every capability dropped but NET_ADMIN, NET_RAW and SYS_ADMIN', () => {
    expect(vethd.args).toContain('--empty');
    const sc = vethd.securityContext;
    expect(sc.privileged).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect(new Set(sc.capabilities.add)).toEqual(new Set(['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN']));
  });

  test('it has /dev/net/tun, /run/vethd for the control socket, the pods\' namespaces and the machine id from the node', () => {
    expect(volume('tun').hostPath).toEqual({ path: '/dev/net/tun', type: 'CharDevice' });
    expect(mount(vethd, 'tun')?.mountPath).toBe('/dev/net/tun');
    expect(volume('run-vethd').hostPath.path).toBe('/run/vethd');
    expect(vethd.args.join(' ')).toContain('--control-socket /run/vethd/$(VETHD_PARENT)/control.sock');
    expect(mount(vethd, 'netns')).toMatchObject({ mountPath: '/var/run/netns', mountPropagation: 'HostToContainer' });
    expect(mount(vethd, 'machine-id')).toMatchObject({ mountPath: '/etc/machine-id', readOnly: true });
    // Every mount names a volume.
    for (const c of [...pod.initContainers, ...pod.containers]) for (const m of c.volumeMounts) expect(volume(m.name), m.name).toBeDefined();
  });

  test('the init container installs the plugin into the node\'s /opt/cni/bin with no capability', () => {
    const init = pod.initContainers[0];
    expect(init.command[0]).toBe('/opt/vethd/deploy/install-cni.sh');
    expect(init.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(volume(mount(init, 'cni-bin')?.name ?? '').hostPath.path).toBe('/opt/cni/bin');
  });
});

describe('deploy/network-attachment.yaml', () => {
  test('a Multus NetworkAttachmentDefinition whose config is JSON for the vethd plugin, as a macvlan one with its type changed', () => {
    const [nad] = docs('network-attachment.yaml');
    expect(nad).toMatchObject({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition' });
    const conf = JSON.parse(nad.spec.config);
    expect(conf).toMatchObject({ cniVersion: '1.0.0', name: nad.metadata.name, type: 'vethd', master: expect.any(String), ipam: { type: 'dhcp' } });
  });
});

describe('deploy/install-cni.sh', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vethd-install-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('copies vethd and node under <opt>/vethd and writes an executable shim <cni bin>/vethd; a second run replaces them whole', () => {
    const src = path.join(dir, 'image-vethd');
    mkdirSync(path.join(src, 'bin'), { recursive: true });
    writeFileSync(path.join(src, 'bin', 'vethd-cni'), '#!/bin/sh\n');
    const [opt, cni] = [path.join(dir, 'opt'), path.join(dir, 'cni')];
    mkdirSync(opt);
    mkdirSync(cni);
    const env = { ...process.env, VETHD_SRC: src, NODE_BIN: process.execPath };
    const script = path.join(deploy, 'install-cni.sh');
    execFileSync(script, [opt, cni], { env });
    writeFileSync(path.join(src, 'bin', 'new-file'), 'x');
    execFileSync(script, [opt, cni], { env });
    expect(readFileSync(path.join(opt, 'vethd', 'bin', 'new-file'), 'utf8')).toBe('x');
    expect(statSync(path.join(opt, 'vethd', 'node')).size).toBe(statSync(process.execPath).size);
    const shim = path.join(cni, 'vethd');
    expect(statSync(shim).mode & 0o111).toBe(0o111);
    expect(readFileSync(shim, 'utf8')).toBe('#!/bin/sh\nexec /opt/vethd/node /opt/vethd/bin/vethd-cni "$@"\n');
    expect(execFileSync('ls', [opt], { encoding: 'utf8' }).trim()).toBe('vethd');
  });
});
