// A promotion's place in its app's lane (workflows/promotionLane.ts): it joins at start, says when
// its digest is verified, asks for each environment before deploying there and waits for the
// answer, lets go after the environment's last stage, and leaves when it ends. Every message
// goes out as a local activity (one marker event each); a request is answered in that local
// activity when the environment is free, every other answer comes back as a signal.
import { condition, patched, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { LaneEvent, OrderingPolicy } from '../src/pipeline/promotionLane';
import { activityOptions } from './activityOptions';
import { laneGrantedSignal, supersededSignal } from './promotionLane';

type Activities = ReturnType<typeof activities.createActivities>;
const local = proxyLocalActivities<Activities>(activityOptions.local);

export interface Superseded {
  by: { workflowId: string; digest: string };
  reason: string;
}

export class LaneSeat {
  private readonly granted = new Map<string, { previousDigest?: string }>();
  superseded?: Superseded;

  constructor(private readonly app: string) {
    setHandler(laneGrantedSignal, (g) => {
      this.granted.set(g.environment, { previousDigest: g.previousDigest });
    });
    setHandler(supersededSignal, (s) => {
      this.superseded ??= s;
    });
  }

  join(
    digest: string,
    environments: string[],
    kind: 'promotion' | 'rollback',
    ordering: OrderingPolicy,
  ): Promise<void> {
    const info = workflowInfo();
    return this.send({
      type: 'register',
      member: {
        workflowId: info.workflowId,
        runId: info.runId,
        digest,
        startedAt: info.startTime.toISOString(),
        environments,
        kind,
        ordering,
      },
    });
  }

  verified(): Promise<void> {
    return this.send({ type: 'verified', workflowId: workflowInfo().workflowId });
  }

  /**
   * Asks for the environment and waits until it is this promotion's turn or it is superseded
   * (an abort cancels the wait). Returns the grant, or undefined when superseded.
   */
  async acquire(environment: string): Promise<{ previousDigest?: string } | undefined> {
    const request: LaneEvent = { type: 'request', workflowId: workflowInfo().workflowId, environment };
    // The lane answers at once when it can: a free environment costs no extra workflow task.
    if (patched('lane-grant-by-update')) {
      const answer = await local.requestLane({ app: this.app, event: request });
      if (answer.granted) this.granted.set(environment, { previousDigest: answer.previousDigest });
    } else await this.send(request);
    await condition(() => this.granted.has(environment) || this.superseded !== undefined);
    return this.granted.get(environment);
  }

  async release(environment: string, promoted: boolean): Promise<void> {
    this.granted.delete(environment);
    await this.send({
      type: 'release',
      workflowId: workflowInfo().workflowId,
      environment,
      promoted,
      at: new Date().toISOString(),
    });
  }

  rolledBack(environment: string, from: string, to: string): Promise<void> {
    return this.send({
      type: 'rolled-back',
      workflowId: workflowInfo().workflowId,
      environment,
      from,
      to,
      at: new Date().toISOString(),
    });
  }

  leave(): Promise<void> {
    return this.send({ type: 'finish', workflowId: workflowInfo().workflowId });
  }

  private async send(event: LaneEvent): Promise<void> {
    await local.signalLane({ app: this.app, event });
  }
}
