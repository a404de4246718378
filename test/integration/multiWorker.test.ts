// The production shape, for real: Temporal on PostgreSQL (scripts/temporal/cluster.sh), two
// `gantry worker` processes on the main queue and one on production's own queue, one audit log in
// PostgreSQL. Promotions with signed approvals run while workers are SIGKILLed at random and the
// Temporal server is killed and restarted once. Expected, from what a user can see: every
// promotion promoted, one commit per promotion and environment, one audit chain that
// `gantry audit verify` accepts with every promotion's events exactly once, and (from history)
// no production activity ever ran on a main-queue worker; `gantry list` and the Temporal web UI
// answer from SQL visibility.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { readPostgresAuditText } from '../../src/audit/postgresAuditStore';
import { parseAuditRecord, type AuditRecord } from '../../src/audit';
import { GantryClient } from '../../src/client/gantryClient';
import { createConfigRepo } from '../../src/local/configRepo';
import { PROJECT_ROOT } from '../../src/local/tools';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { activityRuns } from '../harness/activityRuns';
import { approversSettings, makeApproverKeys } from '../harness/approverKeys';
import { runCli } from '../harness/devServerStack';
import { commitsIn } from '../harness/gitInspect';
import { pipelineYaml, promotionInput, testDigest, testPolicyFile } from '../harness/pipelineFile';
import { useTemporalCluster } from '../harness/temporalCluster';

// 30 promotions is what the issue asks for; GANTRY_MULTI_WORKER_PROMOTIONS lowers it on a slow machine.
const PROMOTIONS = Number(process.env.GANTRY_MULTI_WORKER_PROMOTIONS ?? 30);
const MIN_KILLS = 10;
const MAIN_QUEUE = 'gantry-main';
const PRODUCTION_QUEUE = 'gantry-production';

const cluster = useTemporalCluster();

interface WorkerSlot {
  role: 'main' | 'production';
  name: string;
  generation: number;
  child?: ChildProcess;
}

test(
  `${PROMOTIONS} promotions with signed approvals on three workers, ≥${MIN_KILLS} worker SIGKILLs and a server crash`,
  async () => {
    const { address, databaseUrl } = cluster();
    const work = mkdtempSync(join(tmpdir(), 'gantry-multi-'));
    // One audit database for the installation, and one audit key every worker shares (made with the CLI).
    const admin = new PgClient({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE gantry_audit');
    await admin.end();
    const auditUrl = databaseUrl.replace(/\/postgres$/, '/gantry_audit');
    const keyDir = join(work, 'audit-key');
    expect(await runCli(['audit', 'keygen', '--key-dir', keyDir])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^audit key SHA256:/),
    });
    const auditEnv = { GANTRY_AUDIT_URL: auditUrl, GANTRY_AUDIT_KEY_DIR: keyDir };

    const apps = Array.from({ length: PROMOTIONS }, (_, i) => `app${String(i + 1).padStart(2, '0')}`);
    const repo = await createConfigRepo({
      dir: work,
      apps: apps.map((name) => ({
        name,
        image: `registry.example.com/acme/${name}`,
        overlayPath: (e) => `apps/${name}/environments/${e}`,
      })),
      environments: ['dev', 'production'],
    });
    const { alice } = makeApproverKeys(['alice']);
    const yaml = pipelineYaml(
      repo,
      apps,
      [
        { name: 'dev' },
        {
          name: 'production',
          taskQueue: PRODUCTION_QUEUE,
          approval: { required: 1, from: ['alice'], signatures: 'required', expiresIn: '72h' },
        },
      ],
      approversSettings({ alice }),
    );

    // --- workers: started, killed and restarted as separate processes ------------------------------
    const slots: WorkerSlot[] = [
      { role: 'main', name: 'main-a', generation: 0 },
      { role: 'main', name: 'main-b', generation: 0 },
      { role: 'production', name: 'production-a', generation: 0 },
    ];
    const startWorker = (slot: WorkerSlot): Promise<void> => {
      slot.generation++;
      const child = spawn(
        process.execPath,
        [
          join(PROJECT_ROOT, 'bin', 'gantry'),
          'worker',
          '--policy',
          testPolicyFile(),
          '--task-queue',
          slot.role === 'main' ? MAIN_QUEUE : PRODUCTION_QUEUE,
          '--identity',
          `${slot.name}#${slot.generation}`,
        ],
        {
          env: {
            ...process.env,
            ...auditEnv,
            TEMPORAL_ADDRESS: address,
            GANTRY_DATA_DIR: join(work, `data-${slot.name}`),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      slot.child = child;
      let output = '';
      return new Promise((resolve, reject) => {
        const onData = (d: Buffer) => {
          output += d.toString();
          if (output.includes('gantry worker polling')) resolve();
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code, signal) =>
          reject(
            new Error(`worker ${slot.name}#${slot.generation} exited (${code ?? signal}) before polling:\n${output}`),
          ),
        );
      });
    };
    await Promise.all(slots.map(startWorker));

    const gantry = await GantryClient.connect({
      connectionOptions: { address },
      namespace: 'default',
      taskQueue: MAIN_QUEUE,
    });
    const digests = new Map(apps.map((app) => [app, testDigest()]));
    let kills = 0;
    let serverRestarted = false;
    try {
      for (const app of apps) await gantry.start(promotionInput(yaml, app, digests.get(app)!));

      // --- chaos, approvals and waiting, in one loop -------------------------------------------------
      const approved = new Set<string>();
      const finished = new Map<string, PromotionStatus>();
      const deadline = Date.now() + 15 * 60_000;
      let nextKill = Date.now() + 1_000;
      while (finished.size < apps.length || kills < MIN_KILLS) {
        if (Date.now() > deadline)
          throw new Error(`not done after 15 minutes: ${finished.size}/${apps.length} finished, ${kills} kills`);
        if (Date.now() >= nextKill && (kills < MIN_KILLS || finished.size < apps.length)) {
          const slot = slots[Math.floor(Math.random() * slots.length)];
          slot.child!.kill('SIGKILL');
          kills++;
          await startWorker(slot);
          nextKill = Date.now() + 1_000 + Math.random() * 2_000;
          if (kills === 5 && !serverRestarted) {
            await cluster().restartServer(true);
            serverRestarted = true;
          }
        }
        // Approvals trickle in (a few per round), so most promotions are mid-flight during the kills.
        let approvedThisRound = 0;
        for (const app of apps) {
          if (finished.has(app) || approvedThisRound >= 3) continue;
          const status = await gantry.status(app, digests.get(app)!).catch(() => undefined); // the server may be restarting
          if (!status) break;
          if (status.outcome !== 'running') {
            finished.set(app, status);
          } else if (status.awaitingApproval && !approved.has(app) && kills >= 2) {
            const answer = await gantry
              .decide('approve', app, digests.get(app)!, { environment: 'production', by: 'alice' }, alice.privateKey)
              .catch(() => undefined);
            if (answer?.accepted) {
              approved.add(app);
              approvedThisRound++;
            }
          }
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
      expect(serverRestarted).toBe(true);

      // --- all promoted, one commit per promotion and environment ------------------------------------
      expect(
        [...finished.values()]
          .filter((s) => s.outcome !== 'promoted')
          .map((s) => `${s.app}: ${s.outcome} ${s.reason ?? ''}`),
      ).toEqual([]);
      const commits = commitsIn(repo);
      for (const app of apps) {
        const mine = commits.filter((c) => c.trailers['Gantry-Digest'] === digests.get(app));
        expect({ app, environments: mine.map((c) => c.trailers['Gantry-Environment']) }).toEqual({
          app,
          environments: ['production', 'dev'],
        });
      }

      // --- one audit chain, every promotion's events exactly once --------------------------------------
      const verify = await runCli(['audit', 'verify'], auditEnv);
      expect(verify).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^audit log ok: \d+ records, chain and signatures verified \(PostgreSQL /),
      });
      const records = (await readPostgresAuditText(auditUrl))
        .trim()
        .split('\n')
        .map((l) => parseAuditRecord(JSON.parse(l)) as AuditRecord);
      for (const app of apps) {
        const events = records
          .filter((r) => r.app === app)
          .map((r) => `${r.event}${r.environment ? `:${r.environment}` : ''}`);
        expect({ app, events: events.sort() }).toEqual({
          app,
          events: [
            'approval-accepted:production',
            'deployed:dev',
            'deployed:production',
            'finished',
            'started',
            'verified',
          ],
        });
      }

      // --- from history: production's activities ran on the production worker, and only those there --
      for (const app of apps) {
        const runs = activityRuns(await gantry.handle(app, digests.get(app)!).fetchHistory());
        const production = runs.filter((r) => r.taskQueue === PRODUCTION_QUEUE);
        expect(production.some((r) => r.activityType === 'deploy' && r.environment === 'production')).toBe(true);
        for (const r of runs) {
          const ranOn = [r.startedBy, r.completedBy].filter(Boolean) as string[];
          expect(ranOn.length).toBeGreaterThan(0);
          const wanted = r.taskQueue === PRODUCTION_QUEUE ? /^production-a#\d+$/ : /^main-[ab]#\d+$/;
          for (const identity of ranOn)
            expect({ app, activity: r.activityType, environment: r.environment, identity }).toEqual({
              app,
              activity: r.activityType,
              environment: r.environment,
              identity: expect.stringMatching(wanted),
            });
          if (r.environment === 'production' && ['deploy', 'checkHealth', 'runGate'].includes(r.activityType))
            expect(r.taskQueue).toBe(PRODUCTION_QUEUE);
        }
      }
      // SQL visibility answers Gantry's search-attribute queries.
      const listed = JSON.parse(
        (await runCli(['list', '--limit', '100', '--json'], { TEMPORAL_ADDRESS: address })).stdout,
      ) as Array<{ app?: string; digest?: string; executionStatus: string }>;
      expect(listed.map((r) => `${r.app} ${r.digest} ${r.executionStatus}`).sort()).toEqual(
        apps.map((a) => `${a} ${digests.get(a)} COMPLETED`),
      );
      const one = JSON.parse(
        (await runCli(['list', '--app', 'app01', '--json'], { TEMPORAL_ADDRESS: address })).stdout,
      ) as unknown[];
      expect(one).toHaveLength(1);
      // The Temporal web UI in front of this server finds a promotion by Gantry's search attribute.
      const fromUi = (await (
        await fetch(
          `${cluster().uiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent('GantryApp = "app01"')}`,
        )
      ).json()) as { executions?: Array<{ execution?: { workflowId?: string } }> };
      expect(fromUi.executions?.map((e) => e.execution?.workflowId)).toEqual([`promote/app01/${digests.get('app01')}`]);
      console.log(
        `multi-worker suite: ${apps.length} promotions, ${kills} worker SIGKILLs, 1 server crash+restart, ${records.length} audit records`,
      );
    } finally {
      await gantry.close().catch(() => undefined);
      for (const s of slots) s.child?.kill('SIGKILL');
    }
  },
  20 * 60_000,
);
