// An app's verify: block in gantry.yaml: key files are read and checked when the file loads, each
// mistake names its field and line, and a valid block is pinned into the promotion's input.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/configError';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';

const dir = mkdtempSync(join(tmpdir(), 'gantry-verify-config-'));
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
writeFileSync(join(dir, 'cosign.pub'), pem);
writeFileSync(join(dir, 'not-a-key.pub'), 'hello\n');

const file = (verify: string, registry = 'registry:\n  url: http://127.0.0.1:5000\n') =>
  `version: 1\nconfigRepo:\n  url: ../config.git\n${registry}apps:\n  web:\n    image: registry.example.com/acme/web\n    verify:\n${verify}\nenvironments:\n  - name: dev\n    deploy:\n      gitops:\n        path: environments/dev\n`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'gantry.yaml', dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  }
  throw new Error('the file was accepted');
}

test('keys and provenance are resolved into the promotion, key files read at start', () => {
  const config = parseConfig(
    file(
      '      signatures:\n        keys: [cosign.pub]\n      provenance:\n        builder: https://github.com/actions/runner\n        sourceRepo: github.com/acme/web',
    ),
    'gantry.yaml',
    dir,
  );
  expect(
    resolvePromotion(config, { app: 'web', digest: `sha256:${'a'.repeat(64)}`, requestedBy: 'ci' }).verify,
  ).toEqual({
    signatures: { keys: [{ name: 'cosign.pub', pem }] },
    provenance: { builder: 'https://github.com/actions/runner', sourceRepo: 'github.com/acme/web' },
  });
});

test('an inline PEM key is named by its position', () => {
  const inline = `      signatures:\n        keys:\n          - |\n${pem
    .trim()
    .split('\n')
    .map((l) => `            ${l}`)
    .join('\n')}`;
  const config = parseConfig(file(inline), 'gantry.yaml', dir);
  expect(
    resolvePromotion(config, { app: 'web', digest: `sha256:${'a'.repeat(64)}`, requestedBy: 'ci' }).verify?.signatures
      ?.keys[0],
  ).toMatchObject({ name: 'key-1' });
});

test('every mistake is named with its field and line', () => {
  expect(problems(file('      signatures:\n        keys: [missing.pub, not-a-key.pub]'))).toEqual([
    `11: apps.web.verify.signatures.keys[0]: cannot read key file ${join(dir, 'missing.pub')}: ENOENT`,
    `11: apps.web.verify.signatures.keys[1]: ${join(dir, 'not-a-key.pub')} is not a PEM public key (cosign.pub from cosign generate-key-pair)`,
  ]);
  expect(problems(file('      provenance:\n        builder: x', ''))).toEqual([
    '7: apps.web.verify: needs a registry to find signatures in (registry: at the top level or in app web)',
    '8: apps.web.verify.provenance: the attestation is checked against signatures.keys: list the keys that sign it',
  ]);
  expect(problems(file('      signatures:\n        keys: []\n      signers: [x]'))).toEqual([
    '12: apps.web.verify.signers: unknown field "signers" (expected one of: signatures, provenance)',
    '11: apps.web.verify.signatures.keys: must NOT have fewer than 1 items',
  ]);
});
