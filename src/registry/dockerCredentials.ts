// Finds credentials for a registry host the way docker and other OCI clients do, on the worker
// (never in workflow input): GANTRY_REGISTRY_* environment variables first, then the Docker config
// file ($DOCKER_CONFIG/config.json or ~/.docker/config.json): credHelpers, credsStore, auths.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type RegistryCredentials =
  | { kind: 'basic'; username: string; password: string; source: string }
  /** An OAuth2 refresh token (docker login's identitytoken): exchanged at the token realm. */
  | { kind: 'identity-token'; token: string; source: string }
  /** A ready bearer token sent as it is. */
  | { kind: 'bearer'; token: string; source: string };

interface DockerConfig {
  auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }
  >;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

const HELPER_TIMEOUT_MS = 15_000;

/** ghcr.io, 127.0.0.1:5000, index.docker.io: the key docker uses for a registry URL. */
export function registryHost(url: string): string {
  const host = url
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]
    .toLowerCase();
  // Docker Hub is stored under its v1 index name whatever address was used.
  return host === 'docker.io' || host === 'registry-1.docker.io' ? 'index.docker.io' : host;
}

export async function findCredentials(
  registryUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredentials | undefined> {
  if (env.GANTRY_REGISTRY_TOKEN)
    return { kind: 'bearer', token: env.GANTRY_REGISTRY_TOKEN, source: 'GANTRY_REGISTRY_TOKEN' };
  if (env.GANTRY_REGISTRY_USERNAME && env.GANTRY_REGISTRY_PASSWORD) {
    return {
      kind: 'basic',
      username: env.GANTRY_REGISTRY_USERNAME,
      password: env.GANTRY_REGISTRY_PASSWORD,
      source: 'GANTRY_REGISTRY_USERNAME/PASSWORD',
    };
  }
  const file = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let config: DockerConfig;
  try {
    config = JSON.parse(await readFile(file, 'utf8')) as DockerConfig;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read Docker config ${file}: ${(err as Error).message}`);
  }
  const host = registryHost(registryUrl);
  const helper =
    config.credHelpers?.[host] ??
    (config.credHelpers ? Object.entries(config.credHelpers).find(([k]) => registryHost(k) === host)?.[1] : undefined);
  if (helper) return fromHelper(helper, host, env);
  const entry = Object.entries(config.auths ?? {}).find(([k]) => registryHost(k) === host)?.[1];
  if (entry) {
    if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken, source: `${file} auths` };
    if (entry.registrytoken) return { kind: 'bearer', token: entry.registrytoken, source: `${file} auths` };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error(`${file}: auths["${host}"].auth is not base64 of user:password`);
      return {
        kind: 'basic',
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        source: `${file} auths`,
      };
    }
    if (entry.username && entry.password)
      return { kind: 'basic', username: entry.username, password: entry.password, source: `${file} auths` };
  }
  // A global store (docker login on a desktop) knows hosts the file does not list.
  if (config.credsStore) return fromHelper(config.credsStore, host, env, true);
  return undefined;
}

/** Runs docker-credential-<name> get (the docker credential helper protocol: host on stdin, JSON out). */
function fromHelper(
  name: string,
  host: string,
  env: NodeJS.ProcessEnv,
  optional = false,
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = execFile(program, ['get'], { env, timeout: HELPER_TIMEOUT_MS }, (err, stdout) => {
      if (err) {
        // The protocol's answer for a host it has nothing for.
        if (/credentials not found/i.test(stdout) || optional) return resolve(undefined);
        return reject(
          new Error(
            `credential helper ${program} failed for ${host}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not on PATH' : stdout.trim() || err.message}`,
          ),
        );
      }
      try {
        const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!answer.Secret) return resolve(undefined);
        // "<token>" as the user name marks an identity token (docker's convention).
        resolve(
          answer.Username === '<token>'
            ? { kind: 'identity-token', token: answer.Secret, source: program }
            : { kind: 'basic', username: answer.Username ?? '', password: answer.Secret, source: program },
        );
      } catch {
        reject(new Error(`credential helper ${program} answered something that is not JSON`));
      }
    });
    child.stdin?.end(host);
  });
}
