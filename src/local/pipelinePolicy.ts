// Pipelines as the tests and the benchmarks start promotions from them: resolved with the loader
// `gantry start` uses, and adopted as the policy of the local workers (as `gantry worker` takes
// the pipeline file it is pointed at as its policy), in process or as a file for worker processes.
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { GantryConfig } from '../config/configTypes';
import { parseConfig } from '../config/loadConfig';
import { resolvePromotion } from '../config/resolvePromotion';
import type { PromotionInput } from '../pipeline/types';
import type { PolicySource, PolicyText } from '../policy/policySource';

/**
 * Resolves a pipeline as `gantry start` does. The pipeline also becomes the policy of the local
 * workers for its apps, so the promotion is admitted; refusals are resolved with {@link sentInput}.
 */
export function promotionInput(yaml: string, app: string, digest: string, requestedBy = 'ci'): PromotionInput {
  writePolicyFile(yaml);
  const config = adopt(yaml, adoptedPolicyFile(), dirname(adoptedPolicyFile()));
  return resolvePromotion(config, { app, digest, requestedBy });
}

/** Writes a pipeline file, as a platform engineer does, and makes it the workers' policy for its apps. */
export function writePipeline(file: string, yaml: string): void {
  writeFileSync(file, yaml);
  adopt(yaml, file, dirname(file));
}

/** Makes a pipeline file already written the workers' policy for its apps again (runs that switch files). */
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
  return resolvePromotion(parseConfig(yaml, 'sent.yaml', dirname(adoptedPolicyFile())), { app, digest, requestedBy });
}

/** The newest pipeline this process resolved for each app. */
const policyBook = new Map<string, PolicyText>();
let lastAdopted: PolicyText | undefined;

/** The policy of in-process workers: per app, the pipeline resolved for it last. */
export const adoptedPolicy: PolicySource = {
  describe: () => 'the pipelines this test wrote',
  read: async (app) => {
    const policy = app ? policyBook.get(app) : lastAdopted;
    if (policy === undefined) throw new Error(`no pipeline for app ${app} yet`);
    return policy;
  },
};

/** Valid from the start, so a worker process can start before the first pipeline is adopted. */
const PLACEHOLDER_PIPELINE = stringify({
  version: 1,
  configRepo: { url: '/nonexistent/config-repo' },
  apps: { placeholder: { image: 'registry.example.com/acme/placeholder' } },
  environments: [{ name: 'dev', deploy: { gitops: { path: 'environments/dev' } } }],
});

let policyFile: string | undefined;
/** The same, as a file for `gantry worker --policy` processes: the last pipeline resolved. */
export function adoptedPolicyFile(): string {
  if (policyFile) return policyFile;
  policyFile = join(mkdtempSync(join(tmpdir(), 'gantry-policy-')), 'gantry.yaml');
  writeFileSync(policyFile, PLACEHOLDER_PIPELINE);
  return policyFile;
}

/**
 * Replaces the policy file whole (a new file renamed over it): a worker reading it while
 * promotions start side by side sees the old pipeline or the new one, never half of one.
 */
function writePolicyFile(yaml: string): void {
  const file = adoptedPolicyFile();
  if (readFileSync(file, 'utf8') === yaml) return;
  const next = `${file}.${process.pid}.next`;
  writeFileSync(next, yaml);
  renameSync(next, file);
}

let counter = 0;
/** A fresh, valid digest per call (no two runs share an artifact by accident). */
export function uniqueDigest(seed = `${process.pid}-${Date.now()}-${counter++}`): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let i = 0; i < 8; i++) {
    for (const ch of `${seed}/${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  return `sha256:${hex.join('')}`;
}
