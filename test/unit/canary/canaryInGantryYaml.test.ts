// A canary block in gantry.yaml is worded the same whether the schema or a rule across fields
// refuses it (one wording, from schema/canary.schema.json), each problem with its line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../../src/config/configError';
import { parseConfig } from '../../../src/config/loadConfig';
import { PROJECT_ROOT } from '../../../src/local/tools';

const example = readFileSync(join(PROJECT_ROOT, 'examples', 'kubernetes.gantry.yaml'), 'utf8');

function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

test('schema problems of a canary block read as resolveCanary words them', () => {
  const text = example
    .replace('canaryService: "{app}-canary", context: prod-cluster', 'canaryService: " ", context: prod-cluster')
    .replace('- pause: 5m\n        - setWeight: 50', '- pause: 0s\n        - setWeight: 50');
  expect(problems(text)).toEqual([
    '24: environments[2].canary.router.httpRoute.canaryService: must be a non-empty string',
    '27: environments[2].canary.steps[1].pause: must be a duration like 30s, 10m, 72h or 1h30m (more than zero)',
  ]);
});

test('rules across fields of a canary block are reported with their lines too', () => {
  const text = example.replace('canaryService: "{app}-canary"', 'canaryService: "{app}-stable"');
  expect(problems(text)).toEqual([
    '24: environments[2].canary.router.httpRoute.canaryService: must differ from stableService ("web-stable")',
  ]);
});
