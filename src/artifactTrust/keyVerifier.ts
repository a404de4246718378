// Verifies signatures against the listed public keys with @sigstore/verify: cosign's pieces
// (payload and signature, or a DSSE envelope) are put into a Sigstore bundle that names no
// transparency log, and the verifier tries each trusted key. Returns the key that verified.
import { toDSSEBundle, toMessageSignatureBundle, type Bundle } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { TrustedKey } from './types';

export interface LoadedKey {
  name: string;
  fingerprint: string;
  key: KeyObject;
}

export function loadKeys(keys: TrustedKey[]): LoadedKey[] {
  return keys.map((k) => {
    const key = createPublicKey(k.pem);
    const der = key.export({ type: 'spki', format: 'der' });
    return { name: k.name, fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}`, key };
  });
}

// Keys listed in gantry.yaml are trusted without a log or timestamp (cosign verify --insecure-ignore-tlog).
const NO_TRANSPARENCY = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

function verifierFor(key: LoadedKey): Verifier {
  return new Verifier(
    toTrustMaterial(EMPTY_ROOT, () => ({ publicKey: key.key, validFor: () => true })),
    NO_TRANSPARENCY,
  );
}

/** A simple-signing payload signed as a message: which key verifies it, if any. */
export function verifyMessage(payload: Buffer, signature: Buffer, keys: LoadedKey[]): LoadedKey | undefined {
  const digest = createHash('sha256').update(payload).digest();
  return keys.find((k) =>
    attempt(() =>
      verifierFor(k).verify(
        toSignedEntity(toMessageSignatureBundle({ digest, signature, keyHint: k.fingerprint }), payload),
      ),
    ),
  );
}

/** A DSSE envelope (in-toto attestation): which key verifies any of its signatures, if any. */
export function verifyEnvelope(
  payloadType: string,
  payload: Buffer,
  signatures: Buffer[],
  keys: LoadedKey[],
): LoadedKey | undefined {
  return keys.find((k) =>
    signatures.some((signature) =>
      attempt(() =>
        verifierFor(k).verify(
          toSignedEntity(
            toDSSEBundle({ artifact: payload, artifactType: payloadType, signature, keyHint: k.fingerprint }),
          ),
        ),
      ),
    ),
  );
}

/** A Sigstore bundle (as cosign attaches with --new-bundle-format): which key verifies it, if any. */
export function verifyBundle(bundle: Bundle, keys: LoadedKey[]): LoadedKey | undefined {
  return keys.find((k) => attempt(() => verifierFor(k).verify(toSignedEntity(bundle))));
}

function attempt(verify: () => unknown): boolean {
  try {
    verify();
    return true;
  } catch {
    return false;
  }
}
