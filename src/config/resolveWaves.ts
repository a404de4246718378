// An environment's `targets:` and `waves:` as the waves the rollout runs: explicit lists checked
// against the targets, `{ size: N | "N%" }` cut from the targets in order, the failure budget as a
// count. The loader reports the problems (with lines); the resolver uses the same functions.
import type { EnvironmentConfig, TargetConfig } from './configTypes';

export interface WaveProblem {
  /** Path below the environment, e.g. ['waves', 1, 0]. */
  segments: Array<string | number>;
  message: string;
}

export function targetName(target: string | TargetConfig): string {
  return typeof target === 'string' ? target : target.name;
}

/** "25%" of total, or a count as written. */
function countOf(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  return (Number(value.slice(0, -1)) / 100) * total;
}

/** Everything wrong with the environment's targets, waves and budget (nothing: an empty list). */
export function waveProblems(env: EnvironmentConfig): WaveProblem[] {
  const problems: WaveProblem[] = [];
  const add = (segments: Array<string | number>, message: string) => problems.push({ segments, message });
  if (!env.targets) {
    for (const field of ['waves', 'bakeTime', 'maxFailures', 'concurrency'] as const)
      if (env[field] !== undefined) add([field], 'needs targets: (the environment has none)');
    return problems;
  }
  const names = env.targets.map(targetName);
  const index = new Map<string, number>();
  names.forEach((name, i) => {
    if (index.has(name)) add(['targets', i], `duplicate target "${name}" (also targets[${index.get(name)}])`);
    else index.set(name, i);
  });
  const waves = env.waves;
  if (Array.isArray(waves)) {
    const waveOf = new Map<string, number>();
    waves.forEach((wave, w) =>
      wave.forEach((name, j) => {
        if (!index.has(name)) add(['waves', w, j], `unknown target "${name}" (targets: ${names.join(', ')})`);
        else if (waveOf.has(name))
          add(['waves', w, j], `target "${name}" is in two waves (also waves[${waveOf.get(name)}])`);
        else waveOf.set(name, w);
      }),
    );
    const missing = names.filter((n) => !waveOf.has(n));
    if (missing.length > 0) add(['waves'], `every target needs a wave; in none: ${[...new Set(missing)].join(', ')}`);
  } else if (waves && countOf(waves.size, names.length) <= 0) {
    add(['waves', 'size'], 'must be at least 1 target (a count of 1 or more, or a percentage above 0%)');
  }
  return problems;
}

/** The waves as lists of target names; call only on an environment without wave problems. */
export function resolveWaves(env: EnvironmentConfig): string[][] {
  const names = (env.targets ?? []).map(targetName);
  const waves = env.waves;
  if (Array.isArray(waves)) return waves.map((w) => [...w]);
  // A percentage of the targets rounds up, so "10%" of 5 targets is one per wave, never none.
  const size = waves ? Math.max(1, Math.ceil(countOf(waves.size, names.length))) : 1;
  const out: string[][] = [];
  for (let i = 0; i < names.length; i += size) out.push(names.slice(i, i + size));
  return out;
}

/** Failed targets tolerated; a percentage rounds down (a budget of "10%" of 5 targets is 0). */
export function resolveMaxFailures(env: EnvironmentConfig): number {
  if (env.maxFailures === undefined) return 0;
  return Math.floor(countOf(env.maxFailures, env.targets?.length ?? 0));
}
