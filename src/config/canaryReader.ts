// Reads a `canary:` block of gantry.yaml field by field, collecting every problem with its path
// (relative to the block) instead of stopping at the first. Shared by resolveCanary and by the
// routers and metric providers, each of which reads its own block.
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { parseDuration } from '../pipeline/duration';

export type PathSegment = string | number;

/** One problem, at a path relative to the `canary:` block (prefix it with the environment's path). */
export interface CanaryProblem {
  segments: PathSegment[];
  /** `steps[2].analysis.alpha` */
  path: string;
  message: string;
}

export function formatCanaryPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((out, s) => (typeof s === 'number' ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class CanaryReader {
  readonly problems: CanaryProblem[] = [];
  add(segments: PathSegment[], message: string): void {
    this.problems.push({ segments, path: formatCanaryPath(segments), message });
  }
  /** Unknown keys of a mapping. */
  known(obj: Obj, at: PathSegment[], keys: readonly string[]): void {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) this.add([...at, k], `unknown field "${k}" (expected one of: ${keys.join(', ')})`);
  }
  mapping(v: unknown, at: PathSegment[], keys: readonly string[]): Obj | undefined {
    if (!isObj(v)) {
      this.add(at, 'must be a mapping');
      return undefined;
    }
    this.known(v, at, keys);
    return v;
  }
  text(v: unknown, at: PathSegment[], fallback?: string): string | undefined {
    if (v === undefined) {
      if (fallback === undefined) this.add(at, 'required');
      return fallback;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.add(at, 'must be a non-empty string');
      return undefined;
    }
    return v;
  }
  duration(v: unknown, at: PathSegment[], fallback?: string): number | undefined {
    const text = this.text(v, at, fallback);
    if (text === undefined) return undefined;
    try {
      const ms = parseDuration(text);
      if (ms <= 0) throw new Error('zero');
      return ms;
    } catch {
      this.add(at, 'must be a duration like 30s, 10m, 72h or 1h30m (more than zero)');
      return undefined;
    }
  }
  number(v: unknown, at: PathSegment[], fallback: number | undefined, check: (n: number) => boolean, rule: string, integer = false): number | undefined {
    if (v === undefined) {
      if (fallback === undefined) this.add(at, 'required');
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || !check(v)) {
      this.add(at, `must be ${integer ? 'an integer' : 'a number'} ${rule}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }
  /** Exactly one key of a mapping such as router: {haproxy: {...}}. */
  oneOf(v: unknown, at: PathSegment[], keys: readonly string[]): [string, unknown] | undefined {
    const obj = this.mapping(v, at, keys);
    if (!obj) return undefined;
    const present = Object.keys(obj).filter((k) => keys.includes(k));
    if (present.length !== 1) {
      this.add(at, `must name exactly one of: ${keys.join(', ')}`);
      return undefined;
    }
    return [present[0], obj[present[0]]];
  }
  /** Kubeconfig and context of a Kubernetes block; a relative kubeconfig is relative to gantry.yaml. */
  kubeAccess(h: Obj, at: PathSegment[], baseDir?: string): { kubeconfig?: string; context?: string } {
    const kubeconfig = h.kubeconfig === undefined ? undefined : this.text(h.kubeconfig, [...at, 'kubeconfig']);
    const context = h.context === undefined ? undefined : this.text(h.context, [...at, 'context']);
    return {
      ...(kubeconfig !== undefined ? { kubeconfig: baseDir && !isAbsolute(kubeconfig) ? resolvePath(baseDir, kubeconfig) : kubeconfig } : {}),
      ...(context !== undefined ? { context } : {}),
    };
  }
}
