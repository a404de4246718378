// Temporal's remote codec protocol (POST /encode, POST /decode with {"payloads": [...]}, proto3
// JSON: metadata values and data in base64) over Gantry's encryption codec, so the Temporal UI
// (--ui-codec-endpoint) and `temporal workflow show --codec-endpoint` show decoded history to those
// holding the bearer token. Without the token a request decodes nothing (401).
import type { Payload } from '@temporalio/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CodecKeyring } from './codecKeys';
import { EncryptionCodec } from './encryptionCodec';

export interface CodecServerOptions {
  keys: CodecKeyring;
  /** The bearer token every /encode and /decode request must carry. */
  token: string;
  /** Browser origins allowed to call it (the Temporal UI's, e.g. http://localhost:8233). */
  corsOrigins: string[];
  host?: string;
  port?: number;
}

export interface CodecServer {
  url: string;
  close(): Promise<void>;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const codec = new EncryptionCodec(options.keys);
  const tokenHash = sha256(options.token);
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { message: (err as Error).message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!options.corsOrigins.includes(origin)) return reply(res, 403, { message: `origin ${origin} is not allowed` });
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return;
    }
    const operation = /\/(encode|decode)$/.exec(new URL(req.url ?? '/', 'http://codec').pathname)?.[1];
    if (!operation) return reply(res, 404, { message: 'POST /encode or /decode' });
    if (req.method !== 'POST') return reply(res, 405, { message: `${req.method} not allowed; POST /${operation}` });
    if (!authorised(req.headers.authorization, tokenHash)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return reply(res, 401, { message: 'a bearer token is required (Authorization: Bearer <token>)' });
    }
    let payloads: Payload[];
    try {
      payloads = fromJson(JSON.parse(await readBody(req)) as unknown);
    } catch (err) {
      return reply(res, 400, { message: `body must be {"payloads": [...]}: ${(err as Error).message}` });
    }
    try {
      const out = operation === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      reply(res, 200, { payloads: out.map(toJson) });
    } catch (err) {
      reply(res, 400, { message: (err as Error).message });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function authorised(header: string | undefined, tokenHash: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  // Compared as hashes so the comparison takes the same time whatever was sent.
  return match !== null && timingSafeEqual(sha256(match[1]), tokenHash);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function fromJson(body: unknown): Payload[] {
  if (typeof body !== 'object' || body === null) throw new Error('not a JSON object');
  // proto3 JSON leaves an empty list out: {} is no payloads (an update with no arguments, say).
  const list = (body as { payloads?: unknown }).payloads ?? [];
  if (!Array.isArray(list)) throw new Error('"payloads" is not an array');
  return list.map((p: JsonPayload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
