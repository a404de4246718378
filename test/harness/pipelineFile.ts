// Writes gantry.yaml files for tests, the way a platform engineer would, and resolves them with
// the same loader the CLI uses.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GantryConfig } from '../../src/config/configTypes';
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import type { PromotionInput } from '../../src/pipeline/types';
import type { PolicySource, PolicyText } from '../../src/policy/policySource';

export interface TestEnvironment {
  name: string;
  approval?: boolean | { expiresIn?: string; required?: number; from?: string[]; signatures?: 'required' | 'optional'; remindBefore?: string[] };
  freeze?: string[]; // raw YAML flow mappings
  soak?: string;
  healthUrl?: string;
  gates?: string[]; // raw YAML list items
  taskQueue?: string;
}

export function pipelineYaml(repoUrl: string, apps: string[], environments: TestEnvironment[], extra = ''): string {
  return [
    'version: 1',
    'configRepo:',
    `  url: ${repoUrl}`,
    extra,
    'apps:',
    ...apps.flatMap((a) => [`  ${a}:`, `    image: registry.example.com/acme/${a}`]),
    'environments:',
    ...environments.flatMap((e) => [
      `  - name: ${e.name}`,
      ...(e.taskQueue ? [`    taskQueue: ${e.taskQueue}`] : []),
      '    deploy:',
      '      gitops:',
      `        path: ${apps.length > 1 ? 'apps/{app}/' : ''}environments/${e.name}`,
      ...(e.healthUrl ? ['    health:', '      http:', `        url: ${e.healthUrl}`, '        interval: 200ms', '        timeout: 1m'] : []),
      // Unsigned decisions unless the test says otherwise (the signed-approval tests do).
      ...(e.approval === undefined || e.approval === false ? [] : [`    approval: ${JSON.stringify({ signatures: 'optional', ...(e.approval === true ? {} : e.approval) })}`]),
      ...(e.soak ? [`    soak: ${e.soak}`] : []),
      ...(e.freeze ? ['    freeze:', ...e.freeze.map((f) => `      - ${f}`)] : []),
      ...(e.gates ? ['    gates:', ...e.gates.map((g) => `      - ${g}`)] : []),
    ]),
  ].join('\n');
}

/**
 * Resolves a pipeline as `gantry start` does. The pipeline also becomes the policy of the harness's
 * workers for its apps (as `gantry worker` takes the pipeline file it is pointed at as its policy),
 * so the promotion is admitted; tests of refusals resolve with {@link sentInput} instead.
 */
export function promotionInput(yaml: string, app: string, digest: string, requestedBy = 'ci'): PromotionInput {
  writeFileSync(testPolicyFile(), yaml);
  const config = adopt(yaml, testPolicyFile(), dirname(testPolicyFile()));
  return resolvePromotion(config, { app, digest, requestedBy });
}

/** Writes a pipeline file, as a platform engineer does, and makes it the workers' policy for its apps. */
export function writePipeline(file: string, yaml: string): void {
  writeFileSync(file, yaml);
  adopt(yaml, file, dirname(file));
}

/** Makes a pipeline file already written the workers' policy for its apps again (tests that switch files). */
export function adoptPipeline(file: string): void {
  adopt(readFileSync(file, 'utf8'), file, dirname(file));
}

function adopt(text: string, source: string, baseDir: string): GantryConfig {
  const config = parseConfig(text, source, baseDir);
  lastAdopted = { text, source, baseDir };
  for (const name of Object.keys(config.apps)) policyBook.set(name, lastAdopted);
  return config;
}

/** A pipeline as a starter sends it, without making it the workers' policy. */
export function sentInput(yaml: string, app: string, digest: string, requestedBy = 'ci'): PromotionInput {
  return resolvePromotion(parseConfig(yaml, 'sent.yaml', dirname(testPolicyFile())), { app, digest, requestedBy });
}

/** The newest pipeline this test process resolved for each app. */
const policyBook = new Map<string, PolicyText>();
let lastAdopted: PolicyText | undefined;

/** The policy of the harness's in-process workers: per app, the pipeline the test resolved for it last. */
export const testPolicy: PolicySource = {
  describe: () => 'the pipelines this test wrote',
  read: async (app) => {
    const policy = app ? policyBook.get(app) : lastAdopted;
    if (policy === undefined) throw new Error(`no pipeline for app ${app} yet`);
    return policy;
  },
};

let policyFile: string | undefined;
/** The same, as a file for `gantry worker --policy` processes: the last pipeline resolved. */
export function testPolicyFile(): string {
  if (policyFile) return policyFile;
  policyFile = join(mkdtempSync(join(tmpdir(), 'gantry-policy-')), 'gantry.yaml');
  // Valid from the start, so a worker process can start before the test writes its pipeline.
  writeFileSync(policyFile, pipelineYaml('/nonexistent/config-repo', ['placeholder'], [{ name: 'dev' }]));
  return policyFile;
}

let counter = 0;
/** A fresh, valid digest per call (tests never share an artifact by accident). */
export function testDigest(seed = `${process.pid}-${Date.now()}-${counter++}`): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let i = 0; i < 8; i++) {
    for (const ch of `${seed}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  return `sha256:${hex.join('')}`;
}
