// One promotion of one artifact (an image digest) through the pipeline's environments.
// Deterministic: everything with side effects happens in activities; decisions arrive as
// updates or signals and are checked by the same pure rules in src/pipeline/decisions.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { GateOutcome } from '../src/pipeline/promotionStatus';
import type * as activities from '../activities';
import { refuseDecision, refuseOperatorRequest, type ApprovalDecision, type DecisionKind, type OperatorRequest } from '../src/pipeline/decisions';
import { shortDigest } from '../src/pipeline/digest';
import { formatDuration } from '../src/pipeline/duration';
import type { EnvironmentStatus, Outcome, PromotionResult, PromotionStatus, Stage } from '../src/pipeline/promotionStatus';
import { GANTRY_APP, GANTRY_AWAITING_APPROVAL, GANTRY_ENVIRONMENT, GANTRY_STAGE } from '../src/pipeline/searchAttributes';
import type { EnvironmentPlan, PromotionInput } from '../src/pipeline/types';
import * as msg from './messages';
import { activityOptions } from './activityOptions';

type Activities = ReturnType<typeof activities.createActivities>;

// Timeouts and retries differ per call (they depend on the pipeline), so options are given at each call.
const acts = proxyActivities<Activities>({ startToCloseTimeout: '1m' });

/** Ends the promotion with an outcome other than success; carried out of the main scope. */
class PromotionEnded extends Error {
  constructor(readonly outcome: Exclude<Outcome, 'running' | 'promoted'>, message: string) {
    super(message);
  }
}

export async function promoteArtifact(input: PromotionInput): Promise<PromotionResult> {
  const info = workflowInfo();
  const now = () => new Date().toISOString();
  const status: PromotionStatus = {
    workflowId: info.workflowId,
    app: input.app,
    digest: input.digest,
    requestedBy: input.requestedBy,
    outcome: 'running',
    stage: 'verify',
    paused: false,
    startedAt: now(),
    environments: input.environments.map((e) => ({ name: e.name, state: 'pending', gates: [] })),
    timings: [],
    decisions: [],
    refused: [],
  };
  // Only namespaces with Gantry's search attributes registered get them (the client sets them at start).
  const indexed = info.typedSearchAttributes.get(GANTRY_APP) !== undefined;
  const index: typeof upsertSearchAttributes = (attrs) => {
    if (indexed) upsertSearchAttributes(attrs);
  };
  let abortReason: string | undefined;
  let pipelineScope: CancellationScope | undefined;

  const envStatus = (name: string): EnvironmentStatus => status.environments.find((e) => e.name === name)!;

  const decide = (kind: DecisionKind, d: ApprovalDecision, via: 'update' | 'signal') => {
    const record = { kind, environment: d.environment, by: d.by, comment: d.comment, at: now(), via };
    envStatus(d.environment).approval = record;
    status.decisions.push(record);
  };
  const operate = (kind: 'abort' | 'pause' | 'resume', r: OperatorRequest) => {
    if (kind === 'pause') status.paused = true;
    if (kind === 'resume') status.paused = false;
    if (kind === 'abort') {
      abortReason = `aborted by ${r.by}${r.reason ? `: ${r.reason}` : ''}`;
      pipelineScope?.cancel();
    }
    describeWait();
  };

  for (const [kind, update, signal] of [
    ['approve', msg.approveUpdate, msg.approveSignal],
    ['reject', msg.rejectUpdate, msg.rejectSignal],
  ] as const) {
    setHandler(update, (d) => (decide(kind, d, 'update'), { accepted: true as const, status }), {
      validator: (d) => rejectIf(refuseDecision(status, d)),
    });
    setHandler(signal, (d) => {
      const reason = refuseDecision(status, d);
      if (reason) status.refused.push({ kind, environment: d?.environment, by: d?.by, reason, at: now(), via: 'signal' });
      else decide(kind, d, 'signal');
    });
  }
  for (const [kind, update, signal] of [
    ['abort', msg.abortUpdate, msg.abortSignal],
    ['pause', msg.pauseUpdate, msg.pauseSignal],
    ['resume', msg.resumeUpdate, msg.resumeSignal],
  ] as const) {
    setHandler(update, (r) => (operate(kind, r), { accepted: true as const, status }), {
      validator: (r) => rejectIf(refuseOperatorRequest(status, kind, r)),
    });
    setHandler(signal, (r) => {
      const reason = refuseOperatorRequest(status, kind, r);
      if (reason) status.refused.push({ kind, by: r?.by, reason, at: now(), via: 'signal' });
      else operate(kind, r);
    });
  }
  setHandler(msg.statusQuery, () => status);

  function describeWait() {
    const where = status.environment ? ` ${status.environment}` : '';
    const a = status.awaitingApproval;
    status.waitingFor = status.paused
      ? `paused before the next stage (${status.stage}${where})`
      : a
        ? `approval for ${a.environment} (expires ${a.expiresAt})`
        : status.outcome === 'running'
          ? `${status.stage}${where}`
          : undefined;
    setCurrentDetails(status.waitingFor ?? `${status.outcome}${status.reason ? `: ${status.reason}` : ''}`);
  }

  function enter(stage: Stage, environment?: string) {
    status.stage = stage;
    status.environment = environment;
    status.timings.push({ stage, environment, startedAt: now() });
    index([
      { key: GANTRY_STAGE, value: stage },
      { key: GANTRY_ENVIRONMENT, value: environment ?? '' },
    ]);
    describeWait();
  }

  /** Runs one stage: waits while paused, records its timing, labels it for people. */
  async function stage<T>(name: Stage, environment: string | undefined, run: () => Promise<T>): Promise<T> {
    if (status.paused) {
      describeWait();
      await condition(() => !status.paused);
    }
    enter(name, environment);
    const timing = status.timings[status.timings.length - 1];
    try {
      const result = await run();
      timing.result = 'ok';
      return result;
    } catch (err) {
      timing.result = isCancellation(err) ? 'cancelled' : 'failed';
      timing.detail = failureMessage(err);
      throw err;
    } finally {
      timing.finishedAt = now();
    }
  }

  const label = (what: string, env?: string) => `${what}${env ? ` ${env}` : ''} ${shortDigest(input.digest)}`;

  async function awaitApproval(env: EnvironmentPlan, expiresInMs: number) {
    const e = envStatus(env.name);
    e.state = 'awaiting-approval';
    status.awaitingApproval = {
      environment: env.name,
      since: now(),
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    };
    index([{ key: GANTRY_AWAITING_APPROVAL, value: true }]);
    describeWait();
    try {
      const decided = await condition(() => e.approval !== undefined, expiresInMs);
      if (!decided) {
        throw new PromotionEnded('expired', `no decision for ${env.name} within ${formatDuration(expiresInMs)}`);
      }
      const d = e.approval!;
      if (d.kind === 'reject') {
        throw new PromotionEnded('rejected', `${env.name} rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
      }
    } finally {
      status.awaitingApproval = undefined;
      index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
    }
  }

  async function promoteTo(env: EnvironmentPlan) {
    const e = envStatus(env.name);
    if (env.approval) {
      const { expiresInMs } = env.approval;
      await stage('approval', env.name, () => awaitApproval(env, expiresInMs));
    }
    e.state = 'in-progress';
    const deployed = await stage('deploy', env.name, () =>
      acts.deploy.executeWithOptions({ ...activityOptions.deploy, summary: label('deploy', env.name) }, [
        { target: env.deploy, app: input.app, digest: input.digest, environment: env.name, workflowId: info.workflowId },
      ]),
    );
    Object.assign(e, { commit: deployed.commit, changed: deployed.changed, previousDigest: deployed.previousDigest });

    const check = env.health;
    if (check) {
      await stage('health', env.name, () =>
        acts.checkHealth.executeWithOptions({ ...activityOptions.health(check), summary: label('health', env.name) }, [
          { check, digest: input.digest, environment: env.name },
        ]),
      );
    }
    if (env.gates.length > 0) {
      await stage('gates', env.name, async () => {
        for (const gate of env.gates) {
          const outcome: GateOutcome = await acts.runGate.executeWithOptions(
            { ...activityOptions.gate(gate), summary: label(`gate ${gate.name}`, env.name) },
            [{ gate, app: input.app, digest: input.digest, environment: env.name }],
          );
          e.gates.push(outcome);
          if (!outcome.passed) throw new PromotionEnded('failed', `gate ${gate.name} failed in ${env.name}: ${outcome.detail}`);
        }
      });
    }
    if (env.soakMs > 0) await stage('soak', env.name, () => sleep(env.soakMs));
    e.state = 'promoted';
  }

  index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
  try {
    await CancellationScope.cancellable(async () => {
      pipelineScope = CancellationScope.current();
      await stage('verify', undefined, () =>
        acts.verifyArtifact.executeWithOptions({ ...activityOptions.verify, summary: label('verify') }, [
          { app: input.app, digest: input.digest, image: input.image, registry: input.registry },
        ]),
      );
      for (const env of input.environments) await promoteTo(env);
    });
    status.outcome = 'promoted';
  } catch (err) {
    if (err instanceof PromotionEnded) {
      status.outcome = err.outcome;
      status.reason = err.message;
    } else if (abortReason !== undefined && isCancellation(err)) {
      status.outcome = 'aborted';
      status.reason = abortReason;
    } else {
      status.outcome = 'failed';
      status.reason = `${status.stage}${status.environment ? ` ${status.environment}` : ''} failed: ${failureMessage(err)}`;
    }
    const current = status.environment ? envStatus(status.environment) : undefined;
    if (current && current.state === 'in-progress') current.state = 'failed';
  }
  status.finishedAt = now();
  status.stage = status.outcome === 'promoted' ? 'done' : status.stage;
  index([{ key: GANTRY_STAGE, value: status.outcome === 'promoted' ? 'done' : status.outcome }]);
  describeWait();
  if (status.outcome !== 'promoted') {
    // A failed execution shows as Failed in the Temporal UI and lets the digest be promoted again.
    throw ApplicationFailure.create({
      type: `Promotion${status.outcome[0].toUpperCase()}${status.outcome.slice(1)}`,
      message: status.reason ?? status.outcome,
      nonRetryable: true,
      details: [status],
    });
  }
  return status;
}

function rejectIf(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
