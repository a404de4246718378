// An app's `verify:` block: the rules a schema cannot say (a registry to look in, keys that are
// real public keys, a readable trust root for keyless identities, provenance signed by a listed key), and its resolution into the policy a
// promotion is pinned to (key files read once, at start).
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { loadTrustRoot } from '../artifactTrust/identityVerifier';
import type { ArtifactTrustPolicy, TrustedKey } from '../artifactTrust/types';
import type { AppConfig, GantryConfig } from './configTypes';

type AddProblem = (segments: Array<string | number>, message: string) => void;

export function verifyPolicyProblems(config: GantryConfig, name: string, app: AppConfig, add: AddProblem): void {
  if (!app.verify) return;
  const at = ['apps', name, 'verify'];
  if (!app.registry && !config.registry)
    add(at, `needs a registry to find signatures in (registry: at the top level or in app ${name})`);
  if (app.verify.provenance && !app.verify.signatures?.keys)
    add([...at, 'provenance'], 'the attestation is checked against signatures.keys: list the keys that sign it');
  const signatures = app.verify.signatures;
  if (signatures?.identities && !signatures.trustedRoot)
    add(
      [...at, 'signatures', 'identities'],
      'keyless identities need a trustedRoot: the trusted_root.json whose CAs certify them',
    );
  if (signatures?.trustedRoot) {
    try {
      readTrustedRoot(signatures.trustedRoot, config.baseDir);
    } catch (err) {
      add([...at, 'signatures', 'trustedRoot'], (err as Error).message);
    }
  }
  (signatures?.identities ?? []).forEach((id, i) => {
    if (id.subjectRegExp === undefined) return;
    try {
      new RegExp(id.subjectRegExp);
    } catch (err) {
      add([...at, 'signatures', 'identities', i, 'subjectRegExp'], (err as Error).message);
    }
  });
  (app.verify.signatures?.keys ?? []).forEach((key, i) => {
    try {
      readKey(key, i, config.baseDir);
    } catch (err) {
      add([...at, 'signatures', 'keys', i], (err as Error).message);
    }
  });
}

export function resolveVerifyPolicy(app: AppConfig, baseDir: string): ArtifactTrustPolicy | undefined {
  if (!app.verify) return undefined;
  return {
    ...(app.verify.signatures ? { signatures: resolveSignatures(app.verify.signatures, baseDir) } : {}),
    ...(app.verify.provenance ? { provenance: { ...app.verify.provenance } } : {}),
  };
}

function resolveSignatures(
  signatures: NonNullable<NonNullable<AppConfig['verify']>['signatures']>,
  baseDir: string,
): NonNullable<ArtifactTrustPolicy['signatures']> {
  return {
    keys: (signatures.keys ?? []).map((k, i) => readKey(k, i, baseDir)),
    ...(signatures.identities ? { identities: signatures.identities.map((id) => ({ ...id })) } : {}),
    ...(signatures.trustedRoot ? { trustedRoot: readTrustedRoot(signatures.trustedRoot, baseDir) } : {}),
  };
}

// Read once at start like the keys, so a run is pinned to the trust root it began with.
function readTrustedRoot(entry: string, baseDir: string): { name: string; json: string } {
  const file = resolve(baseDir, entry);
  let json: string;
  try {
    json = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read trusted root ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const root = { name: basename(file), json };
  try {
    loadTrustRoot(root);
  } catch (err) {
    throw new Error(`${file} is not a Sigstore trusted_root.json: ${(err as Error).message}`);
  }
  return root;
}

function readKey(entry: string, index: number, baseDir: string): TrustedKey {
  const inline = entry.includes('-----BEGIN');
  const file = inline ? undefined : resolve(baseDir, entry);
  let pem: string;
  try {
    pem = inline ? entry : readFileSync(file!, 'utf8');
  } catch (err) {
    throw new Error(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    createPublicKey(pem);
  } catch {
    throw new Error(`${file ?? 'the inline key'} is not a PEM public key (cosign.pub from cosign generate-key-pair)`);
  }
  return { name: file ? basename(file) : `key-${index + 1}`, pem };
}
