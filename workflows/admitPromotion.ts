// The first step of a promotion: read the worker's policy (an activity, so the version read is in
// history), refuse a pipeline that differs from it or a start the policy does not allow, and prove
// who started it. Nothing has been touched when a promotion is refused here.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  defineUpdate,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { JsonValue } from '../src/audit/auditRecord';
import type { PromotionStatus } from '../src/pipeline/promotionStatus';
import type { PromotionInput } from '../src/pipeline/types';
import { effectiveInput, pipelineDifferences } from '../src/policy/applyPolicy';
import { screenOperation } from '../src/policy/operationClaim';
import type { AppPolicy, OperatorPolicy, PolicyVersion, StartedBy, StartRequestInput } from '../src/policy/policyTypes';
import { screenStart } from '../src/policy/startClaim';
import { activityOptions } from './activityOptions';

type Activities = ReturnType<typeof activities.createActivities>;
const local = proxyLocalActivities<Activities>(activityOptions.local);

export interface AdmissionAnswer {
  accepted: boolean;
  reason?: string;
  policy?: PolicyVersion;
  startedBy?: StartedBy;
}

/** Answers once the promotion was admitted under the worker's policy or refused; the client waits on it at start. */
export const admissionUpdate = defineUpdate<AdmissionAnswer, []>('admission');

export interface Admitted {
  input: PromotionInput;
  policy: PolicyVersion;
  startedBy: StartedBy;
  /** Who may abort, pause, resume and roll back this promotion, under the policy it started with. */
  operations: OperatorPolicy;
}

export async function admitPromotion(sent: StartRequestInput): Promise<Admitted> {
  const info = workflowInfo();
  let answer: AdmissionAnswer | undefined;
  setHandler(admissionUpdate, async () => {
    await condition(() => answer !== undefined);
    return answer!;
  });
  const read = await local.readPolicy({ app: sent.app, digest: sent.digest, commit: sent.commit });
  const policy = read.found ? version(read.policy) : undefined;
  const judged = read.found ? await judgeStart(sent, read.policy, info.workflowId) : { refuse: read.reason };
  if ('refuse' in judged) {
    answer = { accepted: false, reason: judged.refuse, ...(policy ? { policy } : {}) };
    await local.recordAudit({
      id: `${info.workflowId}/${info.firstExecutionRunId}/0-refused`,
      workflowId: info.workflowId,
      app: sent.app,
      digest: sent.digest,
      event: 'refused',
      details: {
        reason: judged.refuse,
        requestedBy: sent.requestedBy,
        signed: sent.signedStart !== undefined,
        ...(policy ? { policy: policy.digest, policySource: policy.source } : {}),
      },
      time: new Date().toISOString(),
    });
    await condition(allHandlersFinished);
    throw ApplicationFailure.create({
      type: 'PromotionRefused',
      message: judged.refuse,
      nonRetryable: true,
      details: [refusedStatus(sent, judged.refuse, policy)],
    });
  }
  answer = { accepted: true, policy, startedBy: judged.startedBy };
  const admittedPolicy = (read as { policy: AppPolicy }).policy;
  return {
    input: effectiveInput(sent, admittedPolicy, judged.startedBy),
    policy: policy!,
    startedBy: judged.startedBy,
    operations: admittedPolicy.operations,
  };
}

/** The policy version and starter, for the promotion's `started` audit record. */
export function admissionAuditDetails(a: Admitted): Record<string, JsonValue> {
  const s = a.startedBy;
  return {
    policy: a.policy.digest,
    policySource: a.policy.source,
    startedBy: {
      name: s.name,
      proof: s.proof,
      claimed: s.claimed,
      ...(s.fingerprint ? { fingerprint: s.fingerprint } : {}),
    },
  };
}

async function judgeStart(
  sent: StartRequestInput,
  policy: AppPolicy,
  workflowId: string,
): Promise<{ refuse: string } | { startedBy: StartedBy }> {
  const differs = pipelineDifferences(sent, policy);
  if (differs) return { refuse: differs };
  // A rollback run is an operator's act: authorised like one, not by start rights.
  if (sent.rollback) return judgeRollbackRun(sent, sent.rollback, policy, workflowId);
  const screening = screenStart(sent, policy, workflowId);
  if ('refuse' in screening) return screening;
  if ('claim' in screening) return { startedBy: { name: screening.claim, proof: 'claim', claimed: sent.requestedBy } };
  const verdict = await local.verifyDecisionSignature(screening.verify);
  if (!verdict.ok) return { refuse: `start signature: ${verdict.reason}` };
  return {
    startedBy: {
      name: screening.starter,
      proof: 'signature',
      fingerprint: verdict.fingerprint,
      claimed: sent.requestedBy,
    },
  };
}

async function judgeRollbackRun(
  sent: StartRequestInput,
  rollback: NonNullable<StartRequestInput['rollback']>,
  policy: AppPolicy,
  workflowId: string,
): Promise<{ refuse: string } | { startedBy: StartedBy }> {
  const environment = sent.environments[0]?.name;
  const screening = screenOperation(
    policy.operations,
    { kind: 'rollback', workflowId, app: sent.app, digest: sent.digest, environment },
    { by: rollback.by, signed: sent.signedStart },
    [],
  );
  if ('refuse' in screening) return screening;
  if ('unsigned' in screening) return { startedBy: { name: rollback.by, proof: 'claim', claimed: sent.requestedBy } };
  const verdict = await local.verifyDecisionSignature(screening.verify);
  if (!verdict.ok) return { refuse: `rollback signature: ${verdict.reason}` };
  return {
    startedBy: { name: rollback.by, proof: 'signature', fingerprint: verdict.fingerprint, claimed: sent.requestedBy },
  };
}

function version(p: AppPolicy): PolicyVersion {
  return { source: p.source, digest: p.digest };
}

function refusedStatus(sent: StartRequestInput, reason: string, policy: PolicyVersion | undefined): PromotionStatus {
  const at = new Date().toISOString();
  return {
    workflowId: workflowInfo().workflowId,
    app: sent.app,
    digest: sent.digest,
    requestedBy: sent.requestedBy,
    ...(policy ? { policy } : {}),
    outcome: 'refused',
    stage: 'verify',
    paused: false,
    startedAt: at,
    finishedAt: at,
    reason,
    environments: (sent.environments ?? []).map((e) => ({ name: e.name, state: 'pending', gates: [], votes: [] })),
    timings: [],
    decisions: [],
    refused: [],
    freezeOverrides: [],
  };
}
