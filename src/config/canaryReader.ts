// Turns a `canary:` block that schema/canary.schema.json has checked into the typed plan, and
// collects the problems a schema cannot state (rules across fields) with their paths, relative to
// the block. Shared by resolveCanary and by the routers and metric providers, each of which
// converts its own block. The conversion also runs on a block with schema problems, so that every
// problem is reported at once: it must not throw, and its result is then thrown away.
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
  /** Milliseconds of a duration the schema checked; NaN when it is not one (the schema reported it). */
  durationMs(v: unknown, fallback: string): number {
    try {
      return parseDuration(typeof v === 'string' ? v : v === undefined ? fallback : '');
    } catch {
      return NaN;
    }
  }
  /** The one key of a mapping such as router: {haproxy: {...}} (the schema reports unknown keys). */
  exactlyOne(obj: Obj, at: PathSegment[], keys: readonly string[]): string | undefined {
    const present = Object.keys(obj).filter((k) => keys.includes(k));
    if (present.length === 1) return present[0];
    this.add(at, `must name exactly one of: ${keys.join(', ')}`);
    return undefined;
  }
  /** Kubeconfig and context of a Kubernetes block; a relative kubeconfig is relative to gantry.yaml. */
  kubeAccess(
    block: { kubeconfig?: string; context?: string },
    baseDir?: string,
  ): { kubeconfig?: string; context?: string } {
    const { kubeconfig, context } = block;
    return {
      ...(typeof kubeconfig === 'string'
        ? { kubeconfig: baseDir && !isAbsolute(kubeconfig) ? resolvePath(baseDir, kubeconfig) : kubeconfig }
        : {}),
      ...(context !== undefined ? { context } : {}),
    };
  }
}
