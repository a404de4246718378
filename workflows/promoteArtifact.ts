// One promotion of one artifact (an image digest) through the pipeline's environments.
// Deterministic: everything with side effects happens in activities; decisions arrive as
// updates or signals and pass the same pure rules (src/pipeline/decisions, approvalPolicy).
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { AuditEventKind, JsonValue } from '../src/audit/auditRecord';
import { approvers, refuseSecondVote, screenDecision, tallyVotes, type SignedKind } from '../src/pipeline/approvalPolicy';
import type { CanaryAnalysisResult, CanaryStepRecord } from '../src/canary/types';
import {
  refuseDecision,
  refuseFreezeOverride,
  refuseOperatorRequest,
  refuseRollback,
  type ApprovalDecision,
  type DecisionKind,
  type FreezeOverride,
  type OperatorRequest,
  type RollbackRequest,
} from '../src/pipeline/decisions';
import { shortDigest } from '../src/pipeline/digest';
import { formatDuration } from '../src/pipeline/duration';
import { activeFreeze } from '../src/pipeline/freezeWindows';
import type { DecisionRecord, EnvironmentStatus, FreezeWait, GateOutcome, Outcome, PromotionResult, PromotionStatus, Stage } from '../src/pipeline/promotionStatus';
import { GANTRY_APP, GANTRY_AWAITING_APPROVAL, GANTRY_ENVIRONMENT, GANTRY_STAGE } from '../src/pipeline/searchAttributes';
import type { ApprovalSpec, DeployTarget, EnvironmentPlan, PromotionInput } from '../src/pipeline/types';
import { activityOptions } from './activityOptions';
import { LaneSeat } from './laneSeat';
import { admissionAuditDetails, admitPromotion } from './admitPromotion';
import { operationGuard } from './authorizeOperation';
import { onEnvironmentQueue } from './environmentQueue';
import * as msg from './messages';
import { migrationGate } from './migrationGate';
import { runCanary } from './runCanary';

type Activities = ReturnType<typeof activities.createActivities>;

// Timeouts and retries differ per call (they depend on the pipeline), so options are given at each call.
const acts = proxyActivities<Activities>({ startToCloseTimeout: '1m' });
// Audit writes and freeze look-ups are short and local to the worker: one marker event each in history.
const local = proxyLocalActivities<Activities>(activityOptions.local);

/** How long a finished promotion waits for its last notifications before it closes. */
const NOTIFY_GRACE_MS = 10_000;

/** How often a promotion held by a manual freeze looks again (gantry unfreeze also wakes it at once). */
const MANUAL_FREEZE_RECHECK_MS = 60_000;

/** Ends the promotion with an outcome other than success; carried out of the main scope. */
class PromotionEnded extends Error {
  constructor(
    readonly outcome: Exclude<Outcome, 'running' | 'promoted'>,
    message: string,
  ) {
    super(message);
  }
}

export async function promoteArtifact(sent: PromotionInput): Promise<PromotionResult> {
  // The worker's policy, not the input, decides approvals, keys, freezes and commands (src/policy).
  const admitted = patched('policy-from-worker') ? await admitPromotion(sent) : undefined;
  const input = admitted?.input ?? sent;
  const info = workflowInfo();
  const now = () => new Date().toISOString();
  const status: PromotionStatus = {
    workflowId: info.workflowId,
    app: input.app,
    digest: input.digest,
    requestedBy: input.requestedBy,
    ...(admitted ? { startedBy: admitted.startedBy, policy: admitted.policy } : {}),
    outcome: 'running',
    stage: 'verify',
    paused: false,
    startedAt: now(),
    environments: input.environments.map((e) => ({ name: e.name, state: 'pending', gates: [], votes: [] })),
    timings: [],
    decisions: [],
    refused: [],
    freezeOverrides: [],
  };
  // Only namespaces with Gantry's search attributes registered get them (the client sets them at start).
  const indexed = info.typedSearchAttributes.get(GANTRY_APP) !== undefined;
  const index: typeof upsertSearchAttributes = (attrs) => {
    if (indexed) upsertSearchAttributes(attrs);
  };
  let abortReason: string | undefined;
  let rollbackRequest: RollbackRequest | undefined;
  let pauseReason: string | undefined;
  let pipelineScope: CancellationScope | undefined;
  const auditsInFlight: Promise<unknown>[] = [];
  let freezeLifted = false;
  const usedNonces: string[] = [];
  const pending: Promise<unknown>[] = [];

  // Promotions started before lanes existed replay without them (their histories have no lane events).
  const lane = patched('promotion-lanes') ? new LaneSeat(input.app) : undefined;
  const envStatus = (name: string): EnvironmentStatus => status.environments.find((e) => e.name === name)!;
  const envPlan = (name: string): EnvironmentPlan => input.environments.find((e) => e.name === name)!;

  // --- audit trail and notifications -------------------------------------------------------
  let auditSeq = 0;
  /** Writes an audit record; the id makes a retried or replayed write land once. */
  function audit(event: AuditEventKind, environment: string | undefined, details: JsonValue): Promise<unknown> {
    const entry = { id: `${info.workflowId}/${info.firstExecutionRunId}/${++auditSeq}-${event}`, workflowId: info.workflowId, app: input.app, digest: input.digest, environment, event, details, time: now() };
    return local.recordAudit(entry);
  }
  /** Sends a webhook notification without holding up the promotion; failures are only logged in history. */
  function notify(event: string, environment: string | undefined, text: string): void {
    const url = (environment ? envPlan(environment).webhookUrl : undefined) ?? input.environments.find((e) => e.webhookUrl)?.webhookUrl;
    if (!url) return;
    const sent = CancellationScope.nonCancellable(() =>
      acts.notifyWebhook.executeWithOptions({ ...activityOptions.notify, summary: `notify ${event}` }, [
        { url, event, text, app: input.app, digest: input.digest, environment, workflowId: info.workflowId },
      ]),
    );
    pending.push(sent.catch(() => undefined));
  }

  // --- decisions -------------------------------------------------------------------------------
  async function refuse(kind: string, d: { environment?: string; by?: string }, reason: string, via: 'update' | 'signal'): Promise<msg.MessageAnswer> {
    status.refused.push({ kind, environment: d.environment, by: d.by, reason, at: now(), via });
    await audit('approval-refused', d.environment, { approver: d.by ?? '', decision: kind, refusal: reason, via });
    return { accepted: false, reason, status };
  }

  /** Checks a decision for trust (who, what was signed), records the vote and what it adds up to. */
  async function judge(kind: DecisionKind, d: ApprovalDecision, via: 'update' | 'signal'): Promise<msg.MessageAnswer> {
    const spec = envPlan(d.environment).approval as ApprovalSpec;
    const e = envStatus(d.environment);
    const screening = screenDecision(spec, claimContext(kind, d.environment), e.votes, usedNonces, d);
    if ('refuse' in screening) return refuse(kind, d, screening.refuse, via);
    if (screening.nonce) usedNonces.push(screening.nonce);
    let signer: string | undefined;
    if (screening.verify) {
      const verdict = await acts.verifyDecisionSignature.executeWithOptions({ ...activityOptions.verifySignature, summary: `verify ${kind} by ${d.by}` }, [screening.verify]);
      if (!verdict.ok) return refuse(kind, d, verdict.reason, via);
      signer = verdict.fingerprint;
    }
    // Anything may have happened while the signature was checked (another decision settled the
    // environment, or the same person's other decision was counted): screen again against now.
    const late = refuseDecision(status, d) ?? refuseSecondVote(e.votes, d.by, d.environment);
    if (late) return refuse(kind, d, late, via);
    const vote: DecisionRecord = { kind, environment: d.environment, by: d.by, comment: d.comment, at: now(), via, signer };
    e.votes.push(vote);
    status.decisions.push(vote);
    await audit('approval-accepted', d.environment, { approver: d.by, decision: kind, via, ...(signer ? { signerFingerprint: signer } : {}), ...(d.comment ? { comment: d.comment } : {}), ...(d.signed ? { payload: d.signed.payload, signature: d.signed.signature } : {}) });
    const outcome = tallyVotes(spec, e.votes);
    if (outcome) e.approval = vote;
    else describeWait();
    return { accepted: true, status };
  }

  async function judgeOverride(o: FreezeOverride): Promise<msg.MessageAnswer> {
    const env = envPlan(o.environment);
    const spec: ApprovalSpec = env.approval ?? { expiresInMs: 0, required: 1, signatures: 'required', keys: {}, remindBeforeMs: [] };
    const screening = screenDecision(spec, claimContext('override-freeze', o.environment), [], usedNonces, o);
    if ('refuse' in screening) return refuse('override-freeze', o, screening.refuse, 'update');
    if (!screening.verify) return refuse('override-freeze', o, 'a freeze override must be signed (gantry override-freeze --key)', 'update');
    if (screening.nonce) usedNonces.push(screening.nonce);
    const verdict = await acts.verifyDecisionSignature.executeWithOptions({ ...activityOptions.verifySignature, summary: `verify freeze override by ${o.by}` }, [screening.verify]);
    if (!verdict.ok) return refuse('override-freeze', o, verdict.reason, 'update');
    const late = refuseFreezeOverride(status, o);
    if (late) return refuse('override-freeze', o, late, 'update');
    status.freezeOverrides.push(o.environment);
    await audit('freeze-override', o.environment, { approver: o.by, decision: 'override-freeze', reason: o.reason, signerFingerprint: verdict.fingerprint, payload: o.signed!.payload, signature: o.signed!.signature });
    return { accepted: true, status };
  }

  function claimContext(kind: SignedKind, environment: string) {
    return { kind, environment, workflowId: info.workflowId, runId: info.firstExecutionRunId, app: input.app, digest: input.digest, requestedBy: input.requestedBy };
  }

  const operate = (kind: 'abort' | 'pause' | 'resume', r: OperatorRequest) => {
    if (kind === 'pause') status.paused = true;
    if (kind === 'resume') {
      status.paused = false;
      pauseReason = undefined;
    }
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
    setHandler(update, (d) => judge(kind, d, 'update'), { validator: (d) => rejectIf(refuseDecision(status, d)) });
    setHandler(signal, async (d) => {
      const reason = refuseDecision(status, d);
      await (reason ? refuse(kind, (d ?? {}) as ApprovalDecision, reason, 'signal') : judge(kind, d, 'signal'));
    });
  }
  // Operators are authorised by the policy the promotion started under (workflows/authorizeOperation.ts).
  const authorize = operationGuard(admitted?.operations, { workflowId: info.workflowId, runId: info.firstExecutionRunId, app: input.app, digest: input.digest, audit });
  for (const [kind, update, signal] of [
    ['abort', msg.abortUpdate, msg.abortSignal],
    ['pause', msg.pauseUpdate, msg.pauseSignal],
    ['resume', msg.resumeUpdate, msg.resumeSignal],
  ] as const) {
    const steer = async (r: OperatorRequest, via: 'update' | 'signal'): Promise<msg.MessageAnswer> => {
      const verdict = await authorize(kind, r, status.environment);
      const reason = 'refuse' in verdict ? verdict.refuse : refuseOperatorRequest(status, kind, r);
      if (reason) return refuse(kind, r, reason, via);
      operate(kind, r);
      return { accepted: true, status };
    };
    setHandler(update, (r) => steer(r, 'update'), {
      validator: (r) => rejectIf(refuseOperatorRequest(status, kind, r)),
    });
    setHandler(signal, async (r) => {
      const reason = refuseOperatorRequest(status, kind, r);
      if (reason) status.refused.push({ kind, by: r?.by, reason, at: now(), via: 'signal' });
      else await steer(r, 'signal');
    });
  }
  const requestRollback = async (r: RollbackRequest, via: 'update' | 'signal'): Promise<msg.MessageAnswer> => {
    const verdict = await authorize('rollback', r, r.environment);
    const reason = 'refuse' in verdict ? verdict.refuse : refuseRollback(status, r);
    if (reason) return refuse('rollback', r, reason, via);
    rollbackRequest = r;
    pipelineScope?.cancel();
    return { accepted: true, status };
  };
  setHandler(msg.rollbackUpdate, (r) => requestRollback(r, 'update'), { validator: (r) => rejectIf(refuseRollback(status, r)) });
  setHandler(msg.rollbackSignal, async (r) => {
    const reason = refuseRollback(status, r);
    if (reason) status.refused.push({ kind: 'rollback', environment: r?.environment, by: r?.by, reason, at: now(), via: 'signal' });
    else await requestRollback(r, 'signal');
  });
  setHandler(msg.overrideFreezeUpdate, (o) => judgeOverride(o), { validator: (o) => rejectIf(refuseFreezeOverride(status, o)) });
  setHandler(msg.freezeLiftedSignal, () => {
    freezeLifted = true;
  });
  setHandler(msg.statusQuery, () => status);

  // --- stages ----------------------------------------------------------------------------------
  function describeWait() {
    const where = status.environment ? ` ${status.environment}` : '';
    const a = status.awaitingApproval;
    const f = status.frozen;
    const votes = a ? approvers(envStatus(a.environment).votes).length : 0;
    const required = a ? (envPlan(a.environment).approval?.required ?? 1) : 1;
    status.waitingFor = status.paused
      ? (pauseReason ?? `paused before the next stage (${status.stage}${where})`)
      : a
        ? `approval for ${a.environment} (${votes} of ${required}; expires ${a.expiresAt})`
        : f
          ? `${f.environment} is frozen (${f.window}${f.until ? ` until ${f.until}` : ''}${f.reason ? `: ${f.reason}` : ''})`
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

  async function awaitApproval(env: EnvironmentPlan, spec: ApprovalSpec) {
    const e = envStatus(env.name);
    e.state = 'awaiting-approval';
    const expiresAt = Date.now() + spec.expiresInMs;
    status.awaitingApproval = { environment: env.name, since: now(), expiresAt: new Date(expiresAt).toISOString() };
    index([{ key: GANTRY_AWAITING_APPROVAL, value: true }]);
    describeWait();
    notify('awaiting-approval', env.name, `${input.app} ${input.digest} is waiting for approval to ${env.name} (${spec.required} needed). Approve: gantry approve ${input.app} ${input.digest} --env ${env.name} --as <you> --key <ssh key>`);
    // Reminders before expiry run beside the wait and stop with it.
    const reminders = new CancellationScope();
    const reminding = reminders.run(() =>
      Promise.all(
        spec.remindBeforeMs
          .filter((before) => before < spec.expiresInMs)
          .map(async (before) => {
            await sleep(spec.expiresInMs - before);
            notify('approval-reminder', env.name, `Reminder: ${input.app} ${shortDigest(input.digest)} still needs approval for ${env.name}; it expires in ${formatDuration(before)}.`);
          }),
      ),
    );
    // Cancelled when the wait ends; the notifications they sent are tracked in `pending`.
    void reminding.catch(() => undefined);
    try {
      const decided = await condition(() => e.approval !== undefined || lane?.superseded !== undefined, spec.expiresInMs);
      endIfSuperseded();
      if (!decided) {
        notify('expired', env.name, `${input.app} ${shortDigest(input.digest)} expired waiting for approval to ${env.name}.`);
        throw new PromotionEnded('expired', `no decision for ${env.name} within ${formatDuration(spec.expiresInMs)}`);
      }
      const d = e.approval!;
      if (d.kind === 'reject') {
        throw new PromotionEnded('rejected', `${env.name} rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
      }
      notify('approved', env.name, `${input.app} ${shortDigest(input.digest)} approved for ${env.name} by ${approvers(e.votes).join(', ')}.`);
    } finally {
      reminders.cancel();
      status.awaitingApproval = undefined;
      index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
    }
  }

  /** The freeze holding the environment now, if any, and when to look again. */
  async function freezeOn(env: EnvironmentPlan): Promise<{ wait: FreezeWait; recheckMs: number } | undefined> {
    const manual = status.freezeOverrides.includes(env.name) ? undefined : (await local.readManualFreezes()).find((f) => f.environment === env.name);
    if (manual) return { wait: { environment: env.name, window: 'manual', reason: `frozen by ${manual.by}: ${manual.reason}` }, recheckMs: MANUAL_FREEZE_RECHECK_MS };
    const window = activeFreeze(env.freezeWindows, new Date());
    if (window) return { wait: { environment: env.name, window: window.window, until: window.until.toISOString() }, recheckMs: Math.max(1000, window.until.getTime() - Date.now()) };
    return undefined;
  }

  /** Waits while a deny window or a manual freeze holds the environment; never fails for it. */
  async function waitForThaw(env: EnvironmentPlan) {
    let frozen = await freezeOn(env);
    if (!frozen) return;
    await stage('freeze', env.name, async () => {
      const first = frozen!.wait;
      await audit('freeze-wait', env.name, { ...first });
      notify('frozen', env.name, `${input.app} ${shortDigest(input.digest)} waits: ${env.name} is frozen (${first.window}${first.until ? ` until ${first.until}` : ''}).`);
      while (frozen) {
        status.frozen = frozen.wait;
        describeWait();
        freezeLifted = false;
        await condition(() => freezeLifted || status.freezeOverrides.includes(env.name) || lane?.superseded !== undefined, frozen.recheckMs);
        endIfSuperseded();
        frozen = await freezeOn(env);
      }
    });
    status.frozen = undefined;
  }

  /** A newer digest took this one's place: end before the next change to an environment. */
  function endIfSuperseded(): void {
    const s = lane?.superseded;
    if (s) throw new PromotionEnded('superseded', `superseded by ${shortDigest(s.by.digest)} (${s.by.workflowId}): ${s.reason}`);
  }

  async function promoteTo(env: EnvironmentPlan) {
    const e = envStatus(env.name);
    if (env.approval) {
      const spec = env.approval;
      await stage('approval', env.name, () => awaitApproval(env, spec));
    }
    // A freeze is waited out before taking the environment (others may have an override), and
    // looked at again once it is this promotion's turn: it may have started meanwhile.
    if (!input.rollback || !lane) await waitForThaw(env);
    // At most one promotion of the app deploys into an environment at a time; the lane says when.
    const grant = lane ? await stage('queued', env.name, () => lane.acquire(env.name)) : undefined;
    endIfSuperseded();
    if (lane) await (input.rollback ? noteFreezeBypass(env) : waitForThaw(env));
    // Destructive migrations wait for their own approval before anything is deployed (workflows/migrationGate.ts).
    if (env.migrations && patched('migrations-gate')) await migrationGate(env, env.migrations, { input, status, stage, audit, notify, claimContext, usedNonces, end: (o, m) => new PromotionEnded(o, m) });
    e.state = 'in-progress';
    const deployed = await stage('deploy', env.name, () =>
      acts.deploy.executeWithOptions(onEnvironmentQueue({ ...activityOptions.deploy, summary: label('deploy', env.name) }, env.taskQueue), [
        {
          target: env.deploy,
          app: input.app,
          digest: input.digest,
          environment: env.name,
          workflowId: info.workflowId,
          ...(input.rollback ? { rollback: { from: input.rollback.from, reason: `by ${input.rollback.by}${input.rollback.reason ? `: ${input.rollback.reason}` : ''}` } } : {}),
        },
      ]),
    );
    // What to go back to comes from the lane's record of promotions, not from what the target
    // held: a retried deploy finds its own digest there. With no record (the environment's first
    // promotion through Gantry), what the target held before, if it was another digest.
    const held = deployed.previousDigest !== input.digest ? deployed.previousDigest : undefined;
    const previousDigest = lane ? (grant?.previousDigest ?? held) : deployed.previousDigest;
    Object.assign(e, { commit: deployed.commit, changed: deployed.changed, previousDigest, ...(lane ? { deployedAt: now() } : {}) });
    await audit('deployed', env.name, { commit: deployed.commit ?? null, changed: deployed.changed, previousDigest: previousDigest ?? null });
    if (lane && env.onFailure === 'rollback') {
      try {
        await verifyEnvironment(env, deployed.commit);
      } catch (err) {
        if (isCancellation(err) || (err instanceof PromotionEnded && err.outcome !== 'failed')) throw err;
        await rollBack(env, err instanceof PromotionEnded ? err.message : `${status.stage} failed in ${env.name}: ${failureMessage(err)}`);
      }
    } else {
      await verifyEnvironment(env, deployed.commit);
    }
    e.state = 'promoted';
    if (lane) {
      if (input.rollback) await lane.rolledBack(env.name, input.rollback.from, input.digest);
      await lane.release(env.name, true);
    }
  }

  /** After the deploy: health, canary, gates and soak, as the environment's plan says. */
  async function verifyEnvironment(env: EnvironmentPlan, commit: string | undefined) {
    const e = envStatus(env.name);

    const check = env.health;
    if (check) {
      await stage('health', env.name, () =>
        acts.checkHealth.executeWithOptions(onEnvironmentQueue({ ...activityOptions.health(check), summary: label('health', env.name) }, env.taskQueue), [
          // Only the argocd check looks for the deploy's commit (other checks keep their inputs as they were).
          { check, digest: input.digest, environment: env.name, ...(check.kind === 'argocd' ? { commit } : {}) },
        ]),
      );
    }
    const fast = input.rollback?.fastTrack ?? false;
    if (env.canary && !fast) await canary(env, env.canary);
    // A fast-tracked rollback run skips the steps but must still leave the stable side on its digest.
    else if (env.canary && env.canaryStable && input.rollback && lane) await completeCanary(env, env.canaryStable, env.canary);
    if (env.gates.length > 0 && !fast) {
      await stage('gates', env.name, async () => {
        for (const gate of env.gates) {
          const outcome: GateOutcome = await acts.runGate.executeWithOptions(
            onEnvironmentQueue({ ...activityOptions.gate(gate), summary: label(`gate ${gate.name}`, env.name) }, env.taskQueue),
            [{ gate, app: input.app, digest: input.digest, environment: env.name, ...(input.commit ? { commit: input.commit } : {}) }],
          );
          e.gates.push(outcome);
          await audit('gate', env.name, { name: outcome.name, passed: outcome.passed, detail: outcome.detail.slice(-500) });
          if (!outcome.passed) throw new PromotionEnded('failed', `gate ${gate.name} failed in ${env.name}: ${outcome.detail}`);
        }
      });
    }
    if (env.soakMs > 0 && !fast) await stage('soak', env.name, () => sleep(env.soakMs));
  }

  /** A rollback run deploys through a freeze (it is how an incident ends); the audit log says so. */
  async function noteFreezeBypass(env: EnvironmentPlan) {
    const frozen = await freezeOn(env);
    if (frozen) await audit('rollback-during-freeze', env.name, { ...frozen.wait });
  }

  /** Walks the canary steps; a failed analysis rolls the environment back with the evidence. */
  async function canary(env: EnvironmentPlan, plan: NonNullable<EnvironmentPlan['canary']>) {
    const e = envStatus(env.name);
    const evidence = (e.canary = { steps: [] as CanaryStepRecord[], analyses: [] as CanaryAnalysisResult[], weight: 0 });
    const result = await runCanary(plan, {
      app: input.app,
      digest: input.digest,
      environment: env.name,
      taskQueue: env.taskQueue,
      workflowId: info.workflowId,
      stage: (_name, run) => stage('canary', env.name, run),
      isPaused: () => status.paused,
      waitForResume: async (reason) => {
        status.paused = true;
        pauseReason = reason;
        describeWait();
        await condition(() => !status.paused);
      },
      onAnalysis: (analysis) => {
        evidence.analyses.push(analysis);
        auditsInFlight.push(audit('canary-decision', env.name, JSON.parse(JSON.stringify(analysis)) as JsonValue));
      },
      onStep: (step) => {
        evidence.steps[step.index] = { ...step };
      },
      // Traffic to the canary is a change to the environment: a freeze holds it like a deploy.
      ...(lane ? { beforeChange: () => waitForThaw(env) } : {}),
    });
    evidence.weight = result.evidence.weight;
    await Promise.all(auditsInFlight.splice(0));
    if (result.outcome === 'Failed') await rollBack(env, `canary failed: ${result.reason ?? 'analysis failed'}`);
    if (result.outcome === 'Aborted') throw new PromotionEnded('aborted', `canary in ${env.name} aborted: ${result.reason ?? ''}`.trim());
    if (env.canaryStable && lane) await completeCanary(env, env.canaryStable, plan);
  }

  /**
   * The last step passed: the stable side gets the new digest, then all traffic, so the next
   * promotion starts with stable serving everything and the canary side free for it.
   */
  async function completeCanary(env: EnvironmentPlan, stable: DeployTarget, plan: NonNullable<EnvironmentPlan['canary']>) {
    const e = envStatus(env.name);
    await waitForThaw(env);
    await stage('canary', env.name, async () => {
      const deployed = await acts.deploy.executeWithOptions(onEnvironmentQueue({ ...activityOptions.deploy, summary: label('deploy stable side', env.name) }, env.taskQueue), [
        { target: stable, app: input.app, digest: input.digest, environment: env.name, workflowId: info.workflowId },
      ]);
      e.stableSide = { commit: deployed.commit, previousDigest: deployed.previousDigest, at: now() };
      await acts.setCanaryWeight.executeWithOptions(onEnvironmentQueue({ ...activityOptions.rollbackWeight, summary: label('all traffic to stable', env.name) }, env.taskQueue), [
        { router: plan.router, weight: 0, app: input.app, environment: env.name },
      ]);
      if (e.canary) e.canary.weight = 0;
      await audit('canary-completed', env.name, { stableCommit: deployed.commit ?? null, stablePreviousDigest: deployed.previousDigest ?? null, weight: 0 });
    });
  }

  /** Puts the environment back on the digest it ran before this promotion, and ends as rolled back. */
  async function rollBack(env: EnvironmentPlan, reason: string): Promise<never> {
    const e = envStatus(env.name);
    const to = e.previousDigest;
    if (!to) {
      if (!lane) throw new PromotionEnded('rolled-back', `${reason}; ${env.name} ran no earlier digest, so its config was left as it is`);
      // Nothing was put back, so this is no rollback: the environment stays on the new digest.
      throw new PromotionEnded('failed', `${reason}; nothing to roll back to (no digest was promoted into ${env.name} before), so it stays on ${shortDigest(input.digest)}`);
    }
    if (lane) await noteFreezeBypass(env);
    await stage('rollback', env.name, async () => {
      await acts.deploy.executeWithOptions(onEnvironmentQueue({ ...activityOptions.deploy, summary: `rollback ${env.name} to ${shortDigest(to)}` }, env.taskQueue), [
        { target: env.deploy, app: input.app, digest: to, environment: env.name, workflowId: info.workflowId, rollback: { from: input.digest, reason } },
      ]);
      // A completed canary had moved the stable side too: it goes back as well.
      if (e.stableSide && env.canaryStable) {
        await acts.deploy.executeWithOptions(onEnvironmentQueue({ ...activityOptions.deploy, summary: `rollback stable side of ${env.name} to ${shortDigest(to)}` }, env.taskQueue), [
          { target: env.canaryStable, app: input.app, digest: to, environment: env.name, workflowId: info.workflowId, rollback: { from: input.digest, reason } },
        ]);
      }
    });
    e.state = 'rolled-back';
    e.rolledBackTo = to;
    await audit('rollback', env.name, { from: input.digest, to, reason });
    if (lane) await lane.rolledBack(env.name, input.digest, to);
    throw new PromotionEnded('rolled-back', `${env.name} rolled back to ${shortDigest(to)}: ${reason}`);
  }

  // --- the promotion ---------------------------------------------------------------------------
  index([{ key: GANTRY_AWAITING_APPROVAL, value: false }]);
  await audit('started', undefined, { requestedBy: input.requestedBy, commit: input.commit ?? null, environments: input.environments.map((e) => e.name), ...(admitted ? admissionAuditDetails(admitted) : {}) });
  await lane?.join(input.digest, input.environments.map((e) => e.name), input.rollback ? 'rollback' : 'promotion', input.ordering ?? 'supersede');
  try {
    await CancellationScope.cancellable(async () => {
      pipelineScope = CancellationScope.current();
      const verified = await stage('verify', undefined, () =>
        acts.verifyArtifact.executeWithOptions({ ...activityOptions.verify, summary: label('verify') }, [
          { app: input.app, digest: input.digest, image: input.image, registry: input.registry, trust: input.verify },
        ]),
      );
      status.trust = verified.trust;
      await audit('verified', undefined, { ...verified });
      // Only a verified digest supersedes older ones.
      if (!input.rollback) await lane?.verified();
      for (const env of input.environments) await promoteTo(env);
    });
    status.outcome = input.rollback ? 'rolled-back' : 'promoted';
    if (input.rollback) {
      status.reason = `${input.environments.map((e) => e.name).join(', ')} back on ${shortDigest(input.digest)} (took out ${shortDigest(input.rollback.from)}) by ${input.rollback.by}${input.rollback.reason ? `: ${input.rollback.reason}` : ''}`;
      for (const e of status.environments) if (e.state === 'promoted') e.rolledBackTo = input.digest;
    }
  } catch (err) {
    if (err instanceof PromotionEnded) {
      status.outcome = err.outcome;
      status.reason = err.message;
    } else if (rollbackRequest !== undefined && isCancellation(err)) {
      const r = rollbackRequest;
      const outcome = await CancellationScope.nonCancellable(() =>
        rollBack(envPlan(r.environment), `by ${r.by}${r.reason ? `: ${r.reason}` : ''}`).catch((ended: unknown) => ended),
      );
      status.outcome = outcome instanceof PromotionEnded ? outcome.outcome : 'failed';
      status.reason = outcome instanceof PromotionEnded ? outcome.message : `rollback failed: ${failureMessage(outcome)}`;
    } else if (abortReason !== undefined && isCancellation(err)) {
      status.outcome = 'aborted';
      status.reason = abortReason;
    } else {
      status.outcome = 'failed';
      status.reason = `${status.stage}${status.environment ? ` ${status.environment}` : ''} failed: ${failureMessage(err)}`;
    }
    const current = status.environment ? envStatus(status.environment) : undefined;
    if (current && current.state === 'in-progress') current.state = status.outcome === 'rolled-back' ? 'rolled-back' : 'failed';
  }
  if (lane) {
    await CancellationScope.nonCancellable(async () => {
      if (status.outcome === 'superseded') await audit('superseded', status.environment, { by: lane.superseded!.by.digest, byWorkflow: lane.superseded!.by.workflowId, reason: lane.superseded!.reason });
      await lane.leave();
    });
  }
  status.finishedAt = now();
  status.frozen = undefined;
  // A promotion succeeds when it reached the last environment; a rollback run, when it put the environment back.
  const succeeded = status.outcome === (input.rollback ? 'rolled-back' : 'promoted');
  status.stage = succeeded ? 'done' : status.stage;
  index([{ key: GANTRY_STAGE, value: succeeded ? 'done' : status.outcome }]);
  describeWait();
  const last = input.environments[input.environments.length - 1]?.name;
  notify(status.outcome, status.outcome === 'promoted' ? last : status.environment, `${input.app} ${shortDigest(input.digest)} ${status.outcome}${status.reason ? `: ${status.reason}` : status.outcome === 'promoted' ? ` to ${last}` : ''}.`);
  await CancellationScope.nonCancellable(() => audit('finished', undefined, { outcome: status.outcome, reason: status.reason ?? null }));
  // Give notifications still retrying a short grace to land; a dead webhook never holds the result long.
  if (pending.length > 0) await Promise.race([Promise.all(pending), sleep(NOTIFY_GRACE_MS)]);
  // A decision still being checked (its signature activity running) gets its answer before the close.
  await condition(allHandlersFinished);
  if (!succeeded) {
    // A failed execution shows as Failed in the Temporal UI and lets the digest be promoted again.
    throw ApplicationFailure.create({
      type: `Promotion${status.outcome.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`,
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
