// One drift check of one environment, run by a Temporal Schedule (src/drift/driftSchedules.ts):
// compares the digest Gantry last put there (audit log) with what runs, reports drift to the
// audit log and the webhook, and with `heal` deploys the last promoted digest again.
import { proxyActivities, proxyLocalActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { DriftCheckInput, DriftReport } from '../src/drift/types';
import { shortDigest } from '../src/pipeline/digest';
import { activityOptions } from './activityOptions';
import { onEnvironmentQueue } from './environmentQueue';

type Activities = ReturnType<typeof activities.createActivities>;

const acts = proxyActivities<Activities>(activityOptions.driftRead);
const local = proxyLocalActivities<Activities>(activityOptions.local);

export async function driftCheck(input: DriftCheckInput): Promise<DriftReport> {
  const info = workflowInfo();
  const { app, environment } = input;
  const [last, running] = await Promise.all([
    local.lastPromotedDigest({ app, environment }),
    acts.readRunningDigest.executeWithOptions(onEnvironmentQueue(activityOptions.driftRead, input.taskQueue), [
      { target: input.target },
    ]),
  ]);
  const report = (state: DriftReport['state'], detail: string): DriftReport => {
    setCurrentDetails(`${app} ${environment}: ${state}: ${detail}`);
    return { app, environment, state, expected: last.digest, running: running.digest, detail };
  };
  if (!last.digest)
    return report('unknown', `no promotion of ${app} to ${environment} in the audit log; ${running.detail}`);
  if (running.digest === last.digest) return report('in-sync', running.detail);

  const audit = (event: string, details: Record<string, string | null>) =>
    local.recordAudit({
      id: `${info.workflowId}/${info.firstExecutionRunId}/${event}`,
      workflowId: info.workflowId,
      app,
      digest: last.digest!,
      environment,
      event,
      details,
      time: new Date().toISOString(),
    });
  const notify = async (event: string, text: string) => {
    if (!input.webhookUrl) return;
    await acts.notifyWebhook
      .executeWithOptions({ ...activityOptions.notify, summary: `notify ${event}` }, [
        { url: input.webhookUrl, event, text, app, digest: last.digest!, environment, workflowId: info.workflowId },
      ])
      .catch(() => undefined);
  };
  const seen = `${environment} runs ${running.digest ?? 'no pinned digest'} (${running.detail}); Gantry last put ${last.digest} there (${last.workflowId ?? 'unknown'})`;
  await audit('drift', {
    expected: last.digest,
    running: running.digest ?? null,
    detail: running.detail,
    heal: input.heal ? 'yes' : 'no',
  });
  await notify('drift', `Drift: ${app} in ${seen}.${input.heal ? ' Healing.' : ''}`);
  if (!input.heal) return report('drifted', seen);

  const healed = await acts.deploy.executeWithOptions(
    onEnvironmentQueue(
      { ...activityOptions.deploy, summary: `heal ${environment} to ${shortDigest(last.digest)}` },
      input.taskQueue,
    ),
    [
      {
        target: input.target,
        app,
        digest: last.digest,
        environment,
        workflowId: info.workflowId,
        rollback: {
          from: running.digest ?? 'unknown',
          reason: `drift: ${environment} ran something Gantry did not promote`,
        },
      },
    ],
  );
  await audit('drift-healed', {
    expected: last.digest,
    running: running.digest ?? null,
    commit: healed.commit ?? null,
    detail: healed.detail,
  });
  await notify('drift-healed', `Drift healed: ${app} in ${environment} is back on ${shortDigest(last.digest)}.`);
  return report('healed', `${seen}; put back: ${healed.detail}`);
}
