// Promises that hold when things happen at once, on a real dev server with two workers on one
// queue and a real config repo: one person counts once under 50 simultaneous signed decisions;
// five digests of one app started together or staggered end with the newest everywhere, never
// two deploys into one environment at once and never an older commit after a newer one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signDecision } from '../../src/client/signDecision';
import { createConfigRepo } from '../../src/local/configRepo';
import * as msg from '../../workflows/messages';
import type { PromotionStatus } from '../../src/pipeline/promotionStatus';
import { approversSettings, makeApproverKeys } from '../harness/approverKeys';
import { startStack, type Stack } from '../harness/devServerStack';
import { until } from '../harness/until';
import { commitsIn } from '../harness/gitInspect';
import { pipelineYaml, promotionInput, testDigest } from '../harness/pipelineFile';

const ENVS = ['dev', 'staging', 'production'];
const keys = makeApproverKeys(['alice', 'bob', 'carol']);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ taskQueue: 'concurrency' });
  await stack.startWorker(); // two workers on one queue
});
afterAll(async () => {
  await stack?.stop();
});

describe('four eyes under concurrency', () => {
  async function waitingForProduction() {
    const repo = await createConfigRepo({
      apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
      environments: ['production'],
    });
    const approval = { required: 2, from: ['alice', 'bob', 'carol'], signatures: 'required' as const };
    const yaml = pipelineYaml(repo, ['web'], [{ name: 'production', approval }], approversSettings(keys));
    const digest = testDigest();
    const { workflowId, runId } = await stack.gantry.start(promotionInput(yaml, 'web', digest, 'ci'));
    await until('production approval', async () =>
      (await stack.gantry.status('web', digest)).awaitingApproval ? true : undefined,
    );
    return { repo, digest, workflowId, runId };
  }

  test.each([
    ['updates', 50, 0],
    ['updates and UI signals', 25, 25],
  ])(
    '50 signed approvals by one approver at once (%s) count once; each extra one is refused and recorded',
    async (_name, updates, signals) => {
      for (let round = 0; round < 2; round++) {
        const { repo, digest, workflowId, runId } = await waitingForProduction();
        const sign = () =>
          signDecision(
            { kind: 'approve', workflowId, runId, app: 'web', digest, environment: 'production', approver: 'alice' },
            keys.alice.privateKey,
          );
        const handle = stack.gantry.client.workflow.getHandle(workflowId);
        const sent = await Promise.all([
          ...Array.from({ length: updates }, () =>
            stack.gantry.decide('approve', 'web', digest, { environment: 'production', by: 'alice', signed: sign() }),
          ),
          ...Array.from({ length: signals }, () =>
            handle
              .signal(msg.approveSignal, { environment: 'production', by: 'alice', signed: sign() })
              .then(() => undefined),
          ),
        ]);
        const accepted = sent.filter((a) => a?.accepted).length;
        expect(accepted).toBeLessThanOrEqual(1);
        // Every signal has been handled once 49 refusals are on record.
        const status = await until(
          'every decision handled',
          async () => {
            const s = await stack.gantry.status('web', digest);
            return s.refused.length + s.decisions.length === updates + signals ? s : undefined;
            // 50 signature checks queue behind the rest of the suite's work on two cores (26 s for both
            // rounds alone; minutes beside the multi-worker suite).
          },
          300_000,
        );
        expect(status.outcome).toBe('running');
        expect(status.awaitingApproval?.environment).toBe('production');
        expect(status.decisions.map((d) => d.by)).toEqual(['alice']);
        expect(status.environments[0].votes).toHaveLength(1);
        expect(status.refused).toHaveLength(updates + signals - 1);
        for (const r of status.refused)
          expect(r.reason).toMatch(/^alice already approved production$|nonce already used/);
        expect(commitsIn(repo)).toHaveLength(1); // nothing deployed

        // The second person completes the rule: votes are alice and bob, and the deploy happens once.
        expect(
          await stack.gantry.decide(
            'approve',
            'web',
            digest,
            { environment: 'production', by: 'bob' },
            keys.bob.privateKey,
          ),
        ).toMatchObject({ accepted: true });
        const final = await stack.gantry.result('web', digest);
        expect(final.outcome).toBe('promoted');
        expect(final.environments[0].votes.map((v) => v.by)).toEqual(['alice', 'bob']);
        expect(commitsIn(repo)).toHaveLength(2);
      }
    },
    600_000,
  );
});

describe('five digests of one app', () => {
  async function pipeline(ordering: 'supersede' | 'queue') {
    const repo = await createConfigRepo({
      apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
      environments: ENVS,
    });
    const yaml = pipelineYaml(
      repo,
      ['web'],
      ENVS.map((name) => ({ name, soak: '1s' })),
      { ordering },
    );
    return { repo, yaml };
  }

  async function startTime(digest: string): Promise<number> {
    return (await stack.gantry.handle('web', digest).describe()).startTime.getTime();
  }

  /** Digests in start order, with their final status. */
  async function outcomes(digests: string[]): Promise<Array<{ digest: string; status: PromotionStatus }>> {
    const rows = await Promise.all(
      digests.map(async (digest) => ({
        digest,
        started: await startTime(digest),
        status: await stack.gantry.result('web', digest),
      })),
    );
    return rows.sort((a, b) => a.started - b.started || a.status.workflowId.localeCompare(b.status.workflowId));
  }

  /** What the config repo says, per environment: the digests committed there, oldest first. */
  function committed(repo: string): Record<string, string[]> {
    const byEnv: Record<string, string[]> = Object.fromEntries(ENVS.map((e) => [e, []]));
    for (const c of commitsIn(repo).reverse())
      if (c.trailers['Gantry-Environment']) byEnv[c.trailers['Gantry-Environment']].push(c.trailers['Gantry-Digest']);
    return byEnv;
  }

  function overlayDigest(repo: string, env: string): string | undefined {
    return commitsIn(repo).find((c) => c.trailers['Gantry-Environment'] === env)?.trailers['Gantry-Digest'];
  }

  /**
   * Never two deploys into one environment at once, from the server's own record: each deploy
   * activity's start and completion in the promotions' histories. (The workflow-time stamps in a
   * status come from the workflow task that was accepted, which can be a retry after the side
   * effects of an earlier attempt; the history's activity events are not.)
   */
  async function expectNoConcurrentDeploys(rows: Array<{ status: PromotionStatus }>) {
    const deploys: Array<{ env: string; promotion: string; from: string; to: string }> = [];
    for (const { status } of rows) {
      const events = (await stack.gantry.client.workflow.getHandle(status.workflowId).fetchHistory()).events ?? [];
      const time = (e: (typeof events)[number]) =>
        new Date(Number(e.eventTime?.seconds) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6)).toISOString();
      for (const scheduled of events.filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'deploy',
      )) {
        const input = (await stack.decode(scheduled.activityTaskScheduledEventAttributes!.input!.payloads![0])) as {
          environment: string;
        };
        const ofThis = (e: (typeof events)[number]) =>
          Number(
            e.activityTaskStartedEventAttributes?.scheduledEventId ??
              e.activityTaskCompletedEventAttributes?.scheduledEventId,
          ) === Number(scheduled.eventId);
        const started = events.find((e) => e.activityTaskStartedEventAttributes && ofThis(e));
        const completed = events.find((e) => e.activityTaskCompletedEventAttributes && ofThis(e));
        if (started && completed)
          deploys.push({
            env: input.environment,
            promotion: status.workflowId,
            from: time(started),
            to: time(completed),
          });
      }
    }
    for (const env of ENVS) {
      const mine = deploys.filter((d) => d.env === env).sort((a, b) => a.from.localeCompare(b.from));
      const overlapping = mine.slice(1).flatMap((d, i) => (d.from < mine[i].to ? [[mine[i], d]] : []));
      expect({ env, overlapping }).toEqual({ env, overlapping: [] });
    }
  }

  /** No commit of an older digest after a newer one, in any environment. */
  function expectStartOrder(repo: string, order: string[]) {
    for (const [env, digests] of Object.entries(committed(repo))) {
      const ranks = digests.map((d) => order.indexOf(d));
      expect({ env, ranks }).toEqual({ env, ranks: [...ranks].sort((a, b) => a - b) });
    }
  }

  test('supersede (default), started at once: the newest ends up everywhere; older ones promoted or superseded, never over it', async () => {
    const { repo, yaml } = await pipeline('supersede');
    const digests = Array.from({ length: 5 }, () => testDigest());
    await Promise.all(digests.map((d) => stack.gantry.start(promotionInput(yaml, 'web', d))));
    const rows = await outcomes(digests);
    const order = rows.map((r) => r.digest);
    expect(rows[4].status.outcome).toBe('promoted');
    for (const r of rows.slice(0, 4)) expect(['promoted', 'superseded']).toContain(r.status.outcome);
    for (const env of ENVS) expect(overlayDigest(repo, env)).toBe(order[4]);
    expectStartOrder(repo, order);
    await expectNoConcurrentDeploys(rows);
    const superseded = rows.filter((r) => r.status.outcome === 'superseded');
    for (const r of superseded)
      expect(r.status.reason).toMatch(/^superseded by sha256:[0-9a-f]{12} \(promote\/web\/sha256:/);
  });

  test('supersede, staggered: each newer digest ends the one before it, which never deploys again', async () => {
    const { repo, yaml } = await pipeline('supersede');
    const digests: string[] = [];
    for (let i = 0; i < 5; i++) {
      const digest = testDigest();
      digests.push(digest);
      await stack.gantry.start(promotionInput(yaml, 'web', digest));
      // The next one starts while this one is in staging.
      if (i < 4)
        await until('staging', async () =>
          (await stack.gantry.status('web', digest)).environment === 'staging' ||
          (await stack.gantry.status('web', digest)).outcome !== 'running'
            ? true
            : undefined,
        );
    }
    const rows = await outcomes(digests);
    expect(rows.map((r) => r.digest)).toEqual(digests);
    expect(rows[4].status.outcome).toBe('promoted');
    for (const r of rows.slice(0, 4)) expect(r.status.outcome).toBe('superseded');
    for (const env of ENVS) expect(overlayDigest(repo, env)).toBe(digests[4]);
    expectStartOrder(repo, digests);
    await expectNoConcurrentDeploys(rows);
    // Superseded in staging: nothing of theirs reached production.
    expect(committed(repo).production).toEqual([digests[4]]);
  });

  test('queue, started at once: all five promoted, one after another in start order in every environment', async () => {
    const { repo, yaml } = await pipeline('queue');
    const digests = Array.from({ length: 5 }, () => testDigest());
    await Promise.all(digests.map((d) => stack.gantry.start(promotionInput(yaml, 'web', d))));
    const rows = await outcomes(digests);
    const order = rows.map((r) => r.digest);
    for (const r of rows) expect(r.status.outcome).toBe('promoted');
    for (const env of ENVS) expect(committed(repo)[env]).toEqual(order);
    await expectNoConcurrentDeploys(rows);
  });
});

test('the audit log of a superseded promotion says who superseded it', () => {
  const log = readFileSync(join(stack.dir, 'audit', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; details: { by?: string } });
  const superseded = log.filter((r) => r.event === 'superseded');
  expect(superseded.length).toBeGreaterThanOrEqual(4);
  for (const r of superseded) expect(r.details.by).toMatch(/^sha256:/);
});
