// Reads the builder and source of an in-toto statement carrying SLSA provenance (v0.2 or v1)
// and compares them with what the policy expects. Pure: the envelope was verified before.

export interface Provenance {
  predicateType: string;
  builder: string;
  /** Source repositories the build names (config source, resolved dependencies, workflow repo). */
  sources: string[];
}

interface Statement {
  _type?: string;
  predicateType?: string;
  subject?: Array<{ name?: string; digest?: Record<string, string> }>;
  predicate?: {
    builder?: { id?: string };
    invocation?: { configSource?: { uri?: string } };
    materials?: Array<{ uri?: string }>;
    buildDefinition?: {
      externalParameters?: { workflow?: { repository?: string }; source?: { uri?: string } | string };
      resolvedDependencies?: Array<{ uri?: string }>;
    };
    runDetails?: { builder?: { id?: string } };
  };
}

export function readProvenance(payload: Buffer, digest: string): Provenance | { problem: string } {
  let s: Statement;
  try {
    s = JSON.parse(payload.toString('utf8')) as Statement;
  } catch {
    return { problem: 'the attestation payload is not JSON' };
  }
  if (!s.predicateType?.startsWith('https://slsa.dev/provenance/'))
    return { problem: `the attestation is ${s.predicateType ?? 'untyped'}, not SLSA provenance` };
  const hex = digest.slice('sha256:'.length);
  if (!(s.subject ?? []).some((sub) => sub.digest?.sha256 === hex))
    return { problem: `the provenance is about another artifact (its subjects do not include ${digest})` };
  const p = s.predicate ?? {};
  const builder = p.runDetails?.builder?.id ?? p.builder?.id ?? '';
  const external = p.buildDefinition?.externalParameters;
  const sources = [
    p.invocation?.configSource?.uri,
    ...(p.materials ?? []).map((m) => m.uri),
    ...(p.buildDefinition?.resolvedDependencies ?? []).map((d) => d.uri),
    external?.workflow?.repository,
    typeof external?.source === 'string' ? external.source : external?.source?.uri,
  ].filter((u): u is string => typeof u === 'string' && u.length > 0);
  return { predicateType: s.predicateType, builder, sources };
}

/** What differs from the policy, or undefined when the provenance matches it. */
export function provenanceProblem(
  p: Provenance,
  expected: { builder?: string; sourceRepo?: string },
): string | undefined {
  if (expected.builder !== undefined && p.builder !== expected.builder)
    return `built by ${p.builder || '(no builder id)'}, expected ${expected.builder}`;
  if (expected.sourceRepo !== undefined) {
    const want = normaliseRepo(expected.sourceRepo);
    if (!p.sources.some((s) => normaliseRepo(s) === want))
      return `built from ${p.sources.join(', ') || '(no source named)'}, expected ${expected.sourceRepo}`;
  }
  return undefined;
}

/** git+https://github.com/acme/web.git@refs/heads/main → github.com/acme/web */
function normaliseRepo(uri: string): string {
  return uri
    .replace(/^git\+/, '')
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/^[^@/]+@([^:/]+):/, '$1/')
    .replace(/@.*$/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}
