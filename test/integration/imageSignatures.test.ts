// Signatures and provenance on real images: cosign signs and attests images pushed to the real
// registry (token auth, credentials in a Docker config file for cosign and for the worker); the
// promotion verifies them with the app's keys before any environment is touched.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/loadConfig';
import { createConfigRepo } from '../../src/local/configRepo';
import {
  attestProvenance,
  generateKeyPair,
  sign,
  signBundle,
  signWithCertificate,
  slsaPredicate,
  type CosignKey,
} from '../harness/cosign';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { commitsIn } from '../harness/gitInspect';
import { certify, createCa, type CertifiedSigner, type LocalCa } from '../harness/localFulcio';
import { pushImage, startRegistry, type Registry } from '../harness/ociRegistry';
import { startReferrersRegistry, type ReferrersRegistry } from '../harness/referrersRegistry';
import { pipelineText, promotionInput } from '../harness/pipelineFile';

const BUILDER = 'https://github.com/actions/runner/github-hosted';
const SOURCE = 'https://github.com/acme/web';

let stack: Stack;
let registry: Registry;
let repo: string;
let dir: string;
let dockerConfig: string;
let ciKey: CosignKey;
let otherKey: CosignKey;
const savedDockerConfig = process.env.DOCKER_CONFIG;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gantry-signatures-'));
  [stack, registry] = await Promise.all([
    startStack({ taskQueue: 'signatures' }),
    startRegistry({ kind: 'token', users: { ci: 's3cret' } }),
  ]);
  dockerConfig = join(dir, 'docker');
  mkdirSync(dockerConfig);
  writeFileSync(
    join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('ci:s3cret').toString('base64') } } }),
  );
  // The worker reads the same Docker config as cosign did.
  process.env.DOCKER_CONFIG = dockerConfig;
  [ciKey, otherKey] = await Promise.all([generateKeyPair(dir, 'ci'), generateKeyPair(dir, 'other')]);
  repo = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: `${registry.host}/acme/web`, overlayPath: (e) => `environments/${e}` }],
    environments: ['dev'],
  });
}, 180_000);
afterAll(async () => {
  process.env.DOCKER_CONFIG = savedDockerConfig;
  await Promise.all([stack?.stop(), registry?.stop()]);
});

type VerifySettings = Record<string, unknown>;

function yaml(verify: VerifySettings, from: { url: string; host: string } = registry): string {
  return pipelineText({
    configRepo: { url: repo },
    registry: { url: from.url },
    apps: { web: { image: `${from.host}/acme/web`, verify } },
    environments: [{ name: 'dev', deploy: { gitops: { path: 'environments/dev' } } }],
  });
}
const keysOnly = (key: CosignKey): VerifySettings => ({ signatures: { keys: [key.publicKey] } });
const withProvenance = (key: CosignKey): VerifySettings => ({
  ...keysOnly(key),
  provenance: { builder: BUILDER, sourceRepo: 'github.com/acme/web' },
});

async function image(tag: string): Promise<{ digest: string; ref: string }> {
  const digest = await pushImage(registry, 'acme/web', tag, `${tag} ${Date.now()} ${Math.random()}`);
  return { digest, ref: `${registry.host}/acme/web@${digest}` };
}

async function promote(verify: VerifySettings, digest: string, from?: ReferrersRegistry) {
  await stack.gantry.start(promotionInput(yaml(verify, from), 'web', digest));
  return stack.gantry.result('web', digest);
}

function auditOf(digest: string): Array<{ event: string; details: Record<string, unknown> }> {
  return readFileSync(join(stack.dir, 'audit', 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { digest: string; event: string; details: Record<string, unknown> })
    .filter((r) => r.digest === digest);
}

const deployed = (digest: string) => commitsIn(repo).filter((c) => c.trailers['Gantry-Digest'] === digest);

test('signed with a listed key and attested by the expected builder: verified, signer in status and audit, promoted', async () => {
  const { digest, ref } = await image('signed');
  await sign(ref, ciKey, dockerConfig);
  await attestProvenance(ref, ciKey, slsaPredicate(BUILDER, SOURCE, 'a'.repeat(40)), dir, dockerConfig);
  const result = await promote(withProvenance(ciKey), digest);
  expect(result.outcome).toBe('promoted');
  const expectedTrust = {
    signature: {
      signer: 'ci.pub',
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reference: `acme/web:${digest.replace(':', '-')}.sig`,
    },
    provenance: {
      predicateType: 'https://slsa.dev/provenance/v1',
      builder: BUILDER,
      sources: expect.arrayContaining([`git+${SOURCE}@refs/heads/main`]),
      signer: 'ci.pub',
    },
  };
  expect(result.trust).toEqual(expectedTrust);
  expect(auditOf(digest).find((r) => r.event === 'verified')?.details).toMatchObject({
    trust: expectedTrust,
    detail: expect.stringContaining('signed by ci.pub; built by'),
  });
  expect(deployed(digest)).toHaveLength(1);
  const status = await runCli(['status', 'web', digest], cliEnv(stack));
  expect(status.stdout).toContain(
    `  signed:    by ci.pub (${result.trust!.signature!.fingerprint.slice(0, 23)}…)\n  built:     by ${BUILDER} from `,
  );
});

test('unsigned: refused before any environment is touched', async () => {
  const { digest } = await image('unsigned');
  const result = await promote(keysOnly(ciKey), digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: `verify failed: unsigned: acme/web@${digest} has no cosign signature (no ${digest.replace(':', '-')}.sig tag and no Sigstore bundle referrer in the registry)`,
  });
  expect(deployed(digest)).toHaveLength(0);
});

test('signed with a key the app does not list: refused', async () => {
  const { digest, ref } = await image('wrong-key');
  await sign(ref, otherKey, dockerConfig);
  const result = await promote(keysOnly(ciKey), digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: `verify failed: no valid signature: none of the 1 signature(s) under ${digest.replace(':', '-')}.sig verifies with the listed keys (ci.pub)`,
  });
  expect(deployed(digest)).toHaveLength(0);
});

test('a signature for another digest, copied under this one: refused', async () => {
  const signed = await image('original');
  await sign(signed.ref, ciKey, dockerConfig);
  const { digest } = await image('copycat');
  // Copy the signature manifest of the signed image to the other digest's .sig tag.
  const auth = (await registry.pushAuth('acme/web'))!;
  const sigManifest = await fetch(`${registry.url}/v2/acme/web/manifests/${signed.digest.replace(':', '-')}.sig`, {
    headers: { Authorization: auth, Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const put = await fetch(`${registry.url}/v2/acme/web/manifests/${digest.replace(':', '-')}.sig`, {
    method: 'PUT',
    headers: { Authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: Buffer.from(await sigManifest.arrayBuffer()),
  });
  expect(put.status).toBe(201);
  const result = await promote(keysOnly(ciKey), digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: `verify failed: signature for another digest: the signature under ${digest.replace(':', '-')}.sig is for ${signed.digest}, not ${digest}`,
  });
  expect(deployed(digest)).toHaveLength(0);
});

test('a tampered provenance attestation: refused', async () => {
  const { digest, ref } = await image('tampered');
  await sign(ref, ciKey, dockerConfig);
  await attestProvenance(
    ref,
    ciKey,
    slsaPredicate('https://evil.example/builder', SOURCE, 'b'.repeat(40)),
    dir,
    dockerConfig,
  );
  await tamperAttestation(digest, (statement) =>
    JSON.stringify(statement).replace('https://evil.example/builder', BUILDER),
  );
  const result = await promote(withProvenance(ciKey), digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: `verify failed: provenance refused: an attestation under ${digest.replace(':', '-')}.att does not verify with the listed keys (altered after signing, or signed by another key)`,
  });
  expect(deployed(digest)).toHaveLength(0);
});

test('provenance from another builder or another repository: refused, saying which', async () => {
  const a = await image('other-builder');
  await sign(a.ref, ciKey, dockerConfig);
  await attestProvenance(
    a.ref,
    ciKey,
    slsaPredicate('https://ci.example/self-hosted', SOURCE, 'c'.repeat(40)),
    dir,
    dockerConfig,
  );
  expect(await promote(withProvenance(ciKey), a.digest)).toMatchObject({
    outcome: 'failed',
    reason: `verify failed: provenance refused: built by https://ci.example/self-hosted, expected ${BUILDER}`,
  });

  const b = await image('other-repo');
  await sign(b.ref, ciKey, dockerConfig);
  await attestProvenance(
    b.ref,
    ciKey,
    slsaPredicate(BUILDER, 'https://github.com/mallory/web', 'd'.repeat(40)),
    dir,
    dockerConfig,
  );
  expect(await promote(withProvenance(ciKey), b.digest)).toMatchObject({
    outcome: 'failed',
    reason: expect.stringMatching(
      /^verify failed: provenance refused: built from .*mallory\/web.*, expected github\.com\/acme\/web$/,
    ),
  });
  expect([...deployed(a.digest), ...deployed(b.digest)]).toHaveLength(0);
});

test('signed into a Sigstore bundle attached as an OCI referrer (found through the referrers tag): promoted', async () => {
  const { digest, ref } = await image('bundle');
  await signBundle(ref, ciKey, dockerConfig);
  const auth = (await registry.pushAuth('acme/web'))!;
  // Debian's registry (distribution 2.8) has no referrers API: cosign wrote the fallback tag instead.
  expect(
    (await fetch(`${registry.url}/v2/acme/web/referrers/${digest}`, { headers: { Authorization: auth } })).status,
  ).toBe(404);
  const result = await promote(keysOnly(ciKey), digest);
  expect(result.outcome).toBe('promoted');
  expect(result.trust?.signature).toEqual({
    signer: 'ci.pub',
    fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    reference: expect.stringMatching(
      new RegExp(`^acme/web@sha256:[0-9a-f]{64} \\(Sigstore bundle, referrers tag ${digest.replace(':', '-')}\\)$`),
    ),
  });
  expect(deployed(digest)).toHaveLength(1);
});

test('on a registry with the referrers API, bundle referrers are found through it', async () => {
  const withApi = await startReferrersRegistry();
  try {
    const push = async (tag: string) => {
      const digest = await pushImage(withApi.url, 'acme/web', tag, `${tag} ${Date.now()} ${Math.random()}`);
      return { digest, ref: `${withApi.host}/acme/web@${digest}` };
    };
    const signed = await push('api-signed');
    await signBundle(signed.ref, ciKey, dockerConfig);
    // cosign used the API: no fallback tag was written.
    const tags = (await (await fetch(`${withApi.url}/v2/acme/web/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).not.toContain(signed.digest.replace(':', '-'));
    const result = await promote(keysOnly(ciKey), signed.digest, withApi);
    expect(result.outcome).toBe('promoted');
    expect(result.trust?.signature?.reference).toMatch(
      /^acme\/web@sha256:[0-9a-f]{64} \(Sigstore bundle, referrers API\)$/,
    );

    const other = await push('api-other-key');
    await signBundle(other.ref, otherKey, dockerConfig);
    expect(await promote(keysOnly(ciKey), other.digest, withApi)).toMatchObject({
      outcome: 'failed',
      stage: 'verify',
      reason: expect.stringMatching(/^verify failed: no valid signature: the Sigstore bundle .* does not verify/),
    });
    expect(deployed(other.digest)).toHaveLength(0);
  } finally {
    await withApi.stop();
  }
});

test('a Sigstore bundle referrer signed with a key the app does not list: refused', async () => {
  const { digest, ref } = await image('bundle-wrong-key');
  await signBundle(ref, otherKey, dockerConfig);
  const result = await promote(keysOnly(ciKey), digest);
  expect(result).toMatchObject({
    outcome: 'failed',
    stage: 'verify',
    reason: expect.stringMatching(
      /^verify failed: no valid signature: the Sigstore bundle acme\/web@sha256:[0-9a-f]{64} does not verify with the listed keys \(ci\.pub\)$/,
    ),
  });
  expect(deployed(digest)).toHaveLength(0);
});

test('a Sigstore bundle for another digest: refused, whether the referrer or only its signed statement names the other image', async () => {
  const signed = await image('bundle-original');
  await signBundle(signed.ref, ciKey, dockerConfig);
  const auth = (await registry.pushAuth('acme/web'))!;
  const get = async (reference: string, accept: string) =>
    Buffer.from(
      await (
        await fetch(`${registry.url}/v2/acme/web/manifests/${reference}`, {
          headers: { Authorization: auth, Accept: accept },
        })
      ).arrayBuffer(),
    );
  const put = async (reference: string, mediaType: string, body: Buffer) =>
    expect(
      (
        await fetch(`${registry.url}/v2/acme/web/manifests/${reference}`, {
          method: 'PUT',
          headers: { Authorization: auth, 'content-type': mediaType },
          body,
        })
      ).status,
    ).toBe(201);
  const INDEX = 'application/vnd.oci.image.index.v1+json';
  const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
  const index = await get(signed.digest.replace(':', '-'), INDEX);

  // The referrers index copied as is: the referrer's subject is the other image.
  const copied = await image('bundle-copycat');
  await put(copied.digest.replace(':', '-'), INDEX, index);
  expect(await promote(keysOnly(ciKey), copied.digest)).toMatchObject({
    outcome: 'failed',
    reason: expect.stringMatching(
      new RegExp(
        `^verify failed: signature for another digest: the Sigstore bundle acme/web@sha256:[0-9a-f]{64} is for ${signed.digest}, not ${copied.digest}$`,
      ),
    ),
  });

  // The referrer rewritten to name this image: the signed in-toto statement still names the other one.
  const forged = await image('bundle-forged');
  const referrerDigest = (JSON.parse(index.toString()) as { manifests: Array<{ digest: string }> }).manifests[0].digest;
  const referrer = JSON.parse((await get(referrerDigest, MANIFEST)).toString()) as {
    subject: { digest: string; size: number };
  };
  referrer.subject.digest = forged.digest;
  const rewritten = Buffer.from(JSON.stringify(referrer));
  const rewrittenDigest = `sha256:${createHash('sha256').update(rewritten).digest('hex')}`;
  await put(rewrittenDigest, MANIFEST, rewritten);
  await put(
    forged.digest.replace(':', '-'),
    INDEX,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: INDEX,
        manifests: [{ mediaType: MANIFEST, digest: rewrittenDigest, size: rewritten.length }],
      }),
    ),
  );
  expect(await promote(keysOnly(ciKey), forged.digest)).toMatchObject({
    outcome: 'failed',
    reason: `verify failed: signature for another digest: the Sigstore bundle acme/web@${rewrittenDigest} is for ${signed.digest}, not ${forged.digest}`,
  });
  expect([...deployed(copied.digest), ...deployed(forged.digest)]).toHaveLength(0);
});

describe('keyless: identities certified by a CA of the configured trust root (no transparency log here)', () => {
  const ISSUER = 'https://token.actions.githubusercontent.com';
  const WORKFLOW = 'https://github.com/acme/web/.github/workflows/build.yml@refs/heads/main';
  let fulcio: LocalCa;
  let ciSigner: CertifiedSigner;
  let otherSigner: CertifiedSigner;
  let rogueSigner: CertifiedSigner;
  beforeAll(async () => {
    const [ca, rogue] = await Promise.all([createCa(dir, 'local-fulcio'), createCa(dir, 'rogue-ca')]);
    fulcio = ca;
    [ciSigner, otherSigner, rogueSigner] = await Promise.all([
      certify(fulcio, dir, 'keyless-ci', { issuer: ISSUER, subject: WORKFLOW }),
      certify(fulcio, dir, 'keyless-mallory', {
        issuer: ISSUER,
        subject: 'https://github.com/mallory/web/.github/workflows/build.yml@refs/heads/main',
      }),
      certify(rogue, dir, 'keyless-rogue', { issuer: ISSUER, subject: WORKFLOW }),
    ]);
  });
  const identities = (identity: Record<string, string>): VerifySettings => ({
    signatures: { identities: [{ issuer: ISSUER, ...identity }], trustedRoot: fulcio.trustedRoot },
  });
  const noLog =
    'not checked: trust root local-fulcio-trusted_root.json names no transparency log (certificate checked as valid now)';

  test('a Sigstore bundle referrer by the listed identity: promoted, identity in the findings, no log check said plainly', async () => {
    const { digest, ref } = await image('keyless-bundle');
    await signWithCertificate(ref, ciSigner, 'bundle', dockerConfig);
    const result = await promote(identities({ subject: WORKFLOW }), digest);
    expect(result.outcome).toBe('promoted');
    expect(result.trust?.signature).toEqual({
      signer: WORKFLOW,
      fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reference: expect.stringContaining('(Sigstore bundle, referrers tag'),
      identity: { issuer: ISSUER, subject: WORKFLOW, transparencyLog: noLog },
    });
    expect(deployed(digest)).toHaveLength(1);
  });

  test('a .sig signature with its certificate, subject matched by a regular expression: promoted', async () => {
    const { digest, ref } = await image('keyless-sig');
    await signWithCertificate(ref, ciSigner, 'sig', dockerConfig);
    const result = await promote(identities({ subjectRegExp: 'https://github\\.com/acme/web/.*' }), digest);
    expect(result.outcome).toBe('promoted');
    expect(result.trust?.signature).toMatchObject({
      signer: WORKFLOW,
      reference: `acme/web:${digest.replace(':', '-')}.sig`,
      identity: { issuer: ISSUER, subject: WORKFLOW, transparencyLog: noLog },
    });
  });

  test('another identity, even certified by the trusted CA: refused, naming both', async () => {
    const { digest, ref } = await image('keyless-wrong-identity');
    await signWithCertificate(ref, otherSigner, 'bundle', dockerConfig);
    expect(await promote(identities({ subject: WORKFLOW }), digest)).toMatchObject({
      outcome: 'failed',
      stage: 'verify',
      reason: expect.stringMatching(
        new RegExp(
          `^verify failed: no valid signature: the Sigstore bundle acme/web@sha256:[0-9a-f]{64} is keyless and its certificate is for https://github.com/mallory/web/\\S+ issued by ${ISSUER}, not a listed identity \\(${WORKFLOW} from ${ISSUER}\\)$`,
        ),
      ),
    });
    // The issuer must match too.
    const other = await image('keyless-wrong-issuer');
    await signWithCertificate(other.ref, ciSigner, 'sig', dockerConfig);
    const wrongIssuer = {
      signatures: {
        identities: [{ issuer: 'https://accounts.example', subject: WORKFLOW }],
        trustedRoot: fulcio.trustedRoot,
      },
    };
    expect(await promote(wrongIssuer, other.digest)).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining(
        `issued by ${ISSUER}, not a listed identity (${WORKFLOW} from https://accounts.example)`,
      ),
    });
    expect([...deployed(digest), ...deployed(other.digest)]).toHaveLength(0);
  });

  test('the listed identity certified by a CA outside the trust root: refused', async () => {
    const a = await image('keyless-untrusted-bundle');
    const b = await image('keyless-untrusted-sig');
    await signWithCertificate(a.ref, rogueSigner, 'bundle', dockerConfig);
    await signWithCertificate(b.ref, rogueSigner, 'sig', dockerConfig);
    const chainRefused = `certificate (${WORKFLOW}) does not chain to a CA of trust root local-fulcio-trusted_root.json`;
    expect(await promote(identities({ subject: WORKFLOW }), a.digest)).toMatchObject({
      outcome: 'failed',
      stage: 'verify',
      reason: expect.stringContaining(`is keyless and its ${chainRefused}`),
    });
    expect(await promote(identities({ subject: WORKFLOW }), b.digest)).toMatchObject({
      outcome: 'failed',
      stage: 'verify',
      reason: expect.stringContaining(
        `the signature under ${b.digest.replace(':', '-')}.sig is keyless and its ${chainRefused}`,
      ),
    });
    expect([...deployed(a.digest), ...deployed(b.digest)]).toHaveLength(0);
  });

  test("a trust root whose CA's validity has ended: refused", async () => {
    const ended = join(dir, 'ended-trusted_root.json');
    const root = JSON.parse(readFileSync(fulcio.trustedRoot, 'utf8')) as {
      certificateAuthorities: Array<{ validFor: { start: string; end?: string } }>;
    };
    root.certificateAuthorities[0].validFor.end = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(ended, JSON.stringify(root));
    const { digest, ref } = await image('keyless-ended-ca');
    await signWithCertificate(ref, ciSigner, 'bundle', dockerConfig);
    const settings = { signatures: { identities: [{ issuer: ISSUER, subject: WORKFLOW }], trustedRoot: ended } };
    expect(await promote(settings, digest)).toMatchObject({
      outcome: 'failed',
      stage: 'verify',
      reason: expect.stringMatching(
        /^verify failed: no valid signature: the Sigstore bundle \S+ is keyless and no CA of trust root ended-trusted_root\.json is valid now \(its validFor\)$/,
      ),
    });
    expect(deployed(digest)).toHaveLength(0);
  });

  test('identities without a trust root, or with a file that is not one, are refused when the pipeline is read', () => {
    const notARoot = join(dir, 'not-a-root.json');
    writeFileSync(notARoot, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }));
    const load = (signatures: Record<string, unknown>) => () => parseConfig(yaml({ signatures }), 'gantry.yaml', dir);
    const id = [{ issuer: ISSUER, subject: WORKFLOW }];
    expect(load({ identities: id, keys: [ciKey.publicKey] })).toThrow(
      'apps.web.verify.signatures.identities: keyless identities need a trustedRoot: the trusted_root.json whose CAs certify them',
    );
    expect(load({ identities: id, trustedRoot: notARoot })).toThrow(
      `${notARoot} is not a Sigstore trusted_root.json: ${notARoot.replace(/.*\//, '')} names no certificate authority`,
    );
    expect(load({ identities: [{ issuer: ISSUER, subjectRegExp: '(' }], trustedRoot: fulcio.trustedRoot })).toThrow(
      'apps.web.verify.signatures.identities[0].subjectRegExp: Invalid regular expression',
    );
  });

  test('a certified signature whose payload was altered after signing: refused', async () => {
    const { digest, ref } = await image('keyless-tampered');
    await signWithCertificate(ref, ciSigner, 'sig', dockerConfig);
    await rewriteLayer(`${digest.replace(':', '-')}.sig`, (blob) =>
      Buffer.from(JSON.stringify({ ...(JSON.parse(blob.toString()) as object), optional: { note: 'altered' } })),
    );
    expect(await promote(identities({ subject: WORKFLOW }), digest)).toMatchObject({
      outcome: 'failed',
      stage: 'verify',
      reason: `verify failed: no valid signature: the signature under ${digest.replace(':', '-')}.sig is keyless and its signature does not verify with its certificate's key (${WORKFLOW})`,
    });
    expect(deployed(digest)).toHaveLength(0);
  });

  test('unsigned, with only identities listed: refused', async () => {
    const { digest } = await image('keyless-unsigned');
    expect(await promote(identities({ subject: WORKFLOW }), digest)).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('unsigned:'),
    });
    expect(deployed(digest)).toHaveLength(0);
  });
});

/** Rewrites the payload of the DSSE envelope under the digest's .att tag, keeping its signature. */
async function tamperAttestation(digest: string, rewrite: (statement: unknown) => string): Promise<void> {
  await rewriteLayer(`${digest.replace(':', '-')}.att`, (blob) => {
    const envelope = JSON.parse(blob.toString()) as { payload: string };
    envelope.payload = Buffer.from(rewrite(JSON.parse(Buffer.from(envelope.payload, 'base64').toString()))).toString(
      'base64',
    );
    return Buffer.from(JSON.stringify(envelope));
  });
}

/** Replaces the first layer's blob of the manifest under tag, keeping its annotations (the signature). */
async function rewriteLayer(tag: string, rewrite: (blob: Buffer) => Buffer): Promise<void> {
  const auth = (await registry.pushAuth('acme/web'))!;
  const manifest = (await (
    await fetch(`${registry.url}/v2/acme/web/manifests/${tag}`, {
      headers: { Authorization: auth, Accept: 'application/vnd.oci.image.manifest.v1+json' },
    })
  ).json()) as { layers: Array<{ digest: string; size: number }> };
  const layer = manifest.layers[0];
  const original = Buffer.from(
    await (
      await fetch(`${registry.url}/v2/acme/web/blobs/${layer.digest}`, { headers: { Authorization: auth } })
    ).arrayBuffer(),
  );
  const blob = rewrite(original);
  const blobDigest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const start = await fetch(`${registry.url}/v2/acme/web/blobs/uploads/`, {
    method: 'POST',
    headers: { Authorization: auth },
  });
  const location = new URL(start.headers.get('location')!, registry.url);
  location.searchParams.set('digest', blobDigest);
  expect(
    (
      await fetch(location, {
        method: 'PUT',
        headers: { Authorization: auth, 'content-type': 'application/octet-stream' },
        body: blob,
      })
    ).status,
  ).toBe(201);
  Object.assign(layer, { digest: blobDigest, size: blob.length });
  const put = await fetch(`${registry.url}/v2/acme/web/manifests/${tag}`, {
    method: 'PUT',
    headers: { Authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: JSON.stringify(manifest),
  });
  expect(put.status).toBe(201);
}
