// What every part of one promotion shares: its input and status, the audit trail, notifications,
// search attributes, the stage runner, and what operators have asked for. The parts (approvals,
// freezes, handlers, canary, rollback) take the context instead of closing over one big function.
import {
  CancellationScope,
  condition,
  isCancellation,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
  type WorkflowInfo,
} from '@temporalio/workflow';
import type { AuditEventKind, JsonValue } from '../../src/audit/auditRecord';
import type { ClaimContext, SignedKind } from '../../src/pipeline/approvalPolicy';
import type { RollbackRequest } from '../../src/pipeline/decisions';
import { currentDetails, describeWait } from '../../src/pipeline/describeWait';
import { shortDigest } from '../../src/pipeline/digest';
import type { EnvironmentStatus, PromotionStatus, Stage } from '../../src/pipeline/promotionStatus';
import { GANTRY_APP, GANTRY_ENVIRONMENT, GANTRY_STAGE } from '../../src/pipeline/searchAttributes';
import type { EnvironmentPlan, PromotionInput } from '../../src/pipeline/types';
import { activityOptions } from '../activityOptions';
import type { Admitted } from '../admitPromotion';
import type { LaneSeat } from '../laneSeat';
import { acts, local } from './promotionActivities';
import { failureMessage, PromotionEnded, type EndedOutcome } from './promotionEnded';

export class PromotionContext {
  readonly info: WorkflowInfo = workflowInfo();
  readonly status: PromotionStatus;
  /** Nonces of signed decisions already counted: a signed message is good once. */
  readonly usedNonces: string[] = [];
  /** Notifications still being sent: the promotion gives them a short grace before it closes. */
  readonly notifications: Promise<unknown>[] = [];
  /** Canary decisions being written to the audit log; the canary stage waits for them. */
  readonly canaryAudits: Promise<unknown>[] = [];

  // What operators asked for. Abort and rollback cancel the pipeline's scope; the main loop
  // reads these to tell an abort from a rollback from a failure.
  abortReason?: string;
  rollbackRequest?: RollbackRequest;
  /** Why a canary paused the promotion (absent: an operator paused it). */
  pauseReason?: string;
  /** The scope the pipeline runs in, once it started. */
  pipelineScope?: CancellationScope;
  /** Set by `gantry unfreeze`: a promotion waiting on a manual freeze looks again at once. */
  freezeLifted = false;
  /** Child workflows of targets whose canary a freeze holds: `gantry unfreeze` is passed on to them. */
  readonly frozenTargets = new Set<string>();

  private auditSeq = 0;
  /** Only namespaces with Gantry's search attributes registered get them (the client sets them at start). */
  private readonly indexed: boolean;

  constructor(
    readonly input: PromotionInput,
    /** The worker's policy decision; absent on promotions from before policies. */
    readonly admitted: Admitted | undefined,
    /** The promotion's place in its app's lane; absent on promotions from before lanes. */
    readonly lane: LaneSeat | undefined,
  ) {
    this.indexed = this.info.typedSearchAttributes.get(GANTRY_APP) !== undefined;
    this.status = {
      workflowId: this.info.workflowId,
      app: input.app,
      digest: input.digest,
      requestedBy: input.requestedBy,
      ...(admitted ? { startedBy: admitted.startedBy, policy: admitted.policy } : {}),
      outcome: 'running',
      stage: 'verify',
      paused: false,
      startedAt: this.now(),
      environments: input.environments.map((e) => ({ name: e.name, state: 'pending', gates: [], votes: [] })),
      timings: [],
      decisions: [],
      refused: [],
      freezeOverrides: [],
    };
  }

  now(): string {
    return new Date().toISOString();
  }

  envStatus(name: string): EnvironmentStatus {
    return this.status.environments.find((e) => e.name === name)!;
  }

  envPlan(name: string): EnvironmentPlan {
    return this.input.environments.find((e) => e.name === name)!;
  }

  index(attrs: Parameters<typeof upsertSearchAttributes>[0]): void {
    if (this.indexed) upsertSearchAttributes(attrs);
  }

  /** Writes an audit record; the id makes a retried or replayed write land once. */
  audit(event: AuditEventKind, environment: string | undefined, details: JsonValue): Promise<unknown> {
    const { info, input } = this;
    const entry = {
      id: `${info.workflowId}/${info.firstExecutionRunId}/${++this.auditSeq}-${event}`,
      workflowId: info.workflowId,
      app: input.app,
      digest: input.digest,
      environment,
      event,
      details,
      time: this.now(),
    };
    return local.recordAudit(entry);
  }

  /** Sends a webhook notification without holding up the promotion; failures are only logged in history. */
  notify(event: string, environment: string | undefined, text: string): void {
    const { info, input } = this;
    const url =
      (environment ? this.envPlan(environment).webhookUrl : undefined) ??
      input.environments.find((e) => e.webhookUrl)?.webhookUrl;
    if (!url) return;
    const sent = CancellationScope.nonCancellable(() =>
      acts.notifyWebhook.executeWithOptions({ ...activityOptions.notify, summary: `notify ${event}` }, [
        { url, event, text, app: input.app, digest: input.digest, environment, workflowId: info.workflowId },
      ]),
    );
    this.notifications.push(sent.catch(() => undefined));
  }

  /** What a signed decision about this promotion must have been signed for. */
  claimContext(kind: SignedKind, environment: string): ClaimContext {
    const { info, input } = this;
    return {
      kind,
      environment,
      workflowId: info.workflowId,
      runId: info.firstExecutionRunId,
      app: input.app,
      digest: input.digest,
      requestedBy: input.requestedBy,
    };
  }

  /** Says in the status and the Temporal UI what the promotion is waiting for now. */
  describe(): void {
    this.status.waitingFor = describeWait(this.status, this.input.environments, this.pauseReason);
    setCurrentDetails(currentDetails(this.status));
  }

  /** An activity summary people can read in the Temporal UI. */
  label(what: string, env?: string): string {
    return `${what}${env ? ` ${env}` : ''} ${shortDigest(this.input.digest)}`;
  }

  /** Runs one stage: waits while paused, records its timing, labels it for people. */
  async stage<T>(name: Stage, environment: string | undefined, run: () => Promise<T>): Promise<T> {
    const { status } = this;
    if (status.paused) {
      this.describe();
      await condition(() => !status.paused);
    }
    this.enter(name, environment);
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
      timing.finishedAt = this.now();
    }
  }

  /** The error that ends the promotion with this outcome (for parts that throw it, such as the migrations gate). */
  end(outcome: EndedOutcome, message: string): Error {
    return new PromotionEnded(outcome, message);
  }

  /** A newer digest took this one's place: end before the next change to an environment. */
  endIfSuperseded(): void {
    const s = this.lane?.superseded;
    if (s)
      throw new PromotionEnded(
        'superseded',
        `superseded by ${shortDigest(s.by.digest)} (${s.by.workflowId}): ${s.reason}`,
      );
  }

  private enter(stage: Stage, environment?: string): void {
    const { status } = this;
    status.stage = stage;
    status.environment = environment;
    status.timings.push({ stage, environment, startedAt: this.now() });
    this.index([
      { key: GANTRY_STAGE, value: stage },
      { key: GANTRY_ENVIRONMENT, value: environment ?? '' },
    ]);
    this.describe();
  }
}
