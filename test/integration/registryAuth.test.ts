// Artifact verification against the real docker-registry in its auth modes, as a worker meets
// registries in the wild: htpasswd basic auth, and token auth where the registry checks the JWTs
// itself (anonymous tokens for public repositories, like ghcr.io and Docker Hub; credentials from
// the Docker config file, a credential helper, an identity token, or the environment); and behind
// an HAProxy edge that rate limits (429, Retry-After) and redirects.
import { ApplicationFailure } from '@temporalio/common';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyArtifact } from '../../activities/verifyArtifact';
import { freePort } from '../../src/local/freePort';
import { pushImage, pushIndex, startRegistry, type Registry } from '../harness/ociRegistry';
import { startRegistryFront, type RegistryFront } from '../harness/registryFront';
import { testDigest } from '../harness/pipelineFile';

let basicRegistry: Registry;
let tokenRegistry: Registry;
const savedEnv = { ...process.env };
const home = mkdtempSync(join(tmpdir(), 'gantry-docker-config-'));

beforeAll(async () => {
  [basicRegistry, tokenRegistry] = await Promise.all([
    startRegistry({ kind: 'htpasswd', users: { ci: 'basic-s3cret' } }),
    startRegistry({
      kind: 'token',
      users: { ci: 'token-s3cret' },
      publicPrefixes: ['public/'],
      refreshTokens: { 'refresh-abc': 'ci' },
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([basicRegistry?.stop(), tokenRegistry?.stop()]);
});
beforeEach(() => {
  // Each test configures the worker's environment afresh: no credentials unless it writes some.
  process.env = { ...savedEnv, DOCKER_CONFIG: join(home, `empty-${Date.now()}`) };
  delete process.env.GANTRY_REGISTRY_USERNAME;
  delete process.env.GANTRY_REGISTRY_PASSWORD;
  delete process.env.GANTRY_REGISTRY_TOKEN;
});
afterAll(() => {
  process.env = savedEnv;
});

function dockerConfig(config: object): void {
  const dir = mkdtempSync(join(home, 'cfg-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  process.env.DOCKER_CONFIG = dir;
}

const ref = (r: Registry, repository: string, digest: string) => ({
  app: 'web',
  digest,
  image: `${r.host}/${repository}`,
  registry: { url: r.url, repository },
});

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('htpasswd (basic auth)', () => {
  test('without credentials: unauthorised, naming the scope and where credentials go', async () => {
    const digest = await pushImage(basicRegistry, 'acme/web', 'v1', `basic ${Date.now()}`);
    const err = await failure(verifyArtifact(ref(basicRegistry, 'acme/web', digest)));
    expect(err.message).toBe(
      `unauthorised: ${basicRegistry.url} needs a user name and password for repository:acme/web:pull and none is configured (Docker config or GANTRY_REGISTRY_USERNAME/PASSWORD)`,
    );
    expect(err).toMatchObject({ type: 'ArtifactUnauthorised', nonRetryable: true });
  });

  test('with auths in the Docker config file: verified', async () => {
    const digest = await pushImage(basicRegistry, 'acme/web', 'v2', `basic ${Date.now()}`);
    dockerConfig({ auths: { [basicRegistry.host]: { auth: Buffer.from('ci:basic-s3cret').toString('base64') } } });
    await expect(verifyArtifact(ref(basicRegistry, 'acme/web', digest))).resolves.toEqual({
      checked: 'registry',
      detail: `acme/web@${digest} exists in ${basicRegistry.url} (image)`,
    });
  });

  test('with a wrong password: unauthorised, saying whose credentials were refused', async () => {
    const digest = await pushImage(basicRegistry, 'acme/web', 'v3', `basic ${Date.now()}`);
    dockerConfig({ auths: { [`http://${basicRegistry.host}`]: { auth: Buffer.from('ci:wrong').toString('base64') } } });
    const err = await failure(verifyArtifact(ref(basicRegistry, 'acme/web', digest)));
    expect(err.message).toBe(
      `unauthorised: ${basicRegistry.url} refused user "ci" from ${process.env.DOCKER_CONFIG}/config.json auths for repository:acme/web:pull (401 after authenticating)`,
    );
  });

  test('with GANTRY_REGISTRY_USERNAME/PASSWORD: verified', async () => {
    const digest = await pushImage(basicRegistry, 'acme/web', 'v4', `basic ${Date.now()}`);
    Object.assign(process.env, { GANTRY_REGISTRY_USERNAME: 'ci', GANTRY_REGISTRY_PASSWORD: 'basic-s3cret' });
    await expect(verifyArtifact(ref(basicRegistry, 'acme/web', digest))).resolves.toMatchObject({
      checked: 'registry',
    });
  });
});

describe('token auth (the registry verifies the issuer-signed JWTs)', () => {
  test('a public repository: an anonymous token from the realm, as on ghcr.io and Docker Hub', async () => {
    const digest = await pushImage(tokenRegistry, 'public/web', 'v1', `public ${Date.now()}`);
    const before = tokenRegistry.issuer!.requests.length;
    await expect(verifyArtifact(ref(tokenRegistry, 'public/web', digest))).resolves.toEqual({
      checked: 'registry',
      detail: `public/web@${digest} exists in ${tokenRegistry.url} (image)`,
    });
    expect(tokenRegistry.issuer!.requests.slice(before)).toEqual([
      {
        user: undefined,
        scope: 'repository:public/web:pull',
        method: 'GET',
        granted: [{ type: 'repository', name: 'public/web', actions: ['pull'] }],
      },
    ]);
  });

  test('a private repository, anonymously: unauthorised for repository:<name>:pull', async () => {
    const digest = await pushImage(tokenRegistry, 'acme/web', 'v1', `private ${Date.now()}`);
    const err = await failure(verifyArtifact(ref(tokenRegistry, 'acme/web', digest)));
    expect(err.message).toBe(
      `unauthorised: ${tokenRegistry.url} refused anonymous access for repository:acme/web:pull (401 after authenticating)`,
    );
    expect(err.details).toEqual([{ scope: 'repository:acme/web:pull' }]);
  });

  test('basic credentials from a credential helper are exchanged for a token', async () => {
    const digest = await pushImage(tokenRegistry, 'acme/web', 'v2', `private ${Date.now()}`);
    // A credential helper speaks docker's protocol: `get`, the host on stdin, JSON on stdout.
    const bin = mkdtempSync(join(home, 'bin-'));
    const helper = join(bin, 'docker-credential-gantrytest');
    writeFileSync(
      helper,
      `#!/bin/sh\nread host\n[ "$host" = "${tokenRegistry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"'$host'","Username":"ci","Secret":"token-s3cret"}'\n`,
    );
    chmodSync(helper, 0o755);
    process.env.PATH = `${bin}:${savedEnv.PATH}`;
    dockerConfig({ credHelpers: { [tokenRegistry.host]: 'gantrytest' } });
    const before = tokenRegistry.issuer!.requests.length;
    await expect(verifyArtifact(ref(tokenRegistry, 'acme/web', digest))).resolves.toMatchObject({
      checked: 'registry',
    });
    expect(tokenRegistry.issuer!.requests.slice(before)).toMatchObject([
      { user: 'ci', scope: 'repository:acme/web:pull', granted: [{ name: 'acme/web', actions: ['pull'] }] },
    ]);
  });

  test('an identity token (docker login with OAuth) is exchanged with the refresh-token grant', async () => {
    const digest = await pushImage(tokenRegistry, 'acme/web', 'v3', `private ${Date.now()}`);
    dockerConfig({ auths: { [tokenRegistry.host]: { identitytoken: 'refresh-abc' } } });
    const before = tokenRegistry.issuer!.requests.length;
    await expect(verifyArtifact(ref(tokenRegistry, 'acme/web', digest))).resolves.toMatchObject({
      checked: 'registry',
    });
    expect(tokenRegistry.issuer!.requests.slice(before)).toMatchObject([{ user: 'ci', method: 'POST' }]);
  });

  test('a wrong password is refused by the token service, and the message says so', async () => {
    const digest = await pushImage(tokenRegistry, 'acme/web', 'v4', `private ${Date.now()}`);
    Object.assign(process.env, { GANTRY_REGISTRY_USERNAME: 'ci', GANTRY_REGISTRY_PASSWORD: 'nope' });
    const err = await failure(verifyArtifact(ref(tokenRegistry, 'acme/web', digest)));
    expect(err.message).toBe(
      `unauthorised: token service ${tokenRegistry.issuer!.realm} refused user "ci" from GANTRY_REGISTRY_USERNAME/PASSWORD for repository:acme/web:pull (401)`,
    );
  });

  test('a multi-platform image index is verified as one', async () => {
    Object.assign(process.env, { GANTRY_REGISTRY_USERNAME: 'ci', GANTRY_REGISTRY_PASSWORD: 'token-s3cret' });
    const amd = await pushImage(tokenRegistry, 'acme/multi', 'amd64', `amd64 ${Date.now()}`);
    const arm = await pushImage(tokenRegistry, 'acme/multi', 'arm64', `arm64 ${Date.now()}`);
    const index = await pushIndex(tokenRegistry, 'acme/multi', 'v1', [amd, arm]);
    await expect(verifyArtifact(ref(tokenRegistry, 'acme/multi', index))).resolves.toEqual({
      checked: 'registry',
      detail: `acme/multi@${index} exists in ${tokenRegistry.url} (image index)`,
    });
  });

  test('a digest the registry does not have: not found, not retried', async () => {
    Object.assign(process.env, { GANTRY_REGISTRY_USERNAME: 'ci', GANTRY_REGISTRY_PASSWORD: 'token-s3cret' });
    const digest = testDigest();
    const err = await failure(verifyArtifact(ref(tokenRegistry, 'acme/web', digest)));
    expect(err).toMatchObject({
      message: `not found: acme/web@${digest} is not in registry ${tokenRegistry.url}`,
      type: 'ArtifactInvalid',
      nonRetryable: true,
    });
  });
});

test('a registry whose stored manifest was altered: digest mismatch', async () => {
  const registry = await startRegistry();
  try {
    const digest = await pushImage(registry, 'acme/web', 'v1', `tamper ${Date.now()}`);
    // The registry keeps manifests as blobs on disk; change the bytes behind the digest.
    const blobDir = join(registry.dataDir, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7));
    expect(readdirSync(blobDir)).toEqual(['data']);
    writeFileSync(
      join(blobDir, 'data'),
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
    );
    const err = await failure(verifyArtifact(ref(registry, 'acme/web', digest)));
    expect(err.message).toMatch(
      new RegExp(
        `^digest mismatch: ${registry.url} served a manifest with digest sha256:[0-9a-f]{64} for acme/web@${digest}$`,
      ),
    );
    expect(err.nonRetryable).toBe(true);
  } finally {
    await registry.stop();
  }
});

test('a registry nobody listens on: unreachable, and retried by the activity policy', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const digest = testDigest();
  const err = await failure(
    verifyArtifact({ app: 'web', digest, image: 'x/web', registry: { url, repository: 'acme/web' } }),
  );
  expect(err).toMatchObject({
    message: `unreachable: registry ${url} unreachable: ECONNREFUSED`,
    type: 'RegistryUnavailable',
    nonRetryable: false,
  });
});

describe('behind a registry edge (HAProxy): rate limits and redirects', () => {
  let open: Registry;
  let front: RegistryFront;
  beforeAll(async () => {
    open = await startRegistry();
    front = await startRegistryFront(open.url);
  });
  afterAll(async () => {
    await front?.stop();
    await open?.stop();
  });
  const viaFront = (repository: string, digest: string) => ({
    app: 'web',
    digest,
    image: `x/${repository}`,
    registry: { url: front.url, repository },
  });

  test('a 429 with Retry-After is waited out, then verified', async () => {
    const digest = await pushImage(open, 'limited/web', 'v1', `limited ${Date.now()}`);
    const started = Date.now();
    await expect(verifyArtifact(viaFront('limited/web', digest))).resolves.toEqual({
      checked: 'registry',
      detail: `limited/web@${digest} exists in ${front.url} (image)`,
    });
    // It waited the second it was told to (and not much more).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a Retry-After longer than Gantry waits in one call: rate limited, left to the activity retries', async () => {
    const digest = await pushImage(open, 'throttled/web', 'v1', `throttled ${Date.now()}`);
    const started = Date.now();
    const err = await failure(verifyArtifact(viaFront('throttled/web', digest)));
    expect(err).toMatchObject({
      message: `rate limited: registry ${front.url} is rate limiting (429, retry after 120s)`,
      type: 'RegistryUnavailable',
      nonRetryable: false,
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('a redirect to another host is followed, and the digest still checked', async () => {
    const digest = await pushImage(open, 'moved/web', 'v1', `moved ${Date.now()}`);
    await expect(verifyArtifact(viaFront('moved/web', digest))).resolves.toMatchObject({ checked: 'registry' });
    const err = await failure(verifyArtifact(viaFront('moved/web', testDigest())));
    expect(err.message).toMatch(/^not found: moved\/web@sha256:[0-9a-f]{64} is not in registry /);
  });
});

test('many verifications at once against token auth: each gets its token and its answer', async () => {
  Object.assign(process.env, { GANTRY_REGISTRY_USERNAME: 'ci', GANTRY_REGISTRY_PASSWORD: 'token-s3cret' });
  const digests = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      pushImage(tokenRegistry, `acme/app${i}`, 'v1', `concurrent ${i} ${Date.now()}`),
    ),
  );
  const missing = testDigest();
  const results = await Promise.allSettled([
    ...digests.map((d, i) => verifyArtifact(ref(tokenRegistry, `acme/app${i}`, d))),
    verifyArtifact(ref(tokenRegistry, 'acme/app0', missing)),
  ]);
  expect(results.slice(0, 8).map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
  expect(results[8]).toMatchObject({
    status: 'rejected',
    reason: { message: `not found: acme/app0@${missing} is not in registry ${tokenRegistry.url}` },
  });
});
