#!/usr/bin/env bash
# Starts a throw-away cluster (scripts/k8s/cluster.sh) in a temporary directory and checks what
# Gantry's Kubernetes tests rely on: a Deployment rolls out through KWOK, `set image` makes a second
# rollout that completes, an HTTPRoute and an Argo CD Application can be created and the
# Application's status written. Stops the cluster again whatever happens.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIR="$(mktemp -d /tmp/gantry-k8s-smoke.XXXXXX)"
trap '"$HERE/cluster.sh" stop --dir "$DIR" >/dev/null 2>&1 || true' EXIT

SECONDS=0
out=$("$HERE/cluster.sh" start --dir "$DIR")
export "${out##*$'\n'}"   # KUBECONFIG=...
echo "start: ${SECONDS}s ($KUBECONFIG)"
k() { "$ROOT/.tools/k8s/bin/kubectl" "$@"; }
check() { echo "ok: $*"; }

d1=$(printf 'a%.0s' {1..64}); d2=$(printf 'b%.0s' {1..64})
k create namespace staging >/dev/null
k -n staging create deployment web --image="registry.local/web@sha256:$d1" --replicas=2 >/dev/null
k -n staging rollout status deployment/web --timeout=60s >/dev/null
[ "$(k -n staging get deployment web -o jsonpath='{.status.readyReplicas}')" = 2 ]
check "deployment web Available with 2 ready replicas"

k -n staging set image deployment/web "web=registry.local/web@sha256:$d2" >/dev/null
k -n staging rollout status deployment/web --timeout=60s >/dev/null
[ "$(k -n staging get deployment web -o jsonpath='{.status.updatedReplicas}/{.status.readyReplicas}/{.spec.template.spec.containers[0].image}')" = "2/2/registry.local/web@sha256:$d2" ]
check "set image rolled out (2 updated, 2 ready)"

k apply -f - >/dev/null <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: staging}
spec:
  parentRefs: [{name: public}]
  rules:
  - backendRefs: [{name: web-stable, port: 80, weight: 90}, {name: web-canary, port: 80, weight: 10}]
EOF
check "HTTPRoute created"

k create namespace argocd >/dev/null
k apply -f - >/dev/null <<'EOF'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web-staging, namespace: argocd}
spec:
  project: default
  source: {repoURL: https://git.example.invalid/web.git, path: deploy, targetRevision: main}
  destination: {server: https://kubernetes.default.svc, namespace: staging}
EOF
# Argo CD's own CRD has no status subresource: status is written with the object, as Argo CD does.
k -n argocd patch applications.argoproj.io web-staging --type merge \
  -p '{"status":{"sync":{"status":"Synced","revision":"main"},"health":{"status":"Healthy"}}}' >/dev/null
[ "$(k -n argocd get applications.argoproj.io web-staging -o jsonpath='{.status.sync.status}/{.status.health.status}')" = Synced/Healthy ]
check "Application created and its status patched"
echo "smoke passed in ${SECONDS}s"
