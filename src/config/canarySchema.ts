// schema/canary.schema.json, compiled, and its errors said the way people read them. The schema
// says what each field's values may be; besides the type, its annotations give the wording:
// `x-invalid` the whole message for a value it refuses (`{data}` is the value), `x-hint` the
// example after a number's range. resolveCanary and loadConfig (for `gantry validate`) both use it.
import Ajv, { type ErrorObject } from 'ajv';
import canarySchema from '../../schema/canary.schema.json';
import { isObj, type PathSegment } from './canaryReader';

interface FieldSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, FieldSchema>;
  items?: FieldSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxProperties?: number;
  'x-invalid'?: string;
  'x-hint'?: string;
}

// resolveCanary gets the block without `stable`: resolvePromotion resolves that as a deploy target.
// Without $id too: loadConfig's Ajv holds the whole schema under it.
const blockProperties: Record<string, unknown> = { ...canarySchema.properties };
delete blockProperties.stable;
const blockSchema: Record<string, unknown> = { ...canarySchema, properties: blockProperties };
delete blockSchema.$id;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
export const validateCanaryBlock = ajv.compile(blockSchema);

/** One schema problem, with the path it is ordered by (an unknown field is its mapping's problem). */
export interface CanarySchemaProblem {
  segments: PathSegment[];
  message: string;
  orderAt: PathSegment[];
}

export function pointerSegments(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The problems of a canary block's schema errors; `pathOf` maps an instance path to the block's segments. */
export function canarySchemaProblems(
  errors: readonly ErrorObject[],
  pathOf: (instancePath: string) => PathSegment[] = pointerSegments,
): CanarySchemaProblem[] {
  // A failed anyOf says once what the field may be; its branches' errors would only repeat it.
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const kept = errors.filter(
    (e) =>
      !anyOfs.some((a) => a !== e && e.instancePath === a.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`)),
  );
  const problems: CanarySchemaProblem[] = [];
  for (const e of kept) {
    const segments = pathOf(e.instancePath);
    const problem = describe(e, segments);
    if (problem && !problems.some((p) => p.message === problem.message && sameSegments(p.segments, problem.segments)))
      problems.push(problem);
  }
  return problems;
}

function describe(e: ErrorObject, at: PathSegment[]): CanarySchemaProblem | undefined {
  const schema = (e.parentSchema ?? {}) as FieldSchema;
  const data: unknown = e.data;
  const problem = (message: string, segments = at) => ({ segments, message, orderAt: at });
  switch (e.keyword) {
    case 'required':
      return problem('required', [...at, (e.params as { missingProperty: string }).missingProperty]);
    case 'additionalProperties': {
      const field = (e.params as { additionalProperty: string }).additionalProperty;
      return problem(`unknown field "${field}" (expected one of: ${Object.keys(schema.properties ?? {}).join(', ')})`, [
        ...at,
        field,
      ]);
    }
    case 'minProperties':
    case 'maxProperties': {
      // "Exactly one of": a mapping with one known key and unknown ones has its unknown-field problems.
      const keys = Object.keys(schema.properties ?? {});
      if (schema.maxProperties === 1 && isObj(data) && Object.keys(data).filter((k) => keys.includes(k)).length === 1)
        return undefined;
      return problem(schema['x-invalid'] ?? `must name exactly one of: ${keys.join(', ')}`);
    }
    case 'type': {
      const expected = String((e.params as { type: string | string[] }).type);
      if (expected.includes('object')) return problem('must be a mapping');
      if (expected === 'array') return problem(`must be a list of ${String(at[at.length - 1] ?? 'entries')}`);
      if (expected === 'string') return problem('must be a non-empty string');
      return problem(numberMessage(schema, data));
    }
    case 'minLength':
      return problem('must be a non-empty string');
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return problem(numberMessage(schema, data));
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      return problem(
        `must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}, got ${JSON.stringify(data)}`,
      );
    }
  }
  if (schema['x-invalid']) return problem(schema['x-invalid'].replace('{data}', JSON.stringify(data)));
  if (e.keyword === 'pattern') {
    const pattern = (e.params as { pattern: string }).pattern;
    return problem(pattern === '\\S' ? 'must be a non-empty string' : `"${String(data)}" does not match ${pattern}`);
  }
  return problem(e.message ?? e.keyword);
}

/** `must be an integer from 0 to 100 (percent of requests to the canary), got 150`, from the field's schema. */
function numberMessage(schema: FieldSchema, data: unknown): string {
  const { minimum: min, maximum: max, exclusiveMinimum: above, exclusiveMaximum: below } = schema;
  let range = '';
  if (min !== undefined && max !== undefined) range = `from ${min} to ${max}`;
  else if (above !== undefined && below !== undefined) range = `between ${above} and ${below}`;
  else if (min !== undefined) range = `>= ${min}`;
  else if (above !== undefined) range = `> ${above}`;
  const note = schema['x-hint'] ?? (above !== undefined && below !== undefined ? 'exclusive' : undefined);
  return `must be ${schema.type === 'integer' ? 'an integer' : 'a number'} ${range}${note ? ` (${note})` : ''}, got ${JSON.stringify(data)}`;
}

function sameSegments(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

function deref(node: FieldSchema | undefined): FieldSchema | undefined {
  const name = node?.$ref?.replace('#/definitions/', '');
  return name ? (canarySchema.definitions as Record<string, FieldSchema>)[name] : node;
}

/**
 * Where a path stands in the block: at each level, a field's place in its mapping's schema (an
 * index in its list). Problems are listed shallow first, then in the schema's order.
 */
export function schemaOrder(segments: readonly PathSegment[]): number[] {
  let node: FieldSchema | undefined = blockSchema as FieldSchema;
  const ranks: number[] = [];
  for (const s of segments) {
    node = deref(node);
    if (typeof s === 'number') {
      ranks.push(s);
      node = node?.items;
    } else {
      ranks.push(Object.keys(node?.properties ?? {}).indexOf(s));
      node = node?.properties?.[s];
    }
  }
  return ranks;
}

/** `a` before `b`: the shallower first, then in the schema's order. */
export function compareOrder(a: readonly PathSegment[], b: readonly PathSegment[]): number {
  if (a.length !== b.length) return a.length - b.length;
  const [ra, rb] = [schemaOrder(a), schemaOrder(b)];
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return 0;
}
