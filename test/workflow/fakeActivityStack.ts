// The promotion workflow on the time-skipping server with fake activities (the SDK's pattern for
// workflow tests): deploys, gates, verification, router and metrics answer at once from memory,
// so a test exercises the workflow's own logic (approvals, freezes, operators, rollback, canary)
// in seconds. Lanes, admission and the freeze look-up stay real: they are workflow logic too.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DeployRequest, DeployResult, GateRequest, VerifyResult } from '../../activities/types';
import { MemoryAuditStore } from '../../src/audit';
import { generateAuditKey, type AuditEntry } from '../../src/audit/auditRecord';
import type {
  CanaryCountsReading,
  ReadCanaryCountsRequest,
  SetCanaryWeightRequest,
  SetCanaryWeightResult,
} from '../../src/canary/types';
import { GantryClient } from '../../src/client/gantryClient';
import type { GateOutcome } from '../../src/pipeline/promotionStatus';
import { createWorker } from '../../src/worker/createWorker';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { testPolicy } from '../harness/pipelineFile';
import { createTimeSkippingEnv } from '../harness/timeSkipping';

/** What the fakes were asked to do, for the tests to look at. */
export interface FakeWorld {
  deploys: DeployRequest[];
  /** Canary weights set, per app and environment, in order. */
  weights: Array<{ app: string; environment: string; weight: number }>;
  audit: AuditEntry[];
  /** The digest each app/environment runs now (what a deploy replaced is the previous digest). */
  running: Map<string, string>;
  /** Share of canary requests that fail, per app (default 0). */
  canaryErrorRate: Map<string, number>;
}

export interface FakeActivityStack {
  env: TestWorkflowEnvironment;
  gantry: GantryClient;
  world: FakeWorld;
  stop(): Promise<void>;
}

/** Gates whose name starts with this fail (the rest pass). */
// Named approvers need keys in the pipeline; decisions in these tests are unsigned (signatures: optional).
export const APPROVERS = [
  'approvers:',
  '  alice: { keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx4SopBCgTagyVvPWG3q2IHsl7guLGM7J8LcOgLErAt alice@laptop"] }',
  '  bob: { keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICAFnJAE6CPD9YXi79uusnUQYKaiKBWWeYMsnOpvlqd6 bob@laptop"] }',
].join('\n');

export const FAILING_GATE_PREFIX = 'failing-';

export function fakeActivities(world: FakeWorld) {
  let commits = 0;
  const reads = new Map<string, number>();
  return {
    verifyArtifact: async (): Promise<VerifyResult> => ({ checked: 'format', detail: 'fake: not checked' }),
    deploy: async (r: DeployRequest): Promise<DeployResult> => {
      world.deploys.push(r);
      const key = `${r.app}/${r.environment}`;
      const previousDigest = world.running.get(key);
      world.running.set(key, r.digest);
      return {
        changed: previousDigest !== r.digest,
        commit: `fake-${++commits}`,
        previousDigest,
        detail: `fake deploy of ${r.digest}`,
      };
    },
    runGate: async (r: GateRequest): Promise<GateOutcome> => {
      const passed = !r.gate.name.startsWith(FAILING_GATE_PREFIX);
      return { name: r.gate.name, passed, detail: passed ? 'ok' : 'smoke says no' };
    },
    notifyWebhook: async (): Promise<void> => undefined,
    recordAudit: async (entry: AuditEntry): Promise<{ seq: number }> => {
      world.audit.push(entry);
      return { seq: world.audit.length };
    },
    setCanaryWeight: async (r: SetCanaryWeightRequest): Promise<SetCanaryWeightResult> => {
      const last = world.weights.filter((w) => w.app === r.app && w.environment === r.environment).at(-1)?.weight ?? 0;
      world.weights.push({ app: r.app, environment: r.environment, weight: r.weight });
      return { weight: r.weight, previous: last, changed: last !== r.weight, detail: `fake router at ${r.weight}%` };
    },
    // Cumulative counters, 1000 more requests on each side per read.
    readCanaryCounts: async (r: ReadCanaryCountsRequest): Promise<CanaryCountsReading> => {
      const key = r.queries.canary.errors;
      const n = (reads.get(key) ?? 0) + 1;
      reads.set(key, n);
      const app = /app="([^"]+)"/.exec(key)?.[1] ?? '';
      const rate = world.canaryErrorRate.get(app) ?? 0;
      return {
        canaryErrors: Math.round(n * 1000 * rate),
        canaryTotal: n * 1000,
        stableErrors: n * 5,
        stableTotal: n * 1000,
        at: new Date().toISOString(),
      };
    },
  };
}

export async function startFakeActivityStack(taskQueue: string): Promise<FakeActivityStack> {
  const world: FakeWorld = { deploys: [], weights: [], audit: [], running: new Map(), canaryErrorRate: new Map() };
  const [env, bundle] = await Promise.all([createTimeSkippingEnv(), bundleGantryWorkflows()]);
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: bundle,
    policy: testPolicy,
    // recordAudit is fake; the store only keeps the worker from opening a file in ~/.gantry.
    auditStore: new MemoryAuditStore(generateAuditKey()),
    // The SDK's converter, whatever the environment says about codec keys.
    dataConverter: undefined,
    activityOverrides: fakeActivities(world) as unknown as Record<string, (...args: never[]) => Promise<unknown>>,
  });
  const running = worker.run();
  return {
    env,
    world,
    gantry: new GantryClient(env.client, taskQueue, false),
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
