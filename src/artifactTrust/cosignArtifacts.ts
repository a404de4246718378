// Where cosign keeps what it made for an image digest: the `sha256-<hex>.sig` and `.att` tags
// beside the image (cosign's default layout), each an OCI manifest whose layers are the signed
// payloads, with the signature in the layer's annotation (simple signing) or in a DSSE envelope.
import type { RegistryClient } from '../registry/registryClient';

export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** cosign sign --certificate (or keyless): the signing certificate, PEM. */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';

export interface CosignLayer {
  mediaType: string;
  digest: string;
  annotations: Record<string, string>;
  blob: Buffer;
}

/** The layers under the digest's .sig or .att tag, or undefined when the tag does not exist. */
export async function cosignLayers(
  client: RegistryClient,
  repository: string,
  digest: string,
  suffix: 'sig' | 'att',
): Promise<{ tag: string; layers: CosignLayer[] } | undefined> {
  const tag = `${digest.replace(':', '-')}.${suffix}`;
  const manifest = await client.getManifest(
    repository,
    tag,
    'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
  );
  if (!manifest) return undefined;
  const parsed = JSON.parse(manifest.body.toString('utf8')) as {
    layers?: Array<{ mediaType: string; digest: string; annotations?: Record<string, string> }>;
  };
  const layers = await Promise.all(
    (parsed.layers ?? []).map(async (l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      annotations: l.annotations ?? {},
      blob: await client.getBlob(repository, l.digest),
    })),
  );
  return { tag, layers };
}
