// `npm run demo`: a whole promotion on this machine. Starts a Temporal dev server (SQLite file
// under .gantry/data, web UI on), a worker, a bare config repo with dev/staging/production
// overlays and a small app per environment; promotes a sample digest through dev and staging,
// then waits for the production approval, which you give with the printed command.
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GantryClient } from '../client/gantryClient';
import { followPromotion } from '../cli/followPromotion';
import { loadConfig } from '../config/loadConfig';
import { resolvePromotion } from '../config/resolvePromotion';
import { CODEC_KEYS_FILE_ENV, loadOrCreateCodecKeyFile } from '../codec/codecKeys';
import { gantryDataConverter } from '../codec/dataConverter';
import { createConfigRepo } from '../local/configRepo';
import { freePort } from '../local/freePort';
import { startDevServer } from '../local/temporalDevServer';
import { PROJECT_ROOT } from '../local/tools';
import { filePolicySource } from '../policy/policySource';
import { createWorker } from '../worker/createWorker';
import { startDemoApp, type DemoApp } from './demoApp';

const APP = 'hello';
const IMAGE = 'registry.example.com/demo/hello';
const ENVIRONMENTS = ['dev', 'staging', 'production'];
const TASK_QUEUE = 'gantry-demo';
const APPROVER = 'demo-approver';

async function runDemo(): Promise<number> {
  // GANTRY_DATA_DIR moves everything the demo writes (the tests use a temp folder).
  const root = process.env.GANTRY_DATA_DIR ?? join(PROJECT_ROOT, '.gantry');
  const dataDir = join(root, 'data');
  const runDir = join(root, 'demo', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(runDir, { recursive: true });
  const say = (line: string) => console.log(`[demo] ${line}`);
  // The demo's own lines tell the story; the SDK speaks up only for warnings.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  say(`starting the Temporal dev server (SQLite: ${relative(PROJECT_ROOT, join(dataDir, 'temporal.db'))})`);
  const server = await startDevServer({
    dbFile: join(dataDir, 'temporal.db'),
    port: (await isFree(7233)) ? 7233 : undefined,
    uiPort: (await isFree(8233)) ? 8233 : 0,
    logFile: join(dataDir, 'temporal.log'),
  });
  const apps: DemoApp[] = [];
  let connection: NativeConnection | undefined;
  let gantry: GantryClient | undefined;
  try {
    say(`Temporal UI: ${server.uiUrl}  (gRPC ${server.address})`);
    const bareRepo = await createConfigRepo({
      dir: runDir,
      apps: [{ name: APP, image: IMAGE, overlayPath: (env) => `environments/${env}` }],
      environments: ENVIRONMENTS,
    });
    for (const env of ENVIRONMENTS) {
      apps.push(
        await startDemoApp({ bareRepo, overlayPath: `environments/${env}`, imageName: IMAGE, port: await freePort() }),
      );
    }
    // The production approval must be signed: the demo makes an SSH key for its approver.
    const approverKey = join(runDir, 'approver_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', APPROVER, '-f', approverKey]);
    const configFile = join(runDir, 'gantry.yaml');
    writeFileSync(configFile, demoPipeline(bareRepo, apps, readFileSync(`${approverKey}.pub`, 'utf8').trim()));
    say(`config repo: ${relative(PROJECT_ROOT, bareRepo)}; pipeline: ${relative(PROJECT_ROOT, configFile)}`);
    ENVIRONMENTS.forEach((env, i) => say(`${env} app: ${apps[i].url}/version`));

    // Payloads are encrypted, as in production: the demo keeps its key beside its SQLite file.
    const keyFile = join(dataDir, 'keys', 'codec-keys');
    const dataConverter = gantryDataConverter(loadOrCreateCodecKeyFile(keyFile));
    say(
      `payloads in history are encrypted with the key in ${relative(PROJECT_ROOT, keyFile)}; the Temporal UI shows them as ciphertext`,
    );
    connection = await NativeConnection.connect({ address: server.address });
    // The worker enforces the pipeline file as its policy, as `gantry worker -c gantry.yaml` does.
    const worker = await createWorker({
      connection,
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      dataDir,
      dataConverter,
      policy: filePolicySource(configFile),
    });
    const workerDone = worker.run();
    try {
      gantry = await GantryClient.connect({
        connectionOptions: { address: server.address },
        namespace: 'default',
        taskQueue: TASK_QUEUE,
        dataConverter,
      });
      const digest = `sha256:${createHash('sha256').update(`demo ${runDir}`).digest('hex')}`;
      const input = resolvePromotion(loadConfig(configFile), { app: APP, digest, requestedBy: 'demo' });
      const started = await gantry.start(input);
      say(
        `promoting ${APP} ${digest}: ${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(started.workflowId)}`,
      );
      const final = await followPromotion(gantry, started.workflowId, (line) => {
        if (line.startsWith('awaiting approval')) {
          say(
            `waiting for the production approval, which must be signed. In another terminal, run:\n\n  TEMPORAL_ADDRESS=${server.address} ${CODEC_KEYS_FILE_ENV}=${keyFile} ${join(PROJECT_ROOT, 'bin', 'gantry')} -c ${configFile} approve ${APP} ${digest} --env production --as ${APPROVER} --key ${approverKey}\n`,
          );
          say(
            `the Temporal UI shows the promotion waiting: ${server.uiUrl} (an unsigned "approve" signal from there is refused and recorded)`,
          );
        } else {
          say(line);
        }
      });
      if (final.outcome === 'promoted') {
        const served = (await (await fetch(`${apps[2].url}/version`)).json()) as { digest: string };
        say(`promoted ${APP} to production: production serves ${served.digest}`);
        return 0;
      }
      say(`promotion ended ${final.outcome}: ${final.reason}`);
      return 1;
    } finally {
      worker.shutdown();
      await workerDone;
    }
  } finally {
    await gantry?.close();
    await connection?.close();
    await Promise.all(apps.map((a) => a.stop()));
    await server.stop();
  }
}

function demoPipeline(bareRepo: string, apps: DemoApp[], approverKey: string): string {
  const [dev, staging, production] = apps;
  return `# The demo's pipeline: dev and staging deploy on their own; production waits for a person.
version: 1
configRepo:
  url: ${bareRepo}
  branch: main
approvers:
  ${APPROVER}: { keys: ["${approverKey}"] }
apps:
  ${APP}:
    image: ${IMAGE}
environments:
  - name: dev
    deploy: { gitops: { path: environments/dev } }
    health: { http: { url: "${dev.url}", interval: 250ms, timeout: 1m } }
  - name: staging
    deploy: { gitops: { path: environments/staging } }
    health: { http: { url: "${staging.url}", interval: 250ms, timeout: 1m } }
    gates:
      - http: { name: smoke, url: "${staging.url}/health", expectStatus: 200 }
    soak: 2s
  - name: production
    approval: { from: [${APPROVER}], expiresIn: 72h }
    deploy: { gitops: { path: environments/production } }
    health: { http: { url: "${production.url}", interval: 250ms, timeout: 1m } }
`;
}

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

if (require.main === module) {
  runDemo().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
