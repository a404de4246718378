// Checks an image digest against the app's trust policy: a cosign signature by one of the listed
// keys, under the digest's .sig tag or in a Sigstore bundle attached as an OCI referrer, whose
// signed payload names this very digest; and, when
// asked, a signed SLSA provenance attestation under .att naming the expected builder and source.
import { toMessageSignatureBundle, type Bundle } from '@sigstore/bundle';
import { createHash, X509Certificate } from 'node:crypto';
import type { RegistryClient } from '../registry/registryClient';
import { CERTIFICATE_ANNOTATION, cosignLayers, SIGNATURE_ANNOTATION } from './cosignArtifacts';
import {
  describeIdentity,
  loadTrustRoot,
  verifyCertifiedBundle,
  type IdentityResult,
  type TrustRoot,
} from './identityVerifier';
import { loadKeys, verifyBundle, verifyEnvelope, verifyMessage, type LoadedKey } from './keyVerifier';
import { sigstoreBundles } from './sigstoreBundles';
import { provenanceProblem, readProvenance } from './slsaProvenance';
import type { ArtifactTrustPolicy, TrustedIdentity, TrustFindings } from './types';

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
  if (policy.signatures) {
    const trust: SignatureTrust = {
      keys,
      identities: policy.signatures.identities ?? [],
      root: policy.signatures.trustedRoot ? loadTrustRoot(policy.signatures.trustedRoot) : undefined,
    };
    findings.signature = await verifySignature(client, repository, digest, trust);
  }
  if (policy.provenance)
    findings.provenance = await verifyProvenance(client, repository, digest, keys, policy.provenance);
  return findings;
}

interface SignatureTrust {
  keys: LoadedKey[];
  identities: TrustedIdentity[];
  root?: TrustRoot;
}

type SignatureFinding = NonNullable<TrustFindings['signature']>;

async function verifySignature(
  client: RegistryClient,
  repository: string,
  digest: string,
  { keys, identities, root }: SignatureTrust,
): Promise<SignatureFinding> {
  const sigTag = `${digest.replace(':', '-')}.sig`;
  const [found, referrers] = await Promise.all([
    cosignLayers(client, repository, digest, 'sig'),
    sigstoreBundles(client, repository, digest),
  ]);
  const layers = found?.layers ?? [];
  if (layers.length === 0 && referrers.bundles.length === 0)
    throw new TrustError(
      `unsigned: ${repository}@${digest} has no cosign signature (no ${sigTag} tag and no Sigstore bundle referrer in the registry)`,
    );
  const names = [...keys.map((k) => k.name), ...identities.map(describeIdentity)].join(', ');
  // Keyless: a certificate-carrying signature checked against the trust root and identities.
  const keyless = (build: () => Bundle, artifact?: Buffer): IdentityResult | undefined => {
    if (!root || identities.length === 0) return undefined;
    try {
      const bundle = build();
      return bundleCertificate(bundle) ? verifyCertifiedBundle(bundle, root, identities, artifact) : undefined;
    } catch (err) {
      return { problem: `its certificate cannot be read: ${(err as Error).message}` };
    }
  };
  const problems: string[] = [];
  let otherDigest: string | undefined;
  let unverified = 0;
  for (const layer of layers) {
    const signature = layer.annotations[SIGNATURE_ANNOTATION];
    if (!signature) {
      unverified++;
      continue;
    }
    const certificate = layer.annotations[CERTIFICATE_ANNOTATION];
    const certified = certificate
      ? keyless(
          () =>
            toMessageSignatureBundle({
              digest: createHash('sha256').update(layer.blob).digest(),
              signature: Buffer.from(signature, 'base64'),
              certificate: Buffer.from(new X509Certificate(certificate).raw),
            }),
          layer.blob,
        )
      : undefined;
    if (certified && 'problem' in certified) {
      problems.push(`no valid signature: the signature under ${sigTag} is keyless and ${certified.problem}`);
      continue;
    }
    const signer = certified ?? verifyMessage(layer.blob, Buffer.from(signature, 'base64'), keys);
    if (!signer) {
      unverified++;
      continue;
    }
    // The signature is good; it must also be about this digest, or it could be moved from another image.
    const signedDigest = signedImageDigest(layer.blob);
    if (signedDigest !== digest) {
      otherDigest = signedDigest ?? '(none)';
      continue;
    }
    return finding(signer, `${repository}:${sigTag}`);
  }
  if (otherDigest)
    problems.push(`signature for another digest: the signature under ${sigTag} is for ${otherDigest}, not ${digest}`);
  if (unverified > 0)
    problems.push(
      `no valid signature: none of the ${unverified} signature(s) under ${sigTag} verifies with the listed ${identities.length > 0 ? 'keys or identities' : 'keys'} (${names})`,
    );
  for (const attached of referrers.bundles) {
    if (attached.subject !== digest) {
      problems.push(
        `signature for another digest: the Sigstore bundle ${attached.reference} is for ${attached.subject ?? '(no subject)'}, not ${digest}`,
      );
      continue;
    }
    if (!attached.bundle) {
      problems.push(`no valid signature: ${attached.problem}`);
      continue;
    }
    const certified = keyless(() => attached.bundle!);
    if (certified && 'problem' in certified) {
      problems.push(
        `no valid signature: the Sigstore bundle ${attached.reference} is keyless and ${certified.problem}`,
      );
      continue;
    }
    const signer = certified ?? verifyBundle(attached.bundle, keys);
    if (!signer) {
      problems.push(
        `no valid signature: the Sigstore bundle ${attached.reference} does not verify with the listed ${identities.length > 0 ? 'keys or identities' : 'keys'} (${names})`,
      );
      continue;
    }
    const signed = bundleImageDigest(attached.bundle);
    if (signed !== digest) {
      problems.push(
        `signature for another digest: the Sigstore bundle ${attached.reference} is for ${signed ?? '(no image digest)'}, not ${digest}`,
      );
      continue;
    }
    return finding(signer, `${attached.reference} (Sigstore bundle, ${referrers.via})`);
  }
  throw new TrustError(problems.join('; '));
}

function finding(
  signer: LoadedKey | Exclude<IdentityResult, { problem: string }>,
  reference: string,
): SignatureFinding {
  if ('name' in signer) return { signer: signer.name, fingerprint: signer.fingerprint, reference };
  const { issuer, subject, transparencyLog } = signer;
  return {
    signer: signer.signer,
    fingerprint: signer.fingerprint,
    reference,
    identity: { issuer, subject, transparencyLog },
  };
}

function bundleCertificate(bundle: Bundle): boolean {
  const content = bundle.verificationMaterial.content;
  return content.$case === 'certificate' || content.$case === 'x509CertificateChain';
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

// cosign's bundle signs an in-toto statement (predicate https://sigstore.dev/cosign/sign/v1) whose
// subject is the image digest; only that statement binds the signature to this image.
const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

function bundleImageDigest(bundle: Bundle): string | undefined {
  if (bundle.content.$case !== 'dsseEnvelope') return undefined;
  try {
    const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as {
      predicateType?: string;
      subject?: Array<{ digest?: Record<string, string> }>;
    };
    if (statement.predicateType !== COSIGN_SIGN_PREDICATE) return undefined;
    const hex = statement.subject?.[0]?.digest?.sha256;
    return statement.subject?.length === 1 && hex ? `sha256:${hex}` : undefined;
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
