// The polling loop every health check shares. It heartbeats each round and keeps its deadline in
// the heartbeat details, so a retry after a worker crash resumes the same wait instead of
// starting a fresh one.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { formatDuration } from '../../src/pipeline/duration';

export type Probe<T> =
  { state: 'ready'; value: T } | { state: 'waiting'; observation: string } | { state: 'failed'; reason: string };

interface PollProgress {
  deadline: number;
  polls: number;
  last: string;
}

export async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  probe: () => Promise<Probe<T>>,
): Promise<T> {
  const ctx = Context.current();
  const resumed = ctx.info.heartbeatDetails as PollProgress | undefined;
  const progress: PollProgress = resumed ?? { deadline: Date.now() + timeoutMs, polls: 0, last: 'not checked yet' };
  for (;;) {
    progress.polls++;
    let answer: Probe<T>;
    try {
      answer = await probe();
    } catch (err) {
      answer = { state: 'waiting', observation: (err as Error).message };
    }
    if (answer.state === 'ready') return answer.value;
    if (answer.state === 'failed') throw ApplicationFailure.nonRetryable(`${what}: ${answer.reason}`, 'HealthTimeout');
    progress.last = answer.observation;
    ctx.heartbeat(progress);
    if (Date.now() + intervalMs > progress.deadline) {
      throw ApplicationFailure.nonRetryable(
        `${what} not healthy within ${formatDuration(timeoutMs)} (${progress.polls} checks); last: ${progress.last}`,
        'HealthTimeout',
      );
    }
    await ctx.sleep(intervalMs);
  }
}
