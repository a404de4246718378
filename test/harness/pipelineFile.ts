// Writes gantry.yaml files for tests, the way a platform engineer would, and resolves them with
// the same loader the CLI uses (src/local/pipelinePolicy.ts, shared with the benchmarks).
import { isMap, isScalar, parseDocument, stringify } from 'yaml';

export {
  adoptedPolicy as testPolicy,
  adoptedPolicyFile as testPolicyFile,
  adoptPipeline,
  promotionInput,
  sentInput,
  uniqueDigest as testDigest,
  writePipeline,
} from '../../src/local/pipelinePolicy';

/**
 * gantry.yaml text for a pipeline given as the object it parses to (`version: 1` first). Built
 * with yaml.stringify, never by pasting strings; long values (paths, keys, commands) stay on one line.
 */
export function pipelineText(pipeline: Record<string, unknown>): string {
  return stringify({ version: 1, ...pipeline }, { lineWidth: 0 });
}

/**
 * A piece of gantry.yaml as a test writes it (a gate, a freeze window, a scalar such as
 * '"gantry production"' with its quotes), as the node it parses to: {@link pipelineText} then
 * writes the same value in the same style (flow mappings stay flow, quoted strings stay quoted).
 */
export function yamlFragment(text: string): unknown {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`not YAML: ${text}: ${doc.errors[0].message}`);
  return doc.contents;
}

/** Top-level settings given as YAML text (`ordering: queue`, approvers, ...), as entries of the pipeline object. */
function topLevelEntries(extra: string | Record<string, unknown>): Record<string, unknown> {
  if (typeof extra !== 'string') return extra;
  if (extra.trim() === '') return {};
  const map = yamlFragment(extra);
  if (!isMap(map)) throw new Error(`extra pipeline settings must be a YAML mapping: ${extra}`);
  return Object.fromEntries(
    map.items.map((pair) => [String(isScalar(pair.key) ? pair.key.value : pair.key), pair.value]),
  );
}

export interface TestEnvironment {
  name: string;
  approval?:
    | boolean
    | {
        expiresIn?: string;
        required?: number;
        from?: string[];
        signatures?: 'required' | 'optional';
        remindBefore?: string[];
      };
  freeze?: string[]; // YAML flow mappings
  soak?: string;
  healthUrl?: string;
  gates?: string[]; // YAML list items
  taskQueue?: string; // a YAML scalar, quotes included
  /** Any other settings of the environment, as gantry.yaml has them (onFailure, canary, migrations, ...). */
  settings?: Record<string, unknown>;
}

/**
 * A pipeline of the given apps (registry.example.com/acme/<app>) promoted through the environments
 * by gitops commits to repoUrl; `extra` adds top-level settings (an object, or YAML text).
 */
export function pipelineYaml(
  repoUrl: string,
  apps: string[],
  environments: TestEnvironment[],
  extra: string | Record<string, unknown> = '',
): string {
  return pipelineText({
    configRepo: { url: yamlFragment(repoUrl) },
    ...topLevelEntries(extra),
    apps: Object.fromEntries(apps.map((a) => [a, { image: `registry.example.com/acme/${a}` }])),
    environments: environments.map((e) => ({
      name: e.name,
      ...(e.taskQueue ? { taskQueue: yamlFragment(e.taskQueue) } : {}),
      deploy: { gitops: { path: `${apps.length > 1 ? 'apps/{app}/' : ''}environments/${e.name}` } },
      ...(e.healthUrl
        ? { health: { http: { url: yamlFragment(e.healthUrl), interval: '200ms', timeout: '1m' } } }
        : {}),
      // Unsigned decisions unless the test says otherwise (the signed-approval tests do).
      ...(e.approval === undefined || e.approval === false
        ? {}
        : { approval: { signatures: 'optional', ...(e.approval === true ? {} : e.approval) } }),
      ...(e.soak ? { soak: yamlFragment(e.soak) } : {}),
      ...(e.freeze ? { freeze: e.freeze.map(yamlFragment) } : {}),
      ...(e.gates ? { gates: e.gates.map(yamlFragment) } : {}),
      ...e.settings,
    })),
  });
}
