// Checks an image digest against the app's trust policy: a cosign signature under the digest's
// .sig tag by one of the listed keys, whose signed payload names this very digest; and, when
// asked, a signed SLSA provenance attestation under .att naming the expected builder and source.
import type { RegistryClient } from '../registry/registryClient';
import { cosignLayers, SIGNATURE_ANNOTATION } from './cosignArtifacts';
import { loadKeys, verifyEnvelope, verifyMessage, type LoadedKey } from './keyVerifier';
import { provenanceProblem, readProvenance } from './slsaProvenance';
import type { ArtifactTrustPolicy, TrustFindings } from './types';

/** The artifact is refused: it says why in words a person can act on. */
export class TrustError extends Error {
  name = 'TrustError';
}

const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

export async function verifyImageTrust(
  client: RegistryClient,
  repository: string,
  digest: string,
  policy: ArtifactTrustPolicy,
): Promise<TrustFindings> {
  const keys = loadKeys(policy.signatures?.keys ?? []);
  const findings: TrustFindings = {};
  if (policy.signatures) findings.signature = await verifySignature(client, repository, digest, keys);
  if (policy.provenance)
    findings.provenance = await verifyProvenance(client, repository, digest, keys, policy.provenance);
  return findings;
}

async function verifySignature(
  client: RegistryClient,
  repository: string,
  digest: string,
  keys: LoadedKey[],
): Promise<NonNullable<TrustFindings['signature']>> {
  const found = await cosignLayers(client, repository, digest, 'sig');
  const names = keys.map((k) => k.name).join(', ');
  if (!found || found.layers.length === 0)
    throw new TrustError(
      `unsigned: ${repository}@${digest} has no cosign signature (no ${found?.tag ?? `${digest.replace(':', '-')}.sig`} in the registry)`,
    );
  let otherDigest: string | undefined;
  for (const layer of found.layers) {
    const signature = layer.annotations[SIGNATURE_ANNOTATION];
    if (!signature) continue;
    const signer = verifyMessage(layer.blob, Buffer.from(signature, 'base64'), keys);
    if (!signer) continue;
    // The signature is good; it must also be about this digest, or it could be moved from another image.
    const signedDigest = signedImageDigest(layer.blob);
    if (signedDigest !== digest) {
      otherDigest = signedDigest ?? '(none)';
      continue;
    }
    return { signer: signer.name, fingerprint: signer.fingerprint, reference: `${repository}:${found.tag}` };
  }
  if (otherDigest)
    throw new TrustError(
      `signature for another digest: the signature under ${found.tag} is for ${otherDigest}, not ${digest}`,
    );
  throw new TrustError(
    `no valid signature: none of the ${found.layers.length} signature(s) under ${found.tag} verifies with the listed keys (${names})`,
  );
}

function signedImageDigest(payload: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as {
      critical?: { image?: { 'docker-manifest-digest'?: string } };
    };
    return parsed.critical?.image?.['docker-manifest-digest'];
  } catch {
    return undefined;
  }
}

async function verifyProvenance(
  client: RegistryClient,
  repository: string,
  digest: string,
  keys: LoadedKey[],
  expected: NonNullable<ArtifactTrustPolicy['provenance']>,
): Promise<NonNullable<TrustFindings['provenance']>> {
  const found = await cosignLayers(client, repository, digest, 'att');
  if (!found)
    throw new TrustError(
      `no provenance: ${repository}@${digest} has no attestation (no ${digest.replace(':', '-')}.att in the registry)`,
    );
  const problems: string[] = [];
  for (const layer of found.layers.filter((l) => l.mediaType === DSSE_MEDIA_TYPE)) {
    let envelope: { payloadType: string; payload: string; signatures: Array<{ sig: string }> };
    try {
      envelope = JSON.parse(layer.blob.toString('utf8')) as typeof envelope;
    } catch {
      problems.push('an attestation layer is not a DSSE envelope');
      continue;
    }
    const payload = Buffer.from(envelope.payload ?? '', 'base64');
    const signer = verifyEnvelope(
      envelope.payloadType,
      payload,
      (envelope.signatures ?? []).map((s) => Buffer.from(s.sig, 'base64')),
      keys,
    );
    if (!signer) {
      problems.push(
        `an attestation under ${found.tag} does not verify with the listed keys (altered after signing, or signed by another key)`,
      );
      continue;
    }
    const provenance = readProvenance(payload, digest);
    if ('problem' in provenance) {
      problems.push(provenance.problem);
      continue;
    }
    const mismatch = provenanceProblem(provenance, expected);
    if (mismatch) {
      problems.push(mismatch);
      continue;
    }
    return {
      predicateType: provenance.predicateType,
      builder: provenance.builder,
      sources: provenance.sources,
      signer: signer.name,
    };
  }
  throw new TrustError(
    `provenance refused: ${problems.length > 0 ? [...new Set(problems)].join('; ') : `no in-toto attestation under ${found.tag}`}`,
  );
}
