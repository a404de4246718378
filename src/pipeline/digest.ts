// Artifact identity: an image digest and the workflow id derived from it.

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function digestError(value: string): string | undefined {
  if (isDigest(value)) return undefined;
  if (/^[0-9a-f]{64}$/.test(value)) return `digest must start with "sha256:" (got ${shortDigest(value)}...)`;
  return 'digest must be sha256:<64 lowercase hex characters>';
}

export function promotionWorkflowId(app: string, digest: string): string {
  return `promote/${app}/${digest}`;
}

/** sha256:ab12cd34ef56: enough to recognise an artifact in a label. */
export function shortDigest(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(0, 19) : digest.slice(0, 12);
}
