// Writes gantry.yaml files for tests, the way a platform engineer would, and resolves them with
// the same loader the CLI uses (src/local/pipelinePolicy.ts, shared with the benchmarks).
export {
  adoptedPolicy as testPolicy,
  adoptedPolicyFile as testPolicyFile,
  adoptPipeline,
  promotionInput,
  sentInput,
  uniqueDigest as testDigest,
  writePipeline,
} from '../../src/local/pipelinePolicy';

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
