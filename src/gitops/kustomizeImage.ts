// Sets an overlay's image to a digest through kustomize's `images:` field, editing the YAML
// document (comments, key order and the rest of the file are kept as the author wrote them).
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';

export interface ImagePin {
  /** The image name as the base manifests use it (`images[].name`). */
  name: string;
  /** The repository to pull from (`images[].newName`). */
  newName: string;
  digest: string;
}

export interface ImageEdit {
  text: string;
  changed: boolean;
  /** The digest the overlay named before this edit, if any. */
  previousDigest?: string;
}

export function readKustomizeDigest(text: string, name: string): string | undefined {
  const doc = parseDocument(text);
  const images = doc.get('images');
  if (!isSeq(images)) return undefined;
  const entry = images.items.find((i) => isMap(i) && i.get('name') === name);
  const digest = isMap(entry) ? entry.get('digest') : undefined;
  return typeof digest === 'string' ? digest : undefined;
}

export function setKustomizeImage(text: string, pin: ImagePin): ImageEdit {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`kustomization.yaml is not valid YAML: ${doc.errors[0].message}`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new Error('kustomization.yaml must be a mapping');
  let images = doc.get('images');
  if (images === undefined || images === null) {
    images = new YAMLSeq();
    doc.set('images', images);
  }
  if (!isSeq(images)) throw new Error('kustomization.yaml: images must be a list');
  let entry = images.items.find((i): i is YAMLMap => isMap(i) && i.get('name') === pin.name);
  const previousDigest = entry && typeof entry.get('digest') === 'string' ? (entry.get('digest') as string) : undefined;
  if (entry && previousDigest === pin.digest && entry.get('newName') === pin.newName && !entry.has('newTag')) {
    return { text, changed: false, previousDigest };
  }
  if (!entry) {
    entry = new YAMLMap();
    entry.set('name', pin.name);
    images.items.push(entry);
  }
  entry.set('newName', pin.newName);
  // A digest pins the image; a leftover tag would be ignored by kustomize and mislead readers.
  entry.delete('newTag');
  entry.set('digest', pin.digest);
  return { text: doc.toString(), changed: true, previousDigest };
}
