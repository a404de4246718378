// Stage 1: the artifact is what it claims to be: a well-formed digest that, when a registry is
// configured, the registry actually serves, byte for byte (OCI distribution API, the registry's own auth flow).
import { ApplicationFailure } from '@temporalio/common';
import { TrustError, verifyImageTrust } from '../src/artifactTrust/verifyImageTrust';
import { digestError } from '../src/pipeline/digest';
import { IMAGE_INDEX_TYPES } from '../src/registry/manifestMediaTypes';
import { RegistryClient } from '../src/registry/registryClient';
import { RegistryError } from '../src/registry/registryError';
import type { ArtifactRef, VerifyResult } from './types';

export async function verifyArtifact(artifact: ArtifactRef): Promise<VerifyResult> {
  const invalid = digestError(artifact.digest);
  if (invalid) throw ApplicationFailure.nonRetryable(invalid, 'ArtifactInvalid');
  if (!artifact.registry) return { checked: 'format', detail: 'digest is well-formed; no registry configured' };

  const { url, repository } = artifact.registry;
  const client = new RegistryClient(url);
  try {
    const ref = `${repository}@${artifact.digest}`;
    // GET rather than HEAD: the bytes are hashed, so a registry or mirror serving something else is caught.
    const manifest = await client.getManifest(repository, artifact.digest);
    if (!manifest) throw new RegistryError('not-found', `${ref} is not in registry ${url}`);
    const mediaType = manifest.mediaType;
    const kind = mediaType && IMAGE_INDEX_TYPES.includes(mediaType.split(';')[0]) ? 'image index' : 'image';
    const detail = `${ref} exists in ${url} (${kind})`;
    if (!artifact.trust) return { checked: 'registry', detail };
    // Signatures and provenance are checked here, before any environment is touched.
    const trust = await verifyImageTrust(client, repository, artifact.digest, artifact.trust);
    const signed = trust.signature ? `; signed by ${trust.signature.signer}` : '';
    const built = trust.provenance
      ? `; built by ${trust.provenance.builder} from ${trust.provenance.sources[0] ?? '?'}`
      : '';
    return { checked: 'registry', detail: `${detail}${signed}${built}`, trust };
  } catch (err) {
    throw verifyFailure(err);
  }
}

/** Unreachable and rate-limited registries are retried; the rest will not change by retrying. */
export function verifyFailure(err: unknown): Error {
  if (err instanceof TrustError)
    return ApplicationFailure.create({ message: err.message, type: 'ArtifactUntrusted', nonRetryable: true });
  if (!(err instanceof RegistryError)) return err as Error;
  const what = {
    unreachable: 'unreachable',
    unauthorised: 'unauthorised',
    'not-found': 'not found',
    'digest-mismatch': 'digest mismatch',
    'rate-limited': 'rate limited',
    unexpected: 'registry error',
  }[err.failure];
  const message = `${what}: ${err.message}`;
  if (err.failure === 'unreachable' || err.failure === 'rate-limited' || err.failure === 'unexpected') {
    return ApplicationFailure.retryable(message, 'RegistryUnavailable');
  }
  return ApplicationFailure.create({
    message,
    type: err.failure === 'unauthorised' ? 'ArtifactUnauthorised' : 'ArtifactInvalid',
    nonRetryable: true,
    details: err.scope ? [{ scope: err.scope }] : [],
  });
}
