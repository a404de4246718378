// Sigstore bundles attached to an image as OCI 1.1 referrers (cosign sign --new-bundle-format
// --registry-referrers-mode=oci-1-1). Found through the referrers API, or, on registries without
// it (distribution 2.8 answers 404), the referrers tag schema: an image index under sha256-<hex>.
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { IMAGE_INDEX_TYPES } from '../registry/manifestMediaTypes';
import type { RegistryClient } from '../registry/registryClient';
import { RegistryError } from '../registry/registryError';

const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle';
const INDEX_ACCEPT = IMAGE_INDEX_TYPES[0];
const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json';
// A referrers list is attacker-writable: read a bounded number of entries, not whatever is there.
const MAX_REFERRERS = 32;

export interface AttachedBundle {
  /** Where it was found, for status and audit: repository@<referrer manifest digest>. */
  reference: string;
  /** The image the referrer says it is about (its manifest's subject). */
  subject?: string;
  bundle?: Bundle;
  /** Why the referrer could not be read as a Sigstore bundle. */
  problem?: string;
}

export interface Referrers {
  /** How the list was found: the referrers API or the sha256-<hex> tag. */
  via: string;
  bundles: AttachedBundle[];
}

export async function sigstoreBundles(client: RegistryClient, repository: string, digest: string): Promise<Referrers> {
  const listed = await referrersIndex(client, repository, digest);
  if (!listed) return { via: 'none', bundles: [] };
  const entries = listed.manifests.slice(0, MAX_REFERRERS);
  const bundles: AttachedBundle[] = [];
  for (const entry of entries) {
    // The index's artifactType is not trusted (cosign's tag fallback writes the config's type there): read the manifest.
    const manifest = await client.getManifest(repository, entry.digest, MANIFEST_ACCEPT);
    if (!manifest) continue;
    const parsed = JSON.parse(manifest.body.toString('utf8')) as {
      artifactType?: string;
      subject?: { digest?: string };
      layers?: Array<{ mediaType: string; digest: string }>;
    };
    const layer = (parsed.layers ?? []).find((l) => l.mediaType.startsWith(BUNDLE_MEDIA_TYPE));
    if (!layer && !parsed.artifactType?.startsWith(BUNDLE_MEDIA_TYPE)) continue;
    const reference = `${repository}@${manifest.digest}`;
    const subject = parsed.subject?.digest;
    // A referrer for another image copied under this tag is not about this digest.
    if (subject !== digest) {
      bundles.push({ reference, subject });
      continue;
    }
    if (!layer) {
      bundles.push({ reference, problem: `referrer ${reference} has no Sigstore bundle layer` });
      continue;
    }
    try {
      const json: unknown = JSON.parse((await client.getBlob(repository, layer.digest)).toString('utf8'));
      bundles.push({ reference, subject, bundle: bundleFromJSON(json) });
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      bundles.push({
        reference,
        problem: `referrer ${reference} is not a valid Sigstore bundle: ${(err as Error).message}`,
      });
    }
  }
  return { via: listed.via, bundles };
}

async function referrersIndex(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<{ via: string; manifests: Array<{ digest: string }> } | undefined> {
  const res = await client.request(repository, `referrers/${digest}`, { method: 'GET', accept: INDEX_ACCEPT });
  if (res.ok && (res.headers.get('content-type') ?? '').startsWith(INDEX_ACCEPT)) {
    const index = JSON.parse(await res.text()) as { manifests?: Array<{ digest: string }> };
    if ((index.manifests ?? []).length > 0) return { via: 'referrers API', manifests: index.manifests ?? [] };
    return undefined;
  }
  await res.body?.cancel();
  if (res.status !== 404 && !res.ok)
    throw new RegistryError('unexpected', `registry answered ${res.status} for ${repository} referrers of ${digest}`);
  // No referrers API: the OCI 1.1 fallback tag holds the same index.
  const tag = digest.replace(':', '-');
  const manifest = await client.getManifest(repository, tag, INDEX_ACCEPT);
  if (!manifest || !IMAGE_INDEX_TYPES.includes(manifest.mediaType.split(';')[0])) return undefined;
  const index = JSON.parse(manifest.body.toString('utf8')) as { manifests?: Array<{ digest: string }> };
  return { via: `referrers tag ${tag}`, manifests: index.manifests ?? [] };
}
