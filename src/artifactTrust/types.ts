// What an app's images must carry before they are promoted: cosign signatures by listed keys,
// and optionally an in-toto SLSA provenance attestation naming the expected builder and source.
// Resolved from gantry.yaml at start (key files read then), so the run is pinned to them.

export interface TrustedKey {
  /** How the signer is named in status and audit: the key file's name, or key-<n> for inline keys. */
  name: string;
  /** PEM public key (cosign.pub: ECDSA P-256, or RSA, Ed25519). */
  pem: string;
}

/** A keyless signer: the OIDC issuer and subject a trust-root CA certified (Fulcio's certificate). */
export interface TrustedIdentity {
  issuer: string;
  /** Exactly this subject (the certificate's SAN: an email or a workflow URI)... */
  subject?: string;
  /** ...or a subject matching this regular expression, anchored at both ends. */
  subjectRegExp?: string;
}

export interface ArtifactTrustPolicy {
  signatures?: {
    keys: TrustedKey[];
    identities?: TrustedIdentity[];
    /** A Sigstore trusted_root.json (its file name and text), the CAs keyless identities must chain to. */
    trustedRoot?: { name: string; json: string };
  };
  provenance?: {
    /** SLSA builder id that must have built the image, e.g. https://github.com/actions/runner. */
    builder?: string;
    /** Source repository the build must come from, e.g. github.com/acme/web. */
    sourceRepo?: string;
  };
}

/** What the trust checks found; recorded in status and the audit log (so plain JSON: a type, not an interface). */
export type TrustFindings = {
  signature?: {
    signer: string;
    fingerprint: string;
    reference: string;
    /** Keyless: the certified identity, and whether a transparency log was checked. */
    identity?: { issuer: string; subject: string; transparencyLog: string };
  };
  provenance?: { predicateType: string; builder: string; sources: string[]; signer: string };
};
