// The messages a running promotion answers (workflows/messages.ts): approvals and rejections,
// abort, pause, resume, rollback, freeze overrides, and the status query. Each decision is judged
// by the pure rules (src/pipeline/decisions, approvalPolicy) before it changes anything; updates
// and signals carrying the same decision end in the same judge.
import { setHandler } from '@temporalio/workflow';
import { refuseSecondVote, screenDecision, tallyVotes } from '../../src/pipeline/approvalPolicy';
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
} from '../../src/pipeline/decisions';
import type { DecisionRecord } from '../../src/pipeline/promotionStatus';
import type { ApprovalSpec } from '../../src/pipeline/types';
import { activityOptions } from '../activityOptions';
import { operationGuard } from '../authorizeOperation';
import * as msg from '../messages';
import { acts } from './promotionActivities';
import type { PromotionContext } from './promotionContext';
import { liftTargetFreezes, overrideTargetFreezes } from './targetFreezeMessages';
import { endTargetPauses, installTargetPauseHandler, resumeTargets } from './targetPauses';

type Via = 'update' | 'signal';

/** Registers every handler of the promotion; call once, before the pipeline starts. */
export function installDecisionHandlers(ctx: PromotionContext): void {
  const { input, status, info } = ctx;

  async function refuse(
    kind: string,
    d: { environment?: string; by?: string },
    reason: string,
    via: Via,
  ): Promise<msg.MessageAnswer> {
    status.refused.push({ kind, environment: d.environment, by: d.by, reason, at: ctx.now(), via });
    await ctx.audit('approval-refused', d.environment, { approver: d.by ?? '', decision: kind, refusal: reason, via });
    return { accepted: false, reason, status };
  }

  /** Checks a decision for trust (who, what was signed), records the vote and what it adds up to. */
  async function judge(kind: DecisionKind, d: ApprovalDecision, via: Via): Promise<msg.MessageAnswer> {
    const spec = ctx.envPlan(d.environment).approval as ApprovalSpec;
    const e = ctx.envStatus(d.environment);
    const screening = screenDecision(spec, ctx.claimContext(kind, d.environment), e.votes, ctx.usedNonces, d);
    if ('refuse' in screening) return refuse(kind, d, screening.refuse, via);
    if (screening.nonce) ctx.usedNonces.push(screening.nonce);
    let signer: string | undefined;
    if (screening.verify) {
      const verdict = await acts.verifyDecisionSignature.executeWithOptions(
        { ...activityOptions.verifySignature, summary: `verify ${kind} by ${d.by}` },
        [screening.verify],
      );
      if (!verdict.ok) return refuse(kind, d, verdict.reason, via);
      signer = verdict.fingerprint;
    }
    // Anything may have happened while the signature was checked (another decision settled the
    // environment, or the same person's other decision was counted): screen again against now.
    const late = refuseDecision(status, d) ?? refuseSecondVote(e.votes, d.by, d.environment);
    if (late) return refuse(kind, d, late, via);
    const vote: DecisionRecord = {
      kind,
      environment: d.environment,
      by: d.by,
      comment: d.comment,
      at: ctx.now(),
      via,
      signer,
    };
    e.votes.push(vote);
    status.decisions.push(vote);
    await ctx.audit('approval-accepted', d.environment, {
      approver: d.by,
      decision: kind,
      via,
      ...(signer ? { signerFingerprint: signer } : {}),
      ...(d.comment ? { comment: d.comment } : {}),
      ...(d.signed ? { payload: d.signed.payload, signature: d.signed.signature } : {}),
    });
    const outcome = tallyVotes(spec, e.votes);
    if (outcome) e.approval = vote;
    else ctx.describe();
    return { accepted: true, status };
  }

  /** A signed override lets this promotion into an environment despite a manual freeze. */
  async function judgeOverride(o: FreezeOverride): Promise<msg.MessageAnswer> {
    const env = ctx.envPlan(o.environment);
    const spec: ApprovalSpec = env.approval ?? {
      expiresInMs: 0,
      required: 1,
      signatures: 'required',
      keys: {},
      remindBeforeMs: [],
    };
    const screening = screenDecision(spec, ctx.claimContext('override-freeze', o.environment), [], ctx.usedNonces, o);
    if ('refuse' in screening) return refuse('override-freeze', o, screening.refuse, 'update');
    if (!screening.verify)
      return refuse('override-freeze', o, 'a freeze override must be signed (gantry override-freeze --key)', 'update');
    if (screening.nonce) ctx.usedNonces.push(screening.nonce);
    const verdict = await acts.verifyDecisionSignature.executeWithOptions(
      { ...activityOptions.verifySignature, summary: `verify freeze override by ${o.by}` },
      [screening.verify],
    );
    if (!verdict.ok) return refuse('override-freeze', o, verdict.reason, 'update');
    const late = refuseFreezeOverride(status, o);
    if (late) return refuse('override-freeze', o, late, 'update');
    status.freezeOverrides.push(o.environment);
    await overrideTargetFreezes(ctx, o.environment);
    await ctx.audit('freeze-override', o.environment, {
      approver: o.by,
      decision: 'override-freeze',
      reason: o.reason,
      signerFingerprint: verdict.fingerprint,
      payload: o.signed!.payload,
      signature: o.signed!.signature,
    });
    return { accepted: true, status };
  }

  /** Carries out an accepted abort, pause or resume. */
  async function operate(kind: 'abort' | 'pause' | 'resume', r: OperatorRequest): Promise<void> {
    if (kind === 'pause') status.paused = true;
    if (kind === 'resume') {
      status.paused = false;
      ctx.pauseReason = undefined;
      // Targets whose canary waits for a person go on too (none in promotions without waves).
      await resumeTargets(ctx);
    }
    if (kind === 'abort') {
      ctx.abortReason = `aborted by ${r.by}${r.reason ? `: ${r.reason}` : ''}`;
      endTargetPauses(ctx, 'aborted');
      ctx.pipelineScope?.cancel();
    }
    ctx.describe();
  }

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
  const authorize = operationGuard(ctx.admitted?.operations, {
    workflowId: info.workflowId,
    runId: info.firstExecutionRunId,
    app: input.app,
    digest: input.digest,
    audit: (event, environment, details) => ctx.audit(event, environment, details),
  });
  for (const [kind, update, signal] of [
    ['abort', msg.abortUpdate, msg.abortSignal],
    ['pause', msg.pauseUpdate, msg.pauseSignal],
    ['resume', msg.resumeUpdate, msg.resumeSignal],
  ] as const) {
    const steer = async (r: OperatorRequest, via: Via): Promise<msg.MessageAnswer> => {
      const verdict = await authorize(kind, r, status.environment);
      const reason = 'refuse' in verdict ? verdict.refuse : refuseOperatorRequest(status, kind, r);
      if (reason) return refuse(kind, r, reason, via);
      await operate(kind, r);
      return { accepted: true, status };
    };
    setHandler(update, (r) => steer(r, 'update'), {
      validator: (r) => rejectIf(refuseOperatorRequest(status, kind, r)),
    });
    setHandler(signal, async (r) => {
      const reason = refuseOperatorRequest(status, kind, r);
      if (reason) status.refused.push({ kind, by: r?.by, reason, at: ctx.now(), via: 'signal' });
      else await steer(r, 'signal');
    });
  }
  const requestRollback = async (r: RollbackRequest, via: Via): Promise<msg.MessageAnswer> => {
    const verdict = await authorize('rollback', r, r.environment);
    const reason = 'refuse' in verdict ? verdict.refuse : refuseRollback(status, r);
    if (reason) return refuse('rollback', r, reason, via);
    ctx.rollbackRequest = r;
    endTargetPauses(ctx, 'rolled back');
    ctx.pipelineScope?.cancel();
    return { accepted: true, status };
  };
  setHandler(msg.rollbackUpdate, (r) => requestRollback(r, 'update'), {
    validator: (r) => rejectIf(refuseRollback(status, r)),
  });
  setHandler(msg.rollbackSignal, async (r) => {
    const reason = refuseRollback(status, r);
    if (reason)
      status.refused.push({
        kind: 'rollback',
        environment: r?.environment,
        by: r?.by,
        reason,
        at: ctx.now(),
        via: 'signal',
      });
    else await requestRollback(r, 'signal');
  });
  setHandler(msg.overrideFreezeUpdate, (o) => judgeOverride(o), {
    validator: (o) => rejectIf(refuseFreezeOverride(status, o)),
  });
  installTargetPauseHandler(ctx);
  setHandler(msg.freezeLiftedSignal, async () => {
    ctx.freezeLifted = true;
    // Targets' children held by a freeze in their canary look again now too.
    await liftTargetFreezes(ctx);
  });
  setHandler(msg.statusQuery, () => status);
}

/** An update validator refuses by throwing: the update is rejected before it enters history. */
function rejectIf(reason: string | undefined): void {
  if (reason) throw new Error(reason);
}
