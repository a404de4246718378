// Whether a Deployment has finished rolling out the wanted image, with the same reading of its
// status that `kubectl rollout status` uses. Pure: tests feed it Deployment objects.

export interface DeploymentLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number; template?: { spec?: { containers?: { name?: string; image?: string }[] } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export type RolloutState =
  { state: 'ready'; message: string } | { state: 'waiting'; message: string } | { state: 'failed'; message: string };

export function rolloutStatus(d: DeploymentLike, digest?: string): RolloutState {
  const name = d.metadata?.name ?? 'deployment';
  const images = (d.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '');
  if (digest && !images.some((i) => i.endsWith(`@${digest}`))) {
    return { state: 'waiting', message: `${name} runs ${images.join(', ') || 'no image'}, not yet ${digest}` };
  }
  const s = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0)) {
    return { state: 'waiting', message: `waiting for ${name} spec update to be observed` };
  }
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `${name} exceeded its progress deadline: ${progressing.message ?? ''}`.trim() };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return { state: 'waiting', message: `${updated} of ${want} new replicas of ${name} updated` };
  if ((s.replicas ?? 0) > updated) {
    return { state: 'waiting', message: `${(s.replicas ?? 0) - updated} old replicas of ${name} pending termination` };
  }
  if ((s.availableReplicas ?? 0) < updated) {
    return {
      state: 'waiting',
      message: `${s.availableReplicas ?? 0} of ${updated} updated replicas of ${name} available`,
    };
  }
  return { state: 'ready', message: `${name} rolled out: ${updated} of ${want} replicas updated and available` };
}
