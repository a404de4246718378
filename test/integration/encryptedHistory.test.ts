// Secrets out of history, on a real dev server: a promotion whose pipeline holds secrets (a
// command gate's env value, a webhook URL) stores only ciphertext; `temporal workflow show` read
// straight from the server shows none of them; the codec server decodes for the token holder only
// (and the real Temporal CLI through it); after a key rotation the promotion finishes and replays.
import { Worker } from '@temporalio/worker';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { generateCodecKeyEntry, parseCodecKeys } from '../../src/codec/codecKeys';
import { gantryDataConverter } from '../../src/codec/dataConverter';
import { createConfigRepo } from '../../src/local/configRepo';
import { PROJECT_ROOT, toolPath } from '../../src/local/tools';
import { bundleGantryWorkflows } from '../../src/worker/workflowBundle';
import { cliEnv, runCli, startStack, type Stack } from '../harness/devServerStack';
import { pipelineYaml, testDigest, writePipeline } from '../harness/pipelineFile';
import { until } from '../harness/until';
import { startWebhookReceiver, type WebhookReceiver } from '../harness/webhookReceiver';

const OLD_KEY = generateCodecKeyEntry('2026-q3');
const NEW_KEY = generateCodecKeyEntry('2026-q4');
const ROTATED = `${NEW_KEY},${OLD_KEY}`;
const GATE_TOKEN = 'tok-7f3a9c1e-gate-secret';
const HOOK_SECRET = 'T0001-B0002-hooksecretXYZ';
const CODEC_TOKEN = 'codec-token-for-operators-only';
const UI_ORIGIN = 'http://127.0.0.1:8233';

let stack: Stack;
let webhook: WebhookReceiver;
let configFile: string;
let repoUrl: string;
let codecServer: ChildProcess;
let codecUrl: string;
let worker: { stop(): Promise<void> };
const digest = testDigest();
const workflowId = `promote/web/${digest}`;

beforeAll(async () => {
  [stack, webhook] = await Promise.all([
    startStack({ taskQueue: 'encrypted', worker: false, codecKeys: OLD_KEY }),
    startWebhookReceiver(),
  ]);
  worker = await stack.startWorker();
  repoUrl = await createConfigRepo({
    dir: stack.dir,
    apps: [{ name: 'web', image: 'registry.example.com/acme/web', overlayPath: (e) => `environments/${e}` }],
    environments: ['dev', 'production'],
  });
  configFile = join(stack.dir, 'gantry.yaml');
  // The pipeline file is also the in-process worker's policy (as `gantry worker -c` takes it).
  writePipeline(
    configFile,
    pipelineYaml(
      repoUrl,
      ['web'],
      [
        {
          name: 'dev',
          gates: [
            `command: { name: smoke, run: 'test "$API_TOKEN" = "${GATE_TOKEN}" && echo token ok', env: { API_TOKEN: "${GATE_TOKEN}" } }`,
          ],
        },
        { name: 'production', approval: true },
      ],
      // queue: the gate test's digest must not supersede the one waiting for approval.
      { notifications: { webhook: { url: `${webhook.url}/services/${HOOK_SECRET}` } }, ordering: 'queue' },
    ),
  );
  [codecServer, codecUrl] = await startCodecServerProcess(ROTATED);
});

afterAll(async () => {
  codecServer?.kill('SIGTERM');
  await Promise.all([stack?.stop(), webhook?.stop()]);
});

const gantry = (keys: string, ...args: string[]) =>
  runCli(['--config', configFile, ...args], { ...cliEnv(stack), GANTRY_CODEC_KEYS: keys });

function temporalCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      toolPath('temporal'),
      [...args, '--address', stack.server.address, '--namespace', 'default'],
      { timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function startCodecServerProcess(keys: string): Promise<[ChildProcess, string]> {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'bin', 'gantry'), 'codec-server', '--port', '0', '--ui-origin', UI_ORIGIN],
    {
      env: { PATH: process.env.PATH, GANTRY_CODEC_KEYS: keys, GANTRY_CODEC_SERVER_TOKEN: CODEC_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /gantry codec server on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) resolve([child, url]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`codec server exited ${code}:\n${output}`)));
  });
}

const SECRETS = [GATE_TOKEN, HOOK_SECRET];

test('the raw history holds none of the pipeline secrets; the search attributes stay readable', async () => {
  expect((await gantry(OLD_KEY, 'start', '--app', 'web', '--digest', digest)).code).toBe(0);
  await until('production approval', async () =>
    (await stack.gantry.status('web', digest)).awaitingApproval?.environment === 'production' ? true : undefined,
  );
  // The gate saw its token and the webhook got its notifications: the secrets were used.
  await until('the awaiting-approval notification', async () =>
    webhook.received.some((n) => n.gantry.event === 'awaiting-approval') ? true : undefined,
  );

  const raw = await temporalCli('workflow', 'show', '--workflow-id', workflowId, '--output', 'json');
  expect(raw.code).toBe(0);
  const decodedBase64 = withBase64Decoded(raw.stdout);
  for (const secret of SECRETS) {
    expect(raw.stdout).not.toContain(secret);
    expect(decodedBase64).not.toContain(secret);
  }
  expect(decodedBase64).toContain('binary/encrypted');
  expect(decodedBase64).not.toContain('json/plain');

  const listed = await temporalCli('workflow', 'describe', '--workflow-id', workflowId, '--output', 'json');
  expect(listed.stdout).toContain(digest);
});

test('a gate that fails printing its token: the failure reason is ciphertext in history too, and readable with the key', async () => {
  const failing = testDigest();
  const file = join(stack.dir, 'failing.yaml');
  writePipeline(
    file,
    pipelineYaml(
      repoUrl,
      ['web'],
      [
        {
          name: 'dev',
          gates: [
            `command: { name: leaky, run: 'echo "using $API_TOKEN"; exit 3', env: { API_TOKEN: "${GATE_TOKEN}" } }`,
          ],
        },
      ],
      { ordering: 'queue' },
    ),
  );
  const started = await runCli(['--config', file, 'start', '--app', 'web', '--digest', failing, '--wait'], {
    ...cliEnv(stack),
    GANTRY_CODEC_KEYS: OLD_KEY,
  });
  expect(started.code).toBe(1);
  expect(started.stdout).toContain(`using ${GATE_TOKEN}`);
  const raw = await temporalCli('workflow', 'show', '--workflow-id', `promote/web/${failing}`, '--output', 'json');
  expect(raw.stdout).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  expect(withBase64Decoded(raw.stdout)).not.toContain(GATE_TOKEN);
  expect(raw.stdout).toContain('Encoded failure');
});

test('the codec server decodes for the token holder, refuses everyone else, and answers the UI preflight', async () => {
  const history = await stack.gantry.handle('web', digest).fetchHistory();
  const input = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
  const body = JSON.stringify({
    payloads: [
      {
        metadata: Object.fromEntries(
          Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(input.data!).toString('base64'),
      },
    ],
  });
  const post = (headers: Record<string, string>) =>
    fetch(`${codecUrl}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      body,
    });

  const ok = await post({ Authorization: `Bearer ${CODEC_TOKEN}` });
  expect(ok.status).toBe(200);
  const decoded = (await ok.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
  expect(Buffer.from(decoded.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
  const pipeline = Buffer.from(decoded.payloads[0].data, 'base64').toString();
  for (const secret of SECRETS) expect(pipeline).toContain(secret);

  const wrong: Array<Record<string, string>> = [
    {},
    { Authorization: 'Bearer not-the-token-at-all' },
    { Authorization: CODEC_TOKEN },
  ];
  for (const headers of wrong) {
    const refused = await post(headers);
    expect(refused.status).toBe(401);
    const text = await refused.text();
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toContain('json/plain');
  }

  const preflight = await fetch(`${codecUrl}/decode`, {
    method: 'OPTIONS',
    headers: {
      Origin: UI_ORIGIN,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
  expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  const browserOk = await post({ Origin: UI_ORIGIN, Authorization: `Bearer ${CODEC_TOKEN}` });
  expect(browserOk.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
  const otherOrigin = await fetch(`${codecUrl}/decode`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
  });
  expect(otherOrigin.status).toBe(403);
  expect(otherOrigin.headers.get('access-control-allow-origin')).toBeNull();
});

test('`temporal workflow show --codec-endpoint` shows the decoded payloads; without the token it shows none', async () => {
  const shown = await temporalCli(
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--output',
    'json',
    '--codec-endpoint',
    codecUrl,
    '--codec-auth',
    `Bearer ${CODEC_TOKEN}`,
  );
  expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  // The CLI prints decoded payloads as json/plain with their data in base64.
  const decoded = withBase64Decoded(shown.stdout);
  expect(decoded).toContain(GATE_TOKEN);
  expect(decoded).toContain(HOOK_SECRET);
  expect(decoded).not.toContain('binary/encrypted');

  const refused = await temporalCli(
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--output',
    'json',
    '--codec-endpoint',
    codecUrl,
  );
  for (const secret of SECRETS) expect(withBase64Decoded(refused.stdout + refused.stderr)).not.toContain(secret);
});

test('after a key rotation the promotion started under the old key is approved and finishes; status and replay work', async () => {
  // Workers and the CLI move to [new, old]: the new key encrypts, the old one still opens the start.
  await worker.stop();
  worker = await stack.startWorker({ codecKeys: ROTATED });
  const approved = await gantry(ROTATED, 'approve', 'web', digest, '--env', 'production', '--as', 'alice');
  expect(approved.stdout).toContain('accepted: approved web');
  const final = await until('promoted', async () => {
    const s = await gantry(ROTATED, 'status', 'web', digest, '--json');
    return (JSON.parse(s.stdout) as { outcome?: string }).outcome === 'promoted' ? s : undefined;
  });
  expect(final.code).toBe(0);

  const history = await stack.gantry.handle('web', digest).fetchHistory();
  // Payloads before the rotation under the old key, after it under the new one.
  expect(keyIdsIn(history.events)).toEqual(new Set(['2026-q3', '2026-q4']));

  // A client still holding only the old key cannot read the new payloads, and says which key it lacks.
  await expect(stack.gantry.status('web', digest)).rejects.toThrow('key "2026-q4"');

  const replay = await Worker.runReplayHistory(
    {
      workflowBundle: await bundleGantryWorkflows(),
      dataConverter: gantryDataConverter(parseCodecKeys(ROTATED, 'rotated')),
      replayName: 'rotated',
    },
    history,
    workflowId,
  );
  expect(replay).toBeUndefined();
});

/** Every encryption-key-id in the payload metadata anywhere under value. */
function keyIdsIn(value: unknown, ids = new Set<string>()): Set<string> {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return ids;
  const keyId = (value as { metadata?: Record<string, Uint8Array> }).metadata?.['encryption-key-id'];
  if (keyId instanceof Uint8Array) ids.add(Buffer.from(keyId).toString());
  for (const child of Object.values(value)) keyIdsIn(child, ids);
  return ids;
}

/** The text with every base64 string in it decoded too (payload data in `temporal --output json`). */
function withBase64Decoded(text: string): string {
  return [
    text,
    ...[...text.matchAll(/"([A-Za-z0-9+/]{16,}={0,2})"/g)].map((m) => Buffer.from(m[1], 'base64').toString('latin1')),
  ].join('\n');
}
