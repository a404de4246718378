// gantry codec-server: Temporal's /encode and /decode endpoints over Gantry's payload keys, for the
// Temporal UI (--ui-codec-endpoint) and `temporal --codec-endpoint ... --codec-auth "Bearer <token>"`.
// The token comes from $GANTRY_CODEC_SERVER_TOKEN or --token-file, never from the command line.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { codecKeysFromEnv, CodecKeyError, CODEC_KEYS_ENV, CODEC_KEYS_FILE_ENV } from '../../codec/codecKeys';
import { CliError, EXIT } from '../exitCodes';

interface CodecServerOptions {
  port: number;
  host: string;
  uiOrigin: string[];
  tokenFile?: string;
}

export const CODEC_SERVER_TOKEN_ENV = 'GANTRY_CODEC_SERVER_TOKEN';
const MIN_TOKEN_CHARS = 16;

export function registerCodecServer(program: Command): void {
  program
    .command('codec-server')
    .description(
      `decrypt and encrypt payloads for the Temporal UI and CLI (keys: ${CODEC_KEYS_FILE_ENV} or ${CODEC_KEYS_ENV}; bearer token: ${CODEC_SERVER_TOKEN_ENV} or --token-file)`,
    )
    .requiredOption('--port <port>', 'port to listen on', parsePort)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--ui-origin <url>',
      'browser origin allowed to call it, e.g. the Temporal UI http://localhost:8233 (repeatable)',
      collect,
      [],
    )
    .option('--token-file <file>', `file holding the bearer token (default: $${CODEC_SERVER_TOKEN_ENV})`)
    .action(async (options: CodecServerOptions) => {
      let keys;
      try {
        keys = codecKeysFromEnv();
      } catch (err) {
        if (err instanceof CodecKeyError) throw new CliError(err.message, EXIT.badInput);
        throw err;
      }
      if (!keys)
        throw new CliError(
          `no payload keys: set ${CODEC_KEYS_FILE_ENV} (a key file) or ${CODEC_KEYS_ENV}`,
          EXIT.badInput,
        );
      const token = readToken(options.tokenFile);
      for (const origin of options.uiOrigin) {
        if (!/^https?:\/\/[^/]+$/.test(origin))
          throw new CliError(
            `--ui-origin must be a scheme and host without a path, e.g. http://localhost:8233, got "${origin}"`,
            EXIT.badInput,
          );
      }
      const { startCodecServer } = await import('../../codec/codecServer.js');
      let server;
      try {
        server = await startCodecServer({
          keys,
          token,
          corsOrigins: options.uiOrigin,
          host: options.host,
          port: options.port,
        });
      } catch (err) {
        throw new CliError(
          `cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`,
          EXIT.badInput,
        );
      }
      console.log(
        `gantry codec server on ${server.url} (keys: ${[...keys.byId.keys()].join(', ')}; UI origins: ${options.uiOrigin.join(', ') || 'none'})`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}

function readToken(tokenFile: string | undefined): string {
  let token: string | undefined;
  if (tokenFile) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new CliError(`cannot read --token-file ${tokenFile}: ${(err as Error).message}`, EXIT.badInput);
    }
  } else {
    token = process.env[CODEC_SERVER_TOKEN_ENV]?.trim();
  }
  if (!token)
    throw new CliError(
      `no bearer token: set ${CODEC_SERVER_TOKEN_ENV} or --token-file (a request without the token decodes nothing)`,
      EXIT.badInput,
    );
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token))
    throw new CliError(`the bearer token must be at least ${MIN_TOKEN_CHARS} characters without spaces`, EXIT.badInput);
  return token;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new CliError(`--port must be a port number (0-65535), got "${value}"`, EXIT.badInput);
  return port;
}
