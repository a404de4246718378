// The manifest kinds a registry may serve for an image digest: OCI and Docker, single-platform
// images and multi-platform lists. Sent as Accept, or a registry converts or refuses.
export const IMAGE_INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
export const IMAGE_MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
export const MANIFEST_ACCEPT = [...IMAGE_INDEX_TYPES, ...IMAGE_MANIFEST_TYPES].join(', ');
