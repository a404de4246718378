// A health check retried after its worker died resumes the original wait: its deadline and
// check count come from the last heartbeat, so a crash never buys a promotion extra time.
// (Runs the real activity against a real HTTP server, inside the SDK's activity test context.)
import { MockActivityEnvironment } from '@temporalio/testing';
import { createServer, type Server } from 'node:http';
import { checkHttpHealth } from '../../activities/health/http';
import type { HttpHealthCheck } from '../../src/pipeline/types';

const DIGEST = `sha256:${'f'.repeat(64)}`;
let server: Server;
let url: string;

beforeAll(async () => {
  // An environment still serving the previous digest.
  server = createServer((_req, res) => res.end(JSON.stringify({ digest: `sha256:${'0'.repeat(64)}` })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const check = (): HttpHealthCheck => ({
  kind: 'http',
  url,
  versionPath: '/version',
  healthPath: '/health',
  timeoutMs: 60_000,
  intervalMs: 100,
});

test('a first attempt heartbeats its deadline and progress', async () => {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 20_000 });
  const beats: Array<{ deadline: number; polls: number; last: string }> = [];
  env.on('heartbeat', (d: { deadline: number; polls: number; last: string }) => beats.push({ ...d }));
  const running = env.run(checkHttpHealth, { ...check(), timeoutMs: 500 }, DIGEST, 'staging');
  await expect(running).rejects.toThrow(
    /^staging \(http:\/\/127\.0\.0\.1:\d+\) not healthy within 500ms \(\d+ checks\); last: serves sha256:0{64}, waiting for sha256:f{64}$/,
  );
  expect(beats.length).toBeGreaterThan(1);
  expect(new Set(beats.map((b) => b.deadline)).size).toBe(1);
  expect(beats.map((b) => b.polls)).toEqual(beats.map((_, i) => i + 1));
});

test('a retry resumes from the heartbeat: same deadline, counting on', async () => {
  const deadline = Date.now() + 300;
  const env = new MockActivityEnvironment({
    attempt: 2,
    heartbeatTimeoutMs: 20_000,
    heartbeatDetails: { deadline, polls: 41, last: 'before the crash' },
  });
  const started = Date.now();
  const error = await env.run(checkHttpHealth, check(), DIGEST, 'staging').catch((e: Error) => e);
  // The configured timeout is a minute, but the resumed wait ends at the original deadline.
  expect(Date.now() - started).toBeLessThan(2_000);
  expect((error as Error).message).toMatch(/not healthy within 1m \((4[2-9]) checks\)/);
});
