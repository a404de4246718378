// Reads gantry.yaml: YAML parse, JSON Schema validation (the same schema editors use), then the
// rules a schema cannot say. Every problem comes back at once, each with its field path and line.
import Ajv, { type ErrorObject } from 'ajv';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import canarySchema from '../../schema/canary.schema.json';
import schema from '../../schema/gantry.schema.json';
import { ConfigError, formatPath, type ConfigProblem } from './configError';
import { parseAllowedSigners } from '../approvals/signing/allowedSigners';
import { canarySchemaProblems } from './canarySchema';
import { canaryProblems } from './resolveCanary';
import { canaryStableSide, withoutStableSide } from './resolvePromotion';
import type { EnvironmentConfig, FreezeWindowConfig, GantryConfig } from './configTypes';
import { verifyPolicyProblems } from './verifyPolicy';
import { targetName, waveProblems } from './resolveWaves';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
// The canary block has a schema file of its own; gantry.schema.json refers to it by relative $ref.
ajv.addSchema(canarySchema);
const validate = ajv.compile(schema);

export function loadConfig(file: string): GantryConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` },
    ]);
  }
  return parseConfig(text, file, dirname(resolve(file)));
}

export function parseConfig(text: string, file = 'gantry.yaml', baseDir = process.cwd()): GantryConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: '',
        line: lines.linePos(e.pos[0]).line,
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
      })),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const lineOf = (path: Array<string | number>) => lineOfPath(doc, lines, path);
  fillEmptyMappings(data);
  if (!validate(data)) {
    throw new ConfigError(file, schemaProblems(validate.errors ?? [], lineOf));
  }
  const config = { ...(data as Omit<GantryConfig, 'baseDir'>), baseDir };
  const problems = [...mergeAllowedSigners(config, lineOf), ...semanticProblems(config, lineOf)];
  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}

/**
 * `gitops:` with nothing under it parses as null; read it as an empty mapping so the problem is
 * reported as the field it lacks (`gitops.path: required`) rather than as a type.
 */
function fillEmptyMappings(data: unknown): void {
  for (let round = 0; round < 20 && !validate(data); round++) {
    const nulls = (validate.errors ?? []).filter(
      (e) => e.keyword === 'type' && e.data === null && (e.params as { type: string }).type === 'object',
    );
    if (nulls.length === 0) return;
    for (const e of nulls) {
      const segments = pointerSegments(e.instancePath);
      const parent = segments
        .slice(0, -1)
        .reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], data);
      (parent as Record<string | number, unknown>)[segments[segments.length - 1]] = {};
    }
  }
}

/** An environment's `canary:` block, apart from its stable side (a deploy target like any other). */
function inCanaryBlock(instancePath: string): boolean {
  const segments = pointerSegments(instancePath);
  const at = segments.findIndex(
    (s, i) => s === 'canary' && typeof segments[i - 1] === 'number' && segments[i - 2] === 'environments',
  );
  return at >= 0 && segments[at + 1] !== 'stable';
}

function schemaProblems(
  allErrors: ErrorObject[],
  lineOf: (p: Array<string | number>) => number | undefined,
): ConfigProblem[] {
  // A canary block's errors are worded as resolveCanary words them (one wording, from its schema).
  const canary = canarySchemaProblems(allErrors.filter((e) => inCanaryBlock(e.instancePath))).map((p) => ({
    path: formatPath(p.segments),
    line: lineOf(p.segments),
    message: p.message,
  }));
  const errors = withoutTargetNameBranch(allErrors.filter((e) => !inCanaryBlock(e.instancePath)));
  // A failed `oneOf` reports every branch; say once what the field may be instead.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const kept = errors.filter((e) => e.keyword === 'oneOf' || !oneOfPaths.some((p) => e.instancePath.startsWith(p)));
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const e of kept) {
    const segments = pointerSegments(e.instancePath);
    let message: string;
    switch (e.keyword) {
      case 'required':
        segments.push((e.params as { missingProperty: string }).missingProperty);
        message = 'required';
        break;
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        segments.push(extra);
        const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
        message = `unknown field "${extra}"${known.length ? ` (expected one of: ${known.join(', ')})` : ''}`;
        break;
      }
      case 'pattern':
        message = (e.parentSchema as { description?: string })?.description?.startsWith('A duration')
          ? 'must be a duration like 30s, 10m, 72h or 1h30m'
          : (e.parentSchema as { description?: string })?.description?.startsWith('A count')
            ? `"${String(e.data)}" is neither a count nor a percentage like "25%"`
            : `"${String(e.data)}" does not match ${(e.params as { pattern: string }).pattern}`;
        break;
      case 'oneOf':
        message = segments.includes('waves')
          ? 'waves is a list of waves (each a list of target names) or { size: N | "N%" }'
          : segments.includes('targets')
            ? 'a target is a name, or { name, deploy, health, gates, canary, taskQueue, freeze }'
            : segments.includes('freeze')
              ? 'a freeze window is either weekly: {days, from, to} or a one-off from: and to: (YYYY-MM-DDTHH:MM), each with a timeZone'
              : segments.includes('env')
                ? 'must be a string, or { fromEnv: NAME } with NAME a variable set on the worker'
                : 'must be true, false, or {required, from, expiresIn, remindBefore, signatures}';
        break;
      case 'minProperties':
      case 'maxProperties': {
        const parent = e.parentSchema as { properties?: object; maxProperties?: number };
        message =
          parent.maxProperties === 1
            ? `must name exactly one of: ${Object.keys(parent.properties ?? {}).join(', ')}`
            : `must have at least ${(e.params as { limit: number }).limit} entry`;
        break;
      }
      case 'propertyNames': {
        const name = (e.params as { propertyName: string }).propertyName;
        segments.push(name);
        message = `"${name}" is not a valid name (lowercase letters, digits and -)`;
        break;
      }
      case 'const':
        message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      default:
        message = e.message ?? e.keyword;
    }
    if (e.keyword === 'pattern' && e.propertyName) continue; // reported by propertyNames
    const path = formatPath(segments);
    if (seen.has(`${path}:${message}`)) continue;
    seen.add(`${path}:${message}`);
    problems.push({ path, line: lineOf(segments), message });
  }
  return [...problems, ...canary];
}

/**
 * A target written as a mapping is not meant as a name: its fields' problems are reported (e.g.
 * `targets[0].canary.stable.gitops.path: required`), not that it is neither a name nor a mapping.
 */
function withoutTargetNameBranch(errors: ErrorObject[]): ErrorObject[] {
  const mappings = errors
    .filter((e) => e.keyword === 'oneOf' && typeof e.data === 'object' && e.data !== null && !Array.isArray(e.data))
    .map((e) => e.instancePath)
    .filter((path) => pointerSegments(path).at(-2) === 'targets');
  return errors.filter((e) => !(mappings.includes(e.instancePath) && (e.keyword === 'oneOf' || e.keyword === 'type')));
}

function semanticProblems(
  config: GantryConfig,
  lineOf: (p: Array<string | number>) => number | undefined,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (segments: Array<string | number>, message: string) =>
    problems.push({ path: formatPath(segments), line: lineOf(segments), message });

  freezeProblems(config.freeze, ['freeze'], add);
  for (const [name, app] of Object.entries(config.apps)) {
    verifyPolicyProblems(config, name, app, add);
    const envs = app.environments ?? config.environments;
    if (!envs) {
      add(['apps', name, 'environments'], 'required (there are no top-level environments)');
      continue;
    }
    const at = app.environments ? ['apps', name, 'environments'] : ['environments'];
    const repoAvailable = config.configRepo !== undefined || app.configRepo !== undefined;
    const names = new Map<string, number>();
    envs.forEach((env, i) => {
      approvalProblems(config, env, [...at, i], add);
      // destructiveMigrations.approval follows the same rules as an environment's approval.
      if (env.destructiveMigrations)
        approvalProblems(
          config,
          { ...env, approval: env.destructiveMigrations.approval },
          [...at, i, 'destructiveMigrations'],
          add,
        );
      for (const p of canaryProblems(withoutStableSide(env.canary), { app: name, environment: env.name }))
        add([...at, i, 'canary', ...p.segments], p.message);
      const stable = canaryStableSide(env.canary);
      if (stable?.gitops && !stable.gitops.repo && !env.deploy.gitops?.repo && !repoAvailable) {
        add(
          [...at, i, 'canary', 'stable', 'gitops', 'repo'],
          `required for app ${name} (no configRepo at the top level or in the app)`,
        );
      }
      freezeProblems(env.freeze, [...at, i, 'freeze'], add);
      for (const p of waveProblems(env)) add([...at, i, ...p.segments], p.message);
      (env.targets ?? []).forEach((target, j) => {
        if (typeof target === 'string') return;
        freezeProblems(target.freeze, [...at, i, 'targets', j, 'freeze'], add);
        const place = { app: name, environment: `${env.name}/${targetName(target)}` };
        for (const p of canaryProblems(withoutStableSide(target.canary), place))
          add([...at, i, 'targets', j, 'canary', ...p.segments], p.message);
        if (target.deploy?.gitops && !target.deploy.gitops.repo && !repoAvailable)
          add(
            [...at, i, 'targets', j, 'deploy', 'gitops', 'repo'],
            `required for app ${name} (no configRepo at the top level or in the app)`,
          );
        // A target's stable side takes the repo of the target's deploy, else the environment's.
        const targetStable = canaryStableSide(target.canary);
        const targetRepo = (target.deploy ?? env.deploy).gitops?.repo;
        if (targetStable?.gitops && !targetStable.gitops.repo && !targetRepo && !repoAvailable)
          add(
            [...at, i, 'targets', j, 'canary', 'stable', 'gitops', 'repo'],
            `required for app ${name} (no configRepo at the top level or in the app)`,
          );
      });
      if (names.has(env.name))
        add(
          [...at, i, 'name'],
          `duplicate environment "${env.name}" (also ${formatPath([...at, names.get(env.name)!])})`,
        );
      names.set(env.name, i);
      if (env.deploy.gitops && !env.deploy.gitops.repo && !repoAvailable) {
        add(
          [...at, i, 'deploy', 'gitops', 'repo'],
          `required for app ${name} (no configRepo at the top level or in the app)`,
        );
      }
    });
  }
  return dedupe(problems);
}

/** Adds the keys of an allowed-signers file to `approvers`, as if they were written inline. */
function mergeAllowedSigners(
  config: GantryConfig,
  lineOf: (p: Array<string | number>) => number | undefined,
): ConfigProblem[] {
  if (!config.allowedSigners) return [];
  const file = resolve(config.baseDir, config.allowedSigners);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return [
      {
        path: 'allowedSigners',
        line: lineOf(['allowedSigners']),
        message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      },
    ];
  }
  const approvers = (config.approvers ??= {});
  for (const [principal, keys] of parseAllowedSigners(text)) {
    const entry = (approvers[principal] ??= {});
    entry.keys = [...new Set([...(entry.keys ?? []), ...keys])];
  }
  return [];
}

function approvalProblems(
  config: GantryConfig,
  env: EnvironmentConfig,
  at: Array<string | number>,
  add: (p: Array<string | number>, m: string) => void,
): void {
  if (!env.approval) return;
  const spec = env.approval === true ? {} : env.approval;
  const approvers = config.approvers ?? {};
  const people = new Set<string>();
  for (const [i, name] of (spec.from ?? Object.keys(approvers)).entries()) {
    if (name.startsWith('group:')) {
      const members = config.groups?.[name.slice(6)];
      if (!members) add([...at, 'approval', 'from', i], `unknown group "${name.slice(6)}"`);
      for (const m of members ?? []) {
        if (!(m in approvers)) add(['groups', name.slice(6)], `"${m}" is not in approvers`);
        people.add(m);
      }
    } else if (!(name in approvers)) {
      add(
        [...at, 'approval', 'from', i],
        `unknown approver "${name}" (approvers: ${Object.keys(approvers).join(', ') || 'none'})`,
      );
    } else {
      people.add(name);
    }
  }
  const signatures = spec.signatures ?? 'required';
  if (signatures === 'required') {
    if (people.size === 0)
      add(
        [...at, 'approval'],
        'signed approvals need approvers with keys (top-level approvers:), or say signatures: optional',
      );
    for (const p of people)
      if (!approvers[p]?.keys?.length)
        add([...at, 'approval'], `signatures are required but approver "${p}" has no keys`);
  }
  const required = spec.required ?? 1;
  if (people.size > 0 && required > people.size)
    add([...at, 'approval', 'required'], `${required} approvals required but only ${people.size} people may approve`);
}

function freezeProblems(
  windows: FreezeWindowConfig[] | undefined,
  at: Array<string | number>,
  add: (p: Array<string | number>, m: string) => void,
): void {
  (windows ?? []).forEach((w, i) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: w.timeZone });
    } catch {
      add([...at, i, 'timeZone'], `unknown time zone "${w.timeZone}"`);
    }
    if (w.from && w.to && w.from >= w.to) add([...at, i, 'to'], 'must be after from');
  });
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => (seen.has(p.path + p.message) ? false : (seen.add(p.path + p.message), true)));
}

function pointerSegments(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Line of the deepest node that exists on the path (the parent, for a missing field). */
function lineOfPath(doc: Document, lines: LineCounter, path: Array<string | number>): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    const parent = n > 0 ? doc.getIn(prefix.slice(0, -1), true) : undefined;
    // For a map key, point at the key itself (the value may be on a later line, or absent).
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === prefix[n - 1]);
      const range = pair && isNode(pair.key) ? pair.key.range : undefined;
      if (range) return lines.linePos(range[0]).line;
    }
    const node = n === 0 ? doc.contents : doc.getIn(prefix, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
