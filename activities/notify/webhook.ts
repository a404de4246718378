// Notifier `webhook`: posts Slack-compatible JSON ({"text": ...}) for promotion events. Failures
// are retried by the activity's retry policy; the workflow never waits on them to go on.
export interface Notification {
  url: string;
  event: string;
  text: string;
  app: string;
  digest: string;
  environment?: string;
  workflowId: string;
}

export async function notifyWebhook(n: Notification): Promise<void> {
  const res = await fetch(n.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      text: n.text,
      gantry: { event: n.event, app: n.app, digest: n.digest, environment: n.environment, workflowId: n.workflowId },
    }),
    signal: AbortSignal.timeout(5_000),
  });
  await res.arrayBuffer();
  // Host only: failure messages are stored in clear, and a webhook URL's path is a credential.
  if (!res.ok) throw new Error(`webhook at ${new URL(n.url).host} answered ${res.status}`);
}
