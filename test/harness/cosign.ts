// cosign (built from the Go module proxy into .tools/cosign by scripts/cosign.sh) signing and
// attesting real images in the loopback registry, the way a CI job does after its push.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/local/tools';

export const COSIGN_BIN = join(PROJECT_ROOT, '.tools', 'cosign', 'bin', 'cosign');

export interface CosignKey {
  privateKey: string;
  publicKey: string;
}

function cosign(
  args: string[],
  options: { cwd?: string; dockerConfig?: string; env?: Record<string, string> } = {},
): Promise<string> {
  if (!existsSync(COSIGN_BIN))
    return Promise.reject(
      new Error(`${COSIGN_BIN} is missing: run \`npm run setup\` (builds cosign with scripts/cosign.sh)`),
    );
  const env = {
    ...process.env,
    COSIGN_PASSWORD: '',
    COSIGN_YES: 'true',
    ...(options.dockerConfig ? { DOCKER_CONFIG: options.dockerConfig } : {}),
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    execFile(COSIGN_BIN, args, { cwd: options.cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`cosign ${args[0]} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** cosign generate-key-pair into dir as <name>.key / <name>.pub (empty password). */
export async function generateKeyPair(dir: string, name: string): Promise<CosignKey> {
  await cosign(['generate-key-pair', '--output-key-prefix', name], { cwd: dir });
  return { privateKey: join(dir, `${name}.key`), publicKey: join(dir, `${name}.pub`) };
}

/** cosign import-key-pair: a PEM private key (e.g. the one a CA certified) in cosign's format. */
export async function importKeyPair(dir: string, pemKey: string, name: string): Promise<CosignKey> {
  await cosign(['import-key-pair', '--key', pemKey, '--output-key-prefix', name], { cwd: dir });
  return { privateKey: join(dir, `${name}.key`), publicKey: join(dir, `${name}.pub`) };
}

// No transparency log on loopback: signatures go only to the registry, as with a private signing key.
const OFFLINE = ['--tlog-upload=false', '--allow-http-registry'];

export async function sign(imageRef: string, key: CosignKey, dockerConfig?: string): Promise<void> {
  await cosign(['sign', '--key', key.privateKey, ...OFFLINE, imageRef], { dockerConfig });
}

// cosign v2 attaches OCI 1.1 referrers only in experimental mode; on a registry without the
// referrers API it writes the sha256-<hex> fallback index itself.
const BUNDLE_REFERRER = ['--new-bundle-format', '--registry-referrers-mode=oci-1-1'];

/** Signs into a Sigstore bundle attached as an OCI referrer (not the .sig tag). */
export async function signBundle(imageRef: string, key: CosignKey, dockerConfig?: string): Promise<void> {
  await cosign(['sign', '--key', key.privateKey, ...BUNDLE_REFERRER, ...OFFLINE, imageRef], {
    dockerConfig,
    env: { COSIGN_EXPERIMENTAL: '1' },
  });
}

/** Signs with a certified key, the certificate and its chain going with the signature (.sig or bundle). */
export async function signWithCertificate(
  imageRef: string,
  signer: { key: CosignKey; certificate: string; chain: string },
  format: 'sig' | 'bundle',
  dockerConfig?: string,
): Promise<void> {
  const certificate = ['--certificate', signer.certificate, '--certificate-chain', signer.chain];
  await cosign(
    [
      'sign',
      '--key',
      signer.key.privateKey,
      ...certificate,
      ...(format === 'bundle' ? BUNDLE_REFERRER : []),
      ...OFFLINE,
      imageRef,
    ],
    { dockerConfig, env: format === 'bundle' ? { COSIGN_EXPERIMENTAL: '1' } : {} },
  );
}

/** Attaches a SLSA v1 provenance attestation (cosign attest --type slsaprovenance1). */
export async function attestProvenance(
  imageRef: string,
  key: CosignKey,
  predicate: object,
  dir: string,
  dockerConfig?: string,
): Promise<void> {
  const file = join(dir, `predicate-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(predicate));
  await cosign(
    ['attest', '--key', key.privateKey, '--type', 'slsaprovenance1', '--predicate', file, ...OFFLINE, imageRef],
    { dockerConfig },
  );
}

/** A SLSA v1 provenance predicate as a GitHub Actions build would write it. */
export function slsaPredicate(builder: string, repository: string, commit: string): object {
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: { workflow: { ref: 'refs/heads/main', repository, path: '.github/workflows/build.yml' } },
      resolvedDependencies: [{ uri: `git+${repository}@refs/heads/main`, digest: { gitCommit: commit } }],
    },
    runDetails: { builder: { id: builder }, metadata: { invocationId: `${repository}/actions/runs/1` } },
  };
}
