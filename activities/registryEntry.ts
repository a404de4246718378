// The entry a registry of implementations (routers, metric providers) keeps under a kind named in
// gantry.yaml; only its own keys count, so "toString" or "__proto__" name nothing.
export function registryEntry<R extends object>(registry: R, kind: string): R[keyof R] | undefined {
  return Object.hasOwn(registry, kind) ? registry[kind as keyof R] : undefined;
}
