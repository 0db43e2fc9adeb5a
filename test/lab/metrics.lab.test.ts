/**
 * Metrics in the namespace lab: promtool finds nothing to say about the
 * exposition, and a real Prometheus server scraping vethd on loopback reports
 * the same receive counter as the relay after frames went through it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../../tools/lab/exec';
import { Lab, PEER_MAC } from '../../tools/lab/lab';
import { sendFrames, skipLab, VethdProcess } from './tools';

const VMAC = '02:00:c0:00:02:03';
const LISTEN = '127.0.0.1:10823';

describe.skipIf(skipLab)('metrics in the namespace lab', () => {
  let lab: Lab;
  let vethd: VethdProcess;

  /** GET a URL from inside the fw namespace (the endpoint is on fw's loopback). */
  async function get(url: string): Promise<{ status: number; body: string }> {
    const script = `fetch(${JSON.stringify(url)}).then(async r => process.stdout.write(JSON.stringify({status: r.status, body: await r.text()})))`;
    const r = await lab.exec('fw', process.execPath, ['-e', script]);
    return JSON.parse(r.stdout) as { status: number; body: string };
  }

  beforeAll(async () => {
    lab = await Lab.create('met');
    vethd = await VethdProcess.start(lab, ['-v', 'veth1', '-e', 'eth0', '-m', VMAC, '--metrics-listen', LISTEN]);
  });
  afterAll(async () => {
    await vethd?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  test('/metrics names follow node_exporter netdev, and promtool check metrics reports nothing', async () => {
    const m = await get(`http://${LISTEN}/metrics`);
    expect(m.status).toBe(200);
    for (const line of [
      'vethd_receive_packets_total{device="veth1"}',
      'vethd_transmit_bytes_total{device="veth1"}',
      'vethd_receive_drop_total{device="veth1",reason="not_for_us"}',
      'vethd_transmit_drop_total{device="veth1",reason="spoofed_source"}',
      'vethd_mac_conflicts_total{device="veth1"} 0',
      'vethd_parent_up{device="veth1",parent="eth0"} 1',
      `vethd_info{device="veth1",parent="eth0",address="${VMAC}",version="`,
      'process_resident_memory_bytes',
    ]) {
      expect(m.body).toContain(line);
    }
    const check = spawnSync('promtool', ['check', 'metrics'], { input: m.body, encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stdout + check.stderr).toBe('');
    const health = await get(`http://${LISTEN}/healthz`);
    expect(health).toEqual({ status: 200, body: 'ok\n' });
  });

  test('parent link down and up: vethd_parent_up follows, and each change is logged once', async () => {
    const parentUp = async () => /vethd_parent_up\{device="veth1",parent="eth0"\} (\d)/.exec((await get(`http://${LISTEN}/metrics`)).body)?.[1];
    await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'down']);
    await waitFor('vethd_parent_up 0', async () => (await parentUp()) === '0');
    await waitFor('a link-down log line', () => vethd.log().includes('parent link eth0 is down'));
    await lab.exec('fw', 'ip', ['link', 'set', 'eth0', 'up']);
    await waitFor('vethd_parent_up 1', async () => (await parentUp()) === '1', 10_000);
    await waitFor('a link-up log line', () => vethd.log().includes('parent link eth0 is up'));
    expect(vethd.log().split('parent link eth0 is down').length - 1).toBe(1);
  });

  test('a real Prometheus scraping vethd reports the relay\'s receive counter', async () => {
    const dir = lab.dir;
    const cfg = lab.file('prometheus.yml', `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vethd\n    static_configs:\n      - targets: ['${LISTEN}']\n`);
    const prom = lab.spawn('fw', 'prometheus', [
      `--config.file=${cfg}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, '--web.listen-address=127.0.0.1:19090',
    ]);
    const query = async (q: string): Promise<number | undefined> => {
      const r = await get(`http://127.0.0.1:19090/api/v1/query?query=${encodeURIComponent(q)}`);
      const v = (JSON.parse(r.body) as { data?: { result?: { value: [number, string] }[] } }).data?.result?.[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    };
    const metric = 'vethd_receive_packets_total{device="veth1"}';
    try {
      const before = await waitFor('Prometheus to scrape vethd', () => query(metric), 30_000, 250);
      await sendFrames(lab, 'peer', 'eth0', [{ dst: VMAC, src: PEER_MAC, type: 0x88b5 }], 50);
      const native = (await vethd.stats()).receive.frames;
      expect(native - before).toBeGreaterThanOrEqual(50);
      // The next scrapes carry the native value (read at scrape time).
      const seen = await waitFor(`Prometheus to report ${native}`, async () => {
        const v = await query(metric);
        return v !== undefined && v >= native ? v : undefined;
      }, 15_000, 250);
      expect(seen - before).toBeGreaterThanOrEqual(50);
      expect(seen).toBe((await vethd.stats()).receive.frames);
    } finally {
      prom.kill('SIGKILL');
    }
  });
});
