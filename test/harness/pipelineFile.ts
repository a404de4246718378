// Writes gantry.yaml files for tests, the way a platform engineer would, and resolves them with
// the same loader the CLI uses.
import { parseConfig } from '../../src/config/loadConfig';
import { resolvePromotion } from '../../src/config/resolvePromotion';
import type { PromotionInput } from '../../src/pipeline/types';

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

export function promotionInput(yaml: string, app: string, digest: string, requestedBy = 'ci'): PromotionInput {
  return resolvePromotion(parseConfig(yaml, 'gantry.yaml', process.cwd()), { app, digest, requestedBy });
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
