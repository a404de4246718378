// The TypeScript client API: what the CLI, CI scripts and the demo use to start, steer and read
// promotions. Every answer a person sees is plain data (PromotionStatus, DecisionAnswer).
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, type SearchAttributePair, type UpdateDefinition } from '@temporalio/common';
import * as msg from '../../workflows/messages';
import { admissionUpdate, type AdmissionAnswer } from '../../workflows/admitPromotion';
import type { promoteArtifact } from '../../workflows/promoteArtifact';
import type { SignedClaim } from '../pipeline/approvalPolicy';
import { deliverUpdate, isUndelivered } from './deliverUpdate';
import type { ApprovalDecision, DecisionKind, OperatorRequest } from '../pipeline/decisions';
import { promotionWorkflowId, shortDigest } from '../pipeline/digest';
import type { PromotionStatus } from '../pipeline/promotionStatus';
import {
  GANTRY_APP,
  GANTRY_AWAITING_APPROVAL,
  GANTRY_DIGEST,
  GANTRY_ENVIRONMENT,
  GANTRY_STAGE,
  GANTRY_WAVE,
} from '../pipeline/searchAttributes';
import type { PromotionInput } from '../pipeline/types';
import { connectionSettings, type ConnectionSettings } from './connectionSettings';
import type { StartRequestInput } from '../policy/policyTypes';
import { signDecision, type DecisionToSign } from './signDecision';
import { signOperation } from './signOperation';
import { signStart } from './signStart';

export interface StartedPromotion {
  workflowId: string;
  runId: string;
  /**
   * new: this call started it; running: it was already in flight; promoted: this digest already went
   * all the way; refused: the worker's policy refused it before it touched anything (see reason).
   */
  state: 'new' | 'running' | 'promoted' | 'refused';
  reason?: string;
  /** How the worker admitted a new promotion: its policy version and who it proved started it. */
  admission?: AdmissionAnswer;
}

/** Sign the start with a starter's SSH key (one the worker's policy lists under `starters:`). */
export interface StartSigning {
  starter: string;
  keyPath: string;
}

export type DecisionAnswer = { accepted: true; status: PromotionStatus } | { accepted: false; reason: string };

export interface ListedPromotion {
  workflowId: string;
  app?: string;
  digest?: string;
  stage?: string;
  environment?: string;
  awaitingApproval: boolean;
  executionStatus: string;
  startTime: string;
}

/** The promotion does not exist (never started, or a typo in app/digest). */
export class UnknownPromotionError extends Error {
  name = 'UnknownPromotionError';
}

export class GantryClient {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
    /** Set Gantry's search attributes at start; off for servers that cannot register them (time-skipping). */
    private readonly searchAttributes = true,
  ) {}

  static async connect(settings: ConnectionSettings = connectionSettings()): Promise<GantryClient> {
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: '5s' } as Parameters<
        typeof Connection.connect
      >[0]);
    } catch (err) {
      throw new Error(
        `cannot reach Temporal at ${settings.connectionOptions.address} (namespace ${settings.namespace}): ${(err as Error).message}. Set TEMPORAL_ADDRESS or a profile.`,
      );
    }
    return new GantryClient(
      new Client({ connection, namespace: settings.namespace, dataConverter: settings.dataConverter }),
      settings.taskQueue,
    );
  }

  async close(): Promise<void> {
    await this.client.connection.close();
  }

  /** Starts the promotion of a digest, or returns the one that already exists for it. */
  async start(pipeline: PromotionInput, signing?: StartSigning): Promise<StartedPromotion> {
    const workflowId = promotionWorkflowId(pipeline.app, pipeline.digest);
    let existing = await this.describe(workflowId);
    if (existing?.status === 'RUNNING') {
      // A run the worker's policy refused is still closing for a moment: once it closed, this
      // digest starts afresh (answering "running" would point at a run that is about to end refused).
      const running = this.client.workflow.getHandle<typeof promoteArtifact>(workflowId, existing.runId);
      // A run from before policies has no admission to ask: it is simply running.
      const admitted = await this.admission(running).then(
        (a) => a.accepted,
        () => true,
      );
      if (admitted) return { workflowId, runId: existing.runId, state: 'running' };
      await running.result().catch(() => undefined);
      existing = await this.describe(workflowId);
    }
    if (existing?.status === 'COMPLETED') return { workflowId, runId: existing.runId, state: 'promoted' };
    const input: StartRequestInput = signing
      ? {
          ...pipeline,
          signedStart: signStart(
            {
              workflowId,
              app: pipeline.app,
              digest: pipeline.digest,
              commit: pipeline.commit,
              starter: signing.starter,
            },
            signing.keyPath,
          ),
        }
      : pipeline;
    try {
      const handle = await this.client.workflow.start<typeof promoteArtifact>('promoteArtifact', {
        workflowId,
        taskQueue: this.taskQueue,
        args: [input],
        // A failed, rejected or expired digest may be promoted again; a promoted one may not.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        // Two CI jobs starting the same digest at once get the same execution.
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `promote ${input.app} ${shortDigest(input.digest)} through ${input.environments.map((e) => e.name).join(' → ')}`,
        staticDetails: `requested by ${input.requestedBy}${input.commit ? `, commit ${input.commit}` : ''}`,
        ...this.searchAttributesFor(input),
      });
      // With USE_EXISTING the server answers a start that raced another with that run's id, so
      // both callers see the same run; no describe afterwards (it cannot tell them apart either).
      const admission = await this.admission(handle);
      if (!admission.accepted)
        return { workflowId, runId: handle.firstExecutionRunId, state: 'refused', reason: admission.reason, admission };
      return { workflowId, runId: handle.firstExecutionRunId, state: 'new', admission };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const again = await this.describe(workflowId);
        return { workflowId, runId: again?.runId ?? '', state: again?.status === 'RUNNING' ? 'running' : 'promoted' };
      }
      throw err;
    }
  }

  /** Waits until the worker admitted the promotion under its policy, or refused it. */
  async admission(handle: WorkflowHandle<typeof promoteArtifact>): Promise<AdmissionAnswer> {
    try {
      return await deliverUpdate(() => handle.executeUpdate(admissionUpdate));
    } catch (err) {
      // Still no handler after a minute of asking: waiting for the promotion's end would wait for ever.
      if (err instanceof WorkflowUpdateFailedError && isUndelivered(err)) {
        throw new Error(
          `${handle.workflowId} did not take its admission within a minute (${err.cause?.message}): do its workers run this version of Gantry?`,
        );
      }
      // A refused promotion may have closed before the update reached it: its result says why.
      if (!(err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError)) throw err;
      const final = await this.finalStatus(handle);
      return final.outcome === 'refused'
        ? { accepted: false, reason: final.reason, policy: final.policy }
        : { accepted: true, policy: final.policy, startedBy: final.startedBy };
    }
  }

  /** Gantry's search attributes for a new promotion (none where the server cannot register them). */
  searchAttributesFor(input: PromotionInput): { typedSearchAttributes?: SearchAttributePair[] } {
    if (!this.searchAttributes) return {};
    return {
      typedSearchAttributes: [
        { key: GANTRY_APP, value: input.app },
        { key: GANTRY_DIGEST, value: input.digest },
        { key: GANTRY_STAGE, value: 'verify' },
        { key: GANTRY_ENVIRONMENT, value: '' },
        { key: GANTRY_AWAITING_APPROVAL, value: false },
        { key: GANTRY_WAVE, value: 0 },
      ],
    };
  }

  handle(app: string, digest: string): WorkflowHandle<typeof promoteArtifact> {
    return this.client.workflow.getHandle(promotionWorkflowId(app, digest));
  }

  /** The promotion's status: live from the workflow while it runs, from its result once closed. */
  async status(app: string, digest: string): Promise<PromotionStatus> {
    return this.statusById(promotionWorkflowId(app, digest));
  }

  /** Status by workflow id: promotions (promote/...) and rollback runs (rollback/...). */
  async statusById(workflowId: string): Promise<PromotionStatus> {
    const described = await this.describe(workflowId);
    if (!described) throw new UnknownPromotionError(`no promotion ${workflowId}`);
    const handle = this.client.workflow.getHandle<typeof promoteArtifact>(workflowId);
    if (described.status === 'RUNNING') return handle.query(msg.statusQuery);
    return this.finalStatus(handle);
  }

  /** Waits for the promotion to finish and returns its final status (success or not). */
  async result(app: string, digest: string): Promise<PromotionStatus> {
    return this.finalStatus(this.handle(app, digest));
  }

  /** Approve or reject; with keyPath the decision is signed with that SSH key (required where the pipeline says so). */
  async decide(
    kind: DecisionKind,
    app: string,
    digest: string,
    decision: ApprovalDecision,
    keyPath?: string,
  ): Promise<DecisionAnswer> {
    const signed = keyPath
      ? await this.sign(
          { kind, app, digest, environment: decision.environment, approver: decision.by, comment: decision.comment },
          keyPath,
        )
      : decision.signed;
    if (signed && 'accepted' in signed) return signed;
    return this.update(app, digest, kind === 'approve' ? msg.approveUpdate : msg.rejectUpdate, { ...decision, signed });
  }

  /** Lets this promotion deploy into an environment despite a manual freeze: signed, with a reason. */
  async overrideFreeze(
    app: string,
    digest: string,
    request: { environment: string; by: string; reason: string },
    keyPath: string,
  ): Promise<DecisionAnswer> {
    const signed = await this.sign(
      {
        kind: 'override-freeze',
        app,
        digest,
        environment: request.environment,
        approver: request.by,
        reason: request.reason,
      },
      keyPath,
    );
    if ('accepted' in signed) return signed;
    return this.update(app, digest, msg.overrideFreezeUpdate, { ...request, signed });
  }

  private async sign(
    d: Omit<DecisionToSign, 'workflowId' | 'runId'>,
    keyPath: string,
  ): Promise<SignedClaim | { accepted: false; reason: string }> {
    const workflowId = promotionWorkflowId(d.app, d.digest);
    const described = await this.describe(workflowId);
    if (!described) return { accepted: false, reason: `unknown promotion: no workflow ${workflowId}` };
    return signDecision({ ...d, workflowId, runId: described.runId }, keyPath);
  }

  /** Abort, pause or resume; with keyPath the request is signed (the worker's policy says where that is required). */
  async operate(
    kind: 'abort' | 'pause' | 'resume',
    app: string,
    digest: string,
    request: OperatorRequest,
    keyPath?: string,
  ): Promise<DecisionAnswer> {
    const update = { abort: msg.abortUpdate, pause: msg.pauseUpdate, resume: msg.resumeUpdate }[kind];
    if (!keyPath) return this.update(app, digest, update, request);
    const workflowId = promotionWorkflowId(app, digest);
    const described = await this.describe(workflowId);
    if (!described) return { accepted: false, reason: `unknown promotion: no workflow ${workflowId}` };
    const signed = signOperation(
      { kind, operator: request.by, workflowId, runId: described.runId, app, digest, reason: request.reason },
      keyPath,
    );
    return this.update(app, digest, update, { ...request, signed } as OperatorRequest);
  }

  /** Promotions from Temporal visibility, newest first. */
  async list(
    filter: { app?: string; awaitingApproval?: boolean; running?: boolean; limit?: number } = {},
  ): Promise<ListedPromotion[]> {
    const clauses = [`WorkflowType = 'promoteArtifact'`];
    if (filter.app) clauses.push(`${GANTRY_APP.name} = '${filter.app.replace(/'/g, '')}'`);
    if (filter.awaitingApproval) clauses.push(`${GANTRY_AWAITING_APPROVAL.name} = true`, `ExecutionStatus = 'Running'`);
    if (filter.running) clauses.push(`ExecutionStatus = 'Running'`);
    const out: ListedPromotion[] = [];
    for await (const wf of this.client.workflow.list({ query: clauses.join(' AND '), pageSize: 100 })) {
      const sa = wf.typedSearchAttributes;
      out.push({
        workflowId: wf.workflowId,
        app: sa.get(GANTRY_APP),
        digest: sa.get(GANTRY_DIGEST),
        stage: sa.get(GANTRY_STAGE),
        environment: sa.get(GANTRY_ENVIRONMENT) || undefined,
        awaitingApproval: sa.get(GANTRY_AWAITING_APPROVAL) ?? false,
        executionStatus: wf.status.name,
        startTime: wf.startTime.toISOString(),
      });
      if (out.length >= (filter.limit ?? 100)) break;
    }
    return out;
  }

  private async update<A>(
    app: string,
    digest: string,
    update: UpdateDefinition<msg.MessageAnswer, [A]>,
    arg: A,
  ): Promise<DecisionAnswer> {
    const workflowId = promotionWorkflowId(app, digest);
    try {
      // Straight to the update (one round trip, the approval is on the critical path); only a
      // refusal by the server costs a describe, to say why.
      const answer = await deliverUpdate(() =>
        this.client.workflow.getHandle(workflowId).executeUpdate(update, { args: [arg] }),
      );
      return answer.accepted
        ? { accepted: true, status: answer.status }
        : { accepted: false, reason: answer.reason ?? 'refused' };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        return { accepted: false, reason: err.cause?.message ?? err.message };
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      // The server says "not found" both for no such workflow and for one that has closed.
      const described = await this.describe(workflowId);
      if (described && described.status !== 'RUNNING')
        return { accepted: false, reason: `promotion is no longer running (${described.status.toLowerCase()})` };
      return { accepted: false, reason: `unknown promotion: no workflow ${workflowId}` };
    }
  }

  private async finalStatus(handle: WorkflowHandle<typeof promoteArtifact>): Promise<PromotionStatus> {
    try {
      return await handle.result();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UnknownPromotionError(`no promotion ${handle.workflowId}`);
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.details?.[0]) return cause.details[0] as PromotionStatus;
      throw err;
    }
  }

  private async describe(workflowId: string): Promise<{ runId: string; status: string } | undefined> {
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      return { runId: d.runId, status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }
}
