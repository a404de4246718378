// Health check `http`: the environment is healthy and serves the expected digest.
// /health must answer 2xx; /version must name the digest (JSON field digest/version/image, or text).
import type { HttpHealthCheck } from '../../src/pipeline/types';
import { pollUntil, type Probe } from './pollUntil';

export async function checkHttpHealth(check: HttpHealthCheck, digest: string, environment: string): Promise<string> {
  return pollUntil(`${environment} (${check.url})`, check.timeoutMs, check.intervalMs, () => probe(check, digest));
}

async function probe(check: HttpHealthCheck, digest: string): Promise<Probe<string>> {
  const versionUrl = new URL(check.versionPath, check.url).toString();
  const version = await fetch(versionUrl, { signal: AbortSignal.timeout(5_000) });
  const body = await version.text();
  if (!version.ok) return { state: 'waiting', observation: `${versionUrl} answered ${version.status}` };
  const served = servedDigest(body);
  if (served !== digest)
    return { state: 'waiting', observation: `serves ${served ?? 'no digest'}, waiting for ${digest}` };
  const healthUrl = new URL(check.healthPath, check.url).toString();
  const health = await fetch(healthUrl, { signal: AbortSignal.timeout(5_000) });
  await health.arrayBuffer();
  if (!health.ok) return { state: 'waiting', observation: `${healthUrl} answered ${health.status}` };
  return { state: 'ready', value: `serves ${digest} and ${check.healthPath} answers ${health.status}` };
}

function servedDigest(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    for (const key of ['digest', 'version', 'image']) {
      const match = typeof json[key] === 'string' ? /sha256:[0-9a-f]{64}/.exec(json[key] as string) : null;
      if (match) return match[0];
    }
  } catch {
    // Not JSON: look for a digest in the text.
  }
  return /sha256:[0-9a-f]{64}/.exec(body)?.[0];
}
