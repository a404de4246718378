// Environment parity: does the target environment's Deployment (production) match the reference
// (staging) where it must? Same image digest (the one being promoted), the same environment
// variable names, and resources within a ratio of each other. Pure: tests feed it Deployments.
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { imageDigest } from './kubeClient';

export interface ParityBounds {
  /** target / reference, for each of requests and limits of cpu and memory. */
  minRatio: number;
  maxRatio: number;
}

export interface ParityReport {
  passed: boolean;
  problems: string[];
  /** What was compared, one line each. */
  checked: string[];
}

/** A Kubernetes resource quantity (`500m`, `2`, `128Mi`, `1G`, `1e3`) as a plain number. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q.trim());
  if (!m) throw new Error(`not a resource quantity: "${q}"`);
  const unit = m[2] ?? '';
  const factor: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
  };
  return Number(m[1]) * factor[unit];
}

export function pickContainer(d: V1Deployment, name: string | undefined): V1Container | undefined {
  const containers = d.spec?.template?.spec?.containers ?? [];
  return name ? containers.find((c) => c.name === name) : containers[0];
}

function envKeys(c: V1Container): Set<string> {
  return new Set([
    ...(c.env ?? []).map((e) => e.name),
    ...(c.envFrom ?? [])
      .map((e) =>
        e.configMapRef ? `configMap:${e.configMapRef.name}` : e.secretRef ? `secret:${e.secretRef.name}` : '?',
      )
      .map((k) => `(envFrom ${k})`),
  ]);
}

export function compareParity(
  reference: { label: string; container: V1Container },
  target: { label: string; container: V1Container },
  digest: string,
  bounds: ParityBounds,
): ParityReport {
  const problems: string[] = [];
  const checked: string[] = [];
  const r = reference.container;
  const t = target.container;

  // 1. The same digest, and it is the one being promoted.
  const rd = imageDigest(r.image);
  const td = imageDigest(t.image);
  if (rd !== digest || td !== digest) {
    const show = (label: string, image: string | undefined, d: string | undefined) =>
      `${label} runs ${d ?? image ?? 'no image'}`;
    problems.push(
      `digest: ${show(reference.label, r.image, rd)}, ${show(target.label, t.image, td)}; expected ${digest} in both`,
    );
  } else checked.push(`digest: both run ${digest}`);

  // 2. Environment variable names present in both.
  const rk = envKeys(r);
  const tk = envKeys(t);
  const onlyR = [...rk].filter((k) => !tk.has(k)).sort();
  const onlyT = [...tk].filter((k) => !rk.has(k)).sort();
  if (onlyR.length > 0) problems.push(`env: missing in ${target.label}: ${onlyR.join(', ')}`);
  if (onlyT.length > 0) problems.push(`env: missing in ${reference.label}: ${onlyT.join(', ')}`);
  if (onlyR.length + onlyT.length === 0) checked.push(`env: the same ${rk.size} names`);

  // 3. Resources: target / reference within bounds, for whatever either side sets.
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) {
      const rv = r.resources?.[kind]?.[resource] as string | number | undefined;
      const tv = t.resources?.[kind]?.[resource] as string | number | undefined;
      if (rv === undefined && tv === undefined) continue;
      const what = `${kind}.${resource}`;
      if (rv === undefined || tv === undefined) {
        problems.push(`${what}: set only in ${rv === undefined ? target.label : reference.label} (${rv ?? tv})`);
        continue;
      }
      const ratio = parseQuantity(rv) === 0 ? Infinity : parseQuantity(tv) / parseQuantity(rv);
      const shown = `${what}: ${target.label} ${tv} / ${reference.label} ${rv} = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}`;
      if (ratio < bounds.minRatio || ratio > bounds.maxRatio)
        problems.push(`${shown}, outside ${bounds.minRatio}..${bounds.maxRatio}`);
      else checked.push(shown);
    }
  }
  return { passed: problems.length === 0, problems, checked };
}
