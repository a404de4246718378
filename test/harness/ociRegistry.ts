// A real OCI distribution registry (Debian's docker-registry) on loopback, and a push of a tiny
// image through the distribution API, so artifact verification is tested against the real thing.
// The registry runs open, with htpasswd basic auth, or with token auth: then the registry itself
// checks the JWTs that the harness's token issuer signs (registryTokenIssuer.ts).
import { hashSync } from 'bcryptjs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/local/freePort';
import { startTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from './registryTokenIssuer';

const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface Registry {
  url: string;
  /** host:port, as image references and Docker config keys name it. */
  host: string;
  /** The registry's storage root (filesystem driver). */
  dataDir: string;
  /** Set in token mode: the issuer the registry trusts. */
  issuer?: TokenIssuer;
  /** An Authorization header that may push to a repository (undefined for an open registry). */
  pushAuth(repository: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export type RegistryAuth =
  { kind: 'none' } | { kind: 'htpasswd'; users: Record<string, string> } | ({ kind: 'token' } & TokenIssuerOptions);

export async function startRegistry(auth: RegistryAuth = { kind: 'none' }): Promise<Registry> {
  if (!existsSync(REGISTRY_BIN))
    throw new Error(`${REGISTRY_BIN} is missing: run \`npm run setup\` (installs Debian's docker-registry)`);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  let authYaml = '';
  let issuer: TokenIssuer | undefined;
  let pushAuth: Registry['pushAuth'] = () => Promise.resolve(undefined);
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    writeFileSync(
      file,
      Object.entries(auth.users)
        .map(([u, p]) => `${u}:${hashSync(p, 5)}\n`)
        .join(''),
    );
    authYaml = `auth:\n  htpasswd:\n    realm: gantry-test\n    path: ${file}\n`;
    const [user, password] = Object.entries(auth.users)[0];
    pushAuth = () => Promise.resolve(`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
  } else if (auth.kind === 'token') {
    issuer = await startTokenIssuer(dir, auth);
    authYaml = `auth:\n  token:\n    realm: ${issuer.realm}\n    service: ${issuer.service}\n    issuer: ${issuer.issuer}\n    rootcertbundle: ${issuer.certificateFile}\n`;
    const minted = issuer;
    pushAuth = async (repository) =>
      `Bearer ${await minted.mint('harness', [{ type: 'repository', name: repository, actions: ['pull', 'push'] }])}`;
  }
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      // Any answer (200 open, 401 with auth) means it is serving.
      await fetch(`${url}/v2/`);
      break;
    } catch {
      if (i > 100) throw new Error(`docker-registry did not start on ${url}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    dataDir: join(dir, 'data'),
    issuer,
    pushAuth,
    stop: async () => {
      await issuer?.stop();
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

/** Pushes a one-layer OCI image; returns its manifest digest (what CI would promote). */
export async function pushImage(
  registry: Registry | string,
  repository: string,
  tag: string,
  content: string,
): Promise<string> {
  const registryUrl = typeof registry === 'string' ? registry : registry.url;
  const authorization = typeof registry === 'string' ? undefined : await registry.pushAuth(repository);
  const auth: Record<string, string> = authorization ? { Authorization: authorization } : {};
  const layer = Buffer.from(content);
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }),
  );
  await pushBlob(registryUrl, repository, layer, auth);
  await pushBlob(registryUrl, repository, config, auth);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    }),
  );
  return pushManifest(registryUrl, repository, tag, manifest, 'application/vnd.oci.image.manifest.v1+json', auth);
}

/** Pushes an image index over the given image manifests (a multi-platform image). */
export async function pushIndex(
  registry: Registry,
  repository: string,
  tag: string,
  manifests: string[],
): Promise<string> {
  const authorization = await registry.pushAuth(repository);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: await Promise.all(
        manifests.map(async (digest, i) => {
          const res = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
            method: 'HEAD',
            headers: {
              Accept: 'application/vnd.oci.image.manifest.v1+json',
              ...(authorization ? { Authorization: authorization } : {}),
            },
          });
          return {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest,
            size: Number(res.headers.get('content-length')),
            platform: { architecture: ['amd64', 'arm64'][i % 2], os: 'linux' },
          };
        }),
      ),
    }),
  );
  return pushManifest(
    registry.url,
    repository,
    tag,
    index,
    'application/vnd.oci.image.index.v1+json',
    authorization ? { Authorization: authorization } : {},
  );
}

async function pushManifest(
  registryUrl: string,
  repository: string,
  tag: string,
  manifest: Buffer,
  mediaType: string,
  auth: Record<string, string>,
): Promise<string> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType, ...auth },
    body: manifest,
  });
  if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return sha256(manifest);
}

async function pushBlob(
  registryUrl: string,
  repository: string,
  blob: Buffer,
  auth: Record<string, string>,
): Promise<void> {
  const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: auth });
  if (start.status !== 202) throw new Error(`blob upload failed to start: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, registryUrl);
  location.searchParams.set('digest', sha256(blob));
  const put = await fetch(location, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', ...auth },
    body: blob,
  });
  if (put.status !== 201) throw new Error(`blob upload failed: ${put.status} ${await put.text()}`);
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
