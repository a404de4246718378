// Activity overrides for the benchmarks: same names and shapes as the real ones (activities/), laid
// over the real set by createWorker, so the worker runs the real promoteArtifact workflow code and
// every other activity; only verify, deploy, health and gates differ.
//   instant: verify, deploy, health, gates and the canary's router and metric reads return at once
//            (what the orchestration costs).
//   lean:    instant, and the audit write and the freeze look-up (local activities) return at once
//            too: what the workflow itself costs, without the worker's side effects.
//   gitops:  the real gitops deploy into a local bare repo; the rest instant.
//   crash:   instant, except that the staging deploy's first attempt hangs (heartbeating once)
//            until the worker is killed; its retry returns at once. For the recovery benchmark.
//   slow:    instant, except that the staging deploy's first attempt takes 3 s (heartbeating each
//            second), so a dev server restart can happen while it runs. For the recovery benchmark.
import { Context } from '@temporalio/activity';
import { deploy as gitopsDeploy } from '../activities/deploy';
import type {
  ArtifactRef,
  DeployRequest,
  DeployResult,
  GateRequest,
  HealthRequest,
  VerifyResult,
} from '../activities/types';
import type { CanaryCountsReading, SetCanaryWeightRequest, SetCanaryWeightResult } from '../src/canary/types';
import type { GateOutcome } from '../src/pipeline/promotionStatus';
import type { BareActivities } from './bareWorkflow';

export type ActivitySetName = 'instant' | 'lean' | 'gitops' | 'crash' | 'slow';

export const SLOW_DEPLOY_MS = 3000;

const FAKE_COMMIT = '0'.repeat(40);

export function instantActivities() {
  return {
    async verifyArtifact(a: ArtifactRef): Promise<VerifyResult> {
      return { checked: 'format', detail: `bench: ${a.digest} accepted` };
    },
    async deploy(r: DeployRequest): Promise<DeployResult> {
      return { changed: true, commit: FAKE_COMMIT, detail: `bench: ${r.environment} deployed` };
    },
    async checkHealth(r: HealthRequest): Promise<string> {
      return `bench: ${r.environment} healthy`;
    },
    async runGate(r: GateRequest): Promise<GateOutcome> {
      return { name: r.gate.name, passed: true, detail: 'bench: passed' };
    },
    // Canary steps: the router answers at once; the counters describe a healthy canary taking 10,000
    // requests a second with the same 1% error rate as stable, so each analysis decides within a few reads.
    async setCanaryWeight(r: SetCanaryWeightRequest): Promise<SetCanaryWeightResult> {
      return { weight: r.weight, previous: 0, changed: true, detail: `bench: canary at ${r.weight}%` };
    },
    async readCanaryCounts(): Promise<CanaryCountsReading> {
      const canaryTotal = Date.now() * 10;
      const stableTotal = canaryTotal * 3;
      return {
        canaryTotal,
        canaryErrors: Math.floor(canaryTotal / 100),
        stableTotal,
        stableErrors: Math.floor(stableTotal / 100),
        at: new Date().toISOString(),
      };
    },
  };
}

export function activitySet(name: ActivitySetName) {
  const instant = instantActivities();
  switch (name) {
    case 'instant':
      return instant;
    case 'lean':
      return {
        ...instant,
        async recordAudit(): Promise<{ seq: number }> {
          return { seq: 0 };
        },
        async readManualFreezes(): Promise<never[]> {
          return [];
        },
      };
    case 'gitops':
      return { ...instant, deploy: gitopsDeploy };
    case 'crash':
      return {
        ...instant,
        async deploy(r: DeployRequest): Promise<DeployResult> {
          const ctx = Context.current();
          if (ctx.info.attempt === 1 && r.environment === 'staging') {
            ctx.heartbeat({ hanging: true });
            // Hangs until the benchmark kills this worker (bounded, so a stray worker ends on its own).
            await ctx.sleep(120_000);
          }
          return instant.deploy(r);
        },
      };
    case 'slow':
      return {
        ...instant,
        async deploy(r: DeployRequest): Promise<DeployResult> {
          const ctx = Context.current();
          if (ctx.info.attempt === 1 && r.environment === 'staging') {
            for (let waited = 0; waited < SLOW_DEPLOY_MS; waited += 1000) {
              ctx.heartbeat({ waited });
              await ctx.sleep(1000);
            }
          }
          return instant.deploy(r);
        },
      };
  }
}

/** The bare workflow's one activity. */
export const bareActivities: BareActivities = {
  async noop(step) {
    return step;
  },
};
