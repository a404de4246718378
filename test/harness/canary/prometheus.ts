// A real Prometheus (Debian's /usr/bin/prometheus) on loopback with a generated config: scrape
// interval 1 s, the given targets with their labels, a temp data folder.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../src/local/freePort';
import { startProcess, waitUntil } from './processes';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PrometheusServer {
  url: string;
  /** Waits until every target has been scraped successfully at least once. */
  targetsUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrometheus(
  targets: Array<{ port: number; labels: Record<string, string> }>,
): Promise<PrometheusServer> {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus`);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: app',
    '    static_configs:',
    ...targets.flatMap((t) => [
      `      - targets: ['127.0.0.1:${t.port}']`,
      '        labels:',
      ...Object.entries(t.labels).map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`),
    ]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const proc = startProcess(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('prometheus', async () => (await fetch(`${url}/-/ready`)).ok, 30_000, proc);
  return {
    url,
    async targetsUp(timeoutMs = 15_000) {
      await waitUntil(
        'prometheus targets',
        async () => {
          const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as {
            data: { activeTargets: Array<{ health: string }> };
          };
          return (
            body.data.activeTargets.length === targets.length && body.data.activeTargets.every((t) => t.health === 'up')
          );
        },
        timeoutMs,
        proc,
      );
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
