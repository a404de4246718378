// The activities a Gantry worker registers. Each stage's side effects live in its own file;
// those that need the worker's resources (audit log, Temporal client) get them here.
import type { Client } from '@temporalio/client';
import type { AuditStore } from '../src/audit';
import type { PolicySource } from '../src/policy/policySource';
import { verifyDecisionSignature } from './approvals/verifyDecisionSignature';
import { recordAuditWith } from './audit/recordAudit';
import { deploy } from './deploy';
import { lastPromotedDigestWith, readRunningDigest } from './drift';
import { readManualFreezesWith } from './freeze/readManualFreezes';
import { runGate } from './gates';
import { policyCheckedGate } from './gates/policyCheckedGate';
import { checkHealth } from './health';
import { closedWorkflowsWith, requestLaneWith, signalLaneWith } from './lanes';
import { readCanaryCounts, readLatencyBuckets } from './metrics';
import { applyMigrations, planMigrations } from './migrations';
import { notifyWebhook } from './notify/webhook';
import { readOperatorPolicyWith, readPolicyWith } from './policy/readPolicy';
import { setCanaryWeight } from './traffic';
import { readStableHistory } from './metrics';
import { verifyArtifact } from './verifyArtifact';

export interface ActivityResources {
  audit: AuditStore;
  client: Client;
  /** The worker's policy; without one every promotion is refused at start. */
  policy?: PolicySource;
}

export function createActivities(resources: ActivityResources) {
  const signalLane = signalLaneWith(resources.client);
  return {
    verifyArtifact,
    deploy,
    checkHealth,
    runGate: policyCheckedGate(resources.policy, runGate),
    verifyDecisionSignature,
    notifyWebhook,
    setCanaryWeight,
    readCanaryCounts,
    readLatencyBuckets,
    readStableHistory,
    recordAudit: recordAuditWith(resources.audit),
    readManualFreezes: readManualFreezesWith(resources.client),
    lastPromotedDigest: lastPromotedDigestWith(resources.audit),
    readRunningDigest,
    signalLane,
    requestLane: requestLaneWith(resources.client, signalLane),
    closedWorkflows: closedWorkflowsWith(resources.client),
    planMigrations,
    applyMigrations,
    readPolicy: readPolicyWith(resources.policy),
    readOperatorPolicy: readOperatorPolicyWith(resources.policy),
  };
}
