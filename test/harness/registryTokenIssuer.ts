// The token half of the registry's `auth: token` mode: a loopback token endpoint that checks user
// names and passwords and signs JWTs (ES256, certificate chain in x5c) with a key whose
// certificate the real docker-registry is given as rootcertbundle. The registry, not this code,
// decides whether a token is valid. JWT signing by `jose`; the certificate by openssl.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SignJWT } from 'jose';

export interface TokenIssuerOptions {
  /** user name → password. */
  users: Record<string, string>;
  /** Repositories anyone may pull without credentials (e.g. public/*): prefix match. */
  publicPrefixes?: string[];
  /** OAuth2 refresh tokens (docker login's identitytoken) → user name, for the POST grant. */
  refreshTokens?: Record<string, string>;
}

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  certificateFile: string;
  /** Every token request, for asserting what the client asked for. */
  requests: Array<{ user?: string; scope?: string; method: string; granted: Access[] }>;
  mint(subject: string, access: Access[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startTokenIssuer(dir: string, options: TokenIssuerOptions): Promise<TokenIssuer> {
  const keyFile = join(dir, 'issuer-key.pem');
  const certificateFile = join(dir, 'issuer.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certificateFile,
      '-days',
      '2',
      '-subj',
      '/CN=gantry-test-token-issuer',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certificateFile)).raw.toString('base64');
  const service = 'gantry-test-registry';
  const issuer = 'gantry-test-issuer';
  const requests: TokenIssuer['requests'] = [];

  const mint = (subject: string, access: Access[]) =>
    new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [certDer] })
      .setIssuer(issuer)
      .setSubject(subject)
      .setAudience(service)
      .setIssuedAt()
      .setNotBefore('-10s')
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(key);

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST') {
        // The OAuth2 form: grant_type=refresh_token, refresh_token, scope, service.
        let body = '';
        for await (const chunk of req) body += String(chunk);
        const form = new URLSearchParams(body);
        const owner =
          form.get('grant_type') === 'refresh_token'
            ? options.refreshTokens?.[form.get('refresh_token') ?? '']
            : undefined;
        if (!owner) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end(JSON.stringify({ details: 'invalid refresh token' }));
          return;
        }
        for (const scope of form.getAll('scope')) url.searchParams.append('scope', scope);
        req.headers.authorization = `Basic ${Buffer.from(`${owner}:${options.users[owner]}`).toString('base64')}`;
      }
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      let user: string | undefined;
      if (basic) {
        const [name, ...rest] = Buffer.from(basic[1], 'base64').toString().split(':');
        if (options.users[name] !== rest.join(':')) {
          res
            .writeHead(401, { 'content-type': 'application/json' })
            .end(JSON.stringify({ details: 'incorrect username or password' }));
          requests.push({
            user: name,
            scope: url.searchParams.get('scope') ?? undefined,
            method: req.method ?? 'GET',
            granted: [],
          });
          return;
        }
        user = name;
      }
      const granted: Access[] = [];
      for (const scope of url.searchParams.getAll('scope')) {
        const [type, name, actions] = scope.split(':');
        const allowed = user
          ? actions.split(',')
          : (options.publicPrefixes ?? []).some((p) => name.startsWith(p))
            ? actions.split(',').filter((a) => a === 'pull')
            : [];
        if (type === 'repository' && allowed.length > 0) granted.push({ type, name, actions: allowed });
      }
      requests.push({ user, scope: url.searchParams.get('scope') ?? undefined, method: req.method ?? 'GET', granted });
      // Like the big registries: a token is issued even when it grants nothing; the registry then refuses.
      const token = await mint(user ?? '', granted);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificateFile,
    requests,
    mint,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
