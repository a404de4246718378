// Whether an Argo CD Application has synced and become healthy at the revision that carries the
// digest being promoted. Pure: tests feed it Application objects. The revision is the config repo
// commit the deploy step produced (status.sync.revision, or one of status.sync.revisions for
// multi-source apps), or, without a commit, an image in status.summary.images that pins the digest.

export interface ApplicationLike {
  metadata?: { name?: string; namespace?: string };
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    summary?: { images?: string[] };
    operationState?: { phase?: string; message?: string; syncResult?: { revision?: string; revisions?: string[] } };
    conditions?: { type?: string; message?: string }[];
  };
}

export type ApplicationState = { state: 'ready' | 'waiting' | 'failed'; message: string };

export function applicationStatus(app: ApplicationLike, want: { digest: string; commit?: string }): ApplicationState {
  const name = app.metadata?.name ?? 'application';
  const s = app.status ?? {};
  const sync = s.sync ?? {};
  const revisions = [sync.revision, ...(sync.revisions ?? [])].filter((r): r is string => !!r);
  const images = s.summary?.images ?? [];
  const atCommit = want.commit !== undefined && revisions.some((r) => sameRevision(r, want.commit!));
  const hasImage = images.some((i) => i.endsWith(`@${want.digest}`));
  const health = s.health?.status ?? 'Unknown';
  const shown = `sync ${sync.status ?? 'Unknown'} at ${revisions.map((r) => r.slice(0, 12)).join(', ') || 'no revision'}, health ${health}`;

  // A sync operation that failed for the wanted revision will not heal by waiting.
  const op = s.operationState;
  const opRevisions = [op?.syncResult?.revision, ...(op?.syncResult?.revisions ?? [])].filter((r): r is string => !!r);
  if (
    want.commit &&
    (op?.phase === 'Failed' || op?.phase === 'Error') &&
    opRevisions.some((r) => sameRevision(r, want.commit!))
  ) {
    return {
      state: 'failed',
      message: `${name} failed to sync ${want.commit.slice(0, 12)}: ${op.message ?? op.phase}`,
    };
  }
  if (!atCommit && !hasImage) {
    const wanted = want.commit
      ? `revision ${want.commit.slice(0, 12)} or an image with ${want.digest}`
      : `an image with ${want.digest}`;
    return { state: 'waiting', message: `${name}: ${shown}; waiting for ${wanted}` };
  }
  if (health === 'Degraded') {
    return {
      state: 'failed',
      message: `${name} is Degraded at the promoted revision${s.health?.message ? `: ${s.health.message}` : ''}`,
    };
  }
  if (sync.status !== 'Synced' || health !== 'Healthy') return { state: 'waiting', message: `${name}: ${shown}` };
  return {
    state: 'ready',
    message: `${name} Synced and Healthy at ${atCommit ? want.commit!.slice(0, 12) : want.digest}`,
  };
}

/** Full or abbreviated commit shas name the same revision. */
function sameRevision(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.length >= 7 && y.length >= 7 && (x.startsWith(y) || y.startsWith(x));
}
