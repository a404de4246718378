// A client for the OCI distribution API as registries actually run it: the 401 challenge and
// its bearer token from the realm (anonymous, or with basic credentials or an identity token),
// plain basic auth, redirects to blob storage, and 429 with Retry-After. Every failure is a
// RegistryError that says which of: unreachable, unauthorised (for which scope), not found,
// digest mismatch, rate limited.
import { createHash } from 'node:crypto';
import { parseAuthChallenge } from './authChallenge';
import { findCredentials, type RegistryCredentials } from './dockerCredentials';
import { MANIFEST_ACCEPT } from './manifestMediaTypes';
import { RegistryError } from './registryError';

export interface RegistryClientOptions {
  /** Given: use these (null: anonymous). Absent: look them up (environment, Docker config). */
  credentials?: RegistryCredentials | null;
  requestTimeoutMs?: number;
  /** The longest Retry-After honoured; a registry asking for more fails the call as rate limited. */
  maxRetryAfterMs?: number;
  rateLimitRetries?: number;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

export class RegistryClient {
  private readonly base: string;
  private credentials?: Promise<RegistryCredentials | undefined>;
  /** Bearer tokens by scope; basic auth once a registry has asked for it. */
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    url: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  /** GET of a manifest; by digest, the bytes are checked against it. Undefined when not found. */
  async getManifest(repository: string, reference: string, accept = MANIFEST_ACCEPT): Promise<Manifest | undefined> {
    const res = await this.request(repository, `manifests/${reference}`, { method: 'GET', accept });
    if (res.status === 404) return undefined;
    await this.expectOk(res, repository, `manifest ${reference}`);
    const body = Buffer.from(await res.arrayBuffer());
    const digest = sha256(body);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new RegistryError(
        'digest-mismatch',
        `${this.base} served a manifest with digest ${digest} for ${repository}@${reference}`,
      );
    }
    return { digest, mediaType: res.headers.get('content-type') ?? '', body };
  }

  /** GET of a blob (following the registry's redirect to storage), checked against its digest. */
  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.request(repository, `blobs/${digest}`, { method: 'GET', accept: '*/*' });
    if (res.status === 404)
      throw new RegistryError('not-found', `${repository}@${digest}: blob not found in ${this.base}`);
    await this.expectOk(res, repository, `blob ${digest}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (sha256(body) !== digest)
      throw new RegistryError(
        'digest-mismatch',
        `${this.base} served blob ${sha256(body)} for ${repository}@${digest}`,
      );
    return body;
  }

  /** One API request with authentication and rate limits handled; 404 is returned to the caller. */
  async request(repository: string, path: string, init: { method: string; accept: string }): Promise<Response> {
    const scope = `repository:${repository}:pull`;
    const url = `${this.base}/v2/${repository}/${path}`;
    let res = await this.send(url, init, scope);
    if (res.status === 401) {
      await this.authenticate(res, scope);
      res = await this.send(url, init, scope);
      if (res.status === 401)
        throw new RegistryError(
          'unauthorised',
          `${this.base} refused ${await this.who()} for ${scope} (401 after authenticating)`,
          scope,
        );
    }
    if (res.status === 403)
      throw new RegistryError(
        'unauthorised',
        `${this.base} denied ${await this.who()} access to ${scope} (403)`,
        scope,
      );
    return res;
  }

  private async send(url: string, init: { method: string; accept: string }, scope: string): Promise<Response> {
    const retries = this.options.rateLimitRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { Accept: init.accept };
      const auth = await this.authorization(scope);
      if (auth) headers.Authorization = auth;
      let res: Response;
      try {
        // fetch follows redirects and drops Authorization when one leaves the registry's origin (blob storage).
        res = await fetch(url, {
          method: init.method,
          headers,
          redirect: 'follow',
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
        });
      } catch (err) {
        const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
        throw new RegistryError(
          'unreachable',
          `registry ${this.base} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        );
      }
      if (res.status !== 429) return res;
      const waitMs = retryAfterMs(res.headers.get('retry-after'));
      await res.body?.cancel();
      if (attempt >= retries || waitMs > (this.options.maxRetryAfterMs ?? 30_000)) {
        throw new RegistryError(
          'rate-limited',
          `registry ${this.base} is rate limiting (429, retry after ${Math.round(waitMs / 1000)}s)`,
          scope,
        );
      }
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  private async authorization(scope: string): Promise<string | undefined> {
    const token = this.tokens.get(scope);
    if (token) return `Bearer ${token}`;
    const creds = await this.creds();
    if (this.basic && creds?.kind === 'basic')
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    return undefined;
  }

  /** Answers a 401 challenge: fetches a bearer token from the realm, or switches to basic auth. */
  private async authenticate(res: Response, scope: string): Promise<void> {
    await res.body?.cancel();
    const header = res.headers.get('www-authenticate') ?? '';
    const challenge = parseAuthChallenge(header);
    const creds = await this.creds();
    if (challenge?.scheme === 'basic') {
      if (creds?.kind !== 'basic')
        throw new RegistryError(
          'unauthorised',
          `${this.base} needs a user name and password for ${scope} and none is configured (Docker config or GANTRY_REGISTRY_USERNAME/PASSWORD)`,
          scope,
        );
      if (this.basic)
        throw new RegistryError(
          'unauthorised',
          `${this.base} refused the credentials from ${creds.source} for ${scope}`,
          scope,
        );
      this.basic = true;
      return;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new RegistryError(
        'unauthorised',
        `${this.base} answered 401 for ${scope} with a challenge gantry does not understand: ${header || '(none)'}`,
        scope,
      );
    }
    if (creds?.kind === 'bearer') {
      if (this.tokens.get(scope) === creds.token)
        throw new RegistryError(
          'unauthorised',
          `${this.base} refused the bearer token from ${creds.source} for ${scope}`,
          scope,
        );
      this.tokens.set(scope, creds.token);
      return;
    }
    this.tokens.set(scope, await this.fetchToken(challenge.params, scope, creds));
  }

  private async fetchToken(
    params: Record<string, string>,
    scope: string,
    creds: RegistryCredentials | undefined,
  ): Promise<string> {
    const realm = new URL(params.realm);
    let res: Response;
    try {
      if (creds?.kind === 'identity-token') {
        // OAuth2 refresh-token grant, as docker does with an identity token.
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: creds.token,
          service: params.service ?? '',
          scope,
          client_id: 'gantry',
        });
        res = await fetch(realm, {
          method: 'POST',
          body: form,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
        });
      } else {
        if (params.service) realm.searchParams.set('service', params.service);
        realm.searchParams.set('scope', scope);
        const headers: Record<string, string> = {};
        if (creds?.kind === 'basic')
          headers.Authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
        res = await fetch(realm, { headers, signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000) });
      }
    } catch (err) {
      throw new RegistryError(
        'unreachable',
        `token service ${realm.origin}${realm.pathname} unreachable: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        'unauthorised',
        `token service ${realm.origin}${realm.pathname} refused ${await this.who()} for ${scope} (${res.status})`,
        scope,
      );
    }
    if (!res.ok)
      throw new RegistryError(
        'unexpected',
        `token service ${realm.origin}${realm.pathname} answered ${res.status} for ${scope}`,
        scope,
      );
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw new RegistryError(
        'unexpected',
        `token service ${realm.origin}${realm.pathname} answered without a token`,
        scope,
      );
    return token;
  }

  private creds(): Promise<RegistryCredentials | undefined> {
    if (this.options.credentials !== undefined) return Promise.resolve(this.options.credentials ?? undefined);
    return (this.credentials ??= findCredentials(this.base));
  }

  private async who(): Promise<string> {
    const c = await this.creds();
    return c ? `${c.kind === 'basic' ? `user "${c.username}"` : c.kind} from ${c.source}` : 'anonymous access';
  }

  private async expectOk(res: Response, repository: string, what: string): Promise<void> {
    if (res.ok) return;
    const text = (await res.text().catch(() => '')).slice(0, 300);
    throw new RegistryError(
      'unexpected',
      `registry ${this.base} answered ${res.status} for ${repository} ${what}${text ? `: ${text}` : ''}`,
    );
  }
}

/** Retry-After is seconds or an HTTP date; absent, a second. */
function retryAfterMs(value: string | null): number {
  if (!value) return 1000;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - Date.now());
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
