// Stage 1: the artifact is what it claims to be: a well-formed digest that, when a registry is
// configured, the registry actually serves (OCI distribution API, HEAD on the manifest).
import { ApplicationFailure } from '@temporalio/common';
import { digestError } from '../src/pipeline/digest';
import type { ArtifactRef, VerifyResult } from './types';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export async function verifyArtifact(artifact: ArtifactRef): Promise<VerifyResult> {
  const invalid = digestError(artifact.digest);
  if (invalid) throw ApplicationFailure.nonRetryable(invalid, 'ArtifactInvalid');
  if (!artifact.registry) return { checked: 'format', detail: 'digest is well-formed; no registry configured' };

  const { url, repository } = artifact.registry;
  const manifestUrl = `${url.replace(/\/$/, '')}/v2/${repository}/manifests/${artifact.digest}`;
  let res: Response;
  try {
    res = await fetch(manifestUrl, { method: 'HEAD', headers: { Accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    // Unreachable registry: retried by the activity's retry policy.
    throw new Error(`registry ${url} unreachable: ${(err as Error).cause ?? (err as Error).message}`);
  }
  if (res.status === 404) {
    throw ApplicationFailure.nonRetryable(`${repository}@${artifact.digest} not found in registry ${url}`, 'ArtifactInvalid');
  }
  if (!res.ok) throw new Error(`registry ${url} answered ${res.status} for ${manifestUrl}`);
  const served = res.headers.get('docker-content-digest');
  if (served && served !== artifact.digest) {
    throw ApplicationFailure.nonRetryable(`registry served ${served} for ${artifact.digest}`, 'ArtifactInvalid');
  }
  return { checked: 'registry', detail: `${repository}@${artifact.digest} exists in ${url}` };
}
