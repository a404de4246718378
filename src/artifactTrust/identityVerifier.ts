// Keyless signatures: the signing certificate must chain to a CA of the configured Sigstore trust
// root and certify one of the listed identities (OIDC issuer extension and SAN, as Fulcio writes them).
// Parsing, chain building and signature checks are @sigstore/verify's and @sigstore/core's.
import type { Bundle } from '@sigstore/bundle';
import type { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type TrustMaterial } from '@sigstore/verify';
// The library's own chain builder, called with a verification time: its Verifier takes the time only
// from a transparency log or timestamp authority, which a trust root without them cannot give.
import { verifyCertificateChain } from '@sigstore/verify/dist/key/certificate';
import { createHash, createPublicKey } from 'node:crypto';
import type { TrustedIdentity } from './types';

const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';

export interface TrustRoot {
  name: string;
  material: TrustMaterial;
  /** Whether signatures must be in a transparency log of the root (it names one). */
  hasTlog: boolean;
  hasCtlog: boolean;
}

export function loadTrustRoot(root: { name: string; json: string }): TrustRoot {
  const parsed = TrustedRoot.fromJSON(JSON.parse(root.json));
  if (parsed.certificateAuthorities.length === 0) throw new Error(`${root.name} names no certificate authority`);
  return {
    name: root.name,
    material: toTrustMaterial(parsed),
    hasTlog: parsed.tlogs.length > 0,
    hasCtlog: parsed.ctlogs.length > 0,
  };
}

export type IdentityResult =
  | { signer: string; fingerprint: string; issuer: string; subject: string; transparencyLog: string }
  | { problem: string };

/** A bundle carrying a signing certificate: verified against the trust root and the identities. */
export function verifyCertifiedBundle(
  bundle: Bundle,
  root: TrustRoot,
  identities: TrustedIdentity[],
  artifact?: Buffer,
): IdentityResult {
  const entity = toSignedEntity(bundle, artifact);
  if (entity.key.$case !== 'certificate') return { problem: 'it carries no signing certificate' };
  const leaf = entity.key.certificate;
  const fingerprint = `sha256:${createHash('sha256').update(leaf.root.toDER()).digest('hex')}`;
  const issuer = certificateIssuer(leaf);
  const subject = leaf.subjectAltName ?? '';
  if (root.hasTlog) {
    // A root with a transparency log: the library checks everything, the log entry included.
    try {
      new Verifier(root.material, {
        tlogThreshold: 1,
        ctlogThreshold: root.hasCtlog ? 1 : 0,
        timestampThreshold: 1,
      }).verify(entity);
    } catch (err) {
      return { problem: `it does not verify against trust root ${root.name}: ${(err as Error).message}` };
    }
  } else {
    const now = new Date();
    const current = root.material.certificateAuthorities.filter(
      (ca) => ca.validFor.start <= now && now <= ca.validFor.end,
    );
    if (current.length === 0) return { problem: `no CA of trust root ${root.name} is valid now (its validFor)` };
    try {
      // No log to say when it was signed: the certificate must be valid now (cosign --insecure-ignore-tlog does the same).
      verifyCertificateChain(now, leaf, current);
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message;
      return {
        problem: `its certificate (${subject || 'no subject'}) does not chain to a CA of trust root ${root.name}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`,
      };
    }
    if (!entity.signature.verifySignature(createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' })))
      return { problem: `its signature does not verify with its certificate's key (${subject})` };
  }
  if (!identities.some((id) => identityMatches(id, issuer, subject)))
    return {
      problem: `its certificate is for ${subject || '(no subject)'} issued by ${issuer ?? '(no OIDC issuer)'}, not a listed identity (${identities.map(describeIdentity).join(', ')})`,
    };
  return {
    signer: subject,
    fingerprint,
    issuer: issuer!,
    subject,
    transparencyLog: root.hasTlog
      ? 'verified'
      : `not checked: trust root ${root.name} names no transparency log (certificate checked as valid now)`,
  };
}

function certificateIssuer(leaf: X509Certificate): string | undefined {
  const v2 = leaf.extension(OID_ISSUER_V2);
  if (v2) return v2.valueObj.subs[0]?.value.toString('utf8');
  return leaf.extension(OID_ISSUER_V1)?.value.toString('utf8');
}

function identityMatches(id: TrustedIdentity, issuer: string | undefined, subject: string): boolean {
  if (issuer !== id.issuer) return false;
  if (id.subject !== undefined) return subject === id.subject;
  return id.subjectRegExp !== undefined && new RegExp(`^(?:${id.subjectRegExp})$`).test(subject);
}

export function describeIdentity(id: TrustedIdentity): string {
  return `${id.subject ?? `/${id.subjectRegExp}/`} from ${id.issuer}`;
}
