// Pinning a digest in kustomization.yaml keeps the author's comments and order, and is idempotent.
import { readKustomizeDigest, setKustomizeImage } from '../../src/gitops/kustomizeImage';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const OVERLAY = `# production overlay: owned by the platform team
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../../base # shared manifests
images:
  - name: ghcr.io/acme/web
    newTag: latest # replaced on first promotion
  - name: redis
    newTag: "7.2"
`;

test('sets newName and digest on the matching image entry, dropping the tag, keeping comments and other entries', () => {
  const edit = setKustomizeImage(OVERLAY, { name: 'ghcr.io/acme/web', newName: 'ghcr.io/acme/web', digest: D1 });
  expect(edit.changed).toBe(true);
  expect(edit.previousDigest).toBeUndefined();
  expect(edit.text).toBe(`# production overlay: owned by the platform team
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../../base # shared manifests
images:
  - name: ghcr.io/acme/web
    newName: ghcr.io/acme/web
    digest: ${D1}
  - name: redis
    newTag: "7.2"
`);
  expect(readKustomizeDigest(edit.text, 'ghcr.io/acme/web')).toBe(D1);
});

test('the same digest again changes nothing; a new one reports the previous', () => {
  const first = setKustomizeImage(OVERLAY, { name: 'ghcr.io/acme/web', newName: 'ghcr.io/acme/web', digest: D1 });
  const again = setKustomizeImage(first.text, { name: 'ghcr.io/acme/web', newName: 'ghcr.io/acme/web', digest: D1 });
  expect(again).toEqual({ text: first.text, changed: false, previousDigest: D1 });
  const next = setKustomizeImage(first.text, { name: 'ghcr.io/acme/web', newName: 'ghcr.io/acme/web', digest: D2 });
  expect(next.changed).toBe(true);
  expect(next.previousDigest).toBe(D1);
  expect(readKustomizeDigest(next.text, 'ghcr.io/acme/web')).toBe(D2);
});

test('adds an images list when the overlay has none', () => {
  const edit = setKustomizeImage('resources:\n  - ../../base\n', {
    name: 'web',
    newName: 'ghcr.io/acme/web',
    digest: D1,
  });
  expect(edit.text).toBe(
    `resources:\n  - ../../base\nimages:\n  - name: web\n    newName: ghcr.io/acme/web\n    digest: ${D1}\n`,
  );
});

test('refuses files it cannot edit safely', () => {
  expect(() => setKustomizeImage('images: [\n', { name: 'web', newName: 'web', digest: D1 })).toThrow(
    'kustomization.yaml is not valid YAML',
  );
  expect(() => setKustomizeImage('- a\n- b\n', { name: 'web', newName: 'web', digest: D1 })).toThrow(
    'kustomization.yaml must be a mapping',
  );
  expect(() => setKustomizeImage('images: web\n', { name: 'web', newName: 'web', digest: D1 })).toThrow(
    'kustomization.yaml: images must be a list',
  );
});
